//! 好差评 over real HTTP: an applicant rates a concluded case (a refused
//! rating comes back with what was chosen), the unit puts the bad rating
//! right and calls back, the applicant appeals once; a counter visitor
//! rates from the texted link without an account; staff out of scope see
//! nothing; the public figures, the JSON summary and the staff CSV.

use zhiban_domain::pii;
use zhiban_store::sqlx;
use zhiban_testing::html::*;
use zhiban_testing::*;

use super::cases::{ID_NUMBER, PHONE, act, apply, waive};

async fn rectification_id(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT id FROM rectifications ORDER BY id DESC LIMIT 1")
        .fetch_one(app.db.db.pool())
        .await
        .expect("rectification")
}

#[tokio::test]
async fn an_applicant_rates_a_case_the_unit_puts_it_right_and_the_figures_are_public() {
    let app = TestApp::spawn_unlimited().await;
    let citizen = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let number = apply(&app, &citizen).await;
    let rate_page = format!("/my/cases/{number}/rate");

    // Not before a result is reached.
    let (status, early) = app.text_with(&citizen, &rate_page).await;
    assert_eq!(status, 200);
    assert!(early.contains("办件办结后即可评价") && !early.contains("name=\"score\""));
    let (_, case_page) = app
        .text_with(&citizen, &format!("/my/cases/{number}"))
        .await;
    assert!(!case_page.contains(&rate_page));

    let desk = app
        .staff_in_role("hz.clerk", "500000-GA-HZ", "case_handler")
        .await;
    waive(&app, &desk, &number).await;
    for step in [
        vec![("action", "accept")],
        vec![("action", "approve"), ("reason", "符合补领条件")],
        vec![("action", "conclude")],
    ] {
        let r = act(&app, &desk, &number, &step).await;
        assert_eq!(r.status().as_u16(), 303, "{step:?}");
    }
    let (_, case_page) = app
        .text_with(&citizen, &format!("/my/cases/{number}"))
        .await;
    assert!(case_page.contains(&rate_page) && case_page.contains("评价本次服务"));

    // A bad rating without a reason comes back with the level still chosen.
    let r = app
        .submit(
            &citizen,
            &rate_page,
            &rate_page,
            &[("score", "2"), ("anonymous", "")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("请选择需要改进的问题，或写下不满意的原因"));
    assert!(html.contains("value=\"2\" id=\"score-2\" checked"));

    let r = app
        .submit(
            &citizen,
            &rate_page,
            &rate_page,
            &[
                ("score", "1"),
                ("tags", "等待时间长"),
                ("tags", "材料反复提交"),
                ("comment", "窗口只开了一个，<b>等了很久</b>"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(location(&r), format!("{rate_page}?done=rated"));
    let (_, rated) = app
        .text_with(&citizen, &format!("{rate_page}?done=rated"))
        .await;
    assert!(rated.contains("感谢您的评价") && rated.contains("非常不满意"));
    assert!(rated.contains("等待时间长、材料反复提交"));
    assert!(
        rated.contains("等了很久") && !rated.contains("<b>等了很久"),
        "escaped"
    );
    assert!(rated.contains("待核实"));
    // A second submission changes nothing.
    let (_, form_page) = app
        .text_with(&citizen, &format!("/my/cases/{number}"))
        .await;
    let r = citizen
        .post(app.url(&rate_page))
        .form(&[
            ("_csrf", hidden(&form_page, "_csrf").as_str()),
            ("score", "5"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("每次办事只能评价一次"));
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ratings")
        .fetch_one(app.db.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);

    // The unit's desk: the rating, then fixed and called back.
    let lead = app
        .staff_in_role("hz.lead", "500000-GA-HZ", "case_handler")
        .await;
    let (status, list) = app.text_with(&lead, "/admin/ratings").await;
    assert_eq!(status, 200);
    let id = rectification_id(&app).await;
    assert!(list.contains(&format!("/admin/ratings/{id}")) && list.contains("居民身份证补领"));
    let page = format!("/admin/ratings/{id}");
    let (_, detail) = app.text_with(&lead, &page).await;
    assert!(detail.contains("窗口只开了一个") && detail.contains("hz.clerk"));
    let act_path = format!("{page}/act");
    let r = app
        .submit(&lead, &page, &act_path, &[("action", "fix"), ("note", " ")])
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let r = app
        .submit(
            &lead,
            &page,
            &act_path,
            &[("action", "fix"), ("note", "已增开两个窗口")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let r = app
        .submit(
            &lead,
            &page,
            &act_path,
            &[("action", "followup"), ("note", "电话回访，群众认可")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, detail) = app.text_with(&lead, &page).await;
    assert!(detail.contains("已办结") && detail.contains("电话回访，群众认可"));

    // Someone out of scope finds nothing.
    let other = app
        .staff_in_role("yz.lead", "500103-MZ", "case_handler")
        .await;
    assert_eq!(app.text_with(&other, &page).await.0, 404);
    let (_, theirs) = app.text_with(&other, "/admin/ratings?tab=all").await;
    assert!(!theirs.contains(&page));

    // The applicant reads the outcome and appeals once.
    let (_, outcome) = app.text_with(&citizen, &rate_page).await;
    assert!(outcome.contains("已增开两个窗口") && outcome.contains("提交申诉"));
    let appeal = format!("/my/cases/{number}/appeal");
    let r = app
        .submit(&citizen, &rate_page, &appeal, &[("appeal", "")])
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let r = app
        .submit(
            &citizen,
            &rate_page,
            &appeal,
            &[("appeal", "今天去还是只有一个窗口")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, again) = app.text_with(&citizen, &rate_page).await;
    assert!(again.contains("待核实") && !again.contains("提交申诉"));

    // Public figures, the JSON summary (in the OpenAPI document) and the CSV.
    let (status, public) = app.text("/ratings").await;
    assert_eq!(status, 200);
    assert!(public.contains("渝州市公安局户政管理总队") && public.contains("居民身份证补领"));
    let (status, json) = app.json("/api/v1/ratings/summary").await;
    assert_eq!(status, 200);
    assert_eq!(json["total"]["ratings"], 1);
    assert_eq!(json["total"]["bad"], 1);
    assert_eq!(json["total"]["satisfaction_rate"], 0.0);
    assert_eq!(json["units"][0]["name"], "渝州市公安局户政管理总队");
    let (status, bad) = app.json("/api/v1/ratings/summary?month=2026-13").await;
    assert_eq!(status, 400);
    assert_eq!(bad["error"]["code"], "invalid_parameter");
    let (_, spec) = app.json("/api/openapi.json").await;
    assert!(spec["paths"]["/api/v1/ratings/summary"]["get"].is_object());
    let r = lead
        .get(app.url("/admin/ratings/report.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    assert!(csv.contains("合计") && csv.contains("hz.clerk"));
}

#[tokio::test]
async fn a_counter_visitor_rates_from_the_texted_link_without_an_account() {
    let app = TestApp::spawn_unlimited().await;
    let window = app
        .staff_in_role("hz.window", "500000-GA-HZ", "case_handler")
        .await;
    let invite = "/admin/ratings/invite";
    let (status, form) = app.text_with(&window, invite).await;
    assert_eq!(status, 200);
    assert!(
        form.contains("居民身份证补领"),
        "the unit's items to pick from"
    );
    let code = app.code_of("居民身份证补领").await;
    let r = app
        .submit(
            &window,
            invite,
            invite,
            &[("phone", "12345"), ("item", &code)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("value=\"12345\"") && html.contains("#phone"));
    let r = app
        .submit(
            &window,
            invite,
            invite,
            &[("phone", "13800138088"), ("item", &code)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);

    // The link is in the text queued for the visitor.
    let stored: Vec<String> = sqlx::query_scalar("SELECT payload FROM jobs WHERE kind = 'sms'")
        .fetch_all(app.db.db.pool())
        .await
        .unwrap();
    let text = stored
        .iter()
        .map(|t| pii::open(&app.db.db, pii::ctx::JOB_PAYLOAD, t).unwrap())
        .find(|t| t.contains("13800138088"))
        .expect("texted");
    let at = text.find("/rate/").expect("link") + "/rate/".len();
    let token: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    let link = format!("/rate/{token}");

    let visitor = client();
    let (status, page) = app.text_with(&visitor, &link).await;
    assert_eq!(status, 200);
    assert!(page.contains("窗口服务评价") && page.contains("居民身份证补领"));
    // Without the form token: refused.
    let r = visitor
        .post(app.url(&link))
        .form(&[("score", "5")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = app
        .submit(
            &visitor,
            &link,
            &link,
            &[("score", "4"), ("tags", "办理速度快")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, done) = app.text_with(&visitor, &format!("{link}?done=rated")).await;
    assert!(done.contains("感谢您的评价") && done.contains("办理速度快"));
    assert!(!done.contains("name=\"score\""), "rated once");
    assert_eq!(app.text_with(&visitor, "/rate/0123abcd").await.0, 404);

    let (_, json) = app.json("/api/v1/ratings/summary").await;
    assert_eq!(json["total"]["ratings"], 1);
    assert_eq!(json["total"]["satisfaction_rate"], 100.0);
    assert_eq!(json["items"][0]["key"], code.as_str());
}
