//! The org tree (`/admin/org`): units inside one's scope, added and corrected.

use crate::error::AppError;
use crate::extract::Csrf;
use crate::extract::Staff;
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{error_message, render};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::HashMap;
use zhiban_domain::identity::{org, roles};
use zhiban_domain::{DomainError, FieldError};

#[derive(Template)]
#[template(path = "staff/org/org.html")]
pub struct OrgPage {
    pub ctx: PageCtx,
    /// Unit, indentation depth, staff count, inside the actor's scope.
    pub units: Vec<(zhiban_domain::catalog::Department, usize, usize, bool)>,
    pub input: org::UnitInput,
    /// The unit being edited, if any.
    pub editing: Option<i64>,
    pub errors: Vec<(String, String)>,
    pub saved: bool,
    pub levels: &'static [&'static str],
}

impl OrgPage {
    fn indent(&self, depth: &usize) -> String {
        "　".repeat(*depth)
    }
    fn is_parent(&self, id: &i64) -> bool {
        self.input.parent_id == Some(*id)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct OrgQuery {
    #[serde(default)]
    pub edit: Option<i64>,
    #[serde(default)]
    pub saved: String,
}

async fn org_page(
    state: &AppState,
    staff: Staff,
    input: org::UnitInput,
    editing: Option<i64>,
    errors: &[FieldError],
    saved: bool,
) -> Result<OrgPage, AppError> {
    let counts: HashMap<i64, usize> =
        roles::list_staff(&state.db, &zhiban_domain::identity::Scope::All)
            .await?
            .into_iter()
            .filter_map(|s| s.unit_id)
            .fold(HashMap::new(), |mut m, u| {
                *m.entry(u).or_default() += 1;
                m
            });
    let units = state
        .catalog()
        .department_tree()
        .into_iter()
        .map(|n| {
            let id = n.dept.id;
            (
                n.dept,
                n.depth,
                counts.get(&id).copied().unwrap_or(0),
                staff.session.scope.covers(id),
            )
        })
        .collect();
    Ok(OrgPage {
        errors: errors
            .iter()
            .map(|e| (e.field.to_string(), error_message(&staff.ctx, e)))
            .collect(),
        ctx: staff.ctx,
        units,
        input,
        editing,
        saved,
        levels: org::LEVELS,
    })
}

pub async fn org_tree(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<OrgQuery>,
) -> Result<Response, AppError> {
    let input = match q.edit {
        Some(id) => {
            let d = state
                .catalog()
                .departments
                .iter()
                .find(|d| d.id == id && staff.session.scope.covers(d.id))
                .cloned()
                .ok_or(AppError::NotFound)?;
            org::UnitInput {
                parent_id: d.parent_id,
                code: d.code,
                name: d.name,
                level: d.level,
                phone: d.phone,
                address: d.address,
                hours: d.hours,
            }
        }
        None => org::UnitInput {
            parent_id: staff.session.user.unit_id,
            level: "部门".into(),
            ..org::UnitInput::default()
        },
    };
    render(&org_page(&state, staff, input, q.edit, &[], !q.saved.is_empty()).await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct UnitForm {
    #[serde(default)]
    pub id: Option<i64>,
    #[serde(default)]
    pub parent_id: Option<i64>,
    #[serde(default)]
    pub unit_code: String,
    #[serde(default)]
    pub unit_name: String,
    #[serde(default)]
    pub unit_level: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub hours: String,
}

pub async fn org_save(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(f)): Csrf<Form<UnitForm>>,
) -> Result<Response, AppError> {
    let input = org::UnitInput {
        parent_id: f.parent_id,
        code: f.unit_code,
        name: f.unit_name,
        level: f.unit_level,
        phone: f.phone,
        address: f.address,
        hours: f.hours,
    };
    let r = match f.id {
        Some(id) => org::update_unit(&state.db, &staff.session, id, &input).await,
        None => org::add_unit(&state.db, &staff.session, &input)
            .await
            .map(|_| ()),
    };
    match r {
        Ok(()) => {
            state.refresh_catalog().await?;
            Ok(Redirect::to("/admin/org?saved=1").into_response())
        }
        Err(DomainError::Invalid(errs)) => {
            let page = org_page(&state, staff, input, f.id, &errs, false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
