//! The account centre (`/account…`): profile with masked personal data,
//! 实名认证, password, email for notifications, sessions with "sign out
//! everywhere", login history, consents, one-time codes, passkeys, download
//! my data and deleting the account.

use crate::error::AppError;
use crate::extract::Csrf;
use crate::extract::{CitizenUser, NoFields, RelyingParty, USER_COOKIE};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{
    ceremony_json, field_messages, json_invalid, qr_data_url, render, safe_next, typed_twice,
};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use serde::Deserialize;
use zhiban_domain::identity::citizen::{Citizen, Consent, LoginRecord};
use zhiban_domain::identity::{citizen, passkey};
use zhiban_domain::{DomainError, FieldError};

#[derive(Template)]
#[template(path = "citizen/account/account.html")]
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
    /// What was typed into a form that came back with problems.
    pub typed: AccountForm,
    /// 为您推荐: services that fit, each with its reason.
    pub recommendations: Vec<zhiban_domain::recommend::Recommendation>,
    /// Policies pushed because of what the person applied for.
    pub policy_push: Vec<zhiban_domain::recommend::PolicyPush>,
    /// The person turned recommendations off.
    pub recommend_off: bool,
}

impl AccountPage {
    /// Why a policy is pushed, in the page's language.
    fn policy_reason(&self, p: &zhiban_domain::recommend::PolicyPush) -> String {
        self.ctx
            .t("recommend.policy_case")
            .replace("%{year}", &p.year.to_string())
            .replace("%{service}", &p.service_name)
    }

    /// The message for `field`, if it has a problem.
    fn error_for(&self, field: &str) -> Option<&String> {
        self.errors.iter().find(|(k, _)| k == field).map(|(_, m)| m)
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
    typed: AccountForm,
) -> Result<AccountPage, AppError> {
    let citizen = citizen::get(&state.db, user.citizen().id).await?;
    let email = citizen::email(&state.db, citizen.id).await?;
    let sessions = citizen::sessions(&state.db, citizen.id)
        .await?
        .into_iter()
        .map(|s| {
            let current = citizen::is_current(&s.id, &user.token);
            (
                zhiban_domain::time::local_time(s.created_at),
                s.ip,
                s.user_agent,
                current,
            )
        })
        .collect();
    let today = zhiban_domain::time::local_date(state.db.now());
    let recommendations = zhiban_domain::recommend::for_citizen(&state.db, &citizen, today).await?;
    Ok(AccountPage {
        policy_push: zhiban_domain::recommend::policies_for(&state.db, &citizen, &recommendations)
            .await?,
        recommendations,
        recommend_off: zhiban_domain::recommend::is_off(&state.db, &citizen).await?,
        logins: citizen::login_history(&state.db, citizen.id, 20).await?,
        passkeys: passkey::list(&state.db, passkey::Owner::Citizen(citizen.id)).await?,
        consents: citizen::consents(&state.db, citizen.id).await?,
        errors: field_messages(&user.ctx, errors),
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
        typed,
    })
}

pub async fn account(
    State(state): State<AppState>,
    user: CitizenUser,
    Query(q): Query<AccountQuery>,
) -> Result<Response, AppError> {
    render(&account_page(&state, user, q, &[], AccountForm::default()).await?)
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
    /// `off` turns recommendations off, anything else on.
    #[serde(default)]
    pub recommend: String,
}

async fn after(
    state: &AppState,
    user: CitizenUser,
    result: Result<(), DomainError>,
    saved: &str,
    typed: AccountForm,
) -> Result<Response, AppError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/account?saved={saved}")).into_response()),
        Err(DomainError::Invalid(errs)) => {
            // What was typed comes back (passwords excepted).
            let typed = AccountForm {
                current_password: String::new(),
                password: String::new(),
                password_again: String::new(),
                ..typed
            };
            let q = AccountQuery {
                next: typed.next.clone(),
                ..AccountQuery::default()
            };
            let page = account_page(state, user, q, &errs, typed).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn realname(
    State(state): State<AppState>,
    user: CitizenUser,
    Csrf(Form(form)): Csrf<Form<AccountForm>>,
) -> Result<Response, AppError> {
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
    after(&state, user, r, "realname", form).await
}

/// 为您推荐 on or off.
pub async fn recommendations(
    State(state): State<AppState>,
    user: CitizenUser,
    Csrf(Form(form)): Csrf<Form<AccountForm>>,
) -> Result<Response, AppError> {
    let off = form.recommend == "off";
    let r = zhiban_domain::recommend::set_off(&state.db, user.citizen(), off).await;
    after(&state, user, r, "recommend", form).await
}

/// The address case notifications also go to by email.
pub async fn email(
    State(state): State<AppState>,
    user: CitizenUser,
    Csrf(Form(form)): Csrf<Form<AccountForm>>,
) -> Result<Response, AppError> {
    let r = citizen::set_email(&state.db, user.citizen(), &form.email).await;
    after(&state, user, r, "email", form).await
}

pub async fn password(
    State(state): State<AppState>,
    user: CitizenUser,
    Csrf(Form(form)): Csrf<Form<AccountForm>>,
) -> Result<Response, AppError> {
    let r = match typed_twice(&form.password, &form.password_again) {
        Ok(()) => {
            citizen::change_password(
                &state.db,
                user.citizen(),
                &form.current_password,
                &form.password,
            )
            .await
        }
        Err(e) => Err(e),
    };
    after(&state, user, r, "password", form).await
}

pub async fn logout_all(
    State(state): State<AppState>,
    user: CitizenUser,
    jar: CookieJar,
    Csrf(_): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
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
    Csrf(Form(form)): Csrf<Form<AccountForm>>,
) -> Result<Response, AppError> {
    if form.confirm != "1" {
        return after(
            &state,
            user,
            Err(DomainError::Invalid(vec![FieldError::new(
                "confirm", "required", "",
            )])),
            "",
            AccountForm::default(),
        )
        .await;
    }
    match citizen::delete_account(&state.db, user.citizen(), &form.current_password).await {
        Ok(()) => {
            let jar = jar.remove(Cookie::build(USER_COOKIE).path("/").build());
            Ok((jar, Redirect::to("/login?deleted=1")).into_response())
        }
        Err(e) => after(&state, user, Err(e), "", AccountForm::default()).await,
    }
}

#[derive(Template)]
#[template(path = "citizen/account/totp.html")]
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
        (grouped, qr_data_url(&url)?)
    };
    Ok(TotpPage {
        errors: field_messages(&user.ctx, errors),
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
}

pub async fn totp_save(
    State(state): State<AppState>,
    user: CitizenUser,
    Csrf(Form(f)): Csrf<Form<TotpForm>>,
) -> Result<Response, AppError> {
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

fn citizen_holder(c: &Citizen) -> passkey::Holder<'_> {
    passkey::Holder {
        owner: passkey::Owner::Citizen(c.id),
        user_name: &c.phone,
        display_name: &c.phone,
        label: c.label(),
    }
}

pub async fn passkey_register_begin(
    State(state): State<AppState>,
    rp: RelyingParty,
    user: CitizenUser,
    Csrf(_): Csrf<Json<NoFields>>,
) -> Result<Response, AppError> {
    let who = citizen_holder(user.citizen());
    let wa = rp.get()?;
    ceremony_json(
        &user.ctx,
        passkey::begin_registration(&state.db, &wa, &who, state.db.now()).await,
    )
}

#[derive(Debug, Deserialize)]
pub struct PasskeyRegisterFinish {
    pub ceremony: String,
    #[serde(default)]
    pub name: String,
    pub credential: webauthn_rs::prelude::RegisterPublicKeyCredential,
}

pub async fn passkey_register_finish(
    State(state): State<AppState>,
    rp: RelyingParty,
    user: CitizenUser,
    Csrf(Json(f)): Csrf<Json<PasskeyRegisterFinish>>,
) -> Result<Response, AppError> {
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
}

pub async fn passkey_remove(
    State(state): State<AppState>,
    user: CitizenUser,
    Csrf(Form(f)): Csrf<Form<PasskeyRemove>>,
) -> Result<Response, AppError> {
    let c = user.citizen();
    passkey::remove(&state.db, passkey::Owner::Citizen(c.id), &c.label(), f.id).await?;
    Ok(Redirect::to("/account?saved=passkey#passkeys-title").into_response())
}
