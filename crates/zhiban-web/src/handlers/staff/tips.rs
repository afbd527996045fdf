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
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::DomainError;
use zhiban_domain::tips::{self, Tip, TipRow};

#[derive(Template)]
#[template(path = "staff/tips/list.html")]
pub struct TipsPage {
    pub ctx: PageCtx,
    pub rows: Vec<TipRow>,
}

pub async fn list(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    render(&TipsPage {
        rows: tips::for_unit(&state.db, &staff.session).await?,
        ctx: staff.ctx,
    })
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
