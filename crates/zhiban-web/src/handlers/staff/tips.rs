//! 线索核查 (`/admin/tips…`): the tips sent to this person's unit, each
//! read (and the reading audited) by its handlers only; questions to the
//! reporter and the outcome.

use crate::error::AppError;
use crate::extract::{Csrf, Staff};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{field_messages, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::tips::keys::{Colleague, KeyState};
use zhiban_domain::tips::{self, Tip, TipRow};
use zhiban_domain::{Conflict, DomainError};

#[derive(Template)]
#[template(path = "staff/tips/list.html")]
pub struct TipsPage {
    pub ctx: PageCtx,
    pub rows: Vec<TipRow>,
    /// Where this person stands with the unit's tip key.
    pub key: KeyState,
    /// Colleagues waiting for the key (shown to those who hold it).
    pub waiting: Vec<Colleague>,
    pub granted: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub granted: String,
}

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let (key, waiting) = tips::keys::state(&state.db, &staff.session).await?;
    render(&TipsPage {
        rows: tips::for_unit(&state.db, &staff.session).await?,
        key,
        waiting,
        granted: q.granted == "1",
        ctx: staff.ctx,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    pub colleague: i64,
}

/// A handler who holds the unit's tip key grants it to a colleague.
pub async fn grant(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(form)): Csrf<Form<GrantForm>>,
) -> Result<Response, AppError> {
    tips::keys::grant(&state.db, &staff.session, form.colleague).await?;
    Ok(Redirect::to("/admin/tips?granted=1").into_response())
}

#[derive(Template)]
#[template(path = "staff/tips/tip.html")]
pub struct TipPage {
    pub ctx: PageCtx,
    pub tip: Tip,
    pub errors: Vec<(String, String)>,
}

pub async fn detail(
    State(state): State<AppState>,
    staff: Staff,
    Path(receipt): Path<String>,
) -> Result<Response, AppError> {
    render(&TipPage {
        tip: tips::for_staff(&state.db, &staff.session, &receipt).await?,
        errors: Vec::new(),
        ctx: staff.ctx,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct MessageForm {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub close: String,
}

pub async fn message(
    State(state): State<AppState>,
    staff: Staff,
    Path(receipt): Path<String>,
    Csrf(Form(form)): Csrf<Form<MessageForm>>,
) -> Result<Response, AppError> {
    let close = form.close == "1";
    match tips::unit_says(&state.db, &staff.session, &receipt, &form.message, close).await {
        Ok(t) => Ok(Redirect::to(&format!("/admin/tips/{}", t.receipt)).into_response()),
        Err(DomainError::Invalid(errs)) => render(&TipPage {
            tip: tips::for_staff(&state.db, &staff.session, &receipt).await?,
            errors: field_messages(&staff.ctx, &errs),
            ctx: staff.ctx,
        }),
        Err(e) => Err(e.into()),
    }
}

/// A file sent with the tip, decrypted for the unit's tip handlers (the
/// reading of the tip and of the file are both audited).
pub async fn file(
    State(state): State<AppState>,
    staff: Staff,
    Path((receipt, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let tip = tips::for_staff(&state.db, &staff.session, &receipt).await?;
    let (f, body) = tips::files::open_for_staff(&state.db, &staff.session, &tip, id).await?;
    Ok(crate::view::send_private(
        &f.file_name,
        &f.content_type,
        body,
    ))
}
