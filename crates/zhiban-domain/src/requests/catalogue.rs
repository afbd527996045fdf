//! The dispatch catalogue (派单目录: category → unit) staff edit, the
//! routing the portal learns from it and the classified requests, and the
//! streets of the location picker.

use serde::Serialize;
use sqlx::Row;

use super::repo::clip;
use super::routing::{CatalogueLine, Routing};
use crate::audit::{self, Entry};
use crate::identity::Perm;
use crate::identity::staff::StaffSession;
use crate::{Db, DomainError, FieldError};

/// A category of the dispatch catalogue.
#[derive(Debug, Clone, Serialize)]
pub struct Category {
    pub id: i64,
    pub name: String,
    pub unit_id: i64,
    pub unit_code: String,
    pub unit_name: String,
    pub description: String,
}

pub async fn categories(db: &Db) -> Result<Vec<Category>, DomainError> {
    let rows = sqlx::query(
        "SELECT c.id, c.name, c.unit_id, d.code AS unit_code, d.name AS unit_name, c.description \
         FROM request_categories c JOIN departments d ON d.id = c.unit_id \
         ORDER BY c.position, c.id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Category {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                unit_id: r.try_get("unit_id")?,
                unit_code: r.try_get("unit_code")?,
                unit_name: r.try_get("unit_name")?,
                description: r.try_get("description")?,
            })
        })
        .collect()
}

/// Adds a category or changes one (same name): which unit it goes to and
/// what it covers. City-wide dispatchers only.
pub async fn save_category(
    db: &Db,
    staff: &StaffSession,
    name: &str,
    unit_id: Option<i64>,
    description: &str,
) -> Result<(), DomainError> {
    if !staff.can(Perm::RequestsDispatch) || !matches!(staff.scope, crate::identity::Scope::All) {
        crate::identity::scope::record_refusal(db, staff, "request_categories", "city_level")
            .await?;
        return Err(DomainError::CityLevel);
    }
    let name = clip(name, 30);
    let mut errs = Vec::new();
    if name.is_empty() {
        errs.push(FieldError::new("request_category", "required", ""));
    }
    let unit_ok = match unit_id {
        Some(u) => sqlx::query_scalar::<_, i64>("SELECT id FROM departments WHERE id = $1")
            .bind(u)
            .fetch_optional(db.pool())
            .await?
            .is_some(),
        None => false,
    };
    if !unit_ok {
        errs.push(FieldError::new("request_unit", "required", ""));
    }
    if !errs.is_empty() {
        return Err(DomainError::Invalid(errs));
    }
    let mut tx = db.begin().await?;
    let position: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) + 1 FROM request_categories")
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query(
        "INSERT INTO request_categories (name, unit_id, description, position) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET unit_id = $2, description = $3",
    )
    .bind(&name)
    .bind(unit_id)
    .bind(clip(description, 200))
    .bind(position)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &Entry::staff(&staff.user.username, "request.category", &name),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The routing the portal learns now: the catalogue (category → unit code)
/// and every classified request (the dispatchers' confirmations and
/// corrections), most recent first up to `limit`.
pub async fn training(db: &Db, limit: i64) -> Result<Routing, DomainError> {
    let catalogue: Vec<CatalogueLine> = categories(db)
        .await?
        .into_iter()
        .map(|c| CatalogueLine {
            category: c.name,
            unit: c.unit_code,
            covers: c.description,
        })
        .collect();
    let labelled: Vec<(String, String)> = sqlx::query_as(
        "SELECT r.title || ' ' || r.body, c.name FROM requests r \
         JOIN request_categories c ON c.id = r.category_id ORDER BY r.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    // The catalog's services name what each unit does in people's terms
    // (转学, 孕产妇建档, 户口迁移): each teaches the unit's first category.
    let services: Vec<(String, String)> = sqlx::query_as(
        "SELECT s.name, d.code FROM services s JOIN departments d ON d.id = s.department_id",
    )
    .fetch_all(db.pool())
    .await?;
    let mut labelled = labelled;
    for (name, code) in services {
        if let Some(c) = catalogue.iter().find(|c| c.unit == code) {
            labelled.push((name, c.category.clone()));
        }
    }
    tokio::task::spawn_blocking(move || Routing::train(&catalogue, &labelled))
        .await
        .map_err(|_| DomainError::Internal("training the router"))
}

/// Districts (区县) and their streets, for the location picker.
pub async fn places(db: &Db) -> Result<Vec<(i64, String, Vec<String>)>, DomainError> {
    let districts: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM departments WHERE level = '区县' ORDER BY code")
            .fetch_all(db.pool())
            .await?;
    let streets: Vec<(i64, String)> =
        sqlx::query_as("SELECT district_id, name FROM request_streets ORDER BY district_id, name")
            .fetch_all(db.pool())
            .await?;
    Ok(districts
        .into_iter()
        .map(|(id, name)| {
            let s = streets
                .iter()
                .filter(|(d, _)| *d == id)
                .map(|(_, n)| n.clone())
                .collect();
            (id, name, s)
        })
        .collect())
}
