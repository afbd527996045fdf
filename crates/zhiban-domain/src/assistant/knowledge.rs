//! The knowledge base staff maintain (questions with variants, answers,
//! cited links, validity dates) and the queue of questions the assistant
//! could not answer, built from real conversations so editors see what is
//! missing.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use super::engine::Source;
use crate::audit::{self, Entry as AuditEntry};
use crate::identity::Perm;
use crate::identity::staff::StaffSession;
use crate::{Conflict, Db, DomainError, FieldError};

/// Change-log topic: the knowledge base changed (every node reloads it).
pub const CHANGE_TOPIC: &str = "assistant.knowledge";

/// One question the knowledge base answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub id: i64,
    pub question: String,
    pub variants: Vec<String>,
    pub answer: String,
    pub links: Vec<Source>,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub active: bool,
    pub updated_by: String,
    pub updated_at: i64,
}

impl Entry {
    /// In force on `day`.
    pub fn valid_on(&self, day: NaiveDate) -> bool {
        self.active
            && self.valid_from.is_none_or(|f| f <= day)
            && self.valid_until.is_none_or(|u| day <= u)
    }
}

/// What an editor submits.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct EntryInput {
    #[serde(default)]
    pub question: String,
    /// One per line.
    #[serde(default)]
    pub variants: String,
    #[serde(default)]
    pub answer: String,
    /// One per line: `title|url`.
    #[serde(default)]
    pub links: String,
    #[serde(default)]
    pub valid_from: String,
    #[serde(default)]
    pub valid_until: String,
    /// An unanswered question this entry answers (it leaves the queue).
    #[serde(default)]
    pub unanswered: Option<i64>,
}

struct Checked {
    question: String,
    variants: Vec<String>,
    answer: String,
    links: Vec<Source>,
    valid_from: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
}

fn parse_date(field: &'static str, s: &str, errs: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errs.push(FieldError::new(field, "invalid_date", s));
            None
        }
    }
}

/// A link must stay on this portal (a path) or be an http(s) address.
fn parse_links(text: &str, errs: &mut Vec<FieldError>) -> Vec<Source> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (title, url) = match line.split_once('|') {
            Some((t, u)) => (t.trim(), u.trim()),
            None => (line, line),
        };
        let ok = (url.starts_with('/') && !url.starts_with("//"))
            || url.starts_with("https://")
            || url.starts_with("http://");
        if !ok || title.is_empty() || url.chars().any(char::is_whitespace) {
            errs.push(FieldError::new("kb_links", "bad_link", line));
            continue;
        }
        out.push(Source {
            title: title.chars().take(100).collect(),
            url: url.to_string(),
        });
    }
    out
}

impl EntryInput {
    fn check(&self) -> Result<Checked, Vec<FieldError>> {
        let mut errs = Vec::new();
        let question = self.question.trim().to_string();
        if question.is_empty() {
            errs.push(FieldError::new("kb_question", "required", ""));
        } else if question.chars().count() > 200 {
            errs.push(FieldError::new("kb_question", "too_long", "200"));
        }
        let answer = self.answer.trim().to_string();
        if answer.is_empty() {
            errs.push(FieldError::new("kb_answer", "required", ""));
        } else if answer.chars().count() > 2000 {
            errs.push(FieldError::new("kb_answer", "too_long", "2000"));
        }
        let variants: Vec<String> = self
            .variants
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| l.chars().take(200).collect())
            .collect();
        let links = parse_links(&self.links, &mut errs);
        if links.is_empty() && !errs.iter().any(|e| e.field == "kb_links") {
            // Every answer cites its source.
            errs.push(FieldError::new("kb_links", "required", ""));
        }
        let valid_from = parse_date("kb_valid_from", &self.valid_from, &mut errs);
        let valid_until = parse_date("kb_valid_until", &self.valid_until, &mut errs);
        if let (Some(f), Some(u)) = (valid_from, valid_until)
            && u < f
        {
            errs.push(FieldError::new("kb_valid_until", "before_start", ""));
        }
        if errs.is_empty() {
            Ok(Checked {
                question,
                variants,
                answer,
                links,
                valid_from,
                valid_until,
            })
        } else {
            Err(errs)
        }
    }
}

type EntryRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    i64,
);

fn entry_of(r: EntryRow) -> Entry {
    let (id, question, variants, answer, links, from, until, active, by, at) = r;
    let mut ignore = Vec::new();
    Entry {
        id,
        question,
        variants: variants
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
        answer,
        links: parse_links(&links, &mut ignore),
        valid_from: NaiveDate::parse_from_str(&from, "%Y-%m-%d").ok(),
        valid_until: NaiveDate::parse_from_str(&until, "%Y-%m-%d").ok(),
        active: active != 0,
        updated_by: by,
        updated_at: at,
    }
}

const COLUMNS: &str = "id, question, variants, answer, links, valid_from, valid_until, active, \
                       updated_by, updated_at";

/// Every entry, newest edit first.
pub async fn entries(db: &Db) -> Result<Vec<Entry>, DomainError> {
    let rows: Vec<EntryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM assistant_knowledge ORDER BY updated_at DESC, id DESC"
    )))
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(entry_of).collect())
}

/// Entries in force today (what the assistant answers from).
pub async fn in_force(db: &Db) -> Result<Vec<Entry>, DomainError> {
    let today = crate::time::local_date(db.now());
    Ok(entries(db)
        .await?
        .into_iter()
        .filter(|e| e.valid_on(today))
        .collect())
}

pub async fn entry(db: &Db, id: i64) -> Result<Entry, DomainError> {
    let row: Option<EntryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM assistant_knowledge WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    row.map(entry_of).ok_or(DomainError::NotFound)
}

fn allowed(staff: &StaffSession) -> Result<(), DomainError> {
    if staff.can(Perm::AssistantManage) {
        Ok(())
    } else {
        Err(Conflict::NotAllowed.into())
    }
}

/// Adds an entry (`id` None) or changes one; audited, and every node
/// reloads the knowledge base. Answering an unanswered question takes it
/// off the queue.
pub async fn save(
    db: &Db,
    staff: &StaffSession,
    id: Option<i64>,
    input: &EntryInput,
) -> Result<i64, DomainError> {
    allowed(staff)?;
    let c = input.check().map_err(DomainError::Invalid)?;
    let links = c
        .links
        .iter()
        .map(|l| format!("{}|{}", l.title, l.url))
        .collect::<Vec<_>>()
        .join("\n");
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let now = db.now().timestamp();
    let mut tx = db.begin().await?;
    let id = match id {
        Some(id) => {
            let n = sqlx::query(
                "UPDATE assistant_knowledge SET question = $1, variants = $2, answer = $3, \
                 links = $4, valid_from = $5, valid_until = $6, updated_by = $7, updated_at = $8 \
                 WHERE id = $9",
            )
            .bind(&c.question)
            .bind(c.variants.join("\n"))
            .bind(&c.answer)
            .bind(&links)
            .bind(date(c.valid_from))
            .bind(date(c.valid_until))
            .bind(&staff.user.username)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(DomainError::NotFound);
            }
            id
        }
        None => {
            let r = sqlx::query(
                "INSERT INTO assistant_knowledge (question, variants, answer, links, valid_from, \
                 valid_until, active, updated_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8) RETURNING id",
            )
            .bind(&c.question)
            .bind(c.variants.join("\n"))
            .bind(&c.answer)
            .bind(&links)
            .bind(date(c.valid_from))
            .bind(date(c.valid_until))
            .bind(&staff.user.username)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            r.try_get::<i64, _>("id")?
        }
    };
    if let Some(u) = input.unanswered {
        sqlx::query(
            "UPDATE assistant_unanswered SET status = 'answered', knowledge_id = $1, \
             handled_by = $2 WHERE id = $3",
        )
        .bind(id)
        .bind(&staff.user.username)
        .bind(u)
        .execute(&mut *tx)
        .await?;
    }
    crate::changes::record(&mut tx, CHANGE_TOPIC, &id.to_string()).await?;
    audit::append(
        &mut tx,
        &AuditEntry::staff(
            &staff.user.username,
            "assistant.knowledge.save",
            id.to_string(),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Takes an entry out of use (or back into use).
pub async fn set_active(
    db: &Db,
    staff: &StaffSession,
    id: i64,
    active: bool,
) -> Result<(), DomainError> {
    allowed(staff)?;
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "UPDATE assistant_knowledge SET active = $1, updated_by = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(i64::from(active))
    .bind(&staff.user.username)
    .bind(tx.now().timestamp())
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(DomainError::NotFound);
    }
    crate::changes::record(&mut tx, CHANGE_TOPIC, &id.to_string()).await?;
    audit::append(
        &mut tx,
        &AuditEntry::staff(
            &staff.user.username,
            if active {
                "assistant.knowledge.restore"
            } else {
                "assistant.knowledge.retire"
            },
            id.to_string(),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A question the assistant could not answer, grouped by wording.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Unanswered {
    pub id: i64,
    pub question: String,
    pub times: i64,
    pub first_at: i64,
    pub last_at: i64,
    pub status: String,
}

/// The wording key: 简体-independent of spaces, punctuation and case.
pub fn wording_key(normalized: &str) -> String {
    normalized
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .take(200)
        .collect()
}

/// Counts a question the assistant handed off (one row per wording; a
/// dismissed or answered wording asked again comes back to the queue).
pub async fn record_unanswered(
    db: &Db,
    normalized: &str,
    question: &str,
) -> Result<(), DomainError> {
    let key = wording_key(normalized);
    if key.is_empty() {
        return Ok(());
    }
    let now = db.now().timestamp();
    sqlx::query(
        "INSERT INTO assistant_unanswered (normalized, question, times, first_at, last_at, status) \
         VALUES ($1, $2, 1, $3, $3, 'open') \
         ON CONFLICT (normalized) DO UPDATE SET times = assistant_unanswered.times + 1, \
         last_at = excluded.last_at, status = 'open'",
    )
    .bind(&key)
    .bind(question.chars().take(200).collect::<String>())
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The open queue, most asked first.
pub async fn unanswered(db: &Db, limit: i64) -> Result<Vec<Unanswered>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT id, question, times, first_at, last_at, status FROM assistant_unanswered \
         WHERE status = 'open' ORDER BY times DESC, last_at DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

pub async fn unanswered_one(db: &Db, id: i64) -> Result<Unanswered, DomainError> {
    sqlx::query_as(
        "SELECT id, question, times, first_at, last_at, status FROM assistant_unanswered WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(DomainError::NotFound)
}

/// Takes a question off the queue without an entry (spam, not a question).
pub async fn dismiss(db: &Db, staff: &StaffSession, id: i64) -> Result<(), DomainError> {
    allowed(staff)?;
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "UPDATE assistant_unanswered SET status = 'dismissed', handled_by = $1 WHERE id = $2",
    )
    .bind(&staff.user.username)
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(DomainError::NotFound);
    }
    audit::append(
        &mut tx,
        &AuditEntry::staff(
            &staff.user.username,
            "assistant.unanswered.dismiss",
            id.to_string(),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_need_a_question_an_answer_and_a_cited_link() {
        let errs = EntryInput::default().check().err().expect("invalid");
        let fields: Vec<&str> = errs.iter().map(|e| e.field).collect();
        assert!(fields.contains(&"kb_question"));
        assert!(fields.contains(&"kb_answer"));
        assert!(fields.contains(&"kb_links"));
    }

    #[test]
    fn links_must_be_paths_or_web_addresses() {
        let input = EntryInput {
            question: "q".into(),
            answer: "a".into(),
            links: "办事指南|/services/1\n外链|javascript:alert(1)\n//evil.example".into(),
            ..Default::default()
        };
        let errs = input.check().err().expect("invalid");
        assert_eq!(errs.iter().filter(|e| e.field == "kb_links").count(), 2);
    }

    #[test]
    fn validity_dates_bound_the_entry() {
        let mut e = entry_of((
            1,
            "q".into(),
            "".into(),
            "a".into(),
            "t|/x".into(),
            "2026-01-01".into(),
            "2026-06-30".into(),
            1,
            "u".into(),
            0,
        ));
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(!e.valid_on(d("2025-12-31")));
        assert!(e.valid_on(d("2026-03-01")));
        assert!(!e.valid_on(d("2026-07-01")));
        e.active = false;
        assert!(!e.valid_on(d("2026-03-01")));
    }
}
