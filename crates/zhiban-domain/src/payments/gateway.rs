//! What the portal needs from a payment gateway (a bank's or a provincial
//! 统一公共支付平台's): create a payment for an order and give the page
//! the payer goes to; read a signed asynchronous callback; refund; and the
//! day's statement file. The development gateway ([`super::dev_gateway`])
//! implements it for a machine without a bank; a real adapter implements
//! the same trait.

use std::future::Future;
use std::pin::Pin;

use chrono::NaiveDate;

use crate::{Db, DomainError};

pub type GatewayFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DomainError>> + Send + 'a>>;

/// An order as the gateway is asked to collect it.
#[derive(Debug, Clone)]
pub struct GatewayOrder {
    pub number: String,
    pub amount_cents: i64,
    pub subject: String,
    /// Where the gateway posts its callbacks.
    pub notify_url: String,
    /// Where the payer comes back to.
    pub return_url: String,
}

/// The gateway's answer to a new payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub trade_no: String,
    /// Where to send the payer.
    pub pay_url: String,
}

/// A callback, its signature checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub order_number: String,
    pub trade_no: String,
    pub amount_cents: i64,
    /// Paid, or the payment failed.
    pub paid: bool,
    pub at: i64,
}

/// One line of the gateway's statement for a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    pub trade_no: String,
    pub order_number: String,
    /// Collected (positive) or refunded (negative) on the day.
    pub amount_cents: i64,
    pub kind: StatementKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    Payment,
    Refund,
}

pub trait PaymentGateway: Send + Sync {
    /// A short name stored with orders (`dev`, …).
    fn name(&self) -> &'static str;

    /// Starts (or, for an order it knows, returns again) the payment of
    /// `order`: asking twice never charges twice.
    fn create<'a>(&'a self, db: &'a Db, order: &'a GatewayOrder) -> GatewayFuture<'a, Created>;

    /// Checks a callback's signature and reads it; a bad signature is an
    /// error and changes nothing.
    fn read_notice<'a>(
        &'a self,
        db: &'a Db,
        body: &'a [u8],
        signature: &'a str,
    ) -> GatewayFuture<'a, Notice>;

    /// Refunds `cents` of a payment; `refund_no` makes a retry harmless.
    fn refund<'a>(
        &'a self,
        db: &'a Db,
        trade_no: &'a str,
        refund_no: &'a str,
        cents: i64,
    ) -> GatewayFuture<'a, ()>;

    /// The statement file (CSV) of `day` as the gateway publishes it.
    fn statement<'a>(&'a self, db: &'a Db, day: NaiveDate) -> GatewayFuture<'a, String>;
}

/// Reads a statement file: a header line, then
/// `交易日期,支付流水号,商户订单号,交易类型,金额` (类型 支付 or 退款, 金额 in yuan).
pub fn parse_statement(csv_text: &str) -> Result<Vec<StatementLine>, DomainError> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv_text.trim_start_matches('\u{feff}').as_bytes());
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|_| DomainError::Internal("statement"))?;
        let get = |i: usize| rec.get(i).unwrap_or("").trim().to_string();
        let kind = match get(3).as_str() {
            "退款" => StatementKind::Refund,
            _ => StatementKind::Payment,
        };
        let cents = super::parse_yuan(get(4).trim_start_matches('-'))
            .ok_or(DomainError::Internal("statement amount"))?;
        out.push(StatementLine {
            trade_no: get(1),
            order_number: get(2),
            amount_cents: if kind == StatementKind::Refund {
                -cents
            } else {
                cents
            },
            kind,
        });
    }
    Ok(out)
}
