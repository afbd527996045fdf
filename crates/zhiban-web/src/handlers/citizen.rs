//! Citizens' sign-in, registration and account centre (个人中心): profile
//! with masked personal data, 实名认证, password, sessions with "sign out
//! everywhere", login history, consent records, download my data, delete
//! my account. Staff read the development SMS outbox here too.

use askama::Template;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use zhiban_domain::identity::citizen::{
    self, Citizen, CitizenSession, Consent, LoginRecord, Registration,
};
use zhiban_domain::identity::ids::{Phone, mask_phone};
use zhiban_domain::identity::sms::{self, Purpose};
use zhiban_domain::identity::staff::LoginError;
use zhiban_domain::identity::{company, passkey, qr_login};
use zhiban_domain::{DomainError, FieldError};

use super::admin::error_message;
use super::oidc::{Issuer, RelyingParty};
use super::staff_auth::{ClientInfo, Staff, constant_eq};
use super::{json_invalid, render};
use crate::ctx::{PageCtx, urlencode};
use crate::error::AppError;
use crate::state::AppState;

pub const USER_COOKIE: &str = "zb_user";
const FORM_CSRF_COOKIE: &str = "zb_form_csrf";

/// Only same-site paths: never an open redirect.
fn safe_next(next: &str) -> String {
    if next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.starts_with("/admin")
    {
        next.to_string()
    } else {
        "/account".into()
    }
}

/// A signed-in citizen. Pages that take it send everyone else to sign in.
pub struct CitizenUser {
    pub session: CitizenSession,
    pub token: String,
    pub ctx: PageCtx,
}

impl CitizenUser {
    pub(crate) fn check_csrf(&self, token: Option<&String>) -> Result<(), AppError> {
        match token {
            Some(t) if constant_eq(t, &self.session.csrf_token) => Ok(()),
            _ => Err(AppError::Forbidden),
        }
    }

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

fn user_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build((USER_COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .build()
}

/// A double-submit token for the sign-in and registration forms.
pub(crate) fn form_token(state: &AppState, ctx: &mut PageCtx, jar: CookieJar) -> CookieJar {
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

pub(crate) fn check_form_token(jar: &CookieJar, sent: &str) -> Result<(), AppError> {
    match jar.get(FORM_CSRF_COOKIE) {
        Some(c) if !sent.is_empty() && constant_eq(c.value(), sent) => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

fn messages(ctx: &PageCtx, errors: &[FieldError]) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|e| (e.field.to_string(), error_message(ctx, e)))
        .collect()
}

// ---------------------------------------------------------------- sign-in

#[derive(Template)]
#[template(path = "user_login.html")]
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
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    check_form_token(&jar, &form.csrf)?;
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
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    check_form_token(&jar, &form.csrf)?;
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
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    check_form_token(&jar, &form.csrf)?;
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
    Form(form): Form<super::admin::CsrfForm>,
) -> Result<Response, AppError> {
    user.check_csrf(form.csrf.as_ref())?;
    citizen::end_session(&state.db, &user.token).await?;
    let jar = jar.remove(Cookie::build(USER_COOKIE).path("/").build());
    Ok((jar, Redirect::to("/")).into_response())
}

#[derive(Template)]
#[template(path = "user_continue.html")]
pub struct ContinuePage {
    pub ctx: PageCtx,
    pub next: String,
}

/// After signing in: straight on, except back to another application
/// (`/oidc/…`), where a page with a link breaks the form-submission chain
/// (the CSP `form-action` rule would block a redirect chain to another site).
fn continue_to(ctx: &PageCtx, next: &str) -> Result<Response, AppError> {
    if next.starts_with("/oidc/") {
        render(&ContinuePage {
            ctx: ctx.clone(),
            next: next.to_string(),
        })
    } else {
        Ok(Redirect::to(next).into_response())
    }
}

// ---------------------------------------------------------------- registration

#[derive(Template)]
#[template(path = "user_register.html")]
pub struct RegisterPage {
    pub ctx: PageCtx,
    pub next: String,
    pub phone: String,
    pub accept_privacy: bool,
    pub notice: Option<String>,
    pub errors: Vec<(String, String)>,
    pub privacy_version: &'static str,
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
    jar: CookieJar,
    Form(form): Form<RegisterForm>,
) -> Result<Response, AppError> {
    check_form_token(&jar, &form.csrf)?;
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
    Form(form): Form<RegisterForm>,
) -> Result<Response, AppError> {
    check_form_token(&jar, &form.csrf)?;
    ctx.csrf = form.csrf.clone();
    let reg = Registration {
        phone: form.phone.clone(),
        code: form.code.clone(),
        password: form.password.clone(),
        accept_privacy: form.accept_privacy == "1",
    };
    let result = if form.password != form.password_again {
        Err(DomainError::Invalid(vec![FieldError::new(
            "password_again",
            "password_mismatch",
            "",
        )]))
    } else {
        citizen::register(
            &state.db,
            &state.config.security,
            &reg,
            &client,
            state.db.now(),
        )
        .await
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
                errors: messages(&ctx, &errs),
                ctx,
                next: safe_next(&form.next),
                phone: form.phone,
                accept_privacy: reg.accept_privacy,
                notice: None,
                privacy_version: citizen::PRIVACY_VERSION,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- forgotten password

#[derive(Template)]
#[template(path = "user_reset.html")]
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
    jar: CookieJar,
    Form(form): Form<RegisterForm>,
) -> Result<Response, AppError> {
    check_form_token(&jar, &form.csrf)?;
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
    jar: CookieJar,
    Form(form): Form<RegisterForm>,
) -> Result<Response, AppError> {
    check_form_token(&jar, &form.csrf)?;
    ctx.csrf = form.csrf.clone();
    let r = if form.password != form.password_again {
        Err(DomainError::Invalid(vec![FieldError::new(
            "password_again",
            "password_mismatch",
            "",
        )]))
    } else {
        citizen::reset_password(
            &state.db,
            &form.phone,
            &form.code,
            &form.password,
            state.db.now(),
        )
        .await
    };
    match r {
        Ok(()) => Ok(Redirect::to("/login?reset=1").into_response()),
        Err(DomainError::Invalid(errs)) => {
            let page = ResetPage {
                errors: messages(&ctx, &errs),
                ctx,
                phone: form.phone,
                notice: None,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- account centre

#[derive(Template)]
#[template(path = "user_account.html")]
pub struct AccountPage {
    pub ctx: PageCtx,
    pub me: Citizen,
    pub welcome: bool,
    pub next: String,
    pub saved: String,
    pub errors: Vec<(String, String)>,
    /// (when, where, device, is this one)
    pub sessions: Vec<(String, String, String, bool)>,
    pub logins: Vec<LoginRecord>,
    pub consents: Vec<Consent>,
    pub verifier: &'static str,
    pub passkeys: Vec<passkey::PasskeyInfo>,
    /// Where case notifications also go by email.
    pub email: String,
}

impl AccountPage {
    fn when(&self, at: &i64) -> String {
        super::people::local_time(*at)
    }

    fn consent_label(&self, c: &Consent) -> String {
        match c.purpose.strip_prefix("oidc:") {
            Some(client) => format!("{} {client}", self.ctx.t("user.consent_oidc")),
            None => self.ctx.t(&format!("user.consent_{}", c.purpose)),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AccountQuery {
    #[serde(default)]
    pub welcome: String,
    #[serde(default)]
    pub next: String,
    #[serde(default)]
    pub saved: String,
}

async fn account_page(
    state: &AppState,
    user: CitizenUser,
    q: AccountQuery,
    errors: &[FieldError],
) -> Result<AccountPage, AppError> {
    let citizen = citizen::get(&state.db, user.citizen().id).await?;
    let email = citizen::email(&state.db, citizen.id).await?;
    let sessions = citizen::sessions(&state.db, citizen.id)
        .await?
        .into_iter()
        .map(|s| {
            let current = citizen::is_current(&s.id, &user.token);
            (
                super::people::local_time(s.created_at),
                s.ip,
                s.user_agent,
                current,
            )
        })
        .collect();
    Ok(AccountPage {
        logins: citizen::login_history(&state.db, citizen.id, 20).await?,
        passkeys: passkey::list(&state.db, passkey::Owner::Citizen(citizen.id)).await?,
        consents: citizen::consents(&state.db, citizen.id).await?,
        errors: messages(&user.ctx, errors),
        ctx: user.ctx,
        me: citizen,
        welcome: q.welcome == "1",
        next: if q.next.is_empty() {
            String::new()
        } else {
            safe_next(&q.next)
        },
        saved: q.saved,
        sessions,
        verifier: state.id_verifier.name(),
        email,
    })
}

pub async fn account(
    State(state): State<AppState>,
    user: CitizenUser,
    Query(q): Query<AccountQuery>,
) -> Result<Response, AppError> {
    render(&account_page(&state, user, q, &[]).await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_again: String,
    #[serde(default)]
    pub confirm: String,
    /// Where to go once verified (a service that needs the level).
    #[serde(default)]
    pub next: String,
    #[serde(default)]
    pub email: String,
    #[serde(default, rename = "_csrf")]
    pub csrf: Option<String>,
}

async fn after(
    state: &AppState,
    user: CitizenUser,
    result: Result<(), DomainError>,
    saved: &str,
) -> Result<Response, AppError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/account?saved={saved}")).into_response()),
        Err(DomainError::Invalid(errs)) => {
            let page = account_page(state, user, AccountQuery::default(), &errs).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn realname(
    State(state): State<AppState>,
    user: CitizenUser,
    Form(form): Form<AccountForm>,
) -> Result<Response, AppError> {
    user.check_csrf(form.csrf.as_ref())?;
    let r = citizen::verify_real_name(
        &state.db,
        state.id_verifier.as_ref(),
        user.citizen(),
        &form.name,
        &form.id_number,
    )
    .await;
    if r.is_ok() && !form.next.trim().is_empty() {
        return Ok(Redirect::to(&safe_next(form.next.trim())).into_response());
    }
    after(&state, user, r, "realname").await
}

/// The address case notifications also go to by email.
pub async fn email(
    State(state): State<AppState>,
    user: CitizenUser,
    Form(form): Form<AccountForm>,
) -> Result<Response, AppError> {
    user.check_csrf(form.csrf.as_ref())?;
    let r = citizen::set_email(&state.db, user.citizen(), &form.email).await;
    after(&state, user, r, "email").await
}

pub async fn password(
    State(state): State<AppState>,
    user: CitizenUser,
    Form(form): Form<AccountForm>,
) -> Result<Response, AppError> {
    user.check_csrf(form.csrf.as_ref())?;
    let r = if form.password != form.password_again {
        Err(DomainError::Invalid(vec![FieldError::new(
            "password_again",
            "password_mismatch",
            "",
        )]))
    } else {
        citizen::change_password(
            &state.db,
            user.citizen(),
            &form.current_password,
            &form.password,
        )
        .await
    };
    after(&state, user, r, "password").await
}

pub async fn logout_all(
    State(state): State<AppState>,
    user: CitizenUser,
    jar: CookieJar,
    Form(form): Form<AccountForm>,
) -> Result<Response, AppError> {
    user.check_csrf(form.csrf.as_ref())?;
    citizen::end_all_sessions(&state.db, user.citizen()).await?;
    let jar = jar.remove(Cookie::build(USER_COOKIE).path("/").build());
    Ok((jar, Redirect::to("/login?signed_out=all")).into_response())
}

pub async fn download(
    State(state): State<AppState>,
    user: CitizenUser,
) -> Result<Response, AppError> {
    let data = zhiban_domain::privacy::export(&state.db, user.citizen()).await?;
    let body = serde_json::to_vec_pretty(&data).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"my-data.json\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

pub async fn delete(
    State(state): State<AppState>,
    user: CitizenUser,
    jar: CookieJar,
    Form(form): Form<AccountForm>,
) -> Result<Response, AppError> {
    user.check_csrf(form.csrf.as_ref())?;
    if form.confirm != "1" {
        return after(
            &state,
            user,
            Err(DomainError::Invalid(vec![FieldError::new(
                "confirm", "required", "",
            )])),
            "",
        )
        .await;
    }
    match citizen::delete_account(&state.db, user.citizen(), &form.current_password).await {
        Ok(()) => {
            let jar = jar.remove(Cookie::build(USER_COOKIE).path("/").build());
            Ok((jar, Redirect::to("/login?deleted=1")).into_response())
        }
        Err(e) => after(&state, user, Err(e), "").await,
    }
}

// ---------------------------------------------------------------- scan-to-login

const QR_COOKIE: &str = "zb_qr";

#[derive(Template)]
#[template(path = "user_qr.html")]
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
        qr: super::staff_auth::qr_data_url(&scan_url)?,
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
    Form(form): Form<QrFinishForm>,
) -> Result<Response, AppError> {
    check_form_token(&jar, &form.csrf)?;
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
#[template(path = "user_qr_scan.html")]
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
        asked_at: super::people::local_time(req.created_at),
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
    #[serde(default, rename = "_csrf")]
    pub csrf: Option<String>,
}

pub async fn qr_answer(
    State(state): State<AppState>,
    user: CitizenUser,
    Form(f): Form<ScanAnswer>,
) -> Result<Response, AppError> {
    user.check_csrf(f.csrf.as_ref())?;
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

// ---------------------------------------------------------------- companies

#[derive(Template)]
#[template(path = "user_companies.html")]
pub struct CompaniesPage {
    pub ctx: PageCtx,
    pub me: Citizen,
    /// Company, represented (true) or agent, its agents when represented.
    pub companies: Vec<(company::Membership, Vec<company::Agent>)>,
    pub errors: Vec<(String, String)>,
    pub saved: String,
    pub form_uscc: String,
    pub form_name: String,
}

impl CompaniesPage {
    fn when(&self, at: &i64) -> String {
        super::people::local_time(*at)
    }
}

async fn companies_page(
    state: &AppState,
    user: CitizenUser,
    saved: String,
    errors: &[FieldError],
    form: (String, String),
) -> Result<CompaniesPage, AppError> {
    let me = citizen::get(&state.db, user.citizen().id).await?;
    let mut companies = Vec::new();
    for m in company::memberships(&state.db, me.id).await? {
        let agents = if m.legal_rep {
            company::agents(&state.db, &me, m.company.id).await?
        } else {
            Vec::new()
        };
        companies.push((m, agents));
    }
    Ok(CompaniesPage {
        errors: messages(&user.ctx, errors),
        ctx: user.ctx,
        me,
        companies,
        saved,
        form_uscc: form.0,
        form_name: form.1,
    })
}

pub async fn companies(
    State(state): State<AppState>,
    user: CitizenUser,
    Query(q): Query<AccountQuery>,
) -> Result<Response, AppError> {
    render(&companies_page(&state, user, q.saved, &[], (String::new(), String::new())).await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct CompanyForm {
    #[serde(default)]
    pub uscc: String,
    #[serde(default)]
    pub company_name: String,
    #[serde(default)]
    pub company_id: i64,
    #[serde(default)]
    pub agent_phone: String,
    #[serde(default)]
    pub agent_id: i64,
    #[serde(default, rename = "_csrf")]
    pub csrf: Option<String>,
}

async fn company_result(
    state: &AppState,
    user: CitizenUser,
    r: Result<(), DomainError>,
    form: (String, String),
) -> Result<Response, AppError> {
    match r {
        Ok(()) => Ok(Redirect::to("/account/companies?saved=1").into_response()),
        Err(DomainError::Invalid(errs)) => {
            let page = companies_page(state, user, String::new(), &errs, form).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn company_register(
    State(state): State<AppState>,
    user: CitizenUser,
    Form(f): Form<CompanyForm>,
) -> Result<Response, AppError> {
    user.check_csrf(f.csrf.as_ref())?;
    let me = citizen::get(&state.db, user.citizen().id).await?;
    let r = company::register(
        &state.db,
        state.company_verifier.as_ref(),
        &me,
        &f.uscc,
        &f.company_name,
    )
    .await
    .map(|_| ());
    company_result(&state, user, r, (f.uscc, f.company_name)).await
}

pub async fn company_agent_add(
    State(state): State<AppState>,
    user: CitizenUser,
    Form(f): Form<CompanyForm>,
) -> Result<Response, AppError> {
    user.check_csrf(f.csrf.as_ref())?;
    let r = company::add_agent(&state.db, user.citizen(), f.company_id, &f.agent_phone).await;
    company_result(&state, user, r, (String::new(), String::new())).await
}

pub async fn company_agent_revoke(
    State(state): State<AppState>,
    user: CitizenUser,
    Form(f): Form<CompanyForm>,
) -> Result<Response, AppError> {
    user.check_csrf(f.csrf.as_ref())?;
    let r = company::revoke_agent(&state.db, user.citizen(), f.company_id, f.agent_id).await;
    company_result(&state, user, r, (String::new(), String::new())).await
}

// ---------------------------------------------------------------- staff: SMS outbox

#[derive(Template)]
#[template(path = "admin/sms.html")]
pub struct OutboxPage {
    pub ctx: PageCtx,
    /// (time, masked phone, body, gateway)
    pub rows: Vec<(String, String, String, String)>,
}

pub async fn sms_outbox(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    let rows = sms::outbox(&state.db, 200)
        .await?
        .into_iter()
        .map(|m| {
            (
                super::people::local_time(m.created_at),
                mask_phone(&m.phone),
                m.body,
                m.gateway,
            )
        })
        .collect();
    render(&OutboxPage {
        ctx: staff.ctx,
        rows,
    })
}

// ---------------------------------------------------------------- staff: counter verification (L3)

#[derive(Template)]
#[template(path = "admin/citizens.html")]
pub struct CounterPage {
    pub ctx: PageCtx,
    pub phone: String,
    pub searched: bool,
    pub found: Option<Citizen>,
    pub errors: Vec<String>,
    pub verified: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct CounterQuery {
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub verified: String,
}

async fn counter_page(
    state: &AppState,
    staff: Staff,
    phone: String,
    errors: Vec<String>,
    verified: bool,
) -> Result<CounterPage, AppError> {
    let mut errors = errors;
    let (searched, found) = if phone.trim().is_empty() {
        (false, None)
    } else {
        match citizen::lookup_by_phone(&state.db, &staff.session.user.username, &phone).await {
            Ok(found) => (true, found),
            Err(DomainError::Invalid(errs)) => {
                errors.extend(errs.iter().map(|e| error_message(&staff.ctx, e)));
                (false, None)
            }
            Err(e) => return Err(e.into()),
        }
    };
    Ok(CounterPage {
        ctx: staff.ctx,
        phone,
        searched,
        found,
        errors,
        verified,
    })
}

/// 窗口核验: find a person by phone (the lookup is audited).
pub async fn counter(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<CounterQuery>,
) -> Result<Response, AppError> {
    render(&counter_page(&state, staff, q.phone, Vec::new(), q.verified == "1").await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct CounterForm {
    #[serde(default)]
    pub citizen_id: i64,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub seen: String,
    #[serde(default, rename = "_csrf")]
    pub csrf: Option<String>,
}

pub async fn counter_verify(
    State(state): State<AppState>,
    staff: Staff,
    Form(f): Form<CounterForm>,
) -> Result<Response, AppError> {
    staff.check_csrf(f.csrf.as_ref())?;
    let r = if f.seen == "1" {
        citizen::counter_verify(
            &state.db,
            &staff.session.user.username,
            f.citizen_id,
            &f.id_number,
        )
        .await
    } else {
        Err(DomainError::Invalid(vec![FieldError::new(
            "seen", "required", "",
        )]))
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!(
            "/admin/citizens?phone={}&verified=1",
            urlencode(&f.phone)
        ))
        .into_response()),
        Err(DomainError::Invalid(errs)) => {
            let errors = errs.iter().map(|e| error_message(&staff.ctx, e)).collect();
            let page = counter_page(&state, staff, f.phone, errors, false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- passkeys

fn citizen_holder(c: &Citizen) -> passkey::Holder<'_> {
    passkey::Holder {
        owner: passkey::Owner::Citizen(c.id),
        user_name: &c.phone,
        display_name: &c.phone,
        label: c.label(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PasskeyBegin {
    #[serde(default)]
    pub phone: String,
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
}

pub async fn passkey_register_begin(
    State(state): State<AppState>,
    rp: RelyingParty,
    user: CitizenUser,
    Json(b): Json<PasskeyBegin>,
) -> Result<Response, AppError> {
    user.check_csrf(Some(&b.csrf))?;
    let who = citizen_holder(user.citizen());
    let wa = rp.get()?;
    match passkey::begin_registration(&state.db, &wa, &who, state.db.now()).await {
        Ok((ceremony, options)) => Ok(Json(
            serde_json::json!({ "ceremony": ceremony, "options": options }),
        )
        .into_response()),
        Err(e) => json_invalid(&user.ctx, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct PasskeyRegisterFinish {
    pub ceremony: String,
    #[serde(default)]
    pub name: String,
    pub credential: webauthn_rs::prelude::RegisterPublicKeyCredential,
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
}

pub async fn passkey_register_finish(
    State(state): State<AppState>,
    rp: RelyingParty,
    user: CitizenUser,
    Json(f): Json<PasskeyRegisterFinish>,
) -> Result<Response, AppError> {
    user.check_csrf(Some(&f.csrf))?;
    let who = citizen_holder(user.citizen());
    let wa = rp.get()?;
    match passkey::finish_registration(
        &state.db,
        &wa,
        &who,
        &f.ceremony,
        &f.name,
        &f.credential,
        state.db.now(),
    )
    .await
    {
        Ok(()) => Ok(Json(
            serde_json::json!({ "redirect": "/account?saved=passkey#passkeys-title" }),
        )
        .into_response()),
        Err(e) => json_invalid(&user.ctx, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PasskeyRemove {
    #[serde(default)]
    pub id: i64,
    #[serde(default, rename = "_csrf")]
    pub csrf: Option<String>,
}

pub async fn passkey_remove(
    State(state): State<AppState>,
    user: CitizenUser,
    Form(f): Form<PasskeyRemove>,
) -> Result<Response, AppError> {
    user.check_csrf(f.csrf.as_ref())?;
    let c = user.citizen();
    passkey::remove(&state.db, passkey::Owner::Citizen(c.id), &c.label(), f.id).await?;
    Ok(Redirect::to("/account?saved=passkey#passkeys-title").into_response())
}

pub async fn passkey_login_begin(
    State(state): State<AppState>,
    rp: RelyingParty,
    ctx: PageCtx,
    jar: CookieJar,
    Json(b): Json<PasskeyBegin>,
) -> Result<Response, AppError> {
    check_form_token(&jar, &b.csrf)?;
    let wa = rp.get()?;
    match passkey::begin_login(&state.db, &wa, &b.phone, state.db.now()).await {
        Ok((ceremony, options)) => Ok(Json(
            serde_json::json!({ "ceremony": ceremony, "options": options }),
        )
        .into_response()),
        Err(e) => json_invalid(&ctx, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct PasskeyLoginFinish {
    pub ceremony: String,
    pub credential: webauthn_rs::prelude::PublicKeyCredential,
    #[serde(default)]
    pub next: String,
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
}

pub async fn passkey_login_finish(
    State(state): State<AppState>,
    rp: RelyingParty,
    ctx: PageCtx,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    Json(f): Json<PasskeyLoginFinish>,
) -> Result<Response, AppError> {
    check_form_token(&jar, &f.csrf)?;
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

// ---------------------------------------------------------------- one-time code (optional)

#[derive(Template)]
#[template(path = "user_verify.html")]
pub struct CodeStepPage {
    pub ctx: PageCtx,
    pub next: String,
    pub error: Option<String>,
}

async fn pending_session(
    state: &AppState,
    jar: &CookieJar,
) -> Result<Option<(CitizenSession, String)>, AppError> {
    let Some(token) = jar.get(USER_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    Ok(
        citizen::session(&state.db, &state.config.security, &token, state.db.now())
            .await?
            .map(|s| (s, token)),
    )
}

pub async fn code_step_form(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Result<Response, AppError> {
    match pending_session(&state, &jar).await? {
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
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
}

pub async fn code_step(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    jar: CookieJar,
    Form(f): Form<CodeStepForm>,
) -> Result<Response, AppError> {
    let Some((s, token)) = pending_session(&state, &jar).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !constant_eq(&f.csrf, &s.csrf_token) {
        return Err(AppError::Forbidden);
    }
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
        Ok(()) => continue_to(&ctx, &next),
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

#[derive(Template)]
#[template(path = "user_totp.html")]
pub struct TotpPage {
    pub ctx: PageCtx,
    pub enabled: bool,
    /// While turning it on: the key in groups of four and its QR code.
    pub secret_grouped: String,
    pub qr: String,
    pub errors: Vec<(String, String)>,
}

async fn totp_page(
    state: &AppState,
    user: CitizenUser,
    errors: &[FieldError],
) -> Result<TotpPage, AppError> {
    let enabled = citizen::totp_enabled(&state.db, user.citizen().id).await?;
    let (secret_grouped, qr) = if enabled {
        (String::new(), String::new())
    } else {
        let secret = citizen::begin_totp(&state.db, &user.token).await?;
        let url = zhiban_domain::identity::totp::enrol_url(&secret, &user.citizen().masked_phone())
            .ok_or_else(|| AppError::Internal("totp url".into()))?;
        let grouped = zhiban_domain::identity::totp::grouped(&secret);
        (grouped, super::staff_auth::qr_data_url(&url)?)
    };
    Ok(TotpPage {
        errors: messages(&user.ctx, errors),
        ctx: user.ctx,
        enabled,
        secret_grouped,
        qr,
    })
}

pub async fn totp_form(
    State(state): State<AppState>,
    user: CitizenUser,
) -> Result<Response, AppError> {
    render(&totp_page(&state, user, &[]).await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct TotpForm {
    #[serde(default)]
    pub totp_code: String,
    #[serde(default)]
    pub action: String,
    #[serde(default, rename = "_csrf")]
    pub csrf: Option<String>,
}

pub async fn totp_save(
    State(state): State<AppState>,
    user: CitizenUser,
    Form(f): Form<TotpForm>,
) -> Result<Response, AppError> {
    user.check_csrf(f.csrf.as_ref())?;
    let now = state.db.now();
    let r = if f.action == "off" {
        citizen::disable_totp(&state.db, user.citizen(), &f.totp_code, now).await
    } else {
        citizen::confirm_totp(&state.db, user.citizen(), &user.token, &f.totp_code, now).await
    };
    match r {
        Ok(()) => Ok(Redirect::to("/account?saved=totp").into_response()),
        Err(DomainError::Invalid(errs)) => {
            let page = totp_page(&state, user, &errs).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
