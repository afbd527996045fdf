//! 统一支付 against a real database and the development gateway: a fee
//! assessed from the item's schedule and paid once however often the
//! gateway calls back (and a forged or altered callback changing nothing),
//! a case that concludes only when its fee is paid or waived, failed
//! payments and expiry, refunds with a second officer's approval, signed
//! 电子票据, and a daily reconciliation that finds planted differences.

use chrono::Duration;
use zhiban_domain::cases::{self, Actor, CaseAction, Step};
use zhiban_domain::identity::citizen::Citizen;
use zhiban_domain::identity::staff::StaffSession;
use zhiban_domain::payments::{self, CallbackOutcome, FeeLine, OrderState, reconcile};
use zhiban_domain::time::local_date;
use zhiban_domain::{Conflict, DomainError};
use zhiban_store::sqlx;
use zhiban_testing::World;

use super::cases::apply;

/// A 居民身份证补领 case of `who`, accepted and approved by `clerk`.
pub(crate) async fn approved(w: &World, clerk: &StaffSession, who: &Citizen) -> cases::Case {
    let case = apply(w, who).await;
    for action in [CaseAction::Accept, CaseAction::Approve] {
        cases::act(
            &w.desk(),
            Actor::Staff(clerk),
            &case.number,
            action,
            Step::default(),
        )
        .await
        .expect("step");
    }
    case
}

/// The callbacks the development gateway queued: (body, signature).
async fn callbacks(w: &World) -> Vec<(String, String)> {
    let payloads: Vec<String> = sqlx::query_scalar(
        "SELECT payload FROM jobs WHERE kind = 'dev_gateway_notify' ORDER BY id",
    )
    .fetch_all(w.db().pool())
    .await
    .expect("jobs");
    payloads
        .iter()
        .map(|p| {
            let v: serde_json::Value = serde_json::from_str(p).expect("json");
            (
                v["body"].as_str().expect("body").to_string(),
                v["signature"].as_str().expect("sig").to_string(),
            )
        })
        .collect()
}

/// Assesses the item's own fee line, starts the payment and pays at the
/// gateway's cashier; returns the order number.
pub(crate) async fn assessed_and_paid(
    w: &World,
    clerk: &StaffSession,
    who: &Citizen,
    case: &cases::Case,
) -> String {
    let p = w.payments();
    let item = w.item(&case.service_code).await;
    let lines = payments::fee_options(&item.fees);
    let o = payments::assess(&p, clerk, &case.number, lines)
        .await
        .expect("assessed");
    let o = payments::start(&p, who, &o.number).await.expect("started");
    let before = callbacks(w).await.len();
    w.gateway
        .settle(w.db(), o.trade_no.as_deref().unwrap(), true)
        .await
        .expect("paid at the gateway");
    for (body, sig) in callbacks(w).await.into_iter().skip(before) {
        payments::on_callback(&p, body.as_bytes(), &sig)
            .await
            .expect("callback");
    }
    o.number
}

#[tokio::test]
async fn a_fee_is_paid_once_however_often_the_gateway_calls_back_and_then_the_case_concludes() {
    let w = World::new().await;
    let who = w.citizen("13800138061", "钱一", 2).await;
    let clerk = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    let case = approved(&w, &clerk, &who).await;
    let desk = w.desk();
    let p = w.payments();

    // Not before the fee is settled.
    let early = cases::act(
        &desk,
        Actor::Staff(&clerk),
        &case.number,
        CaseAction::Conclude,
        Step::default(),
    )
    .await;
    assert!(
        matches!(early, Err(DomainError::Invalid(ref e)) if e[0].field == "fee" && e[0].code == "unpaid"),
        "{early:?}"
    );

    // 核定: the item's schedule (工本费40元/证) gives the line.
    let item = w.item(&case.service_code).await;
    let lines = payments::fee_options(&item.fees);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].unit_cents, 4000);
    let bad = payments::assess(
        &p,
        &clerk,
        &case.number,
        vec![FeeLine {
            label: "".into(),
            unit_cents: 0,
            quantity: 1,
        }],
    )
    .await;
    assert!(matches!(bad, Err(DomainError::Invalid(ref e)) if e[0].field == "fee_lines"));
    let o = payments::assess(&p, &clerk, &case.number, lines)
        .await
        .expect("assessed");
    assert_eq!((o.state, o.amount_cents), (OrderState::Unpaid, 4000));
    assert_eq!(o.citizen_id, Some(who.id));
    let titles: Vec<String> = zhiban_domain::notify::messages(w.db(), who.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert!(titles.iter().any(|b| b.contains("40.00")), "{titles:?}");

    // Someone else cannot pay it; a double click gets one gateway order.
    let other = w.citizen("13800138062", "孙二", 2).await;
    assert!(matches!(
        payments::start(&p, &other, &o.number).await,
        Err(DomainError::NotFound)
    ));
    let first = payments::start(&p, &who, &o.number).await.expect("started");
    let second = payments::start(&p, &who, &o.number).await.expect("again");
    assert_eq!(first.trade_no, second.trade_no);
    assert!(first.pay_url.starts_with("/dev-gateway/pay/"));
    let ledger: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dev_gateway_ledger")
        .fetch_one(w.db().pool())
        .await
        .unwrap();
    assert_eq!(ledger, 1);

    // The gateway calls back twice (as real ones do), and one is replayed.
    let trade = first.trade_no.clone().unwrap();
    w.gateway.settle(w.db(), &trade, true).await.expect("paid");
    w.gateway
        .settle(w.db(), &trade, true)
        .await
        .expect("settling twice");
    let sent = callbacks(&w).await;
    assert_eq!(sent.len(), 2, "two copies, one settlement");
    // An altered body under the real signature changes nothing.
    let forged = sent[0].0.replace("4000", "1");
    assert!(
        payments::on_callback(&p, forged.as_bytes(), &sent[0].1)
            .await
            .is_err()
    );
    assert!(
        payments::on_callback(&p, sent[0].0.as_bytes(), "AAAA")
            .await
            .is_err()
    );
    assert_eq!(
        payments::order(w.db(), &o.number).await.unwrap().state,
        OrderState::Unpaid
    );
    let outcomes = [
        payments::on_callback(&p, sent[0].0.as_bytes(), &sent[0].1)
            .await
            .unwrap(),
        payments::on_callback(&p, sent[1].0.as_bytes(), &sent[1].1)
            .await
            .unwrap(),
        payments::on_callback(&p, sent[0].0.as_bytes(), &sent[0].1)
            .await
            .unwrap(),
    ];
    assert_eq!(
        outcomes,
        [
            CallbackOutcome::Paid,
            CallbackOutcome::Duplicate,
            CallbackOutcome::Duplicate
        ]
    );
    let paid = payments::order(w.db(), &o.number).await.unwrap();
    assert_eq!(paid.state, OrderState::Paid);
    let events = payments::events(w.db(), paid.id).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == "paid").count(), 1);
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == "callback_duplicate")
            .count(),
        2
    );
    let receipts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payment_receipts")
        .fetch_one(w.db().pool())
        .await
        .unwrap();
    assert_eq!(receipts, 1, "one 电子票据");

    // The 电子票据 verifies with its check code, and only with it.
    let r = payments::receipt(w.db(), paid.id).await.unwrap();
    assert_eq!(r.body.amount_cents, 4000);
    assert_eq!(r.body.payer, "钱*");
    let ok = payments::verify_receipt(w.db(), &r.body.number, &r.check_code.to_lowercase())
        .await
        .unwrap();
    assert_eq!(ok.map(|b| b.order_number), Some(o.number.clone()));
    assert!(
        payments::verify_receipt(w.db(), &r.body.number, "00000000")
            .await
            .unwrap()
            .is_none()
    );

    // A settled fee is not assessed again, and the case concludes.
    assert!(matches!(
        payments::assess(&p, &clerk, &case.number, payments::fee_options(&item.fees)).await,
        Err(DomainError::Conflict(Conflict::NotAllowed))
    ));
    cases::act(
        &desk,
        Actor::Staff(&clerk),
        &case.number,
        CaseAction::Conclude,
        Step::default(),
    )
    .await
    .expect("concluded");
}

#[tokio::test]
async fn a_failed_payment_stays_payable_an_unpaid_order_expires_and_a_waiver_needs_a_reason() {
    let w = World::new().await;
    let who = w.citizen("13800138063", "周三", 2).await;
    let clerk = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    let case = approved(&w, &clerk, &who).await;
    let p = w.payments();
    let item = w.item(&case.service_code).await;
    let o = payments::assess(&p, &clerk, &case.number, payments::fee_options(&item.fees))
        .await
        .unwrap();
    let o = payments::start(&p, &who, &o.number).await.unwrap();
    w.gateway
        .settle(w.db(), o.trade_no.as_deref().unwrap(), false)
        .await
        .unwrap();
    let (body, sig) = callbacks(&w).await.remove(0);
    assert_eq!(
        payments::on_callback(&p, body.as_bytes(), &sig)
            .await
            .unwrap(),
        CallbackOutcome::Failed
    );
    let still = payments::order(w.db(), &o.number).await.unwrap();
    assert!(still.payable(w.db().now().timestamp()));

    // Past its half hour: expired, and no longer payable.
    w.db().clock().advance(Duration::minutes(31));
    assert_eq!(payments::expire_due(w.db()).await.unwrap(), 1);
    let gone = payments::start(&p, &who, &o.number).await;
    assert!(matches!(
        gone,
        Err(DomainError::Conflict(Conflict::NotAllowed))
    ));
    // Staff issue it again; the old one stays expired.
    let again = payments::reissue(&p, &clerk, &case.number).await.unwrap();
    assert_ne!(again.number, o.number);
    assert_eq!(again.amount_cents, o.amount_cents);

    // Waived instead, with a reason; then the case concludes.
    let blank = payments::waive(&p, &clerk, &case.number, "  ").await;
    assert!(matches!(blank, Err(DomainError::Invalid(ref e)) if e[0].field == "waive_reason"));
    let waived = payments::waive(&p, &clerk, &case.number, "最低生活保障对象，依规免收工本费")
        .await
        .unwrap();
    assert_eq!(waived.state, OrderState::Waived);
    assert_eq!(
        payments::order(w.db(), &again.number).await.unwrap().state,
        OrderState::Closed,
        "the open order is closed"
    );
    cases::act(
        &w.desk(),
        Actor::Staff(&clerk),
        &case.number,
        CaseAction::Conclude,
        Step::default(),
    )
    .await
    .expect("concluded");

    // Someone out of scope cannot assess.
    let outsider = w.staff("yz.clerk", "500103-MZ", &["case_handler"]).await;
    let other = approved(&w, &clerk, &who).await;
    assert!(matches!(
        payments::waive(&p, &outsider, &other.number, "x").await,
        Err(DomainError::OutOfScope)
    ));
}

#[tokio::test]
async fn a_refund_needs_a_second_officer_and_never_exceeds_what_was_paid() {
    let w = World::new().await;
    let who = w.citizen("13800138064", "吴四", 2).await;
    let clerk = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    let asker = w.staff("cw.zhang", "500000-GA-HZ", &["finance"]).await;
    let approver = w.staff("cw.li", "500000-GA", &["finance"]).await;
    let case = approved(&w, &clerk, &who).await;
    let number = assessed_and_paid(&w, &clerk, &who, &case).await;
    let p = w.payments();

    // A case handler is not finance.
    assert!(
        payments::request_refund(w.db(), &clerk, &number, Some(1000), "多收")
            .await
            .is_err()
    );
    let too_much = payments::request_refund(w.db(), &asker, &number, Some(5000), "多收").await;
    assert!(matches!(too_much, Err(DomainError::Invalid(ref e)) if e[0].code == "too_much"));
    let no_reason = payments::request_refund(w.db(), &asker, &number, Some(1000), " ").await;
    assert!(matches!(no_reason, Err(DomainError::Invalid(ref e)) if e[0].field == "refund_reason"));
    let r = payments::request_refund(
        w.db(),
        &asker,
        &number,
        Some(1000),
        "证件损坏换领误按补领收费，退差额",
    )
    .await
    .unwrap();
    assert_eq!(r.state, "requested");
    // What is waiting counts: no second request beyond the rest.
    let over = payments::request_refund(w.db(), &asker, &number, Some(3500), "x").await;
    assert!(over.is_err());
    assert!(matches!(
        payments::decide_refund(&p, &asker, &r.number, true, "").await,
        Err(DomainError::Conflict(Conflict::SameReviewer))
    ));
    let done = payments::decide_refund(&p, &approver, &r.number, true, "同意")
        .await
        .unwrap();
    assert_eq!(done.state, "refunded");
    let o = payments::order(w.db(), &number).await.unwrap();
    assert_eq!((o.refunded_cents, o.state), (1000, OrderState::Paid));
    let at_gateway: i64 = sqlx::query_scalar("SELECT refunded_cents FROM dev_gateway_ledger")
        .fetch_one(w.db().pool())
        .await
        .unwrap();
    assert_eq!(at_gateway, 1000);
    // Deciding again changes nothing.
    assert!(
        payments::decide_refund(&p, &approver, &r.number, true, "")
            .await
            .is_err()
    );

    // The rest, refused once (with a reason), then approved: fully refunded.
    let r2 = payments::request_refund(w.db(), &asker, &number, Some(3000), "申请人撤回后退费")
        .await
        .unwrap();
    let refused = payments::decide_refund(&p, &approver, &r2.number, false, "").await;
    assert!(matches!(refused, Err(DomainError::Invalid(ref e)) if e[0].field == "decision_note"));
    payments::decide_refund(&p, &approver, &r2.number, true, "同意")
        .await
        .unwrap();
    let o = payments::order(w.db(), &number).await.unwrap();
    assert_eq!((o.refunded_cents, o.state), (4000, OrderState::Refunded));
    assert_eq!(o.refundable_cents(), 0);
}

#[tokio::test]
async fn the_daily_reconciliation_lists_every_planted_difference() {
    let w = World::new().await;
    let clerk = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    let finance = w.staff("cw.zhang", "500000-GA-HZ", &["finance"]).await;
    let mut paid = Vec::new();
    for (i, phone) in ["13800138071", "13800138072", "13800138073"]
        .iter()
        .enumerate()
    {
        let who = w.citizen(phone, &format!("郑{i}"), 2).await;
        let case = approved(&w, &clerk, &who).await;
        paid.push(assessed_and_paid(&w, &clerk, &who, &case).await);
    }
    let today = local_date(w.db().now());
    let clean = reconcile::run(w.db(), &w.gateway, today, "cw.zhang")
        .await
        .unwrap();
    assert_eq!((clean.matched, clean.mismatches.len()), (3, 0));

    // Planted: the gateway's books show another amount for the first; it
    // took money for an order the portal never made; and the portal shows
    // the third paid while the gateway lost it.
    sqlx::query("UPDATE dev_gateway_ledger SET amount_cents = 4100 WHERE order_number = $1")
        .bind(&paid[0])
        .execute(w.db().pool())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO dev_gateway_ledger (trade_no, order_number, subject, amount_cents, state, \
         notify_url, return_url, created_at, paid_at) \
         VALUES ('DEVGHOST', 'ZF-UNKNOWN', '未知', 2000, 'paid', '', '', $1, $1)",
    )
    .bind(w.db().now().timestamp())
    .execute(w.db().pool())
    .await
    .unwrap();
    sqlx::query(
        "UPDATE dev_gateway_ledger SET state = 'created', paid_at = NULL WHERE order_number = $1",
    )
    .bind(&paid[2])
    .execute(w.db().pool())
    .await
    .unwrap();
    let run = reconcile::run(w.db(), &w.gateway, today, "cw.zhang")
        .await
        .unwrap();
    assert_eq!(run.matched, 1);
    let mut kinds: Vec<(String, String)> = run
        .mismatches
        .iter()
        .map(|m| (m.kind.clone(), m.order_number.clone()))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            ("amount".to_string(), paid[0].clone()),
            ("missing_ours".to_string(), "ZF-UNKNOWN".to_string()),
            ("missing_theirs".to_string(), paid[2].clone()),
        ]
    );
    let amount = run.mismatches.iter().find(|m| m.kind == "amount").unwrap();
    assert_eq!(
        (amount.ours(), amount.theirs()),
        ("40.00".to_string(), "41.00".to_string())
    );
    // Another day has nothing.
    let before = reconcile::run(w.db(), &w.gateway, today - Duration::days(1), "system")
        .await
        .unwrap();
    assert_eq!((before.statement_rows, before.mismatches.len()), (0, 0));
    // Settled with a note, once.
    assert!(
        reconcile::resolve(w.db(), &finance, amount.id, " ")
            .await
            .is_err()
    );
    reconcile::resolve(w.db(), &finance, amount.id, "网关更正对账单")
        .await
        .unwrap();
    assert!(
        reconcile::resolve(w.db(), &finance, amount.id, "again")
            .await
            .is_err()
    );
    let again = reconcile::get(w.db(), run.id).await.unwrap().unwrap();
    assert!(
        again
            .mismatches
            .iter()
            .any(|m| m.resolved_note == "网关更正对账单")
    );
}

#[tokio::test]
async fn a_fine_is_found_by_decision_number_and_plate_and_owes_late_fees_after_fifteen_days() {
    use payments::fines;
    let w = World::new().await;
    assert_eq!(fines::load_demo(w.db()).await.unwrap(), 5);
    assert_eq!(fines::load_demo(w.db()).await.unwrap(), 0, "once");
    // Both must match; the plate however it is typed.
    assert!(matches!(
        fines::lookup(w.db(), "5001051000023456", "渝A·00000").await,
        Err(DomainError::NotFound)
    ));
    assert!(matches!(
        fines::lookup(w.db(), "", " ").await,
        Err(DomainError::Invalid(ref e)) if e.len() == 2
    ));
    let today = local_date(w.db().now());
    let old = fines::lookup(w.db(), "5001051000023456", "渝b a8861")
        .await
        .unwrap();
    assert_eq!(old.party_masked, "王*");
    // 40 days after the decision: 25 days of 3% (75%) on ¥150.
    assert_eq!((today - old.decided_on).num_days(), 40);
    assert_eq!(old.late_cents(today), 15000 * 3 * 25 / 100);
    assert_eq!(old.due_cents(today), 15000 + 11250);
    // Never more than the fine itself, and nothing within fifteen days.
    assert_eq!(old.late_cents(today + Duration::days(100)), 15000);
    let fresh = fines::lookup(w.db(), "5001031000012345", "渝A-D3K21")
        .await
        .unwrap();
    assert_eq!(fresh.late_cents(today), 0);
    assert_eq!(fresh.pay_by(), fresh.decided_on + Duration::days(15));

    // Paid through the gateway like a fee: the notice is settled.
    let payer = w.citizen("13800138081", "王强", 2).await;
    let p = w.payments();
    let o = fines::order_for(&p, &payer, "5001051000023456", "渝BA8861")
        .await
        .unwrap();
    assert_eq!(o.amount_cents, 26250);
    assert_eq!(o.lines.len(), 2, "罚款 and 加处罚款");
    let again = fines::order_for(&p, &payer, "5001051000023456", "渝BA8861")
        .await
        .unwrap();
    assert_eq!(again.number, o.number, "one open order");
    let o = payments::start(&p, &payer, &o.number).await.unwrap();
    w.gateway
        .settle(w.db(), o.trade_no.as_deref().unwrap(), true)
        .await
        .unwrap();
    for (body, sig) in callbacks(&w).await {
        payments::on_callback(&p, body.as_bytes(), &sig)
            .await
            .unwrap();
    }
    let paid = fines::lookup(w.db(), "5001051000023456", "渝BA8861")
        .await
        .unwrap();
    assert!(paid.paid_at.is_some());
    assert_eq!(paid.late_cents(today), 0);
    assert!(matches!(
        fines::order_for(&p, &payer, "5001051000023456", "渝BA8861").await,
        Err(DomainError::Conflict(Conflict::NotAllowed))
    ));
}
