//! File responses: stored case files, and pages never kept by a cache.

use crate::error::AppError;
use crate::state::AppState;
use crate::view::ctx::urlencode;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use zhiban_domain::cases;
use zhiban_domain::cases::CaseFile;

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

/// Pages with someone's license data are never stored by the browser or a proxy.
pub fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}
