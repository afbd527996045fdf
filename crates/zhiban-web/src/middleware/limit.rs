//! Per-address rate limits, one type for every use: sign-in, code sending
//! and registration (POSTs only; the pages themselves stay open), and
//! public license lookups (every method: shared links are GETs). Counted in
//! memory per node; the per-account lock-out in the database covers every
//! node. A refusal is a clear "too many attempts" page (or a JSON error
//! for the API) before any password is hashed or row is read.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::extract::client_ip;
use crate::middleware::log::log_path;
use crate::state::AppState;

pub type Limiter = governor::DefaultKeyedRateLimiter<String>;

/// A keyed limiter of `per_minute` requests per client address.
pub fn limiter(per_minute: u32) -> Arc<Limiter> {
    let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    Arc::new(governor::RateLimiter::keyed(governor::Quota::per_minute(n)))
}

/// One rate limit: what it counts, against which limiter.
#[derive(Clone)]
pub struct RateLimit {
    state: AppState,
    limiter: Arc<Limiter>,
    /// Named in the log when it refuses.
    what: &'static str,
    /// Count only POSTs (the pages with the forms stay open).
    posts_only: bool,
}

impl RateLimit {
    /// Sign-in, code sending and registration POSTs; the limiter is the
    /// state's, shared by all of them.
    pub fn sign_in(state: &AppState) -> Self {
        RateLimit {
            limiter: Arc::clone(&state.sign_in_limiter),
            state: state.clone(),
            what: "sign-in",
            posts_only: true,
        }
    }

    /// Public license checks and shared links, every method.
    pub fn lookups(state: &AppState) -> Self {
        RateLimit {
            limiter: limiter(state.config.security.lookups_per_minute),
            state: state.clone(),
            what: "license lookup",
            posts_only: false,
        }
    }
}

/// The middleware: refuses a client over the limit.
pub async fn limit(State(l): State<RateLimit>, req: Request, next: Next) -> Response {
    if l.posts_only && req.method() != Method::POST {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let ip = client_ip(&parts, &l.state);
    if l.limiter.check_key(&ip).is_err() {
        tracing::warn!(%ip, path = %log_path(parts.uri.path()), what = l.what, "rate limit");
        if parts.uri.path().starts_with("/api/") {
            return AppError::Api {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "too_many_requests",
                message: "too many requests from this address, try again in a minute".into(),
            }
            .into_response();
        }
        return AppError::TooMany.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}
