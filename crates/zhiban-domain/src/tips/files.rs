//! Photos and PDFs sent with a tip (at most [`MAX_FILES`], each up to
//! [`MAX_BYTES`]), sealed like the tip (name and body). A file is stored
//! as it arrives, staged under a hash of the sending browser's form token
//! (no account, no address) and the data key, so a form that comes back
//! with a problem keeps it; filing the tip claims the staged files and
//! seals them again under the tip's own key ([`super::keys`]). Only the
//! receiving unit's tip handlers open them, and each opening is audited.

use base64::Engine;
use sqlx::Row;
use zhiban_store::files::{inspect, safe_file_name};

use super::keys::Sealer;
use super::{Tip, reads_for};
use crate::audit::{self, Entry};
use crate::identity::scope::record_refusal;
use crate::identity::staff::StaffSession;
use crate::{Db, DomainError, FieldError, pii};

/// How many files one tip may carry.
pub const MAX_FILES: usize = 3;
/// The largest file, in bytes.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;

/// A file of a tip (or staged for one).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TipFile {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
}

fn staged_key(form_token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(
        format!("tip-files:{form_token}").as_bytes(),
    ))
}

/// Checks and stores an upload for the browser holding `form_token`.
pub async fn stage(
    db: &Db,
    form_token: &str,
    name: &str,
    body: &[u8],
) -> Result<TipFile, FieldError> {
    if form_token.is_empty() || body.is_empty() {
        return Err(FieldError::new("tip_files", "attachment_empty", ""));
    }
    if body.len() > MAX_BYTES {
        return Err(FieldError::new(
            "tip_files",
            "attachment_too_large",
            (MAX_BYTES / 1024 / 1024).to_string(),
        ));
    }
    let Some(kind) = inspect(body) else {
        return Err(FieldError::new("tip_files", "attachment_type", ""));
    };
    let file_name = safe_file_name(name, kind);
    let store = || FieldError::new("tip_files", "attachment_store", "");
    let encoded = base64::engine::general_purpose::STANDARD.encode(body);
    let sealed_name = pii::seal(db, pii::ctx::TIP_FILE_NAME, &file_name).map_err(|_| store())?;
    let sealed_body = pii::seal(db, pii::ctx::TIP_FILE_BODY, &encoded).map_err(|_| store())?;
    let size = i64::try_from(body.len()).unwrap_or(i64::MAX);
    let row = sqlx::query(
        "INSERT INTO tip_files (staged_by, file_name, content_type, size, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(staged_key(form_token))
    .bind(sealed_name)
    .bind(kind.content_type())
    .bind(size)
    .bind(sealed_body)
    .bind(db.now().timestamp())
    .fetch_one(db.pool())
    .await
    .map_err(|_| store())?;
    Ok(TipFile {
        id: row.try_get("id").map_err(|_| store())?,
        file_name,
        content_type: kind.content_type().to_string(),
        size,
    })
}

fn file_of(db: &Db, r: &sqlx::any::AnyRow, key: &Sealer) -> Result<TipFile, DomainError> {
    Ok(TipFile {
        id: r.try_get("id")?,
        file_name: key.open(
            db,
            pii::ctx::TIP_FILE_NAME,
            &r.try_get::<String, _>("file_name")?,
        )?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
    })
}

/// The files this browser staged, among `ids` (others are ignored).
pub async fn staged(db: &Db, form_token: &str, ids: &[i64]) -> Result<Vec<TipFile>, DomainError> {
    let key = staged_key(form_token);
    let mut out = Vec::new();
    for id in ids.iter().take(MAX_FILES * 2) {
        let row = sqlx::query(
            "SELECT id, file_name, content_type, size FROM tip_files \
             WHERE id = $1 AND staged_by = $2 AND tip_id IS NULL",
        )
        .bind(id)
        .bind(&key)
        .fetch_optional(db.pool())
        .await?;
        if let Some(r) = row {
            out.push(file_of(db, &r, &Sealer::Server)?);
        }
    }
    Ok(out)
}

/// Ties this browser's staged files to a new tip, inside its
/// transaction, sealing them again under the tip's key.
pub(super) async fn claim(
    db: &Db,
    tx: &mut crate::Tx,
    tip_id: i64,
    form_token: &str,
    ids: &[i64],
    key: &Sealer,
) -> Result<(), DomainError> {
    if ids.len() > MAX_FILES {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "tip_files",
            "too_many_files",
            MAX_FILES.to_string(),
        )]));
    }
    let staged = staged_key(form_token);
    for id in ids {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT file_name, body FROM tip_files \
             WHERE id = $1 AND staged_by = $2 AND tip_id IS NULL",
        )
        .bind(id)
        .bind(&staged)
        .fetch_optional(&mut **tx)
        .await?;
        let Some((name, body)) = row else {
            continue;
        };
        let name = key.seal(
            db,
            pii::ctx::TIP_FILE_NAME,
            &pii::open(db, pii::ctx::TIP_FILE_NAME, &name)?,
        )?;
        let body = key.seal(
            db,
            pii::ctx::TIP_FILE_BODY,
            &pii::open(db, pii::ctx::TIP_FILE_BODY, &body)?,
        )?;
        sqlx::query(
            "UPDATE tip_files SET tip_id = $1, staged_by = NULL, file_name = $4, body = $5 \
             WHERE id = $2 AND staged_by = $3 AND tip_id IS NULL",
        )
        .bind(tip_id)
        .bind(id)
        .bind(&staged)
        .bind(name)
        .bind(body)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The files of a tip.
pub(super) async fn of_tip(
    db: &Db,
    tip_id: i64,
    key: &Sealer,
) -> Result<Vec<TipFile>, DomainError> {
    sqlx::query(
        "SELECT id, file_name, content_type, size FROM tip_files WHERE tip_id = $1 ORDER BY id",
    )
    .bind(tip_id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| file_of(db, r, key))
    .collect()
}

/// One file of a tip, decrypted, for its unit's tip handlers (audited).
pub async fn open_for_staff(
    db: &Db,
    staff: &StaffSession,
    tip: &Tip,
    file_id: i64,
) -> Result<(TipFile, Vec<u8>), DomainError> {
    if !reads_for(staff, tip.unit_id) {
        record_refusal(
            db,
            staff,
            &format!("tip:{}", tip.receipt),
            "not_receiving_unit",
        )
        .await?;
        return Err(DomainError::NotFound);
    }
    let row = sqlx::query(
        "SELECT id, file_name, content_type, size, body FROM tip_files \
         WHERE tip_id = $1 AND id = $2",
    )
    .bind(tip.id)
    .bind(file_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(DomainError::NotFound)?;
    let file = file_of(db, &row, &tip.key)?;
    let encoded = tip.key.open(
        db,
        pii::ctx::TIP_FILE_BODY,
        &row.try_get::<String, _>("body")?,
    )?;
    let body = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| DomainError::Internal("unreadable tip file"))?;
    audit::record(
        db,
        Entry::staff(
            &staff.user.username,
            "tip.file_read",
            format!("{}/{}", tip.receipt, file_id),
        ),
    )
    .await?;
    Ok((file, body))
}
