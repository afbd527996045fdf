//! The police sub-site (`/police`): its services over the catalog and the
//! bureau's publishing (警务动态, 警情通报, 交通管制, 反诈警示).

use crate::error::AppError;
use crate::state::AppState;
use crate::view::article::{ListItem, list_items};
use crate::view::ctx::PageCtx;
use crate::view::{Cached, Item, PoliceTile, cache_lookup, police_tiles};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use zhiban_domain::catalog::CatalogSnapshot;
use zhiban_domain::content::reading;
use zhiban_domain::content::{ArticleKind, Channel};

#[derive(Template)]
#[template(path = "public/police/police.html")]
pub struct PolicePage {
    pub ctx: PageCtx,
    pub tiles: Vec<PoliceTile>,
    pub popular: Vec<Item>,
    /// 警务动态 and 警情通报; 交通管制 and other bulletins; 反诈警示.
    pub news: Vec<ListItem>,
    pub bulletins: Vec<ListItem>,
    pub warnings: Vec<ListItem>,
    /// 悬赏通缉, newest first.
    pub wanted: Vec<ListItem>,
    /// The bureau's 专题 (反诈, 禁毒, 交通安全).
    pub topics: Vec<Channel>,
}

pub async fn police(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let today = zhiban_domain::time::local_date(state.db.now()).to_string();
    let miss = match cache_lookup(&state, &ctx, &today) {
        Cached::Hit(page) => return Ok(page),
        Cached::Miss(m) => m,
    };
    let db = &state.db;
    let now = db.now().timestamp();
    let latest = |kinds: &'static [ArticleKind]| reading::latest(db, "police", kinds, 5);
    let news = list_items(
        &latest(&[ArticleKind::News, ArticleKind::PoliceReport]).await?,
        now,
    );
    let bulletins = list_items(
        &latest(&[ArticleKind::Bulletin, ArticleKind::Notice]).await?,
        now,
    );
    let warnings = list_items(&latest(&[ArticleKind::CaseWarning]).await?, now);
    let mut page = police_page(&state.catalog(), ctx, news, bulletins, warnings)?;
    page.wanted = list_items(&latest(&[ArticleKind::Wanted]).await?, now);
    page.topics = reading::channels(db)
        .await?
        .into_iter()
        .filter(|c| c.site_code == "police" && c.kind == ArticleKind::Topic)
        .collect();
    miss.store(&state, &page)
}

fn police_page(
    cat: &CatalogSnapshot,
    ctx: PageCtx,
    news: Vec<ListItem>,
    bulletins: Vec<ListItem>,
    warnings: Vec<ListItem>,
) -> Result<PolicePage, AppError> {
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
        news,
        bulletins,
        warnings,
        wanted: Vec::new(),
        topics: Vec::new(),
        ctx,
    })
}
