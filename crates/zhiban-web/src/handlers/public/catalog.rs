//! Browsing the catalog: `/services` (with filters), a guide
//! `/services/{code}`, `/departments` and the life-event `/themes`.

use crate::error::AppError;
use crate::state::AppState;
use crate::view::article::{ListItem, list_items};
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::{Cached, EventTile, Item, Pager, cache_lookup, cached_page, event_tiles, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use zhiban_domain::catalog::{
    Audience, CatalogSnapshot, DeptNode, Filter, LifeEvent, PoliceDomain,
};
use zhiban_domain::content::reading;

const PER_PAGE: usize = 20;

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
#[template(path = "public/catalog/services.html")]
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
#[template(path = "public/catalog/guide.html")]
pub struct GuidePage {
    pub ctx: PageCtx,
    pub item: Item,
    pub siblings: Vec<Item>,
    pub related: Vec<Item>,
    pub dept_phone: String,
    pub meta: crate::view::meta::Meta,
    /// 相关政策: live policies that name this item.
    pub policies: Vec<ListItem>,
}

pub async fn guide(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    // Besides the catalog the guide shows the policies behind it, so it is
    // cached like the content pages (emptied when either changes).
    let miss = match cache_lookup(&state, &ctx, "") {
        Cached::Hit(page) => return Ok(page),
        Cached::Miss(m) => m,
    };
    let cat = state.catalog();
    let item = cat.get(&code).cloned().ok_or(AppError::NotFound)?;
    let dept = cat.department(&item.department_code);
    let policies = list_items(
        &reading::policies_for_service(&state.db, &item.code).await?,
        state.db.now().timestamp(),
    );
    let page = GuidePage {
        meta: crate::view::meta::for_guide(&item, state.config.public_url.as_deref()),
        siblings: cat.siblings(&item),
        related: cat.related(&item, 6),
        dept_phone: dept.map(|d| d.phone.clone()).unwrap_or_default(),
        policies,
        item,
        ctx,
    };
    miss.store(&state, &page)
}

#[derive(Template)]
#[template(path = "public/catalog/departments.html")]
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
#[template(path = "public/catalog/themes.html")]
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
