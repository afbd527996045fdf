//! The portal's own address (the OpenID Connect issuer, the base of links
//! in messages) and the WebAuthn relying party for it.

use crate::error::AppError;
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::json_error;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};

/// The issuer: the configured public address, or this request's host.
pub struct Issuer(pub String);

impl axum::extract::FromRequestParts<AppState> for Issuer {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Issuer(match &state.config.public_url {
            Some(u) => u.clone(),
            None => {
                let host = parts
                    .headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("127.0.0.1");
                let scheme = if state.config.secure_cookies {
                    "https"
                } else {
                    "http"
                };
                format!("{scheme}://{host}")
            }
        }))
    }
}

/// The WebAuthn relying party for this portal's address. Passkeys need a
/// domain name; reached by IP address, [`RelyingParty::get`] answers with a
/// JSON error. The refusal waits until the handler asks, so the handler's
/// own checks (form token, stage) come first.
pub struct RelyingParty(Option<webauthn_rs::prelude::Webauthn>, PageCtx);

impl RelyingParty {
    pub fn get(self) -> Result<webauthn_rs::prelude::Webauthn, AppError> {
        self.0.ok_or_else(|| {
            AppError::Reply(Box::new(json_error(
                StatusCode::BAD_REQUEST,
                &self.1.t("errors.passkey_needs_domain"),
            )))
        })
    }
}

impl axum::extract::FromRequestParts<AppState> for RelyingParty {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Ok(Issuer(issuer)) = Issuer::from_request_parts(parts, state).await;
        let ctx = PageCtx::from_parts(parts);
        let wa = zhiban_domain::identity::passkey::relying_party(&issuer, &ctx.t("site.name"));
        Ok(RelyingParty(wa, ctx))
    }
}
