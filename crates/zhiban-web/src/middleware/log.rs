//! Request logging: one span per request with its method, path and
//! request id, and the status when it is answered. Only what may be
//! logged is: a shared link's token is a secret, so its path is shortened.

use axum::body::Body;
use axum::http::Request;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnResponse, MakeSpan, TraceLayer};

/// The path as it may be logged: a shared link's token is a secret.
pub fn log_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/licenses/shared/") {
        Some(rest) if !rest.is_empty() => "/licenses/shared/…".into(),
        _ => path.into(),
    }
}

/// Makes the span each request is logged under.
#[derive(Clone, Copy, Debug)]
pub struct RequestSpan;

impl MakeSpan<Body> for RequestSpan {
    fn make_span(&mut self, req: &Request<Body>) -> tracing::Span {
        let id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        tracing::info_span!(
            "request",
            method = %req.method(),
            path = %log_path(req.uri().path()),
            request_id = %id
        )
    }
}

/// The logging layer of the router.
pub fn trace_layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan> {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_link_tokens_never_reach_the_log() {
        assert_eq!(log_path("/licenses/shared/abc123"), "/licenses/shared/…");
        assert_eq!(log_path("/licenses/shared/"), "/licenses/shared/");
        assert_eq!(log_path("/services/1"), "/services/1");
    }
}
