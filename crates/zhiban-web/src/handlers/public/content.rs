//! 政务公开 for everyone: an article (`/articles/{id}`), a site's home
//! (`/sites/{site}`) and a channel's list (`/sites/{site}/{channel}`).
//! Only approved versions, only while they are live.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use zhiban_domain::content::files;
use zhiban_domain::content::reading::{self, PublicArticle};
use zhiban_domain::content::{ArticleKind, Channel, Site};

use crate::error::AppError;
use crate::state::AppState;
use crate::view::article::{ArticlePage, ArticleView, Links, ListItem, list_items};
use crate::view::ctx::PageCtx;
use crate::view::files::{send_article_file, send_svg};
use crate::view::meta::{self, Meta};
use crate::view::{Cached, Pager, cache_lookup, render_public};

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
    let miss = match cache_lookup(&state, &ctx, &today(&state)) {
        Cached::Hit(page) => return Ok(page),
        Cached::Miss(m) => m,
    };
    match reading::public(&state.db, id).await? {
        PublicArticle::Live(a) => {
            let now = state.db.now().timestamp();
            let links = reading::policy_links(&state.db, a.id, a.kind, &a.fields).await?;
            let files = files::of_version(&state.db, a.id, a.version).await?;
            let mut a = ArticleView::of_live(&a, now);
            a.links = Links::of(&a.fields, &links, &state.catalog(), now);
            a.files = files;
            let meta = meta::for_article(&a, state.config.public_url.as_deref());
            miss.store(
                &state,
                &ArticlePage {
                    ctx,
                    a,
                    preview: false,
                    phone: false,
                    meta,
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

/// A file of a live article, as its approved version has it.
pub async fn article_file(
    State(state): State<AppState>,
    Path((id, file)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let PublicArticle::Live(a) = reading::public(&state.db, id).await? else {
        return Err(AppError::NotFound);
    };
    let f = files::one(&state.db, id, file).await?;
    if !f.in_version(a.version) {
        return Err(AppError::NotFound);
    }
    send_article_file(&state, &f, true).await
}

/// 一图读懂 of a live interpretation, drawn from its approved text.
pub async fn graphic(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    match reading::public(&state.db, id).await? {
        PublicArticle::Live(a) if a.kind == ArticleKind::Interpretation => Ok(send_svg(
            zhiban_domain::content::graphic::svg(&a.title, &a.source, &a.body),
            true,
        )),
        _ => Err(AppError::NotFound),
    }
}

/// The day in Beijing: a bulletin's period (未开始, 进行中, 已结束) changes
/// with it, so cached pages are kept per day.
fn today(state: &AppState) -> String {
    zhiban_domain::time::local_date(state.db.now()).to_string()
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
    pub meta: Meta,
    /// Where to file a 依申请公开 request with this site's unit: (code, name).
    pub disclosure: Option<(String, String)>,
}

pub async fn site(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let miss = match cache_lookup(&state, &ctx, &today(&state)) {
        Cached::Hit(page) => return Ok(page),
        Cached::Miss(m) => m,
    };
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
    let meta = meta::feeds_only(meta::site_feeds(&site.code, &site.name));
    let disclosure = reading::disclosure_item(&state.db, &site).await?;
    miss.store(
        &state,
        &SitePage {
            ctx,
            site,
            blocks,
            meta,
            disclosure,
        },
    )
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
    pub meta: Meta,
}

pub async fn channel(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((site_code, code)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let miss = match cache_lookup(&state, &ctx, &today(&state)) {
        Cached::Hit(page) => return Ok(page),
        Cached::Miss(m) => m,
    };
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
    let mut feeds = vec![(
        format!("{} · {}", channel.name, site.name),
        format!("{base}/rss.xml"),
        format!("{base}/atom.xml"),
    )];
    feeds.extend(meta::site_feeds(&site.code, &site.name));
    miss.store(
        &state,
        &ChannelPage {
            ctx,
            site,
            channel,
            items,
            pager,
            meta: meta::feeds_only(feeds),
        },
    )
}
