//! Who is asking: the client's address (the socket peer, or, behind
//! trusted proxies, the address the outermost of them saw) and browser.

use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::net::SocketAddr;
use zhiban_domain::identity::staff::Client;

/// The client's address: the socket peer; or, when the portal sits behind
/// `trusted_proxies` proxies of its own (`trust_proxy`), the address the
/// outermost of them saw. Each proxy appends the address it was reached
/// from to `X-Forwarded-For`, so that is the entry `trusted_proxies` from
/// the right; anything further left was written by the client and proves
/// nothing.
pub fn client_ip(parts: &Parts, state: &AppState) -> String {
    if state.config.trust_proxy
        && let Some(hop) = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .nth(state.config.trusted_proxies.max(1) as usize - 1)
    {
        return hop.to_string();
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
