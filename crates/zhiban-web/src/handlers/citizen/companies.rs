//! Companies (`/account/companies`): a legal representative registers the
//! company and authorises or revokes agents.

use crate::error::AppError;
use crate::extract::Csrf;
use crate::extract::{CitizenUser, SavedQuery};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{field_messages, render};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::identity::citizen::Citizen;
use zhiban_domain::identity::{citizen, company};
use zhiban_domain::{DomainError, FieldError};

#[derive(Template)]
#[template(path = "citizen/companies/companies.html")]
pub struct CompaniesPage {
    pub ctx: PageCtx,
    pub me: Citizen,
    /// Company, represented (true) or agent, its agents when represented.
    pub companies: Vec<(company::Membership, Vec<company::Agent>)>,
    pub errors: Vec<(String, String)>,
    pub saved: String,
    pub form_uscc: String,
    pub form_name: String,
    /// The company this session acts for.
    pub acting: Option<i64>,
}

impl CompaniesPage {
    fn is_acting(&self, id: &i64) -> bool {
        self.acting == Some(*id)
    }
}

async fn companies_page(
    state: &AppState,
    user: CitizenUser,
    saved: String,
    errors: &[FieldError],
    form: (String, String),
) -> Result<CompaniesPage, AppError> {
    let me = citizen::get(&state.db, user.citizen().id).await?;
    let acting = user.citizen().acting.as_ref().map(|c| c.id);
    let mut companies = Vec::new();
    for m in company::memberships(&state.db, me.id).await? {
        let agents = if m.legal_rep {
            company::agents(&state.db, &me, m.company.id).await?
        } else {
            Vec::new()
        };
        companies.push((m, agents));
    }
    Ok(CompaniesPage {
        errors: field_messages(&user.ctx, errors),
        ctx: user.ctx,
        me,
        companies,
        saved,
        form_uscc: form.0,
        form_name: form.1,
        acting,
    })
}

pub async fn companies(
    State(state): State<AppState>,
    user: CitizenUser,
    Query(q): Query<SavedQuery>,
) -> Result<Response, AppError> {
    render(&companies_page(&state, user, q.saved, &[], (String::new(), String::new())).await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct CompanyForm {
    #[serde(default)]
    pub uscc: String,
    #[serde(default)]
    pub company_name: String,
    #[serde(default)]
    pub company_id: i64,
    #[serde(default)]
    pub agent_phone: String,
    #[serde(default)]
    pub agent_id: i64,
}

async fn company_result(
    state: &AppState,
    user: CitizenUser,
    r: Result<(), DomainError>,
    form: (String, String),
) -> Result<Response, AppError> {
    match r {
        Ok(()) => Ok(Redirect::to("/account/companies?saved=1").into_response()),
        Err(DomainError::Invalid(errs)) => {
            let page = companies_page(state, user, String::new(), &errs, form).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn company_register(
    State(state): State<AppState>,
    user: CitizenUser,
    Csrf(Form(f)): Csrf<Form<CompanyForm>>,
) -> Result<Response, AppError> {
    let me = citizen::get(&state.db, user.citizen().id).await?;
    let r = company::register(
        &state.db,
        state.company_verifier.as_ref(),
        &me,
        &f.uscc,
        &f.company_name,
    )
    .await
    .map(|_| ());
    company_result(&state, user, r, (f.uscc, f.company_name)).await
}

pub async fn company_agent_add(
    State(state): State<AppState>,
    user: CitizenUser,
    Csrf(Form(f)): Csrf<Form<CompanyForm>>,
) -> Result<Response, AppError> {
    let r = company::add_agent(&state.db, user.citizen(), f.company_id, &f.agent_phone).await;
    company_result(&state, user, r, (String::new(), String::new())).await
}

pub async fn company_agent_revoke(
    State(state): State<AppState>,
    user: CitizenUser,
    Csrf(Form(f)): Csrf<Form<CompanyForm>>,
) -> Result<Response, AppError> {
    let r = company::revoke_agent(&state.db, user.citizen(), f.company_id, f.agent_id).await;
    company_result(&state, user, r, (String::new(), String::new())).await
}

#[derive(Debug, Default, Deserialize)]
pub struct ActForm {
    #[serde(default)]
    pub company_id: i64,
}

/// 以企业身份办事: the session acts for a company the person may act for
/// (its 我的办件, payments, ratings and licenses are the company's), or,
/// with `company_id` 0, for the person again.
pub async fn company_act(
    State(state): State<AppState>,
    user: CitizenUser,
    Csrf(Form(f)): Csrf<Form<ActForm>>,
) -> Result<Response, AppError> {
    let to = (f.company_id > 0).then_some(f.company_id);
    company::act_as(&state.db, &user.token, user.citizen(), to).await?;
    Ok(Redirect::to(if to.is_some() {
        "/my/cases"
    } else {
        "/account/companies"
    })
    .into_response())
}
