//! Canned answers (常用语) the agents send with one click while answering
//! a hand-off; any agent may add or retire one, audited.

use serde::Serialize;

use super::handoff::{agent_allowed, check_text};
use crate::audit::{self, Entry as AuditEntry};
use crate::identity::staff::StaffSession;
use crate::{Db, DomainError, FieldError};

/// A canned answer agents send with one click.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Canned {
    pub id: i64,
    pub title: String,
    pub body: String,
}

/// The canned answers, by title.
pub async fn list(db: &Db) -> Result<Vec<Canned>, DomainError> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT id, title, body FROM assistant_canned WHERE active = 1 ORDER BY title, id",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, title, body)| Canned { id, title, body })
        .collect())
}

/// Adds a canned answer (any agent may).
pub async fn add(
    db: &Db,
    staff: &StaffSession,
    title: &str,
    body: &str,
) -> Result<i64, DomainError> {
    agent_allowed(staff)?;
    let mut errs = Vec::new();
    let title = title.trim();
    if title.is_empty() {
        errs.push(FieldError::new("canned_title", "required", ""));
    } else if title.chars().count() > 40 {
        errs.push(FieldError::new("canned_title", "too_long", "40"));
    }
    if let Err(DomainError::Invalid(e)) = check_text(body) {
        errs.extend(e);
    }
    if !errs.is_empty() {
        return Err(DomainError::Invalid(errs));
    }
    let now = db.now().timestamp();
    let mut tx = db.begin().await?;
    let id: (i64,) = sqlx::query_as(
        "INSERT INTO assistant_canned (title, body, active, updated_by, updated_at) \
         VALUES ($1, $2, 1, $3, $4) RETURNING id",
    )
    .bind(title)
    .bind(body.trim())
    .bind(&staff.user.username)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &AuditEntry::staff(
            &staff.user.username,
            "assistant.canned.add",
            id.0.to_string(),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(id.0)
}

/// Retires a canned answer.
pub async fn remove(db: &Db, staff: &StaffSession, id: i64) -> Result<(), DomainError> {
    agent_allowed(staff)?;
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "UPDATE assistant_canned SET active = 0, updated_by = $1, updated_at = $2 WHERE id = $3",
    )
    .bind(&staff.user.username)
    .bind(db.now().timestamp())
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(DomainError::NotFound);
    }
    audit::append(
        &mut tx,
        &AuditEntry::staff(
            &staff.user.username,
            "assistant.canned.remove",
            id.to_string(),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
