//! 每日对账: the gateway's statement of a day against the portal's own
//! books — payments received and refunds made that day. Whatever does not
//! match is listed for finance staff: money the gateway took for an order
//! the portal does not show paid, a payment the portal recorded that the
//! gateway does not know, and amounts that differ.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::gateway::{PaymentGateway, StatementKind, parse_statement};
use super::yuan;
use crate::audit::{self, Entry};
use crate::time::day_start;
use crate::{Db, DomainError};

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub id: i64,
    /// `missing_ours` (the gateway has it, the portal not), `missing_theirs`
    /// (the other way round) or `amount`.
    pub kind: String,
    pub trade_no: String,
    pub order_number: String,
    pub ours_cents: Option<i64>,
    pub theirs_cents: Option<i64>,
    pub resolved_by: String,
    pub resolved_note: String,
}

impl Mismatch {
    pub fn ours(&self) -> String {
        self.ours_cents.map(yuan).unwrap_or_else(|| "—".into())
    }
    pub fn theirs(&self) -> String {
        self.theirs_cents.map(yuan).unwrap_or_else(|| "—".into())
    }
}

/// One run.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub id: i64,
    pub day: String,
    pub ran_at: i64,
    pub ran_by: String,
    pub statement_rows: i64,
    pub matched: i64,
    pub mismatches: Vec<Mismatch>,
}

/// Key: (kind, trade or order number) → amount, for one side.
type Book = BTreeMap<(u8, String), (String, String, i64)>;

fn add(book: &mut Book, kind: u8, trade: &str, order: &str, cents: i64) {
    let e = book.entry((kind, format!("{trade}|{order}"))).or_insert((
        trade.to_string(),
        order.to_string(),
        0,
    ));
    e.2 += cents;
}

/// Reconciles `day` and records the run (by `who`: a person, or `system`
/// for the nightly job).
pub async fn run(
    db: &Db,
    gateway: &dyn PaymentGateway,
    day: NaiveDate,
    who: &str,
) -> Result<Run, DomainError> {
    let statement = gateway.statement(db, day).await?;
    run_statement(db, gateway.name(), day, &statement, who).await
}

/// Reconciles `day` against a statement file finance received from the
/// gateway `gateway` (a file that does not read is refused, nothing kept).
pub async fn run_statement(
    db: &Db,
    gateway: &str,
    day: NaiveDate,
    statement: &str,
    who: &str,
) -> Result<Run, DomainError> {
    let lines = parse_statement(statement).map_err(|_| {
        DomainError::Invalid(vec![crate::FieldError::new("statement", "invalid", "")])
    })?;
    let (from, to) = (day_start(day), day_start(day + chrono::Duration::days(1)));
    let mut theirs = Book::new();
    for l in &lines {
        let kind = u8::from(l.kind == StatementKind::Refund);
        add(
            &mut theirs,
            kind,
            &l.trade_no,
            &l.order_number,
            l.amount_cents,
        );
    }
    let mut ours = Book::new();
    let paid: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT COALESCE(trade_no, ''), number, amount_cents FROM payment_orders \
         WHERE gateway = $1 AND paid_at >= $2 AND paid_at < $3",
    )
    .bind(gateway)
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?;
    for (trade, order, cents) in paid {
        add(&mut ours, 0, &trade, &order, cents);
    }
    let refunded: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT COALESCE(o.trade_no, ''), o.number, f.amount_cents FROM payment_refunds f \
         JOIN payment_orders o ON o.id = f.order_id \
         WHERE o.gateway = $1 AND f.state = 'refunded' AND f.done_at >= $2 AND f.done_at < $3",
    )
    .bind(gateway)
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?;
    for (trade, order, cents) in refunded {
        add(&mut ours, 1, &trade, &order, -cents);
    }
    // (kind, trade, order, ours, theirs)
    type Found = (String, String, String, Option<i64>, Option<i64>);
    let mut found: Vec<Found> = Vec::new();
    let mut matched = 0i64;
    for (key, (trade, order, t)) in &theirs {
        match ours.get(key) {
            Some((_, _, o)) if o == t => matched += 1,
            Some((_, _, o)) => found.push((
                "amount".into(),
                trade.clone(),
                order.clone(),
                Some(*o),
                Some(*t),
            )),
            None => found.push((
                "missing_ours".into(),
                trade.clone(),
                order.clone(),
                None,
                Some(*t),
            )),
        }
    }
    for (key, (trade, order, o)) in &ours {
        if !theirs.contains_key(key) {
            found.push((
                "missing_theirs".into(),
                trade.clone(),
                order.clone(),
                Some(*o),
                None,
            ));
        }
    }
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO reconciliations (day, gateway, ran_at, ran_by, statement_rows, matched, mismatched) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(day.to_string())
    .bind(gateway)
    .bind(db.now().timestamp())
    .bind(who)
    .bind(i64::try_from(lines.len()).unwrap_or(i64::MAX))
    .bind(matched)
    .bind(i64::try_from(found.len()).unwrap_or(i64::MAX))
    .fetch_one(&mut *tx)
    .await?;
    for (kind, trade, order, o, t) in &found {
        sqlx::query(
            "INSERT INTO reconciliation_items (reconciliation_id, kind, trade_no, order_number, \
             ours_cents, theirs_cents) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(kind)
        .bind(trade)
        .bind(order)
        .bind(*o)
        .bind(*t)
        .execute(&mut *tx)
        .await?;
    }
    audit::append(
        &mut tx,
        &Entry::staff(who, "payment.reconcile", day.to_string())
            .detail(format!("matched {matched}, mismatched {}", found.len())),
    )
    .await?;
    tx.commit().await?;
    get(db, id).await?.ok_or(DomainError::NotFound)
}

/// A run with its mismatches.
pub async fn get(db: &Db, id: i64) -> Result<Option<Run>, DomainError> {
    let row: Option<(String, i64, String, i64, i64)> = sqlx::query_as(
        "SELECT day, ran_at, ran_by, statement_rows, matched FROM reconciliations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    let Some((day, ran_at, ran_by, statement_rows, matched)) = row else {
        return Ok(None);
    };
    type Item = (
        i64,
        String,
        String,
        String,
        Option<i64>,
        Option<i64>,
        String,
        String,
    );
    let items: Vec<Item> = sqlx::query_as(
        "SELECT id, kind, trade_no, order_number, ours_cents, theirs_cents, resolved_by, \
         resolved_note FROM reconciliation_items WHERE reconciliation_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    Ok(Some(Run {
        id,
        day,
        ran_at,
        ran_by,
        statement_rows,
        matched,
        mismatches: items
            .into_iter()
            .map(|i| Mismatch {
                id: i.0,
                kind: i.1,
                trade_no: i.2,
                order_number: i.3,
                ours_cents: i.4,
                theirs_cents: i.5,
                resolved_by: i.6,
                resolved_note: i.7,
            })
            .collect(),
    }))
}

/// The latest runs, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<Run>, DomainError> {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM reconciliations ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(db.pool())
            .await?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(r) = get(db, id).await? {
            out.push(r);
        }
    }
    Ok(out)
}

/// A finance officer records how a difference was settled.
pub async fn resolve(
    db: &Db,
    staff: &crate::identity::staff::StaffSession,
    item_id: i64,
    note: &str,
) -> Result<(), DomainError> {
    if !staff.can(crate::identity::Perm::PaymentsFinance) {
        return Err(DomainError::NotFound);
    }
    let note = note.trim().chars().take(500).collect::<String>();
    if note.is_empty() {
        return Err(DomainError::Invalid(vec![crate::FieldError::new(
            "resolved_note",
            "required",
            "",
        )]));
    }
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE reconciliation_items SET resolved_by = $1, resolved_note = $2 WHERE id = $3 AND resolved_by = ''",
    )
    .bind(&staff.user.display_name)
    .bind(&note)
    .bind(item_id)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() != 1 {
        return Err(DomainError::NotFound);
    }
    audit::append(
        &mut tx,
        &Entry::staff(
            &staff.user.username,
            "payment.reconcile_resolve",
            item_id.to_string(),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
