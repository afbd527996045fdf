//! Per-address rate limits: sign-in, code sending and registration, and
//! public license lookups.

use crate::error::AppError;
use crate::extract::client_ip;
use crate::middleware::log::log_path;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Limits sign-in attempts (POSTs) per client address: the answer to a
/// flood is a clear "too many attempts" page, before any password is hashed.
pub async fn limit_sign_in(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() == axum::http::Method::POST {
        let (parts, body) = req.into_parts();
        let ip = client_ip(&parts, &state);
        if state.sign_in_limiter.check_key(&ip).is_err() {
            tracing::warn!(%ip, path = %parts.uri.path(), "sign-in rate limit");
            return AppError::TooMany.into_response();
        }
        return next.run(Request::from_parts(parts, body)).await;
    }
    next.run(req).await
}

/// Public lookups (verification, shared links) one client address may make
/// per minute: generous for people checking licenses at a counter, too few
/// to walk the number space.
pub const LOOKUPS_PER_MINUTE: u32 = 60;

/// The per-address limit on public lookups, with what it needs to know
/// the client's address.
#[derive(Clone)]
pub struct Lookups {
    pub state: AppState,
    pub limiter: Arc<governor::DefaultKeyedRateLimiter<String>>,
}

impl Lookups {
    pub fn new(state: AppState) -> Self {
        let quota = governor::Quota::per_minute(
            std::num::NonZeroU32::new(LOOKUPS_PER_MINUTE).unwrap_or(std::num::NonZeroU32::MIN),
        );
        Lookups {
            state,
            limiter: Arc::new(governor::RateLimiter::keyed(quota)),
        }
    }
}

/// Refuses a client that looks up licenses faster than
/// [`LOOKUPS_PER_MINUTE`] (every method: shared links are GETs).
pub async fn limit_lookups(State(l): State<Lookups>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    if l.limiter.check_key(&client_ip(&parts, &l.state)).is_err() {
        tracing::warn!(path = %log_path(parts.uri.path()), "license lookup rate limit");
        if parts.uri.path().starts_with("/api/") {
            return AppError::Api {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "too_many_requests",
                message: "too many lookups from this address, try again in a minute".into(),
            }
            .into_response();
        }
        return AppError::TooMany.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}
