//! The database change log: every write that other nodes must notice
//! (catalog items, search synonyms) appends a row in the same transaction.
//! Each node follows the log to update its in-memory catalog and its own
//! search index, so a cluster converges without restarts.

use sqlx::Row;

use crate::{Db, DomainError, Tx};

/// A catalog item changed; the key is its code.
pub const CATALOG_SERVICE: &str = "catalog.service";
/// A unit of the org tree (a department) was added or changed; the key is its code.
pub const CATALOG_DEPARTMENT: &str = "catalog.department";
/// A staff search synonym changed; the key is the phrase.
pub const SEARCH_SYNONYM: &str = "search.synonym";

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Change {
    pub id: i64,
    pub topic: String,
    pub key: String,
}

/// Appends a change inside the writer's transaction.
pub async fn record(tx: &mut Tx, topic: &str, key: &str) -> Result<(), DomainError> {
    sqlx::query("INSERT INTO change_log (topic, key, changed_at) VALUES ($1, $2, $3)")
        .bind(topic)
        .bind(key)
        .bind(tx.now().timestamp())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The newest change id (0 when there is none).
pub async fn latest_id(db: &Db) -> Result<i64, DomainError> {
    let r = sqlx::query("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) AS id FROM change_log")
        .fetch_one(db.pool())
        .await?;
    Ok(r.try_get("id")?)
}

/// Changes with an id above `after`, oldest first.
pub async fn since(db: &Db, after: i64, limit: i64) -> Result<Vec<Change>, DomainError> {
    Ok(
        sqlx::query_as("SELECT id, topic, key FROM change_log WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after)
            .bind(limit)
            .fetch_all(db.pool())
            .await?,
    )
}
