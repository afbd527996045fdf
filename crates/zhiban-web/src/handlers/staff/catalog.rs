//! The catalog (`/admin/services…`): the item list, the editor (draft →
//! published), publishing and withdrawing, and each item's change history.

use crate::error::AppError;
use crate::extract::Staff;
use crate::extract::{Csrf, NoFields};
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::{Pager, error_message, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::HashMap;
use zhiban_domain::catalog::{
    Audience, HandlingKind, ItemType, PoliceDomain, Revision, SaveMode, ServiceInput, ServiceItem,
    Status,
};
use zhiban_domain::identity::{Perm, scope};
use zhiban_domain::{DomainError, FieldError, catalog};

const PER_PAGE: usize = 50;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub page: Option<usize>,
    #[serde(default)]
    pub saved: String,
}

#[derive(Template)]
#[template(path = "staff/catalog/list.html")]
pub struct ListPage {
    pub ctx: PageCtx,
    pub q: ListQuery,
    pub items: Vec<ServiceItem>,
    pub pager: Pager,
    pub drafts: usize,
    pub published: usize,
}

pub async fn list(
    State(state): State<AppState>,
    staff_user: Staff,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let all: Vec<ServiceItem> = catalog::list_services(&state.db, None)
        .await?
        .into_iter()
        .filter(|s| staff_user.covers_department(&state, &s.department_code))
        .collect();
    let drafts = all.iter().filter(|s| s.status == Status::Draft).count();
    let published = all.len() - drafts;
    let status = Status::from_slug(&q.status);
    let needle = q.q.trim();
    let matching: Vec<ServiceItem> = all
        .into_iter()
        .filter(|s| status.is_none_or(|st| s.status == st))
        .filter(|s| {
            needle.is_empty()
                || s.name.contains(needle)
                || s.code.contains(needle)
                || s.department_name.contains(needle)
        })
        .collect();
    let base = format!(
        "/admin/services?q={}&status={}",
        urlencode(needle),
        urlencode(&q.status)
    );
    let pager = Pager::new(&base, q.page.unwrap_or(1), PER_PAGE, matching.len());
    let items = matching
        .into_iter()
        .skip(pager.offset(PER_PAGE))
        .take(PER_PAGE)
        .collect();
    render(&ListPage {
        ctx: staff_user.ctx,
        q,
        items,
        pager,
        drafts,
        published,
    })
}

/// One input of the item editor.
pub struct FormField {
    pub key: &'static str,
    pub label: String,
    pub hint: String,
    /// "text", "textarea", "number" or "select"
    pub kind: &'static str,
    pub value: String,
    /// (value, label) pairs for selects.
    pub options: Vec<(String, String)>,
    pub error: Option<String>,
    pub required: bool,
}

#[derive(Template)]
#[template(path = "staff/catalog/edit.html")]
pub struct EditPage {
    pub ctx: PageCtx,
    pub creating: bool,
    pub code: String,
    pub version: i64,
    pub status: String,
    pub fields: Vec<FormField>,
    /// (field key, message) for the summary, which links to each field.
    pub errors: Vec<(String, String)>,
}

fn choices<T: Copy>(all: &[T], label: impl Fn(T) -> &'static str) -> Vec<(String, String)> {
    all.iter()
        .map(|v| (label(*v).to_string(), label(*v).to_string()))
        .collect()
}

fn build_fields(
    ctx: &PageCtx,
    input: &ServiceInput,
    errors: &[FieldError],
    departments: &[(String, String)],
    creating: bool,
) -> Vec<FormField> {
    let optional = [
        "police_domain",
        "life_events",
        "fee_basis",
        "fees",
        "high_frequency",
        "realname_level",
        "name_en",
        "aliases",
    ];
    catalog::transfer_columns()
        .iter()
        .filter(|(k, _)| *k != "status" && (creating || *k != "code"))
        .map(|(key, _)| {
            let (kind, options) = match *key {
                "handling_kind" => ("select", choices(HandlingKind::ALL, HandlingKind::label)),
                "item_type" => ("select", choices(ItemType::ALL, ItemType::label)),
                "audience" => ("select", choices(Audience::ALL, Audience::label)),
                "police_domain" => {
                    let mut o = vec![(String::new(), ctx.t("admin.none"))];
                    o.extend(choices(PoliceDomain::ALL, PoliceDomain::label));
                    ("select", o)
                }
                "online" | "high_frequency" => (
                    "select",
                    vec![
                        ("是".into(), ctx.t("common.yes")),
                        ("否".into(), ctx.t("common.no")),
                    ],
                ),
                "department" => ("select", departments.to_vec()),
                "realname_level" => (
                    "select",
                    (1..=3)
                        .map(|l| {
                            (
                                format!("L{l}"),
                                format!("L{l} {}", ctx.t(&format!("user.level_{l}"))),
                            )
                        })
                        .collect(),
                ),
                "conditions" | "materials" | "steps" | "legal_basis" | "fee_basis" | "place"
                | "aliases" => ("textarea", Vec::new()),
                "legal_limit_days" | "promised_limit_days" | "visits" => ("number", Vec::new()),
                _ => ("text", Vec::new()),
            };
            let hint_key = format!("hint.{key}");
            let hint = ctx.t(&hint_key);
            FormField {
                key,
                label: ctx.t(&format!("field.{key}")),
                hint: if hint == hint_key || hint.ends_with(&hint_key) {
                    String::new()
                } else {
                    hint
                },
                kind,
                value: input.get(key).to_string(),
                options,
                error: errors
                    .iter()
                    .filter(|e| e.field == *key)
                    .map(|e| error_message(ctx, e))
                    .next(),
                required: !optional.contains(key),
            }
        })
        .collect()
}

async fn department_options(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    Ok(catalog::load_departments(&state.db)
        .await?
        .into_iter()
        .filter(|d| d.parent_id.is_some())
        .map(|d| (d.code, d.name))
        .collect())
}

#[allow(clippy::too_many_arguments)]
async fn edit_page(
    state: &AppState,
    ctx: PageCtx,
    creating: bool,
    input: &ServiceInput,
    version: i64,
    status: Status,
    errors: &[FieldError],
) -> Result<EditPage, AppError> {
    let departments = department_options(state).await?;
    Ok(EditPage {
        fields: build_fields(&ctx, input, errors, &departments, creating),
        errors: errors
            .iter()
            .map(|e| (e.field.to_string(), error_message(&ctx, e)))
            .collect(),
        code: input.code.clone(),
        version,
        status: ctx.term("status", status.slug()),
        creating,
        ctx,
    })
}

pub async fn new_form(
    State(state): State<AppState>,
    staff_user: Staff,
) -> Result<Response, AppError> {
    let input = ServiceInput {
        online: "是".into(),
        high_frequency: "否".into(),
        realname_level: "L2".into(),
        visits: "1".into(),
        fees: "不收费".into(),
        hours: "工作日 9:00-12:00，13:30-17:30（法定节假日除外）".into(),
        complaint_phone: "12345".into(),
        ..ServiceInput::default()
    };
    let page = edit_page(&state, staff_user.ctx, true, &input, 0, Status::Draft, &[]).await?;
    render(&page)
}

pub async fn edit_form(
    State(state): State<AppState>,
    staff_user: Staff,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let item = catalog::get_service(&state.db, &code).await?;
    staff_user
        .require_department(&state, &item.department_code, &format!("service:{code}"))
        .await?;
    let input = ServiceInput::from_item(&item);
    let page = edit_page(
        &state,
        staff_user.ctx,
        false,
        &input,
        item.version,
        item.status,
        &[],
    )
    .await?;
    render(&page)
}

/// Takes the editor's fields out of a submitted form.
fn input_from_form(form: &HashMap<String, String>) -> ServiceInput {
    let mut input = ServiceInput::default();
    for (key, _) in catalog::transfer_columns() {
        if let Some(v) = form.get(*key) {
            input.set(key, v.replace("\r\n", "\n"));
        }
    }
    input
}

async fn save(
    state: &AppState,
    staff_user: Staff,
    form: HashMap<String, String>,
    existing: Option<ServiceItem>,
) -> Result<Response, AppError> {
    let mut input = input_from_form(&form);
    let publish = form.get("action").is_some_and(|a| a == "publish");
    if publish {
        staff_user.require(Perm::CatalogPublish)?;
    }
    if let Some(item) = &existing {
        staff_user
            .require_department(
                state,
                &item.department_code,
                &format!("service:{}", item.code),
            )
            .await?;
    }
    input.status = if publish { "已发布" } else { "草稿" }.into();
    if let Some(item) = &existing {
        input.code = item.code.clone();
    }
    let version: i64 = form
        .get("version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let creating = existing.is_none();
    let departments = catalog::department_names(&state.db).await?;
    let current_status = existing.as_ref().map(|i| i.status).unwrap_or(Status::Draft);
    let checked = input.validate(&departments).and_then(|item| {
        if staff_user.covers_department(state, &item.department_code) {
            Ok(item)
        } else {
            Err(vec![FieldError::new("department", "outside_scope", "")])
        }
    });
    let item = match checked {
        Ok(item) => item,
        Err(errors) => {
            let object = format!("service:{}", input.get("code"));
            scope::audit_field_refusals(&state.db, &staff_user.session, &object, &errors).await?;
            let page = edit_page(
                state,
                staff_user.ctx,
                creating,
                &input,
                version,
                current_status,
                &errors,
            )
            .await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    let mode = if creating {
        SaveMode::Create
    } else {
        SaveMode::Update {
            expected_version: version,
        }
    };
    let note = form
        .get("note")
        .map(|n| n.trim().chars().take(200).collect::<String>())
        .unwrap_or_default();
    match catalog::save_service(&state.db, &item, mode, &staff_user.actor(), &note).await {
        Ok(_) => {
            state.refresh_catalog().await?;
            tracing::info!(code = %item.code, user = %staff_user.session.user.username, "catalog item saved");
            Ok(
                Redirect::to(&format!("/admin/services?saved={}", urlencode(&item.code)))
                    .into_response(),
            )
        }
        Err(DomainError::Conflict(code)) => {
            let err = if code == zhiban_domain::Conflict::CodeTaken {
                FieldError::new("code", "code_taken", "")
            } else {
                FieldError::new("row", "edited_meanwhile", "")
            };
            let page = edit_page(
                state,
                staff_user.ctx,
                creating,
                &input,
                version,
                current_status,
                &[err],
            )
            .await?;
            Ok((StatusCode::CONFLICT, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    staff_user: Staff,
    Csrf(Form(form)): Csrf<Form<HashMap<String, String>>>,
) -> Result<Response, AppError> {
    save(&state, staff_user, form, None).await
}

pub async fn update(
    State(state): State<AppState>,
    staff_user: Staff,
    Path(code): Path<String>,
    Csrf(Form(form)): Csrf<Form<HashMap<String, String>>>,
) -> Result<Response, AppError> {
    let existing = catalog::get_service(&state.db, &code).await?;
    save(&state, staff_user, form, Some(existing)).await
}

async fn change_status(
    state: &AppState,
    staff_user: Staff,
    code: &str,
    status: Status,
) -> Result<Response, AppError> {
    let item = catalog::get_service(&state.db, code).await?;
    staff_user
        .require_department(state, &item.department_code, &format!("service:{code}"))
        .await?;
    catalog::set_status(&state.db, code, status, &staff_user.actor()).await?;
    state.refresh_catalog().await?;
    Ok(Redirect::to(&format!("/admin/services?saved={}", urlencode(code))).into_response())
}

pub async fn publish(
    State(state): State<AppState>,
    staff_user: Staff,
    Path(code): Path<String>,
    Csrf(_): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    change_status(&state, staff_user, &code, Status::Published).await
}

pub async fn unpublish(
    State(state): State<AppState>,
    staff_user: Staff,
    Path(code): Path<String>,
    Csrf(_): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    change_status(&state, staff_user, &code, Status::Draft).await
}

/// One revision with the fields it changed against the one before it.
pub struct RevisionView {
    pub rev: Revision,
    pub action: String,
    /// (field label, before, after)
    pub changes: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "staff/catalog/history.html")]
pub struct HistoryPage {
    pub ctx: PageCtx,
    pub item: ServiceItem,
    pub revisions: Vec<RevisionView>,
}

pub async fn history(
    State(state): State<AppState>,
    staff_user: Staff,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let item = catalog::get_service(&state.db, &code).await?;
    staff_user
        .require_department(&state, &item.department_code, &format!("service:{code}"))
        .await?;
    let revs = catalog::history(&state.db, &code).await?;
    let ctx = staff_user.ctx;
    let mut revisions = Vec::with_capacity(revs.len());
    for (i, rev) in revs.iter().enumerate() {
        let previous = revs.get(i + 1);
        let changes = match previous {
            None => Vec::new(),
            Some(prev) => catalog::transfer_columns()
                .iter()
                .filter(|(k, _)| prev.snapshot.get(k) != rev.snapshot.get(k))
                .map(|(k, _)| {
                    (
                        ctx.t(&format!("field.{k}")),
                        prev.snapshot.get(k).to_string(),
                        rev.snapshot.get(k).to_string(),
                    )
                })
                .collect(),
        };
        revisions.push(RevisionView {
            action: ctx.t(&format!("admin.action_{}", rev.action)),
            rev: rev.clone(),
            changes,
        });
    }
    render(&HistoryPage {
        ctx,
        item,
        revisions,
    })
}
