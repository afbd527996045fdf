//! Staff signing in (`/admin/login…`): the password, then the second factor
//! (TOTP enrolled on first sign-in, or a passkey), the forced password
//! change (`/admin/account/password`) and signing out.

use crate::error::AppError;
use crate::extract::Csrf;
use crate::extract::{
    ClientInfo, NoFields, PendingStaff, RelyingParty, SESSION_COOKIE, detour, form_token, to_login,
};
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::{
    ceremony_json, error_message, json_invalid, qr_data_url, render, safe_admin_next,
};
use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use zhiban_domain::audit::Entry;
use zhiban_domain::identity::staff::{LoginError, StaffSession, Stage};
use zhiban_domain::identity::{passkey, staff, staff_keys, totp};
use zhiban_domain::{DomainError, audit};

fn session_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies)
        .build()
}

#[derive(Template)]
#[template(path = "staff/sign_in/login.html")]
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

pub async fn login_form(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    // Double-submit token: the form's hidden field must match this cookie.
    let jar = form_token(&state, &mut ctx, jar);
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
    Csrf(Form(form)): Csrf<Form<LoginForm>>,
) -> Result<Response, AppError> {
    let now = state.db.now();
    let policy = &state.config.security;
    match staff::login(&state.db, policy, &form.username, &form.password, now).await {
        Ok(user) => {
            let token = staff::start_session(&state.db, policy, &user, &client, now).await?;
            staff_keys::unlock_for_session(&state.db, user.id, &form.password, &token).await?;
            tracing::info!(user = %user.username, "staff password accepted");
            let jar = jar.add(session_cookie(&state, token));
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

#[derive(Template)]
#[template(path = "staff/sign_in/verify.html")]
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
}

pub async fn verify(
    State(state): State<AppState>,
    p: PendingStaff,
    jar: CookieJar,
    Csrf(Form(form)): Csrf<Form<CodeForm>>,
) -> Result<Response, AppError> {
    let next = safe_admin_next(&form.next);
    if p.session.stage == Stage::Full {
        return Ok(Redirect::to(&next).into_response());
    }
    let now = state.db.now();
    let policy = &state.config.security;
    let result = if p.session.totp_enrolled || p.session.passkey_enrolled {
        staff::verify_second_factor(
            &state.db, policy, &p.session, &p.token, &form.code, &p.client, now,
        )
        .await
    } else {
        staff::confirm_enrolment(&state.db, policy, &p.session, &p.token, &form.code, now).await
    };
    match result {
        // A new session token for the full session.
        Ok(token) => {
            Ok((jar.add(session_cookie(&state, token)), Redirect::to(&next)).into_response())
        }
        Err(DomainError::Login(reason)) => {
            let error = Some(login_error(&p.ctx, &reason));
            let page = verify_page(&state, &p, next, error).await?;
            Ok((StatusCode::UNAUTHORIZED, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff/sign_in/password.html")]
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
}

pub async fn change_password(
    State(state): State<AppState>,
    p: PendingStaff,
    Csrf(Form(form)): Csrf<Form<PasswordForm>>,
) -> Result<Response, AppError> {
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
            Ok(()) => {
                // The key made or sealed under the new password serves
                // this session at once.
                staff_keys::unlock_for_session(
                    &state.db,
                    p.session.user.id,
                    &form.password,
                    &p.token,
                )
                .await?;
                return Ok(Redirect::to(&next).into_response());
            }
            Err(DomainError::Invalid(errs)) => {
                errors.extend(errs.iter().map(|e| error_message(&p.ctx, e)));
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

pub async fn logout(
    State(state): State<AppState>,
    p: PendingStaff,
    jar: CookieJar,
    Csrf(_): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
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

fn holder(s: &StaffSession) -> passkey::Holder<'_> {
    passkey::Holder {
        owner: passkey::Owner::Staff(s.user.id),
        user_name: &s.user.username,
        display_name: &s.user.display_name,
        label: s.user.username.clone(),
    }
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
    Csrf(_): Csrf<Json<NoFields>>,
) -> Result<Response, AppError> {
    if !may_add_passkey(&p.session) {
        return Err(AppError::Forbidden);
    }
    let wa = rp.get()?;
    ceremony_json(
        &p.ctx,
        passkey::begin_registration(&state.db, &wa, &holder(&p.session), state.db.now()).await,
    )
}

#[derive(Debug, Deserialize)]
pub struct PasskeyAddFinish {
    pub ceremony: String,
    #[serde(default)]
    pub name: String,
    pub credential: webauthn_rs::prelude::RegisterPublicKeyCredential,
    #[serde(default)]
    pub next: String,
}

pub async fn passkey_add_finish(
    State(state): State<AppState>,
    rp: RelyingParty,
    p: PendingStaff,
    jar: CookieJar,
    Csrf(Json(f)): Csrf<Json<PasskeyAddFinish>>,
) -> Result<Response, AppError> {
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
    if p.session.stage == Stage::Password {
        let token =
            staff::passkey_second_factor(&state.db, &state.config.security, &p.session, &p.token)
                .await?;
        let to = safe_admin_next(&f.next);
        return Ok((
            jar.add(session_cookie(&state, token)),
            axum::Json(serde_json::json!({ "redirect": to })),
        )
            .into_response());
    }
    Ok(
        axum::Json(serde_json::json!({ "redirect": "/admin/account?saved=passkey" }))
            .into_response(),
    )
}

pub async fn passkey_verify_begin(
    State(state): State<AppState>,
    rp: RelyingParty,
    p: PendingStaff,
    Csrf(_): Csrf<Json<NoFields>>,
) -> Result<Response, AppError> {
    let wa = rp.get()?;
    ceremony_json(
        &p.ctx,
        passkey::begin_staff_verify(&state.db, &wa, p.session.user.id, state.db.now()).await,
    )
}

#[derive(Debug, Deserialize)]
pub struct PasskeyVerifyFinish {
    pub ceremony: String,
    pub credential: webauthn_rs::prelude::PublicKeyCredential,
    #[serde(default)]
    pub next: String,
}

pub async fn passkey_verify_finish(
    State(state): State<AppState>,
    rp: RelyingParty,
    p: PendingStaff,
    jar: CookieJar,
    Csrf(Json(f)): Csrf<Json<PasskeyVerifyFinish>>,
) -> Result<Response, AppError> {
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
    let token =
        staff::passkey_second_factor(&state.db, &state.config.security, &p.session, &p.token)
            .await?;
    Ok((
        jar.add(session_cookie(&state, token)),
        axum::Json(serde_json::json!({ "redirect": safe_admin_next(&f.next) })),
    )
        .into_response())
}
