//! 征集调查 over HTTP: a survey answered without an account once per
//! browser (its multiple choice posted as repeated fields), a problem
//! coming back with the answers kept; a comment from a signed-in person
//! shown after moderation; results and the CSV for staff; other units and
//! people without the role get nothing.

use zhiban_testing::*;

async fn schedule_survey(app: &TestApp, staff: &reqwest::Client) -> String {
    let unit = app.unit_id("500000-SWW").await.to_string();
    let r = app
        .submit(
            staff,
            "/admin/consultations/new",
            "/admin/consultations/new",
            &[
                ("kind", "survey"),
                ("title", "观音桥夜市经营管理问卷"),
                ("summary", "了解市民对夜市的需求。"),
                (
                    "schema_json",
                    r#"{"title": "夜市", "pages": [{"title": "问题", "fields": [
                      {"key": "go", "label": "您多久逛一次夜市？", "kind": "choice", "required": true, "options": ["每周", "每月", "很少"]},
                      {"key": "want", "label": "希望增加什么？", "kind": "multi_choice", "options": ["美食", "文创", "停车位"]},
                      {"key": "score", "label": "满意度", "kind": "rating", "required": true}]}]}"#,
                ),
                ("anonymous", "1"),
                ("unit", &unit),
                ("opens_at", "2020-01-01T09:00"),
                ("closes_at", "2099-01-01T18:00"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303, "saved");
    location(&r)
        .trim_start_matches("/admin/consultations/")
        .split('?')
        .next()
        .expect("id")
        .to_string()
}

#[tokio::test]
async fn a_survey_is_answered_once_per_browser_and_counted_for_staff() {
    let app = TestApp::spawn_unlimited().await;
    let staff = app.staff_in_role("zj.sw", "500000-SWW", "reviewer").await;
    let id = schedule_survey(&app, &staff).await;
    let page = format!("/consultations/{id}");
    let visitor = client();
    let (status, html) = app.text_with(&visitor, &page).await;
    assert_eq!(status, 200);
    assert!(html.contains("type=\"checkbox\" name=\"want\" value=\"停车位\""));
    assert!(html.contains("type=\"radio\" name=\"score\" value=\"5\""));
    // Missing the rating: back with the choices kept.
    let r = app
        .submit(
            &visitor,
            &page,
            &format!("{page}/answers"),
            &[("go", "每周"), ("want", "美食"), ("want", "停车位")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.expect("page");
    assert!(html.contains("error-summary"));
    assert!(html.contains("value=\"停车位\" checked"), "kept: {html}");
    let r = app
        .submit(
            &visitor,
            &page,
            &format!("{page}/answers"),
            &[
                ("go", "每周"),
                ("want", "美食"),
                ("want", "停车位"),
                ("score", "4"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, html) = app.text_with(&visitor, &location(&r)).await;
    assert!(html.contains("感谢参与"));
    let (_, html) = app.text_with(&visitor, &page).await;
    assert!(html.contains("您已参与过本次调查") && !html.contains("提交答卷"));
    // Posting again from the same browser is refused.
    let again = app
        .submit(
            &visitor,
            "/tips",
            &format!("{page}/answers"),
            &[("go", "每周"), ("score", "4")],
        )
        .await;
    assert_eq!(again.status().as_u16(), 409);
    // Staff see the counts and download the answers.
    let (_, html) = app
        .text_with(&staff, &format!("/admin/consultations/{id}"))
        .await;
    assert!(html.contains("共收到答卷 1 份"));
    assert!(html.contains("<th scope=\"row\">停车位</th><td>1</td><td>100%</td>"));
    let csv = staff
        .get(app.url(&format!("/admin/consultations/{id}/answers.csv")))
        .send()
        .await
        .expect("csv");
    assert_eq!(
        csv.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let body = csv.text().await.expect("body");
    assert!(body.starts_with('\u{feff}'));
    assert!(body.contains(",每周,美食、停车位,4"));
    // Another unit's staff, and people without the role, get nothing.
    let other = app.staff_in_role("zj.ga", "500000-GA", "reviewer").await;
    assert_eq!(
        app.text_with(&other, &format!("/admin/consultations/{id}"))
            .await
            .0,
        404
    );
    assert_eq!(
        app.text_with(&other, &format!("/admin/consultations/{id}/answers.csv"))
            .await
            .0,
        404
    );
    let handler = app
        .staff_in_role("zj.h", "500000-SWW", "case_handler")
        .await;
    assert_eq!(app.text_with(&handler, "/admin/consultations").await.0, 403);
}

#[tokio::test]
async fn a_comment_needs_an_account_and_shows_after_moderation() {
    let app = TestApp::spawn_unlimited().await;
    let (_, list) = app.text("/consultations").await;
    let open: String = list
        .split("正在征集")
        .nth(1)
        .and_then(|s| s.split("href=\"/consultations/").nth(1))
        .and_then(|s| s.split('"').next())
        .expect("the demo's open draft")
        .to_string();
    let page = format!("/consultations/{open}");
    let (_, html) = app.text(&page).await;
    assert!(html.contains("征求意见稿") && html.contains("登录后可以提交意见"));
    assert!(
        !html.contains("name=\"comment\""),
        "no form without an account"
    );
    let citizen = app.citizen("13800138404").await;
    let text = "建议第四条的投放时段增加晚上八点到九点，方便上班族。";
    let r = app
        .submit(
            &citizen,
            &page,
            &format!("{page}/comments"),
            &[("comment", text)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, html) = app.text(&page).await;
    assert!(!html.contains(text), "not before moderation");
    app.login().await;
    let admin_page = format!("/admin/consultations/{open}");
    let (_, html) = app.text(&admin_page).await;
    let marker = format!("{text}</p>");
    let after = html.split(&marker).nth(1).expect("pending comment listed");
    let comment_id: String = after
        .split("name=\"comment\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("its id")
        .to_string();
    let r = app
        .submit(
            &app.client,
            &admin_page,
            &format!("{admin_page}/comments"),
            &[("comment", &comment_id), ("action", "show")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, html) = app.text_with(&client(), &page).await;
    assert!(html.contains(text));
}
