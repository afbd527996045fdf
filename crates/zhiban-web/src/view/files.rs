//! File responses: stored case files, files published with articles, and
//! pages never kept by a cache.

use crate::error::AppError;
use crate::state::AppState;
use crate::view::ctx::urlencode;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use zhiban_domain::cases;
use zhiban_domain::cases::CaseFile;
use zhiban_domain::content::files::{self as content_files, ArticleFile};

/// Sends a stored file as a download, named after what it is (an image
/// still shows in an `<img>` preview: the disposition only stops a browser
/// from opening it as a page).
pub async fn send_file(
    state: &AppState,
    base: &str,
    file: &CaseFile,
) -> Result<Response, AppError> {
    let body = cases::file_body(&state.desk(base), file).await?;
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        urlencode(&file.download_name())
    );
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            // A PDF opened in the browser runs no script of ours.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'"
                    .to_string(),
            ),
        ],
        body,
    )
        .into_response())
}

/// A file published with an article. Pictures, video and captions open
/// in the page; documents download. Citizens' copies may be cached (a
/// file id never changes its body); the editor's are not.
pub async fn send_article_file(
    state: &AppState,
    file: &ArticleFile,
    public: bool,
) -> Result<Response, AppError> {
    let body = content_files::body(&state.files, file).await?;
    let how = if file.inline() {
        "inline"
    } else {
        "attachment"
    };
    let disposition = format!("{how}; filename*=UTF-8''{}", urlencode(&file.file_name));
    let cache = if public {
        "public, max-age=86400"
    } else {
        "private, no-store"
    };
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, cache.to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; object-src 'self'"
                    .to_string(),
            ),
        ],
        body,
    )
        .into_response())
}

/// A generated picture (一图读懂): SVG that runs nothing.
pub fn send_svg(svg: String, public: bool) -> Response {
    let cache = if public {
        "public, max-age=3600"
    } else {
        "private, no-store"
    };
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (header::CACHE_CONTROL, cache),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        svg,
    )
        .into_response()
}

/// Pages with someone's license data are never stored by the browser or a proxy.
pub fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

/// Pages that show a secret once (a tip's or a request's code and
/// secret, a new API key) are never kept by any cache.
pub fn shown_once(
    page: Result<Response, crate::error::AppError>,
) -> Result<Response, crate::error::AppError> {
    let mut r = page?;
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// A private file (sent with a request): pictures open in the page, PDFs
/// download; never cached, and no script of ours runs inside.
pub fn send_private(file_name: &str, content_type: &str, body: Vec<u8>) -> Response {
    let how = if content_type.starts_with("image/") {
        "inline"
    } else {
        "attachment"
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("{how}; filename*=UTF-8''{}", urlencode(file_name)),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'"
                    .to_string(),
            ),
        ],
        body,
    )
        .into_response()
}

/// A CSV export to download (staff reports): never cached.
pub fn send_csv(file_name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename*=UTF-8''{}", urlencode(file_name)),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        body,
    )
        .into_response()
}
