//! Staff sign-in in two steps (password, then TOTP — enrolled on first
//! sign-in), forced password changes, sign-out, the `Staff` extractor and
//! the permission guard every staff route in the route table passes.

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, FromRequestParts, Query, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use zhiban_domain::audit::{self, Entry};
use zhiban_domain::identity::staff::{self, Client, LoginError, StaffSession, Stage};
use zhiban_domain::identity::{Perm, passkey, totp};
use zhiban_domain::{ActorName, DomainError};

use super::oidc::RelyingParty;
use super::{json_invalid, render};
use crate::ctx::{PageCtx, urlencode};
use crate::error::AppError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "zb_staff";
const LOGIN_CSRF_COOKIE: &str = "zb_login_csrf";

/// A signed-in staff member past both factors. Routes in the staff table
/// are guarded before the handler runs; the extractor reads what the guard
/// found.
pub struct Staff {
    pub session: StaffSession,
    pub ctx: PageCtx,
}

impl Staff {
    pub fn actor(&self) -> ActorName {
        ActorName(self.session.user.username.clone())
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, token: Option<&String>) -> Result<(), AppError> {
        check_csrf(&self.session, token)
    }

    /// Whether a department (by code) lies inside this person's data scope.
    pub fn covers_department(&self, state: &AppState, code: &str) -> bool {
        state
            .catalog()
            .departments
            .iter()
            .find(|d| d.code == code)
            .is_some_and(|d| self.session.scope.covers(d.id))
    }

    /// Refuses work on a department outside this person's data scope.
    pub fn require_department(&self, state: &AppState, code: &str) -> Result<(), AppError> {
        if self.covers_department(state, code) {
            Ok(())
        } else {
            Err(AppError::NoPermission)
        }
    }

    /// Refuses unless this person's unit is the top of the org tree (or
    /// they have no unit), i.e. their scope is everything.
    pub fn require_whole_tree(&self, state: &AppState) -> Result<(), AppError> {
        let top = match self.session.user.unit_id {
            None => true,
            Some(u) => state
                .catalog()
                .departments
                .iter()
                .any(|d| d.id == u && d.parent_id.is_none()),
        };
        if top {
            Ok(())
        } else {
            Err(AppError::NoPermission)
        }
    }

    /// A finer check inside a handler (the guard has checked the route's).
    pub fn require(&self, p: Perm) -> Result<(), AppError> {
        if self.session.can(p) {
            Ok(())
        } else {
            Err(AppError::NoPermission)
        }
    }
}

fn check_csrf(session: &StaffSession, token: Option<&String>) -> Result<(), AppError> {
    match token {
        Some(t) if constant_eq(t, &session.csrf_token) => Ok(()),
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

fn client(parts: &Parts, state: &AppState) -> Client {
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

/// The request's staff session at whatever stage, if any.
async fn current(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<(StaffSession, String)>, AppError> {
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    Ok(
        staff::session(&state.db, &state.config.security, &token, state.db.now())
            .await?
            .map(|s| (s, token)),
    )
}

fn to_login(here: &str) -> Response {
    Redirect::to(&format!("/admin/login?next={}", urlencode(here))).into_response()
}

/// Where a session that is not ready for `here` must go first.
fn detour(s: &StaffSession, here: &str) -> Option<Response> {
    if s.stage == Stage::Password {
        return Some(
            Redirect::to(&format!("/admin/login/verify?next={}", urlencode(here))).into_response(),
        );
    }
    if s.password_expired {
        return Some(
            Redirect::to(&format!("/admin/account/password?next={}", urlencode(here)))
                .into_response(),
        );
    }
    None
}

/// The permission a staff route needs; `None` means any signed-in staff.
#[derive(Clone)]
pub struct Guard {
    pub state: AppState,
    pub perm: Option<Perm>,
}

/// Runs before every staff route: anonymous → sign-in; half signed-in →
/// second factor; expired password → change it; missing permission → 403
/// (and an audit record). Otherwise the session rides on the request.
pub async fn guard(State(g): State<Guard>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let here = PageCtx::from_parts(&parts).here;
    let (session, _) = match current(&parts, &g.state).await {
        Ok(Some(s)) => s,
        Ok(None) => return to_login(&here),
        Err(e) => return e.into_response(),
    };
    if let Some(r) = detour(&session, &here) {
        return r;
    }
    if let Some(p) = g.perm
        && !session.can(p)
    {
        let entry = Entry::staff(&session.user.username, "access.denied", parts.uri.path())
            .detail(p.slug())
            .ip(client_ip(&parts, &g.state))
            .refused();
        if let Err(e) = audit::record(&g.state.db, entry).await {
            return AppError::from(e).into_response();
        }
        return AppError::NoPermission.into_response();
    }
    parts.extensions.insert(session);
    next.run(Request::from_parts(parts, body)).await
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let mut ctx = PageCtx::from_parts(parts);
        let session = match parts.extensions.get::<StaffSession>() {
            Some(s) => s.clone(),
            // Outside the guarded table (sign-out): look it up here.
            None => match current(parts, state).await {
                Ok(Some((s, _))) if s.stage == Stage::Full => s,
                Ok(_) => return Err(to_login(&ctx.here)),
                Err(e) => return Err(e.into_response()),
            },
        };
        ctx.staff = Some(session.user.display_name.clone());
        ctx.csrf = session.csrf_token.clone();
        ctx.perms = session.perms.iter().map(|p| p.slug()).collect();
        Ok(Staff { session, ctx })
    }
}

/// A staff session that may still lack its second factor (the pages that
/// finish signing in).
pub struct PendingStaff {
    pub session: StaffSession,
    pub token: String,
    pub ctx: PageCtx,
    pub client: Client,
}

impl FromRequestParts<AppState> for PendingStaff {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let mut ctx = PageCtx::from_parts(parts);
        match current(parts, state).await {
            Ok(Some((session, token))) => {
                ctx.csrf = session.csrf_token.clone();
                Ok(PendingStaff {
                    client: client(parts, state),
                    session,
                    token,
                    ctx,
                })
            }
            Ok(None) => Err(to_login("/admin")),
            Err(e) => Err(e.into_response()),
        }
    }
}

fn session_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies)
        .build()
}

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

// ---------------------------------------------------------------- password step

#[derive(Template)]
#[template(path = "admin/login.html")]
pub struct LoginPage {
    pub ctx: PageCtx,
    pub next: String,
    pub username: String,
    pub error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    pub next: String,
}

pub fn safe_admin_next(next: &str) -> String {
    if next.starts_with("/admin") && !next.contains("//") && !next.starts_with("/admin/login") {
        next.to_string()
    } else {
        "/admin".into()
    }
}

pub async fn login_form(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    // Double-submit token: the form's hidden field must match this cookie.
    let token = staff::random_token();
    ctx.csrf = token.clone();
    let jar = jar.add(
        Cookie::build((LOGIN_CSRF_COOKIE, token))
            .path("/admin/login")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(state.config.secure_cookies)
            .build(),
    );
    let page = LoginPage {
        ctx,
        next: safe_admin_next(&q.next),
        username: String::new(),
        error: None,
    };
    Ok((jar, render(&page)?).into_response())
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub next: String,
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
}

/// The client as an extractor, for handlers that do not hold a session yet.
pub struct ClientInfo(pub Client);

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientInfo(client(parts, state)))
    }
}

fn login_error(ctx: &PageCtx, reason: &LoginError) -> String {
    match reason {
        LoginError::Invalid => ctx.t("admin.login_invalid"),
        LoginError::Locked => ctx.t("admin.login_locked"),
        LoginError::Disabled => ctx.t("admin.login_disabled"),
        LoginError::BadCode => ctx.t("admin.totp_invalid"),
    }
}

pub async fn login(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let expected = jar.get(LOGIN_CSRF_COOKIE).map(|c| c.value().to_string());
    if !expected.is_some_and(|e| !form.csrf.is_empty() && constant_eq(&e, &form.csrf)) {
        return Err(AppError::Forbidden);
    }
    let now = state.db.now();
    let policy = &state.config.security;
    match staff::login(&state.db, policy, &form.username, &form.password, now).await {
        Ok(user) => {
            let token = staff::start_session(&state.db, policy, &user, &client, now).await?;
            tracing::info!(user = %user.username, "staff password accepted");
            let jar = jar.add(session_cookie(&state, token)).remove(
                Cookie::build(LOGIN_CSRF_COOKIE)
                    .path("/admin/login")
                    .build(),
            );
            let next = safe_admin_next(&form.next);
            let to = if policy.staff_second_factor {
                format!("/admin/login/verify?next={}", urlencode(&next))
            } else {
                next
            };
            Ok((jar, Redirect::to(&to)).into_response())
        }
        Err(DomainError::Login(reason)) => {
            tracing::info!(?reason, "staff sign-in refused");
            audit::record(
                &state.db,
                Entry::staff(form.username.trim(), "staff.login", form.username.trim())
                    .detail("password")
                    .ip(&client.ip)
                    .kind(audit::ActorKind::Anonymous)
                    .refused(),
            )
            .await?;
            ctx.csrf = form.csrf.clone();
            let page = LoginPage {
                error: Some(login_error(&ctx, &reason)),
                ctx,
                next: safe_admin_next(&form.next),
                username: form.username,
            };
            Ok((StatusCode::UNAUTHORIZED, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- second factor

#[derive(Template)]
#[template(path = "admin/verify.html")]
pub struct VerifyPage {
    pub ctx: PageCtx,
    pub next: String,
    /// A passkey can answer (registered), or be added as the first factor.
    pub passkey_enrolled: bool,
    pub totp_enrolled: bool,
    /// Present while enrolling: the secret to type, and its QR code.
    pub enrol: Option<Enrolment>,
    pub error: Option<String>,
}

pub struct Enrolment {
    /// The secret in groups of four, easier to type.
    pub secret_grouped: String,
    /// `data:` URL of the QR code image (SVG).
    pub qr: String,
}

pub fn qr_data_url(text: &str) -> Result<String, AppError> {
    let code =
        qrcode::QrCode::new(text.as_bytes()).map_err(|e| AppError::Internal(format!("qr: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(format!("data:image/svg+xml;utf8,{}", urlencode(&svg)))
}

async fn verify_page(
    state: &AppState,
    p: &PendingStaff,
    next: String,
    error: Option<String>,
) -> Result<VerifyPage, AppError> {
    let enrol = if p.session.totp_enrolled || p.session.passkey_enrolled {
        None
    } else {
        let secret = staff::begin_enrolment(&state.db, &p.session, &p.token).await?;
        let url = totp::enrol_url(&secret, &p.session.user.username)
            .ok_or_else(|| AppError::Internal("totp url".into()))?;
        let grouped = zhiban_domain::identity::totp::grouped(&secret);
        Some(Enrolment {
            secret_grouped: grouped,
            qr: qr_data_url(&url)?,
        })
    };
    Ok(VerifyPage {
        ctx: p.ctx.clone(),
        next,
        passkey_enrolled: p.session.passkey_enrolled,
        totp_enrolled: p.session.totp_enrolled,
        enrol,
        error,
    })
}

pub async fn verify_form(
    State(state): State<AppState>,
    p: PendingStaff,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    let next = safe_admin_next(&q.next);
    if p.session.stage == Stage::Full {
        return Ok(Redirect::to(&next).into_response());
    }
    render(&verify_page(&state, &p, next, None).await?)
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub next: String,
    #[serde(rename = "_csrf")]
    pub csrf: Option<String>,
}

pub async fn verify(
    State(state): State<AppState>,
    p: PendingStaff,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    check_csrf(&p.session, form.csrf.as_ref())?;
    let next = safe_admin_next(&form.next);
    if p.session.stage == Stage::Full {
        return Ok(Redirect::to(&next).into_response());
    }
    let now = state.db.now();
    let policy = &state.config.security;
    let result = if p.session.totp_enrolled || p.session.passkey_enrolled {
        staff::verify_second_factor(&state.db, policy, &p.session, &p.token, &form.code, now).await
    } else {
        staff::confirm_enrolment(&state.db, policy, &p.session, &p.token, &form.code, now).await
    };
    match result {
        Ok(()) => Ok(Redirect::to(&next).into_response()),
        Err(DomainError::Login(reason)) => {
            let error = Some(login_error(&p.ctx, &reason));
            let page = verify_page(&state, &p, next, error).await?;
            Ok((StatusCode::UNAUTHORIZED, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- password change

#[derive(Template)]
#[template(path = "admin/password.html")]
pub struct PasswordPage {
    pub ctx: PageCtx,
    pub next: String,
    pub expired: bool,
    pub errors: Vec<String>,
}

pub async fn password_form(
    p: PendingStaff,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    if let Some(r) = (p.session.stage == Stage::Password).then(|| detour(&p.session, "/admin")) {
        return Ok(r.unwrap_or_else(|| to_login("/admin")));
    }
    render(&PasswordPage {
        next: safe_admin_next(&q.next),
        expired: p.session.password_expired,
        ctx: p.ctx,
        errors: Vec::new(),
    })
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_again: String,
    #[serde(default)]
    pub next: String,
    #[serde(rename = "_csrf")]
    pub csrf: Option<String>,
}

pub async fn change_password(
    State(state): State<AppState>,
    p: PendingStaff,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    check_csrf(&p.session, form.csrf.as_ref())?;
    if p.session.stage == Stage::Password {
        return Ok(detour(&p.session, "/admin").unwrap_or_else(|| to_login("/admin")));
    }
    let next = safe_admin_next(&form.next);
    let mut errors = Vec::new();
    if form.password != form.password_again {
        errors.push(p.ctx.t("errors.password_mismatch"));
    } else {
        match staff::change_password(
            &state.db,
            &p.session.user,
            &form.current_password,
            &form.password,
            state.db.now(),
        )
        .await
        {
            Ok(()) => return Ok(Redirect::to(&next).into_response()),
            Err(DomainError::Invalid(errs)) => {
                errors.extend(errs.iter().map(|e| super::admin::error_message(&p.ctx, e)));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let page = PasswordPage {
        next,
        expired: p.session.password_expired,
        ctx: p.ctx,
        errors,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

// ---------------------------------------------------------------- sign-out

pub async fn logout(
    State(state): State<AppState>,
    p: PendingStaff,
    jar: CookieJar,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    check_csrf(&p.session, form.csrf.as_ref())?;
    staff::end_session(&state.db, &p.token).await?;
    audit::record(
        &state.db,
        Entry::staff(
            &p.session.user.username,
            "staff.logout",
            &p.session.user.username,
        )
        .ip(&p.client.ip),
    )
    .await?;
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/").build());
    Ok((jar, Redirect::to("/admin/login")).into_response())
}

// ---------------------------------------------------------------- passkeys

fn holder(s: &StaffSession) -> passkey::Holder<'_> {
    passkey::Holder {
        owner: passkey::Owner::Staff(s.user.id),
        user_name: &s.user.username,
        display_name: &s.user.display_name,
        label: s.user.username.clone(),
    }
}

#[derive(Debug, Deserialize)]
pub struct JsonCsrf {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
}

/// Adding a passkey: from one's account page, or at the first sign-in as
/// the second factor when none is set up yet.
fn may_add_passkey(s: &StaffSession) -> bool {
    s.stage == Stage::Full || (!s.totp_enrolled && !s.passkey_enrolled)
}

pub async fn passkey_add_begin(
    State(state): State<AppState>,
    rp: RelyingParty,
    p: PendingStaff,
    axum::Json(b): axum::Json<JsonCsrf>,
) -> Result<Response, AppError> {
    check_csrf(&p.session, Some(&b.csrf))?;
    if !may_add_passkey(&p.session) {
        return Err(AppError::Forbidden);
    }
    let wa = rp.get()?;
    match passkey::begin_registration(&state.db, &wa, &holder(&p.session), state.db.now()).await {
        Ok((ceremony, options)) => Ok(axum::Json(
            serde_json::json!({ "ceremony": ceremony, "options": options }),
        )
        .into_response()),
        Err(e) => json_invalid(&p.ctx, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct PasskeyAddFinish {
    pub ceremony: String,
    #[serde(default)]
    pub name: String,
    pub credential: webauthn_rs::prelude::RegisterPublicKeyCredential,
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
    #[serde(default)]
    pub next: String,
}

pub async fn passkey_add_finish(
    State(state): State<AppState>,
    rp: RelyingParty,
    p: PendingStaff,
    axum::Json(f): axum::Json<PasskeyAddFinish>,
) -> Result<Response, AppError> {
    check_csrf(&p.session, Some(&f.csrf))?;
    if !may_add_passkey(&p.session) {
        return Err(AppError::Forbidden);
    }
    let now = state.db.now();
    let wa = rp.get()?;
    if let Err(e) = passkey::finish_registration(
        &state.db,
        &wa,
        &holder(&p.session),
        &f.ceremony,
        &f.name,
        &f.credential,
        now,
    )
    .await
    {
        return json_invalid(&p.ctx, e);
    }
    let to = if p.session.stage == Stage::Password {
        staff::passkey_second_factor(&state.db, &state.config.security, &p.session, &p.token)
            .await?;
        safe_admin_next(&f.next)
    } else {
        "/admin/account?saved=passkey".to_string()
    };
    Ok(axum::Json(serde_json::json!({ "redirect": to })).into_response())
}

pub async fn passkey_verify_begin(
    State(state): State<AppState>,
    rp: RelyingParty,
    p: PendingStaff,
    axum::Json(b): axum::Json<JsonCsrf>,
) -> Result<Response, AppError> {
    check_csrf(&p.session, Some(&b.csrf))?;
    let wa = rp.get()?;
    match passkey::begin_staff_verify(&state.db, &wa, p.session.user.id, state.db.now()).await {
        Ok((ceremony, options)) => Ok(axum::Json(
            serde_json::json!({ "ceremony": ceremony, "options": options }),
        )
        .into_response()),
        Err(e) => json_invalid(&p.ctx, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct PasskeyVerifyFinish {
    pub ceremony: String,
    pub credential: webauthn_rs::prelude::PublicKeyCredential,
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
    #[serde(default)]
    pub next: String,
}

pub async fn passkey_verify_finish(
    State(state): State<AppState>,
    rp: RelyingParty,
    p: PendingStaff,
    axum::Json(f): axum::Json<PasskeyVerifyFinish>,
) -> Result<Response, AppError> {
    check_csrf(&p.session, Some(&f.csrf))?;
    let now = state.db.now();
    let wa = rp.get()?;
    if let Err(e) = passkey::finish_staff_verify(
        &state.db,
        &wa,
        p.session.user.id,
        &f.ceremony,
        &f.credential,
        now,
    )
    .await
    {
        return json_invalid(&p.ctx, e);
    }
    staff::passkey_second_factor(&state.db, &state.config.security, &p.session, &p.token).await?;
    Ok(axum::Json(serde_json::json!({ "redirect": safe_admin_next(&f.next) })).into_response())
}
