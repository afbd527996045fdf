//! Smart search (`/search`) and its result links (`/search/go`), which count
//! clicks and only ever redirect on this site.

use crate::error::AppError;
use crate::extract::ClientInfo;
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::{Item, Pager, local_path, render_public};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use std::sync::Arc;
use zhiban_domain::catalog::Audience;

const PER_PAGE: usize = 20;

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
    /// `service` or `article` (政务公开信息); empty: every kind.
    #[serde(default)]
    pub kind: String,
    /// 发布时间: `week`, `month` or `year` (articles published since).
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub page: Option<usize>,
}

/// The publication periods people filter articles by, with their days.
const PERIODS: [(&str, i64); 3] = [("week", 7), ("month", 31), ("year", 366)];

impl SearchParams {
    fn url(&self, department: &str, audience: &str, online: &str) -> String {
        self.url_of_kind(&self.kind, department, audience, online)
    }

    fn url_of_kind(&self, kind: &str, department: &str, audience: &str, online: &str) -> String {
        self.url_with(kind, department, audience, online, &self.period)
    }

    fn url_with(
        &self,
        kind: &str,
        department: &str,
        audience: &str,
        online: &str,
        period: &str,
    ) -> String {
        let mut url = format!("/search?q={}", urlencode(&self.q));
        for (k, v) in [
            ("kind", kind),
            ("department", department),
            ("audience", audience),
            ("online", online),
            ("period", period),
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
#[template(path = "public/search/search.html")]
pub struct SearchPage {
    pub ctx: PageCtx,
    pub q: String,
    pub results: zhiban_search::SearchResults,
    pub pager: Pager,
    pub kinds: Vec<FacetLink>,
    pub departments: Vec<FacetLink>,
    pub audiences: Vec<FacetLink>,
    pub online: Option<FacetLink>,
    /// 发布时间 (shown when articles are among the results).
    pub periods: Vec<FacetLink>,
    pub clear_url: Option<String>,
    pub similar: Vec<Arc<zhiban_search::SearchDoc>>,
    pub popular: Vec<Item>,
    pub hot: Vec<String>,
    /// The logged search this page shows, for click tracking.
    pub search_id: Option<i64>,
    /// English names of the items among the hits (en pages only).
    pub english: std::collections::HashMap<String, String>,
}

impl SearchPage {
    /// A hit's English name, shown under its Chinese title on en pages.
    fn english_name(&self, doc: &zhiban_search::SearchDoc) -> Option<&str> {
        (doc.kind == "service")
            .then(|| self.english.get(&doc.id))
            .flatten()
            .map(String::as_str)
    }

    /// Result links pass through `/search/go` so staff can see what
    /// people open; without a logged search they link directly.
    fn result_url(&self, url: &str) -> String {
        match self.search_id {
            Some(id) => format!("/search/go?sid={id}&to={}", urlencode(url)),
            None => url.to_string(),
        }
    }
}

/// Remembers the audience a person last filtered by, so later searches
/// prefer items for them (until sign-in can say who they are).
const AUDIENCE_COOKIE: &str = "zb_audience";

pub async fn search(
    State(state): State<AppState>,
    ctx: PageCtx,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
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
                .max_age(crate::view::a_year())
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
    let today = zhiban_domain::time::local_date(state.db.now());
    let since = PERIODS
        .iter()
        .find(|(slug, _)| *slug == p.period)
        .map(|(_, days)| (today - chrono::Duration::days(*days)).to_string());
    let run = |offset: usize| {
        state.search.search(&zhiban_search::SearchQuery {
            text: query.clone(),
            department: Some(p.department.clone()).filter(|d| !d.is_empty()),
            audience: Some(p.audience.clone()).filter(|a| !a.is_empty()),
            online_only: p.online == "1",
            kind: Some(p.kind.clone()).filter(|k| !k.is_empty()),
            since: since.clone(),
            prefer_audience: prefer.clone(),
            offset,
            limit: per_page,
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
    let kinds = results
        .facets
        .kind
        .iter()
        .map(|(k, n)| FacetLink {
            active: &p.kind == k,
            url: p.url_of_kind(
                if &p.kind == k { "" } else { k },
                &p.department,
                &p.audience,
                &p.online,
            ),
            label: ctx.term("kind", k),
            count: *n,
        })
        .collect();
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
    let has_articles = results.facets.kind.iter().any(|(k, _)| k == "article");
    let periods = if has_articles || since.is_some() {
        PERIODS
            .iter()
            .map(|(slug, _)| FacetLink {
                active: p.period == *slug,
                url: p.url_with(
                    &p.kind,
                    &p.department,
                    &p.audience,
                    &p.online,
                    if p.period == *slug { "" } else { slug },
                ),
                label: ctx.term("search_period", slug),
                count: 0,
            })
            .collect()
    } else {
        Vec::new()
    };
    let filtered = !p.department.is_empty()
        || !p.audience.is_empty()
        || p.online == "1"
        || !p.kind.is_empty()
        || since.is_some();
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
            &client_ip.to_string(),
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
    let page = render_public(
        ctx.lang,
        &SearchPage {
            english: if ctx.lang == crate::view::Lang::En {
                let catalog = state.catalog();
                results
                    .hits
                    .iter()
                    .filter(|h| h.doc.kind == "service")
                    .filter_map(|h| catalog.get(&h.doc.id))
                    .filter(|i| !i.name_en.is_empty())
                    .map(|i| (i.code.clone(), i.name_en.clone()))
                    .collect()
            } else {
                Default::default()
            },
            popular: state.catalog().high_frequency(None, 8),
            clear_url: filtered.then(|| format!("/search?q={}", urlencode(&query))),
            hot: state.hot_searches().await,
            search_id,
            q: query,
            results,
            pager,
            kinds,
            periods,
            departments,
            audiences,
            online,
            similar,
            ctx,
        },
    )?;
    Ok((jar, page).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct GoQuery {
    pub sid: Option<i64>,
    #[serde(default)]
    pub to: String,
}

/// Counts a click on a search result, then goes there.
pub async fn search_go(State(state): State<AppState>, Query(q): Query<GoQuery>) -> Response {
    let to = local_path(&q.to).unwrap_or("/").to_string();
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
