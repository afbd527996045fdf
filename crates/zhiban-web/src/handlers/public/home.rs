//! The home page (`/`).

use crate::error::AppError;
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{EventTile, Item, PoliceTile, cached_page_keyed, event_tiles, police_tiles};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use zhiban_domain::catalog::{CatalogSnapshot, DeptNode};

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
}

pub async fn home(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let hot = state.hot_searches().await;
    cached_page_keyed(&state, ctx, &hot.join("|"), |cat, ctx| {
        home_page(cat, ctx, hot)
    })
}

fn home_page(cat: &CatalogSnapshot, ctx: PageCtx, hot: Vec<String>) -> Result<HomePage, AppError> {
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
        ctx,
    })
}
