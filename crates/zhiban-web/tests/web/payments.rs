//! 统一支付 over real HTTP with the development gateway: staff assess the
//! fee on the case page (a bad quantity comes back as typed), the
//! applicant pays — a second click reuses the payment — at the gateway's
//! cashier, the worker delivers the gateway's signed callbacks to
//! `/pay/notify` over HTTP, a replayed or altered callback changes
//! nothing, the 电子票据 prints, downloads and verifies; finance refunds
//! with a second officer and the reconciliation shows a planted mismatch.

use zhiban_store::sqlx;
use zhiban_testing::html::*;
use zhiban_testing::*;

use super::cases::{ID_NUMBER, PHONE, act, apply};

/// The first `/my/payments/<number>` on a page.
fn order_number(html: &str) -> String {
    let at = html.find("/my/payments/ZF").expect("an order link") + "/my/payments/".len();
    html[at..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect()
}

async fn paid_events(app: &TestApp) -> (i64, i64) {
    let n = |kind: &'static str| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM payment_events WHERE kind = $1")
            .bind(kind)
            .fetch_one(app.db.db.pool())
            .await
            .unwrap()
    };
    (n("paid").await, n("callback_duplicate").await)
}

/// A 居民身份证补领 case approved, its fee assessed and paid through the
/// gateway's cashier; the callbacks delivered by the worker. Returns
/// (citizen, clerk, case number, order number).
async fn paid_case(app: &TestApp) -> (reqwest::Client, reqwest::Client, String, String) {
    let citizen = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let number = apply(app, &citizen).await;
    let clerk = app
        .staff_in_role("hz.clerk", "500000-GA-HZ", "case_handler")
        .await;
    for step in [
        vec![("action", "accept")],
        vec![("action", "approve"), ("reason", "符合补领条件")],
    ] {
        assert_eq!(
            act(app, &clerk, &number, &step).await.status().as_u16(),
            303
        );
    }
    let page = format!("/admin/cases/{number}");
    let (_, html) = app.text_with(&clerk, &page).await;
    assert!(html.contains("工本费40元/证") && html.contains("name=\"q0\""));
    // A quantity that is not a number comes back as typed.
    let r = app
        .submit(
            &clerk,
            &page,
            &format!("{page}/fee"),
            &[("fee_action", "assess"), ("q0", "一")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("value=\"一\""));
    let r = app
        .submit(
            &clerk,
            &page,
            &format!("{page}/fee"),
            &[("fee_action", "assess"), ("q0", "1")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);

    let (_, mine) = app
        .text_with(&citizen, &format!("/my/cases/{number}"))
        .await;
    assert!(mine.contains("¥40.00") && mine.contains("去缴费"));
    let order = order_number(&mine);
    let order_page = format!("/my/payments/{order}");
    // Two clicks, one gateway payment.
    let first = app
        .submit(&citizen, &order_page, &format!("{order_page}/pay"), &[])
        .await;
    let second = app
        .submit(&citizen, &order_page, &format!("{order_page}/pay"), &[])
        .await;
    let cashier = location(&first);
    assert!(cashier.starts_with("/dev-gateway/pay/DEV"), "{cashier}");
    assert_eq!(location(&second), cashier);
    let (status, till) = app.text_with(&citizen, &cashier).await;
    assert_eq!(status, 200);
    assert!(till.contains("开发用支付网关（模拟）") && till.contains("40.00"));
    let r = app
        .submit(&citizen, &cashier, &cashier, &[("outcome", "pay")])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert!(location(&r).ends_with(&order_page));
    // Back at the portal before the callback: it says it is confirming.
    let (_, waiting) = app.text_with(&citizen, &order_page).await;
    assert!(waiting.contains("正在确认支付结果") && waiting.contains("http-equiv=\"refresh\""));
    // The worker sends the gateway's two callbacks over HTTP.
    assert!(app.state.worker().run_due(&app.db.db).await.unwrap() >= 2);
    (citizen, clerk, number, order)
}

#[tokio::test]
async fn a_fee_is_paid_once_through_the_gateway_and_a_replayed_callback_changes_nothing() {
    let app = TestApp::spawn_unlimited().await;
    let (citizen, clerk, number, order) = paid_case(&app).await;
    let order_page = format!("/my/payments/{order}");
    let (_, paid) = app.text_with(&citizen, &order_page).await;
    assert!(paid.contains("缴费成功") && paid.contains("/receipt"));
    assert_eq!(paid_events(&app).await, (1, 1), "two callbacks, paid once");

    // A replay of the very same signed callback, and an altered one.
    let payloads: Vec<String> =
        sqlx::query_scalar("SELECT payload FROM jobs WHERE kind = 'dev_gateway_notify'")
            .fetch_all(app.db.db.pool())
            .await
            .unwrap();
    let v: serde_json::Value = serde_json::from_str(&payloads[0]).unwrap();
    let (body, sig) = (
        v["body"].as_str().unwrap(),
        v["signature"].as_str().unwrap(),
    );
    let post = |b: String| {
        app.client
            .post(app.url("/pay/notify"))
            .header("content-type", "application/json")
            .header("x-gateway-signature", sig)
            .body(b)
            .send()
    };
    let r = post(body.to_string()).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), "SUCCESS");
    let r = post(body.replace("\"SUCCESS\"", "\"FAIL\"")).await.unwrap();
    assert_eq!(r.status().as_u16(), 400, "an altered body does not verify");
    assert_eq!(paid_events(&app).await, (1, 2));
    let receipts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payment_receipts")
        .fetch_one(app.db.db.pool())
        .await
        .unwrap();
    assert_eq!(receipts, 1);

    // The 电子票据: printable with its check code, downloadable, verifiable.
    let (status, receipt) = app
        .text_with(&citizen, &format!("{order_page}/receipt"))
        .await;
    assert_eq!(status, 200);
    assert!(receipt.contains("电子票据") && receipt.contains("张*"));
    let at = receipt.find("/receipts/verify?number=").unwrap();
    let verify = unescape(
        &receipt[at..]
            .chars()
            .take_while(|c| *c != '<' && *c != '"')
            .collect::<String>(),
    );
    let (_, ok) = app.text(&verify).await;
    assert!(
        ok.contains("票据真实有效") && ok.contains("40.00"),
        "{verify}"
    );
    let wrong = format!("{}0000", verify.trim_end_matches(char::is_alphanumeric));
    let (_, bad) = app.text(&wrong).await;
    assert!(bad.contains("没有查到"));
    let r = citizen
        .get(app.url(&format!("{order_page}/receipt.json")))
        .send()
        .await
        .unwrap();
    let doc: serde_json::Value = r.json().await.unwrap();
    assert_eq!(doc["body"]["amount_cents"], 4000);
    assert!(doc["signature"].as_str().is_some_and(|s| s.len() > 40));
    // Someone else's order is not theirs to see.
    let other = app.citizen("13900002222").await;
    assert_eq!(app.text_with(&other, &order_page).await.0, 404);

    // Paid: the case concludes.
    let r = act(&app, &clerk, &number, &[("action", "conclude")]).await;
    assert_eq!(r.status().as_u16(), 303);
}

#[tokio::test]
async fn finance_refunds_with_a_second_officer_and_the_reconciliation_shows_a_planted_mismatch() {
    let app = TestApp::spawn_unlimited().await;
    let (_, clerk, _, order) = paid_case(&app).await;
    let asker = app
        .staff_in_role("cw.zhang", "500000-GA-HZ", "finance")
        .await;
    let approver = app.staff_in_role("cw.li", "500000-GA", "finance").await;
    assert_eq!(app.text_with(&clerk, "/admin/payments").await.0, 403);
    let (status, desk) = app.text_with(&asker, "/admin/payments").await;
    assert_eq!(status, 200);
    assert!(desk.contains(&order));

    let page = format!("/admin/payments/{order}");
    let refund = format!("{page}/refund");
    let r = app
        .submit(
            &asker,
            &page,
            &refund,
            &[("amount", "99"), ("reason", "多收")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("超过可退金额") && html.contains("value=\"99\""));
    let r = app
        .submit(
            &asker,
            &page,
            &refund,
            &[("amount", "10"), ("reason", "误收证件损坏换领费差额")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, own) = app.text_with(&asker, &page).await;
    assert!(!own.contains("同意退款"), "not one's own request");
    let (_, theirs) = app.text_with(&approver, &page).await;
    assert!(theirs.contains("同意退款"));
    let refund_no: String = sqlx::query_scalar("SELECT number FROM payment_refunds")
        .fetch_one(app.db.db.pool())
        .await
        .unwrap();
    let r = app
        .submit(
            &approver,
            &page,
            &format!("{page}/refunds/{refund_no}"),
            &[("decision", "approve"), ("note", "同意")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, after) = app.text_with(&approver, &page).await;
    assert!(after.contains("¥10.00") && after.contains("退款完成"));

    // The gateway's books show another amount: the reconciliation says so.
    sqlx::query("UPDATE dev_gateway_ledger SET amount_cents = 4100")
        .execute(app.db.db.pool())
        .await
        .unwrap();
    let today = zhiban_domain::time::local_date(app.db.db.now()).to_string();
    let (_, desk) = app.text_with(&asker, "/admin/payments").await;
    let form = reqwest::multipart::Form::new()
        .text("_csrf", hidden(&desk, "_csrf"))
        .text("day", today.clone());
    let r = asker
        .post(app.url("/admin/payments/reconcile"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let (_, desk) = app.text_with(&asker, "/admin/payments").await;
    assert!(desk.contains("金额不一致") && desk.contains("41.00") && desk.contains(&order));

    // A statement file finance received: a line for a payment nobody made.
    let r = asker
        .get(app.url(&format!("/admin/payments/statement?day={today}")))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let mut csv = r.text().await.unwrap();
    assert!(csv.contains(&order) && csv.contains("41.00"));
    csv.push_str(&format!("{today} 10:00:00,DEVGHOST,ZF-GHOST,支付,20.00\n"));
    let upload = |body: Vec<u8>| {
        reqwest::multipart::Form::new()
            .text("_csrf", hidden(&desk, "_csrf"))
            .text("day", today.clone())
            .part(
                "file:statement",
                reqwest::multipart::Part::bytes(body).file_name("statement.csv"),
            )
    };
    let r = asker
        .post(app.url("/admin/payments/reconcile"))
        .multipart(upload(csv.into_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let (_, desk) = app.text_with(&asker, "/admin/payments").await;
    assert!(desk.contains("ZF-GHOST") && desk.contains("网关有、本系统无"));
    // A file that is not a statement is refused in words.
    let r = asker
        .post(app.url("/admin/payments/reconcile"))
        .multipart(upload(b"a,b\n1,\"x".to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("对账单文件"));
}

#[tokio::test]
async fn a_traffic_fine_is_looked_up_by_number_and_plate_and_paid_after_signing_in() {
    let app = TestApp::spawn_unlimited().await;
    zhiban_domain::payments::fines::load_demo(&app.db.db)
        .await
        .unwrap();
    let (status, page) = app.text("/fines").await;
    assert_eq!(status, 200);
    assert!(page.contains("决定书编号"));
    let lookup = |c: reqwest::Client, no: &'static str, plate: &'static str| {
        let url = app.url("/fines");
        async move {
            c.post(url)
                .form(&[("decision_no", no), ("plate", plate)])
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let wrong = lookup(client(), "5001051000023456", "渝A00000").await;
    assert!(wrong.contains("没有查到"));
    let found = lookup(client(), "5001051000023456", "渝b·a8861").await;
    assert!(found.contains("机动车违反规定停放") && found.contains("王*"));
    assert!(
        found.contains("¥262.50"),
        "the fine and 25 days of 加处罚款"
    );
    assert!(found.contains("/login?next=/fines"), "sign in to pay");
    let blank = lookup(client(), "", "").await;
    assert!(blank.contains("#decision_no") && blank.contains("#plate"));

    let payer = app.citizen("13900003333").await;
    let signed_in = lookup(payer.clone(), "5001051000023456", "渝BA8861").await;
    let r = payer
        .post(app.url("/fines/pay"))
        .form(&[
            ("_csrf", hidden(&signed_in, "_csrf").as_str()),
            ("decision_no", "5001051000023456"),
            ("plate", "渝BA8861"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let cashier = location(&r);
    assert!(cashier.starts_with("/dev-gateway/pay/"));
    let (_, till) = app.text_with(&payer, &cashier).await;
    assert!(till.contains("262.50") && till.contains("交通违法罚款"));
    let r = app
        .submit(&payer, &cashier, &cashier, &[("outcome", "pay")])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    app.state.worker().run_due(&app.db.db).await.unwrap();
    let paid = lookup(client(), "5001051000023456", "渝BA8861").await;
    assert!(paid.contains("已缴纳") && !paid.contains("缴纳罚款 ¥"));
    let (_, mine) = app.text_with(&payer, "/my/payments").await;
    assert!(mine.contains("交通违法罚款") && mine.contains("已缴费"));
}
