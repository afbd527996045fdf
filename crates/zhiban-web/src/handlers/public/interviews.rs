//! 在线访谈 / 警方在线 (`/interviews…`): the interviews, live now, coming
//! and held; one interview's page with its transcript, following the
//! live stream (server-sent events; without JavaScript a reload shows
//! what is new), and the question form.

use crate::error::AppError;
use crate::extract::{AfterQuery, CitizenUser, Csrf, DoneQuery, form_ctx};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{field_messages, interview, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use zhiban_domain::DomainError;
use zhiban_domain::interviews::{
    self, Interview, InterviewKind, InterviewState, NewQuestion, Post,
};

#[derive(Template)]
#[template(path = "public/interviews/list.html")]
pub struct ListPage {
    pub ctx: PageCtx,
    pub kind: String,
    pub live: Vec<Interview>,
    pub coming: Vec<Interview>,
    pub past: Vec<Interview>,
}

#[derive(Debug, Default, Deserialize)]
pub struct KindQuery {
    #[serde(default)]
    pub kind: String,
}

pub async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<KindQuery>,
) -> Result<Response, AppError> {
    let kind = InterviewKind::from_slug(&q.kind);
    let all = interviews::list(&state.db, kind).await?;
    let of = |s: InterviewState| all.iter().filter(|i| i.state == s).cloned().collect();
    render(&ListPage {
        live: of(InterviewState::Live),
        coming: of(InterviewState::Scheduled),
        past: of(InterviewState::Ended),
        kind: kind.map(|k| k.slug().to_string()).unwrap_or_default(),
        ctx,
    })
}

#[derive(Template)]
#[template(path = "public/interviews/show.html")]
pub struct InterviewPage {
    pub ctx: PageCtx,
    pub interview: Interview,
    pub posts: Vec<Post>,
    pub last_event: i64,
    pub asked: bool,
    pub nickname: String,
    pub question: String,
    pub errors: Vec<(String, String)>,
}

impl InterviewPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    fn photo_url(&self, post: &Post) -> String {
        interview::photo_url(self.interview.id, post.id)
    }
}

pub async fn page(
    State(state): State<AppState>,
    user: Option<CitizenUser>,
    ctx: PageCtx,
    jar: CookieJar,
    Path(id): Path<i64>,
    Query(done): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let (interview, posts, last_event) = interviews::public(&state.db, id).await?;
    let (ctx, jar, _) = form_ctx(&state, user, ctx, jar);
    let page = render(&InterviewPage {
        ctx,
        interview,
        posts,
        last_event,
        asked: done.done == "asked",
        nickname: String::new(),
        question: String::new(),
        errors: Vec::new(),
    })?;
    Ok((jar, page).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct QuestionForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
    #[serde(default)]
    pub nickname: String,
    #[serde(default)]
    pub question: String,
}

/// Sends a question to the moderators; a problem comes back with what
/// was typed.
pub async fn ask(
    State(state): State<AppState>,
    user: Option<CitizenUser>,
    mut ctx: PageCtx,
    Path(id): Path<i64>,
    Csrf(Form(form)): Csrf<Form<QuestionForm>>,
) -> Result<Response, AppError> {
    let citizen = user.as_ref().map(|u| u.citizen().clone());
    if let Some(u) = user {
        ctx = u.ctx;
    } else {
        ctx.csrf = form.csrf.clone();
    }
    let q = NewQuestion {
        nickname: form.nickname.clone(),
        text: form.question.clone(),
    };
    match interviews::ask(&state.db, id, citizen.as_ref(), &q).await {
        Ok(()) => {
            state.live.poke();
            Ok(Redirect::to(&format!("/interviews/{id}?done=asked#ask")).into_response())
        }
        Err(DomainError::Invalid(errs)) => {
            let (interview, posts, last_event) = interviews::public(&state.db, id).await?;
            let errors = field_messages(&ctx, &errs);
            render(&InterviewPage {
                ctx,
                interview,
                posts,
                last_event,
                asked: false,
                nickname: form.nickname,
                question: form.question,
                errors,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The live stream (server-sent events) of what is shown.
pub async fn live(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<AfterQuery>,
) -> Result<Response, AppError> {
    interviews::get(&state.db, id).await?;
    Ok(interview::stream(&state, ctx, id, &headers, q.after, false).into_response())
}

/// A photo shown in an interview.
pub async fn photo(
    State(state): State<AppState>,
    Path((id, post)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let key = interviews::photo_key(&state.db, id, post).await?;
    let body = state
        .files
        .get(&key)
        .await
        .map_err(|e| DomainError::Files(e.to_string()))?;
    let kind = zhiban_store::files::sniff(&body).ok_or(AppError::NotFound)?;
    let mut r = ([(header::CONTENT_TYPE, kind.content_type())], body).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    Ok(r)
}
