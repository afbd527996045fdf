//! 窗口收件 (`/admin/counter…`): a clerk files an application for the
//! person at the counter. First the person (ID card checked in person),
//! then the item's whole form on one page with the scanned materials;
//! everything typed and scanned is kept until it is filed or dropped.

use crate::error::AppError;
use crate::extract::{Csrf, Issuer, MultipartForm, Posted, Staff, oversize_errors};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::form::{Builder, FieldView};
use crate::view::{error_list, field_messages, render, render_form};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::cases::counter::{self, CounterDraft, CounterLine, Receivable, WalkIn};
use zhiban_domain::cases::{CaseFile, Upload};
use zhiban_domain::catalog::ServiceItem;
use zhiban_domain::forms::FormError;
use zhiban_domain::time::local_date;
use zhiban_domain::{DomainError, FieldError};

#[derive(Template)]
#[template(path = "staff/counter/counter.html")]
pub struct CounterHome {
    pub ctx: PageCtx,
    pub items: Receivable,
    pub open: Vec<CounterLine>,
    pub form: StartForm,
    pub errors: Vec<(String, String)>,
}

impl CounterHome {
    fn chosen(&self, code: &str) -> bool {
        self.form.service_code == code
    }
    fn item_name(&self, code: &str) -> String {
        self.items
            .iter()
            .flat_map(|(_, items)| items.iter())
            .find(|(c, _)| c == code)
            .map_or_else(|| code.to_string(), |(_, n)| n.clone())
    }
    fn error_for(&self, key: &str) -> Option<&String> {
        self.errors.iter().find(|(k, _)| k == key).map(|(_, m)| m)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct StartForm {
    #[serde(default)]
    pub service_code: String,
    #[serde(default)]
    pub person_name: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub seen: String,
}

async fn home_page(
    state: &AppState,
    staff: Staff,
    form: StartForm,
    errors: &[FieldError],
) -> Result<CounterHome, AppError> {
    Ok(CounterHome {
        items: counter::receivable(&state.catalog(), &staff.session),
        open: counter::open_drafts(&state.db, &staff.session).await?,
        errors: field_messages(&staff.ctx, errors),
        ctx: staff.ctx,
        form,
    })
}

/// The counter: who came in and for what, and the clerk's open applications.
pub async fn counter_home(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, AppError> {
    render(&home_page(&state, staff, StartForm::default(), &[]).await?)
}

fn published(state: &AppState, code: &str) -> Option<ServiceItem> {
    state.catalog().get(code).map(|s| ServiceItem::clone(s))
}

/// Starts an application once the person is identified.
pub async fn counter_start(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(f)): Csrf<Form<StartForm>>,
) -> Result<Response, AppError> {
    let item = published(&state, &f.service_code);
    let walk_in = WalkIn::parse(&f.person_name, &f.id_number, &f.phone, f.seen == "1");
    let result = match (item, walk_in) {
        (Some(item), Ok(w)) => counter::start(&state.db, &staff.session, &item, w).await,
        (None, Err(DomainError::Invalid(mut errs))) => {
            errs.insert(0, FieldError::new("service_code", "required", ""));
            Err(DomainError::Invalid(errs))
        }
        (None, _) => Err(DomainError::Invalid(vec![FieldError::new(
            "service_code",
            "required",
            "",
        )])),
        (Some(_), Err(e)) => Err(e),
    };
    match result {
        Ok(d) => Ok(Redirect::to(&format!("/admin/counter/{}", d.id)).into_response()),
        Err(DomainError::Invalid(errs)) => {
            let page = home_page(&state, staff, f, &errs).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff/counter/form.html")]
pub struct CounterFormPage {
    pub ctx: PageCtx,
    pub draft: CounterDraft,
    pub item_name: String,
    pub unit: String,
    /// Every page of the form: (title, its fields).
    pub pages: Vec<(String, Vec<FieldView>)>,
    pub errors: Vec<(String, String)>,
    pub saved: bool,
}

async fn form_page(
    state: &AppState,
    ctx: PageCtx,
    draft: &CounterDraft,
    errors: &[FormError],
    saved: bool,
) -> Result<Response, AppError> {
    let files: Vec<CaseFile> = counter::files(&state.db, draft).await?;
    let profile = draft.applicant.profile(local_date(state.db.now()));
    let builder = Builder {
        ctx: &ctx,
        schema: &draft.schema,
        answers: &draft.answers,
        errors,
        files: &files,
        profile: &profile,
        max_file_mb: state.config.cases.max_file_mb,
    };
    let pages = draft
        .schema
        .pages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut fields = builder.page(i);
            // The 身份证号 the clerk checked is shown masked (the form
            // keeps the real one: locked fields are filled from it).
            for f in fields
                .iter_mut()
                .filter(|f| f.locked && f.kind != "computed")
            {
                f.locked_note = ctx.t("intake.locked");
                if f.value == draft.applicant.id_number {
                    f.value = draft.applicant.masked_id_number();
                }
            }
            (p.title.clone(), fields)
        })
        .collect();
    let item = published(state, &draft.service_code);
    let page = CounterFormPage {
        errors: error_list(&ctx, &draft.schema, errors),
        item_name: item
            .as_ref()
            .map_or_else(|| draft.service_code.clone(), |i| i.name.clone()),
        unit: item.map(|i| i.department_name).unwrap_or_default(),
        pages,
        draft: draft.clone(),
        ctx,
        saved,
    };
    render_form(&page, !errors.is_empty())
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    pub saved: String,
}

/// One of the clerk's open applications.
pub async fn counter_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> Result<Response, AppError> {
    let draft = counter::get(&state.db, &staff.session, id).await?;
    form_page(&state, staff.ctx, &draft, &[], q.saved == "1").await
}

/// Saves what was typed and scanned (always), then files, drops or comes
/// back to the form.
pub async fn counter_post(
    State(state): State<AppState>,
    staff: Staff,
    Issuer(base): Issuer,
    Path(id): Path<i64>,
    Csrf(form): Csrf<MultipartForm>,
) -> Result<Response, AppError> {
    let mut draft = counter::get(&state.db, &staff.session, id).await?;
    let desk = state.desk(&base);
    let mut posted = Posted::from(form);
    let here = format!("/admin/counter/{id}");
    if posted.go == "discard" {
        counter::discard(&desk, &staff.session, &draft).await?;
        return Ok(Redirect::to("/admin/counter").into_response());
    }
    // Scans first: a refused file is named beside its field, the rest kept.
    let mut errors = oversize_errors(&desk, &mut posted);
    for (key, name, body) in std::mem::take(&mut posted.uploads) {
        let upload = Upload {
            field_key: &key,
            file_name: &name,
            body,
        };
        match counter::add_file(&desk, &staff.session, &draft, upload).await {
            Ok(_) | Err(DomainError::NotFound) => {}
            Err(DomainError::Form(mut e)) => errors.append(&mut e),
            Err(e) => return Err(e.into()),
        }
    }
    let go = posted.go.clone();
    let mut answers = posted.answers;
    crate::view::wizard::row_ops(&go, &mut answers);
    counter::save(&state.db, &mut draft, &answers).await?;
    if let Some(file_id) = go.strip_prefix("remove_file:") {
        counter::remove_file(&desk, &draft, file_id.parse().unwrap_or(0)).await?;
    }
    if !errors.is_empty() {
        return form_page(&state, staff.ctx, &draft, &errors, false).await;
    }
    match go.as_str() {
        "submit" => {
            let Some(item) = published(&state, &draft.service_code) else {
                return Err(AppError::NotFound);
            };
            if !posted.declared {
                let e = [FormError {
                    key: "declare".into(),
                    code: "declare",
                    detail: String::new(),
                }];
                return form_page(&state, staff.ctx, &draft, &e, false).await;
            }
            match counter::file(&desk, &staff.session, &item, &mut draft).await {
                Ok(case) => Ok(
                    Redirect::to(&format!("/admin/cases/{}?done=filed", case.number))
                        .into_response(),
                ),
                Err(DomainError::Form(errors)) => {
                    form_page(&state, staff.ctx, &draft, &errors, false).await
                }
                Err(e) => Err(e.into()),
            }
        }
        "save" => Ok(Redirect::to(&format!("{here}?saved=1")).into_response()),
        _ => Ok(Redirect::to(&here).into_response()),
    }
}
