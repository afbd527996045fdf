//! Citizens' accounts over real HTTP: registration with an SMS code,
//! sign-in by password and by code, the account centre with masked data,
//! real-name verification, sign out everywhere, download and deletion.

#![allow(clippy::expect_used)]

mod common;

use common::{TestApp, hidden, spawn_app};

const PHONE: &str = "13800138000";
const PASSWORD: &str = "Citiz3n!pw";
const ID_NUMBER: &str = "11010519491231002X";

/// Moves every code a minute into the past (the resend wait is over).
async fn a_minute_passes(app: &TestApp) {
    zhiban_store::sqlx::query("UPDATE sms_codes SET created_at = created_at - 61")
        .execute(app.db.db.pool())
        .await
        .expect("age codes");
}

/// The newest code the development gateway wrote for `phone`.
async fn last_code(app: &TestApp, phone: &str) -> String {
    let body: String = zhiban_store::sqlx::query_scalar(
        "SELECT body FROM sms_outbox WHERE phone = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(phone)
    .fetch_one(app.db.db.pool())
    .await
    .expect("an SMS was written to the outbox");
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a 6-digit code")
        .to_string()
}

async fn register(app: &TestApp, phone: &str) -> reqwest::Response {
    let (_, page) = app.text("/register").await;
    let csrf = hidden(&page, "_csrf");
    let r = app
        .post_form(
            "/register/code",
            &[("phone", phone), ("_csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let masked = zhiban_domain::identity::ids::mask_phone(phone);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains(&format!("验证码已发送到 {masked}"))
    );
    let code = last_code(app, phone).await;
    app.post_form(
        "/register",
        &[
            ("phone", phone),
            ("code", code.as_str()),
            ("password", PASSWORD),
            ("password_again", PASSWORD),
            ("accept_privacy", "1"),
            ("_csrf", csrf.as_str()),
        ],
    )
    .await
}

#[tokio::test]
async fn a_person_registers_with_an_sms_code_and_sees_only_masked_data() {
    let app = spawn_app().await;
    let r = register(&app, PHONE).await;
    assert_eq!(r.status().as_u16(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .expect("loc")
            .starts_with("/account?welcome=1")
    );
    let (status, html) = app.text("/account").await;
    assert_eq!(status, 200);
    assert!(html.contains("138****8000"));
    assert!(!html.contains(PHONE), "the full number is never shown");
    assert!(html.contains("L1"));
    assert!(html.contains("同意隐私政策"), "the consent is on record");
}

#[tokio::test]
async fn registration_refuses_a_wrong_code_a_missing_consent_and_a_taken_phone() {
    let app = spawn_app().await;
    let (_, page) = app.text("/register").await;
    let csrf = hidden(&page, "_csrf");
    app.post_form(
        "/register/code",
        &[("phone", PHONE), ("_csrf", csrf.as_str())],
    )
    .await;
    let r = app
        .post_form(
            "/register",
            &[
                ("phone", PHONE),
                ("code", "000000"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
                ("_csrf", csrf.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.expect("body");
    assert!(html.contains("隐私政策"), "consent is required");
    assert!(
        html.contains(&format!("value=\"{PHONE}\"")),
        "the phone is kept"
    );

    let r = app
        .post_form(
            "/register",
            &[
                ("phone", PHONE),
                ("code", "000000"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
                ("accept_privacy", "1"),
                ("_csrf", csrf.as_str()),
            ],
        )
        .await;
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("短信验证码不正确或已过期")
    );

    // A second code within a minute is refused with the reason.
    let r = app
        .post_form(
            "/register/code",
            &[("phone", PHONE), ("_csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.expect("body").contains("60 秒后"));

    let r = app
        .post_form(
            "/register/code",
            &[("phone", "12345"), ("_csrf", csrf.as_str())],
        )
        .await;
    assert!(r.text().await.expect("body").contains("11 位手机号码"));

    // Registered once; the second registration (phone proven by its code)
    // is told to sign in instead.
    a_minute_passes(&app).await;
    assert_eq!(register(&app, PHONE).await.status().as_u16(), 303);
    a_minute_passes(&app).await;
    let r = register(&app, PHONE).await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.expect("body").contains("该手机号已注册"));
}

#[tokio::test]
async fn sign_in_by_password_or_code_never_says_whether_a_phone_is_registered() {
    let app = spawn_app().await;
    register(&app, PHONE).await;
    let fresh = TestApp::fresh_client();
    let (_, page) = app.text_with(&fresh, "/login").await;
    let csrf = hidden(&page, "_csrf");
    for phone in [PHONE, "13900139000"] {
        let r = fresh
            .post(app.url("/login"))
            .form(&[
                ("phone", phone),
                ("password", "Wrong!pass1"),
                ("_csrf", csrf.as_str()),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status().as_u16(), 401);
        assert!(
            r.text()
                .await
                .expect("body")
                .contains("手机号码、密码或验证码不正确")
        );
    }
    let r = fresh
        .post(app.url("/login"))
        .form(&[
            ("phone", PHONE),
            ("password", PASSWORD),
            ("_csrf", csrf.as_str()),
            ("next", "/services"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/services");

    // By SMS code; the code works once.
    a_minute_passes(&app).await;
    let other = TestApp::fresh_client();
    let (_, page) = app.text_with(&other, "/login?method=sms").await;
    let csrf = hidden(&page, "_csrf");
    let r = other
        .post(app.url("/login/code"))
        .form(&[("phone", PHONE), ("_csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 200);
    let code = last_code(&app, PHONE).await;
    let login = |client: &reqwest::Client| {
        client
            .post(app.url("/login/sms"))
            .form(&[
                ("phone", PHONE),
                ("code", code.as_str()),
                ("_csrf", csrf.as_str()),
            ])
            .send()
    };
    assert_eq!(login(&other).await.expect("post").status().as_u16(), 303);
    assert_eq!(
        login(&other).await.expect("post").status().as_u16(),
        401,
        "used once"
    );
}

#[tokio::test]
async fn real_name_verification_checks_the_id_number_and_raises_the_level() {
    let app = spawn_app().await;
    register(&app, PHONE).await;
    let (_, html) = app.text("/account").await;
    let csrf = hidden(&html, "_csrf");
    let r = app
        .post_form(
            "/account/realname",
            &[
                ("name", "张三"),
                ("id_number", "110105194912310021"),
                ("_csrf", csrf.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.expect("body").contains("身份证号码不正确"));
    let r = app
        .post_form(
            "/account/realname",
            &[
                ("name", "张三"),
                ("id_number", ID_NUMBER),
                ("_csrf", csrf.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, html) = app.text("/account").await;
    assert!(html.contains("L2"));
    assert!(html.contains("110***********002X"));
    assert!(html.contains("张*"));
    assert!(
        !html.contains(ID_NUMBER),
        "the full ID number is never shown"
    );
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session() {
    let app = spawn_app().await;
    register(&app, PHONE).await;
    let phone_b = TestApp::fresh_client();
    let (_, page) = app.text_with(&phone_b, "/login").await;
    let csrf = hidden(&page, "_csrf");
    phone_b
        .post(app.url("/login"))
        .form(&[
            ("phone", PHONE),
            ("password", PASSWORD),
            ("_csrf", csrf.as_str()),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(app.text_with(&phone_b, "/account").await.0, 200);
    let (_, html) = app.text("/account").await;
    assert!(html.contains("本机"));
    let csrf = hidden(&html, "_csrf");
    let r = app
        .post_form("/account/logout-all", &[("_csrf", csrf.as_str())])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let r = phone_b.get(app.url("/account")).send().await.expect("get");
    assert_eq!(
        r.status().as_u16(),
        303,
        "the other device is signed out too"
    );
}

#[tokio::test]
async fn a_person_downloads_their_data_and_deletes_their_account() {
    let app = spawn_app().await;
    register(&app, PHONE).await;
    let r = app.get("/account/data").await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .expect("h")
            .contains("attachment")
    );
    let data: serde_json::Value = r.json().await.expect("json");
    assert_eq!(data["account"]["phone"], PHONE, "their own data, unmasked");
    assert_eq!(data["consents"][0]["purpose"], "privacy_notice");
    assert!(data["logins"].as_array().is_some_and(|l| !l.is_empty()));

    let (_, html) = app.text("/account").await;
    let csrf = hidden(&html, "_csrf");
    let r = app
        .post_form(
            "/account/delete",
            &[
                ("current_password", "Wrong!pass1"),
                ("confirm", "1"),
                ("_csrf", csrf.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.expect("body").contains("当前密码不正确"));
    let r = app
        .post_form(
            "/account/delete",
            &[
                ("current_password", PASSWORD),
                ("confirm", "1"),
                ("_csrf", csrf.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let left: i64 = zhiban_store::sqlx::query_scalar("SELECT COUNT(*) FROM citizens")
        .fetch_one(app.db.db.pool())
        .await
        .expect("count");
    assert_eq!(left, 0);
    assert_eq!(app.get("/account").await.status().as_u16(), 303);
    // The audit trail keeps the deletion, with the phone masked.
    let (rows, _) = zhiban_domain::audit::search(
        &app.db.db,
        &zhiban_domain::audit::Filter {
            action: "citizen.delete".into(),
            ..Default::default()
        },
        5,
        0,
    )
    .await
    .expect("audit");
    assert_eq!(rows[0].target, "138****8000");
}

#[tokio::test]
async fn a_signed_in_citizen_is_not_staff_anywhere() {
    let app = spawn_app().await;
    register(&app, PHONE).await;
    let code = app.code_of("身份证").await;
    for r in zhiban_web::staff_routes() {
        let path = r.path.replace("{code}", &code).replace("{id}", "1");
        for m in &r.methods {
            let req = if *m == reqwest::Method::GET {
                app.client.get(app.url(&path))
            } else {
                app.client.post(app.url(&path)).form(&[("_csrf", "x")])
            };
            let res = req.send().await.expect("request");
            assert_eq!(res.status().as_u16(), 303, "{m} {path}");
            let loc = res.headers()["location"].to_str().expect("loc");
            assert!(loc.starts_with("/admin/login?"), "{m} {path} → {loc}");
        }
    }
}

#[tokio::test]
async fn staff_read_the_development_outbox_with_phones_masked() {
    let app = spawn_app().await;
    let (_, page) = app.text("/register").await;
    let csrf = hidden(&page, "_csrf");
    app.post_form(
        "/register/code",
        &[("phone", PHONE), ("_csrf", csrf.as_str())],
    )
    .await;
    app.login().await;
    let (status, html) = app.text("/admin/sms").await;
    assert_eq!(status, 200);
    assert!(html.contains("138****8000"));
    assert!(!html.contains(PHONE));
    assert!(html.contains("dev-outbox"));
}
