//! Display preferences (`/prefs`: language, elder mode, contrast; cookies,
//! no JavaScript) and the accessibility statement (`/accessibility`).

use crate::error::AppError;
use crate::state::AppState;
use crate::view::ctx::{CONTRAST_COOKIE, ELDER_COOKIE, LANG_COOKIE, Lang, PageCtx};
use crate::view::{local_path, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct PrefsQuery {
    pub lang: Option<String>,
    pub elder: Option<String>,
    pub contrast: Option<String>,
    #[serde(default)]
    pub next: String,
}

/// Only local paths, so the switch can't be used to send people elsewhere.
/// Sets a display preference cookie and returns to the page. A link, not a
/// form: it changes only how pages look, and works without JavaScript.
pub async fn prefs(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<PrefsQuery>,
) -> Response {
    let secure = state.config.secure_cookies;
    let cookie = |name: &'static str, value: String| {
        Cookie::build((name, value))
            .path("/")
            .max_age(crate::view::a_year())
            .same_site(SameSite::Lax)
            .http_only(true)
            .secure(secure)
            .build()
    };
    let mut jar = jar;
    if let Some(l) = q.lang.as_deref().and_then(Lang::parse) {
        jar = jar.add(cookie(LANG_COOKIE, l.code().into()));
    }
    for (name, value) in [(ELDER_COOKIE, &q.elder), (CONTRAST_COOKIE, &q.contrast)] {
        if let Some(v) = value {
            jar = jar.add(cookie(name, if v == "1" { "1" } else { "0" }.into()));
        }
    }
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(local_path(&q.next).unwrap_or("/")) {
        headers.insert(header::LOCATION, v);
    }
    (StatusCode::SEE_OTHER, jar, headers).into_response()
}

#[derive(Template)]
#[template(path = "public/prefs/accessibility.html")]
pub struct AccessibilityPage {
    pub ctx: PageCtx,
}

pub async fn accessibility(ctx: PageCtx) -> Result<Response, AppError> {
    render(&AccessibilityPage { ctx })
}

#[derive(Template)]
#[template(path = "public/prefs/privacy.html")]
pub struct PrivacyPage {
    pub ctx: PageCtx,
    /// The notice's version, as people consent to it at registration.
    pub version: &'static str,
    /// Days search queries are kept (`search_log_days`).
    pub search_days: i64,
}

/// The privacy notice people consent to at registration.
pub async fn privacy(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    ctx: PageCtx,
) -> Result<Response, AppError> {
    render(&PrivacyPage {
        ctx,
        version: zhiban_domain::identity::citizen::PRIVACY_VERSION,
        search_days: state.config.search_log_days,
    })
}
