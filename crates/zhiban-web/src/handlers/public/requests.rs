//! 政民互动 (`/requests`, `/requests/{number}`): what one can write about
//! and how fast it is answered, the mailboxes, the emergency lines, and
//! 公开选登 — answered requests published with the citizen's agreement,
//! without personal data.

use crate::error::AppError;
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{Pager, render_public};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use zhiban_domain::requests::{self, Published, RequestType};

const PER_PAGE: i64 = 10;

#[derive(Template)]
#[template(path = "public/requests/hall.html")]
pub struct HallPage {
    pub ctx: PageCtx,
    pub kinds: Vec<(RequestType, u32)>,
    pub mailboxes: Vec<(&'static str, &'static str)>,
    pub published: Vec<Published>,
    pub kind: String,
    pub pager: Pager,
}

#[derive(Debug, Default, Deserialize)]
pub struct HallQuery {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub page: Option<usize>,
}

pub async fn hall(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<HallQuery>,
) -> Result<Response, AppError> {
    let kind = RequestType::from_slug(&q.kind);
    let page = q.page.unwrap_or(1).max(1);
    let (published, total) = requests::published(
        &state.db,
        kind,
        u32::try_from(page - 1).unwrap_or(0),
        PER_PAGE,
    )
    .await?;
    let base = match kind {
        Some(k) => format!("/requests?kind={}", k.slug()),
        None => "/requests".to_string(),
    };
    let settings = &state.config.requests;
    render_public(
        ctx.lang,
        &HallPage {
            kinds: RequestType::ALL
                .iter()
                .map(|k| (*k, settings.limit(*k)))
                .collect(),
            mailboxes: requests::MAILBOXES.to_vec(),
            published,
            kind: kind.map(|k| k.slug().to_string()).unwrap_or_default(),
            pager: Pager::new(
                &base,
                page,
                PER_PAGE as usize,
                usize::try_from(total).unwrap_or(0),
            ),
            ctx,
        },
    )
}

#[derive(Template)]
#[template(path = "public/requests/published.html")]
pub struct PublishedPage {
    pub ctx: PageCtx,
    pub p: Published,
}

pub async fn published(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(number): Path<String>,
) -> Result<Response, AppError> {
    let p = requests::published_one(&state.db, &number).await?;
    render_public(ctx.lang, &PublishedPage { p, ctx })
}
