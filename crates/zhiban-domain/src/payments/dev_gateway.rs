//! 开发用支付网关（模拟）: a stand-in for a bank's gateway, for machines
//! where none can be reached. It behaves like one: it keeps its own books
//! (`dev_gateway_*` tables), sends the payer to a cashier page of its own,
//! and tells the portal the result by asynchronous callbacks signed with
//! its own key (SM2 under the 国密 suite) — sent more than once and, if
//! set, late, through the job queue, retried when the portal does not
//! answer. It refunds and publishes a statement file per day. Nothing it
//! does moves money.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::gateway::{Created, GatewayFuture, GatewayOrder, Notice, PaymentGateway};
use super::{PaymentSettings, yuan};
use crate::signing;
use crate::time::{day_start, local_time};
use crate::{Db, DomainError, Tx, jobs};

/// Who owns the gateway's signing key.
pub const KEY_OWNER: &str = "gateway:dev";
/// The header carrying a callback's signature (base64).
pub const SIGNATURE_HEADER: &str = "x-gateway-signature";

/// The development gateway.
#[derive(Debug, Clone, Default)]
pub struct DevGateway {
    pub settings: PaymentSettings,
}

/// A callback's body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CallbackBody {
    pub order_number: String,
    pub trade_no: String,
    pub amount_cents: i64,
    /// `SUCCESS` or `FAIL`.
    pub status: String,
    pub at: i64,
    /// Makes each copy's bytes differ, as real gateways' do.
    pub nonce: String,
    pub key_id: String,
}

/// The gateway's record of one payment, for its cashier page.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerEntry {
    pub trade_no: String,
    pub order_number: String,
    pub subject: String,
    pub amount_cents: i64,
    pub state: String,
    pub return_url: String,
}

impl LedgerEntry {
    pub fn amount(&self) -> String {
        yuan(self.amount_cents)
    }
}

fn trade_no_for(order_number: &str) -> String {
    let digest = zhiban_crypto::sm3_hex(format!("dev-gateway:{order_number}").as_bytes());
    format!("DEV{}", digest[..20].to_uppercase())
}

/// The entry a cashier page shows.
pub async fn entry(db: &Db, trade_no: &str) -> Result<LedgerEntry, DomainError> {
    let row: Option<(String, String, String, i64, String, String)> = sqlx::query_as(
        "SELECT trade_no, order_number, subject, amount_cents, state, return_url \
         FROM dev_gateway_ledger WHERE trade_no = $1",
    )
    .bind(trade_no)
    .fetch_optional(db.pool())
    .await?;
    let (trade_no, order_number, subject, amount_cents, state, return_url) =
        row.ok_or(DomainError::NotFound)?;
    Ok(LedgerEntry {
        trade_no,
        order_number,
        subject,
        amount_cents,
        state,
        return_url,
    })
}

/// Signs and queues the callbacks of a settled payment.
async fn queue_callbacks(
    tx: &mut Tx,
    key: &signing::SigningKey,
    settings: &PaymentSettings,
    e: &LedgerEntry,
    notify_url: &str,
    paid: bool,
) -> Result<(), DomainError> {
    let now = tx.now().timestamp();
    for _ in 0..settings.dev_callback_copies.max(1) {
        let body = CallbackBody {
            order_number: e.order_number.clone(),
            trade_no: e.trade_no.clone(),
            amount_cents: e.amount_cents,
            status: if paid { "SUCCESS" } else { "FAIL" }.into(),
            at: now,
            nonce: crate::identity::staff::random_token()[..16].to_string(),
            key_id: key.id.clone(),
        };
        let text = serde_json::to_string(&body).map_err(|_| DomainError::Internal("callback"))?;
        let signature = key.sign(text.as_bytes())?;
        let payload =
            serde_json::json!({ "url": notify_url, "body": text, "signature": signature });
        let run_at = now + settings.dev_callback_delay_secs.max(0);
        jobs::enqueue(tx, "dev_gateway_notify", &payload, run_at, None).await?;
    }
    Ok(())
}

impl DevGateway {
    /// The payer's choice on the cashier page: pay, or make it fail.
    /// Settling twice changes nothing; a payment that already succeeded
    /// cannot fail afterwards.
    pub async fn settle(
        &self,
        db: &Db,
        trade_no: &str,
        pay: bool,
    ) -> Result<LedgerEntry, DomainError> {
        let e = entry(db, trade_no).await?;
        if e.state != "created" && e.state != "failed" {
            return Ok(e);
        }
        let notify_url: String =
            sqlx::query_scalar("SELECT notify_url FROM dev_gateway_ledger WHERE trade_no = $1")
                .bind(trade_no)
                .fetch_one(db.pool())
                .await?;
        // The key first: making it on first use writes outside this transaction.
        let key = signing::key_for(db, KEY_OWNER).await?;
        let mut tx = db.begin().await?;
        let now = db.now().timestamp();
        let to = if pay { "paid" } else { "failed" };
        let changed = sqlx::query(
            "UPDATE dev_gateway_ledger SET state = $1, paid_at = $2 \
             WHERE trade_no = $3 AND state IN ('created', 'failed')",
        )
        .bind(to)
        .bind(pay.then_some(now))
        .bind(trade_no)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 1 {
            queue_callbacks(&mut tx, &key, &self.settings, &e, &notify_url, pay).await?;
        }
        tx.commit().await?;
        entry(db, trade_no).await
    }
}

/// Sends one queued callback (the `dev_gateway_notify` job): a POST of the
/// signed body; anything but `200 SUCCESS` is a failure, retried later.
pub async fn deliver(payload: &str) -> Result<(), String> {
    let v: serde_json::Value = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let url = v["url"].as_str().ok_or("no url")?;
    let body = v["body"].as_str().ok_or("no body")?.to_string();
    let signature = v["signature"].as_str().ok_or("no signature")?;
    let res = reqwest::Client::new()
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    if status.is_success() && text.trim() == "SUCCESS" {
        Ok(())
    } else {
        Err(format!("portal answered {status}: {}", text.trim()))
    }
}

impl PaymentGateway for DevGateway {
    fn name(&self) -> &'static str {
        "dev"
    }

    fn create<'a>(&'a self, db: &'a Db, order: &'a GatewayOrder) -> GatewayFuture<'a, Created> {
        Box::pin(async move {
            let trade_no = trade_no_for(&order.number);
            sqlx::query(
                "INSERT INTO dev_gateway_ledger (trade_no, order_number, subject, amount_cents, \
                 state, notify_url, return_url, created_at) \
                 VALUES ($1, $2, $3, $4, 'created', $5, $6, $7) ON CONFLICT (trade_no) DO NOTHING",
            )
            .bind(&trade_no)
            .bind(&order.number)
            .bind(&order.subject)
            .bind(order.amount_cents)
            .bind(&order.notify_url)
            .bind(&order.return_url)
            .bind(db.now().timestamp())
            .execute(db.pool())
            .await?;
            Ok(Created {
                pay_url: format!("/dev-gateway/pay/{trade_no}"),
                trade_no,
            })
        })
    }

    fn read_notice<'a>(
        &'a self,
        db: &'a Db,
        body: &'a [u8],
        signature: &'a str,
    ) -> GatewayFuture<'a, Notice> {
        Box::pin(async move {
            let cb: CallbackBody =
                serde_json::from_slice(body).map_err(|_| DomainError::Internal("callback body"))?;
            let key = signing::public_key(db, &cb.key_id)
                .await?
                .filter(|k| k.owner == KEY_OWNER)
                .ok_or(DomainError::Internal("callback key"))?;
            if !signing::verify(&key, body, signature) {
                return Err(DomainError::Internal("callback signature"));
            }
            Ok(Notice {
                order_number: cb.order_number,
                trade_no: cb.trade_no,
                amount_cents: cb.amount_cents,
                paid: cb.status == "SUCCESS",
                at: cb.at,
            })
        })
    }

    fn refund<'a>(
        &'a self,
        db: &'a Db,
        trade_no: &'a str,
        refund_no: &'a str,
        cents: i64,
    ) -> GatewayFuture<'a, ()> {
        Box::pin(async move {
            let mut tx = db.begin().await?;
            let done: Option<i64> =
                sqlx::query_scalar("SELECT id FROM dev_gateway_refunds WHERE refund_no = $1")
                    .bind(refund_no)
                    .fetch_optional(&mut *tx)
                    .await?;
            if done.is_some() {
                return Ok(());
            }
            let row: Option<(i64, i64, String)> = sqlx::query_as(
                "SELECT amount_cents, refunded_cents, state FROM dev_gateway_ledger WHERE trade_no = $1",
            )
            .bind(trade_no)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((amount, refunded, state)) = row else {
                return Err(DomainError::Delivery("unknown trade".into()));
            };
            if state != "paid" || refunded + cents > amount || cents <= 0 {
                return Err(DomainError::Delivery(
                    "refund refused by the gateway".into(),
                ));
            }
            let now = db.now().timestamp();
            sqlx::query(
                "UPDATE dev_gateway_ledger SET refunded_cents = refunded_cents + $1 WHERE trade_no = $2",
            )
            .bind(cents)
            .bind(trade_no)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO dev_gateway_refunds (refund_no, trade_no, amount_cents, at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(refund_no)
            .bind(trade_no)
            .bind(cents)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn statement<'a>(&'a self, db: &'a Db, day: NaiveDate) -> GatewayFuture<'a, String> {
        Box::pin(async move {
            let (from, to) = (day_start(day), day_start(day + chrono::Duration::days(1)));
            let paid: Vec<(String, String, i64, i64)> = sqlx::query_as(
                "SELECT trade_no, order_number, amount_cents, paid_at FROM dev_gateway_ledger \
                 WHERE state = 'paid' AND paid_at >= $1 AND paid_at < $2 ORDER BY paid_at, id",
            )
            .bind(from)
            .bind(to)
            .fetch_all(db.pool())
            .await?;
            let refunds: Vec<(String, String, i64, i64)> = sqlx::query_as(
                "SELECT r.trade_no, l.order_number, r.amount_cents, r.at FROM dev_gateway_refunds r \
                 JOIN dev_gateway_ledger l ON l.trade_no = r.trade_no \
                 WHERE r.at >= $1 AND r.at < $2 ORDER BY r.at, r.id",
            )
            .bind(from)
            .bind(to)
            .fetch_all(db.pool())
            .await?;
            let mut w = csv::Writer::from_writer(Vec::new());
            let err = |_| DomainError::Internal("statement");
            w.write_record(["交易日期", "支付流水号", "商户订单号", "交易类型", "金额"])
                .map_err(err)?;
            for (kind, rows) in [("支付", paid), ("退款", refunds)] {
                for (trade, order, cents, at) in rows {
                    w.write_record([local_time(at).as_str(), &trade, &order, kind, &yuan(cents)])
                        .map_err(err)?;
                }
            }
            let bytes = w
                .into_inner()
                .map_err(|_| DomainError::Internal("statement"))?;
            String::from_utf8(bytes).map_err(|_| DomainError::Internal("statement"))
        })
    }
}
