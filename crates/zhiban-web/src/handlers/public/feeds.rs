//! What other software reads: RSS 2.0 and Atom feeds of every site
//! (`/sites/{site}/rss.xml`, `/sites/{site}/atom.xml`) and channel
//! (`/sites/{site}/{channel}/rss.xml`, `…/atom.xml`), and the sitemap
//! (`/sitemap.xml`, an index of `/sitemap/{n}.xml` pages when large),
//! announced in `/robots.txt`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use zhiban_domain::content::reading::{self, Text};
use zhiban_domain::content::rich_text;

use crate::error::AppError;
use crate::extract::Issuer;
use crate::state::AppState;
use crate::view::ctx::PageCtx;

/// Articles in a feed.
const FEED_ITEMS: i64 = 50;
/// URLs in one sitemap file (the protocol's limit).
pub const SITEMAP_LIMIT: usize = 50_000;

/// One article in a feed.
pub struct Entry {
    pub id: i64,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub source: String,
    pub kind: &'static str,
    pub published_rfc2822: String,
    pub published_rfc3339: String,
    pub updated_rfc2822: String,
    pub updated_rfc3339: String,
}

fn entry(t: &Text) -> Entry {
    let at = |s: i64| {
        chrono::DateTime::from_timestamp(s, 0)
            .unwrap_or_default()
            .with_timezone(&zhiban_domain::time::beijing())
    };
    Entry {
        id: t.id,
        title: t.title.clone(),
        summary: if t.summary.is_empty() {
            rich_text::excerpt(&t.body, 120)
        } else {
            t.summary.clone()
        },
        body: t.body.clone(),
        source: if t.source.is_empty() {
            t.site_name.clone()
        } else {
            t.source.clone()
        },
        kind: t.kind.label(),
        published_rfc2822: at(t.published_at).to_rfc2822(),
        published_rfc3339: at(t.published_at).to_rfc3339(),
        updated_rfc2822: at(t.updated_at).to_rfc2822(),
        updated_rfc3339: at(t.updated_at).to_rfc3339(),
    }
}

#[derive(Template)]
#[template(path = "public/feeds/rss.xml")]
pub struct Rss {
    pub base: String,
    pub title: String,
    pub description: String,
    /// The HTML page the feed follows.
    pub page: String,
    pub self_path: String,
    pub entries: Vec<Entry>,
}

#[derive(Template)]
#[template(path = "public/feeds/atom.xml")]
pub struct Atom {
    pub base: String,
    pub title: String,
    pub description: String,
    pub page: String,
    pub self_path: String,
    pub author: String,
    pub updated: String,
    pub entries: Vec<Entry>,
}

fn xml(body: String, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// Which feed: a site's or one of its channels'.
struct Source {
    title: String,
    page: String,
    author: String,
    texts: Vec<Text>,
}

async fn source(
    state: &AppState,
    ctx: &PageCtx,
    site: &str,
    channel: Option<&str>,
) -> Result<Source, AppError> {
    let site = reading::site(&state.db, site)
        .await?
        .ok_or(AppError::NotFound)?;
    let portal = ctx.t("site.name");
    match channel {
        None => Ok(Source {
            title: format!("{} · {portal}", site.name),
            page: format!("/sites/{}", site.code),
            texts: reading::live_texts(&state.db, Some(&site.code), None, FEED_ITEMS).await?,
            author: site.name,
        }),
        Some(code) => {
            let c = reading::channels(&state.db)
                .await?
                .into_iter()
                .find(|c| c.site_id == site.id && c.code == code)
                .ok_or(AppError::NotFound)?;
            Ok(Source {
                title: format!("{} · {} · {portal}", c.name, site.name),
                page: format!("/sites/{}/{}", site.code, c.code),
                texts: reading::live_texts(&state.db, None, Some(c.id), FEED_ITEMS).await?,
                author: site.name,
            })
        }
    }
}

async fn rss(
    state: &AppState,
    ctx: &PageCtx,
    base: String,
    site: &str,
    channel: Option<&str>,
) -> Result<Response, AppError> {
    let s = source(state, ctx, site, channel).await?;
    let feed = Rss {
        base,
        description: ctx.t("feeds.description"),
        self_path: format!("{}/rss.xml", s.page),
        entries: s.texts.iter().map(entry).collect(),
        title: s.title,
        page: s.page,
    };
    Ok(xml(feed.render()?, "application/rss+xml; charset=utf-8"))
}

async fn atom(
    state: &AppState,
    ctx: &PageCtx,
    base: String,
    site: &str,
    channel: Option<&str>,
) -> Result<Response, AppError> {
    let s = source(state, ctx, site, channel).await?;
    let entries: Vec<Entry> = s.texts.iter().map(entry).collect();
    let updated = entries
        .iter()
        .map(|e| e.updated_rfc3339.clone())
        .max()
        .unwrap_or_else(|| {
            state
                .db
                .now()
                .with_timezone(&zhiban_domain::time::beijing())
                .to_rfc3339()
        });
    let feed = Atom {
        base,
        description: ctx.t("feeds.description"),
        self_path: format!("{}/atom.xml", s.page),
        author: s.author,
        updated,
        entries,
        title: s.title,
        page: s.page,
    };
    Ok(xml(feed.render()?, "application/atom+xml; charset=utf-8"))
}

pub async fn site_rss(
    State(state): State<AppState>,
    ctx: PageCtx,
    Issuer(base): Issuer,
    Path(site): Path<String>,
) -> Result<Response, AppError> {
    rss(&state, &ctx, base, &site, None).await
}

pub async fn site_atom(
    State(state): State<AppState>,
    ctx: PageCtx,
    Issuer(base): Issuer,
    Path(site): Path<String>,
) -> Result<Response, AppError> {
    atom(&state, &ctx, base, &site, None).await
}

pub async fn channel_rss(
    State(state): State<AppState>,
    ctx: PageCtx,
    Issuer(base): Issuer,
    Path((site, channel)): Path<(String, String)>,
) -> Result<Response, AppError> {
    rss(&state, &ctx, base, &site, Some(&channel)).await
}

pub async fn channel_atom(
    State(state): State<AppState>,
    ctx: PageCtx,
    Issuer(base): Issuer,
    Path((site, channel)): Path<(String, String)>,
) -> Result<Response, AppError> {
    atom(&state, &ctx, base, &site, Some(&channel)).await
}

#[derive(Template)]
#[template(path = "public/feeds/sitemap.xml")]
pub struct Sitemap {
    pub base: String,
    /// (path, last modified date or empty)
    pub urls: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "public/feeds/sitemap_index.xml")]
pub struct SitemapIndex {
    pub base: String,
    pub pages: Vec<usize>,
}

/// Every public page worth finding: the home and browse pages, every
/// guide, every site and channel, every live article.
async fn all_urls(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    let mut urls: Vec<(String, String)> = ["/", "/services", "/themes", "/departments", "/police"]
        .iter()
        .map(|p| ((*p).to_string(), String::new()))
        .collect();
    let catalog = state.catalog();
    urls.extend(
        catalog
            .services
            .iter()
            .map(|s| (format!("/services/{}", s.code), String::new())),
    );
    for site in reading::sites(&state.db).await? {
        urls.push((format!("/sites/{}", site.code), String::new()));
    }
    for c in reading::channels(&state.db).await? {
        urls.push((format!("/sites/{}/{}", c.site_code, c.code), String::new()));
    }
    for t in reading::live_texts(&state.db, None, None, i64::MAX).await? {
        let day = zhiban_domain::time::local_day(t.updated_at).to_string();
        urls.push((format!("/articles/{}", t.id), day));
    }
    Ok(urls)
}

/// How many sitemap files `n` URLs need at `limit` each (1 means no index).
pub fn sitemap_pages(n: usize, limit: usize) -> usize {
    n.div_ceil(limit.max(1)).max(1)
}

pub async fn sitemap(
    State(state): State<AppState>,
    Issuer(base): Issuer,
) -> Result<Response, AppError> {
    let urls = all_urls(&state).await?;
    let pages = sitemap_pages(urls.len(), SITEMAP_LIMIT);
    let body = if pages == 1 {
        Sitemap { base, urls }.render()?
    } else {
        SitemapIndex {
            base,
            pages: (1..=pages).collect(),
        }
        .render()?
    };
    Ok(xml(body, "application/xml; charset=utf-8"))
}

/// One file of a large sitemap: `/sitemap/{n}.xml`.
pub async fn sitemap_page(
    State(state): State<AppState>,
    Issuer(base): Issuer,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let n: usize = file
        .strip_suffix(".xml")
        .and_then(|n| n.parse().ok())
        .filter(|n| *n >= 1)
        .ok_or(AppError::NotFound)?;
    let urls: Vec<(String, String)> = all_urls(&state)
        .await?
        .into_iter()
        .skip((n - 1) * SITEMAP_LIMIT)
        .take(SITEMAP_LIMIT)
        .collect();
    if urls.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(xml(
        Sitemap { base, urls }.render()?,
        "application/xml; charset=utf-8",
    ))
}

/// Crawlers: the public pages, not anyone's own ones, and the sitemap.
pub async fn robots(Issuer(base): Issuer) -> Response {
    let body = format!(
        "User-agent: *\nDisallow: /admin\nDisallow: /account\nDisallow: /my/\n\
         Disallow: /apply/\nDisallow: /login\nDisallow: /search/go\n\
         Sitemap: {base}/sitemap.xml\n"
    );
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::sitemap_pages;

    #[test]
    fn a_large_sitemap_is_split_into_files_of_at_most_the_limit() {
        assert_eq!(sitemap_pages(0, 50_000), 1);
        assert_eq!(sitemap_pages(50_000, 50_000), 1);
        assert_eq!(sitemap_pages(50_001, 50_000), 2);
        assert_eq!(sitemap_pages(120_000, 50_000), 3);
    }
}
