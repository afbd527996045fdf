//! 智能客服 (`/assistant`): ask in a form, read the answer with its
//! sources, follow up; the conversation is kept under a cookie of its own.
//! Works without JavaScript. Knowledge-base answers have their own page
//! (`/assistant/faq/{id}`) to cite.
//!
//! 转人工: after a hand-off the citizen may ask for a person
//! (`POST /assistant/agent`) within the agents' hours; while that chat is
//! open the same form writes to the agent, the page follows the chat live
//! (`/assistant/live`, server-sent events; without JavaScript a reload
//! shows what came), and `POST /assistant/agent/end` ends it. Outside the
//! hours the page offers a 咨询 request drafted from the conversation.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use zhiban_domain::assistant::handoff::{self, Chat, ChatState};
use zhiban_domain::assistant::{self, Assistant};

use crate::error::AppError;
use crate::extract::{AfterQuery, AssistantSession, CitizenUser, ClientInfo, Csrf, form_ctx};
use crate::state::AppState;
use crate::view::chat::{self, Entry, Viewer};
use crate::view::ctx::PageCtx;
use crate::view::render;

#[derive(Template)]
#[template(path = "public/assistant/assistant.html")]
pub struct AssistantPage {
    pub ctx: PageCtx,
    pub entries: Vec<Entry>,
    /// Offered after the last answer: (label, question to ask).
    pub choices: Vec<(String, String)>,
    /// The last reply handed the question to a person.
    pub handoff: bool,
    /// The chat with a person, while it waits or runs.
    pub chat: Option<Chat>,
    /// Chats waiting before this one.
    pub ahead: i64,
    /// Agents answer now.
    pub agents_open: bool,
    /// When agents answer (`09:00–12:00、13:30–17:30`) and when next.
    pub hours: String,
    /// On which days (工作日, 每天).
    pub days: String,
    pub next_opening: String,
    /// Where the live stream starts (the last message shown).
    pub last_message: i64,
    pub error: Option<String>,
    pub asked: String,
}

impl AssistantPage {
    fn hours_note(&self) -> String {
        self.ctx.tf(
            "chats.hours",
            &[("hours", &self.hours), ("days", &self.days)],
        )
    }
    fn closed_note(&self) -> String {
        if self.hours.is_empty() {
            self.ctx.t("chats.no_agents")
        } else {
            self.ctx.tf(
                "chats.closed_now",
                &[("hours", &self.hours), ("days", &self.days)],
            )
        }
    }
    fn waiting(&self) -> bool {
        self.chat
            .as_ref()
            .is_some_and(|c| c.state == ChatState::Waiting)
    }
}

#[derive(Template)]
#[template(path = "public/assistant/faq.html")]
pub struct FaqPage {
    pub ctx: PageCtx,
    pub entry: assistant::knowledge::Entry,
}

#[derive(Debug, Default, Deserialize)]
pub struct AskForm {
    #[serde(default)]
    pub q: String,
}

fn session_of(jar: &CookieJar) -> Option<String> {
    AssistantSession::of(jar).map(|s| s.0)
}

/// The agents' hours as the page states them, and when they next answer.
fn opening(state: &AppState, ctx: &PageCtx) -> (bool, String, String) {
    let settings = &state.config.assistant;
    let now = state.db.now();
    let open = handoff::agents_open(settings, &state.calendar, now);
    let next = handoff::next_opening(settings, &state.calendar, now)
        .map(|(day, at)| {
            ctx.tf(
                "chats.next_opening",
                &[
                    ("date", &day.format("%m-%d")),
                    (
                        "weekday",
                        &ctx.t(&format!("chats.weekday_{}", handoff::weekday_number(day))),
                    ),
                    ("time", &at.format("%H:%M")),
                ],
            )
        })
        .unwrap_or_default();
    (open, handoff::hours_text(settings), next)
}

async fn page(
    state: &AppState,
    ctx: PageCtx,
    session: Option<&str>,
    error: Option<String>,
    asked: String,
) -> Result<Response, AppError> {
    let (turns, messages, chat) = match session {
        Some(s) => (
            assistant::turns(&state.db, s).await?,
            handoff::session_messages(&state.db, s).await?,
            handoff::open_chat(&state.db, s).await?,
        ),
        None => (Vec::new(), Vec::new(), None),
    };
    let last_turn = turns.last().cloned();
    let last_message = messages.last().map(|m| m.id).unwrap_or(0);
    let entries = chat::timeline(&ctx, turns, &messages, Viewer::Citizen);
    let last_is_turn = matches!(entries.last(), Some(Entry::Turn(_)));
    let handoff =
        chat.is_none() && last_is_turn && last_turn.as_ref().is_some_and(|t| t.kind == "handoff");
    let choices = match (session, &last_turn) {
        (Some(_), Some(t)) if t.kind == "clarify" && last_is_turn && chat.is_none() => t
            .sources
            .iter()
            .map(|s| (s.title.clone(), s.title.clone()))
            .collect(),
        _ => Vec::new(),
    };
    let ahead = match &chat {
        Some(c) if c.state == ChatState::Waiting => handoff::ahead_of(&state.db, c).await?,
        _ => 0,
    };
    let (agents_open, hours, next_opening) = opening(state, &ctx);
    let days = ctx.t(if state.config.assistant.agent_days == "all" {
        "chats.every_day"
    } else {
        "chats.working_days"
    });
    render(&AssistantPage {
        ctx,
        entries,
        choices,
        handoff,
        chat,
        ahead,
        agents_open,
        hours,
        days,
        next_opening,
        last_message,
        error,
        asked,
    })
}

pub async fn show(
    State(state): State<AppState>,
    user: Option<CitizenUser>,
    ctx: PageCtx,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (ctx, jar, _) = form_ctx(&state, user, ctx, jar);
    let session = session_of(&jar);
    let page = page(&state, ctx, session.as_deref(), None, String::new()).await?;
    Ok((jar, page).into_response())
}

/// Asks, keeps the turn, and shows the conversation again (303, so a
/// reload does not ask twice).
pub async fn ask(
    State(state): State<AppState>,
    user: Option<CitizenUser>,
    ctx: PageCtx,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    Csrf(Form(form)): Csrf<Form<AskForm>>,
) -> Result<Response, AppError> {
    let citizen_id = user.as_ref().map(|u| u.citizen().id);
    let (ctx, jar, _) = form_ctx(&state, user, ctx, jar);
    let session = session_of(&jar);
    let q = form.q.trim();
    if q.is_empty() || q.chars().count() > 500 {
        let msg = ctx.t(if q.is_empty() {
            "assistant.err_empty"
        } else {
            "assistant.err_long"
        });
        let page = page(&state, ctx, session.as_deref(), Some(msg), form.q.clone()).await?;
        return Ok((jar, page).into_response());
    }
    if state.assistant_limiter.check_key(&client.ip).is_err() {
        return Err(AppError::TooMany);
    }
    // While a person answers, the form writes to them.
    if let Some(s) = session.as_deref()
        && handoff::open_chat(&state.db, s).await?.is_some()
    {
        handoff::citizen_says(&state.db, s, q).await?;
        state.live.poke();
        return Ok((jar, Redirect::to("/assistant#latest")).into_response());
    }
    let brain = state.assistant().await;
    let engine = Assistant {
        brain: &brain,
        search: &state.search,
        threshold: state.config.assistant.threshold,
    };
    let (id, _) = assistant::ask(
        &state.db,
        &engine,
        &state.config.assistant,
        session.as_deref(),
        q,
        citizen_id,
    )
    .await?;
    // 转人工 within the agents' hours joins the queue at once.
    if assistant::aspects::small_talk(q) == Some(assistant::aspects::SmallTalk::Human)
        && handoff::agents_open(&state.config.assistant, &state.calendar, state.db.now())
    {
        handoff::request_agent(&state.db, &id, citizen_id).await?;
        state.live.poke();
    }
    let jar = jar.add(session_cookie(&state, id));
    Ok((jar, Redirect::to("/assistant#latest")).into_response())
}

fn session_cookie(state: &AppState, id: String) -> Cookie<'static> {
    Cookie::build((AssistantSession::COOKIE, id))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .max_age(time::Duration::hours(12))
        .build()
}

/// Starts over: the next question opens a new conversation.
pub async fn restart(
    jar: CookieJar,
    Csrf(Form(_)): Csrf<Form<crate::extract::NoFields>>,
) -> Response {
    let jar = jar.remove(Cookie::build(AssistantSession::COOKIE).path("/"));
    (jar, Redirect::to("/assistant")).into_response()
}

/// Asks for a person: the conversation joins the agents' queue (within
/// their hours; outside them the page offers a written consultation).
pub async fn agent(
    State(state): State<AppState>,
    user: Option<CitizenUser>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    Csrf(Form(_)): Csrf<Form<crate::extract::NoFields>>,
) -> Result<Response, AppError> {
    let Some(session) = session_of(&jar) else {
        return Ok(Redirect::to("/assistant").into_response());
    };
    if state.assistant_limiter.check_key(&client.ip).is_err() {
        return Err(AppError::TooMany);
    }
    let now = state.db.now();
    if handoff::agents_open(&state.config.assistant, &state.calendar, now) {
        let citizen = user.as_ref().map(|u| u.citizen().id);
        match handoff::request_agent(&state.db, &session, citizen).await {
            Ok(_) => state.live.poke(),
            Err(zhiban_domain::DomainError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Redirect::to("/assistant#latest").into_response())
}

/// Ends the chat with a person; the assistant answers again.
pub async fn end_agent(
    State(state): State<AppState>,
    jar: CookieJar,
    Csrf(Form(_)): Csrf<Form<crate::extract::NoFields>>,
) -> Result<Response, AppError> {
    if let Some(session) = session_of(&jar) {
        handoff::citizen_ends(&state.db, &session).await?;
        state.live.poke();
    }
    Ok(Redirect::to("/assistant#latest").into_response())
}

/// The live stream of this browser's chat with a person.
pub async fn live(
    State(state): State<AppState>,
    ctx: PageCtx,
    jar: CookieJar,
    headers: HeaderMap,
    Query(q): Query<AfterQuery>,
) -> Result<Response, AppError> {
    let session = session_of(&jar).ok_or(AppError::NotFound)?;
    let chat = handoff::latest_chat(&state.db, &session)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(chat::stream(&state, ctx, chat.id, &headers, q.after, Viewer::Citizen).into_response())
}

/// A knowledge-base answer, as cited (only while it is in force).
pub async fn faq(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let entry = assistant::knowledge::entry(&state.db, id).await?;
    if !entry.valid_on(zhiban_domain::time::local_date(state.db.now())) {
        return Err(AppError::NotFound);
    }
    render(&FaqPage { ctx, entry })
}
