//! My account for staff (`/admin/account`): roles, unit, passkeys.

use crate::error::AppError;
use crate::extract::Csrf;
use crate::extract::{SavedQuery, Staff};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::render;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::BTreeSet;
use zhiban_domain::identity::{Perm, passkey};

#[derive(Template)]
#[template(path = "staff/account/account.html")]
pub struct AccountPage {
    pub ctx: PageCtx,
    pub username: String,
    pub unit: String,
    pub perms: Vec<String>,
    pub totp_enrolled: bool,
    pub passkeys: Vec<passkey::PasskeyInfo>,
    pub saved: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct PasskeyRemoveForm {
    #[serde(default)]
    pub id: i64,
}

pub async fn passkey_remove(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(f)): Csrf<Form<PasskeyRemoveForm>>,
) -> Result<Response, AppError> {
    let u = &staff.session.user;
    passkey::remove(&state.db, passkey::Owner::Staff(u.id), &u.username, f.id).await?;
    Ok(Redirect::to("/admin/account?saved=passkey").into_response())
}

pub async fn account(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<SavedQuery>,
) -> Result<Response, AppError> {
    let s = &staff.session;
    let unit = s
        .user
        .unit_id
        .and_then(|id| {
            state
                .catalog()
                .departments
                .iter()
                .find(|d| d.id == id)
                .map(|d| d.name.clone())
        })
        .unwrap_or_else(|| staff.ctx.t("people.whole_city"));
    let perms: BTreeSet<Perm> = s.perms.clone();
    render(&AccountPage {
        username: s.user.username.clone(),
        unit,
        perms: perms.iter().map(|p| staff.ctx.perm_label(*p)).collect(),
        totp_enrolled: s.totp_enrolled,
        passkeys: passkey::list(&state.db, passkey::Owner::Staff(s.user.id)).await?,
        saved: !q.saved.is_empty(),
        ctx: staff.ctx,
    })
}
