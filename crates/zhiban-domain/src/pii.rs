//! Personal data at rest (个人信息保护): which columns are encrypted, their
//! blind indexes, and the pass that re-encrypts them after a key rotation.
//!
//! Every value in a column listed in [`COLUMNS`] is stored as the keyring's
//! `zb1:` text (SM4-GCM under the 国密 suite), bound to its column by the
//! AEAD's associated data. Exact lookups (sign-in by phone, 身份证号
//! uniqueness, the workbench's phone search) go through a blind index: a
//! keyed SM3-HMAC of the normalised value, stored next to it.
//!
//! The same pass serves two purposes: on start it encrypts values written
//! before encryption existed (plain text), and `zhiban keys rotate` moves
//! values to the new active key. Each batch is one transaction and each
//! row is updated only if it still holds what was read, so a pass can be
//! interrupted at any point and run again without losing a row.

use crate::{Db, DomainError, StoreError};

/// Encryption contexts (the AEAD's associated data), one per column.
pub mod ctx {
    pub const CITIZEN_PHONE: &str = "citizens.phone";
    pub const CITIZEN_ID_NUMBER: &str = "citizens.id_number";
    pub const CITIZEN_EMAIL: &str = "citizens.email";
    pub const CITIZEN_TOTP: &str = "citizens.totp_secret";
    pub const CITIZEN_TOTP_PENDING: &str = "citizen_sessions.totp_pending";
    pub const STAFF_TOTP: &str = "staff_users.totp_secret";
    pub const STAFF_PHONE: &str = "staff_users.phone";
    pub const STAFF_ENROL: &str = "staff_sessions.enrol_secret";
    pub const OIDC_KEY: &str = "oidc_keys.private_pem";
    pub const CASE_PHONE: &str = "cases.applicant_phone";
    pub const REQUEST_PHONE: &str = "requests.contact_phone";
    pub const TIP_CONTENT: &str = "tips.content";
    pub const TIP_MESSAGE: &str = "tip_messages.body";
    pub const TIP_FILE_NAME: &str = "tip_files.file_name";
    pub const TIP_FILE_BODY: &str = "tip_files.body";
    /// A unit's tip key before any of its handlers has taken it over.
    pub const UNIT_KEY_PENDING: &str = "unit_keys.pending_secret";
    /// Who searched (a keyed hash of the address): distinct clients only.
    pub const SEARCH_CLIENT: &str = "search_log.client_key";
    pub const CASE_ANSWERS: &str = "cases.answers";
    pub const DRAFT_ANSWERS: &str = "case_drafts.answers";
    pub const CASE_ID_NUMBER: &str = "cases.applicant_id_number";
    pub const COUNTER_ANSWERS: &str = "counter_drafts.answers";
    pub const COUNTER_APPLICANT: &str = "counter_drafts.applicant";
    pub const SIGNING_SECRET: &str = "signing_keys.secret";
    pub const LICENSE_HOLDER_ID: &str = "licenses.holder_id_number";
    pub const LICENSE_FIELDS: &str = "licenses.fields";
    pub const JOB_PAYLOAD: &str = "jobs.payload";
    pub const RATING_COMMENT: &str = "ratings.comment";
    pub const VISIT_PHONE: &str = "rating_visits.phone";
}

/// How a column's rows are keyed.
#[derive(Debug, Clone, Copy)]
pub enum KeyKind {
    Int,
    Text,
}

/// Turns a value into its index key (None: not indexable).
pub type Normaliser = fn(&str) -> Option<String>;

/// One encrypted column, with its blind index if it has one.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub table: &'static str,
    pub key: &'static str,
    pub key_kind: KeyKind,
    pub column: &'static str,
    pub context: &'static str,
    /// (index column, normaliser). The index of a value the normaliser
    /// refuses is empty.
    pub index: Option<(&'static str, Normaliser)>,
    /// Only values already encrypted are this column's business (job
    /// payloads: most kinds carry no personal data and stay plain).
    pub sealed_only: bool,
}

impl Column {
    /// The SQL condition for "not yet under the active key" (`$1` is the
    /// active key's `zb1:<id>:%` pattern).
    fn stale(&self) -> String {
        let c = self.column;
        let sealed = if self.sealed_only {
            format!(" AND {c} LIKE 'zb1:%'")
        } else {
            String::new()
        };
        format!("{c} IS NOT NULL AND {c} <> '' AND {c} NOT LIKE $1{sealed}")
    }
}

/// 手机号 as an index key: the 11 digits.
pub fn normalise_phone(v: &str) -> Option<String> {
    crate::identity::ids::Phone::parse(v)
        .ok()
        .map(|p| p.as_str().to_string())
}

/// 身份证号 as an index key: trimmed, check letter upper case.
pub fn normalise_id_number(v: &str) -> Option<String> {
    let t = v.trim().to_uppercase();
    (!t.is_empty()).then_some(t)
}

const fn col(
    table: &'static str,
    key: &'static str,
    key_kind: KeyKind,
    column: &'static str,
    context: &'static str,
) -> Column {
    Column {
        table,
        key,
        key_kind,
        column,
        context,
        index: None,
        sealed_only: false,
    }
}

/// Every encrypted column. Adding personal data to the schema means adding
/// it here; the rotation test walks this list.
pub const COLUMNS: &[Column] = &[
    Column {
        index: Some(("phone_bidx", normalise_phone)),
        ..col("citizens", "id", KeyKind::Int, "phone", ctx::CITIZEN_PHONE)
    },
    Column {
        index: Some(("id_number_bidx", normalise_id_number)),
        ..col(
            "citizens",
            "id",
            KeyKind::Int,
            "id_number",
            ctx::CITIZEN_ID_NUMBER,
        )
    },
    col("citizens", "id", KeyKind::Int, "email", ctx::CITIZEN_EMAIL),
    col(
        "citizens",
        "id",
        KeyKind::Int,
        "totp_secret",
        ctx::CITIZEN_TOTP,
    ),
    col(
        "citizen_sessions",
        "id",
        KeyKind::Text,
        "totp_pending",
        ctx::CITIZEN_TOTP_PENDING,
    ),
    col(
        "staff_users",
        "id",
        KeyKind::Int,
        "totp_secret",
        ctx::STAFF_TOTP,
    ),
    col("staff_users", "id", KeyKind::Int, "phone", ctx::STAFF_PHONE),
    col(
        "staff_sessions",
        "id",
        KeyKind::Text,
        "enrol_secret",
        ctx::STAFF_ENROL,
    ),
    col(
        "oidc_keys",
        "kid",
        KeyKind::Text,
        "private_pem",
        ctx::OIDC_KEY,
    ),
    Column {
        index: Some(("applicant_phone_bidx", normalise_phone)),
        ..col(
            "cases",
            "id",
            KeyKind::Int,
            "applicant_phone",
            ctx::CASE_PHONE,
        )
    },
    col("cases", "id", KeyKind::Int, "answers", ctx::CASE_ANSWERS),
    Column {
        index: Some(("applicant_id_bidx", normalise_id_number)),
        ..col(
            "cases",
            "id",
            KeyKind::Int,
            "applicant_id_number",
            ctx::CASE_ID_NUMBER,
        )
    },
    col(
        "counter_drafts",
        "id",
        KeyKind::Int,
        "answers",
        ctx::COUNTER_ANSWERS,
    ),
    col(
        "counter_drafts",
        "id",
        KeyKind::Int,
        "applicant",
        ctx::COUNTER_APPLICANT,
    ),
    col(
        "requests",
        "id",
        KeyKind::Int,
        "contact_phone",
        ctx::REQUEST_PHONE,
    ),
    // Tips sealed under their own key (tk1:, tips::keys) are not the data
    // key's business; staged files and tips older than unit keys are.
    Column {
        sealed_only: true,
        ..col("tips", "id", KeyKind::Int, "content", ctx::TIP_CONTENT)
    },
    Column {
        sealed_only: true,
        ..col("tip_messages", "id", KeyKind::Int, "body", ctx::TIP_MESSAGE)
    },
    Column {
        sealed_only: true,
        ..col(
            "tip_files",
            "id",
            KeyKind::Int,
            "file_name",
            ctx::TIP_FILE_NAME,
        )
    },
    Column {
        sealed_only: true,
        ..col("tip_files", "id", KeyKind::Int, "body", ctx::TIP_FILE_BODY)
    },
    Column {
        sealed_only: true,
        ..col(
            "unit_keys",
            "unit_id",
            KeyKind::Int,
            "pending_secret",
            ctx::UNIT_KEY_PENDING,
        )
    },
    col(
        "ratings",
        "id",
        KeyKind::Int,
        "comment",
        ctx::RATING_COMMENT,
    ),
    col(
        "rating_visits",
        "id",
        KeyKind::Int,
        "phone",
        ctx::VISIT_PHONE,
    ),
    col(
        "case_drafts",
        "id",
        KeyKind::Int,
        "answers",
        ctx::DRAFT_ANSWERS,
    ),
    Column {
        sealed_only: true,
        ..col("jobs", "id", KeyKind::Int, "payload", ctx::JOB_PAYLOAD)
    },
    Column {
        index: Some(("holder_bidx", normalise_id_number)),
        ..col(
            "licenses",
            "id",
            KeyKind::Int,
            "holder_id_number",
            ctx::LICENSE_HOLDER_ID,
        )
    },
    col(
        "licenses",
        "id",
        KeyKind::Int,
        "fields",
        ctx::LICENSE_FIELDS,
    ),
    col(
        "signing_keys",
        "id",
        KeyKind::Text,
        "secret",
        ctx::SIGNING_SECRET,
    ),
];

fn crypto(e: zhiban_crypto::CryptoError) -> DomainError {
    DomainError::Store(StoreError::Crypto(e.to_string()))
}

/// Encrypts `value` for the column `context`. The empty string stays empty
/// (a blank optional field is not personal data and stays cheap to test).
pub fn seal(db: &Db, context: &str, value: &str) -> Result<String, DomainError> {
    if value.is_empty() {
        return Ok(String::new());
    }
    db.keyring()?.encrypt(context, value).map_err(crypto)
}

/// Decrypts a stored value (plain text written before encryption passes
/// through until the start-up pass has encrypted it).
pub fn open(db: &Db, context: &str, stored: &str) -> Result<String, DomainError> {
    if stored.is_empty() {
        return Ok(String::new());
    }
    db.keyring()?.decrypt(context, stored).map_err(crypto)
}

pub fn seal_opt(
    db: &Db,
    context: &str,
    value: Option<&str>,
) -> Result<Option<String>, DomainError> {
    value.map(|v| seal(db, context, v)).transpose()
}

pub fn open_opt(
    db: &Db,
    context: &str,
    stored: Option<&str>,
) -> Result<Option<String>, DomainError> {
    stored.map(|v| open(db, context, v)).transpose()
}

/// The blind index of an already normalised value.
pub fn index(db: &Db, context: &str, normalised: &str) -> Result<String, DomainError> {
    if normalised.is_empty() {
        return Ok(String::new());
    }
    Ok(db.keyring()?.blind_index(context, normalised))
}

/// Blind index of a 手机号 as stored for `context` (citizens or cases).
pub fn phone_index(db: &Db, context: &str, phone: &str) -> Result<String, DomainError> {
    index(db, context, &normalise_phone(phone).unwrap_or_default())
}

/// How far a pass got.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    /// Rows whose value is not yet under the active key, counted at the start.
    pub pending: u64,
    /// Rows moved by this pass.
    pub moved: u64,
    /// Rows skipped because they changed while the batch was read (a
    /// concurrent write already used the active key).
    pub raced: u64,
    /// True when no row is left on an old key or in plain text.
    pub complete: bool,
}

/// Counts the rows not yet under the active key.
pub async fn pending(db: &Db) -> Result<u64, DomainError> {
    let active = db.keyring()?.active_id().to_string();
    let mut n = 0u64;
    for c in COLUMNS {
        let sql = format!(
            "SELECT COUNT(*) FROM {t} WHERE {stale}",
            t = c.table,
            stale = c.stale()
        );
        let k: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(format!("zb1:{active}:%"))
            .fetch_one(db.pool())
            .await?;
        n += k as u64;
    }
    Ok(n)
}

/// Moves every value not under the active key (old keys and plain text) to
/// it, `batch` rows per transaction, and fills in blind indexes. Stops after
/// `max_batches` batches if given (the rotation test uses it to stop
/// half-way). `progress(done, total)` is called after each batch.
pub async fn reencrypt(
    db: &Db,
    batch: usize,
    max_batches: Option<usize>,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<PassReport, DomainError> {
    let total = pending(db).await?;
    let keys = db.keyring()?;
    let prefix = format!("zb1:{}:", keys.active_id());
    let mut report = PassReport {
        pending: total,
        ..Default::default()
    };
    let mut batches = 0usize;
    for c in COLUMNS {
        let mut after: Option<String> = None;
        loop {
            if max_batches.is_some_and(|m| batches >= m) {
                return Ok(report);
            }
            let rows = read_batch(db, c, &prefix, after.as_deref(), batch).await?;
            if rows.is_empty() {
                break;
            }
            after = rows.last().map(|r| r.0.clone());
            let mut tx = db.begin().await?;
            for (key, old) in &rows {
                let plain = keys.decrypt(c.context, old).map_err(crypto)?;
                let new = keys.encrypt(c.context, &plain).map_err(crypto)?;
                let done = match c.index {
                    Some((bidx, norm)) => {
                        let ix = norm(&plain)
                            .map(|v| keys.blind_index(c.context, &v))
                            .unwrap_or_default();
                        let sql = format!(
                            "UPDATE {t} SET {c} = $1, {bidx} = $2 WHERE {k} = {key} AND {c} = $3",
                            t = c.table,
                            c = c.column,
                            k = c.key,
                            key = key_param(c, 4),
                        );
                        bind_key(
                            sqlx::query(sqlx::AssertSqlSafe(sql))
                                .bind(new)
                                .bind(ix)
                                .bind(old),
                            c,
                            key,
                        )
                        .execute(&mut *tx)
                        .await?
                    }
                    None => {
                        let sql = format!(
                            "UPDATE {t} SET {c} = $1 WHERE {k} = {key} AND {c} = $2",
                            t = c.table,
                            c = c.column,
                            k = c.key,
                            key = key_param(c, 3),
                        );
                        bind_key(
                            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(new).bind(old),
                            c,
                            key,
                        )
                        .execute(&mut *tx)
                        .await?
                    }
                };
                if done.rows_affected() == 1 {
                    report.moved += 1;
                } else {
                    report.raced += 1;
                }
            }
            tx.commit().await?;
            batches += 1;
            progress(report.moved + report.raced, total);
        }
    }
    report.complete = pending(db).await? == 0;
    Ok(report)
}

fn key_param(c: &Column, n: usize) -> String {
    match c.key_kind {
        KeyKind::Int => format!("CAST(${n} AS BIGINT)"),
        KeyKind::Text => format!("${n}"),
    }
}

fn bind_key<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    c: &Column,
    key: &str,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    match c.key_kind {
        KeyKind::Int => q.bind(key.parse::<i64>().unwrap_or(-1)),
        KeyKind::Text => q.bind(key.to_string()),
    }
}

/// The next `batch` rows after `after` (keyset order) whose value is not
/// under the active key. Keys come back as text for both key kinds.
async fn read_batch(
    db: &Db,
    c: &Column,
    prefix: &str,
    after: Option<&str>,
    batch: usize,
) -> Result<Vec<(String, String)>, DomainError> {
    let cond = c.stale();
    let after_cond = match (after, c.key_kind) {
        (None, _) => String::new(),
        (Some(_), KeyKind::Int) => format!(" AND {} > CAST($2 AS BIGINT)", c.key),
        (Some(_), KeyKind::Text) => format!(" AND {} > $2", c.key),
    };
    let key_text = match c.key_kind {
        KeyKind::Int => format!("CAST({} AS TEXT)", c.key),
        KeyKind::Text => c.key.to_string(),
    };
    let sql = format!(
        "SELECT {key_text}, {c} FROM {t} WHERE {cond}{after_cond} ORDER BY {k} LIMIT {batch}",
        c = c.column,
        t = c.table,
        k = c.key,
    );
    let q =
        sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql)).bind(format!("{prefix}%"));
    let q = match (after, c.key_kind) {
        (None, _) => q,
        (Some(a), KeyKind::Int) => q.bind(a.parse::<i64>().unwrap_or(0)),
        (Some(a), KeyKind::Text) => q.bind(a.to_string()),
    };
    Ok(q.fetch_all(db.pool()).await?)
}
