//! Refunds (退款), full or partial: one finance officer asks with a reason,
//! another approves (or refuses), and only then is the gateway asked; a
//! refund never exceeds what was paid and not yet refunded.

use serde::Serialize;

use super::orders::{Payments, event, next_number, order};
use super::{Order, OrderState, yuan};
use crate::audit::{self, Entry};
use crate::identity::Perm;
use crate::identity::staff::StaffSession;
use crate::time::local_date;
use crate::{Conflict, Db, DomainError, FieldError};

/// One refund.
#[derive(Debug, Clone, Serialize)]
pub struct Refund {
    pub id: i64,
    pub number: String,
    pub order_number: String,
    pub amount_cents: i64,
    pub reason: String,
    /// `requested`, `refunded`, `refused` or `failed`.
    pub state: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub decided_by: String,
    pub decided_at: Option<i64>,
    pub decision_note: String,
}

impl Refund {
    pub fn amount(&self) -> String {
        yuan(self.amount_cents)
    }
}

fn finance(staff: &StaffSession) -> Result<(), DomainError> {
    if staff.can(Perm::PaymentsFinance) {
        Ok(())
    } else {
        Err(DomainError::NotFound)
    }
}

/// A finance officer may see orders of the units in their scope.
pub fn finance_sees(staff: &StaffSession, o: &Order) -> bool {
    staff.can(Perm::PaymentsFinance) && staff.scope.covers(o.unit_id)
}

/// An order as a finance officer reads it (out of scope: refused and audited).
pub async fn order_for_finance(
    db: &Db,
    staff: &StaffSession,
    number: &str,
) -> Result<Order, DomainError> {
    finance(staff)?;
    let o = order(db, number).await?;
    if !staff.scope.covers(o.unit_id) {
        return Err(crate::identity::scope::out_of_scope(
            db,
            staff,
            &format!("order:{}", o.number),
        )
        .await);
    }
    Ok(o)
}

/// Refunds of one order, or every refund waiting for a decision (`None`).
pub async fn refunds(db: &Db, order_id: Option<i64>) -> Result<Vec<Refund>, DomainError> {
    let sql = "SELECT f.id, f.number, o.number, f.amount_cents, f.reason, f.state, \
         f.requested_by, f.requested_at, f.decided_by, f.decided_at, f.decision_note \
         FROM payment_refunds f JOIN payment_orders o ON o.id = f.order_id";
    let q = match order_id {
        Some(id) => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{sql} WHERE f.order_id = $1 ORDER BY f.id"
        )))
        .bind(id),
        None => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{sql} WHERE f.state = 'requested' ORDER BY f.id"
        ))),
    };
    type Row = (
        i64,
        String,
        String,
        i64,
        String,
        String,
        String,
        i64,
        String,
        Option<i64>,
        String,
    );
    let rows: Vec<Row> = q.fetch_all(db.pool()).await?;
    Ok(rows
        .into_iter()
        .map(|r| Refund {
            id: r.0,
            number: r.1,
            order_number: r.2,
            amount_cents: r.3,
            reason: r.4,
            state: r.5,
            requested_by: r.6,
            requested_at: r.7,
            decided_by: r.8,
            decided_at: r.9,
            decision_note: r.10,
        })
        .collect())
}

/// Asks for a refund of `cents` of a paid order, with a reason.
pub async fn request_refund(
    db: &Db,
    staff: &StaffSession,
    order_number: &str,
    cents: Option<i64>,
    reason: &str,
) -> Result<Refund, DomainError> {
    let o = order_for_finance(db, staff, order_number).await?;
    let waiting: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) FROM payment_refunds \
         WHERE order_id = $1 AND state = 'requested'",
    )
    .bind(o.id)
    .fetch_one(db.pool())
    .await?;
    let room = o.refundable_cents() - waiting;
    let mut errs = Vec::new();
    let reason = reason.trim().chars().take(500).collect::<String>();
    if reason.is_empty() {
        errs.push(FieldError::new("refund_reason", "required", ""));
    }
    match cents {
        None => errs.push(FieldError::new("refund_amount", "required", "")),
        Some(c) if c <= 0 || c > room => errs.push(FieldError::new(
            "refund_amount",
            "too_much",
            yuan(room.max(0)),
        )),
        Some(_) => {}
    }
    if o.paid_at.is_none() {
        return Err(Conflict::NotAllowed.into());
    }
    if !errs.is_empty() {
        return Err(DomainError::Invalid(errs));
    }
    let cents = cents.unwrap_or(0);
    let mut tx = db.begin().await?;
    let number = next_number(&mut tx, "TK", local_date(db.now())).await?;
    sqlx::query(
        "INSERT INTO payment_refunds (number, order_id, amount_cents, reason, state, requested_by, \
         requested_at) VALUES ($1, $2, $3, $4, 'requested', $5, $6)",
    )
    .bind(&number)
    .bind(o.id)
    .bind(cents)
    .bind(&reason)
    .bind(&staff.user.username)
    .bind(db.now().timestamp())
    .execute(&mut *tx)
    .await?;
    event(
        &mut tx,
        o.id,
        "refund_requested",
        &staff.user.display_name,
        &format!("{number} {} {reason}", yuan(cents)),
    )
    .await?;
    audit::append(
        &mut tx,
        &Entry::staff(&staff.user.username, "payment.refund_request", &o.number)
            .detail(number.clone()),
    )
    .await?;
    tx.commit().await?;
    refunds(db, Some(o.id))
        .await?
        .into_iter()
        .find(|r| r.number == number)
        .ok_or(DomainError::NotFound)
}

/// Another finance officer approves (then the gateway refunds) or refuses
/// a requested refund. The one who asked cannot decide.
pub async fn decide_refund(
    p: &Payments<'_>,
    staff: &StaffSession,
    refund_number: &str,
    approve: bool,
    note: &str,
) -> Result<Refund, DomainError> {
    let db = p.db;
    finance(staff)?;
    let r = refunds(db, None)
        .await?
        .into_iter()
        .find(|r| r.number == refund_number.trim())
        .ok_or(DomainError::NotFound)?;
    let o = order_for_finance(db, staff, &r.order_number).await?;
    if r.requested_by == staff.user.username {
        return Err(Conflict::SameReviewer.into());
    }
    let note = note.trim().chars().take(500).collect::<String>();
    if !approve && note.is_empty() {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "decision_note",
            "required",
            "",
        )]));
    }
    if approve && r.amount_cents > o.refundable_cents() {
        return Err(Conflict::NotAllowed.into());
    }
    // Claim the decision first, so two approvals cannot both send it.
    let now = db.now().timestamp();
    let claimed = sqlx::query(
        "UPDATE payment_refunds SET state = $1, decided_by = $2, decided_at = $3, decision_note = $4 \
         WHERE id = $5 AND state = 'requested'",
    )
    .bind(if approve { "approved" } else { "refused" })
    .bind(&staff.user.username)
    .bind(now)
    .bind(&note)
    .bind(r.id)
    .execute(db.pool())
    .await?;
    if claimed.rows_affected() != 1 {
        return Err(Conflict::Stale.into());
    }
    // The gateway is asked outside our transaction (it may be slow, and
    // the refund number makes a retry harmless).
    let sent = if approve {
        let trade = o.trade_no.clone().unwrap_or_default();
        Some(
            p.gateway
                .refund(db, &trade, &r.number, r.amount_cents)
                .await,
        )
    } else {
        None
    };
    let mut tx = db.begin().await?;
    if let Some(sent) = sent {
        match sent {
            Ok(()) => {
                let full = o.refunded_cents + r.amount_cents >= o.amount_cents;
                sqlx::query(
                    "UPDATE payment_orders SET refunded_cents = refunded_cents + $1, state = $2, \
                     revision = revision + 1 WHERE id = $3",
                )
                .bind(r.amount_cents)
                .bind(if full {
                    OrderState::Refunded.slug()
                } else {
                    o.state.slug()
                })
                .bind(o.id)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE payment_refunds SET state = 'refunded', done_at = $1 WHERE id = $2",
                )
                .bind(now)
                .bind(r.id)
                .execute(&mut *tx)
                .await?;
                event(
                    &mut tx,
                    o.id,
                    "refunded",
                    &staff.user.display_name,
                    &r.number,
                )
                .await?;
            }
            Err(e) => {
                sqlx::query(
                    "UPDATE payment_refunds SET state = 'failed', decision_note = $1 WHERE id = $2",
                )
                .bind(e.to_string())
                .bind(r.id)
                .execute(&mut *tx)
                .await?;
                event(&mut tx, o.id, "refund_failed", "gateway", &r.number).await?;
            }
        }
    } else {
        event(
            &mut tx,
            o.id,
            "refund_refused",
            &staff.user.display_name,
            &note,
        )
        .await?;
    }
    audit::append(
        &mut tx,
        &Entry::staff(&staff.user.username, "payment.refund_decide", &r.number)
            .detail(if approve { "approve" } else { "refuse" }),
    )
    .await?;
    tx.commit().await?;
    refunds(db, Some(o.id))
        .await?
        .into_iter()
        .find(|x| x.id == r.id)
        .ok_or(DomainError::NotFound)
}
