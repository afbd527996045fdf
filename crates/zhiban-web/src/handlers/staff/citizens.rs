//! Counter verification (`/admin/citizens`, 窗口核验): find a person by phone
//! (audited) and raise a verified person to real-name level 3.

use crate::error::AppError;
use crate::extract::Csrf;
use crate::extract::Staff;
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::{error_message, render};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::identity::citizen;
use zhiban_domain::identity::citizen::Citizen;
use zhiban_domain::{DomainError, FieldError};

#[derive(Template)]
#[template(path = "staff/citizens/citizens.html")]
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
}

pub async fn counter_verify(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(f)): Csrf<Form<CounterForm>>,
) -> Result<Response, AppError> {
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
