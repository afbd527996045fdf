//! 收费财务 (`/admin/payments…`, finance officers): the orders of one's
//! units, refunds asked by one officer and decided by another, and the
//! daily reconciliation with the gateway's statement and its differences.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::DomainError;
use zhiban_domain::payments::reconcile::{self, Run};
use zhiban_domain::payments::{self, Order, OrderEvent, OrderState, Refund};
use zhiban_domain::time::local_date;

use crate::error::AppError;
use crate::extract::{Csrf, Issuer, MultipartForm, Posted, Staff};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{field_messages, render};

#[derive(Template)]
#[template(path = "staff/payments/desk.html")]
pub struct DeskPage {
    pub ctx: PageCtx,
    pub state: String,
    pub orders: Vec<Order>,
    pub waiting: Vec<Refund>,
    pub runs: Vec<Run>,
    pub yesterday: String,
    pub errors: Vec<(String, String)>,
    pub notice: String,
}

impl DeskPage {
    fn states(&self) -> &'static [OrderState] {
        OrderState::ALL
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DeskQuery {
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub done: String,
}

async fn desk_page(
    state: &AppState,
    staff: Staff,
    filter: &str,
    errors: Vec<(String, String)>,
    notice: String,
) -> Result<Response, AppError> {
    let today = local_date(state.db.now());
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = DeskPage {
        orders: payments::for_finance(
            &state.db,
            &staff.session,
            OrderState::from_slug(filter),
            200,
        )
        .await?,
        waiting: payments::refunds(&state.db, None).await?,
        runs: reconcile::recent(&state.db, 10).await?,
        yesterday: (today - chrono::Duration::days(1)).to_string(),
        state: filter.to_string(),
        errors,
        notice,
        ctx: staff.ctx,
    };
    Ok((status, render(&page)?).into_response())
}

pub async fn desk(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<DeskQuery>,
) -> Result<Response, AppError> {
    let notice = match q.done.as_str() {
        "reconciled" | "resolved" => staff.ctx.t(&format!("pay.done_{}", q.done)),
        _ => String::new(),
    };
    desk_page(&state, staff, &q.state, Vec::new(), notice).await
}

/// Reconciles a day now: against the statement file finance uploads, or
/// the one the gateway publishes (the nightly job does yesterday's).
pub async fn run_reconcile(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(form): Csrf<MultipartForm>,
) -> Result<Response, AppError> {
    let posted = Posted::from(form);
    let day_text = posted.answers.get("day").cloned().unwrap_or_default();
    let Ok(day) = chrono::NaiveDate::parse_from_str(day_text.trim(), "%Y-%m-%d") else {
        let errs = vec![zhiban_domain::FieldError::new("day", "invalid", day_text)];
        let errors = field_messages(&staff.ctx, &errs);
        return desk_page(&state, staff, "", errors, String::new()).await;
    };
    let who = staff.session.user.username.clone();
    let r = match posted.uploads.into_iter().next() {
        Some((_, _, body)) => {
            let text = String::from_utf8_lossy(&body).into_owned();
            reconcile::run_statement(&state.db, state.gateway.name(), day, &text, &who).await
        }
        None => reconcile::run(&state.db, state.gateway.as_ref(), day, &who).await,
    };
    match r {
        Ok(_) => Ok(Redirect::to("/admin/payments?done=reconciled").into_response()),
        Err(DomainError::Invalid(errs)) => {
            let errors = field_messages(&staff.ctx, &errs);
            desk_page(&state, staff, "", errors, String::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DayQuery {
    #[serde(default)]
    pub day: String,
}

/// The gateway's statement file of a day, as it publishes it.
pub async fn statement(
    State(state): State<AppState>,
    _staff: Staff,
    Query(q): Query<DayQuery>,
) -> Result<Response, AppError> {
    let day = chrono::NaiveDate::parse_from_str(q.day.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::NotFound)?;
    let text = state.gateway.statement(&state.db, day).await?;
    Ok(crate::view::send_csv(
        &format!("对账单-{}-{day}.csv", state.gateway.name()),
        text.into_bytes(),
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    pub note: String,
}

pub async fn resolve(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(form)): Csrf<Form<ResolveForm>>,
) -> Result<Response, AppError> {
    match reconcile::resolve(&state.db, &staff.session, id, &form.note).await {
        Ok(()) => Ok(Redirect::to("/admin/payments?done=resolved").into_response()),
        Err(DomainError::Invalid(errs)) => {
            let errors = field_messages(&staff.ctx, &errs);
            desk_page(&state, staff, "", errors, String::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff/payments/order.html")]
pub struct OrderPage {
    pub ctx: PageCtx,
    pub o: Order,
    pub events: Vec<OrderEvent>,
    pub refunds: Vec<Refund>,
    pub errors: Vec<(String, String)>,
    pub notice: String,
    /// What was typed into the refund form, kept when refused.
    pub amount: String,
    pub reason: String,
    /// This officer's username: they do not decide their own requests.
    pub me: String,
}

impl OrderPage {
    fn refundable(&self) -> String {
        payments::yuan(self.o.refundable_cents())
    }
    /// Someone else asked: this person may decide.
    fn may_decide(&self, r: &Refund) -> bool {
        r.state == "requested" && r.requested_by != self.me
    }
}

async fn order_page(
    state: &AppState,
    staff: Staff,
    number: &str,
    errors: Vec<(String, String)>,
    notice: String,
    kept: (String, String),
) -> Result<Response, AppError> {
    let o = payments::order_for_finance(&state.db, &staff.session, number).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = OrderPage {
        me: staff.session.user.username.clone(),
        events: payments::events(&state.db, o.id).await?,
        refunds: payments::refunds(&state.db, Some(o.id)).await?,
        o,
        errors,
        notice,
        amount: kept.0,
        reason: kept.1,
        ctx: staff.ctx,
    };
    Ok((status, render(&page)?).into_response())
}

pub async fn order(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
    Query(q): Query<DeskQuery>,
) -> Result<Response, AppError> {
    let notice = match q.done.as_str() {
        "requested" | "decided" => staff.ctx.t(&format!("pay.done_{}", q.done)),
        _ => String::new(),
    };
    order_page(
        &state,
        staff,
        &number,
        Vec::new(),
        notice,
        Default::default(),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct RefundForm {
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub reason: String,
}

/// After a refund step: back to the order with a confirmation, or with
/// the refusal beside the form and what was typed kept.
async fn after_refund_step(
    state: &AppState,
    staff: Staff,
    number: &str,
    r: Result<Refund, DomainError>,
    done: &str,
    kept: (String, String),
) -> Result<Response, AppError> {
    let (errors, notice) = match r {
        Ok(_) => {
            return Ok(
                Redirect::to(&format!("/admin/payments/{number}?done={done}")).into_response(),
            );
        }
        Err(DomainError::Invalid(errs)) => (field_messages(&staff.ctx, &errs), String::new()),
        Err(DomainError::Conflict(c)) => (Vec::new(), staff.ctx.conflict(c)),
        Err(e) => return Err(e.into()),
    };
    order_page(state, staff, number, errors, notice, kept).await
}

pub async fn request_refund(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
    Csrf(Form(form)): Csrf<Form<RefundForm>>,
) -> Result<Response, AppError> {
    let cents = payments::parse_yuan(&form.amount);
    let r = payments::request_refund(&state.db, &staff.session, &number, cents, &form.reason).await;
    let kept = (form.amount, form.reason);
    after_refund_step(&state, staff, &number, r, "requested", kept).await
}

#[derive(Debug, Default, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub note: String,
}

pub async fn decide_refund(
    State(state): State<AppState>,
    staff: Staff,
    Issuer(base): Issuer,
    Path((number, refund)): Path<(String, String)>,
    Csrf(Form(form)): Csrf<Form<DecideForm>>,
) -> Result<Response, AppError> {
    let approve = form.decision == "approve";
    let p = state.payments(&base);
    let r = payments::decide_refund(&p, &staff.session, &refund, approve, &form.note).await;
    after_refund_step(&state, staff, &number, r, "decided", Default::default()).await
}
