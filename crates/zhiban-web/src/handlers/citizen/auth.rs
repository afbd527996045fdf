//! Citizens signing in (`/login…`: password, SMS code, passkey, scan-to-login
//! with a signed-in phone, the optional one-time code), registering
//! (`/register`), resetting a forgotten password (`/reset`) and signing out.

use crate::error::AppError;
use crate::extract::{
    CitizenUser, ClientInfo, Csrf, Issuer, NoFields, PendingCitizen, RelyingParty, USER_COOKIE,
    form_token, user_cookie,
};
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::{
    ceremony_json, continue_to, error_message, field_messages, json_invalid, qr_data_url, render,
    safe_next, typed_twice,
};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use zhiban_domain::DomainError;
use zhiban_domain::identity::citizen::{Citizen, Registration};
use zhiban_domain::identity::ids::Phone;
use zhiban_domain::identity::sms::Purpose;
use zhiban_domain::identity::staff::LoginError;
use zhiban_domain::identity::{citizen, passkey, qr_login, sms};

#[derive(Template)]
#[template(path = "citizen/auth/login.html")]
pub struct LoginPage {
    pub ctx: PageCtx,
    pub next: String,
    /// "password" or "sms": which form the person was using.
    pub method: String,
    pub phone: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    /// Arrived after resetting the password.
    pub reset: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    pub next: String,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub reset: String,
}

pub async fn login_form(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Result<Response, AppError> {
    let jar = form_token(&state, &mut ctx, jar);
    let page = LoginPage {
        reset: q.reset == "1",
        ctx,
        next: safe_next(&q.next),
        method: match q.method.as_str() {
            "sms" | "passkey" => q.method.clone(),
            _ => "password".into(),
        },
        phone: String::new(),
        notice: None,
        error: None,
    };
    Ok((jar, render(&page)?).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub next: String,
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
}

fn login_error(ctx: &PageCtx, e: &LoginError) -> String {
    match e {
        LoginError::Locked => ctx.t("user.login_locked"),
        _ => ctx.t("user.login_invalid"),
    }
}

async fn finish_login(
    state: &AppState,
    mut ctx: PageCtx,
    jar: CookieJar,
    form: LoginForm,
    method: &str,
    result: Result<(Citizen, String), DomainError>,
) -> Result<Response, AppError> {
    match result {
        Ok((c, token)) => {
            let jar = jar.add(user_cookie(state, token));
            let next = safe_next(&form.next);
            if citizen::totp_enabled(&state.db, c.id).await? {
                let to = format!("/login/verify?next={}", urlencode(&next));
                return Ok((jar, Redirect::to(&to)).into_response());
            }
            Ok((jar, continue_to(&ctx, &next)?).into_response())
        }
        Err(DomainError::Login(e)) => {
            ctx.csrf = form.csrf.clone();
            let page = LoginPage {
                reset: false,
                error: Some(login_error(&ctx, &e)),
                ctx,
                next: safe_next(&form.next),
                method: method.into(),
                phone: form.phone,
                notice: None,
            };
            Ok((StatusCode::UNAUTHORIZED, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn login(
    State(state): State<AppState>,
    ctx: PageCtx,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    Csrf(Form(form)): Csrf<Form<LoginForm>>,
) -> Result<Response, AppError> {
    let now = state.db.now();
    let result = citizen::login_password(
        &state.db,
        &state.config.security,
        &form.phone,
        &form.password,
        &client,
        now,
    )
    .await;
    finish_login(&state, ctx, jar, form, "password", result).await
}

pub async fn login_sms(
    State(state): State<AppState>,
    ctx: PageCtx,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    Csrf(Form(form)): Csrf<Form<LoginForm>>,
) -> Result<Response, AppError> {
    let now = state.db.now();
    let result = citizen::login_sms(
        &state.db,
        &state.config.security,
        &form.phone,
        &form.code,
        &client,
        now,
    )
    .await;
    finish_login(&state, ctx, jar, form, "sms", result).await
}

/// Sends a code (for sign-in or registration) and shows the same page again
/// with the phone filled in and the code field ready.
async fn send_code(
    state: &AppState,
    ctx: &PageCtx,
    phone: &str,
    purpose: Purpose,
) -> Result<Result<String, String>, AppError> {
    let phone = match Phone::parse(phone) {
        Ok(p) => p,
        Err(e) => return Ok(Err(error_message(ctx, &e))),
    };
    match sms::send_code(
        &state.db,
        state.sms.as_ref(),
        &phone,
        purpose,
        state.db.now(),
    )
    .await
    {
        Ok(()) => Ok(Ok(ctx
            .t("user.code_sent")
            .replace("%{phone}", &phone.masked()))),
        Err(DomainError::Invalid(errs)) => Ok(Err(errs
            .iter()
            .map(|e| error_message(ctx, e))
            .collect::<Vec<_>>()
            .join("；"))),
        Err(e) => Err(e.into()),
    }
}

pub async fn login_code(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    Csrf(Form(form)): Csrf<Form<LoginForm>>,
) -> Result<Response, AppError> {
    ctx.csrf = form.csrf.clone();
    let sent = send_code(&state, &ctx, &form.phone, Purpose::Login).await?;
    let (status, notice, error) = match sent {
        Ok(n) => (StatusCode::OK, Some(n), None),
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, None, Some(e)),
    };
    let page = LoginPage {
        reset: false,
        ctx,
        next: safe_next(&form.next),
        method: "sms".into(),
        phone: form.phone,
        notice,
        error,
    };
    Ok((status, render(&page)?).into_response())
}

pub async fn logout(
    State(state): State<AppState>,
    user: CitizenUser,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    Csrf(_): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    citizen::sign_out(&state.db, user.citizen(), &user.token, &client).await?;
    let jar = jar.remove(Cookie::build(USER_COOKIE).path("/").build());
    Ok((jar, Redirect::to("/")).into_response())
}

#[derive(Template)]
#[template(path = "citizen/auth/register.html")]
pub struct RegisterPage {
    pub ctx: PageCtx,
    pub next: String,
    pub phone: String,
    /// The SMS code as typed (kept when something else was wrong).
    pub code: String,
    pub accept_privacy: bool,
    pub notice: Option<String>,
    pub errors: Vec<(String, String)>,
    pub privacy_version: &'static str,
}

impl RegisterPage {
    /// The message for `field`, if it has a problem.
    fn error_for(&self, field: &str) -> Option<&String> {
        self.errors.iter().find(|(k, _)| k == field).map(|(_, m)| m)
    }
}

pub async fn register_form(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Result<Response, AppError> {
    let jar = form_token(&state, &mut ctx, jar);
    let page = RegisterPage {
        ctx,
        next: safe_next(&q.next),
        phone: String::new(),
        code: String::new(),
        accept_privacy: false,
        notice: None,
        errors: Vec::new(),
        privacy_version: citizen::PRIVACY_VERSION,
    };
    Ok((jar, render(&page)?).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_again: String,
    #[serde(default)]
    pub accept_privacy: String,
    #[serde(default)]
    pub next: String,
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
}

pub async fn register_code(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    Csrf(Form(form)): Csrf<Form<RegisterForm>>,
) -> Result<Response, AppError> {
    ctx.csrf = form.csrf.clone();
    let sent = send_code(&state, &ctx, &form.phone, Purpose::Register).await?;
    let (status, notice, errors) = match sent {
        Ok(n) => (StatusCode::OK, Some(n), Vec::new()),
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            vec![("phone".to_string(), e)],
        ),
    };
    let page = RegisterPage {
        ctx,
        next: safe_next(&form.next),
        phone: form.phone,
        code: String::new(),
        accept_privacy: form.accept_privacy == "1",
        notice,
        errors,
        privacy_version: citizen::PRIVACY_VERSION,
    };
    Ok((status, render(&page)?).into_response())
}

pub async fn register(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    Csrf(Form(form)): Csrf<Form<RegisterForm>>,
) -> Result<Response, AppError> {
    ctx.csrf = form.csrf.clone();
    let reg = Registration {
        phone: form.phone.clone(),
        code: form.code.clone(),
        password: form.password.clone(),
        accept_privacy: form.accept_privacy == "1",
    };
    let result = match typed_twice(&form.password, &form.password_again) {
        Ok(()) => {
            citizen::register(
                &state.db,
                &state.config.security,
                &reg,
                &client,
                state.db.now(),
            )
            .await
        }
        // Every problem at once: the rest of the form is checked too.
        Err(DomainError::Invalid(mut errs)) => {
            errs.extend(citizen::registration_problems(&reg));
            Err(DomainError::Invalid(errs))
        }
        Err(e) => Err(e),
    };
    match result {
        Ok((_, token)) => {
            let jar = jar.add(user_cookie(&state, token));
            Ok((
                jar,
                Redirect::to(&format!(
                    "/account?welcome=1&next={}",
                    urlencode(&safe_next(&form.next))
                )),
            )
                .into_response())
        }
        Err(DomainError::Invalid(errs)) => {
            let page = RegisterPage {
                errors: field_messages(&ctx, &errs),
                ctx,
                next: safe_next(&form.next),
                phone: form.phone,
                code: form.code,
                accept_privacy: reg.accept_privacy,
                notice: None,
                privacy_version: citizen::PRIVACY_VERSION,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "citizen/auth/reset.html")]
pub struct ResetPage {
    pub ctx: PageCtx,
    pub phone: String,
    pub notice: Option<String>,
    pub errors: Vec<(String, String)>,
}

pub async fn reset_form(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let jar = form_token(&state, &mut ctx, jar);
    let page = ResetPage {
        ctx,
        phone: String::new(),
        notice: None,
        errors: Vec::new(),
    };
    Ok((jar, render(&page)?).into_response())
}

pub async fn reset_code(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    Csrf(Form(form)): Csrf<Form<RegisterForm>>,
) -> Result<Response, AppError> {
    ctx.csrf = form.csrf.clone();
    // The code goes out whether or not the number is registered.
    let sent = send_code(&state, &ctx, &form.phone, Purpose::ResetPassword).await?;
    let (status, notice, errors) = match sent {
        Ok(n) => (StatusCode::OK, Some(n), Vec::new()),
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            vec![("phone".to_string(), e)],
        ),
    };
    let page = ResetPage {
        ctx,
        phone: form.phone,
        notice,
        errors,
    };
    Ok((status, render(&page)?).into_response())
}

pub async fn reset(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    Csrf(Form(form)): Csrf<Form<RegisterForm>>,
) -> Result<Response, AppError> {
    ctx.csrf = form.csrf.clone();
    let r = match typed_twice(&form.password, &form.password_again) {
        Ok(()) => {
            citizen::reset_password(
                &state.db,
                &form.phone,
                &form.code,
                &form.password,
                state.db.now(),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => Ok(Redirect::to("/login?reset=1").into_response()),
        Err(DomainError::Invalid(errs)) => {
            let page = ResetPage {
                errors: field_messages(&ctx, &errs),
                ctx,
                phone: form.phone,
                notice: None,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "citizen/auth/code_step.html")]
pub struct CodeStepPage {
    pub ctx: PageCtx,
    pub next: String,
    pub error: Option<String>,
}

pub async fn code_step_form(
    mut ctx: PageCtx,
    PendingCitizen(session): PendingCitizen,
    Query(q): Query<LoginQuery>,
) -> Result<Response, AppError> {
    match session {
        Some((s, _)) if s.pending => {
            ctx.csrf = s.csrf_token;
            render(&CodeStepPage {
                ctx,
                next: safe_next(&q.next),
                error: None,
            })
        }
        Some(_) => Ok(Redirect::to(&safe_next(&q.next)).into_response()),
        None => Ok(Redirect::to("/login").into_response()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CodeStepForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub next: String,
}

pub async fn code_step(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    jar: CookieJar,
    PendingCitizen(session): PendingCitizen,
    Csrf(Form(f)): Csrf<Form<CodeStepForm>>,
) -> Result<Response, AppError> {
    let Some((s, token)) = session else {
        return Ok(Redirect::to("/login").into_response());
    };
    let next = safe_next(&f.next);
    match citizen::verify_pending(
        &state.db,
        &state.config.security,
        &token,
        &f.code,
        state.db.now(),
    )
    .await
    {
        // A new session token for the full session.
        Ok(fresh) => Ok((
            jar.add(user_cookie(&state, fresh)),
            continue_to(&ctx, &next)?,
        )
            .into_response()),
        Err(DomainError::Login(e)) => {
            ctx.csrf = s.csrf_token;
            let error = Some(match e {
                LoginError::Locked => ctx.t("user.login_locked"),
                _ => ctx.t("admin.totp_invalid"),
            });
            let page = CodeStepPage { ctx, next, error };
            Ok((StatusCode::UNAUTHORIZED, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PasskeyBegin {
    #[serde(default)]
    pub phone: String,
}

pub async fn passkey_login_begin(
    State(state): State<AppState>,
    rp: RelyingParty,
    ctx: PageCtx,
    Csrf(Json(b)): Csrf<Json<PasskeyBegin>>,
) -> Result<Response, AppError> {
    let wa = rp.get()?;
    ceremony_json(
        &ctx,
        passkey::begin_login(&state.db, &wa, &b.phone, state.db.now()).await,
    )
}

#[derive(Debug, Deserialize)]
pub struct PasskeyLoginFinish {
    pub ceremony: String,
    pub credential: webauthn_rs::prelude::PublicKeyCredential,
    #[serde(default)]
    pub next: String,
}

pub async fn passkey_login_finish(
    State(state): State<AppState>,
    rp: RelyingParty,
    ctx: PageCtx,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    Csrf(Json(f)): Csrf<Json<PasskeyLoginFinish>>,
) -> Result<Response, AppError> {
    let wa = rp.get()?;
    let r = passkey::finish_login(
        &state.db,
        &wa,
        &state.config.security,
        &f.ceremony,
        &f.credential,
        &client,
        state.db.now(),
    )
    .await;
    match r {
        Ok((_, token)) => {
            let jar = jar.add(user_cookie(&state, token));
            Ok((
                jar,
                Json(serde_json::json!({ "redirect": safe_next(&f.next) })),
            )
                .into_response())
        }
        Err(e) => json_invalid(&ctx, e),
    }
}

const QR_COOKIE: &str = "zb_qr";

#[derive(Template)]
#[template(path = "citizen/auth/qr.html")]
pub struct QrPage {
    pub ctx: PageCtx,
    pub next: String,
    /// `data:` URL of the QR code.
    pub qr: String,
    /// The address inside the code, also shown as text for a phone's
    /// browser when the camera cannot read the code.
    pub scan_url: String,
    pub expires_in: i64,
}

pub async fn qr_start(
    State(state): State<AppState>,
    Issuer(issuer): Issuer,
    mut ctx: PageCtx,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    Query(q): Query<LoginQuery>,
) -> Result<Response, AppError> {
    let jar = form_token(&state, &mut ctx, jar);
    let started = qr_login::start(&state.db, &client, state.db.now()).await?;
    let scan_url = format!("{issuer}/login/qr/scan?c={}", started.code);
    let page = QrPage {
        ctx,
        next: safe_next(&q.next),
        qr: qr_data_url(&scan_url)?,
        scan_url,
        expires_in: qr_login::TTL_SECS,
    };
    let jar = jar.add(
        Cookie::build((QR_COOKIE, started.secret))
            .path("/login/qr")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(state.config.secure_cookies)
            .build(),
    );
    let mut res = (jar, render(&page)?).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Polled by the desktop page's script: `{"status": "pending" | …}`.
pub async fn qr_status(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let status = match jar.get(QR_COOKIE) {
        Some(c) => qr_login::status(&state.db, c.value(), state.db.now()).await?,
        None => qr_login::Status::Expired,
    };
    let mut res = Json(serde_json::json!({ "status": status.code() })).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[derive(Debug, Default, Deserialize)]
pub struct QrFinishForm {
    #[serde(default)]
    pub next: String,
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
}

/// The desktop continues (by script once approved, or by its button).
pub async fn qr_finish(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    Csrf(Form(form)): Csrf<Form<QrFinishForm>>,
) -> Result<Response, AppError> {
    let now = state.db.now();
    let Some(secret) = jar.get(QR_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(Redirect::to("/login/qr").into_response());
    };
    match qr_login::finish(&state.db, &state.config.security, &secret, &client, now).await? {
        Some((_, token)) => {
            let jar = jar
                .add(user_cookie(&state, token))
                .remove(Cookie::build(QR_COOKIE).path("/login/qr").build());
            Ok((jar, continue_to(&ctx, &safe_next(&form.next))?).into_response())
        }
        None => {
            // Not approved yet, refused or expired: say which, keep the page.
            let status = qr_login::status(&state.db, &secret, now).await?;
            ctx.csrf = form.csrf.clone();
            let page = LoginPage {
                reset: false,
                error: Some(ctx.t(&format!("user.qr_{}", status.code()))),
                ctx,
                next: safe_next(&form.next),
                method: "qr".into(),
                phone: String::new(),
                notice: None,
            };
            Ok((StatusCode::CONFLICT, render(&page)?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "citizen/auth/qr_scan.html")]
pub struct QrScanPage {
    pub ctx: PageCtx,
    pub code: String,
    /// When the desktop asked, and from where.
    pub asked_at: String,
    pub ip: String,
    pub device: String,
    /// pending, approved, denied, used or expired.
    pub status: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ScanQuery {
    #[serde(default)]
    pub c: String,
}

/// The phone (signed in) opens the code's address and sees who asks.
pub async fn qr_scan(
    State(state): State<AppState>,
    user: CitizenUser,
    Query(q): Query<ScanQuery>,
) -> Result<Response, AppError> {
    let Some(req) = qr_login::by_code(&state.db, &q.c).await? else {
        return Err(AppError::NotFound);
    };
    render(&QrScanPage {
        status: req.status_at(state.db.now()).code().into(),
        asked_at: zhiban_domain::time::local_time(req.created_at),
        device: device_summary(&req.user_agent),
        ip: req.ip,
        code: req.code,
        ctx: user.ctx,
    })
}

/// "Chrome · Windows" from a user-agent string, for people to recognise.
fn device_summary(ua: &str) -> String {
    let browser = ["Edg/", "Firefox/", "Chrome/", "Safari/"]
        .iter()
        .find(|b| ua.contains(**b))
        .map_or("浏览器", |b| match *b {
            "Edg/" => "Edge",
            "Firefox/" => "Firefox",
            "Chrome/" => "Chrome",
            _ => "Safari",
        });
    let os = [
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(k, _)| ua.contains(*k))
    .map_or("", |(_, v)| *v);
    if os.is_empty() {
        browser.to_string()
    } else {
        format!("{browser} · {os}")
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ScanAnswer {
    #[serde(default)]
    pub c: String,
    #[serde(default)]
    pub decision: String,
}

pub async fn qr_answer(
    State(state): State<AppState>,
    user: CitizenUser,
    Csrf(Form(f)): Csrf<Form<ScanAnswer>>,
) -> Result<Response, AppError> {
    qr_login::answer(
        &state.db,
        user.citizen(),
        &f.c,
        f.decision == "approve",
        state.db.now(),
    )
    .await?;
    Ok(Redirect::to(&format!("/login/qr/scan?c={}", urlencode(&f.c))).into_response())
}
