//! 智能客服 (`/assistant`): ask in a form, read the answer with its
//! sources, follow up; the conversation is kept under a cookie of its own.
//! Works without JavaScript. Knowledge-base answers have their own page
//! (`/assistant/faq/{id}`) to cite.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use zhiban_domain::assistant::{self, Assistant, Turn};

use crate::error::AppError;
use crate::extract::{CitizenUser, ClientInfo, Csrf, form_ctx};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::render;

/// The conversation of this browser.
pub const SESSION_COOKIE: &str = "zb_assistant";

#[derive(Template)]
#[template(path = "public/assistant/assistant.html")]
pub struct AssistantPage {
    pub ctx: PageCtx,
    pub turns: Vec<Turn>,
    /// Offered after the last answer: (label, question to ask).
    pub choices: Vec<(String, String)>,
    /// The last reply handed the question to a person.
    pub handoff: bool,
    pub error: Option<String>,
    pub asked: String,
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
    jar.get(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|s| assistant::valid_session_id(s))
}

async fn page(
    state: &AppState,
    ctx: PageCtx,
    session: Option<&str>,
    error: Option<String>,
    asked: String,
) -> Result<Response, AppError> {
    let turns = match session {
        Some(s) => assistant::turns(&state.db, s).await?,
        None => Vec::new(),
    };
    let last = turns.last();
    let handoff = last.is_some_and(|t| t.kind == "handoff");
    let choices = match (session, last) {
        (Some(_), Some(t)) if t.kind == "clarify" => t
            .sources
            .iter()
            .map(|s| (s.title.clone(), s.title.clone()))
            .collect(),
        _ => Vec::new(),
    };
    render(&AssistantPage {
        ctx,
        turns,
        choices,
        handoff,
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
    let jar = jar.add(session_cookie(&state, id));
    Ok((jar, Redirect::to("/assistant#latest")).into_response())
}

fn session_cookie(state: &AppState, id: String) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, id))
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
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    (jar, Redirect::to("/assistant")).into_response()
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
