//! 一件事一次办 over real HTTP: the public list and guide, the JSON list in
//! the OpenAPI document, the wizard whose questions decide the form, and
//! staff defining and publishing a bundle.

use zhiban_testing::{TestApp, hidden};

#[tokio::test]
async fn the_public_sees_bundles_their_guides_and_the_json_list() {
    let app = TestApp::spawn().await;
    let (status, html) = app.text("/bundles").await;
    assert_eq!(status, 200);
    for name in [
        "新生儿出生一件事",
        "企业开办一件事",
        "身后一件事",
        "新车上牌一件事",
    ] {
        assert!(html.contains(name), "{name}");
    }
    let (status, guide) = app.text("/bundles/birth").await;
    assert_eq!(status, 200);
    assert!(guide.contains("出生登记") && guide.contains("社会保障卡申领"));
    assert!(guide.contains("是否同时申领社会保障卡"));
    assert!(guide.contains("/bundles/birth/apply"));
    assert_eq!(app.get("/bundles/nope").await.status().as_u16(), 404);
    let (status, json) = app.json("/api/v1/bundles").await;
    assert_eq!(status, 200);
    let list = json.as_array().expect("array");
    assert!(list.len() >= 6);
    let birth = list
        .iter()
        .find(|b| b["code"] == "birth")
        .expect("birth listed");
    assert_eq!(birth["items"][0]["code"], "500000-WJ-0001-01");
    assert_eq!(birth["items"][0]["stage"], 1);
    assert_eq!(birth["items"][2]["condition"]["question"], "yb");
    let (_, spec) = app.json("/api/openapi.json").await;
    assert!(spec["paths"]["/api/v1/bundles"]["get"].is_object());
}

#[tokio::test]
async fn the_answers_to_the_questions_decide_the_form_and_nothing_typed_is_lost() {
    let app = TestApp::spawn().await;
    let c = app
        .verified_citizen("13800138111", "张伟", "11010519491231002X")
        .await;
    let (status, html) = app.text_with(&c, "/bundles/retire/apply").await;
    assert_eq!(status, 200);
    assert!(html.contains("是否缴存过住房公积金"));
    // Going on without answering: told what is missing.
    let csrf = hidden(&html, "_csrf");
    let r = c
        .post(app.url("/bundles/retire/apply"))
        .multipart(
            reqwest::multipart::Form::new()
                .text("_csrf", csrf.clone())
                .text("_page", "0")
                .text("_go", "next"),
        )
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 422);
    let r = c
        .post(app.url("/bundles/retire/apply"))
        .multipart(
            reqwest::multipart::Form::new()
                .text("_csrf", csrf)
                .text("_page", "0")
                .text("_go", "next")
                .text("q_gjj", "是"),
        )
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 303);
    // The materials page asks for what the 公积金 item needs too.
    let (_, all) = app.text_with(&c, "/bundles/retire/apply?page=9").await;
    assert!(
        all.contains("住房公积金提取（退休）"),
        "checklist names the item"
    );
    // The draft is listed to continue.
    let (_, mine) = app.text_with(&c, "/my/cases").await;
    assert!(mine.contains("/bundles/retire/apply"));
}

#[tokio::test]
async fn staff_define_check_and_publish_a_bundle() {
    let app = TestApp::spawn().await;
    app.login().await;
    let bad = app
        .submit(
            &app.client,
            "/admin/bundles/new",
            "/admin/bundles/new",
            &[
                ("code", "marry"),
                ("name", "结婚一件事"),
                ("audience", "person"),
                ("questions", "hk|是否变更户口登记项目|是"),
                ("items", "500000-MZ-0001-01|1\n500000-NOPE|2"),
            ],
        )
        .await;
    assert_eq!(bad.status().as_u16(), 422);
    let text = bad.text().await.expect("body");
    assert!(text.contains("第 1 行应写作"), "question line named");
    let r = app
        .submit(
            &app.client,
            "/admin/bundles/new",
            "/admin/bundles/new",
            &[
                ("code", "marry"),
                ("name", "结婚一件事"),
                ("audience", "person"),
                ("questions", "hk|是否变更户口登记项目|是/否"),
                ("items", "500000-MZ-0001-01|1\n500000-GA-HZ-0006-04|2|hk=是"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(app.get("/bundles/marry").await.status().as_u16(), 404);
    let r = app
        .submit(
            &app.client,
            "/admin/bundles/marry/edit",
            "/admin/bundles/marry/publish",
            &[],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (status, guide) = app.text("/bundles/marry").await;
    assert_eq!(status, 200);
    assert!(guide.contains("内地居民结婚登记"));
}
