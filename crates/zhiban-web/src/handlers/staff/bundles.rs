//! 一件事 bundles (`/admin/bundles…`): city-level catalog editors define
//! a bundle from catalog items — the questions, the items stage by stage
//! and the answers each item needs — and publish or take it down.

use crate::error::AppError;
use crate::extract::{Csrf, DoneQuery, NoFields, Staff};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{field_messages, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use zhiban_domain::DomainError;
use zhiban_domain::bundles::{self, Bundle, BundleInput};
use zhiban_domain::catalog::{Audience, Status};

#[derive(Template)]
#[template(path = "staff/bundles/list.html")]
pub struct ListPage {
    pub ctx: PageCtx,
    pub rows: Vec<Bundle>,
    pub notice: String,
}

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    render(&ListPage {
        rows: bundles::list(&state.db, false).await?,
        notice: if q.done.is_empty() {
            String::new()
        } else {
            staff.ctx.t(&format!("bundles.done_{}", q.done))
        },
        ctx: staff.ctx,
    })
}

#[derive(Template)]
#[template(path = "staff/bundles/edit.html")]
pub struct EditPage {
    pub ctx: PageCtx,
    /// The code being edited; `None` for a new bundle.
    pub original: Option<String>,
    pub status: Option<Status>,
    pub form: BundleInput,
    pub audiences: &'static [Audience],
    pub errors: Vec<(String, String)>,
}

impl EditPage {
    fn error_for(&self, field: &str) -> Option<String> {
        let found: Vec<&str> = self
            .errors
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect();
        (!found.is_empty()).then(|| found.join("；"))
    }

    fn action(&self) -> String {
        match &self.original {
            Some(code) => format!("/admin/bundles/{code}/edit"),
            None => "/admin/bundles/new".into(),
        }
    }
}

fn input_of(b: &Bundle) -> BundleInput {
    BundleInput {
        code: b.code.clone(),
        name: b.name.clone(),
        summary: b.summary.clone(),
        audience: b.audience.slug().into(),
        questions: bundles::questions_text(&b.questions),
        items: bundles::items_text(&b.items),
        position: b.position.to_string(),
    }
}

fn edit_page(
    staff: Staff,
    original: Option<String>,
    status: Option<Status>,
    form: BundleInput,
    errors: &[zhiban_domain::FieldError],
) -> Result<Response, AppError> {
    let page = EditPage {
        errors: field_messages(&staff.ctx, errors),
        ctx: staff.ctx,
        original,
        status,
        form,
        audiences: Audience::ALL,
    };
    let html = render(&page)?;
    if errors.is_empty() {
        Ok(html)
    } else {
        Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
    }
}

pub async fn new_form(staff: Staff) -> Result<Response, AppError> {
    let form = BundleInput {
        audience: "person".into(),
        ..BundleInput::default()
    };
    edit_page(staff, None, None, form, &[])
}

async fn save(
    state: &AppState,
    staff: Staff,
    original: Option<String>,
    form: BundleInput,
) -> Result<Response, AppError> {
    match bundles::save(&state.db, &staff.session, original.as_deref(), &form).await {
        Ok(_) => Ok(Redirect::to("/admin/bundles?done=saved").into_response()),
        Err(DomainError::Invalid(errs)) => {
            let status = match &original {
                Some(code) => bundles::get(&state.db, code).await.ok().map(|b| b.status),
                None => None,
            };
            edit_page(staff, original, status, form, &errs)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(form)): Csrf<Form<BundleInput>>,
) -> Result<Response, AppError> {
    save(&state, staff, None, form).await
}

pub async fn edit_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let b = bundles::get(&state.db, &code).await?;
    edit_page(
        staff,
        Some(b.code.clone()),
        Some(b.status),
        input_of(&b),
        &[],
    )
}

pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Csrf(Form(form)): Csrf<Form<BundleInput>>,
) -> Result<Response, AppError> {
    save(&state, staff, Some(code), form).await
}

async fn set_status(
    state: &AppState,
    staff: Staff,
    code: &str,
    status: Status,
) -> Result<Response, AppError> {
    match bundles::set_status(&state.db, &staff.session, code, status).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/admin/bundles?done={}", status.slug())).into_response())
        }
        Err(DomainError::Invalid(errs)) => {
            let b = bundles::get(&state.db, code).await?;
            edit_page(
                staff,
                Some(b.code.clone()),
                Some(b.status),
                input_of(&b),
                &errs,
            )
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn publish(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Csrf(_): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    set_status(&state, staff, &code, Status::Published).await
}

pub async fn unpublish(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Csrf(_): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    set_status(&state, staff, &code, Status::Draft).await
}
