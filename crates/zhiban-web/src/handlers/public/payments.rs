//! Payments outside an account: looking up a traffic fine (`/fines`), the
//! gateway's asynchronous callback
//! (`POST /pay/notify`, authenticated by the gateway's signature, not by a
//! cookie), checking a printed 电子票据 (`/receipts/verify`), and the
//! development gateway's cashier page (`/dev-gateway/pay/{trade}`): a
//! stand-in for a bank's, named as such on the page.

use askama::Template;
use axum::Form;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use zhiban_domain::DomainError;
use zhiban_domain::payments::dev_gateway::{self, DevGateway, LedgerEntry};
use zhiban_domain::payments::fines::{self, Notice};
use zhiban_domain::payments::{self, ReceiptBody};

use crate::error::AppError;
use crate::extract::{CitizenUser, Csrf, Issuer, form_token};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{field_messages, render, shown_once};

/// The gateway's callback: `SUCCESS` once it is recorded (or was before),
/// `FAIL` with 400 otherwise, so the gateway calls again.
pub async fn notify(
    State(state): State<AppState>,
    Issuer(base): Issuer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let signature = headers
        .get(dev_gateway::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match payments::on_callback(&state.payments(&base), &body, signature).await {
        Ok(outcome) => {
            tracing::info!(?outcome, "payment callback");
            (StatusCode::OK, "SUCCESS").into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "payment callback refused");
            (StatusCode::BAD_REQUEST, "FAIL").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "public/payments/verify.html")]
pub struct VerifyPage {
    pub ctx: PageCtx,
    pub number: String,
    pub code: String,
    pub asked: bool,
    pub found: Option<ReceiptBody>,
}

#[derive(Debug, Default, Deserialize)]
pub struct VerifyQuery {
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub code: String,
}

/// 票据查验: a receipt's number and check code; genuine only if its
/// signature verifies.
pub async fn verify(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<VerifyQuery>,
) -> Result<Response, AppError> {
    let asked = !q.number.trim().is_empty();
    let found = if asked {
        payments::verify_receipt(&state.db, &q.number, &q.code).await?
    } else {
        None
    };
    shown_once(render(&VerifyPage {
        ctx,
        number: q.number,
        code: q.code,
        asked,
        found,
    }))
}

#[derive(Template)]
#[template(path = "public/payments/cashier.html")]
pub struct CashierPage {
    pub ctx: PageCtx,
    pub e: LedgerEntry,
}

fn dev(state: &AppState) -> DevGateway {
    DevGateway {
        settings: state.config.payments.clone(),
    }
}

pub async fn cashier(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    jar: CookieJar,
    Path(trade): Path<String>,
) -> Result<Response, AppError> {
    let jar = form_token(&state, &mut ctx, jar);
    let e = dev_gateway::entry(&state.db, &trade).await?;
    let page = shown_once(render(&CashierPage { ctx, e }))?;
    Ok((jar, page).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct CashierForm {
    #[serde(default)]
    pub outcome: String,
}

/// The payer pays (or makes the payment fail, to try that path); the
/// gateway sends them back to the portal and calls back on its own.
pub async fn cashier_post(
    State(state): State<AppState>,
    Path(trade): Path<String>,
    Csrf(Form(form)): Csrf<Form<CashierForm>>,
) -> Result<Response, AppError> {
    let e = dev(&state)
        .settle(&state.db, &trade, form.outcome == "pay")
        .await?;
    Ok(Redirect::to(&e.return_url).into_response())
}

#[derive(Template)]
#[template(path = "public/payments/fines.html")]
pub struct FinesPage {
    pub ctx: PageCtx,
    pub decision_no: String,
    pub plate: String,
    pub searched: bool,
    pub found: Option<Notice>,
    pub today: chrono::NaiveDate,
    pub errors: Vec<(String, String)>,
    /// A citizen is signed in: the pay button posts; else a sign-in link.
    pub signed_in: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct FineForm {
    #[serde(default)]
    pub decision_no: String,
    #[serde(default)]
    pub plate: String,
}

pub async fn fines_form(
    State(state): State<AppState>,
    user: Option<CitizenUser>,
    ctx: PageCtx,
) -> Result<Response, AppError> {
    let signed_in = user.is_some();
    let ctx = user.map_or(ctx, |u| u.ctx);
    shown_once(render(&FinesPage {
        ctx,
        decision_no: String::new(),
        plate: String::new(),
        searched: false,
        found: None,
        today: zhiban_domain::time::local_date(state.db.now()),
        errors: Vec::new(),
        signed_in,
    }))
}

/// 交通违法缴款: the notice with this decision number and plate (a lookup
/// that changes nothing; posted so the plate stays out of addresses).
pub async fn fines(
    State(state): State<AppState>,
    user: Option<CitizenUser>,
    ctx: PageCtx,
    Form(f): Form<FineForm>,
) -> Result<Response, AppError> {
    let signed_in = user.is_some();
    let ctx = user.map_or(ctx, |u| u.ctx);
    let (found, errors) = match fines::lookup(&state.db, &f.decision_no, &f.plate).await {
        Ok(n) => (Some(n), Vec::new()),
        Err(DomainError::NotFound) => (None, Vec::new()),
        Err(DomainError::Invalid(errs)) => (None, field_messages(&ctx, &errs)),
        Err(e) => return Err(e.into()),
    };
    shown_once(render(&FinesPage {
        ctx,
        searched: errors.is_empty(),
        decision_no: f.decision_no,
        plate: f.plate,
        found,
        today: zhiban_domain::time::local_date(state.db.now()),
        errors,
        signed_in,
    }))
}
