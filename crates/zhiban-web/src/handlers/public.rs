//! Citizen pages: home, catalog browsing, guides, departments, life-event
//! themes, the police sub-site, simple search and display preferences.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use zhiban_domain::catalog::{
    Audience, CatalogSnapshot, DeptNode, Filter, LifeEvent, PoliceDomain, ServiceItem,
};

use super::{Pager, cached_page, render};
use crate::ctx::{CONTRAST_COOKIE, ELDER_COOKIE, LANG_COOKIE, Lang, PageCtx, urlencode};
use crate::error::AppError;
use crate::state::AppState;

const PER_PAGE: usize = 20;

type Item = Arc<ServiceItem>;

/// A life event with how many published items it has.
pub struct EventTile {
    pub event: LifeEvent,
    pub count: usize,
    pub top: Vec<Item>,
}

pub struct PoliceTile {
    pub domain: PoliceDomain,
    pub count: usize,
    pub top: Vec<Item>,
}

fn event_tiles(cat: &CatalogSnapshot, personal: bool, top: usize) -> Vec<EventTile> {
    LifeEvent::ALL
        .iter()
        .filter(|e| e.is_personal() == personal)
        .map(|&event| {
            let page = cat.filter(
                &Filter {
                    life_event: Some(event),
                    ..Filter::default()
                },
                0,
                top,
            );
            EventTile {
                event,
                count: page.total,
                top: page.items,
            }
        })
        .collect()
}

fn police_tiles(cat: &CatalogSnapshot, top: usize) -> Vec<PoliceTile> {
    PoliceDomain::ALL
        .iter()
        .map(|&domain| {
            let page = cat.filter(
                &Filter {
                    police: Some(domain),
                    ..Filter::default()
                },
                0,
                top,
            );
            PoliceTile {
                domain,
                count: page.total,
                top: page.items,
            }
        })
        .filter(|t| t.count > 0)
        .collect()
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub ctx: PageCtx,
    pub popular: Vec<Item>,
    pub personal: Vec<EventTile>,
    pub company: Vec<EventTile>,
    pub police: Vec<PoliceTile>,
    pub departments: Vec<DeptNode>,
    pub total: usize,
    pub department_count: usize,
    pub online_percent: usize,
    pub zero_visit: usize,
    pub hot: Vec<&'static str>,
}

pub async fn home(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    cached_page(&state, ctx, home_page)
}

fn home_page(cat: &CatalogSnapshot, ctx: PageCtx) -> Result<HomePage, AppError> {
    let total = cat.services.len();
    let online = cat.services.iter().filter(|s| s.online).count();
    let mut departments: Vec<DeptNode> = cat
        .department_tree()
        .into_iter()
        .filter(|d| d.dept.level == "部门" && d.count > 0)
        .collect();
    let department_count = departments.len();
    departments.sort_by_key(|d| std::cmp::Reverse(d.count));
    departments.truncate(12);
    Ok(HomePage {
        popular: cat.high_frequency(None, 12),
        personal: event_tiles(cat, true, 0),
        company: event_tiles(cat, false, 0),
        police: police_tiles(cat, 0),
        department_count,
        departments,
        online_percent: (online * 100).checked_div(total).unwrap_or(0),
        zero_visit: cat.services.iter().filter(|s| s.visits == 0).count(),
        total,
        hot: HOT_SEARCHES.to_vec(),
        ctx,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct BrowseQuery {
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub audience: String,
    #[serde(default)]
    pub life_event: String,
    #[serde(default)]
    pub police: String,
    #[serde(default)]
    pub online: String,
    #[serde(default)]
    pub page: Option<usize>,
}

impl BrowseQuery {
    fn filter(&self) -> Filter {
        Filter {
            department: Some(self.department.trim().to_string()).filter(|d| !d.is_empty()),
            audience: Audience::from_slug(&self.audience),
            life_event: LifeEvent::from_slug(&self.life_event),
            police: PoliceDomain::from_slug(&self.police),
            online_only: self.online == "1",
        }
    }

    /// The list URL with the current filters, without the page.
    fn base_url(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("department", &self.department),
            ("audience", &self.audience),
            ("life_event", &self.life_event),
            ("police", &self.police),
            ("online", &self.online),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", urlencode(v)));
            }
        }
        if parts.is_empty() {
            "/services".into()
        } else {
            format!("/services?{}", parts.join("&"))
        }
    }
}

#[derive(Template)]
#[template(path = "services.html")]
pub struct ServicesPage {
    pub ctx: PageCtx,
    pub q: BrowseQuery,
    pub heading: String,
    pub items: Vec<Item>,
    pub pager: Pager,
    pub departments: Vec<DeptNode>,
    pub dept_path: Vec<(String, String)>,
}

impl ServicesPage {
    fn is(&self, a: &str, b: &str) -> bool {
        a == b
    }

    /// Full-width spaces that show a sub-unit's depth inside a <select>.
    fn indent(&self, depth: &usize) -> String {
        "\u{3000}".repeat(depth.saturating_sub(1))
    }
}

pub async fn services(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<BrowseQuery>,
) -> Result<Response, AppError> {
    cached_page(&state, ctx, |cat, ctx| Ok(services_page(cat, ctx, q)))
}

fn services_page(cat: &CatalogSnapshot, ctx: PageCtx, q: BrowseQuery) -> ServicesPage {
    let filter = q.filter();
    let total = cat.count(&filter);
    let pager = Pager::new(&q.base_url(), q.page.unwrap_or(1), PER_PAGE, total);
    let page = cat.filter(&filter, pager.offset(PER_PAGE), PER_PAGE);
    let dept_path: Vec<(String, String)> = filter
        .department
        .as_deref()
        .map(|d| {
            cat.department_path(d)
                .into_iter()
                .map(|d| (d.code.clone(), d.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    let heading = if let Some((_, name)) = dept_path.last() {
        name.clone()
    } else if let Some(e) = filter.life_event {
        ctx.tf(
            "browse.theme_heading",
            &[("name", &ctx.term("life_event", e.slug()))],
        )
    } else if let Some(p) = filter.police {
        ctx.tf(
            "browse.police_heading",
            &[("name", &ctx.term("police", p.slug()))],
        )
    } else {
        ctx.t("browse.title")
    };
    let departments = cat
        .department_tree()
        .into_iter()
        .filter(|d| d.count > 0 && d.dept.parent_id.is_some())
        .collect();
    ServicesPage {
        ctx,
        heading,
        items: page.items,
        pager,
        departments,
        dept_path,
        q,
    }
}

#[derive(Template)]
#[template(path = "guide.html")]
pub struct GuidePage {
    pub ctx: PageCtx,
    pub item: Item,
    pub siblings: Vec<Item>,
    pub related: Vec<Item>,
    pub dept_phone: String,
}

pub async fn guide(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    cached_page(&state, ctx, |cat, ctx| {
        let item = cat.get(&code).cloned().ok_or(AppError::NotFound)?;
        let dept = cat.department(&item.department_code);
        Ok(GuidePage {
            siblings: cat.siblings(&item),
            related: cat.related(&item, 6),
            dept_phone: dept.map(|d| d.phone.clone()).unwrap_or_default(),
            item,
            ctx,
        })
    })
}

#[derive(Template)]
#[template(path = "departments.html")]
pub struct DepartmentsPage {
    pub ctx: PageCtx,
    pub tree: Vec<DeptNode>,
}

pub async fn departments(
    State(state): State<AppState>,
    ctx: PageCtx,
) -> Result<Response, AppError> {
    render(&DepartmentsPage {
        tree: state.catalog().department_tree(),
        ctx,
    })
}

#[derive(Template)]
#[template(path = "themes.html")]
pub struct ThemesPage {
    pub ctx: PageCtx,
    pub personal: Vec<EventTile>,
    pub company: Vec<EventTile>,
}

pub async fn themes(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    cached_page(&state, ctx, |cat, ctx| {
        Ok(ThemesPage {
            personal: event_tiles(cat, true, 5),
            company: event_tiles(cat, false, 5),
            ctx,
        })
    })
}

#[derive(Template)]
#[template(path = "police.html")]
pub struct PolicePage {
    pub ctx: PageCtx,
    pub tiles: Vec<PoliceTile>,
    pub popular: Vec<Item>,
}

pub async fn police(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    cached_page(&state, ctx, police_page)
}

fn police_page(cat: &CatalogSnapshot, ctx: PageCtx) -> Result<PolicePage, AppError> {
    let popular = cat
        .services
        .iter()
        .filter(|s| s.police_domain.is_some() && s.high_frequency)
        .take(9)
        .cloned()
        .collect();
    Ok(PolicePage {
        tiles: police_tiles(cat, 6),
        popular,
        ctx,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub audience: String,
    #[serde(default)]
    pub online: String,
    #[serde(default)]
    pub page: Option<usize>,
}

impl SearchParams {
    fn url(&self, department: &str, audience: &str, online: &str) -> String {
        let mut url = format!("/search?q={}", urlencode(&self.q));
        for (k, v) in [
            ("department", department),
            ("audience", audience),
            ("online", online),
        ] {
            if !v.is_empty() {
                url.push_str(&format!("&{k}={}", urlencode(v)));
            }
        }
        url
    }
}

/// A facet value as a link that applies or removes it.
pub struct FacetLink {
    pub label: String,
    pub count: usize,
    pub url: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub ctx: PageCtx,
    pub q: String,
    pub results: zhiban_search::SearchResults,
    pub pager: Pager,
    pub departments: Vec<FacetLink>,
    pub audiences: Vec<FacetLink>,
    pub online: Option<FacetLink>,
    pub clear_url: Option<String>,
    pub similar: Vec<Arc<zhiban_search::SearchDoc>>,
    pub popular: Vec<Item>,
    pub hot: Vec<String>,
    /// The logged search this page shows, for click tracking.
    pub search_id: Option<i64>,
}

impl SearchPage {
    /// Result links pass through `/search/go` so staff can see what
    /// people open; without a logged search they link directly.
    fn result_url(&self, url: &str) -> String {
        match self.search_id {
            Some(id) => format!("/search/go?sid={id}&to={}", urlencode(url)),
            None => url.to_string(),
        }
    }
}

/// What people searched for most this week, topped up with staples;
/// computed at most once a minute.
async fn hot_searches(state: &AppState) -> Vec<String> {
    if let Ok(guard) = state.hot_searches.read()
        && let Some((at, hot)) = guard.as_ref()
        && at.elapsed() < std::time::Duration::from_secs(60)
    {
        return hot.clone();
    }
    let since = state.db.now() - chrono::Duration::days(7);
    let mut hot = zhiban_domain::search_terms::hot_queries(&state.db, since, 6)
        .await
        .unwrap_or_default();
    for h in HOT_SEARCHES {
        if hot.len() >= 6 {
            break;
        }
        if !hot.iter().any(|x| x == h) {
            hot.push((*h).to_string());
        }
    }
    if let Ok(mut guard) = state.hot_searches.write() {
        *guard = Some((std::time::Instant::now(), hot.clone()));
    }
    hot
}

/// Remembers the audience a person last filtered by, so later searches
/// prefer items for them (until sign-in can say who they are).
const AUDIENCE_COOKIE: &str = "zb_audience";

pub async fn search(
    State(state): State<AppState>,
    ctx: PageCtx,
    jar: CookieJar,
    super::staff_auth::ClientInfo(client): super::staff_auth::ClientInfo,
    Query(p): Query<SearchParams>,
) -> Result<Response, AppError> {
    let client_ip = client.ip;
    let chosen = Audience::from_slug(&p.audience).filter(|a| *a != Audience::Both);
    let prefer = chosen
        .map(|a| a.slug().to_string())
        .or_else(|| jar.get(AUDIENCE_COOKIE).map(|c| c.value().to_string()))
        .filter(|a| Audience::from_slug(a).is_some());
    let jar = match chosen {
        Some(a) => jar.add(
            Cookie::build((AUDIENCE_COOKIE, a.slug()))
                .path("/")
                .max_age(time_year())
                .same_site(SameSite::Lax)
                .http_only(true)
                .secure(state.config.secure_cookies)
                .build(),
        ),
        None => jar,
    };
    let query: String = p.q.trim().chars().take(100).collect();
    let p = SearchParams {
        q: query.clone(),
        ..p
    };
    let per_page = PER_PAGE;
    let page_no = p.page.unwrap_or(1).max(1);
    let run = |offset: usize| {
        state.search.search(&zhiban_search::SearchQuery {
            text: query.clone(),
            department: Some(p.department.clone()).filter(|d| !d.is_empty()),
            audience: Some(p.audience.clone()).filter(|a| !a.is_empty()),
            online_only: p.online == "1",
            prefer_audience: prefer.clone(),
            offset,
            limit: per_page,
            ..Default::default()
        })
    };
    let mut results =
        run((page_no - 1) * per_page).map_err(|e| AppError::Internal(e.to_string()))?;
    let pager = Pager::new(
        &p.url(&p.department, &p.audience, &p.online),
        page_no,
        per_page,
        results.total,
    );
    if pager.page != page_no {
        results = run(pager.offset(per_page)).map_err(|e| AppError::Internal(e.to_string()))?;
    }
    let departments = results
        .facets
        .department
        .iter()
        .take(10)
        .map(|(d, n)| FacetLink {
            active: &p.department == d,
            url: p.url(
                if &p.department == d { "" } else { d },
                &p.audience,
                &p.online,
            ),
            label: d.clone(),
            count: *n,
        })
        .collect();
    let audiences = results
        .facets
        .audience
        .iter()
        .map(|(a, n)| FacetLink {
            active: &p.audience == a,
            url: p.url(
                &p.department,
                if &p.audience == a { "" } else { a },
                &p.online,
            ),
            label: ctx.term("audience", a),
            count: *n,
        })
        .collect();
    let online = (results.facets.online > 0).then(|| FacetLink {
        active: p.online == "1",
        url: p.url(
            &p.department,
            &p.audience,
            if p.online == "1" { "" } else { "1" },
        ),
        label: ctx.t("browse.online_only"),
        count: results.facets.online,
    });
    let filtered = !p.department.is_empty() || !p.audience.is_empty() || p.online == "1";
    let similar = if results.total == 0 && !query.is_empty() {
        state.search.similar(&query, 6)
    } else {
        Vec::new()
    };
    // Analytics count a search once: its first page, unfiltered; and only
    // so many a minute from one address, so nobody can flood the table.
    let search_id = if !query.is_empty()
        && page_no == 1
        && !filtered
        && state.search_log_limiter.check_key(&client_ip).is_ok()
    {
        match zhiban_domain::search_terms::log_search(
            &state.db,
            &query,
            results.total,
            state.db.now(),
        )
        .await
        {
            Ok(id) => {
                // Retention without a scheduler: every thousandth search
                // clears what is older than the retention period.
                if id % 1000 == 0
                    && let Err(e) = zhiban_domain::search_terms::purge_older_than(
                        &state.db,
                        state.config.search_log_days,
                        state.db.now(),
                    )
                    .await
                {
                    tracing::warn!(error = %e, "search log retention failed");
                }
                Some(id)
            }
            Err(e) => {
                tracing::warn!(error = %e, "search not logged");
                None
            }
        }
    } else {
        None
    };
    let page = render(&SearchPage {
        popular: state.catalog().high_frequency(None, 8),
        clear_url: filtered.then(|| format!("/search?q={}", urlencode(&query))),
        hot: hot_searches(&state).await,
        search_id,
        q: query,
        results,
        pager,
        departments,
        audiences,
        online,
        similar,
        ctx,
    })?;
    Ok((jar, page).into_response())
}

/// Staple searches: shown on the (cached) home page, and used to top up the
/// hot searches from analytics on the search page.
pub const HOT_SEARCHES: &[&str] = &[
    "身份证补领",
    "公积金提取",
    "社保卡",
    "驾驶证换证",
    "出生登记",
    "护照",
];

#[derive(Debug, Default, Deserialize)]
pub struct GoQuery {
    pub sid: Option<i64>,
    #[serde(default)]
    pub to: String,
}

/// Counts a click on a search result, then goes there.
pub async fn search_go(State(state): State<AppState>, Query(q): Query<GoQuery>) -> Response {
    let to = safe_next(&q.to).to_string();
    if let Some(sid) = q.sid
        && to != "/"
        && let Err(e) =
            zhiban_domain::search_terms::log_click(&state.db, sid, &to, state.db.now()).await
    {
        tracing::debug!(error = %e, "click not logged");
    }
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&to) {
        headers.insert(header::LOCATION, v);
    }
    (StatusCode::SEE_OTHER, headers).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct PrefsQuery {
    pub lang: Option<String>,
    pub elder: Option<String>,
    pub contrast: Option<String>,
    #[serde(default)]
    pub next: String,
}

/// Only local paths, so the switch can't be used to send people elsewhere.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

/// Sets a display preference cookie and returns to the page. A link, not a
/// form: it changes only how pages look, and works without JavaScript.
pub async fn prefs(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<PrefsQuery>,
) -> Response {
    let secure = state.config.secure_cookies;
    let cookie = |name: &'static str, value: String| {
        Cookie::build((name, value))
            .path("/")
            .max_age(time_year())
            .same_site(SameSite::Lax)
            .http_only(true)
            .secure(secure)
            .build()
    };
    let mut jar = jar;
    if let Some(l) = q.lang.as_deref().and_then(Lang::parse) {
        jar = jar.add(cookie(LANG_COOKIE, l.code().into()));
    }
    for (name, value) in [(ELDER_COOKIE, &q.elder), (CONTRAST_COOKIE, &q.contrast)] {
        if let Some(v) = value {
            jar = jar.add(cookie(name, if v == "1" { "1" } else { "0" }.into()));
        }
    }
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(safe_next(&q.next)) {
        headers.insert(header::LOCATION, v);
    }
    (StatusCode::SEE_OTHER, jar, headers).into_response()
}

fn time_year() -> time::Duration {
    time::Duration::days(365)
}

#[derive(Template)]
#[template(path = "accessibility.html")]
pub struct AccessibilityPage {
    pub ctx: PageCtx,
}

pub async fn accessibility(ctx: PageCtx) -> Result<Response, AppError> {
    render(&AccessibilityPage { ctx })
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn preference_links_only_return_to_local_pages() {
        assert_eq!(safe_next("/services?page=2"), "/services?page=2");
        assert_eq!(safe_next("//evil.example/"), "/");
        assert_eq!(safe_next("https://evil.example/"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
    }
}
