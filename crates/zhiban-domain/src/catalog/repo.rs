//! Catalog queries and writes. Every write happens in one transaction and
//! leaves a revision snapshot behind.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::*;
use crate::{ActorName, Db, DomainError, Tx};

/// A department row as imported (parent referenced by code).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct DepartmentInput {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub parent_code: String,
    pub level: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub hours: String,
}

/// One saved version of an item.
#[derive(Debug, Clone, Serialize)]
pub struct Revision {
    pub version: i64,
    pub action: String,
    pub changed_by: String,
    pub changed_at: String,
    pub note: String,
    pub snapshot: ServiceInput,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
}

const SELECT_SERVICE: &str = "SELECT s.code, s.main_code, s.main_name, s.name, s.handling_kind, \
    s.item_type, d.code AS dept_code, d.name AS dept_name, s.implementing_body, s.legal_basis, \
    s.audience, s.life_events, s.police_domain, s.conditions, s.materials, s.steps, \
    s.legal_limit_days, s.promised_limit_days, s.fees, s.fee_basis, s.place, s.hours, s.visits, \
    s.online, s.enquiry_phone, s.complaint_phone, s.high_frequency, s.realname_level, s.status, s.version, \
    s.updated_at, s.updated_by, s.name_en, s.aliases FROM services s JOIN departments d ON d.id = s.department_id";

fn service_from_row(r: &AnyRow) -> Result<ServiceItem, sqlx::Error> {
    let json = |col: &str| -> Result<String, sqlx::Error> { r.try_get::<String, _>(col) };
    let bad = |col: &str| sqlx::Error::ColumnDecode {
        index: col.to_string(),
        source: "unknown value".into(),
    };
    Ok(ServiceItem {
        code: r.try_get("code")?,
        main_code: r.try_get("main_code")?,
        main_name: r.try_get("main_name")?,
        name: r.try_get("name")?,
        name_en: r.try_get("name_en")?,
        aliases: r
            .try_get::<String, _>("aliases")?
            .lines()
            .map(str::to_string)
            .filter(|a| !a.is_empty())
            .collect(),
        handling_kind: HandlingKind::from_slug(&r.try_get::<String, _>("handling_kind")?)
            .ok_or_else(|| bad("handling_kind"))?,
        item_type: ItemType::from_slug(&r.try_get::<String, _>("item_type")?)
            .ok_or_else(|| bad("item_type"))?,
        department_code: r.try_get("dept_code")?,
        department_name: r.try_get("dept_name")?,
        implementing_body: r.try_get("implementing_body")?,
        legal_basis: r.try_get("legal_basis")?,
        audience: Audience::from_slug(&r.try_get::<String, _>("audience")?)
            .ok_or_else(|| bad("audience"))?,
        life_events: r
            .try_get::<String, _>("life_events")?
            .split(',')
            .filter_map(LifeEvent::from_slug)
            .collect(),
        police_domain: PoliceDomain::from_slug(&r.try_get::<String, _>("police_domain")?),
        conditions: serde_json::from_str(&json("conditions")?).map_err(|_| bad("conditions"))?,
        materials: serde_json::from_str(&json("materials")?).map_err(|_| bad("materials"))?,
        steps: serde_json::from_str(&json("steps")?).map_err(|_| bad("steps"))?,
        legal_limit_days: u32::try_from(r.try_get::<i64, _>("legal_limit_days")?).unwrap_or(0),
        promised_limit_days: u32::try_from(r.try_get::<i64, _>("promised_limit_days")?)
            .unwrap_or(0),
        fees: r.try_get("fees")?,
        fee_basis: r.try_get("fee_basis")?,
        place: r.try_get("place")?,
        hours: r.try_get("hours")?,
        visits: u32::try_from(r.try_get::<i64, _>("visits")?).unwrap_or(0),
        online: r.try_get::<i64, _>("online")? != 0,
        enquiry_phone: r.try_get("enquiry_phone")?,
        complaint_phone: r.try_get("complaint_phone")?,
        high_frequency: r.try_get::<i64, _>("high_frequency")? != 0,
        realname_level: r.try_get("realname_level")?,
        status: Status::from_slug(&r.try_get::<String, _>("status")?)
            .ok_or_else(|| bad("status"))?,
        version: r.try_get("version")?,
        updated_at: r.try_get("updated_at")?,
        updated_by: r.try_get("updated_by")?,
    })
}

pub async fn load_departments(db: &Db) -> Result<Vec<Department>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT id, code, name, parent_id, level, phone, address, hours \
         FROM departments ORDER BY sort, id",
    )
    .fetch_all(db.pool())
    .await?)
}

/// Department code → name, for validating catalog input.
pub async fn department_names(db: &Db) -> Result<HashMap<String, String>, DomainError> {
    Ok(load_departments(db)
        .await?
        .into_iter()
        .map(|d| (d.code, d.name))
        .collect())
}

/// Inserts or updates departments in file order (a parent must come before
/// its children), all in one transaction.
pub async fn upsert_departments(db: &Db, rows: &[DepartmentInput]) -> Result<usize, DomainError> {
    let mut tx = db.begin().await?;
    for (i, d) in rows.iter().enumerate() {
        let parent_id: Option<i64> = if d.parent_code.trim().is_empty() {
            None
        } else {
            let id: Option<i64> = sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
                .bind(d.parent_code.trim())
                .fetch_optional(&mut *tx)
                .await?;
            Some(id.ok_or_else(|| {
                DomainError::Invalid(vec![crate::FieldError::new(
                    "department",
                    "unknown_department",
                    format!("{} (row {})", d.parent_code, i + 2),
                )])
            })?)
        };
        let sort = i64::try_from(i).unwrap_or(i64::MAX);
        let updated = sqlx::query(
            "UPDATE departments SET name = $2, parent_id = $3, level = $4, phone = $5, \
             address = $6, hours = $7, sort = $8 WHERE code = $1",
        )
        .bind(d.code.trim())
        .bind(d.name.trim())
        .bind(parent_id)
        .bind(d.level.trim())
        .bind(d.phone.trim())
        .bind(d.address.trim())
        .bind(d.hours.trim())
        .bind(sort)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            sqlx::query(
                "INSERT INTO departments (code, name, parent_id, level, phone, address, hours, sort) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(d.code.trim())
            .bind(d.name.trim())
            .bind(parent_id)
            .bind(d.level.trim())
            .bind(d.phone.trim())
            .bind(d.address.trim())
            .bind(d.hours.trim())
            .bind(sort)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// Every item, or only those with `status`, ordered by code.
pub async fn list_services(
    db: &Db,
    status: Option<Status>,
) -> Result<Vec<ServiceItem>, DomainError> {
    let rows = match status {
        Some(s) => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{SELECT_SERVICE} WHERE s.status = $1 ORDER BY s.code"
            )))
            .bind(s.slug())
            .fetch_all(db.pool())
            .await?
        }
        None => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{SELECT_SERVICE} ORDER BY s.code"
            )))
            .fetch_all(db.pool())
            .await?
        }
    };
    Ok(rows
        .iter()
        .map(service_from_row)
        .collect::<Result<_, _>>()?)
}

pub async fn get_service(db: &Db, code: &str) -> Result<ServiceItem, DomainError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT_SERVICE} WHERE s.code = $1"
    )))
    .bind(code)
    .fetch_optional(db.pool())
    .await?
    .ok_or(DomainError::NotFound)?;
    Ok(service_from_row(&row)?)
}

/// How a save treats an item that exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveMode {
    /// A new item: refuse if the code is taken.
    Create,
    /// An edit of the version the editor loaded: refuse if someone saved since.
    Update { expected_version: i64 },
    /// Import: create or overwrite.
    Upsert,
}

/// Saves a validated item and records a revision. Returns the new version.
pub async fn save_service(
    db: &Db,
    item: &ServiceItem,
    mode: SaveMode,
    actor: &ActorName,
    note: &str,
) -> Result<i64, DomainError> {
    let mut tx = db.begin().await?;
    let (version, _) = save_in_tx(&mut tx, item, mode, actor, note).await?;
    tx.commit().await?;
    Ok(version)
}

async fn save_in_tx(
    tx: &mut Tx,
    item: &ServiceItem,
    mode: SaveMode,
    actor: &ActorName,
    note: &str,
) -> Result<(i64, bool), DomainError> {
    let dept_id: i64 = sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
        .bind(&item.department_code)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| {
            DomainError::Invalid(vec![crate::FieldError::new(
                "department",
                "unknown_department",
                item.department_code.clone(),
            )])
        })?;
    let current: Option<i64> = sqlx::query_scalar("SELECT version FROM services WHERE code = $1")
        .bind(&item.code)
        .fetch_optional(&mut **tx)
        .await?;
    match (mode, current) {
        (SaveMode::Create, Some(_)) => {
            return Err(DomainError::Conflict(crate::Conflict::CodeTaken));
        }
        (SaveMode::Update { .. }, None) => return Err(DomainError::NotFound),
        (SaveMode::Update { expected_version }, Some(v)) if v != expected_version => {
            return Err(DomainError::Conflict(crate::Conflict::Stale));
        }
        _ => {}
    }
    let version = current.unwrap_or(0) + 1;
    let now = tx.now().to_rfc3339();
    let life_events = item
        .life_events
        .iter()
        .map(|e| e.slug())
        .collect::<Vec<_>>()
        .join(",");
    let sql = if current.is_some() {
        "UPDATE services SET main_code = $2, main_name = $3, name = $4, handling_kind = $5, \
         item_type = $6, department_id = $7, implementing_body = $8, legal_basis = $9, \
         audience = $10, life_events = $11, police_domain = $12, conditions = $13, \
         materials = $14, steps = $15, legal_limit_days = $16, promised_limit_days = $17, \
         fees = $18, fee_basis = $19, place = $20, hours = $21, visits = $22, online = $23, \
         enquiry_phone = $24, complaint_phone = $25, high_frequency = $26, status = $27, \
         version = $28, updated_at = $29, updated_by = $30, realname_level = $31, name_en = $32, \
         aliases = $33 WHERE code = $1"
    } else {
        "INSERT INTO services (code, main_code, main_name, name, handling_kind, item_type, \
         department_id, implementing_body, legal_basis, audience, life_events, police_domain, \
         conditions, materials, steps, legal_limit_days, promised_limit_days, fees, fee_basis, \
         place, hours, visits, online, enquiry_phone, complaint_phone, high_frequency, status, \
         version, updated_at, updated_by, realname_level, name_en, aliases) VALUES ($1, $2, $3, \
         $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
         $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33)"
    };
    sqlx::query(sql)
        .bind(&item.code)
        .bind(&item.main_code)
        .bind(&item.main_name)
        .bind(&item.name)
        .bind(item.handling_kind.slug())
        .bind(item.item_type.slug())
        .bind(dept_id)
        .bind(&item.implementing_body)
        .bind(&item.legal_basis)
        .bind(item.audience.slug())
        .bind(life_events)
        .bind(item.police_domain.map(|d| d.slug()).unwrap_or(""))
        .bind(to_json(&item.conditions))
        .bind(to_json(&item.materials))
        .bind(to_json(&item.steps))
        .bind(i64::from(item.legal_limit_days))
        .bind(i64::from(item.promised_limit_days))
        .bind(&item.fees)
        .bind(&item.fee_basis)
        .bind(&item.place)
        .bind(&item.hours)
        .bind(i64::from(item.visits))
        .bind(i64::from(item.online))
        .bind(&item.enquiry_phone)
        .bind(&item.complaint_phone)
        .bind(i64::from(item.high_frequency))
        .bind(item.status.slug())
        .bind(version)
        .bind(&now)
        .bind(&actor.0)
        .bind(item.realname_level)
        .bind(&item.name_en)
        .bind(item.aliases.join("\n"))
        .execute(&mut **tx)
        .await?;
    let action = if current.is_some() {
        "update"
    } else {
        "create"
    };
    record_revision(tx, item, version, action, actor, note, &now).await?;
    crate::changes::record(tx, crate::changes::CATALOG_SERVICE, &item.code).await?;
    Ok((version, current.is_none()))
}

/// List fields are stored as JSON text in both engines.
fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

async fn record_revision(
    tx: &mut Tx,
    item: &ServiceItem,
    version: i64,
    action: &str,
    actor: &ActorName,
    note: &str,
    now: &str,
) -> Result<(), DomainError> {
    let mut snapshot = ServiceInput::from_item(item);
    snapshot.status = item.status.label().into();
    sqlx::query(
        "INSERT INTO service_revisions (service_code, version, action, changed_by, changed_at, \
         note, snapshot) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&item.code)
    .bind(version)
    .bind(action)
    .bind(&actor.0)
    .bind(now)
    .bind(note)
    .bind(serde_json::to_string(&snapshot).unwrap_or_default())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Publishes or withdraws an item; a revision records who and when.
pub async fn set_status(
    db: &Db,
    code: &str,
    status: Status,
    actor: &ActorName,
) -> Result<i64, DomainError> {
    let mut item = get_service(db, code).await?;
    if item.status == status {
        return Ok(item.version);
    }
    item.status = status;
    let action = match status {
        Status::Published => "publish",
        Status::Draft => "unpublish",
    };
    let mut tx = db.begin().await?;
    let version = item.version + 1;
    let now = db.now().to_rfc3339();
    let changed = sqlx::query(
        "UPDATE services SET status = $2, version = $3, updated_at = $4, updated_by = $5 \
         WHERE code = $1 AND version = $6",
    )
    .bind(code)
    .bind(status.slug())
    .bind(version)
    .bind(&now)
    .bind(&actor.0)
    .bind(item.version)
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() == 0 {
        return Err(DomainError::Conflict(crate::Conflict::Stale));
    }
    record_revision(&mut tx, &item, version, action, actor, "", &now).await?;
    crate::changes::record(&mut tx, crate::changes::CATALOG_SERVICE, code).await?;
    tx.commit().await?;
    Ok(version)
}

/// The change history of one item, newest first.
pub async fn history(db: &Db, code: &str) -> Result<Vec<Revision>, DomainError> {
    let rows = sqlx::query(
        "SELECT version, action, changed_by, changed_at, note, snapshot FROM service_revisions \
         WHERE service_code = $1 ORDER BY version DESC, id DESC",
    )
    .bind(code)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Revision {
                version: r.try_get("version")?,
                action: r.try_get("action")?,
                changed_by: r.try_get("changed_by")?,
                changed_at: r.try_get("changed_at")?,
                note: r.try_get("note")?,
                snapshot: serde_json::from_str(&r.try_get::<String, _>("snapshot")?)
                    .unwrap_or_default(),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Writes a whole validated import in one transaction: all rows or none.
pub async fn import_services(
    db: &Db,
    items: &[ServiceItem],
    actor: &ActorName,
) -> Result<ImportSummary, DomainError> {
    let mut tx = db.begin().await?;
    let mut summary = ImportSummary::default();
    for item in items {
        let (_, created) = save_in_tx(&mut tx, item, SaveMode::Upsert, actor, "import").await?;
        if created {
            summary.created += 1;
        } else {
            summary.updated += 1;
        }
    }
    tx.commit().await?;
    Ok(summary)
}
