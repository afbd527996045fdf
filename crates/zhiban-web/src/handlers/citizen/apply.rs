//! Applying online (`/apply/{code}`): the smart-form wizard with drafts,
//! uploads or e-licenses (免证办), the review page and submission; a person
//! below the item's real-name level is sent to verify first.

use crate::error::AppError;
use crate::extract::{CitizenUser, Csrf, Issuer, MultipartForm, Posted, UploadTo, store_uploads};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::form::Reveal;
use crate::view::form::{AnswerRow, Builder, FieldView, LicenseChoice, LicenseOffer};
use crate::view::{error_list, license_choice, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::cases::{CaseFile, Draft};
use zhiban_domain::catalog::ServiceItem;
use zhiban_domain::forms::{Answers, FormError};
use zhiban_domain::identity::citizen::Citizen;
use zhiban_domain::licenses::Status;
use zhiban_domain::time::local_date;
use zhiban_domain::{DomainError, cases, licenses};

fn published_item(state: &AppState, code: &str) -> Result<ServiceItem, AppError> {
    state
        .catalog()
        .get(code)
        .filter(|s| s.online)
        .map(|s| ServiceItem::clone(s))
        .ok_or(AppError::NotFound)
}

#[derive(Template)]
#[template(path = "citizen/apply/apply.html")]
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
    pub item: ServiceItem,
    pub level: i64,
    pub back: String,
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
    Csrf(form): Csrf<MultipartForm>,
) -> Result<Response, AppError> {
    let mut posted = Posted::from(form);
    let item = published_item(&state, &code)?;
    if let Some(r) = step_up(&user, &item)? {
        return Ok(r);
    }
    let citizen = user.citizen().clone();
    let mut draft = cases::draft(&state.db, &citizen, &item).await?;
    let page = posted.page.min(draft.schema.pages.len());
    draft.page = page;
    let desk = state.desk(&base);
    let errors = store_uploads(&desk, &citizen, UploadTo::Draft(&draft), &mut posted).await?;
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
