//! Form tokens (CSRF). Every state-changing form carries `_csrf`, and a
//! handler reads its body only through [`Csrf`]: `Csrf<Form<T>>`,
//! `Csrf<Json<T>>` or `Csrf<MultipartForm>`. The token is checked before
//! the body is parsed; a missing or wrong one is a 403.
//!
//! The expected token is the signed-in session's when a session extractor
//! (`Staff`, `PendingStaff`, `CitizenUser`, `PendingCitizen`) ran before
//! the body — they leave it on the request as [`ExpectedToken`] — and
//! otherwise the double-submit cookie of the anonymous forms (sign-in,
//! registration, password reset), set by [`form_token`] when the page was
//! shown.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::extract::MultipartForm;
use crate::state::AppState;
use crate::view::PageCtx;

pub const FORM_CSRF_COOKIE: &str = "zb_form_csrf";

/// The largest urlencoded or JSON form read (uploads have their own limit).
const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

/// The token the page's forms were given, left on the request by the
/// session extractor that ran before the body.
#[derive(Debug, Clone)]
pub struct ExpectedToken(pub String);

impl ExpectedToken {
    /// Records `token` as the one this request's form must carry.
    pub fn set(parts: &mut Parts, token: &str) {
        parts.extensions.insert(ExpectedToken(token.to_string()));
    }
}

/// A form body whose `_csrf` token matched. See the module docs.
pub struct Csrf<B>(pub B);

/// Bodies [`Csrf`] can read: each finds the token first, and parses the
/// rest only when `accept` says the token is right.
pub trait CsrfBody: Sized {
    fn read_checked(
        req: Request,
        state: &AppState,
        accept: impl Fn(&str) -> bool + Send,
    ) -> impl Future<Output = Result<Self, Response>> + Send;
}

#[derive(Deserialize, Default)]
struct TokenOnly {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

fn forbidden() -> Response {
    AppError::Forbidden.into_response()
}

/// The body's bytes, and the request put back together to be read again.
async fn buffered(req: Request) -> Result<(Bytes, Parts), Response> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| AppError::PayloadTooLarge.into_response())?;
    Ok((bytes, parts))
}

/// Reads the token with `token`, then (if accepted) the body as `F`.
async fn token_first<F>(
    req: Request,
    state: &AppState,
    accept: impl Fn(&str) -> bool + Send,
    token: fn(&[u8]) -> String,
) -> Result<F, Response>
where
    F: FromRequest<AppState>,
    F::Rejection: IntoResponse,
{
    let (bytes, parts) = buffered(req).await?;
    if !accept(&token(&bytes)) {
        return Err(forbidden());
    }
    F::from_request(Request::from_parts(parts, Body::from(bytes)), state)
        .await
        .map_err(IntoResponse::into_response)
}

fn form_token_of(body: &[u8]) -> String {
    serde_urlencoded::from_bytes::<TokenOnly>(body)
        .unwrap_or_default()
        .csrf
}

fn json_token_of(body: &[u8]) -> String {
    serde_json::from_slice::<TokenOnly>(body)
        .unwrap_or_default()
        .csrf
}

impl<T: DeserializeOwned + Send> CsrfBody for Form<T> {
    async fn read_checked(
        req: Request,
        state: &AppState,
        accept: impl Fn(&str) -> bool + Send,
    ) -> Result<Self, Response> {
        token_first(req, state, accept, form_token_of).await
    }
}

/// Forms with repeated fields (`number=a&number=b` into a `Vec`).
impl<T: DeserializeOwned + Send> CsrfBody for axum_extra::extract::Form<T> {
    async fn read_checked(
        req: Request,
        state: &AppState,
        accept: impl Fn(&str) -> bool + Send,
    ) -> Result<Self, Response> {
        token_first(req, state, accept, form_token_of).await
    }
}

impl<T: DeserializeOwned + Send> CsrfBody for Json<T> {
    async fn read_checked(
        req: Request,
        state: &AppState,
        accept: impl Fn(&str) -> bool + Send,
    ) -> Result<Self, Response> {
        token_first(req, state, accept, json_token_of).await
    }
}

/// Reads a multipart body whole, each file up to `max_file_bytes` (larger
/// ones are dropped as they stream in and marked), then checks its token.
async fn multipart_checked(
    req: Request,
    state: &AppState,
    accept: impl Fn(&str) -> bool + Send,
    max_file_bytes: usize,
) -> Result<MultipartForm, Response> {
    // A body that is not multipart carries no token.
    let Ok(mp) = axum::extract::Multipart::from_request(req, state).await else {
        return Err(forbidden());
    };
    let form = MultipartForm::read(mp, max_file_bytes)
        .await
        .map_err(IntoResponse::into_response)?;
    if !accept(form.field("_csrf").unwrap_or("")) {
        return Err(forbidden());
    }
    Ok(form)
}

impl CsrfBody for MultipartForm {
    async fn read_checked(
        req: Request,
        state: &AppState,
        accept: impl Fn(&str) -> bool + Send,
    ) -> Result<Self, Response> {
        multipart_checked(req, state, accept, state.config.cases.max_file_bytes()).await
    }
}

/// A form that may carry files: multipart (each file up to `max`), or
/// urlencoded when it carries none.
async fn fields_or_files(
    req: Request,
    state: &AppState,
    accept: impl Fn(&str) -> bool + Send,
    max: usize,
) -> Result<MultipartForm, Response> {
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    if !multipart {
        let Form(fields) = <Form<Vec<(String, String)>>>::read_checked(req, state, accept).await?;
        return Ok(MultipartForm {
            fields,
            files: Vec::new(),
        });
    }
    multipart_checked(req, state, accept, max).await
}

/// The article editor's form: multipart with its files (each up to the
/// publishing limit), or urlencoded when it carries none.
pub struct EditorForm(pub MultipartForm);

impl CsrfBody for EditorForm {
    async fn read_checked(
        req: Request,
        state: &AppState,
        accept: impl Fn(&str) -> bool + Send,
    ) -> Result<Self, Response> {
        let max = state.config.content.max_upload_bytes();
        fields_or_files(req, state, accept, max)
            .await
            .map(EditorForm)
    }
}

/// A citizen's form that may carry photos and scans (a request, a tip):
/// each file up to the upload limit of applications, or urlencoded
/// without.
pub struct UploadForm(pub MultipartForm);

impl CsrfBody for UploadForm {
    async fn read_checked(
        req: Request,
        state: &AppState,
        accept: impl Fn(&str) -> bool + Send,
    ) -> Result<Self, Response> {
        let max = state.config.cases.max_file_bytes();
        fields_or_files(req, state, accept, max)
            .await
            .map(UploadForm)
    }
}

impl<B: CsrfBody> FromRequest<AppState> for Csrf<B> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let expected = match req.extensions().get::<ExpectedToken>() {
            Some(t) => Some(t.0.clone()),
            None => CookieJar::from_headers(req.headers())
                .get(FORM_CSRF_COOKIE)
                .map(|c| c.value().to_string()),
        };
        let accept = move |sent: &str| {
            expected
                .as_deref()
                .is_some_and(|e| !sent.is_empty() && constant_eq(e, sent))
        };
        B::read_checked(req, state, accept).await.map(Csrf)
    }
}

/// Gives an anonymous form page its double-submit token: the cookie's, or
/// a new one set with the response.
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

/// The form token of a page anyone may post from: the account's when a
/// citizen is signed in, the double-submit cookie's otherwise. Also says
/// whether someone is signed in.
pub fn form_ctx(
    state: &AppState,
    user: Option<super::CitizenUser>,
    ctx: PageCtx,
    jar: CookieJar,
) -> (PageCtx, CookieJar, bool) {
    match user {
        Some(u) => (u.ctx, jar, true),
        None => {
            let mut ctx = ctx;
            let jar = form_token(state, &mut ctx, jar);
            (ctx, jar, false)
        }
    }
}

/// Compares secrets in time that does not depend on where they differ.
pub fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A form with nothing but its token (a button that does one thing).
#[derive(Debug, Default, Deserialize)]
pub struct NoFields {}
