//! The files of drafts and cases: uploads checked by type and size and
//! stored through the file store, materials replaced during 补正 (the old
//! file stays on record), and what a draft or case supplies per field
//! (uploads plus e-licenses authorised instead).

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};
use zhiban_store::files::{inspect, safe_file_name};

use super::desk::Desk;
use crate::forms::FormError;
use crate::{Db, DomainError};

/// Materials that are identity documents: 居民身份证, 户口簿, 护照, 通行证,
/// 居住证 and ID photos. Their files open only for staff who may see
/// people's personal data (查看群众个人信息); other staff on the case see
/// that the file is there, not what it shows.
pub fn is_identity_document(material: &str) -> bool {
    const WORDS: [&str; 9] = [
        "身份证",
        "户口簿",
        "户口本",
        "护照",
        "通行证",
        "居住证",
        "永久居留",
        "证件照",
        "相片回执",
    ];
    WORDS.iter().any(|w| material.contains(w))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CaseFile {
    pub id: i64,
    pub field_key: String,
    pub material: String,
    /// `material` or `result`.
    pub kind: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    #[serde(skip)]
    pub storage_key: String,
    pub uploaded_by: String,
    pub uploaded_at: i64,
    pub replaced: i64,
}

impl CaseFile {
    pub fn is_image(&self) -> bool {
        self.content_type.starts_with("image/")
    }

    /// An applicant's upload of an identity document (see
    /// [`is_identity_document`]).
    pub fn is_identity_document(&self) -> bool {
        self.kind == "material" && is_identity_document(&self.material)
    }

    /// The name to offer it under: cleaned and ending in the extension of
    /// its stored type (files stored before names were cleaned included).
    pub fn download_name(&self) -> String {
        match zhiban_store::files::FileKind::from_content_type(&self.content_type) {
            Some(kind) => safe_file_name(&self.file_name, kind),
            None => "file".to_string(),
        }
    }
}

/// Files per field key, as the form's validation counts them.
pub fn file_counts(files: &[CaseFile]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for f in files
        .iter()
        .filter(|f| f.replaced == 0 && f.kind == "material")
    {
        *counts.entry(f.field_key.clone()).or_insert(0) += 1;
    }
    counts
}

/// What a draft supplies per file field: its uploads plus the e-licenses
/// the applicant authorised instead (免证办).
pub async fn draft_supplied(
    db: &Db,
    draft_id: i64,
    files: &[CaseFile],
) -> Result<BTreeMap<String, usize>, DomainError> {
    let mut counts = file_counts(files);
    for a in crate::licenses::for_draft(db, draft_id).await? {
        *counts.entry(a.field_key).or_insert(0) += 1;
    }
    Ok(counts)
}

/// The same for a filed case (used when a correction is checked).
pub async fn case_supplied(
    db: &Db,
    case_number: &str,
    files: &[CaseFile],
) -> Result<BTreeMap<String, usize>, DomainError> {
    let mut counts = file_counts(files);
    for a in crate::licenses::for_case(db, case_number).await? {
        *counts.entry(a.field_key).or_insert(0) += 1;
    }
    Ok(counts)
}

const SELECT_FILE: &str = "SELECT id, field_key, material, kind, file_name, content_type, size, \
    sha256, storage_key, uploaded_by, uploaded_at, replaced FROM case_files";

pub async fn draft_files(db: &Db, draft_id: i64) -> Result<Vec<CaseFile>, DomainError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_FILE} WHERE draft_id = $1 ORDER BY id"
    )))
    .bind(draft_id)
    .fetch_all(db.pool())
    .await?)
}

/// The files of a counter application (窗口收件).
pub(super) async fn counter_files(db: &Db, counter_id: i64) -> Result<Vec<CaseFile>, DomainError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_FILE} WHERE counter_draft_id = $1 ORDER BY id"
    )))
    .bind(counter_id)
    .fetch_all(db.pool())
    .await?)
}

pub async fn case_files(db: &Db, case_id: i64) -> Result<Vec<CaseFile>, DomainError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_FILE} WHERE case_id = $1 ORDER BY id"
    )))
    .bind(case_id)
    .fetch_all(db.pool())
    .await?)
}

/// One file of a case.
pub async fn case_file(db: &Db, case_id: i64, file_id: i64) -> Result<CaseFile, DomainError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_FILE} WHERE case_id = $1 AND id = $2"
    )))
    .bind(case_id)
    .bind(file_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(DomainError::NotFound)
}

/// Where an upload goes.
pub enum Owner {
    Draft(i64),
    Case(i64),
    /// A clerk's counter application (窗口收件).
    Counter(i64),
}

/// A checked upload.
pub struct Upload<'a> {
    pub field_key: &'a str,
    pub file_name: &'a str,
    pub body: Vec<u8>,
}

impl Owner {
    /// The column of `case_files` that holds the owner, and its id.
    fn column(&self) -> (&'static str, i64) {
        match *self {
            Owner::Draft(id) => ("draft_id", id),
            Owner::Case(id) => ("case_id", id),
            Owner::Counter(id) => ("counter_draft_id", id),
        }
    }
}

/// Adds an applicant's material for a file field of `schema` (a field
/// that takes none: not found).
pub(super) async fn add_material(
    desk: &Desk<'_>,
    schema: &crate::forms::FormSchema,
    owner: Owner,
    upload: Upload<'_>,
    by: &str,
) -> Result<i64, DomainError> {
    let Some(material) = schema.material_for(upload.field_key) else {
        return Err(DomainError::NotFound);
    };
    store_file(desk, owner, &material, "material", upload, by).await
}

/// Removes a file of an application not filed yet (a draft or a counter
/// application), the body too: it was never on record.
pub(super) async fn remove_unfiled(
    desk: &Desk<'_>,
    owner: Owner,
    file_id: i64,
) -> Result<(), DomainError> {
    let (col, owner_id) = owner.column();
    if col == "case_id" {
        return Err(DomainError::NotFound);
    }
    let key: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT storage_key FROM case_files WHERE id = $1 AND {col} = $2"
    )))
    .bind(file_id)
    .bind(owner_id)
    .fetch_optional(desk.db.pool())
    .await?;
    let Some(key) = key else {
        return Err(DomainError::NotFound);
    };
    sqlx::query("DELETE FROM case_files WHERE id = $1")
        .bind(file_id)
        .execute(desk.db.pool())
        .await?;
    let _ = desk.files.delete(&key).await;
    Ok(())
}

const MAX_FILES_PER_FIELD: usize = 10;

/// Checks and stores one uploaded file. A file of the wrong type or size
/// is refused with a clear reason and nothing is stored.
pub(super) async fn store_file(
    desk: &Desk<'_>,
    owner: Owner,
    material: &str,
    kind: &str,
    upload: Upload<'_>,
    by: &str,
) -> Result<i64, DomainError> {
    let refuse = |code: &'static str, detail: String| {
        DomainError::Form(vec![FormError {
            key: upload.field_key.to_string(),
            code,
            detail,
        }])
    };
    if upload.body.is_empty() {
        return Err(refuse("file_empty", String::new()));
    }
    if upload.body.len() > desk.settings.max_file_bytes() {
        return Err(refuse(
            "file_too_large",
            desk.settings.max_file_mb.to_string(),
        ));
    }
    // What the file really is, checked past its first bytes; its name
    // follows from that, not from what the browser called it.
    let Some(file_kind) = inspect(&upload.body) else {
        return Err(refuse("file_type", String::new()));
    };
    let (col, owner_id) = owner.column();
    let existing: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM case_files WHERE {col} = $1 AND field_key = $2 AND replaced = 0"
    )))
    .bind(owner_id)
    .bind(upload.field_key)
    .fetch_one(desk.db.pool())
    .await?;
    if usize::try_from(existing).unwrap_or(0) >= MAX_FILES_PER_FIELD {
        return Err(refuse("file_count", MAX_FILES_PER_FIELD.to_string()));
    }
    let name = safe_file_name(upload.file_name, file_kind);
    let key = format!("cases/{}", uuid::Uuid::new_v4().simple());
    let size = i64::try_from(upload.body.len()).unwrap_or(i64::MAX);
    let sha = hex::encode(Sha256::digest(&upload.body));
    desk.files
        .put(&key, upload.body)
        .await
        .map_err(|e| DomainError::Files(e.to_string()))?;
    let inserted = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "INSERT INTO case_files ({col}, field_key, material, kind, file_name, content_type, size, \
         sha256, storage_key, uploaded_by, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id"
    )))
    .bind(owner_id)
    .bind(upload.field_key)
    .bind(material)
    .bind(kind)
    .bind(name)
    .bind(file_kind.content_type())
    .bind(size)
    .bind(sha)
    .bind(&key)
    .bind(by)
    .bind(desk.db.now().timestamp())
    .fetch_one(desk.db.pool())
    .await;
    match inserted {
        Ok(id) => Ok(id),
        Err(e) => {
            // The row was not written: do not keep an orphaned body.
            let _ = desk.files.delete(&key).await;
            Err(e.into())
        }
    }
}

/// Reads one stored file body.
pub async fn file_body(desk: &Desk<'_>, file: &CaseFile) -> Result<Vec<u8>, DomainError> {
    desk.files
        .get(&file.storage_key)
        .await
        .map_err(|e| DomainError::Files(e.to_string()))
}
