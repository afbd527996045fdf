//! 线索举报 (`/tips`, `/tips/follow`): a police tip, anonymous or under
//! one's account, answered with a receipt code and a secret shown once;
//! following it up with the two, reading the unit's questions and
//! answering them, without an account.

use crate::error::AppError;
use crate::extract::{CitizenUser, Csrf, UploadForm, form_ctx, form_token};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{field_messages, render, shown_once};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use zhiban_domain::DomainError;
use zhiban_domain::tips::files::TipFile;
use zhiban_domain::tips::{self, NewTip, Tip, TipCategory};

#[derive(Template)]
#[template(path = "public/tips/new.html")]
pub struct NewTipPage {
    pub ctx: PageCtx,
    pub categories: &'static [TipCategory],
    pub category: String,
    pub content: String,
    pub real_name: bool,
    pub signed_in: bool,
    /// Files already received, kept while the form comes back.
    pub staged: Vec<TipFile>,
    pub errors: Vec<(String, String)>,
}

impl NewTipPage {
    fn max_files(&self) -> usize {
        tips::files::MAX_FILES
    }

    fn max_mb(&self) -> usize {
        tips::files::MAX_BYTES / 1024 / 1024
    }

    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    user: Option<CitizenUser>,
    ctx: PageCtx,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (ctx, jar, signed_in) = form_ctx(&state, user, ctx, jar);
    let page = render(&NewTipPage {
        ctx,
        categories: TipCategory::ALL,
        category: String::new(),
        content: String::new(),
        real_name: false,
        signed_in,
        staged: Vec::new(),
        errors: Vec::new(),
    })?;
    Ok((jar, page).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct TipForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub real_name: String,
}

#[derive(Template)]
#[template(path = "public/tips/receipt.html")]
pub struct ReceiptPage {
    pub ctx: PageCtx,
    pub receipt: String,
    pub secret: String,
}

pub async fn file(
    State(state): State<AppState>,
    user: Option<CitizenUser>,
    mut ctx: PageCtx,
    Csrf(UploadForm(mp)): Csrf<UploadForm>,
) -> Result<Response, AppError> {
    let form: TipForm = serde_urlencoded::to_string(&mp.fields)
        .ok()
        .and_then(|q| serde_urlencoded::from_str(&q).ok())
        .unwrap_or_default();
    let signed_in = user.is_some();
    let citizen = user.as_ref().map(|u| u.citizen().clone());
    if let Some(u) = user {
        ctx = u.ctx;
    } else {
        ctx.csrf = form.csrf.clone();
    }
    // Files are encrypted and kept as they arrive, under this browser's
    // form token, so a form that comes back keeps them.
    let token = form.csrf.clone();
    let mut ids: Vec<i64> = mp
        .fields
        .iter()
        .filter(|(k, _)| k == "staged_file")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let mut problems = Vec::new();
    for f in mp.files.iter().filter(|f| f.input == "files") {
        if f.file_name.is_empty() && f.body.is_empty() && !f.too_large {
            continue;
        }
        if f.too_large {
            problems.push(zhiban_domain::FieldError::new(
                "tip_files",
                "attachment_too_large",
                (tips::files::MAX_BYTES / 1024 / 1024).to_string(),
            ));
            continue;
        }
        match tips::files::stage(&state.db, &token, &f.file_name, &f.body).await {
            Ok(t) => ids.push(t.id),
            Err(e) => problems.push(e),
        }
    }
    let staged = tips::files::staged(&state.db, &token, &ids).await?;
    let new = NewTip {
        category: TipCategory::from_slug(&form.category),
        content: form.content.clone(),
        real_name: form.real_name == "1",
        files: staged.iter().map(|f| f.id).collect(),
        form_token: token,
    };
    let filed = if problems.is_empty() {
        tips::file(&state.db, &state.config.tips, citizen.as_ref(), &new).await
    } else {
        Err(DomainError::Invalid(problems))
    };
    match filed {
        Ok(r) => shown_once(render(&ReceiptPage {
            ctx,
            receipt: r.receipt,
            secret: r.secret,
        })),
        Err(DomainError::Invalid(errs)) => {
            let errors = field_messages(&ctx, &errs);
            render(&NewTipPage {
                ctx,
                categories: TipCategory::ALL,
                category: form.category,
                content: form.content,
                real_name: form.real_name == "1",
                signed_in,
                staged,
                errors,
            })
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "public/tips/follow.html")]
pub struct FollowPage {
    pub ctx: PageCtx,
    pub receipt: String,
    pub secret: String,
    /// Found with the pair typed.
    pub tip: Option<Tip>,
    pub not_found: bool,
    pub errors: Vec<(String, String)>,
}

pub async fn follow_form(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let jar = form_token(&state, &mut ctx, jar);
    let page = render(&FollowPage {
        ctx,
        receipt: String::new(),
        secret: String::new(),
        tip: None,
        not_found: false,
        errors: Vec::new(),
    })?;
    Ok((jar, page).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct FollowForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
    #[serde(default)]
    pub receipt: String,
    #[serde(default)]
    pub secret: String,
    /// A message to the unit (the reply form, which also sends `reply=1`).
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub reply: String,
}

/// Opens the tip with its code and secret; with a message, adds it first.
pub async fn follow(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    Csrf(Form(form)): Csrf<Form<FollowForm>>,
) -> Result<Response, AppError> {
    ctx.csrf = form.csrf.clone();
    let replying = form.reply == "1";
    let found = if replying {
        tips::reporter_says(&state.db, &form.receipt, &form.secret, &form.message).await
    } else {
        tips::follow(&state.db, &form.receipt, &form.secret).await
    };
    let (tip, not_found, errors) = match found {
        Ok(t) => (Some(t), false, Vec::new()),
        Err(DomainError::NotFound) => (None, true, Vec::new()),
        Err(DomainError::Invalid(errs)) => {
            let errors = field_messages(&ctx, &errs);
            (
                tips::follow(&state.db, &form.receipt, &form.secret)
                    .await
                    .ok(),
                false,
                errors,
            )
        }
        Err(e) => return Err(e.into()),
    };
    shown_once(render(&FollowPage {
        ctx,
        receipt: form.receipt,
        secret: form.secret,
        tip,
        not_found,
        errors,
    }))
}
