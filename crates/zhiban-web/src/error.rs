//! One error type at the edge. Handlers return `AppError`; domain errors
//! convert into it once, here: field problems are a 422 and a conflict a
//! 409, each with its message in the visitor's language; a missing record a
//! 404; everything else a 500 whose cause is logged once. The error becomes
//! a status plus a marker, and the `error_pages` middleware renders the page
//! with the request id. Handlers match a domain error themselves only where
//! they show something better (the form again, with the message beside the
//! field).

use askama::Template;
use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use zhiban_domain::forms::FormError;
use zhiban_domain::{Conflict, DomainError, FieldError};

use crate::view::PageCtx;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A finished response to send as it is (e.g. a JSON refusal for a
    /// script), so handlers can still use `?`.
    #[error("reply {}", .0.status())]
    Reply(Box<Response>),
    #[error("not found")]
    NotFound,
    /// A request the browser should not have sent (a broken form body).
    #[error("bad request")]
    BadRequest,
    /// A body over the route's size limit.
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("forbidden")]
    Forbidden,
    /// Signed in, but no role grants what this page needs.
    #[error("no permission")]
    NoPermission,
    /// A city-level setting, and this is a unit's account.
    #[error("city-level setting")]
    CityLevel,
    /// Too many attempts from this client in a short time.
    #[error("too many requests")]
    TooMany,
    /// Input the domain refused, field by field (422).
    #[error("invalid: {0:?}")]
    Invalid(Vec<FieldError>),
    /// Answers of a smart form that do not validate (422).
    #[error("invalid form: {0:?}")]
    Form(Vec<FormError>),
    /// Refused because of the state things are in (409).
    #[error("conflict: {}", .0.code())]
    Conflict(Conflict),
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
            DomainError::NotFound | DomainError::OutOfScope => AppError::NotFound,
            DomainError::CityLevel => AppError::CityLevel,
            DomainError::Invalid(errors) => AppError::Invalid(errors),
            DomainError::Form(errors) => AppError::Form(errors),
            DomainError::Conflict(c) => AppError::Conflict(c),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

/// What the error page says besides its status.
#[derive(Debug, Clone, Default)]
pub enum Detail {
    #[default]
    None,
    /// A translation key for the hint under the title.
    Hint(&'static str),
    Fields(Vec<FieldError>),
    Form(Vec<FormError>),
    Conflict(Conflict),
}

/// Marker left on a response whose body the error middleware should render.
#[derive(Debug, Clone)]
pub struct ErrorPage(pub StatusCode, pub Detail);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, detail) = match self {
            AppError::Reply(r) => return *r,
            AppError::Api {
                status,
                code,
                message,
            } => {
                return (
                    status,
                    Json(serde_json::json!({"error": {"code": code, "message": message}})),
                )
                    .into_response();
            }
            AppError::NotFound => (StatusCode::NOT_FOUND, Detail::None),
            AppError::BadRequest => (StatusCode::BAD_REQUEST, Detail::None),
            AppError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, Detail::None),
            AppError::Forbidden => (StatusCode::FORBIDDEN, Detail::None),
            AppError::NoPermission => (
                StatusCode::FORBIDDEN,
                Detail::Hint("error.no_permission_hint"),
            ),
            AppError::CityLevel => (StatusCode::FORBIDDEN, Detail::Hint("error.city_level_hint")),
            AppError::TooMany => (StatusCode::TOO_MANY_REQUESTS, Detail::None),
            AppError::Invalid(errors) => (StatusCode::UNPROCESSABLE_ENTITY, Detail::Fields(errors)),
            AppError::Form(errors) => (StatusCode::UNPROCESSABLE_ENTITY, Detail::Form(errors)),
            AppError::Conflict(c) => (StatusCode::CONFLICT, Detail::Conflict(c)),
            AppError::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, Detail::None)
            }
        };
        let mut res = status.into_response();
        res.extensions_mut().insert(ErrorPage(status, detail));
        res
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate {
    ctx: PageCtx,
    status: u16,
    request_id: String,
    detail: Detail,
}

impl ErrorTemplate {
    fn title(&self) -> String {
        match self.status {
            400 => self.ctx.t("error.bad_request"),
            404 => self.ctx.t("error.not_found"),
            403 => self.ctx.t("error.forbidden"),
            409 => self.ctx.t("error.conflict"),
            413 => self.ctx.t("error.too_large"),
            422 => self.ctx.t("error.invalid"),
            429 => self.ctx.t("error.too_many"),
            _ => self.ctx.t("error.internal"),
        }
    }

    fn hint(&self) -> String {
        match (&self.detail, self.status) {
            (Detail::Hint(key), _) => self.ctx.t(key),
            (Detail::Conflict(c), _) => self.ctx.conflict(*c),
            (_, 400) => self.ctx.t("error.bad_request_hint"),
            (_, 404) => self.ctx.t("error.not_found_hint"),
            (_, 403) => self.ctx.t("error.forbidden_hint"),
            (_, 413) => self.ctx.t("error.too_large_hint"),
            (_, 422) => self.ctx.t("error.invalid_hint"),
            (_, 429) => self.ctx.t("error.too_many_hint"),
            _ => self.ctx.t("error.internal_hint"),
        }
    }

    /// Each refused field with its message.
    fn messages(&self) -> Vec<String> {
        match &self.detail {
            Detail::Fields(errors) => errors
                .iter()
                .map(|e| crate::view::error_message(&self.ctx, e))
                .collect(),
            Detail::Form(errors) => errors
                .iter()
                .map(|e| crate::view::form::error_text(&self.ctx, e))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Renders error pages (404, 403, 409, 422, 500 …) for HTML responses.
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
    let Some(ErrorPage(status, detail)) = res.extensions().get::<ErrorPage>().cloned() else {
        return res;
    };
    let page = ErrorTemplate {
        ctx,
        status: status.as_u16(),
        request_id,
        detail,
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

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    async fn page(e: fn() -> DomainError) -> (u16, String) {
        let app = Router::new()
            .route(
                "/",
                get(move || async move { Err::<(), AppError>(e().into()) }),
            )
            .layer(axum::middleware::from_fn(error_pages));
        let res = app
            .oneshot(
                Request::builder()
                    .uri("/")
                    .header("accept-language", "zh-CN")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        let status = res.status().as_u16();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn a_conflict_nobody_handled_is_a_409_that_says_why() {
        let (status, html) = page(|| DomainError::Conflict(Conflict::Stale)).await;
        assert_eq!(status, 409);
        assert!(html.contains("其他人已经修改了这条记录"), "{html}");
    }

    #[tokio::test]
    async fn refused_fields_nobody_handled_are_a_422_listing_each_problem() {
        let (status, html) =
            page(|| DomainError::Invalid(vec![FieldError::new("phone", "invalid_phone", "")]))
                .await;
        assert_eq!(status, 422);
        assert!(html.contains("请按下列提示修改后重新提交"), "{html}");
        assert!(html.contains("<li>"), "each problem is listed: {html}");
    }

    #[tokio::test]
    async fn a_failure_of_ours_is_a_500_without_its_cause() {
        let (status, html) = page(|| DomainError::Internal("key_generation")).await;
        assert_eq!(status, 500);
        assert!(!html.contains("key_generation"));
    }
}
