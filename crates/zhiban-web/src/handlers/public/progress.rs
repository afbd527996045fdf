//! Progress lookup by case number and phone (`/progress`), for anyone.

use crate::error::AppError;
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::render;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use zhiban_domain::cases::bundled::{self, BundleCase};
use zhiban_domain::cases::{Case, CaseEvent};
use zhiban_domain::{FieldError, cases};

#[derive(Template)]
#[template(path = "public/progress/progress.html")]
pub struct ProgressPage {
    pub ctx: PageCtx,
    pub number: String,
    pub searched: bool,
    pub found: Option<Case>,
    pub events: Vec<CaseEvent>,
    /// A 一件事 number: the bundle and its items.
    pub bundle: Option<BundleCase>,
    pub errors: Vec<(String, String)>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ProgressForm {
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub phone: String,
}

pub async fn progress_form(
    ctx: PageCtx,
    Query(q): Query<ProgressForm>,
) -> Result<Response, AppError> {
    render(&ProgressPage {
        ctx,
        number: q.number,
        searched: false,
        found: None,
        events: Vec::new(),
        bundle: None,
        errors: Vec::new(),
    })
}

/// Anyone with the number and the phone it was filed with sees the steps
/// (nothing personal beyond the masked name).
pub async fn progress(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<ProgressForm>,
) -> Result<Response, AppError> {
    let mut errors = Vec::new();
    if f.number.trim().is_empty() {
        errors.push(FieldError::new("number", "required", ""));
    }
    if f.phone.trim().is_empty() {
        errors.push(FieldError::new("phone", "required", ""));
    }
    let found = if errors.is_empty() {
        cases::lookup(&state.db, &f.number, &f.phone).await?
    } else {
        None
    };
    let events = match &found {
        Some(c) => cases::events(&state.db, c.id).await?,
        None => Vec::new(),
    };
    let bundle = if errors.is_empty() && found.is_none() {
        bundled::lookup_bundle(&state.db, &f.number, &f.phone).await?
    } else {
        None
    };
    let errors = errors
        .iter()
        .map(|e| {
            (
                format!("p-{}", e.field),
                ctx.t(&format!("progress.err_{}", e.field)),
            )
        })
        .collect();
    render(&ProgressPage {
        ctx,
        number: f.number.trim().to_string(),
        searched: true,
        found,
        events,
        bundle,
        errors,
    })
}
