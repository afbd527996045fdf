//! Form tokens (CSRF).

use crate::error::AppError;
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;

pub const FORM_CSRF_COOKIE: &str = "zb_form_csrf";

/// A double-submit token for the sign-in and registration forms.
pub fn form_token(state: &AppState, ctx: &mut PageCtx, jar: CookieJar) -> CookieJar {
    if let Some(existing) = jar.get(FORM_CSRF_COOKIE) {
        ctx.csrf = existing.value().to_string();
        return jar;
    }
    let token = zhiban_domain::staff::random_token();
    ctx.csrf = token.clone();
    jar.add(
        Cookie::build((FORM_CSRF_COOKIE, token))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(state.config.secure_cookies)
            .build(),
    )
}

pub fn check_form_token(jar: &CookieJar, sent: &str) -> Result<(), AppError> {
    match jar.get(FORM_CSRF_COOKIE) {
        Some(c) if !sent.is_empty() && constant_eq(c.value(), sent) => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

pub fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(rename = "_csrf")]
    pub csrf: Option<String>,
}
