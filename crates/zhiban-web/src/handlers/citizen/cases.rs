//! 我的办件 (`/my/cases…`): one's cases with their timeline, corrections
//! (补正), withdrawal, result downloads and the receipt; in-site messages
//! (`/my/messages`).

use crate::error::AppError;
use crate::extract::{CitizenUser, Issuer, MultipartForm, Posted, UploadTo, store_uploads};
use crate::extract::{Csrf, NoFields};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::form::Reveal;
use crate::view::form::{AnswerRow, Builder, FieldView, LicenseChoice};
use crate::view::{error_list, license_choice, qr_data_url, render, send_file};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::cases::bundled::{self, BundleCase};
use zhiban_domain::cases::{
    Actor, Case, CaseAction, CaseEvent, CaseFile, CaseRow, CaseState, Step,
};
use zhiban_domain::forms::FormError;
use zhiban_domain::notify::Message;
use zhiban_domain::ratings::{self, Rating, Rectification};
use zhiban_domain::time::local_date;
use zhiban_domain::{DomainError, cases, licenses, notify};

#[derive(Template)]
#[template(path = "citizen/cases/list.html")]
pub struct MyCasesPage {
    pub ctx: PageCtx,
    pub cases: Vec<CaseRow>,
    /// (where to continue, name, saved at)
    pub drafts: Vec<(String, String, String)>,
    pub unread: i64,
    /// Filed 一件事 bundles, newest first.
    pub bundles: Vec<BundleCase>,
}

pub async fn my_cases(
    State(state): State<AppState>,
    user: CitizenUser,
) -> Result<Response, AppError> {
    let id = user.citizen().id;
    let catalog = state.catalog();
    let saved = cases::drafts_of(&state.db, user.citizen()).await?;
    // Names of bundles, read only when a bundle's draft is among them.
    let all_bundles = if saved
        .iter()
        .any(|(key, _)| key.starts_with(bundled::BUNDLE_DRAFT))
    {
        zhiban_domain::bundles::list(&state.db, false).await?
    } else {
        Vec::new()
    };
    let drafts = saved
        .into_iter()
        .map(|(key, at)| {
            let at = zhiban_domain::time::local_time(at);
            match key.strip_prefix(bundled::BUNDLE_DRAFT) {
                Some(code) => {
                    let name = all_bundles
                        .iter()
                        .find(|b| b.code == code)
                        .map_or_else(|| code.to_string(), |b| b.name.clone());
                    (format!("/bundles/{code}/apply"), name, at)
                }
                None => {
                    let name = catalog
                        .get(&key)
                        .map(|s| s.name.clone())
                        .unwrap_or_else(|| key.clone());
                    (format!("/apply/{key}"), name, at)
                }
            }
        })
        .collect();
    let today = local_date(state.db.now());
    // Acting for a company: the company's cases, whoever filed them.
    let (bundles, list) = match &user.citizen().acting {
        Some(company) => (
            Vec::new(),
            cases::of_company(&state.db, company.id, today).await?,
        ),
        None => (
            bundled::bundles_of(&state.db, id).await?,
            cases::of_citizen(&state.db, id, today).await?,
        ),
    };
    render(&MyCasesPage {
        bundles,
        cases: list,
        unread: notify::unread(&state.db, id).await?,
        drafts,
        ctx: user.ctx,
    })
}

#[derive(Template)]
#[template(path = "citizen/cases/case.html")]
pub struct MyCasePage {
    pub ctx: PageCtx,
    pub case: Case,
    /// The company the case was filed for.
    pub company: Option<zhiban_domain::identity::company::Company>,
    /// The deadline lies in a year whose holidays are not yet published.
    pub due_may_move: bool,
    pub events: Vec<CaseEvent>,
    pub answers: Vec<AnswerRow>,
    pub materials: Vec<(String, String, Vec<CaseFile>)>,
    pub results: Vec<CaseFile>,
    /// The correction form: the fields the applicant may change.
    pub fields: Vec<FieldView>,
    pub errors: Vec<(String, String)>,
    pub fresh: bool,
    pub notice: String,
    /// E-licenses the case was filed with (免证办), by field key.
    pub licensed: Vec<(String, LicenseChoice)>,
    /// The 一件事 it was filed in: (number, name).
    pub bundle: Option<(String, String)>,
    /// Its 好差评 rating, and how a bad one was dealt with.
    pub rating: Option<(Rating, Option<Rectification>)>,
    /// A result was reached: it may be rated.
    pub rateable: bool,
    /// The case's fee orders (统一支付), newest first.
    pub orders: Vec<zhiban_domain::payments::Order>,
    pub now: i64,
}

impl MyCasePage {
    fn license_for(&self, key: &str) -> Option<&LicenseChoice> {
        self.licensed.iter().find(|(k, _)| k == key).map(|(_, c)| c)
    }
    fn can_withdraw(&self) -> bool {
        matches!(
            self.case.state,
            CaseState::Submitted | CaseState::Correction | CaseState::Waiting
        )
    }
    fn size(&self, f: &CaseFile) -> String {
        crate::view::form::size_text(f.size)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CaseQuery {
    #[serde(default)]
    pub new: String,
    #[serde(default)]
    pub done: String,
}

async fn case_page(
    state: &AppState,
    user: &CitizenUser,
    number: &str,
    errors: &[FormError],
    fresh: bool,
    notice: &str,
) -> Result<Response, AppError> {
    let citizen = user.citizen();
    let case = cases::for_citizen(&state.db, citizen, number).await?;
    let files = cases::case_files(&state.db, case.id).await?;
    let current: Vec<CaseFile> = files.iter().filter(|f| f.replaced == 0).cloned().collect();
    let fields = if case.state == CaseState::Correction {
        let profile = cases::profile_of(&state.db, citizen, local_date(state.db.now())).await?;
        let b = Builder {
            ctx: &user.ctx,
            schema: &case.schema,
            answers: &case.answers,
            errors,
            files: &current,
            profile: &profile,
            max_file_mb: state.config.cases.max_file_mb,
        };
        case.schema
            .fields()
            .filter(|f| case.correctable(&f.key) && f.is_input())
            .map(|f| b.field(f, &f.key))
            .collect()
    } else {
        Vec::new()
    };
    let licensed = licenses::for_case(&state.db, &case.number)
        .await?
        .iter()
        .map(|a| {
            (
                a.field_key.clone(),
                license_choice(&user.ctx, &a.license, a.status),
            )
        })
        .collect();
    let page = MyCasePage {
        company: match case.company_id {
            Some(id) => zhiban_domain::identity::company::by_id(&state.db, id).await?,
            None => None,
        },
        bundle: bundled::bundle_of(&state.db, &case).await?,
        rating: ratings::of_case(&state.db, case.id).await?,
        orders: zhiban_domain::payments::of_case(&state.db, case.id)
            .await?
            .into_iter()
            .filter(|o| o.state != zhiban_domain::payments::OrderState::Closed)
            .collect(),
        now: state.db.now().timestamp(),
        rateable: ratings::rateable(&case),
        due_may_move: !state.calendar.covers(case.due_on),
        licensed,
        events: cases::events(&state.db, case.id).await?,
        answers: crate::view::form::summary(&case.schema, &case.answers, Reveal::Applicant),
        materials: crate::view::form::materials(&case.schema, &current),
        results: files
            .iter()
            .filter(|f| f.kind == "result")
            .cloned()
            .collect(),
        errors: error_list(&user.ctx, &case.schema, errors),
        fields,
        fresh,
        notice: notice.to_string(),
        ctx: user.ctx.clone(),
        case,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, render(&page)?).into_response())
}

pub async fn my_case(
    State(state): State<AppState>,
    user: CitizenUser,
    Path(number): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Result<Response, AppError> {
    let notice = if q.done.is_empty() {
        String::new()
    } else {
        user.ctx.t(&format!("cases.done_{}", q.done))
    };
    case_page(&state, &user, &number, &[], q.new == "1", &notice).await
}

/// 补正: replaced materials and corrected answers, then resubmitted.
pub async fn resubmit(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Path(number): Path<String>,
    Csrf(form): Csrf<MultipartForm>,
) -> Result<Response, AppError> {
    let mut posted = Posted::from(form);
    let citizen = user.citizen().clone();
    let desk = state.desk(&base);
    let errors = store_uploads(&desk, &citizen, UploadTo::Case(&number), &mut posted).await?;
    if !errors.is_empty() {
        return case_page(&state, &user, &number, &errors, false, "").await;
    }
    let step = Step {
        answers: posted.answers,
        revision: posted.revision,
        ..Step::default()
    };
    let r = cases::act(
        &desk,
        Actor::Applicant(&citizen),
        &number,
        CaseAction::Resubmit,
        step,
    )
    .await;
    after_step(&state, &user, &number, "resubmit", r).await
}

/// After the applicant's step: the case page with a confirmation, or with
/// the refusal beside it (a correction that does not validate, a step the
/// case no longer allows).
async fn after_step(
    state: &AppState,
    user: &CitizenUser,
    number: &str,
    done: &str,
    r: Result<Case, DomainError>,
) -> Result<Response, AppError> {
    match r {
        Ok(c) => Ok(Redirect::to(&format!("/my/cases/{}?done={done}", c.number)).into_response()),
        Err(DomainError::Form(errors)) => case_page(state, user, number, &errors, false, "").await,
        Err(DomainError::Conflict(code)) => {
            let notice = user.ctx.t(&format!("cases.conflict_{}", code.code()));
            case_page(state, user, number, &[], false, &notice).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn withdraw(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Path(number): Path<String>,
    Csrf(_): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    let citizen = user.citizen().clone();
    let r = cases::act(
        &state.desk(&base),
        Actor::Applicant(&citizen),
        &number,
        CaseAction::Withdraw,
        Step::default(),
    )
    .await;
    after_step(&state, &user, &number, "withdraw", r).await
}

pub async fn my_file(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Path((number, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let case = cases::for_citizen(&state.db, user.citizen(), &number).await?;
    let file = cases::case_file(&state.db, case.id, id).await?;
    send_file(&state, &base, &file).await
}

#[derive(Template)]
#[template(path = "citizen/cases/receipt.html")]
pub struct ReceiptPage {
    pub ctx: PageCtx,
    pub case: Case,
    pub qr: String,
    pub link: String,
    pub materials: Vec<(String, String, Vec<CaseFile>)>,
    pub licensed: Vec<(String, LicenseChoice)>,
}

impl ReceiptPage {
    fn license_for(&self, key: &str) -> Option<&LicenseChoice> {
        self.licensed.iter().find(|(k, _)| k == key).map(|(_, c)| c)
    }
}

/// 受理回执 that prints on one page, with a QR code to the progress lookup.
pub async fn receipt(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Path(number): Path<String>,
) -> Result<Response, AppError> {
    let case = cases::for_citizen(&state.db, user.citizen(), &number).await?;
    let link = format!(
        "{}/progress?number={}",
        base.trim_end_matches('/'),
        case.number
    );
    let files = cases::case_files(&state.db, case.id).await?;
    let current: Vec<CaseFile> = files.into_iter().filter(|f| f.replaced == 0).collect();
    let licensed = licenses::for_case(&state.db, &case.number)
        .await?
        .iter()
        .map(|a| {
            (
                a.field_key.clone(),
                license_choice(&user.ctx, &a.license, a.status),
            )
        })
        .collect();
    render(&ReceiptPage {
        licensed,
        qr: qr_data_url(&link)?,
        materials: crate::view::form::materials(&case.schema, &current),
        link,
        ctx: user.ctx,
        case,
    })
}

#[derive(Template)]
#[template(path = "citizen/cases/messages.html")]
pub struct MessagesPage {
    pub ctx: PageCtx,
    pub messages: Vec<Message>,
}

pub async fn messages(
    State(state): State<AppState>,
    user: CitizenUser,
) -> Result<Response, AppError> {
    let id = user.citizen().id;
    let list = notify::messages(&state.db, id).await?;
    notify::mark_all_read(&state.db, id).await?;
    render(&MessagesPage {
        ctx: user.ctx,
        messages: list,
    })
}
