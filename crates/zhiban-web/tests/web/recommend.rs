//! 服务找人 over real HTTP: the account centre suggests services with their
//! reasons and can turn them off; city editors change the rules, a bad
//! rule comes back as typed, and a district editor cannot.

use zhiban_testing::*;

#[tokio::test]
async fn the_account_suggests_services_with_reasons_and_they_can_be_turned_off() {
    let app = TestApp::spawn_unlimited().await;
    // A man of 61 (born 1965-05-20).
    let c = app
        .verified_citizen("13900004444", "赵建国", "110105196505200033")
        .await;
    let (status, page) = app.text_with(&c, "/account").await;
    assert_eq!(status, 200);
    assert!(page.contains("为您推荐") && page.contains("基本养老保险待遇申领（退休）"));
    assert!(page.contains("推荐理由：您今年 61 岁"));
    let r = app
        .submit(
            &c,
            "/account",
            "/account/recommendations",
            &[("recommend", "off")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, off) = app.text_with(&c, "/account").await;
    assert!(off.contains("您已关闭服务推荐") && !off.contains("基本养老保险待遇申领（退休）"));
    app.submit(
        &c,
        "/account",
        "/account/recommendations",
        &[("recommend", "on")],
    )
    .await;
    let (_, on) = app.text_with(&c, "/account").await;
    assert!(on.contains("基本养老保险待遇申领（退休）"));
}

#[tokio::test]
async fn city_editors_change_the_rules_and_a_bad_rule_comes_back_as_typed() {
    let app = TestApp::spawn_unlimited().await;
    app.login().await;
    let (status, page) = app.text("/admin/recommend").await;
    assert_eq!(status, 200);
    assert!(page.contains("小学入学") && page.contains("退休待遇申领（男）"));
    let fields = [
        ("code", "retirement-men"),
        ("name", "退休待遇申领（男）"),
        ("kind", "age"),
        ("min", "65"),
        ("max", "60"),
        ("sex", "男"),
        ("service_code", "500000-RS-0004-01"),
        ("reason", "您今年 {年龄} 岁"),
        ("active", "1"),
    ];
    let r = app
        .submit(&app.client, "/admin/recommend", "/admin/recommend", &fields)
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("value=\"65\"") && html.contains("#max"));
    let mut fixed = fields.to_vec();
    fixed[4] = ("max", "70");
    fixed[3] = ("min", "62");
    let r = app
        .submit(&app.client, "/admin/recommend", "/admin/recommend", &fixed)
        .await;
    assert_eq!(r.status().as_u16(), 303);
    // Now a man of 61 is not suggested it.
    let c = app
        .verified_citizen("13900004445", "钱建国", "110105196505200033")
        .await;
    let (_, page) = app.text_with(&c, "/account").await;
    assert!(!page.contains("基本养老保险待遇申领（退休）"));
    let district = app
        .staff_in_role("yz.editor", "500103-MZ", "catalog_editor")
        .await;
    let r = app
        .submit(&district, "/admin/recommend", "/admin/recommend", &fixed)
        .await;
    assert_eq!(r.status().as_u16(), 409);
}
