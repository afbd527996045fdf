//! 交通违法罚款: a penalty notice (处罚决定书) is found by its decision
//! number together with the plate (either alone finds nothing), shows what
//! is owed — the fine and, from the sixteenth day after the decision,
//! 加处罚款 of 3% a day, never more than the fine itself (行政处罚法 第七十二条)
//! — and is paid through the same orders and gateway as fees.

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use super::orders::{Order, Payments, event, next_number, order};
use super::{FeeLine, yuan};
use crate::audit::{self, Entry};
use crate::identity::citizen::Citizen;
use crate::time::{local_date, local_day};
use crate::{Conflict, Db, DomainError, FieldError};

/// Days after the decision before 加处罚款 starts.
pub const GRACE_DAYS: i64 = 15;

/// One notice as the payer sees it (the party's name masked).
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    pub id: i64,
    pub decision_no: String,
    pub plate: String,
    pub party_masked: String,
    pub violation: String,
    pub place: String,
    pub occurred_at: i64,
    pub decided_on: NaiveDate,
    pub fine_cents: i64,
    pub points: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub paid_at: Option<i64>,
}

impl Notice {
    /// 加处罚款 owed on `today`.
    pub fn late_cents(&self, today: NaiveDate) -> i64 {
        let days = (today - self.decided_on).num_days() - GRACE_DAYS;
        if days <= 0 || self.paid_at.is_some() {
            return 0;
        }
        (self.fine_cents * 3 * days / 100).min(self.fine_cents)
    }

    /// What is owed on `today`.
    pub fn due_cents(&self, today: NaiveDate) -> i64 {
        self.fine_cents + self.late_cents(today)
    }

    pub fn fine(&self) -> String {
        yuan(self.fine_cents)
    }

    /// The last day without 加处罚款.
    pub fn pay_by(&self) -> NaiveDate {
        self.decided_on + Duration::days(GRACE_DAYS)
    }
}

/// A plate as people type it: 渝A12345, 渝a·12345, 渝A 12345 all match.
pub fn normalize_plate(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '·' | '.' | '-' | '•'))
        .flat_map(char::to_uppercase)
        .collect()
}

fn mask(name: &str) -> String {
    crate::identity::ids::mask_name(name)
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    i64,
    i64,
    i64,
    String,
    Option<i64>,
);

const SELECT: &str = "SELECT n.id, n.decision_no, n.plate, n.party, n.violation, n.place, \
    n.occurred_at, n.decided_on, n.fine_cents, n.points, n.unit_id, d.name, n.paid_at \
    FROM penalty_notices n JOIN departments d ON d.id = n.unit_id";

fn from_row(r: Row) -> Result<Notice, DomainError> {
    Ok(Notice {
        id: r.0,
        decision_no: r.1,
        plate: r.2,
        party_masked: mask(&r.3),
        violation: r.4,
        place: r.5,
        occurred_at: r.6,
        decided_on: NaiveDate::parse_from_str(&r.7, "%Y-%m-%d")
            .map_err(|_| DomainError::Internal("decided_on"))?,
        fine_cents: r.8,
        points: r.9,
        unit_id: r.10,
        unit_name: r.11,
        paid_at: r.12,
    })
}

/// The notice with this decision number and plate; both must match.
pub async fn lookup(db: &Db, decision_no: &str, plate: &str) -> Result<Notice, DomainError> {
    let mut errs = Vec::new();
    let no: String = decision_no
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if no.is_empty() {
        errs.push(FieldError::new("decision_no", "required", ""));
    }
    let plate = normalize_plate(plate);
    if plate.is_empty() {
        errs.push(FieldError::new("plate", "required", ""));
    }
    if !errs.is_empty() {
        return Err(DomainError::Invalid(errs));
    }
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE n.decision_no = $1"
    )))
    .bind(&no)
    .fetch_optional(db.pool())
    .await?;
    match row {
        Some(r) if normalize_plate(&r.2) == plate => from_row(r),
        _ => Err(DomainError::NotFound),
    }
}

/// A payment order for a notice, for the signed-in payer: what is owed
/// today. An open order of the notice is reused; a paid notice has none.
pub async fn order_for(
    p: &Payments<'_>,
    payer: &Citizen,
    decision_no: &str,
    plate: &str,
) -> Result<Order, DomainError> {
    let db = p.db;
    let n = lookup(db, decision_no, plate).await?;
    if n.paid_at.is_some() {
        return Err(Conflict::NotAllowed.into());
    }
    let now = db.now();
    let today = local_date(now);
    let open: Option<String> = sqlx::query_scalar(
        "SELECT number FROM payment_orders WHERE notice_id = $1 AND state = 'unpaid' \
         AND expires_at > $2 AND citizen_id = $3 AND amount_cents = $4 ORDER BY id DESC LIMIT 1",
    )
    .bind(n.id)
    .bind(now.timestamp())
    .bind(payer.id)
    .bind(n.due_cents(today))
    .fetch_optional(db.pool())
    .await?;
    if let Some(number) = open {
        return order(db, &number).await;
    }
    let mut lines = vec![FeeLine {
        label: "罚款".into(),
        unit_cents: n.fine_cents,
        quantity: 1,
    }];
    let late = n.late_cents(today);
    if late > 0 {
        lines.push(FeeLine {
            label: "加处罚款".into(),
            unit_cents: late,
            quantity: 1,
        });
    }
    let mut tx = db.begin().await?;
    // Another payer's open order for the same notice is closed: one at a time.
    sqlx::query(
        "UPDATE payment_orders SET state = 'closed', revision = revision + 1 \
         WHERE notice_id = $1 AND state = 'unpaid'",
    )
    .bind(n.id)
    .execute(&mut *tx)
    .await?;
    let number = next_number(&mut tx, "ZF", today).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO payment_orders (number, notice_id, citizen_id, unit_id, subject, lines, \
         amount_cents, state, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'unpaid', $8, $9, $10) RETURNING id",
    )
    .bind(&number)
    .bind(n.id)
    .bind(payer.id)
    .bind(n.unit_id)
    .bind(format!("交通违法罚款（决定书 {}）", n.decision_no))
    .bind(serde_json::to_string(&lines).map_err(|_| DomainError::Internal("lines"))?)
    .bind(n.due_cents(today))
    .bind(payer.label())
    .bind(now.timestamp())
    .bind(now.timestamp() + p.settings.order_minutes.max(1) * 60)
    .fetch_one(&mut *tx)
    .await?;
    event(
        &mut tx,
        id,
        "assessed",
        &payer.label(),
        &yuan(n.due_cents(today)),
    )
    .await?;
    audit::append(
        &mut tx,
        &Entry::citizen(&payer.label(), "payment.fine_order", &n.decision_no),
    )
    .await?;
    tx.commit().await?;
    order(db, &number).await
}

/// Marks a notice paid when its order is (inside the payment's transaction).
pub(super) async fn settle(tx: &mut crate::Tx, notice_id: i64, at: i64) -> Result<(), DomainError> {
    sqlx::query("UPDATE penalty_notices SET paid_at = $1 WHERE id = $2 AND paid_at IS NULL")
        .bind(at)
        .bind(notice_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Demo notices (演示数据) of the traffic police, loaded once.
pub async fn load_demo(db: &Db) -> Result<usize, DomainError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM penalty_notices")
        .fetch_one(db.pool())
        .await?;
    if n > 0 {
        return Ok(0);
    }
    let unit: Option<i64> =
        sqlx::query_scalar("SELECT id FROM departments WHERE code = '500000-GA-JXJ'")
            .fetch_optional(db.pool())
            .await?;
    let Some(unit) = unit else { return Ok(0) };
    let today = local_day(db.now().timestamp());
    // (decision number, plate, party, offence, place, days since the
    // decision, fine in fen, points)
    type Demo<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, i64, i64, i64);
    let rows: &[Demo] = &[
        (
            "5001031000012345",
            "渝A·D3K21",
            "张伟",
            "机动车违反禁止标线指示",
            "渝中区解放碑民权路",
            3,
            20000,
            3,
        ),
        (
            "5001031000012346",
            "渝A·7Q5M8",
            "李娜",
            "驾驶机动车在高速公路上超速不足20%",
            "G85渝昆高速K12",
            20,
            20000,
            3,
        ),
        (
            "5001051000023456",
            "渝B·A8861",
            "王强",
            "机动车违反规定停放",
            "江北区观音桥步行街北侧",
            40,
            15000,
            0,
        ),
        (
            "5001061000034567",
            "渝A·F2266",
            "陈静",
            "驾驶时拨打接听手持电话",
            "沙坪坝区三峡广场",
            1,
            5000,
            3,
        ),
        (
            "5001901000045678",
            "渝A·H9Z03",
            "刘洋",
            "遇行人正在通过人行横道时未停车让行",
            "两江新区金开大道",
            10,
            20000,
            3,
        ),
    ];
    let mut tx = db.begin().await?;
    for (no, plate, party, violation, place, days_ago, fine, points) in rows {
        let decided = today - Duration::days(*days_ago);
        sqlx::query(
            "INSERT INTO penalty_notices (decision_no, plate, party, violation, place, occurred_at, \
             decided_on, fine_cents, points, unit_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(no)
        .bind(plate)
        .bind(party)
        .bind(format!("{violation}（演示数据）"))
        .bind(place)
        .bind(crate::time::at_local(decided - Duration::days(2), 9, 30))
        .bind(decided.to_string())
        .bind(fine)
        .bind(points)
        .bind(unit)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}
