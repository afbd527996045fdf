//! The police sub-site (`/police`).

use crate::error::AppError;
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{Item, PoliceTile, cached_page, police_tiles};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use zhiban_domain::catalog::CatalogSnapshot;

#[derive(Template)]
#[template(path = "public/police/police.html")]
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
