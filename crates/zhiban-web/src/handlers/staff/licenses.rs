//! The license desk (`/admin/licenses…`): search, issue (with every error
//! listed and values kept), CSV import, revoke with a reason, and the
//! settings of each license type.

use crate::error::AppError;
use crate::extract::{Csrf, DoneQuery, MultipartForm, SavedQuery, Staff, UnitOption, unit_options};
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::{license_error, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use zhiban_domain::licenses::{IssueInput, License, LicenseType, Status};
use zhiban_domain::{DomainError, FieldError, licenses};

const LIST_LIMIT: i64 = 50;

/// The units this person may issue from (their scope).
fn issuing_units(state: &AppState, staff: &Staff) -> Vec<UnitOption> {
    unit_options(state, staff)
        .into_iter()
        .filter(|u| u.allowed)
        .collect()
}

/// A license in a staff list: holder data always masked (lists are not
/// audited views).
pub struct Row {
    pub lic: License,
    pub status: Status,
}

impl Row {
    pub fn holder(&self) -> String {
        self.lic.doc.masked_holder()
    }
    pub fn holder_id(&self) -> String {
        self.lic.doc.masked_id()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub imported: Option<usize>,
}

#[derive(Template)]
#[template(path = "staff/licenses/list.html")]
pub struct ListPage {
    pub ctx: PageCtx,
    pub q: String,
    pub rows: Vec<Row>,
    pub imported: Option<usize>,
}

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let needle: String = q.q.trim().chars().take(40).collect();
    let mut rows = Vec::new();
    for lic in licenses::search(&state.db, &staff.session, &needle, LIST_LIMIT).await? {
        let status = licenses::status(&state.db, &lic).await?;
        rows.push(Row { lic, status });
    }
    render(&ListPage {
        ctx: staff.ctx,
        q: needle,
        rows,
        imported: q.imported,
    })
}

/// One input of the issue form.
pub struct Input {
    pub id: String,
    pub name: String,
    pub label: String,
    pub value: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "staff/licenses/new.html")]
pub struct NewPage {
    pub ctx: PageCtx,
    pub types: Vec<LicenseType>,
    pub chosen: Option<LicenseType>,
    pub units: Vec<UnitOption>,
    pub unit_id: Option<i64>,
    pub unit_error: Option<String>,
    pub holder_name: Input,
    pub holder_id_number: Input,
    pub fields: Vec<Input>,
    pub issued_on: Input,
    pub expires_on: Input,
    pub errors: Vec<(String, String)>,
}

impl NewPage {
    fn is_chosen(&self, code: &str) -> bool {
        self.chosen.as_ref().is_some_and(|t| t.code == code)
    }
    fn is_unit(&self, id: &i64) -> bool {
        self.unit_id == Some(*id)
    }
    fn holder_inputs(&self) -> [&Input; 2] {
        [&self.holder_name, &self.holder_id_number]
    }
    fn date_inputs(&self) -> [&Input; 2] {
        [&self.issued_on, &self.expires_on]
    }
    fn validity(&self) -> String {
        match &self.chosen {
            Some(t) if t.valid_years > 0 => self.ctx.tn("licenses.valid_years", t.valid_years),
            _ => self.ctx.t("licenses.long_term"),
        }
    }
}

fn input(
    ctx: &PageCtx,
    id: &str,
    name: &str,
    label: String,
    form: &HashMap<String, String>,
    errors: &[(String, String)],
) -> Input {
    let id = format!("l-{id}");
    Input {
        error: errors
            .iter()
            .find(|(k, _)| *k == id)
            .map(|(_, m)| m.clone()),
        value: form.get(name).cloned().unwrap_or_default(),
        label: if label.is_empty() {
            ctx.t(&format!("field.{name}"))
        } else {
            label
        },
        name: name.to_string(),
        id,
    }
}

async fn new_page(
    state: &AppState,
    staff: &Staff,
    type_code: &str,
    form: &HashMap<String, String>,
    errors: Vec<(String, String)>,
) -> Result<Response, AppError> {
    let ctx = &staff.ctx;
    let types = licenses::types(&state.db).await?;
    let chosen = types.iter().find(|t| t.code == type_code).cloned();
    // Only the units of this person's scope that may issue the chosen
    // type; their own unit first if it may, else the first that may.
    let mut units = issuing_units(state, staff);
    if let Some(t) = &chosen {
        let may = licenses::issuing_departments(&state.db, &t.code).await?;
        units.retain(|u| may.contains(&u.id));
    }
    let offered = |id: &i64| units.iter().any(|u| u.id == *id);
    let unit_id = form
        .get("unit_id")
        .and_then(|v| v.parse().ok())
        .filter(offered)
        .or(staff.session.user.unit_id.filter(offered))
        .or(units.first().map(|u| u.id));
    let no_unit = match &chosen {
        Some(t) if units.is_empty() => {
            Some(ctx.tf("licenses.no_issuing_unit", &[("type", &t.name)]))
        }
        _ => None,
    };
    let fields = chosen
        .as_ref()
        .map(|t| {
            t.fields
                .iter()
                .map(|f| {
                    input(
                        ctx,
                        &format!("f-{}", f.key),
                        &format!("f.{}", f.key),
                        f.label.clone(),
                        form,
                        &errors,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let holder_id_label = if chosen.as_ref().is_some_and(|t| t.holder_kind == "company") {
        ctx.t("licenses.holder_uscc")
    } else {
        ctx.t("field.holder_id_number")
    };
    let code = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = NewPage {
        unit_error: errors
            .iter()
            .find(|(k, _)| k == "l-unit")
            .map(|(_, m)| m.clone())
            .or(no_unit),
        holder_name: input(
            ctx,
            "holder_name",
            "holder_name",
            String::new(),
            form,
            &errors,
        ),
        holder_id_number: input(
            ctx,
            "holder_id_number",
            "holder_id_number",
            holder_id_label,
            form,
            &errors,
        ),
        issued_on: input(ctx, "issued_on", "issued_on", String::new(), form, &errors),
        expires_on: input(
            ctx,
            "expires_on",
            "expires_on",
            String::new(),
            form,
            &errors,
        ),
        ctx: staff.ctx.clone(),
        types,
        chosen,
        units,
        unit_id,
        fields,
        errors,
    };
    Ok((code, render(&page)?).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    #[serde(default, rename = "type")]
    pub type_code: String,
}

/// Step one picks the type (a plain GET form); step two shows its fields.
pub async fn new_form(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    new_page(&state, &staff, &q.type_code, &HashMap::new(), Vec::new()).await
}

/// Where a field problem is shown: the id of its input.
fn input_id(t: Option<&LicenseType>, e: &FieldError) -> String {
    match e.field {
        "license_field" => t
            .and_then(|t| t.fields.iter().find(|f| f.label == e.detail))
            .map(|f| format!("l-f-{}", f.key))
            .unwrap_or_else(|| "l-holder_name".into()),
        "issuer" => "l-unit".into(),
        "type_code" => "l-type".into(),
        other => format!("l-{other}"),
    }
}

fn date(
    form: &HashMap<String, String>,
    name: &'static str,
    errors: &mut Vec<FieldError>,
) -> Option<NaiveDate> {
    let v = form.get(name).map(|v| v.trim()).unwrap_or("");
    if v.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(FieldError::new(name, "invalid_date", v));
            None
        }
    }
}

pub async fn issue(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(form)): Csrf<Form<HashMap<String, String>>>,
) -> Result<Response, AppError> {
    let type_code = form.get("type_code").cloned().unwrap_or_default();
    let chosen = licenses::types(&state.db)
        .await?
        .into_iter()
        .find(|t| t.code == type_code);
    let mut problems = Vec::new();
    let unit_id: Option<i64> = form.get("unit_id").and_then(|v| v.parse().ok());
    if unit_id.is_none() {
        problems.push(FieldError::new("issuer", "required", ""));
    }
    let issued_on = date(&form, "issued_on", &mut problems);
    let expires_on = date(&form, "expires_on", &mut problems);
    let input = IssueInput {
        type_code: type_code.clone(),
        holder_name: form.get("holder_name").cloned().unwrap_or_default(),
        holder_id_number: form.get("holder_id_number").cloned().unwrap_or_default(),
        fields: chosen
            .iter()
            .flat_map(|t| &t.fields)
            .map(|f| {
                let v = form
                    .get(&format!("f.{}", f.key))
                    .cloned()
                    .unwrap_or_default();
                (f.key.clone(), v)
            })
            .collect(),
        issued_on,
        expires_on,
    };
    // Problems the form itself shows (no unit, a date that is no date)
    // come back first; the domain checks the rest.
    let result = match unit_id {
        Some(unit) if problems.is_empty() => {
            licenses::issue(&state.db, &staff.session, unit, &input).await
        }
        _ => Err(DomainError::Invalid(Vec::new())),
    };
    match result {
        Ok(lic) => {
            // The number and holder are on the audit record, not in the log.
            tracing::info!(user = %staff.session.user.username, "license issued");
            Ok(Redirect::to(&format!(
                "/admin/licenses/{}?done=issued",
                urlencode(&lic.doc.number)
            ))
            .into_response())
        }
        Err(DomainError::Invalid(more)) => {
            problems.extend(more);
            let errors = problems
                .iter()
                .map(|e| (input_id(chosen.as_ref(), e), license_error(&staff.ctx, e)))
                .collect();
            new_page(&state, &staff, &type_code, &form, errors).await
        }
        Err(DomainError::Conflict(zhiban_domain::Conflict::NotAllowed)) => {
            let e = FieldError::new("issuer", "outside_scope", "");
            let errors = vec![("l-unit".to_string(), license_error(&staff.ctx, &e))];
            new_page(&state, &staff, &type_code, &form, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff/licenses/license.html")]
pub struct DetailPage {
    pub ctx: PageCtx,
    pub lic: License,
    pub status: Status,
    /// Holder data in full (the viewer holds `citizens.view`).
    pub full: bool,
    pub fields: Vec<(String, String)>,
    pub errors: Vec<(String, String)>,
    pub notice: String,
    pub reason: String,
}

impl DetailPage {
    fn revoked_at(&self) -> String {
        self.lic
            .revoked_at
            .map(zhiban_domain::time::local_time)
            .unwrap_or_default()
    }
}

async fn detail_page(
    state: &AppState,
    staff: &Staff,
    number: &str,
    errors: Vec<(String, String)>,
    notice: String,
    reason: String,
) -> Result<Response, AppError> {
    let (lic, full) = licenses::for_staff(&state.db, &staff.session, number).await?;
    let status = licenses::status(&state.db, &lic).await?;
    let types = licenses::types(&state.db).await?;
    let labels: HashMap<&str, &str> = types
        .iter()
        .filter(|t| t.code == lic.doc.type_code)
        .flat_map(|t| &t.fields)
        .map(|f| (f.key.as_str(), f.label.as_str()))
        .collect();
    let fields = lic
        .doc
        .fields
        .iter()
        .map(|(k, v)| {
            (
                labels.get(k.as_str()).copied().unwrap_or(k).to_string(),
                v.clone(),
            )
        })
        .collect();
    let code = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = DetailPage {
        ctx: staff.ctx.clone(),
        lic,
        status,
        full,
        fields,
        errors,
        notice,
        reason,
    };
    Ok((code, render(&page)?).into_response())
}

pub async fn detail(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let notice = match q.done.as_str() {
        "issued" | "revoked" => staff.ctx.t(&format!("licenses.done_{}", q.done)),
        _ => String::new(),
    };
    detail_page(&state, &staff, &number, Vec::new(), notice, String::new()).await
}

#[derive(Debug, Default, Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    pub reason: String,
}

pub async fn revoke(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
    Csrf(Form(form)): Csrf<Form<RevokeForm>>,
) -> Result<Response, AppError> {
    match licenses::revoke(&state.db, &staff.session, &number, &form.reason).await {
        Ok(()) => {
            tracing::info!(user = %staff.session.user.username, "license revoked");
            Ok(Redirect::to(&format!(
                "/admin/licenses/{}?done=revoked",
                urlencode(number.trim())
            ))
            .into_response())
        }
        Err(DomainError::Invalid(errs)) => {
            let errors = errs
                .iter()
                .map(|e| ("r-reason".to_string(), license_error(&staff.ctx, e)))
                .collect();
            detail_page(&state, &staff, &number, errors, String::new(), form.reason).await
        }
        Err(DomainError::Conflict(zhiban_domain::Conflict::AlreadyRevoked)) => {
            let notice = staff.ctx.t("licenses.already_revoked");
            detail_page(&state, &staff, &number, Vec::new(), notice, String::new()).await
        }
        Err(DomainError::Conflict(_)) => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff/licenses/import.html")]
pub struct ImportPage {
    pub ctx: PageCtx,
    pub types: Vec<LicenseType>,
    pub units: Vec<UnitOption>,
    pub unit_id: Option<i64>,
    /// A problem with the whole file (or the unit).
    pub file_error: Option<String>,
    /// (line, message) for each refused line.
    pub line_errors: Vec<(usize, String)>,
    pub bad_lines: usize,
}

impl ImportPage {
    fn is_unit(&self, id: &i64) -> bool {
        self.unit_id == Some(*id)
    }
    fn columns(&self, t: &LicenseType) -> String {
        t.fields
            .iter()
            .map(|f| f.label.as_str())
            .collect::<Vec<_>>()
            .join("、")
    }
}

fn import_page(
    state: &AppState,
    staff: &Staff,
    unit_id: Option<i64>,
) -> Result<ImportPage, AppError> {
    Ok(ImportPage {
        ctx: staff.ctx.clone(),
        types: Vec::new(),
        units: issuing_units(state, staff),
        unit_id: unit_id.or(staff.session.user.unit_id),
        file_error: None,
        line_errors: Vec::new(),
        bad_lines: 0,
    })
}

pub async fn import_form(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, AppError> {
    let mut page = import_page(&state, &staff, None)?;
    page.types = licenses::types(&state.db).await?;
    render(&page)
}

pub async fn import(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(form): Csrf<MultipartForm>,
) -> Result<Response, AppError> {
    let unit_id: Option<i64> = form.field("unit_id").and_then(|v| v.parse().ok());
    let file = form.file("file").map(|f| f.body.clone());
    let mut page = import_page(&state, &staff, unit_id)?;
    page.types = licenses::types(&state.db).await?;
    let ctx = staff.ctx.clone();
    let refuse = |mut page: ImportPage, msg: String| {
        page.file_error = Some(msg);
        Ok::<_, AppError>((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
    };
    let Some(unit) = unit_id.filter(|u| page.units.iter().any(|x| x.id == *u)) else {
        let e = FieldError::new("issuer", "outside_scope", "");
        return refuse(page, license_error(&ctx, &e));
    };
    if form.file("file").is_some_and(|f| f.too_large) {
        let mb = state.config.cases.max_file_mb;
        return refuse(page, ctx.tn("import.too_large", mb));
    }
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        return refuse(page, ctx.t("import.no_file"));
    };
    match licenses::import_csv(&state.db, &staff.session, unit, &bytes).await {
        Ok(n) => {
            tracing::info!(user = %staff.session.user.username, count = n, "licenses imported");
            Ok(Redirect::to(&format!("/admin/licenses?imported={n}")).into_response())
        }
        Err(lines) => {
            if let [only] = lines.as_slice()
                && only.line == 0
            {
                let msg = only
                    .errors
                    .iter()
                    .map(|e| license_error(&ctx, e))
                    .collect::<Vec<_>>()
                    .join("；");
                return refuse(page, msg);
            }
            page.bad_lines = lines.len();
            page.line_errors = lines
                .iter()
                .flat_map(|l| {
                    l.errors
                        .iter()
                        .map(|e| (l.line, license_error(&ctx, e)))
                        .collect::<Vec<_>>()
                })
                .take(500)
                .collect();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "staff/licenses/types.html")]
pub struct TypesPage {
    pub ctx: PageCtx,
    pub types: Vec<LicenseType>,
    /// Types are city-wide: only whole-city accounts change them.
    pub can_configure: bool,
    pub saved: String,
    /// (type code, message)
    pub errors: Vec<(String, String)>,
    /// What was typed, for a type whose settings were refused.
    pub typed: Option<TypeForm>,
    /// Allowed issuers per type (department ids).
    pub issuers: BTreeMap<String, Vec<i64>>,
    /// Department id → (code, name).
    pub departments: BTreeMap<i64, (String, String)>,
}

impl TypesPage {
    fn columns(&self, t: &LicenseType) -> String {
        t.fields
            .iter()
            .map(|f| f.label.as_str())
            .collect::<Vec<_>>()
            .join("、")
    }
    fn validity(&self, t: &LicenseType) -> String {
        if t.valid_years > 0 {
            self.ctx.tn("licenses.valid_years", t.valid_years)
        } else {
            self.ctx.t("licenses.long_term")
        }
    }
    fn typed_for(&self, t: &LicenseType) -> Option<&TypeForm> {
        self.typed.as_ref().filter(|f| f.code == t.code)
    }
    fn renewal_value(&self, t: &LicenseType) -> String {
        self.typed_for(t)
            .map_or_else(|| t.renewal_service.clone(), |f| f.renewal_service.clone())
    }
    fn produced_value(&self, t: &LicenseType) -> String {
        self.typed_for(t)
            .map_or_else(|| t.produced_by.clone(), |f| f.produced_by.clone())
    }
    fn issuer_list(&self, t: &LicenseType) -> Vec<&(String, String)> {
        self.issuers
            .get(&t.code)
            .map(|ids| ids.iter().filter_map(|i| self.departments.get(i)).collect())
            .unwrap_or_default()
    }
    /// Who may issue, in words: names (codes), or that nobody may yet.
    fn issuer_names(&self, t: &LicenseType) -> String {
        let list = self.issuer_list(t);
        if list.is_empty() {
            return self.ctx.t("licenses.no_issuers");
        }
        list.iter()
            .map(|(code, name)| format!("{name}（{code}）"))
            .collect::<Vec<_>>()
            .join("、")
    }
    fn issuers_value(&self, t: &LicenseType) -> String {
        self.typed_for(t).map_or_else(
            || {
                self.issuer_list(t)
                    .iter()
                    .map(|(code, _)| code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            |f| f.issuers.clone(),
        )
    }
    fn error_for(&self, t: &LicenseType) -> Option<String> {
        self.errors
            .iter()
            .find(|(c, _)| *c == t.code)
            .map(|(_, m)| m.clone())
    }
}

async fn types_page(
    state: &AppState,
    staff: &Staff,
    saved: String,
    errors: Vec<(String, String)>,
    typed: Option<TypeForm>,
) -> Result<Response, AppError> {
    let code = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let departments = state
        .catalog()
        .departments
        .iter()
        .map(|d| (d.id, (d.code.clone(), d.name.clone())))
        .collect();
    let page = TypesPage {
        ctx: staff.ctx.clone(),
        types: licenses::types(&state.db).await?,
        can_configure: staff.session.scope.is_whole(),
        saved,
        errors,
        typed,
        issuers: licenses::issuers(&state.db).await?,
        departments,
    };
    Ok((code, render(&page)?).into_response())
}

pub async fn types(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<SavedQuery>,
) -> Result<Response, AppError> {
    types_page(&state, &staff, q.saved, Vec::new(), None).await
}

#[derive(Debug, Default, Deserialize)]
pub struct TypeForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub renewal_service: String,
    #[serde(default)]
    pub produced_by: String,
    /// Department codes, separated by commas, spaces or 、.
    #[serde(default)]
    pub issuers: String,
}

fn codes(text: &str) -> impl Iterator<Item = &str> {
    text.split([',', '，', '、', ' ', '\n'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
}

pub async fn configure_type(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(form)): Csrf<Form<TypeForm>>,
) -> Result<Response, AppError> {
    staff
        .require_city(&state, &format!("license_type:{}", form.code))
        .await?;
    // The codes must name catalog items (drafts count: an item may be
    // linked before it is published) and departments.
    let known: std::collections::HashSet<String> =
        zhiban_domain::catalog::list_services(&state.db, None)
            .await?
            .into_iter()
            .map(|s| s.code)
            .collect();
    let unknown: Vec<&str> = std::iter::once(form.renewal_service.trim())
        .chain(codes(&form.produced_by))
        .filter(|c| !c.is_empty() && !known.contains(*c))
        .collect();
    let catalog = state.catalog();
    let mut issuers = BTreeSet::new();
    let mut unknown_units = Vec::new();
    for c in codes(&form.issuers) {
        match catalog.departments.iter().find(|d| d.code == c) {
            Some(d) => {
                issuers.insert(d.id);
            }
            None => unknown_units.push(c),
        }
    }
    let mut problems = Vec::new();
    if !unknown.is_empty() {
        problems.push(FieldError::new(
            "service_code",
            "unknown_service",
            unknown.join("、"),
        ));
    }
    if !unknown_units.is_empty() {
        problems.push(FieldError::new(
            "issuers",
            "unknown_department",
            unknown_units.join("、"),
        ));
    }
    if !problems.is_empty() {
        let errors = problems
            .iter()
            .map(|e| (form.code.clone(), license_error(&staff.ctx, e)))
            .collect();
        return types_page(&state, &staff, String::new(), errors, Some(form)).await;
    }
    let settings = licenses::TypeSettings {
        renewal_service: form.renewal_service.clone(),
        produced_by: form.produced_by.clone(),
        issuers,
    };
    licenses::configure_type(&state.db, &staff.session, &form.code, &settings).await?;
    Ok(Redirect::to(&format!(
        "/admin/licenses/types?saved={}#t-{}",
        urlencode(&form.code),
        urlencode(&form.code)
    ))
    .into_response())
}
