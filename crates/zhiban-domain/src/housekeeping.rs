//! Housekeeping: rows whose purpose has passed are removed once a day
//! (expired codes, ceremonies, sessions, sign-in failures, finished jobs),
//! so no table grows without bound. Runs as a daily job that schedules the
//! next one; on several nodes the job's dedupe key keeps it to one run.

use chrono::{DateTime, Duration, Utc};

use crate::{Db, DomainError, jobs};

/// Expired rows are kept this long after they expire (for support questions
/// and the per-day SMS limit), then removed.
pub const GRACE_SECS: i64 = 2 * 86_400;
/// Finished jobs are kept this long.
pub const JOBS_KEPT_DAYS: i64 = 30;

/// (table, column holding the expiry time)
const EXPIRING: &[(&str, &str)] = &[
    ("sms_codes", "expires_at"),
    ("qr_logins", "expires_at"),
    ("webauthn_ceremonies", "expires_at"),
    ("oidc_codes", "expires_at"),
    ("oidc_tokens", "expires_at"),
    ("citizen_sessions", "expires_at"),
    ("staff_sessions", "expires_at"),
    ("login_failures", "failed_at"),
];

/// Removes what has expired; returns (table, rows removed).
pub async fn purge(db: &Db, now: DateTime<Utc>) -> Result<Vec<(&'static str, u64)>, DomainError> {
    let cutoff = now.timestamp() - GRACE_SECS;
    let mut out = Vec::new();
    for (table, column) in EXPIRING {
        // Table and column names come from the list above, never from input.
        let n = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE {column} < $1"
        )))
        .bind(cutoff)
        .execute(db.pool())
        .await?
        .rows_affected();
        out.push((*table, n));
    }
    let n = sqlx::query("DELETE FROM jobs WHERE done_at IS NOT NULL AND done_at < $1")
        .bind(now.timestamp() - JOBS_KEPT_DAYS * 86_400)
        .execute(db.pool())
        .await?
        .rows_affected();
    out.push(("jobs", n));
    Ok(out)
}

/// Queues the next daily run (03:00 Beijing time), once however many nodes ask.
pub async fn schedule(db: &Db, now: DateTime<Utc>) -> Result<(), DomainError> {
    let day = crate::time::local_date(now) + Duration::days(1);
    let at = crate::time::at_local(day, 3, 0);
    let mut tx = db.begin().await?;
    jobs::enqueue(
        &mut tx,
        "housekeeping",
        &serde_json::json!({}),
        at,
        Some(&format!("housekeeping:{day}")),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
