//! 在线访谈 / 警方在线: scheduled interviews with guests. Citizens send
//! questions before and during the interview; moderators show or decline
//! them; guests answer; the host speaks and posts photos. Everything shown
//! is appended to an event log, which the live page follows (server-sent
//! events from any node, resuming from the last event it has) and which
//! leaves the interview as a transcript when it ends. The police's
//! 网上警局 office hours are interviews of kind `police`.
//!
//! - this module: the records, the public reading and asking, the log;
//! - [`host`]: the moderators' side (scheduling, moderation, answers,
//!   photos, starting and ending), within their data scope;
//! - [`demo`]: three interviews with transcripts (演示数据).

pub mod demo;
pub mod host;

use sqlx::Row;

use crate::catalog::enums::vocabulary;
use crate::identity::citizen::Citizen;
use crate::{Db, DomainError, FieldError};

vocabulary!(
    /// What sort of session it is.
    InterviewKind {
        Interview => "interview", "在线访谈";
        Police => "police", "警方在线";
    }
);

vocabulary!(
    /// Where an interview stands.
    InterviewState {
        Scheduled => "scheduled", "预告";
        Live => "live", "直播中";
        Ended => "ended", "已结束";
    }
);

vocabulary!(
    /// Who says what.
    PostKind {
        Question => "question", "网友提问";
        Answer => "answer", "嘉宾回答";
        Host => "host", "主持人";
        Photo => "photo", "图片";
    }
);

vocabulary!(
    /// Whether a post shows.
    PostState {
        Pending => "pending", "待审核";
        Shown => "shown", "已发布";
        Rejected => "rejected", "未采用";
    }
);

/// A guest: 姓名 and 职务.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guest {
    pub name: String,
    pub title: String,
}

#[derive(Debug, Clone)]
pub struct Interview {
    pub id: i64,
    pub kind: InterviewKind,
    pub title: String,
    pub summary: String,
    pub guests: Vec<Guest>,
    /// The guests as typed (one per line, 姓名｜职务), for the edit form.
    pub guests_text: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub state: InterviewState,
}

impl Interview {
    /// Questions are taken until the interview ends.
    pub fn takes_questions(&self) -> bool {
        self.state != InterviewState::Ended
    }
}

/// One thing said or shown.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Post {
    pub id: i64,
    #[serde(serialize_with = "slug_of_kind")]
    pub kind: PostKind,
    pub speaker: String,
    pub body: String,
    /// For an answer: the question it answers (its speaker and text).
    pub quote: Option<Quote>,
    #[serde(skip)]
    pub state: PostState,
    #[serde(skip)]
    pub file_key: Option<String>,
    pub at: i64,
}

impl Post {
    pub fn is_photo(&self) -> bool {
        self.kind == PostKind::Photo
    }
}

fn slug_of_kind<S: serde::Serializer>(k: &PostKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.slug())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Quote {
    pub speaker: String,
    pub body: String,
}

/// One change in the live stream.
#[derive(Debug, Clone)]
pub enum Change {
    /// A post appears (or appears again).
    Shown(Post),
    /// A post is withdrawn.
    Hidden(i64),
    /// The interview starts or ends.
    State(InterviewState),
    /// A question waits for the moderators (staff streams only).
    Asked(Post),
}

#[derive(Debug, Clone)]
pub struct Event {
    pub id: i64,
    pub change: Change,
}

/// The interviews for the public lists: live first, then the coming ones
/// (soonest first), then the past (newest first).
pub async fn list(db: &Db, kind: Option<InterviewKind>) -> Result<Vec<Interview>, DomainError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE ($1 = '' OR i.kind = $1) ORDER BY i.starts_at DESC LIMIT 200"
    )))
    .bind(kind.map(|k| k.slug()).unwrap_or(""))
    .fetch_all(db.pool())
    .await?;
    let mut all = rows
        .iter()
        .map(interview_of)
        .collect::<Result<Vec<_>, _>>()?;
    all.sort_by_key(|i| match i.state {
        InterviewState::Live => (0, 0),
        InterviewState::Scheduled => (1, i.starts_at),
        InterviewState::Ended => (2, -i.starts_at),
    });
    Ok(all)
}

const SELECT: &str = "SELECT i.id, i.kind, i.title, i.summary, i.guests, i.unit_id, \
    d.name AS unit_name, i.starts_at, i.ends_at, i.state FROM interviews i \
    JOIN departments d ON d.id = i.unit_id";

fn interview_of(r: &sqlx::any::AnyRow) -> Result<Interview, DomainError> {
    let bad = || DomainError::Internal("unreadable interview");
    let guests_text: String = r.try_get("guests")?;
    Ok(Interview {
        id: r.try_get("id")?,
        kind: InterviewKind::from_slug(&r.try_get::<String, _>("kind")?).ok_or_else(bad)?,
        title: r.try_get("title")?,
        summary: r.try_get("summary")?,
        guests: parse_guests(&guests_text),
        guests_text,
        unit_id: r.try_get("unit_id")?,
        unit_name: r.try_get("unit_name")?,
        starts_at: r.try_get("starts_at")?,
        ends_at: r.try_get("ends_at")?,
        state: InterviewState::from_slug(&r.try_get::<String, _>("state")?).ok_or_else(bad)?,
    })
}

/// Guests typed one per line as 姓名｜职务 (a half-width `|` or a comma
/// also separates them; a line without one is a name alone).
pub fn parse_guests(text: &str) -> Vec<Guest> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (name, title) = l.split_once(['｜', '|', '，', ',']).unwrap_or((l, ""));
            Guest {
                name: name.trim().to_string(),
                title: title.trim().to_string(),
            }
        })
        .collect()
}

/// One interview by id.
pub async fn get(db: &Db, id: i64) -> Result<Interview, DomainError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE i.id = $1")))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(DomainError::NotFound)?;
    interview_of(&row)
}

/// The public page: the interview, what has been shown in the order it
/// was shown, and the last event id (where the live stream continues).
pub async fn public(db: &Db, id: i64) -> Result<(Interview, Vec<Post>, i64), DomainError> {
    let interview = get(db, id).await?;
    let posts = posts(db, id, &[PostState::Shown]).await?;
    Ok((interview, posts, last_event(db, id).await?))
}

pub(crate) async fn last_event(db: &Db, id: i64) -> Result<i64, DomainError> {
    let r = sqlx::query(
        "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) AS id FROM interview_events \
         WHERE interview_id = $1",
    )
    .bind(id)
    .fetch_one(db.pool())
    .await?;
    Ok(r.try_get("id")?)
}

const POST_SELECT: &str = "SELECT p.id, p.kind, p.speaker, p.body, p.state, p.file_key, \
    COALESCE(p.shown_at, p.created_at) AS at, q.speaker AS q_speaker, q.body AS q_body \
    FROM interview_posts p LEFT JOIN interview_posts q ON q.id = p.reply_to";

fn post_of(r: &sqlx::any::AnyRow) -> Result<Post, DomainError> {
    let bad = || DomainError::Internal("unreadable interview post");
    let quote = match (
        r.try_get::<Option<String>, _>("q_speaker")?,
        r.try_get::<Option<String>, _>("q_body")?,
    ) {
        (Some(speaker), Some(body)) => Some(Quote { speaker, body }),
        _ => None,
    };
    Ok(Post {
        id: r.try_get("id")?,
        kind: PostKind::from_slug(&r.try_get::<String, _>("kind")?).ok_or_else(bad)?,
        speaker: r.try_get("speaker")?,
        body: r.try_get("body")?,
        quote,
        state: PostState::from_slug(&r.try_get::<String, _>("state")?).ok_or_else(bad)?,
        file_key: r.try_get("file_key")?,
        at: r.try_get("at")?,
    })
}

/// Posts of an interview in these states, in the order they were shown
/// (pending ones in the order they came).
pub(crate) async fn posts(
    db: &Db,
    id: i64,
    states: &[PostState],
) -> Result<Vec<Post>, DomainError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{POST_SELECT} WHERE p.interview_id = $1 ORDER BY COALESCE(p.shown_at, p.created_at), p.id"
    )))
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(post_of)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|p| states.contains(&p.state))
        .collect())
}

pub(crate) async fn post(db: &Db, interview: i64, post: i64) -> Result<Post, DomainError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{POST_SELECT} WHERE p.interview_id = $1 AND p.id = $2"
    )))
    .bind(interview)
    .bind(post)
    .fetch_optional(db.pool())
    .await?
    .ok_or(DomainError::NotFound)?;
    post_of(&row)
}

/// A shown photo's file key (a hidden or missing one reads as missing).
pub async fn photo_key(db: &Db, interview: i64, post_id: i64) -> Result<String, DomainError> {
    let p = post(db, interview, post_id).await?;
    match (p.kind, p.state, p.file_key) {
        (PostKind::Photo, PostState::Shown, Some(key)) => Ok(key),
        _ => Err(DomainError::NotFound),
    }
}

/// A question from the public.
#[derive(Debug, Clone, Default)]
pub struct NewQuestion {
    /// How the asker wants to be called (optional, up to 12 characters).
    pub nickname: String,
    pub text: String,
}

/// Sends a question to the moderators. It shows once they accept it.
pub async fn ask(
    db: &Db,
    id: i64,
    citizen: Option<&Citizen>,
    q: &NewQuestion,
) -> Result<(), DomainError> {
    let interview = get(db, id).await?;
    if !interview.takes_questions() {
        return Err(DomainError::Conflict(crate::Conflict::NotAllowed));
    }
    let mut errs = Vec::new();
    let text = check_text(&q.text, "question", 5, 500, &mut errs);
    let nickname: String = q
        .nickname
        .trim()
        .chars()
        .filter(|c| !c.is_control() && !zhiban_store::files::is_format_char(*c))
        .collect();
    if nickname.chars().count() > 12 {
        errs.push(FieldError::new("nickname", "too_long", ""));
    }
    if !errs.is_empty() {
        return Err(DomainError::Invalid(errs));
    }
    let speaker = if nickname.is_empty() {
        "网友".to_string()
    } else {
        format!("网友「{nickname}」")
    };
    let mut tx = db.begin().await?;
    let now = tx.now().timestamp();
    let row = sqlx::query(
        "INSERT INTO interview_posts (interview_id, kind, speaker, citizen_id, body, state, \
         created_at) VALUES ($1, 'question', $2, $3, $4, 'pending', $5) RETURNING id",
    )
    .bind(id)
    .bind(&speaker)
    .bind(citizen.map(|c| c.id))
    .bind(&text)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let post_id: i64 = row.try_get("id")?;
    log(&mut tx, id, "asked", Some(post_id), now).await?;
    tx.commit().await?;
    Ok(())
}

/// Trimmed text between `min` and `max` characters, or a field error.
pub(crate) fn check_text(
    text: &str,
    field: &'static str,
    min: usize,
    max: usize,
    errs: &mut Vec<FieldError>,
) -> String {
    let text = text.trim().replace("\r\n", "\n");
    let n = text.chars().count();
    if n == 0 {
        errs.push(FieldError::new(field, "required", ""));
    } else if n < min {
        errs.push(FieldError::new(field, "too_short", min.to_string()));
    } else if n > max {
        errs.push(FieldError::new(field, "too_long", ""));
    }
    text
}

/// Appends a change to the live stream, inside the writer's transaction.
pub(crate) async fn log(
    tx: &mut crate::Tx,
    interview: i64,
    what: &str,
    post: Option<i64>,
    at: i64,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO interview_events (interview_id, what, post_id, at) VALUES ($1, $2, $3, $4)",
    )
    .bind(interview)
    .bind(what)
    .bind(post)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The changes after event `after`, oldest first (at most `limit` read),
/// and the last event id read. The public stream leaves out the
/// questions waiting for moderation.
pub async fn events_since(
    db: &Db,
    id: i64,
    after: i64,
    staff: bool,
    limit: i64,
) -> Result<(Vec<Event>, i64), DomainError> {
    let rows = sqlx::query(
        "SELECT e.id, e.what, e.post_id, i.state FROM interview_events e \
         JOIN interviews i ON i.id = e.interview_id \
         WHERE e.interview_id = $1 AND e.id > $2 ORDER BY e.id LIMIT $3",
    )
    .bind(id)
    .bind(after)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    let mut last = after;
    for r in rows {
        let event_id: i64 = r.try_get("id")?;
        last = event_id;
        let what: String = r.try_get("what")?;
        let post_id: Option<i64> = r.try_get("post_id")?;
        let change = match (what.as_str(), post_id) {
            ("shown", Some(p)) => {
                // Shown then withdrawn: the later 'hidden' event says so.
                let post = post(db, id, p).await?;
                Change::Shown(post)
            }
            ("hidden", Some(p)) => Change::Hidden(p),
            ("asked", Some(p)) if staff => Change::Asked(post(db, id, p).await?),
            ("state", _) => {
                let s: String = r.try_get("state")?;
                // The event says a change happened; the record says where it is now.
                Change::State(
                    InterviewState::from_slug(&s)
                        .ok_or(DomainError::Internal("unreadable interview"))?,
                )
            }
            _ => continue,
        };
        out.push(Event {
            id: event_id,
            change,
        });
    }
    Ok((out, last))
}
