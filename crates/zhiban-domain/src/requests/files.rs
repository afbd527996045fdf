//! Photos and PDFs sent with a request (at most [`MAX_FILES`]): checked to
//! be what they claim (a JPEG or PNG that decodes, a PDF that parses),
//! staged in the file store under the writer's account as soon as they
//! arrive — so a form that comes back with a problem keeps them — and
//! tied to the request when it is filed. Shown to the writer and to staff
//! who may see the request, never on public pages.

use sqlx::Row;
use zhiban_store::files::{FileStore, inspect, safe_file_name};

use crate::{Db, DomainError, FieldError};

/// How many files one request may carry.
pub const MAX_FILES: usize = 5;

/// A file in the store, not yet (or already) tied to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub storage_key: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
}

/// A file of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFile {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
}

impl RequestFile {
    pub fn is_image(&self) -> bool {
        self.content_type.starts_with("image/")
    }
}

fn prefix(owner: i64) -> String {
    format!("requests/staged/{owner}/")
}

/// Checks an upload and stages it for account `owner`.
pub async fn stage(
    files: &FileStore,
    owner: i64,
    name: &str,
    body: Vec<u8>,
    max_bytes: usize,
) -> Result<Attachment, FieldError> {
    if body.is_empty() {
        return Err(FieldError::new("request_files", "attachment_empty", ""));
    }
    if body.len() > max_bytes {
        return Err(FieldError::new(
            "request_files",
            "attachment_too_large",
            (max_bytes / 1024 / 1024).to_string(),
        ));
    }
    let Some(kind) = inspect(&body) else {
        return Err(FieldError::new("request_files", "attachment_type", ""));
    };
    let key = format!(
        "{}{}.{}",
        prefix(owner),
        uuid::Uuid::new_v4().simple(),
        kind.extension()
    );
    let size = i64::try_from(body.len()).unwrap_or(i64::MAX);
    files
        .put(&key, body)
        .await
        .map_err(|_| FieldError::new("request_files", "attachment_store", ""))?;
    Ok(Attachment {
        storage_key: key,
        file_name: safe_file_name(name, kind),
        content_type: kind.content_type().to_string(),
        size,
    })
}

/// A file staged earlier by the same account (the form carries its key
/// and name back); anything else is ignored.
pub async fn restage(files: &FileStore, owner: i64, key: &str, name: &str) -> Option<Attachment> {
    let rest = key.strip_prefix(&prefix(owner))?;
    if rest.contains('/') || rest.contains("..") {
        return None;
    }
    let body = files.get(key).await.ok()?;
    let kind = inspect(&body)?;
    Some(Attachment {
        storage_key: key.to_string(),
        file_name: safe_file_name(name, kind),
        content_type: kind.content_type().to_string(),
        size: i64::try_from(body.len()).unwrap_or(i64::MAX),
    })
}

/// Ties the staged files to a new request, inside its filing transaction.
pub(crate) async fn attach(
    tx: &mut crate::Tx,
    request_id: i64,
    list: &[Attachment],
    now: i64,
) -> Result<(), DomainError> {
    if list.len() > MAX_FILES {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "request_files",
            "too_many_files",
            MAX_FILES.to_string(),
        )]));
    }
    for a in list {
        sqlx::query(
            "INSERT INTO request_files (request_id, file_name, content_type, size, storage_key, \
             uploaded_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(request_id)
        .bind(&a.file_name)
        .bind(&a.content_type)
        .bind(a.size)
        .bind(&a.storage_key)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The files of a request (whoever may see the request may see them).
pub async fn list(db: &Db, request_id: i64) -> Result<Vec<RequestFile>, DomainError> {
    sqlx::query(
        "SELECT id, file_name, content_type, size FROM request_files WHERE request_id = $1 \
         ORDER BY id",
    )
    .bind(request_id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(RequestFile {
            id: r.try_get("id")?,
            file_name: r.try_get("file_name")?,
            content_type: r.try_get("content_type")?,
            size: r.try_get("size")?,
        })
    })
    .collect()
}

/// One file of a request and its body.
pub async fn body(
    db: &Db,
    files: &FileStore,
    request_id: i64,
    file_id: i64,
) -> Result<(RequestFile, Vec<u8>), DomainError> {
    let row = sqlx::query(
        "SELECT id, file_name, content_type, size, storage_key FROM request_files \
         WHERE request_id = $1 AND id = $2",
    )
    .bind(request_id)
    .bind(file_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(DomainError::NotFound)?;
    let key: String = row.try_get("storage_key")?;
    let body = files
        .get(&key)
        .await
        .map_err(|e| DomainError::Files(e.to_string()))?;
    Ok((
        RequestFile {
            id: row.try_get("id")?,
            file_name: row.try_get("file_name")?,
            content_type: row.try_get("content_type")?,
            size: row.try_get("size")?,
        },
        body,
    ))
}
