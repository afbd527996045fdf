//! Who is asking: the client's address (the socket peer, or the first
//! `X-Forwarded-For` hop behind a trusted proxy) and browser.

use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::net::SocketAddr;
use zhiban_domain::identity::staff::Client;

/// The client's address: the socket peer, or the first X-Forwarded-For hop
/// when the portal is configured to sit behind a proxy.
pub fn client_ip(parts: &Parts, state: &AppState) -> String {
    if state.config.trust_proxy
        && let Some(first) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
    {
        return first.trim().to_string();
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default()
}

pub fn client_of(parts: &Parts, state: &AppState) -> Client {
    Client {
        ip: client_ip(parts, state),
        user_agent: parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
    }
}

/// The client as an extractor, for handlers that do not hold a session yet.
pub struct ClientInfo(pub Client);

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientInfo(client_of(parts, state)))
    }
}
