//! Citizens' sign-in, registration and account centre (个人中心): profile
//! with masked personal data, 实名认证, password, sessions with "sign out
//! everywhere", login history, consent records, download my data, delete
//! my account. Staff read the development SMS outbox here too.

use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use zhiban_domain::identity::citizen::{
    self, Citizen, CitizenSession, Consent, LoginRecord, Registration,
};
use zhiban_domain::identity::ids::{Phone, mask_phone};
use zhiban_domain::identity::sms::{self, Purpose};
use zhiban_domain::identity::staff::LoginError;
use zhiban_domain::{DomainError, FieldError};

use super::admin::error_message;
use super::render;
use super::staff_auth::{ClientInfo, Staff, constant_eq};
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
    fn check_csrf(&self, token: Option<&String>) -> Result<(), AppError> {
        match token {
            Some(t) if constant_eq(t, &self.session.csrf_token) => Ok(()),
            _ => Err(AppError::Forbidden),
        }
    }

    fn citizen(&self) -> &Citizen {
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
        match citizen::session(
            &state.db,
            &state.config.security,
            &token,
            zhiban_domain::now(),
        )
        .await
        {
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
fn form_token(state: &AppState, ctx: &mut PageCtx, jar: CookieJar) -> CookieJar {
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

fn check_form_token(jar: &CookieJar, sent: &str) -> Result<(), AppError> {
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
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    pub next: String,
    #[serde(default)]
    pub method: String,
}

pub async fn login_form(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Result<Response, AppError> {
    let jar = form_token(&state, &mut ctx, jar);
    let page = LoginPage {
        ctx,
        next: safe_next(&q.next),
        method: if q.method == "sms" {
            "sms".into()
        } else {
            "password".into()
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
        Ok((_, token)) => {
            let jar = jar.add(user_cookie(state, token));
            Ok((jar, continue_to(&ctx, &safe_next(&form.next))?).into_response())
        }
        Err(DomainError::Login(e)) => {
            ctx.csrf = form.csrf.clone();
            let page = LoginPage {
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
    let now = zhiban_domain::now();
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
    let now = zhiban_domain::now();
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
        zhiban_domain::now(),
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
            zhiban_domain::now(),
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
    after(&state, user, r, "realname").await
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
    let data = citizen::export_data(&state.db, user.citizen()).await?;
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
