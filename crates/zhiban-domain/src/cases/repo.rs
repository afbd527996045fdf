//! Cases in the database: drafts and their uploads, submission with a
//! readable number, every transition in one transaction with its event,
//! message and clock change, and the lists the workbench and the applicant
//! read.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use zhiban_store::files::{FileStore, sniff};

use super::calendar::WorkCalendar;
use super::clock::{CaseSettings, Deadlines, Light, local_date};
use super::workflow::{CaseAction, CaseState, Delivery, Role};
use crate::audit::{self, Entry};
use crate::catalog::{ServiceItem, Status};
use crate::forms::{Answers, FormError, FormSchema, Profile};
use crate::identity::citizen::Citizen;
use crate::identity::ids::{mask_name, mask_phone};
use crate::identity::staff::StaffSession;
use crate::identity::{Perm, Scope};
use crate::notify;
use crate::{Db, DomainError, FieldError, jobs};

/// What case handling needs besides the database.
pub struct Desk<'a> {
    pub db: &'a Db,
    pub files: &'a FileStore,
    pub calendar: &'a WorkCalendar,
    pub settings: &'a CaseSettings,
    /// The portal's public address, for links in messages.
    pub public_url: &'a str,
}

/// Why the staff asked for corrections, and which answers to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    pub reason: String,
    /// Input names (fields or materials) to change; empty means any.
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub id: i64,
    pub number: String,
    pub service_code: String,
    pub service_name: String,
    pub department_id: i64,
    pub department_name: String,
    pub citizen_id: Option<i64>,
    pub applicant_name: String,
    pub applicant_phone: String,
    pub form_version: i64,
    pub schema: FormSchema,
    pub answers: Answers,
    pub state: CaseState,
    pub resume_state: Option<CaseState>,
    /// `approved` or `denied` once decided.
    pub outcome: String,
    pub correction: Option<Correction>,
    pub delivery: Option<Delivery>,
    pub tracking_no: String,
    pub promised_days: i64,
    pub legal_days: i64,
    pub submitted_at: i64,
    pub accepted_on: Option<NaiveDate>,
    pub due_on: NaiveDate,
    pub legal_due_on: NaiveDate,
    pub yellow_on: NaiveDate,
    pub paused_on: Option<NaiveDate>,
    pub concluded_at: Option<i64>,
    pub revision: i64,
}

impl Case {
    pub fn light(&self, today: NaiveDate) -> Light {
        Light::of(
            self.state.clock_running(),
            self.state.paused(),
            today,
            self.due_on,
            self.yellow_on,
        )
    }

    pub fn masked_name(&self) -> String {
        mask_name(&self.applicant_name)
    }

    pub fn masked_phone(&self) -> String {
        mask_phone(&self.applicant_phone)
    }

    fn deadlines(&self) -> Deadlines {
        Deadlines {
            due_on: self.due_on,
            legal_due_on: self.legal_due_on,
            yellow_on: self.yellow_on,
        }
    }

    /// Whether the applicant may change this answer while correcting.
    pub fn correctable(&self, input_name: &str) -> bool {
        let Some(c) = &self.correction else {
            return false;
        };
        let key = input_name.split('.').next().unwrap_or(input_name);
        c.fields.is_empty() || c.fields.iter().any(|f| f == key)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseEvent {
    pub at: i64,
    pub actor_label: String,
    pub action: CaseAction,
    pub from_state: CaseState,
    pub to_state: CaseState,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CaseFile {
    pub id: i64,
    pub field_key: String,
    pub material: String,
    /// `material` or `result`.
    pub kind: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    #[serde(skip)]
    pub storage_key: String,
    pub uploaded_by: String,
    pub uploaded_at: i64,
    pub replaced: i64,
}

impl CaseFile {
    pub fn is_image(&self) -> bool {
        self.content_type.starts_with("image/")
    }
}

/// A row in a list.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRow {
    pub id: i64,
    pub number: String,
    pub service_name: String,
    pub department_name: String,
    pub applicant_masked: String,
    pub state: CaseState,
    pub outcome: String,
    pub submitted_at: i64,
    pub due_on: NaiveDate,
    pub light: Light,
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

const SELECT_CASE: &str = "SELECT c.id, c.number, c.service_code, c.service_name, \
    c.department_id, d.name AS department_name, c.citizen_id, c.applicant_name, \
    c.applicant_phone, c.form_version, c.form_schema, c.answers, c.state, c.resume_state, \
    c.outcome, c.correction, c.delivery, c.tracking_no, c.promised_days, c.legal_days, \
    c.submitted_at, c.accepted_on, c.due_on, c.legal_due_on, c.yellow_on, c.paused_on, \
    c.concluded_at, c.revision FROM cases c JOIN departments d ON d.id = c.department_id";

fn case_from_row(r: &sqlx::any::AnyRow) -> Result<Case, sqlx::Error> {
    let bad = |col: &str| sqlx::Error::ColumnDecode {
        index: col.to_string(),
        source: "unreadable value".into(),
    };
    let text = |col: &str| r.try_get::<String, _>(col);
    Ok(Case {
        id: r.try_get("id")?,
        number: text("number")?,
        service_code: text("service_code")?,
        service_name: text("service_name")?,
        department_id: r.try_get("department_id")?,
        department_name: text("department_name")?,
        citizen_id: r.try_get("citizen_id")?,
        applicant_name: text("applicant_name")?,
        applicant_phone: text("applicant_phone")?,
        form_version: r.try_get("form_version")?,
        schema: serde_json::from_str(&text("form_schema")?).map_err(|_| bad("form_schema"))?,
        answers: serde_json::from_str(&text("answers")?).map_err(|_| bad("answers"))?,
        state: CaseState::from_slug(&text("state")?).ok_or_else(|| bad("state"))?,
        resume_state: CaseState::from_slug(&text("resume_state")?),
        outcome: text("outcome")?,
        correction: serde_json::from_str(&text("correction")?).ok(),
        delivery: Delivery::from_slug(&text("delivery")?),
        tracking_no: text("tracking_no")?,
        promised_days: r.try_get("promised_days")?,
        legal_days: r.try_get("legal_days")?,
        submitted_at: r.try_get("submitted_at")?,
        accepted_on: date(&text("accepted_on")?),
        due_on: date(&text("due_on")?).ok_or_else(|| bad("due_on"))?,
        legal_due_on: date(&text("legal_due_on")?).ok_or_else(|| bad("legal_due_on"))?,
        yellow_on: date(&text("yellow_on")?).ok_or_else(|| bad("yellow_on"))?,
        paused_on: date(&text("paused_on")?),
        concluded_at: r.try_get("concluded_at")?,
        revision: r.try_get("revision")?,
    })
}

async fn load(conn: &mut AnyConnection, number: &str) -> Result<Case, DomainError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT_CASE} WHERE c.number = $1"
    )))
    .bind(number)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(DomainError::NotFound)?;
    Ok(case_from_row(&row)?)
}

/// Case numbers as people read them aloud: prefix, date, a daily count.
fn format_number(prefix: &str, day: NaiveDate, n: i64) -> String {
    format!("{prefix}{}{n:05}", day.format("%Y%m%d"))
}

async fn next_number(
    conn: &mut AnyConnection,
    prefix: &str,
    day: NaiveDate,
) -> Result<String, DomainError> {
    let n: i64 = sqlx::query_scalar(
        "INSERT INTO case_counters (day, n) VALUES ($1, 1) \
         ON CONFLICT (day) DO UPDATE SET n = case_counters.n + 1 RETURNING n",
    )
    .bind(day_text(day))
    .fetch_one(&mut *conn)
    .await?;
    Ok(format_number(prefix, day, n))
}

/// A number typed by a person: spaces and dashes are ignored, letters upper-cased.
pub fn normalize_number(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

// ------------------------------------------------------------------ drafts

#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    pub id: i64,
    pub service_code: String,
    pub form_version: i64,
    pub schema: FormSchema,
    pub answers: Answers,
    pub page: usize,
    pub updated_at: i64,
}

/// The profile forms are filled from.
pub fn profile_of(c: &Citizen) -> Profile {
    Profile {
        name: c.name.clone(),
        id_number: c.id_number.clone(),
        phone: c.phone.clone(),
        verified: c.level >= 2,
    }
}

/// The applicant's draft for an item, started from the current form
/// (and filled from the profile) if there is none.
pub async fn draft(db: &Db, citizen: &Citizen, item: &ServiceItem) -> Result<Draft, DomainError> {
    if let Some(d) = find_draft(db, citizen.id, &item.code).await? {
        return Ok(d);
    }
    let (version, schema) = crate::forms::repo::current(db, item).await?;
    let mut answers = Answers::new();
    schema.normalize(&mut answers, &profile_of(citizen));
    sqlx::query(
        "INSERT INTO case_drafts (citizen_id, service_code, form_version, form_schema, answers, \
         page, updated_at) VALUES ($1, $2, $3, $4, $5, 0, $6) \
         ON CONFLICT (citizen_id, service_code) DO NOTHING",
    )
    .bind(citizen.id)
    .bind(&item.code)
    .bind(version)
    .bind(serde_json::to_string(&schema).unwrap_or_default())
    .bind(serde_json::to_string(&answers).unwrap_or_default())
    .bind(crate::now().timestamp())
    .execute(db.pool())
    .await?;
    find_draft(db, citizen.id, &item.code)
        .await?
        .ok_or(DomainError::NotFound)
}

async fn find_draft(
    db: &Db,
    citizen_id: i64,
    service_code: &str,
) -> Result<Option<Draft>, DomainError> {
    let row = sqlx::query(
        "SELECT id, service_code, form_version, form_schema, answers, page, updated_at \
         FROM case_drafts WHERE citizen_id = $1 AND service_code = $2",
    )
    .bind(citizen_id)
    .bind(service_code)
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    let schema: String = r.try_get("form_schema")?;
    let answers: String = r.try_get("answers")?;
    Ok(Some(Draft {
        id: r.try_get("id")?,
        service_code: r.try_get("service_code")?,
        form_version: r.try_get("form_version")?,
        schema: serde_json::from_str(&schema).map_err(|_| DomainError::NotFound)?,
        answers: serde_json::from_str(&answers).unwrap_or_default(),
        page: usize::try_from(r.try_get::<i64, _>("page")?).unwrap_or(0),
        updated_at: r.try_get("updated_at")?,
    }))
}

/// The applicant's unfinished applications, newest first: (service code, saved at).
pub async fn drafts_of(db: &Db, citizen_id: i64) -> Result<Vec<(String, i64)>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT service_code, updated_at FROM case_drafts WHERE citizen_id = $1 \
         ORDER BY updated_at DESC",
    )
    .bind(citizen_id)
    .fetch_all(db.pool())
    .await?)
}

/// Saves the answers of the page the applicant is on (nothing typed is
/// lost, even when it does not validate yet).
pub async fn save_draft(
    db: &Db,
    citizen: &Citizen,
    draft: &mut Draft,
    posted: &Answers,
    page: usize,
) -> Result<(), DomainError> {
    merge_page(&draft.schema, &mut draft.answers, posted, Some(draft.page));
    draft
        .schema
        .normalize(&mut draft.answers, &profile_of(citizen));
    draft.page = page.min(draft.schema.pages.len());
    sqlx::query("UPDATE case_drafts SET answers = $2, page = $3, updated_at = $4 WHERE id = $1")
        .bind(draft.id)
        .bind(serde_json::to_string(&draft.answers).unwrap_or_default())
        .bind(i64::try_from(draft.page).unwrap_or(0))
        .bind(crate::now().timestamp())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Replaces the answers of one page (or of the whole form) with what was
/// posted, so a cleared field is cleared and a removed row is removed.
fn merge_page(schema: &FormSchema, answers: &mut Answers, posted: &Answers, page: Option<usize>) {
    let keys: Vec<&str> = schema
        .pages
        .iter()
        .enumerate()
        .filter(|(i, _)| page.is_none_or(|p| p == *i))
        .flat_map(|(_, p)| p.fields.iter().map(|f| f.key.as_str()))
        .collect();
    for key in keys {
        let prefix = format!("{key}.");
        answers.retain(|k, _| k != key && !k.starts_with(&prefix));
        for (k, v) in posted {
            if k == key || k.starts_with(&prefix) {
                answers.insert(k.clone(), v.chars().take(5000).collect());
            }
        }
    }
}

/// Files per field key, as the form's validation counts them.
pub fn file_counts(files: &[CaseFile]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for f in files
        .iter()
        .filter(|f| f.replaced == 0 && f.kind == "material")
    {
        *counts.entry(f.field_key.clone()).or_insert(0) += 1;
    }
    counts
}

const SELECT_FILE: &str = "SELECT id, field_key, material, kind, file_name, content_type, size, \
    sha256, storage_key, uploaded_by, uploaded_at, replaced FROM case_files";

pub async fn draft_files(db: &Db, draft_id: i64) -> Result<Vec<CaseFile>, DomainError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_FILE} WHERE draft_id = $1 ORDER BY id"
    )))
    .bind(draft_id)
    .fetch_all(db.pool())
    .await?)
}

pub async fn case_files(db: &Db, case_id: i64) -> Result<Vec<CaseFile>, DomainError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_FILE} WHERE case_id = $1 ORDER BY id"
    )))
    .bind(case_id)
    .fetch_all(db.pool())
    .await?)
}

/// One file of a case.
pub async fn case_file(db: &Db, case_id: i64, file_id: i64) -> Result<CaseFile, DomainError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_FILE} WHERE case_id = $1 AND id = $2"
    )))
    .bind(case_id)
    .bind(file_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(DomainError::NotFound)
}

/// Where an upload goes.
pub enum Owner {
    Draft(i64),
    Case(i64),
}

/// A checked upload.
pub struct Upload<'a> {
    pub field_key: &'a str,
    pub file_name: &'a str,
    pub body: Vec<u8>,
}

const MAX_FILES_PER_FIELD: usize = 10;

/// Checks and stores one uploaded file. A file of the wrong type or size
/// is refused with a clear reason and nothing is stored.
async fn store_file(
    desk: &Desk<'_>,
    owner: Owner,
    material: &str,
    kind: &str,
    upload: Upload<'_>,
    by: &str,
) -> Result<i64, DomainError> {
    let refuse = |code: &'static str, detail: String| {
        DomainError::Form(vec![FormError {
            key: upload.field_key.to_string(),
            code,
            detail,
        }])
    };
    if upload.body.is_empty() {
        return Err(refuse("file_empty", String::new()));
    }
    if upload.body.len() > desk.settings.max_file_bytes() {
        return Err(refuse(
            "file_too_large",
            desk.settings.max_file_mb.to_string(),
        ));
    }
    let Some(content_type) = sniff(&upload.body) else {
        return Err(refuse("file_type", String::new()));
    };
    let (col, owner_id) = match owner {
        Owner::Draft(id) => ("draft_id", id),
        Owner::Case(id) => ("case_id", id),
    };
    let existing: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM case_files WHERE {col} = $1 AND field_key = $2 AND replaced = 0"
    )))
    .bind(owner_id)
    .bind(upload.field_key)
    .fetch_one(desk.db.pool())
    .await?;
    if usize::try_from(existing).unwrap_or(0) >= MAX_FILES_PER_FIELD {
        return Err(refuse("file_count", MAX_FILES_PER_FIELD.to_string()));
    }
    let name: String = upload
        .file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(120)
        .collect();
    let key = format!("cases/{}", uuid::Uuid::new_v4().simple());
    let size = i64::try_from(upload.body.len()).unwrap_or(i64::MAX);
    let sha = hex::encode(Sha256::digest(&upload.body));
    desk.files
        .put(&key, upload.body)
        .await
        .map_err(|e| DomainError::Files(e.to_string()))?;
    let inserted = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "INSERT INTO case_files ({col}, field_key, material, kind, file_name, content_type, size, \
         sha256, storage_key, uploaded_by, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id"
    )))
    .bind(owner_id)
    .bind(upload.field_key)
    .bind(material)
    .bind(kind)
    .bind(if name.is_empty() {
        "file".to_string()
    } else {
        name
    })
    .bind(content_type)
    .bind(size)
    .bind(sha)
    .bind(&key)
    .bind(by)
    .bind(crate::now().timestamp())
    .fetch_one(desk.db.pool())
    .await;
    match inserted {
        Ok(id) => Ok(id),
        Err(e) => {
            // The row was not written: do not keep an orphaned body.
            let _ = desk.files.delete(&key).await;
            Err(e.into())
        }
    }
}

/// Adds a material to a draft.
pub async fn add_draft_file(
    desk: &Desk<'_>,
    citizen: &Citizen,
    draft: &Draft,
    upload: Upload<'_>,
) -> Result<i64, DomainError> {
    let Some(material) = draft.schema.material_for(upload.field_key) else {
        return Err(DomainError::NotFound);
    };
    store_file(
        desk,
        Owner::Draft(draft.id),
        &material,
        "material",
        upload,
        &citizen.label(),
    )
    .await
}

/// Removes a material from a draft (the body too: it was never filed).
pub async fn remove_draft_file(
    desk: &Desk<'_>,
    draft: &Draft,
    file_id: i64,
) -> Result<(), DomainError> {
    let key: Option<String> =
        sqlx::query_scalar("SELECT storage_key FROM case_files WHERE id = $1 AND draft_id = $2")
            .bind(file_id)
            .bind(draft.id)
            .fetch_optional(desk.db.pool())
            .await?;
    let Some(key) = key else {
        return Err(DomainError::NotFound);
    };
    sqlx::query("DELETE FROM case_files WHERE id = $1")
        .bind(file_id)
        .execute(desk.db.pool())
        .await?;
    let _ = desk.files.delete(&key).await;
    Ok(())
}

/// Starting an application needs a published online item and the item's
/// real-name level.
pub fn can_apply(citizen: &Citizen, item: &ServiceItem) -> Result<(), DomainError> {
    if item.status != Status::Published || !item.online {
        return Err(DomainError::NotFound);
    }
    if citizen.level < item.realname_level {
        return Err(DomainError::Conflict("realname_level"));
    }
    Ok(())
}

fn progress_link(desk: &Desk<'_>) -> String {
    format!("{}/progress", desk.public_url.trim_end_matches('/'))
}

/// Files the draft as a case: everything is validated again, the case gets
/// its number, the materials move over, and the applicant is told.
pub async fn submit(
    desk: &Desk<'_>,
    citizen: &Citizen,
    item: &ServiceItem,
) -> Result<Case, DomainError> {
    can_apply(citizen, item)?;
    let Some(mut draft) = find_draft(desk.db, citizen.id, &item.code).await? else {
        return Err(DomainError::NotFound);
    };
    draft
        .schema
        .normalize(&mut draft.answers, &profile_of(citizen));
    let files = draft_files(desk.db, draft.id).await?;
    let errors = draft
        .schema
        .validate(None, &draft.answers, &file_counts(&files));
    if !errors.is_empty() {
        return Err(DomainError::Form(errors));
    }
    let now = crate::now();
    let today = local_date(now);
    let dept_id: i64 = sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
        .bind(&item.department_code)
        .fetch_one(desk.db.pool())
        .await?;
    let intake = desk.settings.intake_working_days;
    let d = Deadlines::new(
        desk.calendar,
        today,
        intake,
        intake,
        desk.settings.yellow_percent,
    );
    let name = draft
        .answers
        .get("applicant_name")
        .filter(|v| !v.trim().is_empty())
        .cloned()
        .unwrap_or_else(|| citizen.name.clone());
    let phone = draft
        .answers
        .get("applicant_phone")
        .filter(|v| !v.trim().is_empty())
        .cloned()
        .unwrap_or_else(|| citizen.phone.clone());
    let mut tx = desk.db.pool().begin().await?;
    let number = next_number(&mut tx, &desk.settings.number_prefix, today).await?;
    let case_id: i64 = sqlx::query_scalar(
        "INSERT INTO cases (number, service_code, service_name, department_id, citizen_id, \
         applicant_name, applicant_phone, form_version, form_schema, answers, state, \
         promised_days, legal_days, submitted_at, due_on, legal_due_on, yellow_on, updated_at, \
         todo, running) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17, $18, 1, 1) RETURNING id",
    )
    .bind(&number)
    .bind(&item.code)
    .bind(&item.name)
    .bind(dept_id)
    .bind(citizen.id)
    .bind(name.trim())
    .bind(phone.trim())
    .bind(draft.form_version)
    .bind(serde_json::to_string(&draft.schema).unwrap_or_default())
    .bind(serde_json::to_string(&draft.answers).unwrap_or_default())
    .bind(CaseState::Submitted.slug())
    .bind(i64::from(item.promised_limit_days))
    .bind(i64::from(item.legal_limit_days))
    .bind(now.timestamp())
    .bind(day_text(d.due_on))
    .bind(day_text(d.legal_due_on))
    .bind(day_text(d.yellow_on))
    .bind(now.timestamp())
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("UPDATE case_files SET case_id = $1, draft_id = NULL WHERE draft_id = $2")
        .bind(case_id)
        .bind(draft.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM case_drafts WHERE id = $1")
        .bind(draft.id)
        .execute(&mut *tx)
        .await?;
    record_event(
        &mut tx,
        case_id,
        &citizen.label(),
        &citizen.masked_name(),
        CaseAction::Submit,
        CaseState::Submitted,
        CaseState::Submitted,
        "",
    )
    .await?;
    let link = progress_link(desk);
    notify::case_event(
        &mut tx,
        "submit",
        &notify::About {
            citizen_id: Some(citizen.id),
            phone: phone.trim(),
            number: &number,
            service: &item.name,
            note: "",
            progress_url: &link,
        },
    )
    .await?;
    schedule_supervision(&mut tx, case_id, &d).await?;
    tx.commit().await?;
    let mut conn = desk.db.pool().acquire().await?;
    load(&mut conn, &number).await
}

#[allow(clippy::too_many_arguments)]
async fn record_event(
    conn: &mut AnyConnection,
    case_id: i64,
    actor: &str,
    actor_label: &str,
    action: CaseAction,
    from: CaseState,
    to: CaseState,
    note: &str,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO case_events (case_id, at, actor, actor_label, action, from_state, to_state, \
         note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(case_id)
    .bind(crate::now().timestamp())
    .bind(actor)
    .bind(actor_label)
    .bind(action.slug())
    .bind(from.slug())
    .bind(to.slug())
    .bind(note)
    .execute(conn)
    .await?;
    Ok(())
}

/// 09:00 Beijing time on a day, as a timestamp.
fn nine_am(day: NaiveDate) -> i64 {
    day.and_hms_opt(1, 0, 0)
        .map(|t| t.and_utc().timestamp())
        .unwrap_or(0)
}

/// Queues the reminder (when the light turns yellow) and the escalation
/// (the morning after the deadline) for the current deadlines.
async fn schedule_supervision(
    conn: &mut AnyConnection,
    case_id: i64,
    d: &Deadlines,
) -> Result<(), DomainError> {
    let payload = serde_json::json!({ "case_id": case_id });
    jobs::enqueue(
        conn,
        "case_remind",
        &payload,
        nine_am(d.yellow_on),
        Some(&format!("remind:{case_id}:{}", d.due_on)),
    )
    .await?;
    jobs::enqueue(
        conn,
        "case_escalate",
        &payload,
        nine_am(d.due_on.succ_opt().unwrap_or(d.due_on)),
        Some(&format!("escalate:{case_id}:{}", d.due_on)),
    )
    .await
}

/// Who acts on a case.
pub enum Actor<'a> {
    Staff(&'a StaffSession),
    Applicant(&'a Citizen),
}

impl Actor<'_> {
    fn id(&self) -> String {
        match self {
            Actor::Staff(s) => s.user.username.clone(),
            Actor::Applicant(c) => c.label(),
        }
    }
    fn label(&self) -> String {
        match self {
            Actor::Staff(s) => s.user.display_name.clone(),
            Actor::Applicant(c) => c.masked_name(),
        }
    }
}

/// What a step needs besides the action.
#[derive(Debug, Clone, Default)]
pub struct Step {
    pub reason: String,
    /// For 补正: the answers to change.
    pub fields: Vec<String>,
    /// For 转办: the receiving unit.
    pub to_unit: Option<i64>,
    /// For 送达.
    pub delivery: Option<Delivery>,
    pub tracking_no: String,
    /// For 补正后提交: the corrected answers.
    pub answers: Answers,
    /// The revision the person saw; a step on an older one is refused.
    pub revision: Option<i64>,
}

/// A staff member may act on a case of a unit inside their scope.
pub fn staff_sees(staff: &StaffSession, department_id: i64) -> bool {
    staff.can(Perm::CasesHandle) && staff.scope.covers(department_id)
}

/// One step of the workflow, in one transaction: the rule check, the new
/// state, the clock, the event, the message.
pub async fn act(
    desk: &Desk<'_>,
    actor: Actor<'_>,
    number: &str,
    action: CaseAction,
    step: Step,
) -> Result<Case, DomainError> {
    let mut tx = desk.db.pool().begin().await?;
    let case = load(&mut tx, number).await?;
    match (&actor, action.role()) {
        (Actor::Staff(s), Role::Staff) if staff_sees(s, case.department_id) => {}
        (Actor::Applicant(c), Role::Applicant) if case.citizen_id == Some(c.id) => {}
        (Actor::Staff(s), _) if staff_sees(s, case.department_id) => {
            return Err(DomainError::Conflict("not_allowed"));
        }
        _ => return Err(DomainError::NotFound),
    }
    if step.revision.is_some_and(|r| r != case.revision) {
        return Err(DomainError::Conflict("stale"));
    }
    let resume_to = case.resume_state.unwrap_or(CaseState::Submitted);
    let Some(to) = case.state.after(action, resume_to) else {
        return Err(DomainError::Conflict("not_allowed"));
    };
    let reason = step.reason.trim().chars().take(2000).collect::<String>();
    let mut errs = Vec::new();
    if action.needs_reason() && reason.is_empty() {
        errs.push(FieldError::new("reason", "required", ""));
    }
    let today = local_date(crate::now());
    let cal = desk.calendar;
    let pct = desk.settings.yellow_percent;
    let mut deadlines = case.deadlines();
    let mut accepted_on = case.accepted_on;
    let mut paused_on = case.paused_on;
    let mut resume_state = case.resume_state;
    let mut correction = case.correction.clone();
    let mut outcome = case.outcome.clone();
    let mut delivery = case.delivery;
    let mut tracking = case.tracking_no.clone();
    let mut department_id = case.department_id;
    let mut answers = case.answers.clone();
    let mut concluded_at = case.concluded_at;
    let mut note = reason.clone();
    let promised = u32::try_from(case.promised_days).unwrap_or(0);
    let legal = u32::try_from(case.legal_days).unwrap_or(0);
    let resumed = |d: Deadlines, since: Option<NaiveDate>| {
        d.shifted(cal, since.map_or(0, |p| cal.working_days_between(p, today)))
    };
    match action {
        CaseAction::Accept => {
            accepted_on = Some(today);
            deadlines = Deadlines::new(cal, today, promised, legal, pct);
        }
        CaseAction::Correct => {
            let valid: Vec<String> = step
                .fields
                .iter()
                .filter(|k| case.schema.field(k).is_some())
                .cloned()
                .collect();
            resume_state = Some(case.state);
            paused_on = Some(today);
            if !valid.is_empty() {
                let labels: Vec<String> = valid
                    .iter()
                    .filter_map(|k| case.schema.field(k).map(|f| f.label.clone()))
                    .collect();
                note = format!("{reason}（需补正：{}）", labels.join("、"));
            }
            correction = Some(Correction {
                reason: reason.clone(),
                fields: valid,
            });
        }
        CaseAction::Resubmit => {
            let Actor::Applicant(citizen) = &actor else {
                return Err(DomainError::Conflict("not_allowed"));
            };
            // Only the answers staff asked about may change.
            let mut posted = step.answers.clone();
            posted.retain(|k, _| case.correctable(k));
            for f in case.schema.fields().filter(|f| case.correctable(&f.key)) {
                let prefix = format!("{}.", f.key);
                answers.retain(|k, _| *k != f.key && !k.starts_with(&prefix));
            }
            answers.extend(posted);
            case.schema.normalize(&mut answers, &profile_of(citizen));
            let files = case_files(desk.db, case.id).await?;
            let form_errors = case.schema.validate(None, &answers, &file_counts(&files));
            if !form_errors.is_empty() {
                return Err(DomainError::Form(form_errors));
            }
            if resume_to == CaseState::Submitted {
                let intake = desk.settings.intake_working_days;
                deadlines = Deadlines::new(cal, today, intake, intake, pct);
            } else {
                deadlines = resumed(deadlines, paused_on);
            }
            paused_on = None;
            resume_state = None;
            correction = None;
        }
        CaseAction::Suspend => paused_on = Some(today),
        CaseAction::Resume => {
            deadlines = resumed(deadlines, paused_on);
            paused_on = None;
        }
        CaseAction::Approve => outcome = "approved".into(),
        CaseAction::Deny => outcome = "denied".into(),
        CaseAction::Conclude => concluded_at = Some(crate::now().timestamp()),
        CaseAction::Deliver => match step.delivery {
            None => errs.push(FieldError::new("delivery", "required", "")),
            Some(d) => {
                tracking = step.tracking_no.trim().chars().take(60).collect();
                if d == Delivery::Mail && tracking.is_empty() {
                    errs.push(FieldError::new("tracking_no", "required", ""));
                }
                // An approval delivered online needs the document to download.
                if d == Delivery::Online && case.outcome == "approved" {
                    let results = case_files(desk.db, case.id)
                        .await?
                        .iter()
                        .filter(|f| f.kind == "result")
                        .count();
                    if results == 0 {
                        errs.push(FieldError::new("result_file", "required", ""));
                    }
                }
                delivery = Some(d);
                note = if d == Delivery::Mail {
                    format!("{}（运单号 {tracking}）", d.label())
                } else {
                    d.label().to_string()
                };
            }
        },
        CaseAction::Transfer => {
            let target = match step.to_unit {
                Some(u) if u != case.department_id => {
                    sqlx::query_scalar::<_, String>("SELECT name FROM departments WHERE id = $1")
                        .bind(u)
                        .fetch_optional(&mut *tx)
                        .await?
                }
                _ => None,
            };
            match (target, step.to_unit) {
                (Some(name), Some(u)) => {
                    department_id = u;
                    note = format!("转至{name}：{reason}");
                }
                _ => errs.push(FieldError::new("to_unit", "required", "")),
            }
        }
        CaseAction::Submit
        | CaseAction::Withdraw
        | CaseAction::Reject
        | CaseAction::Remind
        | CaseAction::Escalate => {}
    }
    if !errs.is_empty() {
        return Err(DomainError::Invalid(errs));
    }
    let updated = sqlx::query(
        "UPDATE cases SET state = $2, resume_state = $3, outcome = $4, correction = $5, \
         delivery = $6, tracking_no = $7, accepted_on = $8, due_on = $9, legal_due_on = $10, \
         yellow_on = $11, paused_on = $12, concluded_at = $13, department_id = $14, answers = $15, \
         updated_at = $16, revision = revision + 1, todo = $18, running = $19 \
         WHERE id = $1 AND revision = $17",
    )
    .bind(case.id)
    .bind(to.slug())
    .bind(resume_state.map(|s| s.slug()).unwrap_or(""))
    .bind(&outcome)
    .bind(
        correction
            .as_ref()
            .map(|c| serde_json::to_string(c).unwrap_or_default())
            .unwrap_or_default(),
    )
    .bind(delivery.map(|d| d.slug()).unwrap_or(""))
    .bind(&tracking)
    .bind(accepted_on.map(day_text).unwrap_or_default())
    .bind(day_text(deadlines.due_on))
    .bind(day_text(deadlines.legal_due_on))
    .bind(day_text(deadlines.yellow_on))
    .bind(paused_on.map(day_text).unwrap_or_default())
    .bind(concluded_at)
    .bind(department_id)
    .bind(serde_json::to_string(&answers).unwrap_or_default())
    .bind(crate::now().timestamp())
    .bind(case.revision)
    .bind(i64::from(to.staff_todo()))
    .bind(i64::from(to.clock_running()))
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(DomainError::Conflict("stale"));
    }
    record_event(
        &mut tx,
        case.id,
        &actor.id(),
        &actor.label(),
        action,
        case.state,
        to,
        &note,
    )
    .await?;
    if let Actor::Staff(s) = &actor {
        audit::append(
            &mut tx,
            &Entry::staff(&s.user.username, "case.act", &case.number).detail(action.slug()),
        )
        .await?;
    }
    if deadlines != case.deadlines() && to.clock_running() {
        schedule_supervision(&mut tx, case.id, &deadlines).await?;
    }
    let link = progress_link(desk);
    notify::case_event(
        &mut tx,
        action.slug(),
        &notify::About {
            citizen_id: case.citizen_id,
            phone: &case.applicant_phone,
            number: &case.number,
            service: &case.service_name,
            note: &note,
            progress_url: &link,
        },
    )
    .await?;
    tx.commit().await?;
    let mut conn = desk.db.pool().acquire().await?;
    load(&mut conn, number).await
}

/// Adds a result document (批文, 证照, 决定书) to a decided case.
pub async fn add_result_file(
    desk: &Desk<'_>,
    staff: &StaffSession,
    number: &str,
    upload: Upload<'_>,
) -> Result<i64, DomainError> {
    let case = for_staff(desk.db, staff, number).await?;
    if !matches!(case.state, CaseState::Decided | CaseState::Concluded) {
        return Err(DomainError::Conflict("not_allowed"));
    }
    store_file(
        desk,
        Owner::Case(case.id),
        "办理结果",
        "result",
        upload,
        &staff.user.username,
    )
    .await
}

/// The applicant replaces a material while correcting; the old file stays
/// on record, marked replaced.
pub async fn replace_material(
    desk: &Desk<'_>,
    citizen: &Citizen,
    number: &str,
    upload: Upload<'_>,
) -> Result<i64, DomainError> {
    let case = for_citizen(desk.db, citizen.id, number).await?;
    if case.state != CaseState::Correction || !case.correctable(upload.field_key) {
        return Err(DomainError::Conflict("not_allowed"));
    }
    let Some(material) = case.schema.material_for(upload.field_key) else {
        return Err(DomainError::NotFound);
    };
    let field_key = upload.field_key.to_string();
    // Store the new file first: if it is refused, the old one stays current.
    let id = store_file(
        desk,
        Owner::Case(case.id),
        &material,
        "material",
        upload,
        &citizen.label(),
    )
    .await?;
    sqlx::query(
        "UPDATE case_files SET replaced = 1 WHERE case_id = $1 AND field_key = $2 AND id <> $3 \
         AND kind = 'material'",
    )
    .bind(case.id)
    .bind(&field_key)
    .bind(id)
    .execute(desk.db.pool())
    .await?;
    Ok(id)
}

// ------------------------------------------------------------------ reading

pub async fn for_staff(db: &Db, staff: &StaffSession, number: &str) -> Result<Case, DomainError> {
    let mut conn = db.pool().acquire().await?;
    let case = load(&mut conn, &normalize_number(number)).await?;
    if !staff_sees(staff, case.department_id) {
        return Err(DomainError::NotFound);
    }
    Ok(case)
}

pub async fn for_citizen(db: &Db, citizen_id: i64, number: &str) -> Result<Case, DomainError> {
    let mut conn = db.pool().acquire().await?;
    let case = load(&mut conn, &normalize_number(number)).await?;
    if case.citizen_id != Some(citizen_id) {
        return Err(DomainError::NotFound);
    }
    Ok(case)
}

/// Public progress lookup: the number and the applicant's phone must match.
pub async fn lookup(db: &Db, number: &str, phone: &str) -> Result<Option<Case>, DomainError> {
    let mut conn = db.pool().acquire().await?;
    match load(&mut conn, &normalize_number(number)).await {
        Ok(c) if !phone.trim().is_empty() && c.applicant_phone == phone.trim() => Ok(Some(c)),
        Ok(_) | Err(DomainError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn events(db: &Db, case_id: i64) -> Result<Vec<CaseEvent>, DomainError> {
    let rows = sqlx::query(
        "SELECT at, actor_label, action, from_state, to_state, note FROM case_events \
         WHERE case_id = $1 ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let action: String = r.try_get("action")?;
        let from: String = r.try_get("from_state")?;
        let to: String = r.try_get("to_state")?;
        let (Some(action), Some(from_state), Some(to_state)) = (
            CaseAction::from_slug(&action),
            CaseState::from_slug(&from),
            CaseState::from_slug(&to),
        ) else {
            continue;
        };
        out.push(CaseEvent {
            at: r.try_get("at")?,
            actor_label: r.try_get("actor_label")?,
            action,
            from_state,
            to_state,
            note: r.try_get("note")?,
        });
    }
    Ok(out)
}

/// Reads one stored file body.
pub async fn file_body(desk: &Desk<'_>, file: &CaseFile) -> Result<Vec<u8>, DomainError> {
    desk.files
        .get(&file.storage_key)
        .await
        .map_err(|e| DomainError::Files(e.to_string()))
}

/// Which list of the workbench.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tab {
    /// 待办: a step is due from staff.
    #[default]
    Todo,
    /// 已办: the staff member took a step on it.
    Done,
    /// 超期: past the deadline and still running.
    Overdue,
    /// Every case in scope.
    All,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub tab: Tab,
    pub state: Option<CaseState>,
    pub light: Option<Light>,
    pub service: String,
    /// Case number, applicant name or item name.
    pub q: String,
    pub page: u32,
}

pub const PAGE_SIZE: i64 = 50;

/// Adds a bound value and returns its placeholder.
fn bind(v: String, binds: &mut Vec<String>) -> String {
    binds.push(v);
    format!("${}", binds.len())
}

fn in_list(states: impl Iterator<Item = CaseState>) -> String {
    states
        .map(|s| format!("'{}'", s.slug()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Lists count at most this many rows; beyond it the page says "more than".
pub const COUNT_CAP: i64 = 10_000;

/// A page of the workbench.
#[derive(Debug, Clone, Default)]
pub struct CaseList {
    pub rows: Vec<CaseRow>,
    /// Matching cases, counted up to [`COUNT_CAP`].
    pub total: i64,
    /// More than [`COUNT_CAP`] cases match.
    pub capped: bool,
}

/// Whether typed text is a case number rather than a name.
fn looks_like_number(text: &str) -> bool {
    let n = normalize_number(text);
    n.len() >= 8
        && n.chars().any(|c| c.is_ascii_digit())
        && n.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The workbench list: scope, tab, filters, most urgent first. Every list
/// reads one index range (`todo`/`running` with the deadline, or the last
/// update), and counting stops at [`COUNT_CAP`], so a page costs the same
/// over a thousand cases or a million.
pub async fn list(
    db: &Db,
    staff: &StaffSession,
    q: &ListQuery,
    today: NaiveDate,
) -> Result<CaseList, DomainError> {
    let mut wheres: Vec<String> = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    // Every state name below comes from the closed vocabulary, not input.
    let paused = in_list(CaseState::ALL.iter().copied().filter(|s| s.paused()));
    match &staff.scope {
        Scope::All => {}
        Scope::Units(ids) => {
            let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
            wheres.push(format!("c.department_id IN ({})", ids.join(", ")));
        }
    }
    let today_s = day_text(today);
    match q.tab {
        Tab::Todo => wheres.push("c.todo = 1".into()),
        Tab::Done => {
            let p = bind(staff.user.username.clone(), &mut binds);
            wheres.push(format!(
                "c.id IN (SELECT e.case_id FROM case_events e WHERE e.actor = {p})"
            ));
        }
        Tab::Overdue => {
            let p = bind(today_s.clone(), &mut binds);
            wheres.push(format!("c.running = 1 AND c.due_on < {p}"));
        }
        Tab::All => {}
    }
    if let Some(s) = q.state {
        let p = bind(s.slug().to_string(), &mut binds);
        wheres.push(format!("c.state = {p}"));
    }
    match q.light {
        Some(Light::Red) => {
            let p = bind(today_s.clone(), &mut binds);
            wheres.push(format!("c.running = 1 AND c.due_on < {p}"));
        }
        Some(Light::Yellow) => {
            let p = bind(today_s.clone(), &mut binds);
            wheres.push(format!(
                "c.running = 1 AND c.due_on >= {p} AND c.yellow_on <= {p}"
            ));
        }
        Some(Light::Green) => {
            let p = bind(today_s.clone(), &mut binds);
            wheres.push(format!(
                "c.running = 1 AND c.due_on >= {p} AND c.yellow_on > {p}"
            ));
        }
        Some(Light::Paused) => wheres.push(format!("c.state IN ({paused})")),
        Some(Light::Off) => wheres.push(format!("c.running = 0 AND c.state NOT IN ({paused})")),
        None => {}
    }
    if !q.service.trim().is_empty() {
        let p = bind(q.service.trim().to_string(), &mut binds);
        wheres.push(format!("c.service_code = {p}"));
    }
    let text = q.q.trim();
    if !text.is_empty() {
        if looks_like_number(text) {
            let p = bind(normalize_number(text), &mut binds);
            wheres.push(format!("c.number = {p}"));
        } else {
            let p = bind(text.to_string(), &mut binds);
            wheres.push(format!("c.applicant_name = {p}"));
        }
    }
    let filter = if wheres.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", wheres.join(" AND "))
    };
    let by_deadline = matches!(q.tab, Tab::Todo | Tab::Overdue)
        || matches!(q.light, Some(Light::Red | Light::Yellow | Light::Green));
    let order = if by_deadline {
        "c.due_on, c.yellow_on, c.id"
    } else {
        "c.updated_at DESC, c.id DESC"
    };
    let count_sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM cases c{filter} LIMIT {}) AS capped",
        COUNT_CAP + 1
    );
    let mut count = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql));
    for b in &binds {
        count = count.bind(b.clone());
    }
    let counted: i64 = count.fetch_one(db.pool()).await?;
    let sql = format!(
        "SELECT c.id, c.number, c.service_name, d.name AS department_name, c.applicant_name, \
         c.state, c.outcome, c.submitted_at, c.due_on, c.yellow_on FROM cases c \
         JOIN departments d ON d.id = c.department_id{filter} ORDER BY {order} \
         LIMIT {PAGE_SIZE} OFFSET {}",
        i64::from(q.page) * PAGE_SIZE
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in &binds {
        query = query.bind(b.clone());
    }
    let rows = query.fetch_all(db.pool()).await?;
    Ok(CaseList {
        rows: rows_to_list(&rows, today)?,
        total: counted.min(COUNT_CAP),
        capped: counted > COUNT_CAP,
    })
}

fn rows_to_list(rows: &[sqlx::any::AnyRow], today: NaiveDate) -> Result<Vec<CaseRow>, DomainError> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let state: String = r.try_get("state")?;
        let Some(state) = CaseState::from_slug(&state) else {
            continue;
        };
        let due_on = date(&r.try_get::<String, _>("due_on")?).unwrap_or(today);
        let yellow_on = date(&r.try_get::<String, _>("yellow_on")?).unwrap_or(today);
        out.push(CaseRow {
            id: r.try_get("id")?,
            number: r.try_get("number")?,
            service_name: r.try_get("service_name")?,
            department_name: r.try_get("department_name")?,
            applicant_masked: mask_name(&r.try_get::<String, _>("applicant_name")?),
            state,
            outcome: r.try_get("outcome")?,
            submitted_at: r.try_get("submitted_at")?,
            due_on,
            light: Light::of(
                state.clock_running(),
                state.paused(),
                today,
                due_on,
                yellow_on,
            ),
        });
    }
    Ok(out)
}

/// A reminder or escalation from electronic supervision, for the desk.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    pub number: String,
    pub service_name: String,
    pub action: CaseAction,
    pub at: i64,
    pub note: String,
}

/// Reminders and escalations of the last `days` days on cases in the staff
/// member's scope that are still running, newest first.
pub async fn alerts(db: &Db, staff: &StaffSession, days: i64) -> Result<Vec<Alert>, DomainError> {
    let scope = match &staff.scope {
        Scope::All => String::new(),
        Scope::Units(ids) => format!(
            " AND c.department_id IN ({})",
            ids.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let sql = format!(
        "SELECT c.number, c.service_name, e.action, e.at, e.note FROM case_events e \
         JOIN cases c ON c.id = e.case_id WHERE e.actor = 'system' AND e.at >= $1 \
         AND c.running = 1{scope} ORDER BY e.at DESC, e.id DESC LIMIT 50"
    );
    let rows: Vec<(String, String, String, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(crate::now().timestamp() - days * 86_400)
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(number, service_name, action, at, note)| {
            Some(Alert {
                action: CaseAction::from_slug(&action)?,
                number,
                service_name,
                at,
                note,
            })
        })
        .collect())
}

/// 我的办件: the applicant's cases, newest first.
pub async fn of_citizen(
    db: &Db,
    citizen_id: i64,
    today: NaiveDate,
) -> Result<Vec<CaseRow>, DomainError> {
    let rows = sqlx::query(
        "SELECT c.id, c.number, c.service_name, d.name AS department_name, c.applicant_name, \
         c.state, c.outcome, c.submitted_at, c.due_on, c.yellow_on FROM cases c \
         JOIN departments d ON d.id = c.department_id WHERE c.citizen_id = $1 \
         ORDER BY c.submitted_at DESC, c.id DESC LIMIT 500",
    )
    .bind(citizen_id)
    .fetch_all(db.pool())
    .await?;
    rows_to_list(&rows, today)
}

/// Accepts several submitted cases at once; returns (accepted, skipped numbers).
pub async fn batch_accept(
    desk: &Desk<'_>,
    staff: &StaffSession,
    numbers: &[String],
) -> Result<(usize, Vec<String>), DomainError> {
    let mut accepted = 0;
    let mut skipped = Vec::new();
    for n in numbers.iter().take(200) {
        match act(
            desk,
            Actor::Staff(staff),
            n,
            CaseAction::Accept,
            Step::default(),
        )
        .await
        {
            Ok(_) => accepted += 1,
            Err(DomainError::NotFound | DomainError::Conflict(_)) => skipped.push(n.clone()),
            Err(e) => return Err(e),
        }
    }
    Ok((accepted, skipped))
}

/// Runs a reminder or escalation job: recorded on the case only if the
/// light still says so (a pause may have moved the deadline, in which case
/// a job for the new deadline is already queued).
pub async fn supervise(db: &Db, kind: &str, payload: &str) -> Result<(), DomainError> {
    let v: serde_json::Value = serde_json::from_str(payload).map_err(|_| DomainError::NotFound)?;
    let id = v
        .get("case_id")
        .and_then(serde_json::Value::as_i64)
        .ok_or(DomainError::NotFound)?;
    let mut tx = db.pool().begin().await?;
    let number: Option<String> = sqlx::query_scalar("SELECT number FROM cases WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(number) = number else {
        return Ok(());
    };
    let case = load(&mut tx, &number).await?;
    let light = case.light(local_date(crate::now()));
    let action = match (kind, light) {
        ("case_remind", Light::Yellow) => CaseAction::Remind,
        ("case_escalate", Light::Red) => CaseAction::Escalate,
        _ => return Ok(()),
    };
    let note = format!("办理期限 {}", case.due_on.format("%Y-%m-%d"));
    record_event(
        &mut tx,
        case.id,
        "system",
        "电子监察",
        action,
        case.state,
        case.state,
        &note,
    )
    .await?;
    if action == CaseAction::Escalate {
        audit::append(
            &mut tx,
            &Entry::staff("system", "case.escalate", &case.number).detail(note),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_numbers_read_as_prefix_date_and_count() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default();
        assert_eq!(format_number("ZB", day, 12), "ZB2026112400012");
        assert_eq!(normalize_number(" zb-20261124-00012 "), "ZB2026112400012");
    }

    #[test]
    fn posting_a_page_replaces_only_that_page() {
        let schema = FormSchema::from_json(
            r#"{"title":"t","pages":[
                {"title":"a","fields":[{"key":"x","label":"X","kind":"text"}]},
                {"title":"b","fields":[{"key":"g","label":"G","kind":"group",
                  "fields":[{"key":"n","label":"N","kind":"text"}]}]}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let mut answers: Answers = [
            ("x".to_string(), "keep".to_string()),
            ("g.#".to_string(), "2".to_string()),
            ("g.0.n".to_string(), "a".to_string()),
            ("g.1.n".to_string(), "b".to_string()),
        ]
        .into();
        let posted: Answers = [
            ("g.#".to_string(), "1".to_string()),
            ("g.0.n".to_string(), "z".to_string()),
            ("x".to_string(), "ignored".to_string()),
        ]
        .into();
        merge_page(&schema, &mut answers, &posted, Some(1));
        assert_eq!(answers.get("x").map(String::as_str), Some("keep"));
        assert_eq!(answers.get("g.0.n").map(String::as_str), Some("z"));
        assert!(!answers.contains_key("g.1.n"));
    }
}
