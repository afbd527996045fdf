//! Handlers, one file per area of the site.

pub mod admin;
pub mod api;
pub mod apply;
pub mod citizen;
pub mod license_desk;
pub mod licenses;
pub mod oidc;
pub mod people;
pub mod public;
pub mod staff_auth;
pub mod workbench;

use askama::Template;
use axum::body::Bytes;
use axum::response::{Html, IntoResponse, Response};
use zhiban_domain::catalog::CatalogSnapshot;

use crate::ctx::PageCtx;
use crate::error::AppError;
use crate::state::AppState;

/// Renders a template into an HTML response.
pub fn render(t: &impl Template) -> Result<Response, AppError> {
    Ok(Html(t.render()?).into_response())
}

/// A JSON error for the script-driven endpoints (passkeys): `{"error": "…"}`.
pub fn json_error(status: axum::http::StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

/// Field problems from the domain as one translated JSON error; anything
/// else is a real failure.
pub fn json_invalid(ctx: &PageCtx, e: zhiban_domain::DomainError) -> Result<Response, AppError> {
    match e {
        zhiban_domain::DomainError::Invalid(errs) => Ok(json_error(
            axum::http::StatusCode::BAD_REQUEST,
            &errs
                .iter()
                .map(|e| ctx.t(&format!("errors.{}", e.code)))
                .collect::<Vec<_>>()
                .join("；"),
        )),
        e => Err(e.into()),
    }
}

/// Serves a public page from the page cache, building and rendering it from
/// the current catalog on a miss. Only pages that depend on nothing but the
/// catalog, the URL and the display preferences may use this.
pub fn cached_page<T: Template>(
    state: &AppState,
    ctx: PageCtx,
    build: impl FnOnce(&CatalogSnapshot, PageCtx) -> Result<T, AppError>,
) -> Result<Response, AppError> {
    let key = ctx.cache_key();
    if let Some(page) = state.pages.get(&key) {
        return Ok(Html(page).into_response());
    }
    // Read the generation before the snapshot, so a reload in between
    // keeps this render out of the cache.
    let generation = state.pages.generation();
    let catalog = state.catalog();
    let page = Bytes::from(build(&catalog, ctx)?.render()?);
    state.pages.put(key, page.clone(), generation);
    Ok(Html(page).into_response())
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
