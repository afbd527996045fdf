//! Staff administration: the staff directory (unit, roles, status, second
//! factor), custom roles built from permissions, the audit log search and
//! chain check, and one's own account page.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use zhiban_domain::audit::{self, Record};
use zhiban_domain::identity::roles::{self, Role, RoleInput, StaffEntry, StaffInput};
use zhiban_domain::identity::{Perm, org, passkey};
use zhiban_domain::{DomainError, FieldError};

use super::admin::{CsrfForm, error_message};
use super::staff_auth::Staff;
use super::{Pager, render};
use crate::ctx::{PageCtx, urlencode};
use crate::error::AppError;
use crate::state::AppState;

/// A unit choice: id, indented name, selectable (inside the actor's scope).
pub struct UnitOption {
    pub id: i64,
    pub label: String,
    pub allowed: bool,
}

pub(crate) fn unit_options(state: &AppState, staff: &Staff) -> Vec<UnitOption> {
    state
        .catalog()
        .department_tree()
        .into_iter()
        .map(|n| UnitOption {
            id: n.dept.id,
            label: format!("{}{}", "　".repeat(n.depth), n.dept.name),
            allowed: staff.session.scope.covers(n.dept.id),
        })
        .collect()
}

fn perm_label(ctx: &PageCtx, p: Perm) -> String {
    ctx.t(&format!("perm.{}", p.slug().replace('.', "_")))
}

// ---------------------------------------------------------------- staff

#[derive(Template)]
#[template(path = "admin/staff_list.html")]
pub struct StaffListPage {
    pub ctx: PageCtx,
    pub staff: Vec<StaffEntry>,
    pub role_names: HashMap<i64, String>,
    pub saved: String,
}

impl StaffListPage {
    fn roles_of(&self, s: &StaffEntry) -> String {
        s.role_ids
            .iter()
            .filter_map(|r| self.role_names.get(r).cloned())
            .collect::<Vec<_>>()
            .join("、")
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    pub saved: String,
}

pub async fn staff_list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<SavedQuery>,
) -> Result<Response, AppError> {
    let list = roles::list_staff(&state.db, &staff.session.scope).await?;
    let role_names = roles::list_roles(&state.db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    render(&StaffListPage {
        ctx: staff.ctx,
        staff: list,
        role_names,
        saved: q.saved,
    })
}

#[derive(Template)]
#[template(path = "admin/staff_edit.html")]
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
            let grantable = r.perms.is_subset(&staff.session.perms);
            let words = r
                .perms
                .iter()
                .map(|p| perm_label(&staff.ctx, *p))
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
fn staff_input(fields: &[(String, String)]) -> (StaffInput, Option<String>) {
    let mut input = StaffInput::default();
    let mut csrf = None;
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
            "_csrf" => csrf = Some(v.clone()),
            _ => {}
        }
    }
    (input, csrf)
}

async fn save_staff(
    state: &AppState,
    staff: Staff,
    id: Option<i64>,
    fields: Vec<(String, String)>,
) -> Result<Response, AppError> {
    let (mut input, csrf) = staff_input(&fields);
    staff.check_csrf(csrf.as_ref())?;
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
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    save_staff(&state, staff, None, fields).await
}

pub async fn staff_update(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    save_staff(&state, staff, Some(id), fields).await
}

pub async fn staff_reset_2fa(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    staff.check_csrf(form.csrf.as_ref())?;
    roles::reset_second_factor(&state.db, &staff.session, id).await?;
    Ok(Redirect::to(&format!("/admin/staff/{id}")).into_response())
}

// ---------------------------------------------------------------- roles

#[derive(Template)]
#[template(path = "admin/roles.html")]
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
                .map(|p| perm_label(&staff.ctx, *p))
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
#[template(path = "admin/role_edit.html")]
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
        .map(|p| (p.slug(), perm_label(&staff.ctx, *p), staff.session.can(*p)))
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

fn role_input(fields: &[(String, String)]) -> (RoleInput, Option<String>) {
    let mut input = RoleInput::default();
    let mut csrf = None;
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
            "_csrf" => csrf = Some(v.clone()),
            _ => {}
        }
    }
    (input, csrf)
}

async fn save_role(
    state: &AppState,
    staff: Staff,
    id: Option<i64>,
    fields: Vec<(String, String)>,
) -> Result<Response, AppError> {
    let (input, csrf) = role_input(&fields);
    staff.check_csrf(csrf.as_ref())?;
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
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    save_role(&state, staff, None, fields).await
}

pub async fn role_update(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    save_role(&state, staff, Some(id), fields).await
}

// ---------------------------------------------------------------- audit

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub target: String,
    /// yyyy-mm-dd, inclusive, China Standard Time.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub refused: String,
    #[serde(default)]
    pub page: Option<usize>,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    pub ctx: PageCtx,
    pub q: AuditQuery,
    pub rows: Vec<Record>,
    pub pager: Pager,
    pub verification: Option<audit::Verification>,
    pub errors: Vec<String>,
}

impl AuditPage {
    fn when(&self, r: &Record) -> String {
        local_time(r.at)
    }
    fn action_label(&self, r: &Record) -> String {
        let key = format!("audit.action_{}", r.action.replace('.', "_"));
        let label = self.ctx.t(&key);
        if label == key || label.ends_with(&key) {
            r.action.clone()
        } else {
            label
        }
    }
}

const CST_SECS: i32 = 8 * 3600;

pub fn local_time(at: i64) -> String {
    let (Some(offset), Some(t)) = (
        chrono::FixedOffset::east_opt(CST_SECS),
        DateTime::<Utc>::from_timestamp(at, 0),
    ) else {
        return String::new();
    };
    t.with_timezone(&offset)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Start of a CST day, or (for `end`) the last second of it.
fn day_bound(s: &str, end: bool) -> Result<Option<i64>, ()> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ())?;
    let t = d.and_hms_opt(0, 0, 0).ok_or(())?;
    let utc = Utc.from_utc_datetime(&t).timestamp() - i64::from(CST_SECS);
    Ok(Some(if end { utc + 86_399 } else { utc }))
}

const AUDIT_PER_PAGE: usize = 50;

async fn audit_page(
    state: &AppState,
    staff: Staff,
    q: AuditQuery,
    verification: Option<audit::Verification>,
) -> Result<AuditPage, AppError> {
    let mut errors = Vec::new();
    let from = day_bound(&q.from, false).unwrap_or_else(|_| {
        errors.push(staff.ctx.t("audit.bad_date"));
        None
    });
    let to = day_bound(&q.to, true).unwrap_or_else(|_| {
        errors.push(staff.ctx.t("audit.bad_date"));
        None
    });
    let filter = audit::Filter {
        actor: q.actor.clone(),
        action: q.action.clone(),
        target: q.target.clone(),
        from,
        to,
        refused_only: q.refused == "1",
    };
    let page_no = q.page.unwrap_or(1).max(1);
    let offset = (page_no - 1) * AUDIT_PER_PAGE;
    let (rows, total) =
        audit::search(&state.db, &filter, AUDIT_PER_PAGE as i64, offset as i64).await?;
    let base = format!(
        "/admin/audit?actor={}&action={}&target={}&from={}&to={}&refused={}",
        urlencode(&q.actor),
        urlencode(&q.action),
        urlencode(&q.target),
        urlencode(&q.from),
        urlencode(&q.to),
        urlencode(&q.refused)
    );
    let pager = Pager::new(
        &base,
        page_no,
        AUDIT_PER_PAGE,
        usize::try_from(total).unwrap_or(0),
    );
    Ok(AuditPage {
        ctx: staff.ctx,
        q,
        rows,
        pager,
        verification,
        errors,
    })
}

pub async fn audit_search(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    render(&audit_page(&state, staff, q, None).await?)
}

pub async fn audit_verify(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    staff.check_csrf(form.csrf.as_ref())?;
    let v = audit::verify(&state.db).await?;
    audit::record(
        &state.db,
        audit::Entry::staff(&staff.session.user.username, "audit.verify", "audit_log").detail(
            match v.broken {
                Some((seq, why)) => format!("broken at {seq}: {why}"),
                None => format!("intact, {} records", v.records),
            },
        ),
    )
    .await?;
    render(&audit_page(&state, staff, AuditQuery::default(), Some(v)).await?)
}

// ---------------------------------------------------------------- my account

#[derive(Template)]
#[template(path = "admin/account.html")]
pub struct AccountPage {
    pub ctx: PageCtx,
    pub username: String,
    pub unit: String,
    pub perms: Vec<String>,
    pub totp_enrolled: bool,
    pub passkeys: Vec<passkey::PasskeyInfo>,
    pub saved: bool,
}

impl AccountPage {
    fn when(&self, at: &i64) -> String {
        local_time(*at)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PasskeyRemoveForm {
    #[serde(default)]
    pub id: i64,
    #[serde(default, rename = "_csrf")]
    pub csrf: Option<String>,
}

pub async fn passkey_remove(
    State(state): State<AppState>,
    staff: Staff,
    Form(f): Form<PasskeyRemoveForm>,
) -> Result<Response, AppError> {
    staff.check_csrf(f.csrf.as_ref())?;
    let u = &staff.session.user;
    passkey::remove(&state.db, passkey::Owner::Staff(u.id), &u.username, f.id).await?;
    Ok(Redirect::to("/admin/account?saved=passkey").into_response())
}

pub async fn account(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<SavedQuery>,
) -> Result<Response, AppError> {
    let s = &staff.session;
    let unit = s
        .user
        .unit_id
        .and_then(|id| {
            state
                .catalog()
                .departments
                .iter()
                .find(|d| d.id == id)
                .map(|d| d.name.clone())
        })
        .unwrap_or_else(|| staff.ctx.t("people.whole_city"));
    let perms: BTreeSet<Perm> = s.perms.clone();
    render(&AccountPage {
        username: s.user.username.clone(),
        unit,
        perms: perms.iter().map(|p| perm_label(&staff.ctx, *p)).collect(),
        totp_enrolled: s.totp_enrolled,
        passkeys: passkey::list(&state.db, passkey::Owner::Staff(s.user.id)).await?,
        saved: !q.saved.is_empty(),
        ctx: staff.ctx,
    })
}

// ---------------------------------------------------------------- org tree

#[derive(Template)]
#[template(path = "admin/org.html")]
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
    #[serde(default, rename = "_csrf")]
    pub csrf: Option<String>,
}

pub async fn org_save(
    State(state): State<AppState>,
    staff: Staff,
    Form(f): Form<UnitForm>,
) -> Result<Response, AppError> {
    staff.check_csrf(f.csrf.as_ref())?;
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
