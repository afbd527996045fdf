//! One error type at the edge. Handlers return `AppError`; it becomes a
//! status plus a marker, and the `error_pages` middleware renders the page
//! in the visitor's language with the request id (the cause is logged once).

use askama::Template;
use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use zhiban_domain::DomainError;

use crate::view::PageCtx;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A finished response to send as it is (e.g. a JSON refusal for a
    /// script), so handlers can still use `?`.
    #[error("reply {}", .0.status())]
    Reply(Box<Response>),
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// Signed in, but no role grants what this page needs.
    #[error("no permission")]
    NoPermission,
    /// Too many attempts from this client in a short time.
    #[error("too many requests")]
    TooMany,
    #[error("internal: {0}")]
    Internal(String),
    /// A JSON API error with a stable code.
    #[error("api {code}: {message}")]
    Api {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound => AppError::NotFound,
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

/// Marker left on a response whose body the error middleware should render.
#[derive(Debug, Clone, Copy)]
pub struct ErrorPage(pub StatusCode, pub Option<&'static str>);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Reply(r) => *r,
            AppError::Api {
                status,
                code,
                message,
            } => (
                status,
                Json(serde_json::json!({"error": {"code": code, "message": message}})),
            )
                .into_response(),
            other => {
                let status = match other {
                    AppError::NotFound => StatusCode::NOT_FOUND,
                    AppError::Forbidden | AppError::NoPermission => StatusCode::FORBIDDEN,
                    AppError::TooMany => StatusCode::TOO_MANY_REQUESTS,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                let hint =
                    matches!(other, AppError::NoPermission).then_some("error.no_permission_hint");
                if let AppError::Internal(cause) = &other {
                    tracing::error!(%cause, "request failed");
                }
                let mut res = status.into_response();
                res.extensions_mut().insert(ErrorPage(status, hint));
                res
            }
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate {
    ctx: PageCtx,
    status: u16,
    request_id: String,
    hint_key: Option<&'static str>,
}

impl ErrorTemplate {
    fn title(&self) -> String {
        match self.status {
            404 => self.ctx.t("error.not_found"),
            403 => self.ctx.t("error.forbidden"),
            429 => self.ctx.t("error.too_many"),
            _ => self.ctx.t("error.internal"),
        }
    }
    fn hint(&self) -> String {
        if let Some(key) = self.hint_key {
            return self.ctx.t(key);
        }
        match self.status {
            404 => self.ctx.t("error.not_found_hint"),
            403 => self.ctx.t("error.forbidden_hint"),
            429 => self.ctx.t("error.too_many_hint"),
            _ => self.ctx.t("error.internal_hint"),
        }
    }
}

/// Renders error pages (404, 403, 500) for HTML responses.
pub async fn error_pages(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let ctx = PageCtx::from_parts(&parts);
    let request_id = parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let res = next.run(Request::from_parts(parts, body)).await;
    let Some(ErrorPage(status, hint_key)) = res.extensions().get::<ErrorPage>().copied() else {
        return res;
    };
    let page = ErrorTemplate {
        ctx,
        status: status.as_u16(),
        request_id,
        hint_key,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => status.into_response(),
    }
}

/// A handler panicked: log it once and show the 500 page.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("panic");
    AppError::Internal(format!("handler panicked: {detail}")).into_response()
}

/// The fallback for unknown paths.
pub async fn not_found() -> AppError {
    AppError::NotFound
}
