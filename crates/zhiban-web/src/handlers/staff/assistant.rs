//! The assistant's knowledge base (`/admin/assistant`): entries staff
//! write (question, other wordings, answer, cited links, validity dates),
//! and the queue of questions the assistant could not answer.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::DomainError;
use zhiban_domain::assistant::knowledge::{self, Entry, EntryInput, Unanswered};

use crate::error::AppError;
use crate::extract::{Csrf, NoFields, Staff};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{field_messages, render};

#[derive(Template)]
#[template(path = "staff/assistant/knowledge.html")]
pub struct KnowledgePage {
    pub ctx: PageCtx,
    pub entries: Vec<Entry>,
    pub queue: Vec<Unanswered>,
    pub saved: bool,
}

#[derive(Template)]
#[template(path = "staff/assistant/entry.html")]
pub struct EntryPage {
    pub ctx: PageCtx,
    /// None: a new entry.
    pub id: Option<i64>,
    pub form: EntryInput,
    /// The unanswered question being answered, if any.
    pub answering: Option<Unanswered>,
    pub active: bool,
    pub errors: Vec<(String, String)>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub saved: String,
}

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    render(&KnowledgePage {
        ctx: staff.ctx,
        entries: knowledge::entries(&state.db).await?,
        queue: knowledge::unanswered(&state.db, 100).await?,
        saved: q.saved == "1",
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    /// Answer this unanswered question.
    pub unanswered: Option<i64>,
}

pub async fn new_form(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    let answering = match q.unanswered {
        Some(id) => Some(knowledge::unanswered_one(&state.db, id).await?),
        None => None,
    };
    let form = EntryInput {
        question: answering
            .as_ref()
            .map(|u| u.question.clone())
            .unwrap_or_default(),
        unanswered: q.unanswered,
        ..EntryInput::default()
    };
    render(&EntryPage {
        ctx: staff.ctx,
        id: None,
        form,
        answering,
        active: true,
        errors: Vec::new(),
    })
}

fn as_input(e: &Entry) -> EntryInput {
    EntryInput {
        question: e.question.clone(),
        variants: e.variants.join("\n"),
        answer: e.answer.clone(),
        links: e
            .links
            .iter()
            .map(|l| format!("{}|{}", l.title, l.url))
            .collect::<Vec<_>>()
            .join("\n"),
        valid_from: e.valid_from.map(|d| d.to_string()).unwrap_or_default(),
        valid_until: e.valid_until.map(|d| d.to_string()).unwrap_or_default(),
        unanswered: None,
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let e = knowledge::entry(&state.db, id).await?;
    render(&EntryPage {
        ctx: staff.ctx,
        id: Some(id),
        form: as_input(&e),
        answering: None,
        active: e.active,
        errors: Vec::new(),
    })
}

async fn save(
    state: &AppState,
    staff: Staff,
    id: Option<i64>,
    input: EntryInput,
) -> Result<Response, AppError> {
    match knowledge::save(&state.db, &staff.session, id, &input).await {
        Ok(_) => {
            state.refresh_catalog().await?;
            Ok(Redirect::to("/admin/assistant?saved=1").into_response())
        }
        Err(DomainError::Invalid(errs)) => {
            let answering = match input.unanswered {
                Some(u) => knowledge::unanswered_one(&state.db, u).await.ok(),
                None => None,
            };
            let active = match id {
                Some(id) => knowledge::entry(&state.db, id).await?.active,
                None => true,
            };
            let page = EntryPage {
                errors: field_messages(&staff.ctx, &errs),
                ctx: staff.ctx,
                id,
                form: input,
                answering,
                active,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(input)): Csrf<Form<EntryInput>>,
) -> Result<Response, AppError> {
    save(&state, staff, None, input).await
}

pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(input)): Csrf<Form<EntryInput>>,
) -> Result<Response, AppError> {
    save(&state, staff, Some(id), input).await
}

#[derive(Debug, Default, Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    pub active: String,
}

pub async fn set_active(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(f)): Csrf<Form<ActiveForm>>,
) -> Result<Response, AppError> {
    knowledge::set_active(&state.db, &staff.session, id, f.active == "1").await?;
    state.refresh_catalog().await?;
    Ok(Redirect::to("/admin/assistant?saved=1").into_response())
}

pub async fn dismiss(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(_)): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    knowledge::dismiss(&state.db, &staff.session, id).await?;
    Ok(Redirect::to("/admin/assistant").into_response())
}
