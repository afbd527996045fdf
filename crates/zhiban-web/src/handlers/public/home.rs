//! The home page (`/`).

use crate::error::AppError;
use crate::state::AppState;
use crate::view::article::{ListItem, list_items};
use crate::view::ctx::PageCtx;
use crate::view::{Cached, EventTile, Item, PoliceTile, cache_lookup, event_tiles, police_tiles};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use zhiban_domain::catalog::{CatalogSnapshot, DeptNode};
use zhiban_domain::content::ArticleKind;
use zhiban_domain::content::reading;

#[derive(Template)]
#[template(path = "public/home/home.html")]
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
    pub hot: Vec<String>,
    /// 政务公开: the city site's newest news, and notices with bulletins.
    pub news: Vec<ListItem>,
    pub notices: Vec<ListItem>,
}

pub async fn home(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let hot = state.hot_searches().await;
    // Besides the catalog: the hot searches and the day (a bulletin's
    // period); published articles empty the cache when they change.
    let today = zhiban_domain::time::local_date(state.db.now());
    let miss = match cache_lookup(&state, &ctx, &format!("{}|{today}", hot.join("|"))) {
        Cached::Hit(page) => return Ok(page),
        Cached::Miss(m) => m,
    };
    let now = state.db.now().timestamp();
    let news = reading::latest(&state.db, "city", &[ArticleKind::News], 6).await?;
    let notices = reading::latest(
        &state.db,
        "city",
        &[ArticleKind::Notice, ArticleKind::Bulletin],
        6,
    )
    .await?;
    let (news, notices) = (list_items(&news, now), list_items(&notices, now));
    let page = home_page(&state.catalog(), ctx, hot, news, notices)?;
    miss.store(&state, &page)
}

fn home_page(
    cat: &CatalogSnapshot,
    ctx: PageCtx,
    hot: Vec<String>,
    news: Vec<ListItem>,
    notices: Vec<ListItem>,
) -> Result<HomePage, AppError> {
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
        hot,
        news,
        notices,
        ctx,
    })
}
