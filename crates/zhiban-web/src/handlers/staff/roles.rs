//! Roles (`/admin/roles…`): permissions grouped into roles.

use crate::error::AppError;
use crate::extract::{Csrf, Staff};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{error_message, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use zhiban_domain::identity::roles::{Role, RoleInput};
use zhiban_domain::identity::{Perm, roles};
use zhiban_domain::{DomainError, FieldError};

#[derive(Template)]
#[template(path = "staff/roles/list.html")]
pub struct RoleListPage {
    pub ctx: PageCtx,
    /// Role and its permissions in words.
    pub roles: Vec<(Role, String)>,
}

pub async fn role_list(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    let roles = roles::list_roles(&state.db)
        .await?
        .into_iter()
        .map(|r| {
            let words = r
                .perms
                .iter()
                .map(|p| staff.ctx.perm_label(*p))
                .collect::<Vec<_>>()
                .join("、");
            (r, words)
        })
        .collect();
    render(&RoleListPage {
        ctx: staff.ctx,
        roles,
    })
}

#[derive(Template)]
#[template(path = "staff/roles/edit.html")]
pub struct RoleEditPage {
    pub ctx: PageCtx,
    pub id: Option<i64>,
    pub builtin: bool,
    pub input: RoleInput,
    /// Permission code, label, whether this actor holds it.
    pub perms: Vec<(&'static str, String, bool)>,
    pub errors: Vec<(String, String)>,
}

impl RoleEditPage {
    fn checked(&self, code: &str) -> bool {
        Perm::from_slug(code).is_some_and(|p| self.input.perms.contains(&p))
    }
}

fn role_page(
    staff: Staff,
    id: Option<i64>,
    builtin: bool,
    input: RoleInput,
    errors: &[FieldError],
) -> RoleEditPage {
    let perms = Perm::ALL
        .iter()
        .map(|p| (p.slug(), staff.ctx.perm_label(*p), staff.session.can(*p)))
        .collect();
    RoleEditPage {
        errors: errors
            .iter()
            .map(|e| (e.field.to_string(), error_message(&staff.ctx, e)))
            .collect(),
        ctx: staff.ctx,
        id,
        builtin,
        input,
        perms,
    }
}

pub async fn role_new(staff: Staff) -> Result<Response, AppError> {
    render(&role_page(staff, None, false, RoleInput::default(), &[]))
}

pub async fn role_edit(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let role = roles::list_roles(&state.db)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(AppError::NotFound)?;
    let input = RoleInput {
        code: role.code,
        name: role.name,
        description: role.description,
        perms: role.perms,
    };
    render(&role_page(staff, Some(id), role.builtin, input, &[]))
}

fn role_input(fields: &[(String, String)]) -> RoleInput {
    let mut input = RoleInput::default();
    for (k, v) in fields {
        match k.as_str() {
            "code" => input.code = v.trim().to_string(),
            "name" => input.name = v.clone(),
            "description" => input.description = v.clone(),
            "perm" => {
                if let Some(p) = Perm::from_slug(v) {
                    input.perms.insert(p);
                }
            }
            _ => {}
        }
    }
    input
}

async fn save_role(
    state: &AppState,
    staff: Staff,
    id: Option<i64>,
    fields: Vec<(String, String)>,
) -> Result<Response, AppError> {
    let input = role_input(&fields);
    match roles::save_role(&state.db, &staff.session, id, &input).await {
        Ok(_) => Ok(Redirect::to("/admin/roles").into_response()),
        Err(DomainError::Invalid(errors)) => {
            let page = role_page(staff, id, false, input, &errors);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(DomainError::Conflict(zhiban_domain::Conflict::BuiltinRole)) => {
            Err(AppError::Forbidden)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn role_create(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(fields)): Csrf<Form<Vec<(String, String)>>>,
) -> Result<Response, AppError> {
    save_role(&state, staff, None, fields).await
}

pub async fn role_update(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(fields)): Csrf<Form<Vec<(String, String)>>>,
) -> Result<Response, AppError> {
    save_role(&state, staff, Some(id), fields).await
}
