//! Background jobs on a table of our own. Works on SQLite (one writer makes
//! the claim atomic) and on several PostgreSQL nodes (`FOR UPDATE SKIP
//! LOCKED`): a job is claimed by exactly one node, and a node that dies
//! mid-job loses its lease, so another node retries it. Failed jobs retry
//! with growing delays.

use zhiban_store::Backend;

use crate::{Db, DomainError, Tx};

/// A claimed job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: i64,
}

/// How long a claimed job is reserved for the node that claimed it.
pub const LEASE_SECS: i64 = 120;
/// After this many failed attempts a job is set aside with its last error.
pub const MAX_ATTEMPTS: i64 = 8;

/// Queues a job inside the caller's transaction, so it exists exactly when
/// the change that caused it does. With `dedupe`, a second job with the
/// same key is not queued.
pub async fn enqueue(
    conn: &mut Tx,
    kind: &str,
    payload: &serde_json::Value,
    run_at: i64,
    dedupe: Option<&str>,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO jobs (kind, payload, run_at, dedupe, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (dedupe) DO NOTHING",
    )
    .bind(kind)
    .bind(payload.to_string())
    .bind(run_at)
    .bind(dedupe)
    .bind(conn.now().timestamp())
    .execute(&mut **conn)
    .await?;
    Ok(())
}

/// Queues a job whose payload is personal data (an SMS to a phone, an
/// email to an address): it is stored encrypted like any other field.
pub async fn enqueue_sealed(
    conn: &mut Tx,
    db: &Db,
    kind: &str,
    payload: &serde_json::Value,
    run_at: i64,
) -> Result<(), DomainError> {
    let sealed = crate::pii::seal(db, crate::pii::ctx::JOB_PAYLOAD, &payload.to_string())?;
    sqlx::query("INSERT INTO jobs (kind, payload, run_at, created_at) VALUES ($1, $2, $3, $4)")
        .bind(kind)
        .bind(sealed)
        .bind(run_at)
        .bind(conn.now().timestamp())
        .execute(&mut **conn)
        .await?;
    Ok(())
}

/// Claims up to `limit` due jobs for this node (payloads decrypted).
pub async fn claim(db: &Db, now: i64, limit: i64) -> Result<Vec<Job>, DomainError> {
    let lock = match db.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET locked_until = $1, attempts = attempts + 1 WHERE id IN \
         (SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= $2 AND locked_until <= $2 \
          ORDER BY run_at, id LIMIT $3{lock}) RETURNING id, kind, payload, attempts"
    );
    let mut jobs: Vec<Job> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(now + LEASE_SECS)
        .bind(now)
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    for j in &mut jobs {
        j.payload = crate::pii::open(db, crate::pii::ctx::JOB_PAYLOAD, &j.payload)?;
    }
    Ok(jobs)
}

pub async fn finish(db: &Db, id: i64, now: i64) -> Result<(), DomainError> {
    sqlx::query("UPDATE jobs SET done_at = $2, last_error = '' WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Records a failure: retry after 1, 2, 4 … minutes (at most an hour), or
/// give up after [`MAX_ATTEMPTS`].
pub async fn fail(db: &Db, job: &Job, error: &str, now: i64) -> Result<(), DomainError> {
    let give_up = job.attempts >= MAX_ATTEMPTS;
    let delay = (60_i64 << job.attempts.clamp(0, 6)).min(3600);
    sqlx::query(
        "UPDATE jobs SET last_error = $2, run_at = $3, locked_until = 0, done_at = $4 WHERE id = $1",
    )
    .bind(job.id)
    .bind(error.chars().take(500).collect::<String>())
    .bind(now + delay)
    .bind(give_up.then_some(now))
    .execute(db.pool())
    .await?;
    if give_up {
        tracing::error!(job = job.id, kind = %job.kind, %error, "job set aside after repeated failures");
    }
    Ok(())
}

/// Jobs not done yet (for the operator's view and tests).
pub async fn pending(db: &Db) -> Result<i64, DomainError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE done_at IS NULL")
            .fetch_one(db.pool())
            .await?,
    )
}
