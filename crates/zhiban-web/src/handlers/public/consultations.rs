//! 征集调查 (`/consultations…`): drafts open for comment and surveys; a
//! draft's page with its text, the comments shown and the feedback; a
//! survey's questions (from the form engine), answered once per account
//! or device, and its results as charts once it has closed.

use crate::error::AppError;
use crate::extract::{CitizenUser, Csrf, DoneQuery, form_ctx};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::form::{Builder, FieldView, error_text};
use crate::view::{field_messages, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use zhiban_domain::DomainError;
use zhiban_domain::consultations::{self, Comment, Consultation, Phase, Respondent, Results};
use zhiban_domain::forms::{Answers, FormError, Profile};

/// The cookie that tells one browser from another for surveys answered
/// without an account (random; only its hash is stored).
const DEVICE_COOKIE: &str = "zb_device";

#[derive(Template)]
#[template(path = "public/consultations/list.html")]
pub struct ListPage {
    pub ctx: PageCtx,
    pub open: Vec<Consultation>,
    pub upcoming: Vec<Consultation>,
    pub closed: Vec<Consultation>,
}

pub async fn list(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let all = consultations::list(&state.db).await?;
    let of = |p: Phase| all.iter().filter(|c| c.phase == p).cloned().collect();
    render(&ListPage {
        open: of(Phase::Open),
        upcoming: of(Phase::Upcoming),
        closed: of(Phase::Closed),
        ctx,
    })
}

#[derive(Template)]
#[template(path = "public/consultations/show.html")]
pub struct ShowPage {
    pub ctx: PageCtx,
    pub c: Consultation,
    pub comments: Vec<Comment>,
    pub signed_in: bool,
    pub done: String,
    pub comment: String,
    /// The survey's questions, when it can be answered here.
    pub fields: Vec<FieldView>,
    pub answered: bool,
    /// Once closed.
    pub results: Option<Results>,
    pub errors: Vec<(String, String)>,
}

impl ShowPage {
    fn open(&self) -> bool {
        self.c.phase == Phase::Open
    }
}

struct Shown {
    comment: String,
    answers: Answers,
    form_errors: Vec<FormError>,
    errors: Vec<(String, String)>,
}

async fn show_page(
    state: &AppState,
    ctx: PageCtx,
    signed_in: bool,
    who: Option<Respondent<'_>>,
    c: Consultation,
    done: String,
    shown: Shown,
) -> Result<Response, AppError> {
    let answered = match who {
        Some(w) if c.is_survey() => consultations::answered(&state.db, c.id, w).await?,
        _ => false,
    };
    let fields = match &c.schema {
        Some(schema) if c.phase == Phase::Open && !answered => {
            let profile = Profile::default();
            Builder {
                ctx: &ctx,
                schema,
                answers: &shown.answers,
                errors: &shown.form_errors,
                files: &[],
                profile: &profile,
                max_file_mb: 0,
            }
            .page(0)
        }
        _ => Vec::new(),
    };
    let results = if c.is_survey() && c.phase == Phase::Closed {
        Some(consultations::results(&state.db, c.id, false).await?)
    } else {
        None
    };
    let mut errors = shown.errors;
    errors.extend(
        shown
            .form_errors
            .iter()
            .map(|e| (format!("w-f-{}", e.key), error_text(&ctx, e))),
    );
    render(&ShowPage {
        comments: consultations::shown_comments(&state.db, c.id).await?,
        ctx,
        c,
        signed_in,
        done,
        comment: shown.comment,
        fields,
        answered,
        results,
        errors,
    })
}

/// This browser's device cookie, set when it has none.
fn device(state: &AppState, jar: CookieJar) -> (CookieJar, String) {
    if let Some(c) = jar.get(DEVICE_COOKIE) {
        let v = c.value().to_string();
        return (jar, v);
    }
    let token = zhiban_domain::staff::random_token();
    let jar = jar.add(
        Cookie::build((DEVICE_COOKIE, token.clone()))
            .path("/consultations")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(state.config.secure_cookies)
            .max_age(time::Duration::days(365))
            .build(),
    );
    (jar, token)
}

pub async fn page(
    State(state): State<AppState>,
    user: Option<CitizenUser>,
    ctx: PageCtx,
    jar: CookieJar,
    Path(id): Path<i64>,
    Query(done): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let c = consultations::get(&state.db, id).await?;
    let citizen = user.as_ref().map(|u| u.citizen().clone());
    let (ctx, jar, signed_in) = form_ctx(&state, user, ctx, jar);
    let (jar, dev) = device(&state, jar);
    let who = match &citizen {
        Some(c) => Respondent::Citizen(c),
        None => Respondent::Device(&dev),
    };
    let shown = Shown {
        comment: String::new(),
        answers: Answers::new(),
        form_errors: Vec::new(),
        errors: Vec::new(),
    };
    let page = show_page(&state, ctx, signed_in, Some(who), c, done.done, shown).await?;
    Ok((jar, page).into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    pub comment: String,
}

/// A signed-in person's comment on an open draft (shown once accepted).
pub async fn comment(
    State(state): State<AppState>,
    user: CitizenUser,
    Path(id): Path<i64>,
    Csrf(Form(form)): Csrf<Form<CommentForm>>,
) -> Result<Response, AppError> {
    match consultations::comment(&state.db, id, user.citizen(), &form.comment).await {
        Ok(()) => Ok(
            Redirect::to(&format!("/consultations/{id}?done=commented#comment")).into_response(),
        ),
        Err(DomainError::Invalid(errs)) => {
            let c = consultations::get(&state.db, id).await?;
            let errors = field_messages(&user.ctx, &errs);
            let citizen = user.citizen().clone();
            let shown = Shown {
                comment: form.comment,
                answers: Answers::new(),
                form_errors: Vec::new(),
                errors,
            };
            show_page(
                &state,
                user.ctx,
                true,
                Some(Respondent::Citizen(&citizen)),
                c,
                String::new(),
                shown,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// What a form posts, with a multiple choice's boxes one per line.
fn answers_of(fields: Vec<(String, String)>) -> Answers {
    let mut answers = Answers::new();
    for (k, v) in fields {
        if k.starts_with('_') {
            continue;
        }
        answers
            .entry(k)
            .and_modify(|old: &mut String| {
                old.push('\n');
                old.push_str(&v);
            })
            .or_insert(v);
    }
    answers
}

/// Answers a survey, once per account, or per device where it takes
/// answers without an account.
pub async fn answer(
    State(state): State<AppState>,
    user: Option<CitizenUser>,
    mut ctx: PageCtx,
    jar: CookieJar,
    Path(id): Path<i64>,
    Csrf(Form(fields)): Csrf<Form<Vec<(String, String)>>>,
) -> Result<Response, AppError> {
    let c = consultations::get(&state.db, id).await?;
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let answers = answers_of(fields);
    let citizen = user.as_ref().map(|u| u.citizen().clone());
    let signed_in = user.is_some();
    match user {
        Some(u) => ctx = u.ctx,
        None => ctx.csrf = csrf,
    }
    let dev = jar.get(DEVICE_COOKIE).map(|c| c.value().to_string());
    let who = match (&citizen, &dev) {
        (Some(c), _) => Respondent::Citizen(c),
        (None, Some(d)) if c.anonymous => Respondent::Device(d),
        // No account where one is needed, or a browser that keeps no cookie.
        _ => {
            return Ok(Redirect::to(&format!("/login?next=/consultations/{id}")).into_response());
        }
    };
    match consultations::answer(&state.db, id, who, &answers).await {
        Ok(()) => Ok(Redirect::to(&format!("/consultations/{id}?done=answered")).into_response()),
        Err(DomainError::Form(form_errors)) => {
            let shown = Shown {
                comment: String::new(),
                answers,
                form_errors,
                errors: Vec::new(),
            };
            show_page(&state, ctx, signed_in, Some(who), c, String::new(), shown).await
        }
        Err(e) => Err(e.into()),
    }
}
