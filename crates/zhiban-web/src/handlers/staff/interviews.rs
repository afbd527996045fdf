//! 在线访谈 moderation (`/admin/interviews…`): scheduling interviews of
//! one's data scope, and the console used while one runs — questions to
//! show or decline, the guests' answers, the host's words, photos,
//! starting and ending — with the console following the live stream.

use crate::error::AppError;
use crate::extract::{AfterQuery, Csrf, MultipartForm, Staff};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{field_messages, interview, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::DomainError;
use zhiban_domain::catalog::Department;
use zhiban_domain::interviews::host::{self, Console, InterviewForm, Moderation, Say};
use zhiban_domain::interviews::{Interview, InterviewKind, InterviewState, Post, PostKind};

#[derive(Template)]
#[template(path = "staff/interviews/list.html")]
pub struct ListPage {
    pub ctx: PageCtx,
    pub rows: Vec<Interview>,
}

pub async fn list(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    render(&ListPage {
        rows: host::mine(&state.db, &staff.session).await?,
        ctx: staff.ctx,
    })
}

#[derive(Template)]
#[template(path = "staff/interviews/edit.html")]
pub struct EditPage {
    pub ctx: PageCtx,
    /// `None`: scheduling a new one.
    pub id: Option<i64>,
    pub kinds: &'static [InterviewKind],
    pub units: Vec<Department>,
    pub form: EditForm,
    pub errors: Vec<(String, String)>,
}

impl EditPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("/admin/interviews/{id}/edit"),
            None => "/admin/interviews/new".to_string(),
        }
    }
}

/// The scheduling form as posted (and shown again with a problem).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EditForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub guests: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: String,
}

impl EditForm {
    fn domain(&self) -> InterviewForm {
        InterviewForm {
            kind: self.kind.clone(),
            title: self.title.clone(),
            summary: self.summary.clone(),
            guests: self.guests.clone(),
            unit_id: self.unit.trim().parse().ok(),
            starts_at: self.starts_at.clone(),
            ends_at: self.ends_at.clone(),
        }
    }

    fn of(i: &Interview) -> Self {
        let local = PageCtx::datetime_local;
        EditForm {
            kind: i.kind.slug().to_string(),
            title: i.title.clone(),
            summary: i.summary.clone(),
            guests: i.guests_text.clone(),
            unit: i.unit_id.to_string(),
            starts_at: local(i.starts_at),
            ends_at: local(i.ends_at),
        }
    }
}

fn edit_page(
    state: &AppState,
    staff: Staff,
    id: Option<i64>,
    form: EditForm,
    errors: &[zhiban_domain::FieldError],
) -> Result<Response, AppError> {
    let units = staff.units(state);
    render(&EditPage {
        errors: field_messages(&staff.ctx, errors),
        ctx: staff.ctx,
        id,
        kinds: InterviewKind::ALL,
        units,
        form,
    })
}

pub async fn new_form(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    let form = EditForm {
        kind: "interview".into(),
        unit: staff
            .session
            .user
            .unit_id
            .map(|u| u.to_string())
            .unwrap_or_default(),
        ..EditForm::default()
    };
    edit_page(&state, staff, None, form, &[])
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(form)): Csrf<Form<EditForm>>,
) -> Result<Response, AppError> {
    match host::create(&state.db, &staff.session, &form.domain()).await {
        Ok(id) => Ok(Redirect::to(&format!("/admin/interviews/{id}?done=created")).into_response()),
        Err(DomainError::Invalid(errs)) => edit_page(&state, staff, None, form, &errs),
        Err(e) => Err(e.into()),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let i = host::for_host(&state.db, &staff.session, id).await?;
    edit_page(&state, staff, Some(id), EditForm::of(&i), &[])
}

pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(form)): Csrf<Form<EditForm>>,
) -> Result<Response, AppError> {
    match host::update(&state.db, &staff.session, id, &form.domain()).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/interviews/{id}?done=saved")).into_response()),
        Err(DomainError::Invalid(errs)) => edit_page(&state, staff, Some(id), form, &errs),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff/interviews/console.html")]
pub struct ConsolePage {
    pub ctx: PageCtx,
    pub c: Console,
    pub done: String,
    /// What was typed when a post came back with a problem.
    pub say: SayForm,
    pub errors: Vec<(String, String)>,
}

impl ConsolePage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    fn photo_url(&self, post: &Post) -> String {
        interview::photo_url(self.c.interview.id, post.id)
    }

    fn is_question(&self, post: &Post) -> bool {
        post.kind == PostKind::Question
    }

    fn live(&self) -> bool {
        self.c.interview.state != InterviewState::Ended
    }
}

async fn console_page(
    state: &AppState,
    staff: Staff,
    id: i64,
    done: String,
    say: SayForm,
    errors: &[zhiban_domain::FieldError],
) -> Result<Response, AppError> {
    let c = host::console(&state.db, &staff.session, id).await?;
    render(&ConsolePage {
        errors: field_messages(&staff.ctx, errors),
        ctx: staff.ctx,
        c,
        done,
        say,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct ConsoleQuery {
    #[serde(default)]
    pub done: String,
    /// The question the 回答 link picked.
    #[serde(default)]
    pub reply: String,
}

pub async fn console(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(q): Query<ConsoleQuery>,
) -> Result<Response, AppError> {
    let say = SayForm {
        reply_to: q.reply,
        ..SayForm::default()
    };
    console_page(&state, staff, id, q.done, say, &[]).await
}

fn back(id: i64, done: &str) -> Response {
    Redirect::to(&format!("/admin/interviews/{id}?done={done}")).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct ModerateForm {
    #[serde(default)]
    pub post: i64,
    /// `show`, `decline` or `withdraw`.
    #[serde(default)]
    pub action: String,
}

pub async fn moderate(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(form)): Csrf<Form<ModerateForm>>,
) -> Result<Response, AppError> {
    let what = match form.action.as_str() {
        "show" => Moderation::Show,
        "decline" => Moderation::Decline,
        "withdraw" => Moderation::Withdraw,
        _ => return Err(AppError::BadRequest),
    };
    host::moderate(&state.db, &staff.session, id, form.post, what).await?;
    state.live.poke();
    Ok(back(id, &form.action))
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SayForm {
    #[serde(default)]
    pub guest: String,
    #[serde(default)]
    pub reply_to: String,
    #[serde(default)]
    pub text: String,
}

pub async fn say(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(form)): Csrf<Form<SayForm>>,
) -> Result<Response, AppError> {
    let say = Say {
        guest: form.guest.clone(),
        reply_to: form.reply_to.trim().parse().ok(),
        text: form.text.clone(),
    };
    match host::say(&state.db, &staff.session, id, &say).await {
        Ok(_) => {
            state.live.poke();
            Ok(back(id, "said"))
        }
        Err(DomainError::Invalid(errs)) => {
            console_page(&state, staff, id, String::new(), form, &errs).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A photo with its caption (JPEG or PNG, checked to be one).
pub async fn photo(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(form): Csrf<MultipartForm>,
) -> Result<Response, AppError> {
    host::for_host(&state.db, &staff.session, id).await?;
    let caption = form.field("caption").unwrap_or("").to_string();
    let file = form.files.iter().find(|f| f.input == "photo");
    let problem =
        |code: &'static str| vec![zhiban_domain::FieldError::new("interview_photo", code, "")];
    let checked = host::check_caption(&caption).map_err(|e| match e {
        DomainError::Invalid(errs) => errs,
        _ => problem("invalid"),
    });
    let kind = match file {
        None => Err(problem("required")),
        Some(f) if f.too_large => Err(problem("upload_too_large")),
        Some(f) if f.body.is_empty() => Err(problem("required")),
        Some(f) => match zhiban_store::files::inspect(&f.body) {
            Some(
                k @ (zhiban_store::files::FileKind::Jpeg | zhiban_store::files::FileKind::Png),
            ) => Ok(k),
            _ => Err(problem("attachment_type")),
        },
    };
    let (kind, file) = match (kind, checked, file) {
        (Ok(k), Ok(_), Some(f)) => (k, f),
        (k, c, _) => {
            let mut errs = c.err().unwrap_or_default();
            errs.extend(k.err().unwrap_or_default());
            return console_page(&state, staff, id, String::new(), SayForm::default(), &errs).await;
        }
    };
    let key = format!(
        "interviews/{id}/{}.{}",
        uuid::Uuid::new_v4().simple(),
        kind.extension()
    );
    state
        .files
        .put(&key, file.body.clone())
        .await
        .map_err(|e| DomainError::Files(e.to_string()))?;
    host::photo(&state.db, &staff.session, id, &key, &caption).await?;
    state.live.poke();
    Ok(back(id, "photo"))
}

#[derive(Debug, Default, Deserialize)]
pub struct StateForm {
    /// `live` or `ended`.
    #[serde(default)]
    pub to: String,
}

pub async fn set_state(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(form)): Csrf<Form<StateForm>>,
) -> Result<Response, AppError> {
    let to = InterviewState::from_slug(&form.to).ok_or(AppError::BadRequest)?;
    host::set_state(&state.db, &staff.session, id, to).await?;
    state.live.poke();
    Ok(back(id, to.slug()))
}

/// The console's live stream: what is shown, and the questions arriving.
pub async fn live(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<AfterQuery>,
) -> Result<Response, AppError> {
    host::for_host(&state.db, &staff.session, id).await?;
    Ok(interview::stream(&state, staff.ctx, id, &headers, q.after, true).into_response())
}
