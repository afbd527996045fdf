//! File responses: stored case files, and pages never kept by a cache.

use crate::error::AppError;
use crate::state::AppState;
use crate::view::ctx::urlencode;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use zhiban_domain::cases;
use zhiban_domain::cases::CaseFile;

/// Sends a stored file: inline for staff previews, as a download otherwise.
pub async fn send_file(
    state: &AppState,
    base: &str,
    file: &CaseFile,
    inline: bool,
) -> Result<Response, AppError> {
    let body = cases::file_body(&state.desk(base), file).await?;
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        urlencode(&file.file_name)
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
