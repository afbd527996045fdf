//! 政务公开 for everyone: an article (`/articles/{id}`), a site's home
//! (`/sites/{site}`) and a channel's list (`/sites/{site}/{channel}`).
//! Only approved versions, only while they are live.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use zhiban_domain::content::reading::{self, PublicArticle};
use zhiban_domain::content::{Channel, Site};

use crate::error::AppError;
use crate::state::AppState;
use crate::view::article::{ArticlePage, ArticleView, ListItem, list_items};
use crate::view::ctx::PageCtx;
use crate::view::{Pager, render_public};

const PER_PAGE: usize = 20;

#[derive(Template)]
#[template(path = "public/content/withdrawn.html")]
pub struct WithdrawnPage {
    pub ctx: PageCtx,
    pub title: String,
    pub reason: String,
}

pub async fn article(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    match reading::public(&state.db, id).await? {
        PublicArticle::Live(a) => {
            let a = ArticleView::of_live(&a, state.db.now().timestamp());
            render_public(
                ctx.lang,
                &ArticlePage {
                    ctx,
                    a,
                    preview: false,
                    phone: false,
                },
            )
        }
        PublicArticle::Withdrawn { title, reason } => {
            let lang = ctx.lang;
            let page = render_public(lang, &WithdrawnPage { ctx, title, reason })?;
            Ok((StatusCode::GONE, page).into_response())
        }
        PublicArticle::Missing => Err(AppError::NotFound),
    }
}

/// A channel with its newest articles, on a site's home.
pub struct ChannelBlock {
    pub channel: Channel,
    pub items: Vec<ListItem>,
    pub total: i64,
}

#[derive(Template)]
#[template(path = "public/content/site.html")]
pub struct SitePage {
    pub ctx: PageCtx,
    pub site: Site,
    pub blocks: Vec<ChannelBlock>,
}

pub async fn site(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let site = reading::site(&state.db, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = state.db.now().timestamp();
    let mut blocks = Vec::new();
    for channel in reading::channels(&state.db)
        .await?
        .into_iter()
        .filter(|c| c.site_id == site.id)
    {
        let (items, total) = reading::in_channel(&state.db, channel.id, 0, 6).await?;
        blocks.push(ChannelBlock {
            items: list_items(&items, now),
            total,
            channel,
        });
    }
    render_public(ctx.lang, &SitePage { ctx, site, blocks })
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    pub page: Option<usize>,
}

#[derive(Template)]
#[template(path = "public/content/channel.html")]
pub struct ChannelPage {
    pub ctx: PageCtx,
    pub site: Site,
    pub channel: Channel,
    pub items: Vec<ListItem>,
    pub pager: Pager,
}

pub async fn channel(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((site_code, code)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let site = reading::site(&state.db, &site_code)
        .await?
        .ok_or(AppError::NotFound)?;
    let channel = reading::channels(&state.db)
        .await?
        .into_iter()
        .find(|c| c.site_id == site.id && c.code == code)
        .ok_or(AppError::NotFound)?;
    let (_, total) = reading::in_channel(&state.db, channel.id, 0, 0).await?;
    let base = format!("/sites/{}/{}", site.code, channel.code);
    let pager = Pager::new(
        &base,
        q.page.unwrap_or(1),
        PER_PAGE,
        usize::try_from(total).unwrap_or(0),
    );
    let (items, _) = reading::in_channel(
        &state.db,
        channel.id,
        i64::try_from(pager.offset(PER_PAGE)).unwrap_or(0),
        PER_PAGE as i64,
    )
    .await?;
    let items = list_items(&items, state.db.now().timestamp());
    render_public(
        ctx.lang,
        &ChannelPage {
            ctx,
            site,
            channel,
            items,
            pager,
        },
    )
}
