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

/// Whose staged files these are: an account's, or (for a request sent
/// without one) a browser's, known by its form token.
#[derive(Debug, Clone, Copy)]
pub enum Stager<'a> {
    Account(i64),
    Browser(&'a str),
}

impl Stager<'_> {
    fn prefix(self) -> String {
        match self {
            Stager::Account(id) => format!("requests/staged/{id}/"),
            Stager::Browser(token) => {
                use sha2::Digest;
                let h = hex::encode(sha2::Sha256::digest(format!("request-files:{token}")));
                format!("requests/staged/b-{}/", &h[..32])
            }
        }
    }
}

/// Checks an upload and stages it for `owner`.
pub async fn stage(
    files: &FileStore,
    owner: Stager<'_>,
    name: &str,
    body: Vec<u8>,
    max_bytes: usize,
) -> Result<Attachment, FieldError> {
    if body.is_empty() || matches!(owner, Stager::Browser("")) {
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
        owner.prefix(),
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

/// A file staged earlier by the same account or browser (the form carries its key
/// and name back); anything else is ignored.
pub async fn restage(
    files: &FileStore,
    owner: Stager<'_>,
    key: &str,
    name: &str,
) -> Option<Attachment> {
    if matches!(owner, Stager::Browser("")) {
        return None;
    }
    let rest = key.strip_prefix(&owner.prefix())?;
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
