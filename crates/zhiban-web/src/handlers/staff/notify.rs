//! Notification wording (`/admin/notify`).

use crate::error::AppError;
use crate::extract::Csrf;
use crate::extract::{DoneQuery, Staff};
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::{error_message, render};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::notify::Template as NotifyTemplate;
use zhiban_domain::{DomainError, notify};

#[derive(Template)]
#[template(path = "staff/notify/notify.html")]
pub struct NotifyPage {
    pub ctx: PageCtx,
    pub templates: Vec<NotifyTemplate>,
    pub placeholders: Vec<&'static str>,
    pub errors: Vec<(String, String)>,
    pub saved: String,
    /// Whole-city accounts change the wording; others read it.
    pub editable: bool,
}

impl NotifyPage {
    fn event_label(&self, e: &str) -> String {
        self.ctx.t(&format!("cases.action_{e}"))
    }
}

pub async fn notify_list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    render(&NotifyPage {
        templates: notify::templates(&state.db).await?,
        placeholders: notify::PLACEHOLDERS.to_vec(),
        editable: staff.session.scope.is_whole(),
        ctx: staff.ctx,
        errors: Vec::new(),
        saved: q.done,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct NotifyForm {
    #[serde(default)]
    pub event: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
}

pub async fn notify_save(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(form)): Csrf<Form<NotifyForm>>,
) -> Result<Response, AppError> {
    match notify::save_template(
        &state.db,
        &staff.session,
        &form.event,
        &form.title,
        &form.body,
    )
    .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("/admin/notify?done={}", urlencode(&form.event))).into_response(),
        ),
        Err(DomainError::Invalid(errs)) => {
            let errors = errs
                .iter()
                .map(|e| {
                    (
                        format!("n-{}-{}", form.event, e.field),
                        error_message(&staff.ctx, e),
                    )
                })
                .collect();
            let page = NotifyPage {
                templates: notify::templates(&state.db).await?,
                placeholders: notify::PLACEHOLDERS.to_vec(),
                editable: true,
                ctx: staff.ctx,
                errors,
                saved: String::new(),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
