//! The org tree (市 → 区县 → 部门 → 科室) as administrators keep it: add a
//! unit under one inside their scope, or correct a unit's name and contact
//! details. Units are the catalog's departments too, so every change goes
//! on the change log and each node's public pages follow.

use serde::Serialize;

use super::staff::StaffSession;
use crate::audit::{self, Entry};
use crate::changes;
use crate::{Db, DomainError, FieldError};

/// Levels a new unit may have, in tree order.
pub const LEVELS: &[&str] = &["区县", "部门", "科室"];

#[derive(Debug, Clone, Default, Serialize)]
pub struct UnitInput {
    pub parent_id: Option<i64>,
    pub code: String,
    pub name: String,
    pub level: String,
    pub phone: String,
    pub address: String,
    pub hours: String,
}

fn check(input: &UnitInput, creating: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let code = input.code.trim();
    if creating
        && (code.is_empty()
            || code.len() > 40
            || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        errors.push(FieldError::new("unit_code", "invalid_code", code));
    }
    let name = input.name.trim();
    if name.is_empty() {
        errors.push(FieldError::new("unit_name", "required", ""));
    } else if name.chars().count() > 60 {
        errors.push(FieldError::new("unit_name", "too_long", ""));
    }
    if creating && !LEVELS.contains(&input.level.as_str()) {
        errors.push(FieldError::new(
            "unit_level",
            "invalid_choice",
            input.level.clone(),
        ));
    }
    errors
}

/// Adds a unit under `parent_id` (which must be inside the actor's scope).
pub async fn add_unit(
    db: &Db,
    actor: &StaffSession,
    input: &UnitInput,
) -> Result<i64, DomainError> {
    let mut errors = check(input, true);
    match input.parent_id {
        Some(p) if actor.scope.covers(p) => {}
        _ => errors.push(FieldError::new("parent_id", "outside_scope", "")),
    }
    if !errors.is_empty() {
        let object = format!("unit:{}", input.parent_id.unwrap_or_default());
        super::scope::audit_field_refusals(db, actor, &object, &errors).await?;
        return Err(DomainError::Invalid(errors));
    }
    let code = input.code.trim();
    let mut tx = db.begin().await?;
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "unit_code",
            "taken",
            code,
        )]));
    }
    let sort: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(sort), 0) + 1 FROM departments")
        .fetch_one(&mut *tx)
        .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO departments (code, name, parent_id, level, phone, address, hours, sort) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(code)
    .bind(input.name.trim())
    .bind(input.parent_id)
    .bind(&input.level)
    .bind(input.phone.trim())
    .bind(input.address.trim())
    .bind(input.hours.trim())
    .bind(sort)
    .fetch_one(&mut *tx)
    .await?;
    changes::record(&mut tx, changes::CATALOG_DEPARTMENT, code).await?;
    audit::append(
        &mut tx,
        &Entry::staff(&actor.user.username, "org.unit_add", code).detail(input.name.trim()),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Corrects a unit's name and contact details (inside the actor's scope).
pub async fn update_unit(
    db: &Db,
    actor: &StaffSession,
    id: i64,
    input: &UnitInput,
) -> Result<(), DomainError> {
    super::scope::require_unit(db, actor, Some(id), &format!("unit:{id}")).await?;
    let errors = check(input, false);
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let mut tx = db.begin().await?;
    let code: Option<String> = sqlx::query_scalar("SELECT code FROM departments WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(code) = code else {
        return Err(DomainError::NotFound);
    };
    sqlx::query(
        "UPDATE departments SET name = $2, phone = $3, address = $4, hours = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(input.name.trim())
    .bind(input.phone.trim())
    .bind(input.address.trim())
    .bind(input.hours.trim())
    .execute(&mut *tx)
    .await?;
    changes::record(&mut tx, changes::CATALOG_DEPARTMENT, &code).await?;
    audit::append(
        &mut tx,
        &Entry::staff(&actor.user.username, "org.unit_update", &code).detail(input.name.trim()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
