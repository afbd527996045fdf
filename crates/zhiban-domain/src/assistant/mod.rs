//! 智能客服: a 7×24 assistant that answers from the portal's own content.
//!
//! - [`aspects`] reads what a question asks (materials, time limit, fees,
//!   place, hours, conditions, online, phone, process) from everyday words;
//! - [`engine`] finds the service (through the same query understanding as
//!   search: colloquial, pinyin, typos, 繁體), the knowledge-base entry or
//!   the published policy, keeps the topic across turns, asks when two
//!   services tie, and says so when it is not sure (a person takes over);
//! - [`compose`] writes answers only from the guide's own fields, each with
//!   its source;
//! - [`knowledge`] is what staff maintain: entries and the queue of
//!   unanswered questions;
//! - this module keeps conversations and their turns.

pub mod aspects;
pub mod canned;
pub mod compose;
pub mod engine;
pub mod eval;
pub mod handoff;
pub mod knowledge;
mod reply;
mod words;

pub use engine::{Assistant, Brain, Choice, Reply, ReplyKind, Source, Topic};

use serde::{Deserialize, Serialize};

use crate::{Db, DomainError};

/// Assistant settings (`[assistant]` in the configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AssistantSettings {
    /// Below this confidence (0–1) the assistant says it does not know and
    /// offers a person.
    pub threshold: f32,
    /// Conversations idle longer than this start a new topic.
    pub session_idle_minutes: i64,
    /// Questions one client address may ask per minute (page and API).
    pub per_minute: u32,
    /// When 热线坐席 answer hand-offs live, Beijing time:
    /// `"09:00-12:00,13:30-17:30"`; empty: never (a hand-off becomes a
    /// 咨询 request).
    pub agent_hours: String,
    /// On which days: `working` (the work calendar's working days) or `all`.
    pub agent_days: String,
}

impl Default for AssistantSettings {
    fn default() -> Self {
        AssistantSettings {
            threshold: 0.6,
            session_idle_minutes: 30,
            per_minute: 30,
            agent_hours: "09:00-12:00,13:30-17:30".into(),
            agent_days: "working".into(),
        }
    }
}

/// One turn as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Turn {
    pub question: String,
    pub answer: String,
    pub sources: Vec<Source>,
    pub kind: String,
    pub confidence: f64,
    pub asked_at: i64,
}

/// A session id is 32 lowercase hex characters (a v4 UUID, simple form).
pub fn valid_session_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The topic of a session, if it exists and has not gone idle.
async fn topic_of(db: &Db, session: &str, idle_secs: i64) -> Result<Option<Topic>, DomainError> {
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT topic, updated_at FROM assistant_sessions WHERE id = $1")
            .bind(session)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.map(|(topic, at)| {
        if db.now().timestamp() - at > idle_secs {
            Topic::default()
        } else {
            serde_json::from_str(&topic).unwrap_or_default()
        }
    }))
}

/// Asks the assistant within a session (a new one when `session` is None,
/// unknown or malformed); the turn is kept, and a hand-off that was not the
/// person asking for one goes to the unanswered queue.
pub async fn ask(
    db: &Db,
    assistant: &Assistant<'_>,
    settings: &AssistantSettings,
    session: Option<&str>,
    question: &str,
    citizen_id: Option<i64>,
) -> Result<(String, Reply), DomainError> {
    let question: String = question.trim().chars().take(500).collect();
    let idle = settings.session_idle_minutes.max(1) * 60;
    let existing = match session.filter(|s| valid_session_id(s)) {
        Some(s) => topic_of(db, s, idle).await?.map(|t| (s.to_string(), t)),
        None => None,
    };
    let (id, topic, new) = match existing {
        Some((id, t)) => (id, t, false),
        None => (
            uuid::Uuid::new_v4().simple().to_string(),
            Topic::default(),
            true,
        ),
    };
    let reply = assistant.reply(&question, &topic);
    let now = db.now().timestamp();
    let topic_json =
        serde_json::to_string(&reply.topic).map_err(|_| DomainError::Internal("topic"))?;
    let sources =
        serde_json::to_string(&reply.sources).map_err(|_| DomainError::Internal("sources"))?;
    let mut tx = db.begin().await?;
    if new {
        sqlx::query(
            "INSERT INTO assistant_sessions (id, topic, citizen_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(&id)
        .bind(&topic_json)
        .bind(citizen_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query(
            "UPDATE assistant_sessions SET topic = $1, updated_at = $2, \
             citizen_id = COALESCE(citizen_id, $3) WHERE id = $4",
        )
        .bind(&topic_json)
        .bind(now)
        .bind(citizen_id)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO assistant_turns (session_id, question, answer, sources, kind, confidence, asked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&question)
    .bind(&reply.answer)
    .bind(&sources)
    .bind(reply.kind.slug())
    .bind(f64::from(reply.confidence))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if reply.kind == ReplyKind::HandOff && reply.confidence < 1.0 {
        let normalized = assistant.search.understand(&question).normalized;
        knowledge::record_unanswered(db, &normalized, &question).await?;
    }
    Ok((id, reply))
}

/// The turns of a session, oldest first.
pub async fn turns(db: &Db, session: &str) -> Result<Vec<Turn>, DomainError> {
    let rows: Vec<(String, String, String, String, f64, i64)> = sqlx::query_as(
        "SELECT question, answer, sources, kind, confidence, asked_at FROM assistant_turns \
         WHERE session_id = $1 ORDER BY id",
    )
    .bind(session)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(question, answer, sources, kind, confidence, asked_at)| Turn {
                question,
                answer,
                sources: serde_json::from_str(&sources).unwrap_or_default(),
                kind,
                confidence,
                asked_at,
            },
        )
        .collect())
}
