//! 线索举报 over HTTP: an anonymous tip without an account, its receipt
//! page never cached, the follow-up with the code and the secret, the
//! unit's question and the reporter's answer; nobody else reads it.

use zhiban_testing::*;

fn between<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page.find(&format!("id=\"{id}\">")).expect(id) + id.len() + 6;
    let end = page[start..].find('<').expect("end") + start;
    &page[start..end]
}

#[tokio::test]
async fn an_anonymous_tip_is_answered_and_followed_up_without_an_account() {
    let app = TestApp::spawn_unlimited().await;
    let reporter = client();
    let (status, form) = app.text_with(&reporter, "/tips").await;
    assert_eq!(status, 200);
    assert!(form.contains("您未登录，本次为匿名举报"));
    // Too short: the form comes back with the text.
    let r = app
        .submit(
            &reporter,
            "/tips",
            "/tips",
            &[("category", "fraud"), ("content", "骗子")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.expect("page").contains(">骗子</textarea>"));
    let content = "有人冒充快递客服打电话让我下载会议软件共享屏幕，号码是 17000001234";
    let r = app
        .submit(
            &reporter,
            "/tips",
            "/tips",
            &[("category", "fraud"), ("content", content)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "the secret is never cached"
    );
    let page = r.text().await.expect("receipt");
    let receipt = between(&page, "tip-receipt").to_string();
    let secret = between(&page, "tip-secret").to_string();
    assert!(receipt.starts_with("XS") && secret.len() == 12);

    // The receiving unit reads it and asks; the administrator cannot.
    let handler = app
        .staff_in_role("xs.handler", "500000-GA", "tip_handler")
        .await;
    let (_, list) = app.text_with(&handler, "/admin/tips").await;
    assert!(
        list.contains(&receipt) && !list.contains("会议软件"),
        "the list has no content"
    );
    let path = format!("/admin/tips/{receipt}");
    let (status, detail) = app.text_with(&handler, &path).await;
    assert_eq!(status, 200);
    assert!(detail.contains("会议软件"));
    app.login().await;
    assert_eq!(
        app.get(&path).await.status().as_u16(),
        403,
        "the system administrator"
    );
    let other = app
        .staff_in_role("xs.other", "500000-GA-ZA", "tip_handler")
        .await;
    assert_eq!(app.text_with(&other, &path).await.0, 404, "another unit");
    let r = app
        .submit(
            &handler,
            &path,
            &format!("{path}/message"),
            &[("message", "请问对方让您下载的是哪个软件？")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);

    // The reporter opens it with the two codes, reads the question and answers.
    let (_, follow) = app.text_with(&reporter, "/tips/follow").await;
    assert!(follow.contains("查询密码"));
    let wrong = app
        .submit(
            &reporter,
            "/tips/follow",
            "/tips/follow",
            &[("receipt", receipt.as_str()), ("secret", "WRONGSECRET2")],
        )
        .await;
    assert!(
        wrong
            .text()
            .await
            .expect("page")
            .contains("回执码或查询密码不正确")
    );
    let r = app
        .submit(
            &reporter,
            "/tips/follow",
            "/tips/follow",
            &[("receipt", receipt.as_str()), ("secret", secret.as_str())],
        )
        .await;
    let seen = r.text().await.expect("page");
    assert!(seen.contains("哪个软件") && seen.contains("核查中"));
    let r = app
        .submit(
            &reporter,
            "/tips/follow",
            "/tips/follow",
            &[
                ("receipt", receipt.as_str()),
                ("secret", secret.as_str()),
                ("reply", "1"),
                ("message", "叫什么会议助手，图标是蓝色的"),
            ],
        )
        .await;
    assert!(r.text().await.expect("page").contains("会议助手"));
    let (_, detail) = app.text_with(&handler, &path).await;
    assert!(detail.contains("会议助手"), "the unit reads the answer");

    // A colleague who joins later is told a holder must grant the key;
    // the holder sees them waiting, grants it, and then they read.
    let colleague = app
        .staff_in_role("xs.colleague", "500000-GA", "tip_handler")
        .await;
    let (status, refused) = app.text_with(&colleague, &path).await;
    assert_eq!(status, 409);
    assert!(refused.contains("授权"), "says what to do");
    assert!(!refused.contains("会议软件"));
    let (_, list) = app.text_with(&handler, "/admin/tips").await;
    assert!(list.contains("xs.colleague") && list.contains("授予密钥"));
    let id: i64 = zhiban_store::sqlx::query_scalar(
        "SELECT id FROM staff_users WHERE username = 'xs.colleague'",
    )
    .fetch_one(app.db.db.pool())
    .await
    .expect("id");
    let r = app
        .submit(
            &handler,
            "/admin/tips",
            "/admin/tips/keys",
            &[("colleague", id.to_string().as_str())],
        )
        .await;
    assert_eq!(location(&r), "/admin/tips?granted=1");
    let (status, detail) = app.text_with(&colleague, &path).await;
    assert_eq!(status, 200);
    assert!(detail.contains("会议软件"));
}

#[tokio::test]
async fn a_photo_sent_with_a_tip_survives_a_bad_form_and_opens_for_the_unit_only() {
    let app = TestApp::spawn_unlimited().await;
    let reporter = client();
    let r = app
        .submit_multipart(
            &reporter,
            "/tips",
            "/tips",
            &[("category", "fraud"), ("content", "骗子")],
            &[("files", "转账截图.png", samples::PNG)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.expect("page");
    assert!(page.contains("转账截图.png"), "the photo is kept");
    let staged: String = page
        .split("name=\"staged_file\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("staged id")
        .to_string();
    let r = app
        .submit_multipart(
            &reporter,
            "/tips",
            "/tips",
            &[
                ("category", "fraud"),
                (
                    "content",
                    "有人冒充客服让我转账到安全账户，转账截图附上，对方账号尾号 8861",
                ),
                ("staged_file", &staged),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.expect("receipt");
    let receipt = between(&page, "tip-receipt").to_string();
    let handler = app
        .staff_in_role("xs.handler", "500000-GA", "tip_handler")
        .await;
    let path = format!("/admin/tips/{receipt}");
    let (_, detail) = app.text_with(&handler, &path).await;
    assert!(detail.contains("转账截图.png"));
    let link = format!("{path}/files/{staged}");
    let f = handler.get(app.url(&link)).send().await.expect("file");
    assert_eq!(f.status().as_u16(), 200);
    assert_eq!(f.bytes().await.expect("body").as_ref(), samples::PNG);
    app.login().await;
    assert_eq!(
        app.get(&link).await.status().as_u16(),
        403,
        "the administrator"
    );
}
