//! 征集调查 management (`/admin/consultations…`): drafts for comment and
//! surveys of units in one's data scope — scheduling, moderating comments,
//! the results with every text answer, the answers as CSV, and the
//! published feedback.

use crate::error::AppError;
use crate::extract::{Csrf, DoneQuery, Staff};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{field_messages, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::DomainError;
use zhiban_domain::catalog::Department;
use zhiban_domain::consultations::manage::{self, ConsultationForm};
use zhiban_domain::consultations::{self, Comment, Consultation, ConsultationKind, Phase, Results};

#[derive(Template)]
#[template(path = "staff/consultations/list.html")]
pub struct ListPage {
    pub ctx: PageCtx,
    pub rows: Vec<Consultation>,
}

pub async fn list(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    render(&ListPage {
        rows: manage::mine(&state.db, &staff.session).await?,
        ctx: staff.ctx,
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EditForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub schema_json: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub opens_at: String,
    #[serde(default)]
    pub closes_at: String,
    #[serde(default)]
    pub anonymous: String,
}

impl EditForm {
    fn domain(&self) -> ConsultationForm {
        ConsultationForm {
            kind: self.kind.clone(),
            title: self.title.clone(),
            summary: self.summary.clone(),
            body: self.body.clone(),
            schema_json: self.schema_json.clone(),
            unit_id: self.unit.trim().parse().ok(),
            opens_at: self.opens_at.clone(),
            closes_at: self.closes_at.clone(),
            anonymous: self.anonymous == "1",
        }
    }

    fn of(c: &Consultation) -> Self {
        let local = PageCtx::datetime_local;
        EditForm {
            kind: c.kind.slug().into(),
            title: c.title.clone(),
            summary: c.summary.clone(),
            body: c.body.clone(),
            schema_json: c.schema_json.clone(),
            unit: c.unit_id.to_string(),
            opens_at: local(c.opens_at),
            closes_at: local(c.closes_at),
            anonymous: if c.anonymous {
                "1".into()
            } else {
                String::new()
            },
        }
    }
}

#[derive(Template)]
#[template(path = "staff/consultations/edit.html")]
pub struct EditPage {
    pub ctx: PageCtx,
    pub id: Option<i64>,
    pub kinds: &'static [ConsultationKind],
    pub units: Vec<Department>,
    pub form: EditForm,
    pub errors: Vec<(String, String)>,
}

impl EditPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("/admin/consultations/{id}/edit"),
            None => "/admin/consultations/new".into(),
        }
    }
}

fn edit_page(
    state: &AppState,
    staff: Staff,
    id: Option<i64>,
    form: EditForm,
    errors: &[zhiban_domain::FieldError],
) -> Result<Response, AppError> {
    let units = staff.units(state);
    render(&EditPage {
        errors: field_messages(&staff.ctx, errors),
        ctx: staff.ctx,
        id,
        kinds: ConsultationKind::ALL,
        units,
        form,
    })
}

pub async fn new_form(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    let form = EditForm {
        kind: "consultation".into(),
        unit: staff
            .session
            .user
            .unit_id
            .map(|u| u.to_string())
            .unwrap_or_default(),
        ..EditForm::default()
    };
    edit_page(&state, staff, None, form, &[])
}

async fn save(
    state: &AppState,
    staff: Staff,
    id: Option<i64>,
    form: EditForm,
) -> Result<Response, AppError> {
    match manage::save(&state.db, &staff.session, id, &form.domain()).await {
        Ok(id) => {
            Ok(Redirect::to(&format!("/admin/consultations/{id}?done=saved")).into_response())
        }
        Err(DomainError::Invalid(errs)) => edit_page(state, staff, id, form, &errs),
        Err(e) => Err(e.into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(form)): Csrf<Form<EditForm>>,
) -> Result<Response, AppError> {
    save(&state, staff, None, form).await
}

pub async fn edit_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let c = manage::for_staff(&state.db, &staff.session, id).await?;
    edit_page(&state, staff, Some(id), EditForm::of(&c), &[])
}

pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(form)): Csrf<Form<EditForm>>,
) -> Result<Response, AppError> {
    save(&state, staff, Some(id), form).await
}

#[derive(Template)]
#[template(path = "staff/consultations/detail.html")]
pub struct DetailPage {
    pub ctx: PageCtx,
    pub c: Consultation,
    pub pending: Vec<Comment>,
    pub shown: Vec<Comment>,
    pub results: Option<Results>,
    pub done: String,
    pub feedback: String,
    pub errors: Vec<(String, String)>,
}

impl DetailPage {
    fn closed(&self) -> bool {
        self.c.phase == Phase::Closed
    }
}

async fn detail_page(
    state: &AppState,
    staff: Staff,
    id: i64,
    done: String,
    feedback: Option<String>,
    errors: &[zhiban_domain::FieldError],
) -> Result<Response, AppError> {
    let c = manage::for_staff(&state.db, &staff.session, id).await?;
    let results = if c.is_survey() {
        Some(consultations::results(&state.db, id, true).await?)
    } else {
        None
    };
    render(&DetailPage {
        pending: manage::pending_comments(&state.db, &staff.session, id).await?,
        shown: consultations::shown_comments(&state.db, id).await?,
        feedback: feedback.unwrap_or_else(|| c.feedback.clone()),
        errors: field_messages(&staff.ctx, errors),
        ctx: staff.ctx,
        c,
        results,
        done,
    })
}

pub async fn detail(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(done): Query<DoneQuery>,
) -> Result<Response, AppError> {
    detail_page(&state, staff, id, done.done, None, &[]).await
}

#[derive(Debug, Default, Deserialize)]
pub struct ModerateForm {
    #[serde(default)]
    pub comment: i64,
    /// `show` or `decline`.
    #[serde(default)]
    pub action: String,
}

pub async fn moderate(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(form)): Csrf<Form<ModerateForm>>,
) -> Result<Response, AppError> {
    let show = match form.action.as_str() {
        "show" => true,
        "decline" => false,
        _ => return Err(AppError::BadRequest),
    };
    manage::moderate(&state.db, &staff.session, id, form.comment, show).await?;
    Ok(Redirect::to(&format!("/admin/consultations/{id}?done={}", form.action)).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct FeedbackForm {
    #[serde(default)]
    pub feedback: String,
}

pub async fn feedback(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(form)): Csrf<Form<FeedbackForm>>,
) -> Result<Response, AppError> {
    match manage::publish_feedback(&state.db, &staff.session, id, &form.feedback).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/admin/consultations/{id}?done=feedback")).into_response())
        }
        Err(DomainError::Invalid(errs)) => {
            detail_page(&state, staff, id, String::new(), Some(form.feedback), &errs).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Every answer as CSV (nothing about who answered; the export is audited).
pub async fn answers_csv(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let c = manage::for_staff(&state.db, &staff.session, id).await?;
    let body = manage::answers_csv(&state.db, &staff.session, id).await?;
    let name = format!("{}-答卷.csv", c.title.chars().take(30).collect::<String>());
    Ok(crate::view::send_csv(&name, body))
}
