//! View helpers every handler may use: the page context (language,
//! display modes, translations, times), rendering, the public page cache,
//! paging, messages, QR codes, safe redirects, file responses, and how
//! forms, licenses and catalog tiles are shown.

pub mod article;
pub mod chart;
pub mod chat;
pub mod ctx;
pub mod files;
pub mod form;
pub mod interview;
pub mod license;
pub mod map;
pub mod messages;
pub mod meta;
pub mod payment;
pub mod places;
pub mod qr;
pub mod rating;
pub mod redirect;
pub mod tiles;
pub mod wizard;

pub use ctx::{Lang, PageCtx};
pub use files::*;
pub use license::*;
pub use messages::*;
pub use qr::*;
pub use redirect::*;
pub use tiles::*;

use crate::error::AppError;
use crate::state::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::response::{Html, IntoResponse, Response};
use zhiban_domain::catalog::CatalogSnapshot;

/// How long preference cookies are kept.
pub fn a_year() -> time::Duration {
    time::Duration::days(365)
}

/// Renders a template into an HTML response.
pub fn render(t: &impl Template) -> Result<Response, AppError> {
    Ok(Html(t.render()?).into_response())
}

/// Renders a form page: 200, or 422 when it comes back with problems.
pub fn render_form(t: &impl Template, has_errors: bool) -> Result<Response, AppError> {
    let status = if has_errors {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, Html(t.render()?)).into_response())
}

/// Simplified Chinese to Traditional (Hong Kong), built once.
static S2HK: std::sync::LazyLock<Option<ferrous_opencc::OpenCC>> = std::sync::LazyLock::new(|| {
    ferrous_opencc::OpenCC::from_config(ferrous_opencc::config::BuiltinConfig::S2hk).ok()
});

/// A public page in the visitor's script: the catalog is kept in
/// Simplified Chinese, so a 繁體 visitor reads it converted (the interface
/// is translated already). Only for pages without personal data: a
/// person's own answers are never rewritten.
pub fn in_script(lang: crate::view::ctx::Lang, html: String) -> String {
    let (crate::view::ctx::Lang::ZhHk, Some(cc)) = (lang, S2HK.as_ref()) else {
        return html;
    };
    // Only the page's own content (title, description for other software,
    // breadcrumbs, main part): the header
    // and footer are translated already, and the language switch names
    // 简体中文 in its own script.
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    let mut rest = html.as_str();
    for (open, close) in [
        ("<title>", "</title>"),
        // Open Graph and JSON-LD (partials/meta.html).
        ("<!--meta-->", "<!--/meta-->"),
        ("<nav class=\"breadcrumbs", "</nav>"),
        ("<main", "</main>"),
    ] {
        let Some(start) = rest.find(open) else {
            continue;
        };
        let Some(end) = rest[start..].find(close).map(|e| start + e) else {
            continue;
        };
        out.push_str(&rest[..start]);
        out.push_str(&cc.convert(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// [`render`] for a public page, in the visitor's script ([`in_script`]).
pub fn render_public(
    lang: crate::view::ctx::Lang,
    t: &impl Template,
) -> Result<Response, AppError> {
    Ok(Html(in_script(lang, t.render()?)).into_response())
}

/// Serves a public page from the page cache, building and rendering it from
/// the current catalog on a miss. Only pages that depend on nothing but the
/// catalog, the URL and the display preferences may use this.
pub fn cached_page<T: Template>(
    state: &AppState,
    ctx: PageCtx,
    build: impl FnOnce(&CatalogSnapshot, PageCtx) -> Result<T, AppError>,
) -> Result<Response, AppError> {
    cached_page_keyed(state, ctx, "", build)
}

/// [`cached_page`] for a page that also shows something outside the
/// catalog (`extra` names its current value, e.g. the hot searches).
pub fn cached_page_keyed<T: Template>(
    state: &AppState,
    ctx: PageCtx,
    extra: &str,
    build: impl FnOnce(&CatalogSnapshot, PageCtx) -> Result<T, AppError>,
) -> Result<Response, AppError> {
    // The lookup takes the generation before the snapshot is read, so a
    // reload in between keeps this render out of the cache.
    match cache_lookup(state, &ctx, extra) {
        Cached::Hit(page) => Ok(page),
        Cached::Miss(miss) => {
            let page = build(&state.catalog(), ctx)?;
            miss.store(state, &page)
        }
    }
}

/// A page-cache lookup for a public page that reads the database on a miss
/// (published articles): the generation is taken before anything is read,
/// so a page built while the content changed is never stored. Content and
/// catalog writes both empty the cache (`AppState::catch_up`).
pub enum Cached {
    Hit(Response),
    Miss(Miss),
}

/// What storing a freshly built page needs.
pub struct Miss {
    key: String,
    generation: u64,
    lang: crate::view::ctx::Lang,
}

/// Looks the page up; `extra` names what it shows besides the URL and the
/// display preferences (the day, for a bulletin's period).
pub fn cache_lookup(state: &AppState, ctx: &PageCtx, extra: &str) -> Cached {
    let key = format!("{}|{extra}", ctx.cache_key());
    match state.pages.get(&key) {
        Some(page) => Cached::Hit(Html(page).into_response()),
        None => Cached::Miss(Miss {
            key,
            generation: state.pages.generation(),
            lang: ctx.lang,
        }),
    }
}

impl Miss {
    /// Renders the page in the visitor's script, keeps it and answers it.
    pub fn store(self, state: &AppState, t: &impl Template) -> Result<Response, AppError> {
        let page = Bytes::from(in_script(self.lang, t.render()?));
        state.pages.put(self.key, page.clone(), self.generation);
        Ok(Html(page).into_response())
    }
}

/// Page links for a list: `base` is the list URL with its other filters.
#[derive(Debug, Clone)]
pub struct Pager {
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
    /// (page number, url, is current); 0 marks a gap (…).
    pub links: Vec<(usize, String, bool)>,
}

impl Pager {
    pub fn new(base: &str, page: usize, per_page: usize, total: usize) -> Self {
        let pages = total.div_ceil(per_page).max(1);
        let page = page.clamp(1, pages);
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = |p: usize| format!("{base}{sep}page={p}");
        let mut links = Vec::new();
        for p in 1..=pages {
            if p == 1 || p == pages || p.abs_diff(page) <= 2 {
                links.push((p, url(p), p == page));
            } else if links.last().is_some_and(|(n, _, _)| *n != 0) {
                links.push((0, String::new(), false));
            }
        }
        Pager {
            page,
            pages,
            total,
            prev: (page > 1).then(|| url(page - 1)),
            next: (page < pages).then(|| url(page + 1)),
            links,
        }
    }

    pub fn offset(&self, per_page: usize) -> usize {
        (self.page - 1) * per_page
    }
}

#[cfg(test)]
mod tests {
    use super::Pager;

    #[test]
    fn pager_clamps_the_page_and_elides_far_pages() {
        let p = Pager::new("/services?audience=person", 99, 20, 305);
        assert_eq!(p.pages, 16);
        assert_eq!(p.page, 16);
        assert!(p.next.is_none());
        assert_eq!(p.prev.as_deref(), Some("/services?audience=person&page=15"));
        let numbers: Vec<usize> = p.links.iter().map(|l| l.0).collect();
        assert_eq!(numbers, vec![1, 0, 14, 15, 16]);
    }
}
