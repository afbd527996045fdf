//! Open311 API keys (`/admin/open311`): issue a key to another system
//! (shown once), see when each was last used, revoke one.

use crate::error::AppError;
use crate::extract::{Csrf, Issuer, Staff};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{field_messages, render, shown_once};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::DomainError;
use zhiban_domain::requests::open311::{self, ApiKey};

#[derive(Template)]
#[template(path = "staff/open311/keys.html")]
pub struct KeysPage {
    pub ctx: PageCtx,
    pub keys: Vec<ApiKey>,
    pub base: String,
    pub name: String,
    /// The new key's secret, shown once.
    pub issued: Option<String>,
    pub errors: Vec<(String, String)>,
    /// Keys are the city's: whole-city accounts issue and revoke them.
    pub editable: bool,
}

pub async fn keys(
    State(state): State<AppState>,
    Issuer(base): Issuer,
    staff: Staff,
) -> Result<Response, AppError> {
    render(&KeysPage {
        keys: open311::keys(&state.db).await?,
        base,
        name: String::new(),
        issued: None,
        errors: Vec::new(),
        editable: staff.session.scope.is_whole(),
        ctx: staff.ctx,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    pub name: String,
}

pub async fn issue(
    State(state): State<AppState>,
    Issuer(base): Issuer,
    staff: Staff,
    Csrf(Form(f)): Csrf<Form<IssueForm>>,
) -> Result<Response, AppError> {
    let (issued, errors, name) =
        match open311::issue_key_by(&state.db, &staff.session, &f.name).await {
            Ok((_, secret)) => (Some(secret), Vec::new(), String::new()),
            Err(DomainError::Invalid(errs)) => (None, field_messages(&staff.ctx, &errs), f.name),
            Err(e) => return Err(e.into()),
        };
    shown_once(render(&KeysPage {
        keys: open311::keys(&state.db).await?,
        base,
        name,
        issued,
        errors,
        editable: true,
        ctx: staff.ctx,
    }))
}

#[derive(Debug, Default, Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    pub id: i64,
}

pub async fn revoke(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(f)): Csrf<Form<RevokeForm>>,
) -> Result<Response, AppError> {
    open311::revoke_key(&state.db, &staff.session, f.id).await?;
    Ok(Redirect::to("/admin/open311").into_response())
}
