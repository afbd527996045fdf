//! The signed-in citizen (`CitizenUser`): pages that take it send everyone
//! else to sign in, and a session still waiting for its one-time code to
//! `/login/verify`.

use crate::error::AppError;
use crate::extract::ExpectedToken;
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use zhiban_domain::identity::citizen;
use zhiban_domain::identity::citizen::{Citizen, CitizenSession};

pub const USER_COOKIE: &str = "zb_user";

/// A signed-in citizen. Pages that take it send everyone else to sign in.
pub struct CitizenUser {
    pub session: CitizenSession,
    pub token: String,
    pub ctx: PageCtx,
}

impl CitizenUser {
    pub(crate) fn citizen(&self) -> &Citizen {
        &self.session.citizen
    }
}

impl FromRequestParts<AppState> for CitizenUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let mut ctx = PageCtx::from_parts(parts);
        let to_login =
            || Redirect::to(&format!("/login?next={}", urlencode(&ctx.here))).into_response();
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar.get(USER_COOKIE).map(|c| c.value().to_string()) else {
            return Err(to_login());
        };
        match citizen::session(&state.db, &state.config.security, &token, state.db.now()).await {
            Ok(Some(session)) if session.pending => Err(Redirect::to(&format!(
                "/login/verify?next={}",
                urlencode(&ctx.here)
            ))
            .into_response()),
            Ok(Some(session)) => {
                ctx.csrf = session.csrf_token.clone();
                let c = &session.citizen;
                ctx.citizen = Some(if c.name.is_empty() {
                    c.masked_phone()
                } else {
                    c.masked_name()
                });
                ctx.acting = c.acting.as_ref().map(|co| co.name.clone());
                ExpectedToken::set(parts, &session.csrf_token);
                Ok(CitizenUser {
                    session,
                    token,
                    ctx,
                })
            }
            Ok(None) => Err(to_login()),
            Err(e) => Err(AppError::from(e).into_response()),
        }
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for CitizenUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        if jar.get(USER_COOKIE).is_none() {
            return Ok(None);
        }
        match <CitizenUser as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(u) => Ok(Some(u)),
            Err(r) if r.status().is_redirection() => Ok(None),
            Err(r) => Err(r),
        }
    }
}

pub fn user_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build((USER_COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .build()
}

/// The citizen session on this request at any stage, if any: the page of
/// the optional one-time code, which a session still `pending` may open.
pub struct PendingCitizen(pub Option<(CitizenSession, String)>);

impl FromRequestParts<AppState> for PendingCitizen {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar.get(USER_COOKIE).map(|c| c.value().to_string()) else {
            return Ok(PendingCitizen(None));
        };
        let found = citizen::session(&state.db, &state.config.security, &token, state.db.now())
            .await
            .map_err(|e| AppError::from(e).into_response())?;
        if let Some(s) = &found {
            ExpectedToken::set(parts, &s.csrf_token);
        }
        Ok(PendingCitizen(found.map(|s| (s, token))))
    }
}

/// This browser's conversation with the assistant (its cookie), read by
/// the assistant's pages and by the consultation form it drafts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssistantSession(pub String);

impl AssistantSession {
    /// The cookie that carries it.
    pub const COOKIE: &'static str = "zb_assistant";

    pub fn of(jar: &axum_extra::extract::CookieJar) -> Option<AssistantSession> {
        jar.get(Self::COOKIE)
            .map(|c| c.value().to_string())
            .filter(|s| zhiban_domain::assistant::valid_session_id(s))
            .map(AssistantSession)
    }
}
