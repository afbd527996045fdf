//! The case workbench (`/admin/cases…`): 待办/已办/超期 lists with filters,
//! batch acceptance, the case file with every next step, result documents
//! and previews of materials.

use crate::error::AppError;
use crate::extract::{
    Csrf, DoneQuery, Issuer, MultipartForm, Posted, Staff, UnitOption, unit_options,
};
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::form::{AnswerRow, Reveal};
use crate::view::payment::{StaffFee, posted_lines};
use crate::view::{Pager, error_message, render, send_file};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form as ExtraForm;
use serde::Deserialize;
use std::collections::BTreeMap;
use zhiban_domain::cases::disclosure::{self, Answer};
use zhiban_domain::cases::{
    Actor, Case, CaseAction, CaseEvent, CaseFile, CaseRow, CaseState, Delivery, Light, ListQuery,
    Step, Tab, Upload,
};
use zhiban_domain::identity::{Perm, scope};
use zhiban_domain::licenses::Authorised;
use zhiban_domain::time::local_date;
use zhiban_domain::{DomainError, FieldError, cases, licenses, payments};

#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    #[serde(default)]
    pub tab: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub light: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub page: Option<usize>,
    #[serde(default)]
    pub accepted: Option<usize>,
    #[serde(default)]
    pub skipped: Option<usize>,
}

impl ListParams {
    fn tab(&self) -> Tab {
        match self.tab.as_str() {
            "done" => Tab::Done,
            "overdue" => Tab::Overdue,
            "all" => Tab::All,
            _ => Tab::Todo,
        }
    }

    fn base(&self) -> String {
        format!(
            "/admin/cases?tab={}&state={}&light={}&q={}",
            urlencode(&self.tab),
            urlencode(&self.state),
            urlencode(&self.light),
            urlencode(&self.q)
        )
    }
}

#[derive(Template)]
#[template(path = "staff/cases/list.html")]
pub struct CasesPage {
    pub ctx: PageCtx,
    pub rows: Vec<CaseRow>,
    /// More cases match than are counted.
    pub capped: bool,
    pub pager: Pager,
    pub p: ListParams,
    pub tab: Tab,
    /// (slug, label) for the filters.
    pub states: Vec<(String, String)>,
    pub lights: Vec<(String, String)>,
    pub counts: BTreeMap<&'static str, i64>,
    /// Reminders and escalations of the last week (电子监察).
    pub alerts: Vec<cases::Alert>,
}

impl CasesPage {
    fn tab_is(&self, t: &str) -> bool {
        match self.tab {
            Tab::Todo => t == "todo",
            Tab::Done => t == "done",
            Tab::Overdue => t == "overdue",
            Tab::All => t == "all",
        }
    }
    fn count(&self, t: &str) -> String {
        match self.counts.get(t).copied().unwrap_or(0) {
            n if n >= cases::COUNT_CAP => format!("{n}+"),
            n => n.to_string(),
        }
    }
    fn light_label(&self, l: &Light) -> String {
        self.ctx.t(&format!("cases.light_{}", l.slug()))
    }
    fn selectable(&self, r: &CaseRow) -> bool {
        r.state == CaseState::Submitted
    }
    fn accepted_note(&self) -> String {
        self.ctx
            .t("wb.batch_done")
            .replace("%{n}", &self.p.accepted.unwrap_or(0).to_string())
            .replace("%{skipped}", &self.p.skipped.unwrap_or(0).to_string())
    }
}

pub async fn cases_list(
    State(state): State<AppState>,
    staff: Staff,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    let today = local_date(state.db.now());
    let page = p.page.unwrap_or(1).max(1);
    let q = ListQuery {
        tab: p.tab(),
        state: CaseState::from_slug(&p.state),
        light: Light::from_slug(&p.light),
        service: String::new(),
        q: p.q.clone(),
        page: u32::try_from(page - 1).unwrap_or(0),
    };
    let list = cases::list(&state.db, &staff.session, &q, today).await?;
    let mut counts = BTreeMap::new();
    for (name, tab) in [("todo", Tab::Todo), ("overdue", Tab::Overdue)] {
        let only = ListQuery {
            tab,
            ..ListQuery::default()
        };
        counts.insert(
            name,
            cases::list(&state.db, &staff.session, &only, today)
                .await?
                .total,
        );
    }
    let ctx = staff.ctx;
    let states = CaseState::ALL
        .iter()
        .map(|s| {
            (
                s.slug().to_string(),
                ctx.t(&format!("cases.state_{}", s.slug())),
            )
        })
        .collect();
    let lights = [Light::Green, Light::Yellow, Light::Red, Light::Paused]
        .iter()
        .map(|l| {
            (
                l.slug().to_string(),
                ctx.t(&format!("cases.light_{}", l.slug())),
            )
        })
        .collect();
    render(&CasesPage {
        pager: Pager::new(
            &p.base(),
            page,
            usize::try_from(cases::PAGE_SIZE).unwrap_or(50),
            usize::try_from(list.total).unwrap_or(0),
        ),
        tab: p.tab(),
        ctx,
        rows: list.rows,
        capped: list.capped,
        p,
        states,
        lights,
        counts,
        alerts: cases::alerts(&state.db, &staff.session, 7).await?,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct BatchForm {
    #[serde(default)]
    pub number: Vec<String>,
}

/// 批量受理: the checked cases that are still waiting are accepted.
pub async fn batch_accept(
    State(state): State<AppState>,
    staff: Staff,
    Issuer(base): Issuer,
    Csrf(ExtraForm(form)): Csrf<ExtraForm<BatchForm>>,
) -> Result<Response, AppError> {
    let (accepted, skipped) =
        cases::batch_accept(&state.desk(&base), &staff.session, &form.number).await?;
    Ok(Redirect::to(&format!(
        "/admin/cases?accepted={accepted}&skipped={}",
        skipped.len()
    ))
    .into_response())
}

#[derive(Template)]
#[template(path = "staff/cases/case.html")]
pub struct CasePage {
    pub ctx: PageCtx,
    pub case: Case,
    /// The company the case was filed for.
    pub company: Option<zhiban_domain::identity::company::Company>,
    pub light: Light,
    pub events: Vec<CaseEvent>,
    pub answers: Vec<AnswerRow>,
    pub materials: Vec<(String, String, Vec<CaseFile>)>,
    pub replaced: Vec<CaseFile>,
    pub results: Vec<CaseFile>,
    pub actions: Vec<CaseAction>,
    /// Fields the desk can ask to correct: (key, label).
    pub correctable: Vec<(String, String)>,
    pub units: Vec<UnitOption>,
    pub errors: Vec<(String, String)>,
    pub notice: String,
    pub full_data: bool,
    /// E-licenses the applicant authorised instead of uploads (免证办);
    /// holder data masked unless `full_data`.
    pub licenses: Vec<Authorised>,
    /// A step that was refused: its action and what was typed (reason,
    /// answer type, days), put back into its form.
    pub kept: Option<KeptStep>,
    /// The 一件事 the case was filed in: (number, name).
    pub bundle: Option<(String, String)>,
    /// Its 好差评 rating and, for a bad one, the rectification's id and state.
    pub rating: Option<(
        zhiban_domain::ratings::Rating,
        Option<(i64, zhiban_domain::ratings::RectState)>,
    )>,
    /// The item's fees and the case's orders (统一支付); `None`: free.
    pub fee: Option<StaffFee>,
}

/// A refused step: its action and what was typed into its form.
pub struct KeptStep {
    pub action: CaseAction,
    pub reason: String,
    pub answer: String,
    pub days: String,
}

impl CasePage {
    /// An identity document this person may not open (no 查看群众个人信息).
    fn locked(&self, f: &CaseFile) -> bool {
        !self.full_data && f.is_identity_document()
    }
    fn license_for(&self, key: &str) -> Option<&Authorised> {
        self.licenses.iter().find(|a| a.field_key == key)
    }
    fn light_label(&self) -> String {
        self.ctx.t(&format!("cases.light_{}", self.light.slug()))
    }
    fn size(&self, f: &CaseFile) -> String {
        crate::view::form::size_text(f.size)
    }
    fn needs_reason(&self, a: &CaseAction) -> bool {
        a.needs_reason()
    }
    fn is(&self, a: &CaseAction, slug: &str) -> bool {
        a.slug() == slug
    }
    /// The action whose form opens: the one refused, else the first.
    fn opens(&self, a: &CaseAction, first: &bool) -> bool {
        match &self.kept {
            Some(k) => k.action == *a,
            None => *first,
        }
    }
    /// What was typed into an action's form before it was refused.
    fn kept_reason(&self, a: &CaseAction) -> &str {
        match &self.kept {
            Some(k) if k.action == *a => &k.reason,
            _ => "",
        }
    }
    fn kept_answer(&self, a: &CaseAction, answer: &Answer) -> bool {
        matches!(&self.kept, Some(k) if k.action == *a && k.answer == answer.slug())
    }
    fn kept_days(&self) -> String {
        match &self.kept {
            Some(k) if k.action == CaseAction::Extend => k.days.clone(),
            _ => disclosure::EXTENSION_MAX_DAYS.to_string(),
        }
    }
    /// A disclosure request's answer types for a decision (none otherwise).
    fn answers_for(&self, a: &CaseAction) -> Vec<Answer> {
        if self.case.is_disclosure() {
            Answer::for_action(*a)
        } else {
            Vec::new()
        }
    }
    fn accepts_results(&self) -> bool {
        matches!(self.case.state, CaseState::Decided | CaseState::Concluded)
    }
    fn deliveries(&self) -> Vec<(String, String)> {
        Delivery::ALL
            .iter()
            .map(|d| {
                (
                    d.slug().to_string(),
                    self.ctx.t(&format!("cases.delivery_{}", d.slug())),
                )
            })
            .collect()
    }
    fn chosen_delivery(&self) -> String {
        let wanted = self
            .case
            .answers
            .get("delivery")
            .map(String::as_str)
            .unwrap_or("");
        Delivery::ALL
            .iter()
            .find(|d| d.label() == wanted)
            .map(|d| d.slug().to_string())
            .unwrap_or_default()
    }
}

/// The case's fee section: the item's schedule and the case's orders, or
/// `None` when the item charges nothing and nothing was ordered.
async fn fee_of(
    state: &AppState,
    case: &Case,
    kept: Vec<(String, String)>,
) -> Result<Option<StaffFee>, AppError> {
    let fees = state
        .catalog()
        .get(&case.service_code)
        .map(|s| s.fees.clone())
        .unwrap_or_default();
    let orders = payments::of_case(&state.db, case.id).await?;
    if payments::is_free(&fees) && orders.is_empty() {
        return Ok(None);
    }
    Ok(Some(StaffFee {
        options: payments::fee_options(&fees),
        settled: orders.iter().any(|o| o.state.settled()),
        fees,
        orders,
        kept,
    }))
}

async fn case_page(
    state: &AppState,
    staff: &Staff,
    number: &str,
    errors: Vec<(String, String)>,
    notice: String,
    kept: Option<KeptStep>,
) -> Result<Response, AppError> {
    case_page_with(state, staff, number, errors, notice, kept, Vec::new()).await
}

async fn case_page_with(
    state: &AppState,
    staff: &Staff,
    number: &str,
    errors: Vec<(String, String)>,
    notice: String,
    kept: Option<KeptStep>,
    fee_kept: Vec<(String, String)>,
) -> Result<Response, AppError> {
    let case = cases::open_for_staff(&state.db, &staff.session, number).await?;
    let full_data = staff.session.can(Perm::CitizensView);
    let files = cases::case_files(&state.db, case.id).await?;
    let current: Vec<CaseFile> = files.iter().filter(|f| f.replaced == 0).cloned().collect();
    let correctable = case
        .schema
        .fields()
        .filter(|f| f.is_input())
        .map(|f| (f.key.clone(), f.label.clone()))
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = CasePage {
        company: match case.company_id {
            Some(id) => zhiban_domain::identity::company::by_id(&state.db, id).await?,
            None => None,
        },
        fee: fee_of(state, &case, fee_kept).await?,
        bundle: zhiban_domain::cases::bundled::bundle_of(&state.db, &case).await?,
        rating: zhiban_domain::ratings::of_case(&state.db, case.id)
            .await?
            .map(|(r, x)| (r, x.map(|x| (x.id, x.state)))),
        licenses: licenses::staff_view_for_case(&state.db, &staff.session, &case.number).await?,
        light: case.light(local_date(state.db.now())),
        events: cases::events(&state.db, case.id).await?,
        answers: crate::view::form::summary(
            &case.schema,
            &case.answers,
            if full_data {
                Reveal::Everything
            } else {
                Reveal::Masked
            },
        ),
        materials: crate::view::form::materials(&case.schema, &current),
        replaced: files.iter().filter(|f| f.replaced != 0).cloned().collect(),
        results: files
            .iter()
            .filter(|f| f.kind == "result")
            .cloned()
            .collect(),
        actions: case.staff_actions(),
        kept,
        units: unit_options(state, staff),
        ctx: staff.ctx.clone(),
        correctable,
        errors,
        notice,
        full_data,
        case,
    };
    Ok((status, render(&page)?).into_response())
}

pub async fn case_detail(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let notice = if q.done.is_empty() {
        String::new()
    } else {
        staff.ctx.t(&format!("wb.done_{}", q.done))
    };
    case_page(&state, &staff, &number, Vec::new(), notice, None).await
}

#[derive(Debug, Default, Deserialize)]
pub struct ActForm {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub fields: Vec<String>,
    #[serde(default)]
    pub to_unit: Option<i64>,
    #[serde(default)]
    pub delivery: String,
    #[serde(default)]
    pub tracking_no: String,
    #[serde(default)]
    pub revision: Option<i64>,
    /// A disclosure request's answer type (答复类型).
    #[serde(default)]
    pub answer: String,
    /// Working days to extend a disclosure request by, as typed.
    #[serde(default)]
    pub days: String,
}

/// Problems of a step, each linked to its input. Inputs every action's
/// form has (the reason, the answer type, the days) carry the action in
/// their id.
fn step_errors(ctx: &PageCtx, action: &str, errs: &[FieldError]) -> Vec<(String, String)> {
    errs.iter()
        .map(|e| {
            let id = if matches!(e.field, "reason" | "answer" | "days") {
                format!("a-{}-{action}", e.field)
            } else {
                format!("a-{}", e.field)
            };
            (id, error_message(ctx, e))
        })
        .collect()
}

pub async fn case_act(
    State(state): State<AppState>,
    staff: Staff,
    Issuer(base): Issuer,
    Path(number): Path<String>,
    Csrf(ExtraForm(form)): Csrf<ExtraForm<ActForm>>,
) -> Result<Response, AppError> {
    let Some(action) = CaseAction::from_slug(&form.action) else {
        return Err(AppError::NotFound);
    };
    let days = form.days.trim();
    let step = Step {
        answer: Answer::from_slug(&form.answer),
        days: if days.is_empty() {
            None
        } else {
            // Not a number: out of range, said so by the rule.
            Some(days.parse().unwrap_or(0))
        },
        reason: form.reason.clone(),
        fields: form.fields,
        to_unit: form.to_unit,
        delivery: Delivery::from_slug(&form.delivery),
        tracking_no: form.tracking_no,
        revision: form.revision,
        ..Step::default()
    };
    let r = cases::act(
        &state.desk(&base),
        Actor::Staff(&staff.session),
        &number,
        action,
        step,
    )
    .await;
    match r {
        Ok(c) if cases::staff_sees(&staff.session, c.department_id) => {
            Ok(
                Redirect::to(&format!("/admin/cases/{}?done={}", c.number, action.slug()))
                    .into_response(),
            )
        }
        // Transferred out of this person's scope: back to the list.
        Ok(_) => Ok(Redirect::to("/admin/cases?tab=done").into_response()),
        Err(DomainError::Invalid(errs)) => {
            let errors = step_errors(&staff.ctx, action.slug(), &errs);
            let kept = Some(KeptStep {
                action,
                reason: form.reason,
                answer: form.answer,
                days: form.days,
            });
            case_page(&state, &staff, &number, errors, String::new(), kept).await
        }
        Err(DomainError::Conflict(code)) => {
            let notice = staff.ctx.t(&format!("cases.conflict_{}", code.code()));
            case_page(&state, &staff, &number, Vec::new(), notice, None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Uploads a result document (批文、证照、决定书).
pub async fn case_result(
    State(state): State<AppState>,
    staff: Staff,
    Issuer(base): Issuer,
    Path(number): Path<String>,
    Csrf(form): Csrf<MultipartForm>,
) -> Result<Response, AppError> {
    let posted = Posted::from(form);
    let too_large = !posted.too_large.is_empty();
    let first = posted.uploads.into_iter().next().filter(|_| !too_large);
    let Some((_, name, body)) = first else {
        let e = if too_large {
            let mb = state.config.cases.max_file_mb.to_string();
            FieldError::new("result_file", "upload_too_large", mb)
        } else {
            FieldError::new("result_file", "required", "")
        };
        return case_page(
            &state,
            &staff,
            &number,
            step_errors(&staff.ctx, "result", &[e]),
            String::new(),
            None,
        )
        .await;
    };
    let upload = Upload {
        field_key: "result",
        file_name: &name,
        body,
    };
    match cases::add_result_file(&state.desk(&base), &staff.session, &number, upload).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/cases/{number}?done=result")).into_response()),
        Err(DomainError::Form(errs)) => {
            let errors = errs
                .iter()
                .map(|e| {
                    (
                        "a-result_file".to_string(),
                        crate::view::form::error_text(&staff.ctx, e),
                    )
                })
                .collect();
            case_page(&state, &staff, &number, errors, String::new(), None).await
        }
        Err(DomainError::Conflict(code)) => {
            let notice = staff.ctx.t(&format!("cases.conflict_{}", code.code()));
            case_page(&state, &staff, &number, Vec::new(), notice, None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Materials open in the browser (image or PDF viewer) for the desk.
pub async fn case_file(
    State(state): State<AppState>,
    staff: Staff,
    Issuer(base): Issuer,
    Path((number, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let case = cases::for_staff(&state.db, &staff.session, &number).await?;
    let file = cases::case_file(&state.db, case.id, id).await?;
    if file.is_identity_document() && !staff.session.can(Perm::CitizensView) {
        let object = format!("case_file:{}/{}", case.number, file.id);
        scope::record_refusal(&state.db, &staff.session, &object, "identity_document").await?;
        return Err(AppError::NoPermission);
    }
    send_file(&state, &base, &file).await
}

/// 核定收费, 减免 or 重新开具 on the case page: the fee's order.
pub async fn case_fee(
    State(state): State<AppState>,
    staff: Staff,
    Issuer(base): Issuer,
    Path(number): Path<String>,
    Csrf(Form(fields)): Csrf<Form<Vec<(String, String)>>>,
) -> Result<Response, AppError> {
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let p = state.payments(&base);
    let action = get("fee_action");
    let r = match action.as_str() {
        "waive" => payments::waive(&p, &staff.session, &number, &get("waive_reason")).await,
        "reissue" => payments::reissue(&p, &staff.session, &number).await,
        _ => {
            let case = cases::for_staff(&state.db, &staff.session, &number).await?;
            let fees = state
                .catalog()
                .get(&case.service_code)
                .map(|s| s.fees.clone())
                .unwrap_or_default();
            match posted_lines(&payments::fee_options(&fees), &fields) {
                Ok(lines) => payments::assess(&p, &staff.session, &number, lines).await,
                Err(errs) => Err(DomainError::Invalid(errs)),
            }
        }
    };
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/admin/cases/{number}?done=fee")).into_response()),
        Err(DomainError::Invalid(errs)) => {
            let errors = step_errors(&staff.ctx, "fee", &errs);
            case_page_with(&state, &staff, &number, errors, String::new(), None, fields).await
        }
        Err(DomainError::Conflict(code)) => {
            let notice = staff.ctx.t(&format!("cases.conflict_{}", code.code()));
            case_page(&state, &staff, &number, Vec::new(), notice, None).await
        }
        Err(e) => Err(e.into()),
    }
}
