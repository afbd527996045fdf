//! 我的缴费 (`/my/payments…`): the fees of one's cases — paying through
//! the payment gateway (a second click reuses the same payment), the
//! result once the gateway has called back, and the signed 电子票据 to
//! print or download.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use zhiban_domain::DomainError;
use zhiban_domain::payments::{self, Order, Receipt};

use crate::error::AppError;
use crate::extract::{CitizenUser, Csrf, Issuer, NoFields};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{no_store, render};

#[derive(Template)]
#[template(path = "citizen/payments/list.html")]
pub struct PaymentsPage {
    pub ctx: PageCtx,
    pub orders: Vec<Order>,
    pub now: i64,
}

pub async fn list(State(state): State<AppState>, user: CitizenUser) -> Result<Response, AppError> {
    render(&PaymentsPage {
        orders: match &user.citizen().acting {
            Some(company) => payments::of_company(&state.db, company.id).await?,
            None => payments::of_citizen(&state.db, user.citizen().id).await?,
        },
        now: state.db.now().timestamp(),
        ctx: user.ctx,
    })
}

#[derive(Template)]
#[template(path = "citizen/payments/order.html")]
pub struct OrderPage {
    pub ctx: PageCtx,
    pub o: Order,
    pub now: i64,
    /// Sent to the gateway, no result yet: the page looks again shortly.
    pub waiting: bool,
    pub notice: String,
}

async fn order_page(
    state: &AppState,
    user: &CitizenUser,
    number: &str,
    notice: String,
) -> Result<Response, AppError> {
    let o = payments::own(&state.db, user.citizen(), number).await?;
    let now = state.db.now().timestamp();
    render(&OrderPage {
        waiting: o.trade_no.is_some() && o.payable(now),
        ctx: user.ctx.clone(),
        now,
        notice,
        o,
    })
    .map(no_store)
}

pub async fn order(
    State(state): State<AppState>,
    user: CitizenUser,
    Path(number): Path<String>,
) -> Result<Response, AppError> {
    order_page(&state, &user, &number, String::new()).await
}

/// 去缴费: on to the gateway's page.
pub async fn pay(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Path(number): Path<String>,
    Csrf(_): Csrf<axum::Form<NoFields>>,
) -> Result<Response, AppError> {
    match payments::start(&state.payments(&base), user.citizen(), &number).await {
        Ok(o) => Ok(Redirect::to(&o.pay_url).into_response()),
        Err(DomainError::Invalid(_)) => {
            let notice = user.ctx.t("pay.expired");
            order_page(&state, &user, &number, notice).await
        }
        Err(DomainError::Conflict(c)) => {
            let notice = user.ctx.conflict(c);
            order_page(&state, &user, &number, notice).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "citizen/payments/receipt.html")]
pub struct ReceiptPage {
    pub ctx: PageCtx,
    pub r: Receipt,
    pub verify_url: String,
    pub qr: String,
}

/// The 电子票据, printable, with a QR code to check it.
pub async fn receipt(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Path(number): Path<String>,
) -> Result<Response, AppError> {
    let o = payments::own(&state.db, user.citizen(), &number).await?;
    let r = payments::receipt(&state.db, o.id).await?;
    let verify_url = format!(
        "{}/receipts/verify?number={}&code={}",
        base.trim_end_matches('/'),
        r.body.number,
        r.check_code
    );
    render(&ReceiptPage {
        qr: crate::view::qr_data_url(&verify_url)?,
        verify_url,
        r,
        ctx: user.ctx,
    })
    .map(no_store)
}

/// The 电子票据 as a signed JSON document (its body, the signature, the key).
pub async fn receipt_json(
    State(state): State<AppState>,
    user: CitizenUser,
    Path(number): Path<String>,
) -> Result<Response, AppError> {
    let o = payments::own(&state.db, user.citizen(), &number).await?;
    let r = payments::receipt(&state.db, o.id).await?;
    let body = serde_json::to_vec_pretty(&r)
        .map_err(|e| AppError::Internal(format!("receipt export: {e}")))?;
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"{}.json\"", r.body.number))
    {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(no_store(res))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct FineForm {
    #[serde(default)]
    pub decision_no: String,
    #[serde(default)]
    pub plate: String,
}

/// 缴纳罚款: an order for what the notice owes today, then on to the gateway.
pub async fn pay_fine(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Csrf(axum::Form(f)): Csrf<axum::Form<FineForm>>,
) -> Result<Response, AppError> {
    let p = state.payments(&base);
    let o = payments::fines::order_for(&p, user.citizen(), &f.decision_no, &f.plate).await?;
    match payments::start(&p, user.citizen(), &o.number).await {
        Ok(o) => Ok(Redirect::to(&o.pay_url).into_response()),
        Err(DomainError::Conflict(_) | DomainError::Invalid(_)) => {
            Ok(Redirect::to(&format!("/my/payments/{}", o.number)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
