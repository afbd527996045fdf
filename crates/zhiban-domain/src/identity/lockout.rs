//! The lock-out counter shared by staff and citizen sign-in: failures are
//! rows in `login_failures` (so every node sees them), keyed by the staff
//! user name or `citizen:<phone>`.

use chrono::{DateTime, Utc};

use super::SecurityPolicy;
use crate::{Db, DomainError};

/// Too many failures inside the lock window.
pub(crate) async fn locked(
    db: &Db,
    policy: &SecurityPolicy,
    key: &str,
    now: DateTime<Utc>,
) -> Result<bool, DomainError> {
    let failures: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_failures WHERE username = $1 AND failed_at > $2",
    )
    .bind(key)
    .bind(now.timestamp() - policy.lock_secs())
    .fetch_one(db.pool())
    .await?;
    Ok(failures >= policy.max_failures)
}

pub(crate) async fn note_failure(
    db: &Db,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    sqlx::query("INSERT INTO login_failures (username, failed_at) VALUES ($1, $2)")
        .bind(key)
        .bind(now.timestamp())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// A success (or a reset) clears the count.
pub(crate) async fn clear(conn: &mut sqlx::AnyConnection, key: &str) -> Result<(), DomainError> {
    sqlx::query("DELETE FROM login_failures WHERE username = $1")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}
