//! The OpenID Connect provider needs to know its own address: tokens name
//! it as their issuer, and relying parties check that. Taken from each
//! request's `Host` header it would be whatever a client sends, so without
//! `public_url` the provider's endpoints answer 503 and say why — unless
//! the development setting `oidc_issuer_from_host` allows the Host header.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

pub async fn require_issuer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if state.config.public_url.is_some() || state.config.oidc_issuer_from_host {
        return next.run(req).await;
    }
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(serde_json::json!({
            "error": "temporarily_unavailable",
            "error_description": "OpenID Connect is off: this portal's public_url is not set",
        })),
    )
        .into_response()
}
