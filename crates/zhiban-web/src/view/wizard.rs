//! The application wizard both ways of applying share: one item
//! (`/apply/{code}`) and a 一件事 bundle (`/bundles/{code}/apply`). Pages
//! of a smart form with drafts, uploads or e-licenses (免证办), rows added
//! and removed, the review page (for a bundle with the checklist of what
//! each department receives) and submission; a person below the real-name
//! level needed is sent to verify first.

use crate::error::AppError;
use crate::extract::{MultipartForm, Posted, UploadTo, store_uploads};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::form::Reveal;
use crate::view::form::{AnswerRow, Builder, FieldView, LicenseChoice, LicenseOffer};
use crate::view::{error_list, license_choice, render};
use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use zhiban_domain::bundles::Bundle;
use zhiban_domain::cases::bundled;
use zhiban_domain::cases::{CaseFile, Draft};
use zhiban_domain::catalog::ServiceItem;
use zhiban_domain::forms::{Answers, FormError};
use zhiban_domain::identity::citizen::Citizen;
use zhiban_domain::licenses::Status;
use zhiban_domain::time::local_date;
use zhiban_domain::{Conflict, DomainError, cases, licenses};

/// What is being applied for.
pub enum Applying {
    Item(Box<ServiceItem>),
    Bundle(Bundle),
}

/// What one department receives from a bundle's form.
#[derive(Debug, Clone)]
pub struct Receives {
    pub item: String,
    pub department: String,
    pub stage: u32,
    pub fields: Vec<String>,
    pub materials: Vec<String>,
}

impl Applying {
    /// Where the form posts (and its pages are).
    pub fn action(&self) -> String {
        match self {
            Applying::Item(i) => format!("/apply/{}", i.code),
            Applying::Bundle(b) => format!("/bundles/{}/apply", b.code),
        }
    }

    /// The guide the wizard comes from.
    pub fn guide(&self) -> String {
        match self {
            Applying::Item(i) => format!("/services/{}", i.code),
            Applying::Bundle(b) => format!("/bundles/{}", b.code),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Applying::Item(i) => &i.name,
            Applying::Bundle(b) => &b.name,
        }
    }

    /// The person's draft, and for a bundle what each department will
    /// receive (worked out with the form, so once).
    async fn draft(
        &self,
        state: &AppState,
        citizen: &Citizen,
    ) -> Result<(Draft, Vec<Receives>), AppError> {
        Ok(match self {
            Applying::Item(i) => (cases::draft(&state.db, citizen, i).await?, Vec::new()),
            Applying::Bundle(b) => {
                let (draft, plan) = bundled::bundle_draft(&state.db, citizen, b).await?;
                let checklist = plan
                    .merged
                    .children
                    .iter()
                    .map(|c| {
                        let (fields, materials) = c.receives();
                        Receives {
                            item: c.name.clone(),
                            department: c.department.clone(),
                            stage: c.stage,
                            fields,
                            materials,
                        }
                    })
                    .collect();
                (draft, checklist)
            }
        })
    }

    async fn save(
        &self,
        state: &AppState,
        citizen: &Citizen,
        draft: &mut Draft,
        answers: &Answers,
        page: usize,
    ) -> Result<(), AppError> {
        match self {
            Applying::Item(_) => {
                cases::save_draft(&state.db, citizen, draft, answers, page).await?
            }
            Applying::Bundle(b) => {
                bundled::save_bundle_draft(&state.db, citizen, b, draft, answers, page).await?;
            }
        }
        Ok(())
    }

    /// Files it; returns the page that shows what was filed.
    async fn submit(
        &self,
        desk: &cases::Desk<'_>,
        citizen: &Citizen,
    ) -> Result<String, DomainError> {
        Ok(match self {
            Applying::Item(i) => {
                let case = cases::submit(desk, citizen, i).await?;
                format!("/my/cases/{}?new=1", case.number)
            }
            Applying::Bundle(b) => {
                let number = bundled::submit_bundle(desk, citizen, b).await?;
                format!("/my/bundles/{number}?new=1")
            }
        })
    }

    /// Sends people below the real-name level needed to step up first.
    fn step_up(
        &self,
        state: &AppState,
        ctx: &PageCtx,
        citizen: &Citizen,
    ) -> Result<Option<Response>, AppError> {
        let (allowed, level) = match self {
            Applying::Item(i) => (cases::can_apply(citizen, i), i.realname_level),
            Applying::Bundle(b) => {
                let catalog = state.catalog();
                let items = b.items_in(&catalog);
                (
                    bundled::can_apply_all(citizen, &items),
                    bundled::realname_level(&items),
                )
            }
        };
        match allowed {
            Ok(()) => return Ok(None),
            Err(DomainError::Conflict(Conflict::RealnameLevel)) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(Some(render(&StepUpPage {
            ctx: ctx.clone(),
            name: self.name().to_string(),
            guide: self.guide(),
            level,
            back: self.action(),
        })?))
    }
}

#[derive(Template)]
#[template(path = "citizen/apply/apply.html")]
pub struct ApplyPage {
    pub ctx: PageCtx,
    pub name: String,
    pub guide: String,
    pub action: String,
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
    /// A bundle's review page: what each department receives.
    pub checklist: Vec<Receives>,
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
    fn is_current(&self, i: &usize) -> bool {
        *i == self.page
    }
    fn size(&self, f: &CaseFile) -> String {
        crate::view::form::size_text(f.size)
    }
}

#[derive(Template)]
#[template(path = "citizen/apply/step_up.html")]
pub struct StepUpPage {
    pub ctx: PageCtx,
    pub name: String,
    pub guide: String,
    pub level: i64,
    pub back: String,
}

/// Shows page `page` of the wizard (the review page after the last).
#[allow(clippy::too_many_arguments)]
async fn wizard(
    state: &AppState,
    ctx: PageCtx,
    applying: &Applying,
    citizen: &Citizen,
    draft: &Draft,
    checklist: &[Receives],
    page: usize,
    errors: &[FormError],
    saved: bool,
) -> Result<Response, AppError> {
    let files = cases::draft_files(&state.db, draft.id).await?;
    let profile = cases::profile_of(&state.db, citizen, local_date(state.db.now())).await?;
    let page = page.min(draft.schema.pages.len());
    let review_page = page >= draft.schema.pages.len();
    let mut fields = Builder {
        ctx: &ctx,
        schema: &draft.schema,
        answers: &draft.answers,
        errors,
        files: &files,
        profile: &profile,
        max_file_mb: state.config.cases.max_file_mb,
    }
    .page(page);
    // 免证办: each file field offers the licenses that can stand in for it.
    let licensed: Vec<(String, LicenseChoice)> = licenses::for_draft(&state.db, draft.id)
        .await?
        .iter()
        .map(|a| {
            (
                a.field_key.clone(),
                license_choice(&ctx, &a.license, a.status),
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
                .map(|l| license_choice(&ctx, l, Status::Valid))
                .collect()
        };
        if authorised.is_some() || !usable.is_empty() {
            f.license = Some(LicenseOffer { authorised, usable });
        }
    }
    let page_view = ApplyPage {
        licensed,
        errors: error_list(&ctx, &draft.schema, errors),
        review: if review_page {
            // Name and ID number checked by 实名认证 offer no 修改 link.
            let locked: Vec<&str> = draft
                .schema
                .fields()
                .filter(|f| f.prefill.is_some_and(|p| profile.locks(p)))
                .map(|f| f.label.as_str())
                .collect();
            crate::view::form::summary(&draft.schema, &draft.answers, Reveal::Applicant)
                .into_iter()
                .map(|r| AnswerRow {
                    locked: locked.contains(&r.label.as_str()),
                    ..r
                })
                .collect()
        } else {
            Vec::new()
        },
        materials: crate::view::form::materials(&draft.schema, &files),
        pages: draft.schema.pages.iter().map(|p| p.title.clone()).collect(),
        form_title: draft.schema.title.clone(),
        name: applying.name().to_string(),
        guide: applying.guide(),
        action: applying.action(),
        checklist: if review_page {
            checklist.to_vec()
        } else {
            Vec::new()
        },
        ctx,
        page,
        fields,
        saved,
    };
    crate::view::render_form(&page_view, !errors.is_empty())
}

/// GET: the page asked for, or where the draft was left.
pub async fn show(
    state: &AppState,
    ctx: PageCtx,
    applying: &Applying,
    citizen: &Citizen,
    page: Option<usize>,
    saved: bool,
) -> Result<Response, AppError> {
    if let Some(r) = applying.step_up(state, &ctx, citizen)? {
        return Ok(r);
    }
    let (draft, checklist) = applying.draft(state, citizen).await?;
    let page = page.unwrap_or(draft.page);
    wizard(
        state,
        ctx,
        applying,
        citizen,
        &draft,
        &checklist,
        page,
        &[],
        saved,
    )
    .await
}

/// The row buttons of a repeating group (`_go` of `add:KEY` or
/// `del:KEY:I`), applied to what was posted. The wizard and the counter
/// form share them.
pub fn row_ops(go: &str, answers: &mut Answers) {
    if let Some(key) = go.strip_prefix("add:") {
        let rows = zhiban_domain::forms::FormSchema::rows(answers, key);
        answers.insert(format!("{key}.#"), (rows + 1).min(100).to_string());
    } else if let Some(rest) = go.strip_prefix("del:")
        && let Some((key, i)) = rest.rsplit_once(':')
    {
        remove_row(answers, key, i.parse().unwrap_or(usize::MAX));
    }
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

/// POST: saves what was typed on the page (nothing is lost, even when it
/// does not validate), then moves on, back, or files the application.
pub async fn post(
    state: &AppState,
    ctx: PageCtx,
    applying: &Applying,
    citizen: &Citizen,
    base: &str,
    form: MultipartForm,
) -> Result<Response, AppError> {
    let mut posted = Posted::from(form);
    if let Some(r) = applying.step_up(state, &ctx, citizen)? {
        return Ok(r);
    }
    let action = applying.action();
    let (mut draft, checklist) = applying.draft(state, citizen).await?;
    let page = posted.page.min(draft.schema.pages.len());
    draft.page = page;
    let desk = state.desk(base);
    let errors = store_uploads(&desk, citizen, UploadTo::Draft(&draft), &mut posted).await?;
    let go = posted.go.clone();
    let mut answers = posted.answers;
    row_ops(&go, &mut answers);
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
        applying
            .save(state, citizen, &mut draft, &answers, page)
            .await?;
    }
    if !errors.is_empty() {
        return wizard(
            state, ctx, applying, citizen, &draft, &checklist, page, &errors, false,
        )
        .await;
    }
    // 免证办: authorise one of the applicant's licenses for a file field,
    // or take the authorisation back.
    if let Some(rest) = go.strip_prefix("license:")
        && let Some((key, number)) = rest.rsplit_once(':')
    {
        let material = draft.schema.material_for(key).ok_or(AppError::NotFound)?;
        match licenses::authorize(&state.db, citizen, draft.id, key, &material, number).await {
            Ok(()) => {}
            Err(DomainError::Invalid(_) | DomainError::NotFound) => {
                let e = [FormError {
                    key: key.to_string(),
                    code: "license_not_usable",
                    detail: String::new(),
                }];
                return wizard(
                    state, ctx, applying, citizen, &draft, &checklist, page, &e, false,
                )
                .await;
            }
            Err(e) => return Err(e.into()),
        }
        return Ok(Redirect::to(&format!("{action}?page={page}#w-f-{key}")).into_response());
    }
    if let Some(key) = go.strip_prefix("unlicense:") {
        draft.schema.material_for(key).ok_or(AppError::NotFound)?;
        licenses::withdraw(&state.db, draft.id, key).await?;
        return Ok(Redirect::to(&format!("{action}?page={page}#w-f-{key}")).into_response());
    }
    match go.as_str() {
        "next" => {
            let files = cases::draft_files(&state.db, draft.id).await?;
            let supplied = cases::draft_supplied(&state.db, draft.id, &files).await?;
            // A bundle's form may have changed with the answers: check the
            // page as it was posted.
            let errors = draft.schema.validate(Some(page), &draft.answers, &supplied);
            if !errors.is_empty() {
                return wizard(
                    state, ctx, applying, citizen, &draft, &checklist, page, &errors, false,
                )
                .await;
            }
            applying
                .save(state, citizen, &mut draft, &answers, target)
                .await?;
            Ok(Redirect::to(&format!("{action}?page={target}")).into_response())
        }
        "back" => {
            applying
                .save(state, citizen, &mut draft, &answers, target)
                .await?;
            Ok(Redirect::to(&format!("{action}?page={target}")).into_response())
        }
        "submit" => {
            if !posted.declared {
                let e = [FormError {
                    key: "declare".into(),
                    code: "declare",
                    detail: String::new(),
                }];
                return wizard(
                    state, ctx, applying, citizen, &draft, &checklist, page, &e, false,
                )
                .await;
            }
            match applying.submit(&desk, citizen).await {
                Ok(to) => Ok(Redirect::to(&to).into_response()),
                Err(DomainError::Form(errors)) => {
                    // The form as it is now (a bundle's may have changed),
                    // at the first page with a problem.
                    let (draft, checklist) = applying.draft(state, citizen).await?;
                    let first = errors
                        .iter()
                        .map(|e| draft.schema.page_of(&e.key))
                        .min()
                        .unwrap_or(0);
                    wizard(
                        state, ctx, applying, citizen, &draft, &checklist, first, &errors, false,
                    )
                    .await
                }
                Err(e) => Err(e.into()),
            }
        }
        "save" => Ok(Redirect::to(&format!("{action}?page={page}&saved=1")).into_response()),
        _ => Ok(Redirect::to(&format!("{action}?page={page}")).into_response()),
    }
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
