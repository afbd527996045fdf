//! 坐席工作台 (`/admin/chats`): the conversations the assistant handed to
//! a person. Agents (`calls.answer`) see the queue and their own chats
//! (the page follows changes live), take a chat, read what the citizen
//! asked the assistant, reply (typed or a canned answer, links become
//! links), hand it to a colleague or back to the queue, and end it. The
//! canned answers are kept at `/admin/chats/canned`.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::DomainError;
use zhiban_domain::assistant;
use zhiban_domain::assistant::canned::{self, Canned};
use zhiban_domain::assistant::handoff::{self, Chat, ChatState, agent_number};

use crate::error::AppError;
use crate::extract::{AfterQuery, Csrf, NoFields, Staff};
use crate::state::AppState;
use crate::view::chat::{self, Entry, Viewer};
use crate::view::ctx::PageCtx;
use crate::view::{field_messages, render};

#[derive(Template)]
#[template(path = "staff/chats/queue.html")]
pub struct QueuePage {
    pub ctx: PageCtx,
    pub waiting: Vec<Chat>,
    pub mine: Vec<Chat>,
    pub closed: Vec<Chat>,
    /// Where the live stream starts.
    pub last_message: i64,
}

#[derive(Template)]
#[template(path = "staff/chats/chat.html")]
pub struct ChatPage {
    pub ctx: PageCtx,
    pub chat: Chat,
    pub entries: Vec<Entry>,
    pub last_message: i64,
    /// This agent holds the chat.
    pub mine: bool,
    pub canned: Vec<Canned>,
    /// Colleagues it may go to: (id, name).
    pub colleagues: Vec<(i64, String)>,
    pub body: String,
    pub errors: Vec<(String, String)>,
}

impl ChatPage {
    fn waiting(&self) -> bool {
        self.chat.state == ChatState::Waiting
    }
    fn closed(&self) -> bool {
        self.chat.state == ChatState::Closed
    }
    /// Who answers it, when not this agent.
    fn holder(&self) -> String {
        let n = self.chat.agent_id.map(agent_number).unwrap_or_default();
        self.ctx.tf("chats.state_other", &[("n", &n)])
    }
    /// A colleague as the transfer list names them.
    fn colleague(&self, id: &i64, name: &str) -> String {
        format!(
            "{name}（{}）",
            self.ctx.tf("chats.agent", &[("n", &agent_number(*id))])
        )
    }
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Template)]
#[template(path = "staff/chats/canned.html")]
pub struct CannedPage {
    pub ctx: PageCtx,
    pub canned: Vec<Canned>,
    pub title: String,
    pub body: String,
    pub errors: Vec<(String, String)>,
}

impl CannedPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

pub async fn queue(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    let me = staff.session.user.id;
    render(&QueuePage {
        waiting: handoff::waiting(&state.db).await?,
        mine: handoff::held_by(&state.db, me).await?,
        closed: handoff::recently_closed(&state.db, 20).await?,
        last_message: handoff::last_message_id(&state.db).await?,
        ctx: staff.ctx,
    })
}

/// The queue's live stream: a `changed` event whenever any chat changes.
pub async fn queue_live(
    State(state): State<AppState>,
    _staff: Staff,
    headers: HeaderMap,
    Query(q): Query<AfterQuery>,
) -> Response {
    let start = crate::live::start_after(&headers, q.after);
    chat::queue_stream(&state, start).into_response()
}

async fn chat_page(
    state: &AppState,
    staff: Staff,
    id: i64,
    body: String,
    errors: Vec<(String, String)>,
) -> Result<Response, AppError> {
    let chat = handoff::chat(&state.db, id).await?;
    let turns = assistant::turns(&state.db, &chat.session_id).await?;
    let messages = handoff::session_messages(&state.db, &chat.session_id).await?;
    let last_message = messages
        .iter()
        .filter(|m| m.chat_id == id)
        .map(|m| m.id)
        .max()
        .unwrap_or(0);
    let entries = chat::timeline(&staff.ctx, turns, &messages, Viewer::Agent);
    let me = staff.session.user.id;
    let mine = chat.state == ChatState::Active && chat.agent_id == Some(me);
    let colleagues = handoff::agents(&state.db)
        .await?
        .into_iter()
        .filter(|(a, _)| *a != me)
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ChatPage {
        canned: canned::list(&state.db).await?,
        colleagues,
        chat,
        entries,
        last_message,
        mine,
        body,
        errors,
        ctx: staff.ctx,
    };
    Ok((status, render(&page)?).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    chat_page(&state, staff, id, String::new(), Vec::new()).await
}

/// The live stream of one chat.
pub async fn live(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<AfterQuery>,
) -> Result<Response, AppError> {
    handoff::chat(&state.db, id).await?;
    Ok(chat::stream(&state, staff.ctx, id, &headers, q.after, Viewer::Agent).into_response())
}

fn to_chat(id: i64) -> Response {
    Redirect::to(&format!("/admin/chats/{id}#reply")).into_response()
}

pub async fn accept(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(_)): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    handoff::accept(&state.db, &staff.session, id).await?;
    state.live.poke();
    Ok(to_chat(id))
}

#[derive(Debug, Default, Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    pub body: String,
    /// A canned answer's id, sent when the text is empty.
    #[serde(default)]
    pub canned: String,
}

pub async fn reply(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(form)): Csrf<Form<ReplyForm>>,
) -> Result<Response, AppError> {
    let mut text = form.body.clone();
    if text.trim().is_empty()
        && let Ok(c) = form.canned.parse::<i64>()
    {
        text = canned::list(&state.db)
            .await?
            .into_iter()
            .find(|x| x.id == c)
            .map(|x| x.body)
            .unwrap_or_default();
    }
    match handoff::agent_says(&state.db, &staff.session, id, &text).await {
        Ok(()) => {
            state.live.poke();
            Ok(to_chat(id))
        }
        Err(DomainError::Invalid(errs)) => {
            let errors = field_messages(&staff.ctx, &errs);
            chat_page(&state, staff, id, form.body, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct TransferForm {
    /// A colleague's id, or `queue`.
    #[serde(default)]
    pub to: String,
}

pub async fn transfer(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(form)): Csrf<Form<TransferForm>>,
) -> Result<Response, AppError> {
    let to = match form.to.as_str() {
        "queue" => None,
        other => Some(other.parse::<i64>().unwrap_or(0)),
    };
    match handoff::transfer(&state.db, &staff.session, id, to).await {
        Ok(()) => {
            state.live.poke();
            Ok(Redirect::to("/admin/chats").into_response())
        }
        Err(DomainError::Invalid(errs)) => {
            let errors = field_messages(&staff.ctx, &errs);
            chat_page(&state, staff, id, String::new(), errors).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn close(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(_)): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    handoff::agent_ends(&state.db, &staff.session, id).await?;
    state.live.poke();
    Ok(Redirect::to("/admin/chats").into_response())
}

pub async fn canned(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    render(&CannedPage {
        canned: canned::list(&state.db).await?,
        ctx: staff.ctx,
        title: String::new(),
        body: String::new(),
        errors: Vec::new(),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct CannedForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
}

pub async fn add_canned(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(form)): Csrf<Form<CannedForm>>,
) -> Result<Response, AppError> {
    match canned::add(&state.db, &staff.session, &form.title, &form.body).await {
        Ok(_) => Ok(Redirect::to("/admin/chats/canned").into_response()),
        Err(DomainError::Invalid(errs)) => {
            let page = CannedPage {
                errors: field_messages(&staff.ctx, &errs),
                canned: canned::list(&state.db).await?,
                ctx: staff.ctx,
                title: form.title,
                body: form.body,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn remove_canned(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(_)): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    canned::remove(&state.db, &staff.session, id).await?;
    Ok(Redirect::to("/admin/chats/canned").into_response())
}
