//! 一事一评 (`/my/cases/{number}/rate`): the applicant rates a case once
//! its result is reached, sees how a bad rating was dealt with, and may
//! appeal that once.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::cases::{self, Case};
use zhiban_domain::ratings::{self, Rating, Rectification};

use crate::error::AppError;
use crate::extract::{CitizenUser, Csrf, Issuer};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::rating::{RatingForm, Shown};
use crate::view::render;

#[derive(Template)]
#[template(path = "citizen/ratings/rate.html")]
pub struct RatePage {
    pub ctx: PageCtx,
    pub case: Case,
    pub rateable: bool,
    pub rated: Option<(Rating, Option<Rectification>)>,
    pub form: RatingForm,
    pub appeal_errors: Vec<(String, String)>,
    pub notice: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: String,
}

async fn page(
    state: &AppState,
    user: &CitizenUser,
    number: &str,
    shown: Shown,
) -> Result<Response, AppError> {
    let case = cases::for_citizen(&state.db, user.citizen(), number).await?;
    let rated = ratings::of_case(&state.db, case.id).await?;
    let status = shown.status();
    let page = RatePage {
        ctx: user.ctx.clone(),
        rateable: ratings::rateable(&case),
        case,
        rated,
        form: shown.form,
        appeal_errors: shown.appeal_errors,
        notice: shown.notice,
    };
    Ok((status, render(&page)?).into_response())
}

pub async fn rate_form(
    State(state): State<AppState>,
    user: CitizenUser,
    Path(number): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let notice = match q.done.as_str() {
        "rated" | "appealed" => user.ctx.t(&format!("ratings.done_{}", q.done)),
        _ => String::new(),
    };
    page(&state, &user, &number, Shown::notice(notice)).await
}

pub async fn rate(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Path(number): Path<String>,
    Csrf(Form(fields)): Csrf<Form<Vec<(String, String)>>>,
) -> Result<Response, AppError> {
    let form = RatingForm::from_fields(&fields);
    let desk = state.desk(&base);
    match ratings::rate_case(&desk, user.citizen(), &number, &form.input()).await {
        Ok(_) => Ok(Redirect::to(&format!("/my/cases/{number}/rate?done=rated")).into_response()),
        Err(e) => {
            let shown = Shown::refused(&user.ctx, e, Some(form))?;
            page(&state, &user, &number, shown).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AppealForm {
    #[serde(default)]
    pub appeal: String,
}

pub async fn appeal(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Path(number): Path<String>,
    Csrf(Form(form)): Csrf<Form<AppealForm>>,
) -> Result<Response, AppError> {
    let desk = state.desk(&base);
    match ratings::appeal_case(&desk, user.citizen(), &number, &form.appeal).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/my/cases/{number}/rate?done=appealed")).into_response())
        }
        Err(e) => {
            let shown = Shown::refused(&user.ctx, e, None)?;
            page(&state, &user, &number, shown).await
        }
    }
}
