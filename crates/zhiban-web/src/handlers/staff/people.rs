//! Staff accounts (`/admin/staff…`): list, create, edit, reset the second
//! factor; always inside the administrator's unit.

use crate::error::AppError;
use crate::extract::{Csrf, NoFields};
use crate::extract::{SavedQuery, Staff, UnitOption, unit_options};
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::{error_message, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::{HashMap, HashSet};
use zhiban_domain::identity::breaks_separation;
use zhiban_domain::identity::roles;
use zhiban_domain::identity::roles::{Role, StaffEntry, StaffInput};
use zhiban_domain::{DomainError, FieldError};

#[derive(Template)]
#[template(path = "staff/people/list.html")]
pub struct StaffListPage {
    pub ctx: PageCtx,
    pub staff: Vec<StaffEntry>,
    pub role_names: HashMap<i64, String>,
    pub saved: String,
    /// Accounts that both read the audit log and administer (三员分立).
    pub mixed: HashSet<i64>,
}

impl StaffListPage {
    fn mixes_duties(&self, s: &StaffEntry) -> bool {
        self.mixed.contains(&s.id)
    }

    fn roles_of(&self, s: &StaffEntry) -> String {
        s.role_ids
            .iter()
            .filter_map(|r| self.role_names.get(r).cloned())
            .collect::<Vec<_>>()
            .join("、")
    }
}

pub async fn staff_list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<SavedQuery>,
) -> Result<Response, AppError> {
    let list = roles::list_staff(&state.db, &staff.session.scope).await?;
    let all_roles = roles::list_roles(&state.db).await?;
    let mixed = list
        .iter()
        .filter(|s| {
            let perms = all_roles
                .iter()
                .filter(|r| s.role_ids.contains(&r.id))
                .flat_map(|r| r.perms.iter().copied())
                .collect();
            breaks_separation(&perms)
        })
        .map(|s| s.id)
        .collect();
    let role_names = all_roles.into_iter().map(|r| (r.id, r.name)).collect();
    render(&StaffListPage {
        ctx: staff.ctx,
        staff: list,
        role_names,
        saved: q.saved,
        mixed,
    })
}

#[derive(Template)]
#[template(path = "staff/people/edit.html")]
pub struct StaffEditPage {
    pub ctx: PageCtx,
    pub id: Option<i64>,
    pub input: StaffInput,
    pub units: Vec<UnitOption>,
    /// Role, whether this actor may grant it, its permissions in words.
    pub roles: Vec<(Role, bool, String)>,
    pub totp_enrolled: bool,
    pub errors: Vec<(String, String)>,
}

async fn staff_page(
    state: &AppState,
    staff: Staff,
    id: Option<i64>,
    input: StaffInput,
    totp_enrolled: bool,
    errors: &[FieldError],
) -> Result<StaffEditPage, AppError> {
    let roles = roles::list_roles(&state.db)
        .await?
        .into_iter()
        .map(|r| {
            let grantable = roles::may_grant(&staff.session, &r, id);
            let words = r
                .perms
                .iter()
                .map(|p| staff.ctx.perm_label(*p))
                .collect::<Vec<_>>()
                .join("、");
            (r, grantable, words)
        })
        .collect();
    Ok(StaffEditPage {
        units: unit_options(state, &staff),
        errors: errors
            .iter()
            .map(|e| (e.field.to_string(), error_message(&staff.ctx, e)))
            .collect(),
        ctx: staff.ctx,
        id,
        input,
        roles,
        totp_enrolled,
    })
}

pub async fn staff_new(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    let input = StaffInput {
        unit_id: staff.session.user.unit_id,
        ..StaffInput::default()
    };
    render(&staff_page(&state, staff, None, input, false, &[]).await?)
}

pub async fn staff_edit(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let s = roles::get_staff(&state.db, &staff.session, id).await?;
    let input = StaffInput {
        username: s.username,
        display_name: s.display_name,
        unit_id: s.unit_id,
        role_ids: s.role_ids,
        disabled: s.disabled,
        allow_concurrent: s.allow_concurrent,
        password: String::new(),
        phone: s.phone,
    };
    render(&staff_page(&state, staff, Some(id), input, s.totp_enrolled, &[]).await?)
}

/// The staff form arrives as repeated `role` fields, so it is read as pairs.
fn staff_input(fields: &[(String, String)]) -> StaffInput {
    let mut input = StaffInput::default();
    for (k, v) in fields {
        match k.as_str() {
            "username" => input.username = v.trim().to_string(),
            "display_name" => input.display_name = v.clone(),
            "unit_id" => input.unit_id = v.parse().ok(),
            "role" => {
                if let Ok(r) = v.parse() {
                    input.role_ids.insert(r);
                }
            }
            "disabled" => input.disabled = v == "1",
            "allow_concurrent" => input.allow_concurrent = v == "1",
            "password" => input.password = v.clone(),
            "phone" => input.phone = v.trim().to_string(),
            _ => {}
        }
    }
    input
}

async fn save_staff(
    state: &AppState,
    staff: Staff,
    id: Option<i64>,
    fields: Vec<(String, String)>,
) -> Result<Response, AppError> {
    let mut input = staff_input(&fields);
    let enrolled = match id {
        Some(id) => {
            let existing = roles::get_staff(&state.db, &staff.session, id).await?;
            input.username = existing.username;
            existing.totp_enrolled
        }
        None => false,
    };
    match roles::save_staff(&state.db, &staff.session, id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/admin/staff?saved={}",
            urlencode(&input.username)
        ))
        .into_response()),
        Err(DomainError::Invalid(errors)) => {
            input.password.clear();
            let page = staff_page(state, staff, id, input, enrolled, &errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn staff_create(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(fields)): Csrf<Form<Vec<(String, String)>>>,
) -> Result<Response, AppError> {
    save_staff(&state, staff, None, fields).await
}

pub async fn staff_update(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(fields)): Csrf<Form<Vec<(String, String)>>>,
) -> Result<Response, AppError> {
    save_staff(&state, staff, Some(id), fields).await
}

pub async fn staff_reset_2fa(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(_): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    roles::reset_second_factor(&state.db, &staff.session, id).await?;
    Ok(Redirect::to(&format!("/admin/staff/{id}")).into_response())
}
