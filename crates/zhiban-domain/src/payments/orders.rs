//! Payment orders: staff assess a case's fee (核定) or waive it (减免); the
//! applicant starts the payment (again and again, one gateway order);
//! the gateway's callbacks mark it paid exactly once and issue the 电子票据;
//! unpaid orders expire.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use super::gateway::{GatewayOrder, PaymentGateway};
use super::{FeeLine, OrderState, PaymentSettings, yuan};
use crate::audit::{self, Entry};
use crate::cases::{self, Case, CaseState};
use crate::identity::citizen::Citizen;
use crate::identity::staff::StaffSession;
use crate::time::local_date;
use crate::{Conflict, Db, DomainError, FieldError, Tx, notify, signing};

/// What payments need besides the database.
pub struct Payments<'a> {
    pub db: &'a Db,
    pub gateway: &'a dyn PaymentGateway,
    pub settings: &'a PaymentSettings,
    /// The portal's public address, for the gateway's callback and return.
    pub public_url: &'a str,
}

/// A payment order.
#[derive(Debug, Clone, Serialize)]
pub struct Order {
    pub id: i64,
    pub number: String,
    pub case_id: Option<i64>,
    pub case_number: Option<String>,
    pub citizen_id: Option<i64>,
    pub unit_id: i64,
    pub unit_name: String,
    pub subject: String,
    pub lines: Vec<FeeLine>,
    pub amount_cents: i64,
    pub state: OrderState,
    /// Why it was waived.
    pub note: String,
    pub gateway: String,
    pub trade_no: Option<String>,
    pub pay_url: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub paid_at: Option<i64>,
    pub refunded_cents: i64,
    pub revision: i64,
    /// The 电子票据's number once paid.
    pub receipt: Option<String>,
    /// The company the order's case was filed for.
    pub company_id: Option<i64>,
}

impl Order {
    pub fn amount(&self) -> String {
        yuan(self.amount_cents)
    }
    pub fn refunded(&self) -> String {
        yuan(self.refunded_cents)
    }
    /// What may still be refunded.
    pub fn refundable_cents(&self) -> i64 {
        if self.paid_at.is_some() {
            self.amount_cents - self.refunded_cents
        } else {
            0
        }
    }
    /// The payer may pay it now.
    pub fn payable(&self, now: i64) -> bool {
        self.state == OrderState::Unpaid && now < self.expires_at
    }
}

/// One event of an order.
#[derive(Debug, Clone, Serialize)]
pub struct OrderEvent {
    pub at: i64,
    pub kind: String,
    pub actor: String,
    pub detail: String,
}

const COLS: &str = "o.id, o.number, o.case_id, c.number AS case_number, o.citizen_id, o.unit_id, \
    d.name AS unit_name, o.subject, o.lines, o.amount_cents, o.state, o.note, o.gateway, \
    o.trade_no, o.pay_url, o.created_by, o.created_at, o.expires_at, o.paid_at, o.refunded_cents, \
    o.revision, r.number AS receipt, c.company_id AS case_company_id";
const FROM: &str = "payment_orders o JOIN departments d ON d.id = o.unit_id \
    LEFT JOIN cases c ON c.id = o.case_id LEFT JOIN payment_receipts r ON r.order_id = o.id";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Order, DomainError> {
    let lines: String = row.try_get("lines")?;
    Ok(Order {
        id: row.try_get("id")?,
        number: row.try_get("number")?,
        case_id: row.try_get("case_id")?,
        case_number: row.try_get("case_number")?,
        citizen_id: row.try_get("citizen_id")?,
        unit_id: row.try_get("unit_id")?,
        unit_name: row.try_get("unit_name")?,
        subject: row.try_get("subject")?,
        lines: serde_json::from_str(&lines).unwrap_or_default(),
        amount_cents: row.try_get("amount_cents")?,
        state: OrderState::from_slug(&row.try_get::<String, _>("state")?)
            .ok_or(DomainError::Internal("order state"))?,
        note: row.try_get("note")?,
        gateway: row.try_get("gateway")?,
        trade_no: row.try_get("trade_no")?,
        pay_url: row.try_get("pay_url")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        paid_at: row.try_get("paid_at")?,
        refunded_cents: row.try_get("refunded_cents")?,
        revision: row.try_get("revision")?,
        receipt: row.try_get("receipt")?,
        company_id: row.try_get("case_company_id")?,
    })
}

/// What a list is read by.
enum Key<'a> {
    Text(&'a str),
    Id(i64),
}

async fn fetch(db: &Db, cond: &str, key: Key<'_>) -> Result<Vec<Order>, DomainError> {
    let sql = format!("SELECT {COLS} FROM {FROM} WHERE {cond} ORDER BY o.id DESC");
    let q = sqlx::query(sqlx::AssertSqlSafe(sql));
    let q = match key {
        Key::Text(t) => q.bind(t.to_string()),
        Key::Id(i) => q.bind(i),
    };
    let rows = q.fetch_all(db.pool()).await?;
    rows.iter().map(from_row).collect()
}

/// An order by its number.
pub async fn order(db: &Db, number: &str) -> Result<Order, DomainError> {
    fetch(db, "o.number = $1", Key::Text(number.trim()))
        .await?
        .into_iter()
        .next()
        .ok_or(DomainError::NotFound)
}

/// The orders of a case, newest first.
pub async fn of_case(db: &Db, case_id: i64) -> Result<Vec<Order>, DomainError> {
    fetch(db, "o.case_id = $1", Key::Id(case_id)).await
}

/// A person's orders, newest first.
pub async fn of_citizen(db: &Db, citizen_id: i64) -> Result<Vec<Order>, DomainError> {
    fetch(db, "o.citizen_id = $1", Key::Id(citizen_id)).await
}

/// The orders of a company's cases, newest first (以企业身份办事).
pub async fn of_company(db: &Db, company_id: i64) -> Result<Vec<Order>, DomainError> {
    fetch(db, "c.company_id = $1", Key::Id(company_id)).await
}

/// A person's own order, or their company's while they may act for it
/// (someone else's: not found).
pub async fn own(db: &Db, citizen: &Citizen, number: &str) -> Result<Order, DomainError> {
    let o = order(db, number).await?;
    if !crate::identity::company::may_reach(db, citizen, o.citizen_id, o.company_id).await? {
        return Err(DomainError::NotFound);
    }
    Ok(o)
}

/// The order history, oldest first.
pub async fn events(db: &Db, order_id: i64) -> Result<Vec<OrderEvent>, DomainError> {
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT at, kind, actor, detail FROM payment_events WHERE order_id = $1 ORDER BY id",
    )
    .bind(order_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(at, kind, actor, detail)| OrderEvent {
            at,
            kind,
            actor,
            detail,
        })
        .collect())
}

pub(super) async fn event(
    tx: &mut Tx,
    order_id: i64,
    kind: &str,
    actor: &str,
    detail: &str,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO payment_events (order_id, at, kind, actor, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(order_id)
    .bind(tx.now().timestamp())
    .bind(kind)
    .bind(actor)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The next number of a kind for a day: `ZF20261207000001`.
pub(super) async fn next_number(
    tx: &mut Tx,
    prefix: &str,
    day: NaiveDate,
) -> Result<String, DomainError> {
    let n: i64 = sqlx::query_scalar(
        "INSERT INTO case_counters (day, n) VALUES ($1, 1) \
         ON CONFLICT (day) DO UPDATE SET n = case_counters.n + 1 RETURNING n",
    )
    .bind(format!("{prefix}:{day}"))
    .fetch_one(&mut **tx)
    .await?;
    Ok(format!("{prefix}{}{n:06}", day.format("%Y%m%d")))
}

/// A case's fee is settled (paid or waived), or its item charges nothing.
pub async fn fee_settled(db: &Db, case: &Case) -> Result<bool, DomainError> {
    let fees: Option<String> = sqlx::query_scalar("SELECT fees FROM services WHERE code = $1")
        .bind(&case.service_code)
        .fetch_optional(db.pool())
        .await?;
    if fees.as_deref().is_none_or(super::is_free) {
        return Ok(true);
    }
    Ok(of_case(db, case.id)
        .await?
        .iter()
        .any(|o| o.state.settled()))
}

/// Fees are assessed or waived while the case is being handled.
fn assessable(case: &Case) -> bool {
    matches!(
        case.state,
        CaseState::Submitted | CaseState::Accepted | CaseState::Decided | CaseState::Suspended
    )
}

/// Checks assessed lines: a name, a positive price, 1–99 of each, a total
/// above zero.
pub fn check_lines(lines: &[FeeLine]) -> Result<i64, Vec<FieldError>> {
    let mut errs = Vec::new();
    let kept: Vec<&FeeLine> = lines.iter().filter(|l| l.quantity > 0).collect();
    if kept.is_empty() {
        errs.push(FieldError::new("fee_lines", "required", ""));
    }
    for l in &kept {
        if l.label.trim().is_empty() || l.unit_cents <= 0 || l.quantity > 99 {
            errs.push(FieldError::new("fee_lines", "invalid", l.label.clone()));
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(kept.iter().map(|l| l.total()).sum())
}

async fn settle_case_order(
    p: &Payments<'_>,
    staff: &StaffSession,
    number: &str,
    lines: Vec<FeeLine>,
    note: &str,
    waive: bool,
) -> Result<Order, DomainError> {
    let db = p.db;
    let case = cases::for_staff(db, staff, number).await?;
    if !assessable(&case) {
        return Err(Conflict::NotAllowed.into());
    }
    let note = note.trim().chars().take(500).collect::<String>();
    let (lines, total) = if waive {
        if note.is_empty() {
            return Err(DomainError::Invalid(vec![FieldError::new(
                "waive_reason",
                "required",
                "",
            )]));
        }
        (Vec::new(), 0)
    } else {
        let total = check_lines(&lines).map_err(DomainError::Invalid)?;
        (
            lines.into_iter().filter(|l| l.quantity > 0).collect(),
            total,
        )
    };
    let now = db.now();
    let mut tx = db.begin().await?;
    // One order of a case is open at a time; a settled fee is not assessed again.
    let settled: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM payment_orders WHERE case_id = $1 AND state IN ('paid', 'waived', 'refunded')",
    )
    .bind(case.id)
    .fetch_one(&mut *tx)
    .await?;
    if settled > 0 {
        return Err(Conflict::NotAllowed.into());
    }
    sqlx::query("UPDATE payment_orders SET state = 'closed', revision = revision + 1 WHERE case_id = $1 AND state = 'unpaid'")
        .bind(case.id)
        .execute(&mut *tx)
        .await?;
    let order_no = next_number(&mut tx, "ZF", local_date(now)).await?;
    let state = if waive {
        OrderState::Waived
    } else {
        OrderState::Unpaid
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO payment_orders (number, case_id, citizen_id, unit_id, subject, lines, \
         amount_cents, state, note, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(&order_no)
    .bind(case.id)
    .bind(case.citizen_id)
    .bind(case.department_id)
    .bind(&case.service_name)
    .bind(serde_json::to_string(&lines).map_err(|_| DomainError::Internal("lines"))?)
    .bind(total)
    .bind(state.slug())
    .bind(&note)
    .bind(&staff.user.username)
    .bind(now.timestamp())
    .bind(now.timestamp() + p.settings.order_minutes.max(1) * 60)
    .fetch_one(&mut *tx)
    .await?;
    let kind = if waive { "waived" } else { "assessed" };
    let detail = if waive { note.clone() } else { yuan(total) };
    event(&mut tx, id, kind, &staff.user.display_name, &detail).await?;
    audit::append(
        &mut tx,
        &Entry::staff(&staff.user.username, "payment.assess", &case.number).detail(kind),
    )
    .await?;
    if !waive {
        notify::case_event(
            db,
            &mut tx,
            "fee-due",
            &notify::About {
                citizen_id: case.citizen_id,
                phone: &case.applicant_phone,
                number: &case.number,
                service: &case.service_name,
                note: &yuan(total),
                progress_url: &format!("{}/my/payments", p.public_url.trim_end_matches('/')),
            },
        )
        .await?;
    }
    tx.commit().await?;
    order(db, &order_no).await
}

/// Staff assess a case's fee from its lines (核定收费); an earlier unpaid
/// order of the case is closed.
pub async fn assess(
    p: &Payments<'_>,
    staff: &StaffSession,
    case_number: &str,
    lines: Vec<FeeLine>,
) -> Result<Order, DomainError> {
    settle_case_order(p, staff, case_number, lines, "", false).await
}

/// Staff waive a case's fee with a reason (减免).
pub async fn waive(
    p: &Payments<'_>,
    staff: &StaffSession,
    case_number: &str,
    reason: &str,
) -> Result<Order, DomainError> {
    settle_case_order(p, staff, case_number, Vec::new(), reason, true).await
}

/// The payer starts paying: the gateway's page to go to. A second click
/// (or a second tab) gets the same gateway order.
pub async fn start(
    p: &Payments<'_>,
    citizen: &Citizen,
    number: &str,
) -> Result<Order, DomainError> {
    let db = p.db;
    let o = own(db, citizen, number).await?;
    let now = db.now().timestamp();
    if !o.payable(now) {
        return Err(if o.state == OrderState::Unpaid {
            DomainError::Invalid(vec![FieldError::new("order", "expired", "")])
        } else {
            Conflict::NotAllowed.into()
        });
    }
    if o.trade_no.is_some() && !o.pay_url.is_empty() {
        return Ok(o);
    }
    let base = p.public_url.trim_end_matches('/');
    let created = p
        .gateway
        .create(
            db,
            &GatewayOrder {
                number: o.number.clone(),
                amount_cents: o.amount_cents,
                subject: o.subject.clone(),
                notify_url: format!("{base}/pay/notify"),
                return_url: format!("{base}/my/payments/{}", o.number),
            },
        )
        .await?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE payment_orders SET gateway = $1, trade_no = $2, pay_url = $3 \
         WHERE id = $4 AND trade_no IS NULL",
    )
    .bind(p.gateway.name())
    .bind(&created.trade_no)
    .bind(&created.pay_url)
    .bind(o.id)
    .execute(&mut *tx)
    .await?;
    event(
        &mut tx,
        o.id,
        "started",
        &citizen.label(),
        &created.trade_no,
    )
    .await?;
    tx.commit().await?;
    order(db, number).await
}

/// What a callback did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// The order is paid now.
    Paid,
    /// It was paid before: nothing changed (a replay or a second copy).
    Duplicate,
    /// The gateway says the payment failed: the order stays payable.
    Failed,
}

/// Handles a gateway callback: checks its signature, then marks the order
/// paid exactly once (and issues its 电子票据). A bad signature, an
/// unknown order or a wrong amount changes nothing and is an error (the
/// gateway will call again; staff see it in the order's history).
pub async fn on_callback(
    p: &Payments<'_>,
    body: &[u8],
    signature: &str,
) -> Result<CallbackOutcome, DomainError> {
    let db = p.db;
    let notice = p.gateway.read_notice(db, body, signature).await?;
    let o = order(db, &notice.order_number).await?;
    // The receipt key first: making it on first use writes outside the transaction.
    let receipt_key = signing::key_for(db, "receipts").await?;
    let payer = payer_of(db, &o).await;
    let mut tx = db.begin().await?;
    if o.trade_no.as_deref().is_some_and(|t| t != notice.trade_no) {
        event(
            &mut tx,
            o.id,
            "callback_refused",
            "gateway",
            "trade number differs",
        )
        .await?;
        tx.commit().await?;
        return Err(Conflict::NotAllowed.into());
    }
    if notice.amount_cents != o.amount_cents {
        let detail = format!("{} ≠ {}", yuan(notice.amount_cents), o.amount());
        event(
            &mut tx,
            o.id,
            "callback_amount_mismatch",
            "gateway",
            &detail,
        )
        .await?;
        tx.commit().await?;
        return Err(Conflict::NotAllowed.into());
    }
    if !notice.paid {
        if o.paid_at.is_none() {
            event(&mut tx, o.id, "payment_failed", "gateway", &notice.trade_no).await?;
        }
        tx.commit().await?;
        return Ok(CallbackOutcome::Failed);
    }
    // Paid once: the update only takes an order not yet paid.
    let changed = sqlx::query(
        "UPDATE payment_orders SET state = 'paid', paid_at = $1, trade_no = $2, gateway = $3, \
         revision = revision + 1 WHERE id = $4 AND paid_at IS NULL",
    )
    .bind(notice.at.min(db.now().timestamp()))
    .bind(&notice.trade_no)
    .bind(p.gateway.name())
    .bind(o.id)
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() == 0 {
        event(
            &mut tx,
            o.id,
            "callback_duplicate",
            "gateway",
            &notice.trade_no,
        )
        .await?;
        tx.commit().await?;
        return Ok(CallbackOutcome::Duplicate);
    }
    let late = matches!(o.state, OrderState::Expired | OrderState::Closed);
    event(
        &mut tx,
        o.id,
        if late { "paid_late" } else { "paid" },
        "gateway",
        &notice.trade_no,
    )
    .await?;
    issue_receipt(&mut tx, &receipt_key, &o, payer).await?;
    let notice: Option<i64> =
        sqlx::query_scalar("SELECT notice_id FROM payment_orders WHERE id = $1")
            .bind(o.id)
            .fetch_one(&mut *tx)
            .await?;
    if let Some(n) = notice {
        super::fines::settle(&mut tx, n, db.now().timestamp()).await?;
    }
    if let Some(case_id) = o.case_id {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT number, applicant_phone FROM cases WHERE id = $1")
                .bind(case_id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((number, phone)) = row {
            let phone = crate::pii::open(db, crate::pii::ctx::CASE_PHONE, &phone)?;
            notify::case_event(
                db,
                &mut tx,
                "fee-paid",
                &notify::About {
                    citizen_id: o.citizen_id,
                    phone: &phone,
                    number: &number,
                    service: &o.subject,
                    note: &o.amount(),
                    progress_url: "",
                },
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(CallbackOutcome::Paid)
}

/// The signed content of a 电子票据.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ReceiptBody {
    pub number: String,
    pub order_number: String,
    pub payee: String,
    pub payer: String,
    pub subject: String,
    pub lines: Vec<FeeLine>,
    pub amount_cents: i64,
    pub issued_at: i64,
}

/// A 电子票据 as shown and downloaded.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub body: ReceiptBody,
    pub signature: String,
    pub key_id: String,
    /// The first eight characters of the signature's SM3 hash: typed in to
    /// check a printed receipt.
    pub check_code: String,
}

fn check_code(signature: &str) -> String {
    zhiban_crypto::sm3_hex(signature.as_bytes())[..8].to_uppercase()
}

/// The payer as a receipt names them: the company a company's case was
/// filed for (a company's name is public), else the person, masked.
async fn payer_of(db: &Db, o: &Order) -> String {
    if let Some(id) = o.company_id
        && let Ok(Some(c)) = crate::identity::company::by_id(db, id).await
    {
        return c.name;
    }
    match o.citizen_id {
        Some(c) => crate::identity::citizen::get(db, c).await.map_or_else(
            |_| String::new(),
            |c| {
                if c.name.is_empty() {
                    c.masked_phone()
                } else {
                    c.masked_name()
                }
            },
        ),
        None => String::new(),
    }
}

async fn issue_receipt(
    tx: &mut Tx,
    key: &signing::SigningKey,
    o: &Order,
    payer: String,
) -> Result<(), DomainError> {
    let now = tx.now().timestamp();
    let number = next_number(tx, "PJ", local_date(tx.now())).await?;
    let body = ReceiptBody {
        number: number.clone(),
        order_number: o.number.clone(),
        payee: o.unit_name.clone(),
        payer: payer.clone(),
        subject: o.subject.clone(),
        lines: o.lines.clone(),
        amount_cents: o.amount_cents,
        issued_at: now,
    };
    let text = serde_json::to_string(&body).map_err(|_| DomainError::Internal("receipt"))?;
    let signature = key.sign(text.as_bytes())?;
    sqlx::query(
        "INSERT INTO payment_receipts (number, order_id, payer, body, signature, key_id, issued_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&number)
    .bind(o.id)
    .bind(&payer)
    .bind(&text)
    .bind(&signature)
    .bind(&key.id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The 电子票据 of an order.
pub async fn receipt(db: &Db, order_id: i64) -> Result<Receipt, DomainError> {
    let row: Option<(String, String, String)> =
        sqlx::query_as("SELECT body, signature, key_id FROM payment_receipts WHERE order_id = $1")
            .bind(order_id)
            .fetch_optional(db.pool())
            .await?;
    let (body, signature, key_id) = row.ok_or(DomainError::NotFound)?;
    Ok(Receipt {
        body: serde_json::from_str(&body).map_err(|_| DomainError::Internal("receipt"))?,
        check_code: check_code(&signature),
        signature,
        key_id,
    })
}

/// Checks a 电子票据 by its number and check code: its signature must
/// verify under the portal's receipt key.
pub async fn verify_receipt(
    db: &Db,
    number: &str,
    code: &str,
) -> Result<Option<ReceiptBody>, DomainError> {
    let row: Option<(String, String, String)> =
        sqlx::query_as("SELECT body, signature, key_id FROM payment_receipts WHERE number = $1")
            .bind(number.trim())
            .fetch_optional(db.pool())
            .await?;
    let Some((body, signature, key_id)) = row else {
        return Ok(None);
    };
    if !check_code(&signature).eq_ignore_ascii_case(code.trim()) {
        return Ok(None);
    }
    let Some(key) = signing::public_key(db, &key_id).await? else {
        return Ok(None);
    };
    if !signing::verify(&key, body.as_bytes(), &signature) {
        return Ok(None);
    }
    Ok(serde_json::from_str(&body).ok())
}

/// Marks unpaid orders past their time as expired (the housekeeping job);
/// returns how many.
pub async fn expire_due(db: &Db) -> Result<u64, DomainError> {
    let now = db.now().timestamp();
    let r = sqlx::query(
        "UPDATE payment_orders SET state = 'expired', revision = revision + 1 \
         WHERE state = 'unpaid' AND expires_at <= $1",
    )
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected())
}

/// Staff reopen an expired order of a case: a new order with the same
/// lines, payable for another period.
pub async fn reissue(
    p: &Payments<'_>,
    staff: &StaffSession,
    case_number: &str,
) -> Result<Order, DomainError> {
    let case = cases::for_staff(p.db, staff, case_number).await?;
    let last = of_case(p.db, case.id)
        .await?
        .into_iter()
        .find(|o| matches!(o.state, OrderState::Expired | OrderState::Closed))
        .ok_or(DomainError::NotFound)?;
    assess(p, staff, case_number, last.lines).await
}

/// The latest orders of the units in `staff`'s scope (finance), newest
/// first; `state` narrows them.
pub async fn for_finance(
    db: &Db,
    staff: &StaffSession,
    state: Option<OrderState>,
    limit: usize,
) -> Result<Vec<Order>, DomainError> {
    if !staff.can(crate::identity::Perm::PaymentsFinance) {
        return Err(DomainError::NotFound);
    }
    let sql = format!(
        "SELECT {COLS} FROM {FROM} WHERE o.state <> 'closed' ORDER BY o.id DESC LIMIT 2000"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(db.pool())
        .await?;
    let mut out = Vec::new();
    for row in &rows {
        let o = from_row(row)?;
        if staff.scope.covers(o.unit_id) && state.is_none_or(|s| s == o.state) {
            out.push(o);
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}
