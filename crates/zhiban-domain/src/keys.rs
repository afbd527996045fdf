//! Data-key rotation (`zhiban keys rotate`) and the start-up pass that
//! encrypts values written before field encryption existed.
//!
//! A rotation makes a new data key active (recorded in `key_rotations`),
//! then moves every encrypted column to it with [`pii::reencrypt`]. If it is
//! interrupted, the next `zhiban keys rotate` finds the unfinished row and
//! resumes instead of starting another: rows already moved are skipped,
//! rows not yet moved still decrypt with the retired key, so nothing is
//! lost at any point.

use crate::{Db, DomainError, pii};

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub key: String,
    pub resumed: bool,
    pub pass: pii::PassReport,
}

/// Starts a rotation, or resumes the unfinished one. See the module docs.
pub async fn rotate(
    db: &Db,
    batch: usize,
    max_batches: Option<usize>,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<Rotation, DomainError> {
    zhiban_store::keys::refresh(db).await?;
    let open: Option<(i64, String)> = sqlx::query_as(
        "SELECT id, to_key FROM key_rotations WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(db.pool())
    .await?;
    let (id, key, resumed) = match open {
        Some((id, key)) => (id, key, true),
        None => {
            let key = zhiban_store::keys::activate_new(db).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO key_rotations (to_key, started_at) VALUES ($1, $2) RETURNING id",
            )
            .bind(&key)
            .bind(db.now().timestamp())
            .fetch_one(db.pool())
            .await?;
            (id, key, false)
        }
    };
    let pass = pii::reencrypt(db, batch.max(1), max_batches, progress).await?;
    sqlx::query("UPDATE key_rotations SET moved = moved + $2 WHERE id = $1")
        .bind(id)
        .bind(pass.moved as i64)
        .execute(db.pool())
        .await?;
    if pass.complete {
        sqlx::query("UPDATE key_rotations SET finished_at = $2 WHERE id = $1")
            .bind(id)
            .bind(db.now().timestamp())
            .execute(db.pool())
            .await?;
    }
    Ok(Rotation { key, resumed, pass })
}

/// Encrypts plain-text values left from before encryption (and finishes an
/// interrupted rotation's rows). Run at every start; cheap when nothing is
/// pending.
pub async fn encrypt_pending(db: &Db) -> Result<pii::PassReport, DomainError> {
    if pii::pending(db).await? == 0 {
        return Ok(pii::PassReport {
            complete: true,
            ..Default::default()
        });
    }
    pii::reencrypt(db, 500, None, &mut |_, _| {}).await
}

/// One line per stored key and the state of the last rotation.
#[derive(Debug, Clone)]
pub struct Status {
    pub keys: Vec<(String, String, String, i64)>,
    pub pending: u64,
    pub unfinished_rotation: Option<String>,
}

pub async fn status(db: &Db) -> Result<Status, DomainError> {
    let keys: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT id, purpose, state, created_at FROM crypto_keys ORDER BY created_at, id",
    )
    .fetch_all(db.pool())
    .await?;
    let unfinished_rotation: Option<String> = sqlx::query_scalar(
        "SELECT to_key FROM key_rotations WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(db.pool())
    .await?;
    Ok(Status {
        keys,
        pending: pii::pending(db).await?,
        unfinished_rotation,
    })
}
