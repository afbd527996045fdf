//! 转人工: a conversation the assistant hands to a person.
//!
//! A citizen asks for a person; within the agents' service hours
//! (`assistant.agent_hours` on the days `assistant.agent_days` names) the
//! conversation joins the queue that staff with `calls.answer` (热线坐席)
//! work. One agent accepts it (only one: the second gets [`Conflict::Stale`]),
//! sees the conversation so far, replies (typed or from the canned answers),
//! may hand it to a colleague or back to the queue, and closes it; the
//! citizen may end it too. Outside the hours the page offers a 咨询 request
//! instead, drafted from what was asked, answered the next working day.
//!
//! Every message and every change of hands is one row of
//! `assistant_chat_messages`: that log is what both pages show and what
//! their live streams follow (so a message written on another node shows
//! too).

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};
use serde::Serialize;

use crate::audit::{self, Entry as AuditEntry};
use crate::cases::calendar::WorkCalendar;
use crate::identity::Perm;
use crate::identity::staff::StaffSession;
use crate::{Conflict, Db, DomainError, FieldError, Tx};

use super::AssistantSettings;
use super::aspects::SmallTalk;

/// Longest message, in characters.
pub const MAX_MESSAGE: usize = 1000;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Sender {
    Citizen,
    Agent,
    /// A change of hands: the body is its code (see [`Event`]).
    System,
}

impl Sender {
    pub fn slug(self) -> &'static str {
        match self {
            Sender::Citizen => "citizen",
            Sender::Agent => "agent",
            Sender::System => "system",
        }
    }

    fn from_slug(s: &str) -> Sender {
        match s {
            "citizen" => Sender::Citizen,
            "agent" => Sender::Agent,
            _ => Sender::System,
        }
    }
}

/// What a system message records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// In the queue, waiting for an agent.
    Waiting,
    /// An agent took it.
    Accepted,
    /// Handed to another agent (the message names the new one).
    Transferred,
    /// Handed back to the queue.
    Requeued,
    /// Ended by the citizen.
    EndedByCitizen,
    /// Ended by the agent.
    EndedByAgent,
    /// Ended because nobody wrote for [`IDLE_CLOSE_SECS`].
    TimedOut,
}

impl Event {
    pub fn code(self) -> &'static str {
        match self {
            Event::Waiting => "waiting",
            Event::Accepted => "accepted",
            Event::Transferred => "transferred",
            Event::Requeued => "requeued",
            Event::EndedByCitizen => "ended_citizen",
            Event::EndedByAgent => "ended_agent",
            Event::TimedOut => "timed_out",
        }
    }
}

/// Where a conversation with a person stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ChatState {
    Waiting,
    Active,
    Closed,
}

impl ChatState {
    pub fn slug(self) -> &'static str {
        match self {
            ChatState::Waiting => "waiting",
            ChatState::Active => "active",
            ChatState::Closed => "closed",
        }
    }

    fn from_slug(s: &str) -> ChatState {
        match s {
            "waiting" => ChatState::Waiting,
            "active" => ChatState::Active,
            _ => ChatState::Closed,
        }
    }

    /// What a system message leaves the chat in.
    pub fn after(code: &str) -> ChatState {
        match code {
            "waiting" | "requeued" => ChatState::Waiting,
            "accepted" | "transferred" => ChatState::Active,
            _ => ChatState::Closed,
        }
    }
}

/// A conversation handed to a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chat {
    pub id: i64,
    pub session_id: String,
    pub citizen_id: Option<i64>,
    pub state: ChatState,
    pub agent_id: Option<i64>,
    /// What the citizen asked last before asking for a person.
    pub question: String,
    pub created_at: i64,
    pub closed_at: Option<i64>,
}

impl Chat {
    pub fn is_open(&self) -> bool {
        self.state != ChatState::Closed
    }
}

/// One message (or change of hands).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub id: i64,
    pub chat_id: i64,
    pub sender: Sender,
    /// The text; for [`Sender::System`] the event's code.
    pub body: String,
    /// The agent who wrote it, or whom the change of hands names.
    pub agent_id: Option<i64>,
    pub at: i64,
}

/// How the agent is named to the citizen: a work number, never a name.
pub fn agent_number(agent_id: i64) -> String {
    format!("{agent_id:04}")
}

/// The periods of a day agents answer, from `"09:00-12:00,13:30-17:30"`;
/// empty text means never (every hand-off becomes a request).
pub fn parse_hours(text: &str) -> Result<Vec<(NaiveTime, NaiveTime)>, String> {
    let mut out = Vec::new();
    for part in text
        .split([',', '，'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (a, b) = part
            .split_once('-')
            .ok_or_else(|| format!("{part}: expected HH:MM-HH:MM"))?;
        let time = |s: &str| {
            let s = s.trim();
            if s == "24:00" {
                return NaiveTime::from_hms_opt(23, 59, 59).ok_or_else(|| s.to_string());
            }
            NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| format!("{s}: not a time"))
        };
        let (from, to) = (time(a)?, time(b)?);
        if from >= to {
            return Err(format!("{part}: ends before it starts"));
        }
        out.push((from, to));
    }
    out.sort();
    Ok(out)
}

fn open_on(settings: &AssistantSettings, calendar: &WorkCalendar, day: NaiveDate) -> bool {
    settings.agent_days == "all" || calendar.is_working_day(day)
}

/// Whether agents answer at `now`.
pub fn agents_open(
    settings: &AssistantSettings,
    calendar: &WorkCalendar,
    now: DateTime<Utc>,
) -> bool {
    let local = now.with_timezone(&crate::time::beijing());
    let t = local.time();
    open_on(settings, calendar, local.date_naive())
        && parse_hours(&settings.agent_hours)
            .unwrap_or_default()
            .iter()
            .any(|(a, b)| *a <= t && t < *b)
}

/// When agents next answer after `now` (within a month), Beijing time.
pub fn next_opening(
    settings: &AssistantSettings,
    calendar: &WorkCalendar,
    now: DateTime<Utc>,
) -> Option<(NaiveDate, NaiveTime)> {
    let hours = parse_hours(&settings.agent_hours).ok()?;
    let local = now.with_timezone(&crate::time::beijing());
    let mut day = local.date_naive();
    for _ in 0..31 {
        if open_on(settings, calendar, day) {
            for (from, to) in &hours {
                let starts_later = day > local.date_naive() || *from > local.time();
                let running =
                    day == local.date_naive() && *from <= local.time() && local.time() < *to;
                if running {
                    return Some((day, local.time().with_second(0).unwrap_or(*from)));
                }
                if starts_later {
                    return Some((day, *from));
                }
            }
        }
        day = day.succ_opt()?;
    }
    None
}

/// The hours as people read them: `09:00–12:00、13:30–17:30`.
pub fn hours_text(settings: &AssistantSettings) -> String {
    parse_hours(&settings.agent_hours)
        .unwrap_or_default()
        .iter()
        .map(|(a, b)| format!("{}–{}", a.format("%H:%M"), b.format("%H:%M")))
        .collect::<Vec<_>>()
        .join("、")
}

type ChatRow = (
    i64,
    String,
    Option<i64>,
    String,
    Option<i64>,
    String,
    i64,
    Option<i64>,
);

const CHAT_COLUMNS: &str =
    "id, session_id, citizen_id, state, agent_id, question, created_at, closed_at";

fn chat_of(r: ChatRow) -> Chat {
    Chat {
        id: r.0,
        session_id: r.1,
        citizen_id: r.2,
        state: ChatState::from_slug(&r.3),
        agent_id: r.4,
        question: r.5,
        created_at: r.6,
        closed_at: r.7,
    }
}

pub async fn chat(db: &Db, id: i64) -> Result<Chat, DomainError> {
    let row: Option<ChatRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CHAT_COLUMNS} FROM assistant_chats WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    row.map(chat_of).ok_or(DomainError::NotFound)
}

/// The newest chat of an assistant session, open or not.
pub async fn latest_chat(db: &Db, session: &str) -> Result<Option<Chat>, DomainError> {
    let row: Option<ChatRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CHAT_COLUMNS} FROM assistant_chats WHERE session_id = $1 ORDER BY id DESC LIMIT 1"
    )))
    .bind(session)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(chat_of))
}

/// The session's chat that is still waiting or being answered.
pub async fn open_chat(db: &Db, session: &str) -> Result<Option<Chat>, DomainError> {
    Ok(latest_chat(db, session).await?.filter(Chat::is_open))
}

async fn append(
    tx: &mut Tx,
    chat: i64,
    sender: Sender,
    body: &str,
    agent: Option<i64>,
    at: i64,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO assistant_chat_messages (chat_id, sender, body, agent_id, at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(chat)
    .bind(sender.slug())
    .bind(body)
    .bind(agent)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The citizen asks for a person: the session's open chat, or a new one in
/// the queue. `session` must exist (a conversation with the assistant
/// comes first, so the agent sees what was asked).
pub async fn request_agent(
    db: &Db,
    session: &str,
    citizen_id: Option<i64>,
) -> Result<Chat, DomainError> {
    if let Some(c) = open_chat(db, session).await? {
        return Ok(c);
    }
    let last: Option<(String,)> = sqlx::query_as(
        "SELECT question FROM assistant_turns WHERE session_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(session)
    .fetch_optional(db.pool())
    .await?;
    let Some((question,)) = last else {
        return Err(DomainError::NotFound);
    };
    let now = db.now().timestamp();
    let mut tx = db.begin().await?;
    let id: (i64,) = sqlx::query_as(
        "INSERT INTO assistant_chats (session_id, citizen_id, state, question, created_at) \
         VALUES ($1, $2, 'waiting', $3, $4) RETURNING id",
    )
    .bind(session)
    .bind(citizen_id)
    .bind(&question)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    append(
        &mut tx,
        id.0,
        Sender::System,
        Event::Waiting.code(),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    chat(db, id.0).await
}

pub(super) fn check_text(text: &str) -> Result<String, DomainError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "chat_body",
            "required",
            "",
        )]));
    }
    if text.chars().count() > MAX_MESSAGE {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "chat_body",
            "too_long",
            MAX_MESSAGE.to_string(),
        )]));
    }
    Ok(text.to_string())
}

/// The citizen writes in their open chat.
pub async fn citizen_says(db: &Db, session: &str, text: &str) -> Result<Chat, DomainError> {
    let text = check_text(text)?;
    let chat = open_chat(db, session).await?.ok_or(Conflict::NotAllowed)?;
    let mut tx = db.begin().await?;
    append(
        &mut tx,
        chat.id,
        Sender::Citizen,
        &text,
        None,
        db.now().timestamp(),
    )
    .await?;
    tx.commit().await?;
    Ok(chat)
}

/// The citizen ends their open chat (nothing happens when there is none).
pub async fn citizen_ends(db: &Db, session: &str) -> Result<(), DomainError> {
    let Some(chat) = open_chat(db, session).await? else {
        return Ok(());
    };
    let now = db.now().timestamp();
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "UPDATE assistant_chats SET state = 'closed', closed_at = $1 WHERE id = $2 AND state <> 'closed'",
    )
    .bind(now)
    .bind(chat.id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n > 0 {
        append(
            &mut tx,
            chat.id,
            Sender::System,
            Event::EndedByCitizen.code(),
            None,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A chat nobody wrote in for this long (the citizen left the page, an
/// agent forgot to end it) is ended by housekeeping, so the queue and the
/// agents' lists hold only live conversations.
pub const IDLE_CLOSE_SECS: i64 = 2 * 3600;

/// Ends every open chat whose last message is older than
/// [`IDLE_CLOSE_SECS`]; both pages say why. Returns how many ended.
pub async fn close_idle(db: &Db, now: i64) -> Result<u64, DomainError> {
    let idle: Vec<i64> = sqlx::query_scalar(
        "SELECT c.id FROM assistant_chats c WHERE c.state <> 'closed' AND \
         COALESCE((SELECT MAX(m.at) FROM assistant_chat_messages m WHERE m.chat_id = c.id), c.created_at) < $1",
    )
    .bind(now - IDLE_CLOSE_SECS)
    .fetch_all(db.pool())
    .await?;
    let mut closed = 0;
    for id in idle {
        let mut tx = db.begin().await?;
        let n = sqlx::query(
            "UPDATE assistant_chats SET state = 'closed', closed_at = $1 WHERE id = $2 AND state <> 'closed'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n > 0 {
            append(
                &mut tx,
                id,
                Sender::System,
                Event::TimedOut.code(),
                None,
                now,
            )
            .await?;
            closed += n;
        }
        tx.commit().await?;
    }
    Ok(closed)
}

pub(super) fn agent_allowed(staff: &StaffSession) -> Result<(), DomainError> {
    if staff.can(Perm::CallsAnswer) {
        Ok(())
    } else {
        Err(Conflict::NotAllowed.into())
    }
}

/// The chat, if this agent holds it.
async fn held(db: &Db, staff: &StaffSession, id: i64) -> Result<Chat, DomainError> {
    agent_allowed(staff)?;
    let c = chat(db, id).await?;
    if c.state != ChatState::Active || c.agent_id != Some(staff.user.id) {
        return Err(Conflict::NotAllowed.into());
    }
    Ok(c)
}

/// An agent takes a waiting chat; a colleague who took it first wins.
pub async fn accept(db: &Db, staff: &StaffSession, id: i64) -> Result<(), DomainError> {
    agent_allowed(staff)?;
    chat(db, id).await?;
    let now = db.now().timestamp();
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "UPDATE assistant_chats SET state = 'active', agent_id = $1, accepted_at = $2 \
         WHERE id = $3 AND state = 'waiting'",
    )
    .bind(staff.user.id)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(Conflict::Stale.into());
    }
    append(
        &mut tx,
        id,
        Sender::System,
        Event::Accepted.code(),
        Some(staff.user.id),
        now,
    )
    .await?;
    audit::append(
        &mut tx,
        &AuditEntry::staff(
            &staff.user.username,
            "assistant.chat.accept",
            id.to_string(),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The agent holding the chat replies.
pub async fn agent_says(
    db: &Db,
    staff: &StaffSession,
    id: i64,
    text: &str,
) -> Result<(), DomainError> {
    let text = check_text(text)?;
    held(db, staff, id).await?;
    let mut tx = db.begin().await?;
    append(
        &mut tx,
        id,
        Sender::Agent,
        &text,
        Some(staff.user.id),
        db.now().timestamp(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The agent holding the chat hands it to a colleague (`to`), or back to
/// the queue (`None`).
pub async fn transfer(
    db: &Db,
    staff: &StaffSession,
    id: i64,
    to: Option<i64>,
) -> Result<(), DomainError> {
    held(db, staff, id).await?;
    if let Some(to) = to
        && (to == staff.user.id || !agents(db).await?.iter().any(|(a, _)| *a == to))
    {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "chat_to",
            "invalid_choice",
            "",
        )]));
    }
    let now = db.now().timestamp();
    let mut tx = db.begin().await?;
    let (state, event) = match to {
        Some(_) => ("active", Event::Transferred),
        None => ("waiting", Event::Requeued),
    };
    sqlx::query(
        "UPDATE assistant_chats SET state = $1, agent_id = $2 WHERE id = $3 AND state = 'active' \
         AND agent_id = $4",
    )
    .bind(state)
    .bind(to)
    .bind(id)
    .bind(staff.user.id)
    .execute(&mut *tx)
    .await?;
    append(&mut tx, id, Sender::System, event.code(), to, now).await?;
    audit::append(
        &mut tx,
        &AuditEntry::staff(
            &staff.user.username,
            "assistant.chat.transfer",
            format!(
                "{id} → {}",
                to.map(agent_number).unwrap_or_else(|| "queue".into())
            ),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The agent holding the chat ends it.
pub async fn agent_ends(db: &Db, staff: &StaffSession, id: i64) -> Result<(), DomainError> {
    held(db, staff, id).await?;
    let now = db.now().timestamp();
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE assistant_chats SET state = 'closed', closed_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    append(
        &mut tx,
        id,
        Sender::System,
        Event::EndedByAgent.code(),
        Some(staff.user.id),
        now,
    )
    .await?;
    audit::append(
        &mut tx,
        &AuditEntry::staff(&staff.user.username, "assistant.chat.close", id.to_string()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

type MessageRow = (i64, i64, String, String, Option<i64>, i64);

/// The chat's messages after `after` (a message id), oldest first.
pub async fn messages_since(
    db: &Db,
    chat: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<Message>, DomainError> {
    let rows: Vec<MessageRow> = sqlx::query_as(
        "SELECT id, chat_id, sender, body, agent_id, at FROM assistant_chat_messages \
         WHERE chat_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(chat)
    .bind(after)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(message_of).collect())
}

fn message_of((id, chat_id, sender, body, agent_id, at): MessageRow) -> Message {
    Message {
        id,
        chat_id,
        sender: Sender::from_slug(&sender),
        body,
        agent_id,
        at,
    }
}

/// All messages of the chat.
pub async fn messages(db: &Db, chat: i64) -> Result<Vec<Message>, DomainError> {
    messages_since(db, chat, 0, 10_000).await
}

/// The messages of every chat of an assistant session, oldest first.
pub async fn session_messages(db: &Db, session: &str) -> Result<Vec<Message>, DomainError> {
    let rows: Vec<MessageRow> = sqlx::query_as(
        "SELECT m.id, m.chat_id, m.sender, m.body, m.agent_id, m.at \
         FROM assistant_chat_messages m JOIN assistant_chats c ON c.id = m.chat_id \
         WHERE c.session_id = $1 ORDER BY m.id LIMIT 10000",
    )
    .bind(session)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(message_of).collect())
}

/// The newest message id of any chat (where the queue's live stream
/// starts), and the chats that changed after `after`.
pub async fn changed_since(db: &Db, after: i64) -> Result<(i64, Vec<i64>), DomainError> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, chat_id FROM assistant_chat_messages WHERE id > $1 ORDER BY id LIMIT 200",
    )
    .bind(after)
    .fetch_all(db.pool())
    .await?;
    let last = rows.last().map(|r| r.0).unwrap_or(after);
    let mut chats: Vec<i64> = rows.into_iter().map(|r| r.1).collect();
    chats.sort_unstable();
    chats.dedup();
    Ok((last, chats))
}

/// Where the log stands now.
pub async fn last_message_id(db: &Db) -> Result<i64, DomainError> {
    let row: (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM assistant_chat_messages")
        .fetch_one(db.pool())
        .await?;
    Ok(row.0.unwrap_or(0))
}

/// Chats waiting for an agent, longest-waiting first.
pub async fn waiting(db: &Db) -> Result<Vec<Chat>, DomainError> {
    let rows: Vec<ChatRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CHAT_COLUMNS} FROM assistant_chats WHERE state = 'waiting' ORDER BY id"
    )))
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(chat_of).collect())
}

/// Chats this agent is answering.
pub async fn held_by(db: &Db, agent: i64) -> Result<Vec<Chat>, DomainError> {
    let rows: Vec<ChatRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CHAT_COLUMNS} FROM assistant_chats WHERE state = 'active' AND agent_id = $1 \
         ORDER BY id"
    )))
    .bind(agent)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(chat_of).collect())
}

/// Chats closed recently (the last day), newest first.
pub async fn recently_closed(db: &Db, limit: i64) -> Result<Vec<Chat>, DomainError> {
    let since = db.now().timestamp() - 86_400;
    let rows: Vec<ChatRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CHAT_COLUMNS} FROM assistant_chats WHERE state = 'closed' AND closed_at >= $1 \
         ORDER BY closed_at DESC, id DESC LIMIT $2"
    )))
    .bind(since)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(chat_of).collect())
}

/// How many chats wait before this one (0: next).
pub async fn ahead_of(db: &Db, chat: &Chat) -> Result<i64, DomainError> {
    let row: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM assistant_chats WHERE state = 'waiting' AND id < $1")
            .bind(chat.id)
            .fetch_one(db.pool())
            .await?;
    Ok(row.0)
}

/// Staff who answer chats (`calls.answer`), by name: (id, display name).
pub async fn agents(db: &Db) -> Result<Vec<(i64, String)>, DomainError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT DISTINCT u.id, u.display_name FROM staff_users u \
         JOIN staff_roles sr ON sr.user_id = u.id \
         JOIN role_permissions rp ON rp.role_id = sr.role_id \
         WHERE rp.permission = $1 ORDER BY u.display_name, u.id",
    )
    .bind(Perm::CallsAnswer.slug())
    .fetch_all(db.pool())
    .await?;
    Ok(rows)
}

/// A 咨询 request drafted from a conversation (outside service hours):
/// (title, body). The title is the question asked before the hand-off.
pub async fn consult_draft(
    db: &Db,
    session: &str,
) -> Result<Option<(String, String)>, DomainError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT question, kind FROM assistant_turns WHERE session_id = $1 ORDER BY id",
    )
    .bind(session)
    .fetch_all(db.pool())
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    // Greetings, thanks and 转人工 are not what the person wants to know.
    let asked: Vec<(&str, &str)> = rows
        .iter()
        .filter(|(q, _)| {
            !matches!(
                super::aspects::small_talk(q),
                Some(SmallTalk::Greeting | SmallTalk::Thanks | SmallTalk::Human)
            )
        })
        .map(|(q, k)| (q.as_str(), k.as_str()))
        .collect();
    if asked.is_empty() {
        return Ok(None);
    }
    // The question that was handed off last (else the last one) names it.
    let title_from = asked
        .iter()
        .rev()
        .find(|(_, k)| *k == "handoff")
        .or(asked.last())
        .map(|(q, _)| *q)
        .unwrap_or_default();
    let title: String = title_from.chars().take(40).collect();
    let asked_list = asked
        .iter()
        .map(|(q, _)| format!("· {q}"))
        .collect::<Vec<_>>()
        .join("\n");
    let body: String = format!("我在智能客服问了以下问题，请工作人员解答：\n{asked_list}")
        .chars()
        .take(3000)
        .collect();
    Ok(Some((title, body)))
}

/// The weekday of a date as a number 1 (Monday) – 7, for the page to name.
pub fn weekday_number(d: NaiveDate) -> u32 {
    d.weekday().number_from_monday()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .expect("time")
            .and_local_timezone(crate::time::beijing())
            .single()
            .expect("local")
            .with_timezone(&Utc)
    }

    fn settings(hours: &str, days: &str) -> AssistantSettings {
        AssistantSettings {
            agent_hours: hours.into(),
            agent_days: days.into(),
            ..AssistantSettings::default()
        }
    }

    #[test]
    fn hours_are_read_and_checked() {
        let h = parse_hours("13:30-17:30, 09:00-12:00").expect("hours");
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].0, NaiveTime::from_hms_opt(9, 0, 0).expect("t"));
        assert!(parse_hours("").expect("empty").is_empty());
        assert!(parse_hours("09:00").is_err());
        assert!(parse_hours("18:00-09:00").is_err());
        assert!(parse_hours("9点-18点").is_err());
        assert_eq!(
            hours_text(&settings("09:00-12:00,13:30-17:30", "working")),
            "09:00–12:00、13:30–17:30"
        );
    }

    #[test]
    fn agents_answer_in_hours_on_working_days_only() {
        let cal = WorkCalendar::national();
        let s = settings("09:00-12:00,13:30-17:30", "working");
        // 2026-12-07 is a Monday, 12-12 a Saturday.
        assert!(agents_open(&s, &cal, at("2026-12-07 09:00")));
        assert!(!agents_open(&s, &cal, at("2026-12-07 12:30")));
        assert!(!agents_open(&s, &cal, at("2026-12-07 17:30")));
        assert!(!agents_open(&s, &cal, at("2026-12-12 10:00")));
        assert!(agents_open(
            &settings("09:00-12:00", "all"),
            &cal,
            at("2026-12-12 10:00")
        ));
        assert!(!agents_open(
            &settings("", "all"),
            &cal,
            at("2026-12-12 10:00")
        ));
        // Friday evening: next Monday morning.
        assert_eq!(
            next_opening(&s, &cal, at("2026-12-11 20:00")),
            Some((
                NaiveDate::from_ymd_opt(2026, 12, 14).expect("d"),
                NaiveTime::from_hms_opt(9, 0, 0).expect("t")
            ))
        );
        // Lunch break: this afternoon.
        assert_eq!(
            next_opening(&s, &cal, at("2026-12-07 12:10")).map(|(_, t)| t),
            NaiveTime::from_hms_opt(13, 30, 0)
        );
        assert_eq!(
            next_opening(&settings("", "all"), &cal, at("2026-12-07 12:10")),
            None
        );
    }
}
