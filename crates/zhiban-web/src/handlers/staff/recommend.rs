//! 服务找人 rules (`/admin/recommend`): city-level catalog editors decide,
//! as data, which services are suggested to whom and why — a license
//! about to expire, an age, acting for a company, a past case.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::DomainError;
use zhiban_domain::recommend::{self, Rule, RuleInput, RuleRow};

use crate::error::AppError;
use crate::extract::{Csrf, Staff};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{field_messages, render};

#[derive(Template)]
#[template(path = "staff/recommend/rules.html")]
pub struct RulesPage {
    pub ctx: PageCtx,
    pub rules: Vec<RuleRow>,
    /// The form: a rule being edited, or what was typed.
    pub form: FormView,
    pub errors: Vec<(String, String)>,
    pub saved: bool,
}

/// The rule form's values.
#[derive(Debug, Clone, Default)]
pub struct FormView {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub license_type: String,
    pub days: String,
    pub min: String,
    pub max: String,
    pub sex: String,
    pub from_month: String,
    pub to_month: String,
    pub case_service: String,
    pub service_code: String,
    pub reason: String,
    pub active: bool,
}

impl FormView {
    fn of(r: &RuleRow) -> Self {
        let mut f = FormView {
            code: r.code.clone(),
            name: r.name.clone(),
            kind: r.rule.kind().to_string(),
            service_code: r.service_code.clone(),
            reason: r.reason.clone(),
            active: r.active,
            ..FormView::default()
        };
        match &r.rule {
            Rule::LicenseExpiring { license_type, days } => {
                f.license_type = license_type.clone();
                f.days = days.to_string();
            }
            Rule::Age { min, max, sex } => {
                f.min = min.to_string();
                f.max = max.to_string();
                f.sex = sex.clone();
            }
            Rule::CompanyAgent {
                from_month,
                to_month,
            } => {
                f.from_month = from_month.to_string();
                f.to_month = to_month.to_string();
            }
            Rule::CaseYears {
                service,
                min_years,
                max_years,
            } => {
                f.case_service = service.clone();
                f.min = min_years.to_string();
                f.max = max_years.to_string();
            }
        }
        f
    }

    fn typed(i: &RuleInput) -> Self {
        FormView {
            code: i.code.clone(),
            name: i.name.clone(),
            kind: i.kind.clone(),
            license_type: i.license_type.clone(),
            days: i.days.clone(),
            min: i.min.clone(),
            max: i.max.clone(),
            sex: i.sex.clone(),
            from_month: i.from_month.clone(),
            to_month: i.to_month.clone(),
            case_service: i.case_service.clone(),
            service_code: i.service_code.clone(),
            reason: i.reason.clone(),
            active: i.active == "1",
        }
    }
}

impl RulesPage {
    fn kinds(&self) -> [&'static str; 4] {
        ["license_expiring", "age", "company_agent", "case_years"]
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RulesQuery {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub saved: String,
}

pub async fn rules(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<RulesQuery>,
) -> Result<Response, AppError> {
    let rules = recommend::rules(&state.db).await?;
    let form = rules
        .iter()
        .find(|r| r.code == q.code)
        .map(FormView::of)
        .unwrap_or(FormView {
            active: true,
            kind: "license_expiring".into(),
            ..FormView::default()
        });
    render(&RulesPage {
        ctx: staff.ctx,
        rules,
        form,
        errors: Vec::new(),
        saved: q.saved == "1",
    })
}

pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(input)): Csrf<Form<RuleInput>>,
) -> Result<Response, AppError> {
    match recommend::save(&state.db, &staff.session, &input).await {
        Ok(()) => Ok(Redirect::to("/admin/recommend?saved=1").into_response()),
        Err(DomainError::Invalid(errs)) => {
            let page = RulesPage {
                errors: field_messages(&staff.ctx, &errs),
                rules: recommend::rules(&state.db).await?,
                form: FormView::typed(&input),
                ctx: staff.ctx,
                saved: false,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
