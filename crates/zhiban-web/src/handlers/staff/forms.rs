//! The smart-form editor of an item (`/admin/services/{code}/form`): JSON
//! with a live preview, checked, saved as a draft or published as a version.

use crate::error::AppError;
use crate::extract::Csrf;
use crate::extract::{DoneQuery, Staff};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::form::{Builder, FieldView};
use crate::view::render;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::catalog::ServiceItem;
use zhiban_domain::forms::{FormError, FormSchema, Profile};
use zhiban_domain::{DomainError, forms};

#[derive(Template)]
#[template(path = "staff/forms/form_edit.html")]
pub struct FormEditPage {
    pub ctx: PageCtx,
    pub item: ServiceItem,
    pub text: String,
    pub errors: Vec<String>,
    pub preview: Vec<(String, Vec<FieldView>)>,
    pub versions: Vec<forms::repo::FormVersion>,
    pub in_use: i64,
    pub notice: String,
}

fn preview_of(
    ctx: &PageCtx,
    schema: &FormSchema,
    max_file_mb: u64,
) -> Vec<(String, Vec<FieldView>)> {
    let answers = forms::Answers::new();
    let profile = Profile::default();
    let b = Builder {
        ctx,
        schema,
        answers: &answers,
        errors: &[],
        files: &[],
        profile: &profile,
        max_file_mb,
    };
    schema
        .pages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.title.clone(), b.page(i)))
        .collect()
}

fn schema_errors(ctx: &PageCtx, errs: &[FormError]) -> Vec<String> {
    errs.iter()
        .map(|e| {
            let msg = ctx.t(&format!("forms.err_{}", e.code));
            if e.detail.is_empty() {
                format!("{}：{msg}", e.key)
            } else {
                format!("{}：{msg}（{}）", e.key, e.detail)
            }
        })
        .collect()
}

async fn editable_item(
    state: &AppState,
    staff: &Staff,
    code: &str,
) -> Result<ServiceItem, AppError> {
    // Drafts too: a new item's form is prepared before it is published.
    let item = zhiban_domain::catalog::get_service(&state.db, code).await?;
    if !staff.covers_department(state, &item.department_code) {
        let object = format!("service:{code}");
        zhiban_domain::identity::scope::record_refusal(
            &state.db,
            &staff.session,
            &object,
            "outside_scope",
        )
        .await?;
        return Err(AppError::NotFound);
    }
    Ok(item)
}

async fn form_page(
    state: &AppState,
    staff: &Staff,
    item: ServiceItem,
    text: Option<String>,
    errors: Vec<String>,
    notice: String,
) -> Result<Response, AppError> {
    let versions = forms::repo::versions(&state.db, &item.code).await?;
    let (in_use, current) = forms::repo::current(&state.db, &item).await?;
    let shown = match (&text, versions.iter().find(|v| v.status == "draft")) {
        (Some(t), _) => t.clone(),
        (None, Some(draft)) => draft.schema.to_json(),
        (None, None) => current.to_json(),
    };
    let preview = match FormSchema::from_json(&shown) {
        Ok(s) => preview_of(&staff.ctx, &s, state.config.cases.max_file_mb),
        Err(_) => Vec::new(),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = FormEditPage {
        ctx: staff.ctx.clone(),
        item,
        text: shown,
        errors,
        preview,
        versions,
        in_use,
        notice,
    };
    Ok((status, render(&page)?).into_response())
}

pub async fn form_edit(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let item = editable_item(&state, &staff, &code).await?;
    let notice = if q.done.is_empty() {
        String::new()
    } else {
        staff.ctx.t(&format!("forms.done_{}", q.done))
    };
    form_page(&state, &staff, item, None, Vec::new(), notice).await
}

#[derive(Debug, Default, Deserialize)]
pub struct FormEditForm {
    #[serde(default)]
    pub schema: String,
    #[serde(default)]
    pub go: String,
}

pub async fn form_save(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Csrf(Form(form)): Csrf<Form<FormEditForm>>,
) -> Result<Response, AppError> {
    let item = editable_item(&state, &staff, &code).await?;
    if form.go == "preview" {
        let errors = match FormSchema::from_json(&form.schema) {
            Ok(_) => Vec::new(),
            Err(e) => schema_errors(&staff.ctx, &e),
        };
        return form_page(
            &state,
            &staff,
            item,
            Some(form.schema),
            errors,
            String::new(),
        )
        .await;
    }
    match forms::repo::save_draft(&state.db, &staff.session, &code, &form.schema).await {
        Ok(_) => {}
        Err(DomainError::Form(e)) => {
            let errors = schema_errors(&staff.ctx, &e);
            return form_page(
                &state,
                &staff,
                item,
                Some(form.schema),
                errors,
                String::new(),
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    }
    let done = if form.go == "publish" {
        forms::repo::publish(&state.db, &staff.session, &code).await?;
        "publish"
    } else {
        "save"
    };
    Ok(Redirect::to(&format!("/admin/services/{code}/form?done={done}")).into_response())
}
