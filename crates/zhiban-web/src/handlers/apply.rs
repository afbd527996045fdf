//! Applying online (网上申报) and following one's cases: the smart-form
//! wizard with drafts, the review page, submission and the receipt, 我的办件
//! with the timeline, corrections (补正), withdrawal, result downloads,
//! in-site messages, and the public progress lookup by number and phone.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::cases::{
    self, Actor, Case, CaseAction, CaseEvent, CaseFile, CaseRow, CaseState, Draft, Step, Upload,
};
use zhiban_domain::catalog::ServiceItem;
use zhiban_domain::forms::{Answers, FormError};
use zhiban_domain::identity::citizen::Citizen;
use zhiban_domain::licenses::{self, Status};
use zhiban_domain::notify::{self, Message};
use zhiban_domain::time::local_date;
use zhiban_domain::{DomainError, FieldError};

use super::citizen::CitizenUser;
use super::oidc::Issuer;
use super::render;
use super::staff_auth::qr_data_url;
use crate::ctx::{PageCtx, urlencode};
use crate::error::AppError;
use crate::form_view::{self, AnswerRow, Builder, FieldView, LicenseChoice, LicenseOffer};
use crate::state::AppState;

/// A posted multipart form: answers, uploads and the control fields.
#[derive(Default)]
pub struct Posted {
    pub answers: Answers,
    /// (field key, file name, body) of every non-empty upload.
    pub uploads: Vec<(String, String, Vec<u8>)>,
    pub csrf: Option<String>,
    pub go: String,
    pub page: usize,
    pub revision: Option<i64>,
    pub declared: bool,
}

/// Reads a multipart form. Control fields start with `_`; uploads are named
/// `file:KEY`.
pub async fn read_multipart(mut mp: Multipart) -> Result<Posted, AppError> {
    let mut out = Posted::default();
    while let Some(field) = mp.next_field().await.map_err(|e| {
        AppError::Reply(Box::new(
            (StatusCode::BAD_REQUEST, e.body_text()).into_response(),
        ))
    })? {
        let name = field.name().unwrap_or("").to_string();
        if let Some(key) = name.strip_prefix("file:") {
            let file_name = field.file_name().unwrap_or("").to_string();
            let body = field.bytes().await.map_err(|e| {
                AppError::Reply(Box::new(
                    (StatusCode::PAYLOAD_TOO_LARGE, e.body_text()).into_response(),
                ))
            })?;
            if !file_name.is_empty() || !body.is_empty() {
                out.uploads
                    .push((key.to_string(), file_name, body.to_vec()));
            }
            continue;
        }
        let text = field.text().await.unwrap_or_default();
        match name.as_str() {
            "_csrf" => out.csrf = Some(text),
            "_go" => out.go = text,
            "_page" => out.page = text.parse().unwrap_or(0),
            "_revision" => out.revision = text.parse().ok(),
            "_declare" => out.declared = text == "1",
            n if n.starts_with('_') => {}
            _ => {
                out.answers.insert(name, text);
            }
        }
    }
    Ok(out)
}

/// Where posted files go: a draft's materials, or a case being corrected.
enum UploadTo<'a> {
    Draft(&'a Draft),
    Case(&'a str),
}

/// Stores each posted file and collects the refusals to show beside their
/// fields. A file for a field that takes none here is ignored.
async fn store_uploads(
    desk: &cases::Desk<'_>,
    citizen: &Citizen,
    to: UploadTo<'_>,
    uploads: Vec<(String, String, Vec<u8>)>,
) -> Result<Vec<FormError>, AppError> {
    let mut errors = Vec::new();
    for (key, name, body) in uploads {
        let upload = Upload {
            field_key: &key,
            file_name: &name,
            body,
        };
        let stored = match to {
            UploadTo::Draft(d) => cases::add_draft_file(desk, citizen, d, upload).await,
            UploadTo::Case(n) => cases::replace_material(desk, citizen, n, upload).await,
        };
        match stored {
            Ok(_) | Err(DomainError::NotFound | DomainError::Conflict(_)) => {}
            Err(DomainError::Form(mut e)) => errors.append(&mut e),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(errors)
}

fn published_item(state: &AppState, code: &str) -> Result<ServiceItem, AppError> {
    state
        .catalog()
        .get(code)
        .filter(|s| s.online)
        .map(|s| ServiceItem::clone(s))
        .ok_or(AppError::NotFound)
}

// ---------------------------------------------------------------- the wizard

#[derive(Template)]
#[template(path = "apply.html")]
pub struct ApplyPage {
    pub ctx: PageCtx,
    pub item: ServiceItem,
    pub page: usize,
    pub pages: Vec<String>,
    pub fields: Vec<FieldView>,
    pub errors: Vec<(String, String)>,
    /// The review page: every answer and every file.
    pub review: Vec<AnswerRow>,
    pub materials: Vec<(String, String, Vec<CaseFile>)>,
    pub saved: bool,
    pub form_title: String,
    /// E-licenses authorised for file fields (field key, license).
    pub licensed: Vec<(String, LicenseChoice)>,
}

impl ApplyPage {
    fn license_for(&self, key: &str) -> Option<&LicenseChoice> {
        self.licensed.iter().find(|(k, _)| k == key).map(|(_, c)| c)
    }
    fn is_review(&self) -> bool {
        self.page >= self.pages.len()
    }
    fn step_of(&self) -> String {
        self.ctx
            .t("apply.step_of")
            .replace("%{n}", &(self.page + 1).to_string())
            .replace("%{total}", &(self.pages.len() + 1).to_string())
    }
    fn has_files(&self) -> bool {
        self.fields.iter().any(|f| f.kind == "file")
    }
    fn is_current(&self, i: &usize) -> bool {
        *i == self.page
    }
    fn size(&self, f: &CaseFile) -> String {
        form_view::size_text(f.size)
    }
}

#[derive(Template)]
#[template(path = "apply_stepup.html")]
pub struct StepUpPage {
    pub ctx: PageCtx,
    pub item: ServiceItem,
    pub level: i64,
    pub back: String,
}

fn error_list(ctx: &PageCtx, errors: &[FormError]) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|e| {
            (
                format!("f-{}", e.key.replace('.', "-")),
                form_view::error_text(ctx, e),
            )
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn wizard(
    state: &AppState,
    ctx: PageCtx,
    item: ServiceItem,
    citizen: &Citizen,
    draft: &Draft,
    page: usize,
    errors: &[FormError],
    saved: bool,
) -> Result<Response, AppError> {
    let files = cases::draft_files(&state.db, draft.id).await?;
    let profile = cases::profile_of(citizen, local_date(state.db.now()));
    let page = page.min(draft.schema.pages.len());
    let review_page = page >= draft.schema.pages.len();
    let mut fields = Builder {
        ctx: &ctx,
        schema: &draft.schema,
        answers: &draft.answers,
        errors,
        files: &files,
        profile: &profile,
    }
    .page(page);
    // 免证办: each file field offers the licenses that can stand in for it.
    let licensed: Vec<(String, LicenseChoice)> = licenses::for_draft(&state.db, draft.id)
        .await?
        .iter()
        .map(|a| {
            (
                a.field_key.clone(),
                super::licenses::choice(&ctx, &a.license, a.status),
            )
        })
        .collect();
    for f in fields.iter_mut().filter(|f| f.kind == "file") {
        let Some(material) = draft.schema.material_for(&f.name) else {
            continue;
        };
        let authorised = licensed
            .iter()
            .find(|(k, _)| *k == f.name)
            .map(|(_, c)| c.clone());
        let usable = if authorised.is_some() {
            Vec::new()
        } else {
            licenses::usable_for(&state.db, citizen, &material)
                .await?
                .iter()
                .map(|l| super::licenses::choice(&ctx, l, Status::Valid))
                .collect()
        };
        if authorised.is_some() || !usable.is_empty() {
            f.license = Some(LicenseOffer { authorised, usable });
        }
    }
    let page_view = ApplyPage {
        licensed,
        errors: error_list(&ctx, errors),
        review: if review_page {
            form_view::summary(&draft.schema, &draft.answers, false)
        } else {
            Vec::new()
        },
        materials: form_view::materials(&draft.schema, &files),
        pages: draft.schema.pages.iter().map(|p| p.title.clone()).collect(),
        form_title: draft.schema.title.clone(),
        ctx,
        item,
        page,
        fields,
        saved,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, render(&page_view)?).into_response())
}

/// Sends people below the item's real-name level to step up first.
fn step_up(user: &CitizenUser, item: &ServiceItem) -> Result<Option<Response>, AppError> {
    match cases::can_apply(user.citizen(), item) {
        Ok(()) => Ok(None),
        Err(DomainError::Conflict(zhiban_domain::Conflict::RealnameLevel)) => {
            Ok(Some(render(&StepUpPage {
                ctx: user.ctx.clone(),
                level: item.realname_level,
                back: format!("/apply/{}", item.code),
                item: item.clone(),
            })?))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub page: Option<usize>,
    #[serde(default)]
    pub saved: String,
}

pub async fn apply_form(
    State(state): State<AppState>,
    user: CitizenUser,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let item = published_item(&state, &code)?;
    if let Some(r) = step_up(&user, &item)? {
        return Ok(r);
    }
    let draft = cases::draft(&state.db, user.citizen(), &item).await?;
    let page = q.page.unwrap_or(draft.page);
    let citizen = user.citizen().clone();
    wizard(
        &state,
        user.ctx,
        item,
        &citizen,
        &draft,
        page,
        &[],
        q.saved == "1",
    )
    .await
}

/// Removes row `i` of a repeating group, moving later rows up.
fn remove_row(answers: &mut Answers, key: &str, i: usize) {
    let rows = zhiban_domain::forms::FormSchema::rows(answers, key);
    if rows <= 1 || i >= rows {
        return;
    }
    let prefix = |n: usize| format!("{key}.{n}.");
    let mut moved = Answers::new();
    for (k, v) in std::mem::take(answers) {
        let row = (0..rows).find(|n| k.starts_with(&prefix(*n)));
        match row {
            Some(n) if n == i => {}
            Some(n) if n > i => {
                moved.insert(format!("{}{}", prefix(n - 1), &k[prefix(n).len()..]), v);
            }
            _ => {
                moved.insert(k, v);
            }
        }
    }
    moved.insert(format!("{key}.#"), (rows - 1).to_string());
    *answers = moved;
}

pub async fn apply_post(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Path(code): Path<String>,
    mp: Multipart,
) -> Result<Response, AppError> {
    let mut posted = read_multipart(mp).await?;
    user.check_csrf(posted.csrf.as_ref())?;
    let item = published_item(&state, &code)?;
    if let Some(r) = step_up(&user, &item)? {
        return Ok(r);
    }
    let citizen = user.citizen().clone();
    let mut draft = cases::draft(&state.db, &citizen, &item).await?;
    let page = posted.page.min(draft.schema.pages.len());
    draft.page = page;
    let desk = state.desk(&base);
    let uploads = std::mem::take(&mut posted.uploads);
    let errors = store_uploads(&desk, &citizen, UploadTo::Draft(&draft), uploads).await?;
    let go = posted.go.clone();
    let mut answers = posted.answers;
    if let Some(key) = go.strip_prefix("add:") {
        let rows = zhiban_domain::forms::FormSchema::rows(&answers, key);
        answers.insert(format!("{key}.#"), (rows + 1).min(100).to_string());
    } else if let Some(rest) = go.strip_prefix("del:")
        && let Some((key, i)) = rest.rsplit_once(':')
    {
        remove_row(&mut answers, key, i.parse().unwrap_or(usize::MAX));
    }
    let target = match go.as_str() {
        "next" => page + 1,
        "back" => page.saturating_sub(1),
        _ => page,
    };
    if let Some(id) = go.strip_prefix("remove_file:") {
        cases::remove_draft_file(&desk, &draft, id.parse().unwrap_or(0)).await?;
    }
    let review = page >= draft.schema.pages.len();
    if !review {
        cases::save_draft(&state.db, &citizen, &mut draft, &answers, page).await?;
    }
    if !errors.is_empty() {
        return wizard(
            &state, user.ctx, item, &citizen, &draft, page, &errors, false,
        )
        .await;
    }
    // 免证办: authorise one of the applicant's licenses for a file field,
    // or take the authorisation back.
    if let Some(rest) = go.strip_prefix("license:")
        && let Some((key, number)) = rest.rsplit_once(':')
    {
        let material = draft.schema.material_for(key).ok_or(AppError::NotFound)?;
        match licenses::authorize(&state.db, &citizen, draft.id, key, &material, number).await {
            Ok(()) => {}
            Err(DomainError::Invalid(_) | DomainError::NotFound) => {
                let e = [FormError {
                    key: key.to_string(),
                    code: "license_not_usable",
                    detail: String::new(),
                }];
                return wizard(&state, user.ctx, item, &citizen, &draft, page, &e, false).await;
            }
            Err(e) => return Err(e.into()),
        }
        return Ok(Redirect::to(&format!("/apply/{code}?page={page}#w-f-{key}")).into_response());
    }
    if let Some(key) = go.strip_prefix("unlicense:") {
        draft.schema.material_for(key).ok_or(AppError::NotFound)?;
        licenses::withdraw(&state.db, draft.id, key).await?;
        return Ok(Redirect::to(&format!("/apply/{code}?page={page}#w-f-{key}")).into_response());
    }
    match go.as_str() {
        "next" => {
            let files = cases::draft_files(&state.db, draft.id).await?;
            let supplied = cases::draft_supplied(&state.db, draft.id, &files).await?;
            let errors = draft.schema.validate(Some(page), &draft.answers, &supplied);
            if !errors.is_empty() {
                return wizard(
                    &state, user.ctx, item, &citizen, &draft, page, &errors, false,
                )
                .await;
            }
            cases::save_draft(&state.db, &citizen, &mut draft, &answers, target).await?;
            Ok(Redirect::to(&format!("/apply/{code}?page={target}")).into_response())
        }
        "back" => {
            cases::save_draft(&state.db, &citizen, &mut draft, &answers, target).await?;
            Ok(Redirect::to(&format!("/apply/{code}?page={target}")).into_response())
        }
        "submit" => {
            if !posted.declared {
                let e = [FormError {
                    key: "declare".into(),
                    code: "declare",
                    detail: String::new(),
                }];
                return wizard(&state, user.ctx, item, &citizen, &draft, page, &e, false).await;
            }
            match cases::submit(&desk, &citizen, &item).await {
                Ok(case) => {
                    Ok(Redirect::to(&format!("/my/cases/{}?new=1", case.number)).into_response())
                }
                Err(DomainError::Form(errors)) => {
                    // Send the applicant to the first page with a problem.
                    let first = errors
                        .iter()
                        .map(|e| draft.schema.page_of(&e.key))
                        .min()
                        .unwrap_or(0);
                    wizard(
                        &state, user.ctx, item, &citizen, &draft, first, &errors, false,
                    )
                    .await
                }
                Err(e) => Err(e.into()),
            }
        }
        "save" => Ok(Redirect::to(&format!("/apply/{code}?page={page}&saved=1")).into_response()),
        _ => Ok(Redirect::to(&format!("/apply/{code}?page={page}")).into_response()),
    }
}

// ---------------------------------------------------------------- my cases

#[derive(Template)]
#[template(path = "my_cases.html")]
pub struct MyCasesPage {
    pub ctx: PageCtx,
    pub cases: Vec<CaseRow>,
    /// (service code, service name, saved at)
    pub drafts: Vec<(String, String, String)>,
    pub unread: i64,
}

impl MyCasesPage {
    fn when(&self, at: &i64) -> String {
        super::people::local_time(*at)
    }
}

pub async fn my_cases(
    State(state): State<AppState>,
    user: CitizenUser,
) -> Result<Response, AppError> {
    let id = user.citizen().id;
    let catalog = state.catalog();
    let drafts = cases::drafts_of(&state.db, id)
        .await?
        .into_iter()
        .map(|(code, at)| {
            let name = catalog
                .get(&code)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| code.clone());
            (code, name, super::people::local_time(at))
        })
        .collect();
    render(&MyCasesPage {
        cases: cases::of_citizen(&state.db, id, local_date(state.db.now())).await?,
        unread: notify::unread(&state.db, id).await?,
        drafts,
        ctx: user.ctx,
    })
}

#[derive(Template)]
#[template(path = "my_case.html")]
pub struct MyCasePage {
    pub ctx: PageCtx,
    pub case: Case,
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
}

impl MyCasePage {
    fn license_for(&self, key: &str) -> Option<&LicenseChoice> {
        self.licensed.iter().find(|(k, _)| k == key).map(|(_, c)| c)
    }
    fn when(&self, at: &i64) -> String {
        super::people::local_time(*at)
    }
    fn can_withdraw(&self) -> bool {
        matches!(
            self.case.state,
            CaseState::Submitted | CaseState::Correction
        )
    }
    fn size(&self, f: &CaseFile) -> String {
        form_view::size_text(f.size)
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
    let case = cases::for_citizen(&state.db, citizen.id, number).await?;
    let files = cases::case_files(&state.db, case.id).await?;
    let current: Vec<CaseFile> = files.iter().filter(|f| f.replaced == 0).cloned().collect();
    let fields = if case.state == CaseState::Correction {
        let profile = cases::profile_of(citizen, local_date(state.db.now()));
        let b = Builder {
            ctx: &user.ctx,
            schema: &case.schema,
            answers: &case.answers,
            errors,
            files: &current,
            profile: &profile,
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
                super::licenses::choice(&user.ctx, &a.license, a.status),
            )
        })
        .collect();
    let page = MyCasePage {
        licensed,
        events: cases::events(&state.db, case.id).await?,
        answers: form_view::summary(&case.schema, &case.answers, false),
        materials: form_view::materials(&case.schema, &current),
        results: files
            .iter()
            .filter(|f| f.kind == "result")
            .cloned()
            .collect(),
        errors: error_list(&user.ctx, errors),
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
    mp: Multipart,
) -> Result<Response, AppError> {
    let mut posted = read_multipart(mp).await?;
    user.check_csrf(posted.csrf.as_ref())?;
    let citizen = user.citizen().clone();
    let desk = state.desk(&base);
    let uploads = std::mem::take(&mut posted.uploads);
    let errors = store_uploads(&desk, &citizen, UploadTo::Case(&number), uploads).await?;
    if !errors.is_empty() {
        return case_page(&state, &user, &number, &errors, false, "").await;
    }
    let step = Step {
        answers: posted.answers,
        revision: posted.revision,
        ..Step::default()
    };
    match cases::act(
        &desk,
        Actor::Applicant(&citizen),
        &number,
        CaseAction::Resubmit,
        step,
    )
    .await
    {
        Ok(c) => Ok(Redirect::to(&format!("/my/cases/{}?done=resubmit", c.number)).into_response()),
        Err(DomainError::Form(errors)) => {
            case_page(&state, &user, &number, &errors, false, "").await
        }
        Err(DomainError::Conflict(code)) => {
            let notice = user.ctx.t(&format!("cases.conflict_{}", code.code()));
            case_page(&state, &user, &number, &[], false, &notice).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: Option<String>,
}

pub async fn withdraw(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Path(number): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    user.check_csrf(form.csrf.as_ref())?;
    let citizen = user.citizen().clone();
    match cases::act(
        &state.desk(&base),
        Actor::Applicant(&citizen),
        &number,
        CaseAction::Withdraw,
        Step::default(),
    )
    .await
    {
        Ok(c) => Ok(Redirect::to(&format!("/my/cases/{}?done=withdraw", c.number)).into_response()),
        Err(DomainError::Conflict(code)) => {
            let notice = user.ctx.t(&format!("cases.conflict_{}", code.code()));
            case_page(&state, &user, &number, &[], false, &notice).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Sends a stored file: inline for staff previews, as a download otherwise.
pub async fn send_file(
    state: &AppState,
    base: &str,
    file: &CaseFile,
    inline: bool,
) -> Result<Response, AppError> {
    let body = cases::file_body(&state.desk(base), file).await?;
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        urlencode(&file.file_name)
    );
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            // A PDF opened in the browser runs no script of ours.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'"
                    .to_string(),
            ),
        ],
        body,
    )
        .into_response())
}

pub async fn my_file(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Path((number, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let case = cases::for_citizen(&state.db, user.citizen().id, &number).await?;
    let file = cases::case_file(&state.db, case.id, id).await?;
    send_file(&state, &base, &file, false).await
}

#[derive(Template)]
#[template(path = "receipt.html")]
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
    fn when(&self, at: &i64) -> String {
        super::people::local_time(*at)
    }
}

/// 受理回执 that prints on one page, with a QR code to the progress lookup.
pub async fn receipt(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Path(number): Path<String>,
) -> Result<Response, AppError> {
    let case = cases::for_citizen(&state.db, user.citizen().id, &number).await?;
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
                super::licenses::choice(&user.ctx, &a.license, a.status),
            )
        })
        .collect();
    render(&ReceiptPage {
        licensed,
        qr: qr_data_url(&link)?,
        materials: form_view::materials(&case.schema, &current),
        link,
        ctx: user.ctx,
        case,
    })
}

#[derive(Template)]
#[template(path = "messages.html")]
pub struct MessagesPage {
    pub ctx: PageCtx,
    pub messages: Vec<Message>,
}

impl MessagesPage {
    fn when(&self, at: &i64) -> String {
        super::people::local_time(*at)
    }
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

// ---------------------------------------------------------------- progress

#[derive(Template)]
#[template(path = "progress.html")]
pub struct ProgressPage {
    pub ctx: PageCtx,
    pub number: String,
    pub searched: bool,
    pub found: Option<Case>,
    pub events: Vec<CaseEvent>,
    pub errors: Vec<(String, String)>,
}

impl ProgressPage {
    fn when(&self, at: &i64) -> String {
        super::people::local_time(*at)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ProgressForm {
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub phone: String,
}

pub async fn progress_form(
    ctx: PageCtx,
    Query(q): Query<ProgressForm>,
) -> Result<Response, AppError> {
    render(&ProgressPage {
        ctx,
        number: q.number,
        searched: false,
        found: None,
        events: Vec::new(),
        errors: Vec::new(),
    })
}

/// Anyone with the number and the phone it was filed with sees the steps
/// (nothing personal beyond the masked name).
pub async fn progress(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<ProgressForm>,
) -> Result<Response, AppError> {
    let mut errors = Vec::new();
    if f.number.trim().is_empty() {
        errors.push(FieldError::new("number", "required", ""));
    }
    if f.phone.trim().is_empty() {
        errors.push(FieldError::new("phone", "required", ""));
    }
    let found = if errors.is_empty() {
        cases::lookup(&state.db, &f.number, &f.phone).await?
    } else {
        None
    };
    let events = match &found {
        Some(c) => cases::events(&state.db, c.id).await?,
        None => Vec::new(),
    };
    let errors = errors
        .iter()
        .map(|e| {
            (
                format!("p-{}", e.field),
                ctx.t(&format!("progress.err_{}", e.field)),
            )
        })
        .collect();
    render(&ProgressPage {
        ctx,
        number: f.number.trim().to_string(),
        searched: true,
        found,
        events,
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removing_a_row_moves_the_later_rows_up() {
        let mut a: Answers = [
            ("g.#", "3"),
            ("g.0.n", "a"),
            ("g.1.n", "b"),
            ("g.2.n", "c"),
            ("x", "keep"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        remove_row(&mut a, "g", 1);
        assert_eq!(a.get("g.#").map(String::as_str), Some("2"));
        assert_eq!(a.get("g.0.n").map(String::as_str), Some("a"));
        assert_eq!(a.get("g.1.n").map(String::as_str), Some("c"));
        assert!(!a.contains_key("g.2.n"));
        assert_eq!(a.get("x").map(String::as_str), Some("keep"));
    }
}
