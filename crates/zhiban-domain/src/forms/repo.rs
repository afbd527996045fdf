//! Form versions per handling item: staff keep one draft, publish it, and
//! every publication is a new version. Applications copy the schema they
//! were filed with, so a later version never changes an old case.

use serde::Serialize;

use super::{FormSchema, default_schema};
use crate::audit::{self, Entry};
use crate::catalog::ServiceItem;
use crate::identity::staff::StaffSession;
use crate::{Db, DomainError};

#[derive(Debug, Clone, Serialize)]
pub struct FormVersion {
    pub version: i64,
    /// `draft`, `published` or `retired`.
    pub status: String,
    pub schema: FormSchema,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    version: i64,
    status: String,
    schema: String,
    created_by: String,
    created_at: i64,
}

impl Row {
    fn into_version(self) -> Option<FormVersion> {
        Some(FormVersion {
            schema: serde_json::from_str(&self.schema).ok()?,
            version: self.version,
            status: self.status,
            created_by: self.created_by,
            created_at: self.created_at,
        })
    }
}

const SELECT: &str = "SELECT version, status, schema, created_by, created_at FROM forms";

/// The published form of an item, or the default built from its guide
/// (version 0).
pub async fn current(db: &Db, item: &ServiceItem) -> Result<(i64, FormSchema), DomainError> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE service_code = $1 AND status = 'published'"
    )))
    .bind(&item.code)
    .fetch_optional(db.pool())
    .await?;
    Ok(match row.and_then(Row::into_version) {
        Some(v) => (v.version, v.schema),
        None => (0, default_schema(item)),
    })
}

/// Every version, newest first.
pub async fn versions(db: &Db, service_code: &str) -> Result<Vec<FormVersion>, DomainError> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE service_code = $1 ORDER BY version DESC"
    )))
    .bind(service_code)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().filter_map(Row::into_version).collect())
}

/// Saves the editor's text as the item's draft (creating the next version
/// when there is no draft). Returns the draft's version.
pub async fn save_draft(
    db: &Db,
    actor: &StaffSession,
    service_code: &str,
    text: &str,
) -> Result<i64, DomainError> {
    let schema = FormSchema::from_json(text).map_err(DomainError::Form)?;
    let mut tx = db.begin().await?;
    let draft: Option<i64> = sqlx::query_scalar(
        "SELECT version FROM forms WHERE service_code = $1 AND status = 'draft'",
    )
    .bind(service_code)
    .fetch_optional(&mut *tx)
    .await?;
    let now = db.now().timestamp();
    let version = match draft {
        Some(v) => {
            sqlx::query(
                "UPDATE forms SET schema = $3, created_by = $4, created_at = $5 \
                 WHERE service_code = $1 AND version = $2",
            )
            .bind(service_code)
            .bind(v)
            .bind(schema.to_json())
            .bind(&actor.user.username)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            v
        }
        None => {
            let last: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM forms WHERE service_code = $1")
                    .bind(service_code)
                    .fetch_one(&mut *tx)
                    .await?;
            let v = last.unwrap_or(0) + 1;
            sqlx::query(
                "INSERT INTO forms (service_code, version, status, schema, created_by, created_at) \
                 VALUES ($1, $2, 'draft', $3, $4, $5)",
            )
            .bind(service_code)
            .bind(v)
            .bind(schema.to_json())
            .bind(&actor.user.username)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            v
        }
    };
    audit::append(
        &mut tx,
        &Entry::staff(&actor.user.username, "form.save", service_code)
            .detail(format!("v{version}")),
    )
    .await?;
    tx.commit().await?;
    Ok(version)
}

/// Publishes the draft: it becomes the form new applications use, and the
/// previously published version is retired.
pub async fn publish(
    db: &Db,
    actor: &StaffSession,
    service_code: &str,
) -> Result<i64, DomainError> {
    let mut tx = db.begin().await?;
    let draft: Option<i64> = sqlx::query_scalar(
        "SELECT version FROM forms WHERE service_code = $1 AND status = 'draft'",
    )
    .bind(service_code)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(version) = draft else {
        return Err(DomainError::Conflict(crate::Conflict::NoDraft));
    };
    sqlx::query(
        "UPDATE forms SET status = 'retired' WHERE service_code = $1 AND status = 'published'",
    )
    .bind(service_code)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE forms SET status = 'published' WHERE service_code = $1 AND version = $2")
        .bind(service_code)
        .bind(version)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        &Entry::staff(&actor.user.username, "form.publish", service_code)
            .detail(format!("v{version}")),
    )
    .await?;
    tx.commit().await?;
    Ok(version)
}
