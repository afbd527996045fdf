//! Citizens' accounts over real HTTP: registration with an SMS code,
//! sign-in by password and by code, the account centre with masked data,
//! real-name verification, sign out everywhere, download and deletion.

use zhiban_testing::{TestApp, hidden};

const PHONE: &str = "13800138000";
const PASSWORD: &str = "Citiz3n!pw";
const ID_NUMBER: &str = "11010519491231002X";

/// A minute passes (the wait before a code may be sent again is over).
async fn a_minute_passes(app: &TestApp) {
    app.db.db.clock().advance(chrono::Duration::seconds(61));
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
    let code = app.last_sms_code(phone).await;
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
    let app = TestApp::spawn().await;
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
    let app = TestApp::spawn().await;
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
    let app = TestApp::spawn().await;
    register(&app, PHONE).await;
    let fresh = zhiban_testing::client();
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
    let other = zhiban_testing::client();
    let (_, page) = app.text_with(&other, "/login?method=sms").await;
    let csrf = hidden(&page, "_csrf");
    let r = other
        .post(app.url("/login/code"))
        .form(&[("phone", PHONE), ("_csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 200);
    let code = app.last_sms_code(PHONE).await;
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
    let app = TestApp::spawn().await;
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
    let app = TestApp::spawn().await;
    register(&app, PHONE).await;
    let phone_b = zhiban_testing::client();
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
    let app = TestApp::spawn().await;
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
    let app = TestApp::spawn().await;
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
    let app = TestApp::spawn().await;
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

/// The QR page's scan address and the desktop's form token.
async fn qr_page(app: &TestApp, desktop: &reqwest::Client) -> (String, String) {
    let (status, page) = app.text_with(desktop, "/login/qr?next=/services").await;
    assert_eq!(status, 200);
    assert!(page.contains("data:image/svg+xml"), "a QR image");
    let marker = "id=\"qr-url\">";
    let start = page.find(marker).expect("scan address") + marker.len();
    let end = page[start..].find('<').expect("end") + start;
    let url = zhiban_testing::unescape(&page[start..end]);
    let path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
        .expect("path");
    (path, hidden(&page, "_csrf"))
}

/// The desktop's 继续 button (with the next page `/services`).
async fn qr_finish(app: &TestApp, desktop: &reqwest::Client, csrf: &str) -> reqwest::Response {
    desktop
        .post(app.url("/login/qr/finish"))
        .form(&[("_csrf", csrf), ("next", "/services")])
        .send()
        .await
        .expect("finish")
}

async fn qr_status(app: &TestApp, desktop: &reqwest::Client) -> String {
    let v: serde_json::Value = desktop
        .get(app.url("/login/qr/status"))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    v["status"].as_str().expect("status").to_string()
}

#[tokio::test]
async fn scanning_a_desktop_code_with_a_signed_in_phone_signs_the_desktop_in_once() {
    let app = TestApp::spawn().await;
    register(&app, PHONE).await; // app.client is the phone
    let desktop = zhiban_testing::client();
    let (scan, csrf) = qr_page(&app, &desktop).await;
    assert_eq!(qr_status(&app, &desktop).await, "pending");

    // Continuing before the phone answers says so and signs nobody in.
    let r = qr_finish(&app, &desktop, &csrf).await;
    assert_eq!(r.status().as_u16(), 409);
    assert!(r.text().await.expect("body").contains("手机上还没有确认"));

    // The phone sees which device asks, then confirms.
    let (status, page) = app.text(&scan).await;
    assert_eq!(status, 200);
    assert!(page.contains("有设备请求用您的账号登录"));
    let code = hidden(&page, "c");
    let csrf_phone = hidden(&page, "_csrf");
    let r = app
        .post_form(
            "/login/qr/answer",
            &[
                ("c", code.as_str()),
                ("decision", "approve"),
                ("_csrf", csrf_phone.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(qr_status(&app, &desktop).await, "approved");

    // Someone else holding only the code cannot use it.
    let stranger = zhiban_testing::client();
    let (_, page) = app.text_with(&stranger, "/login").await;
    let sc = hidden(&page, "_csrf");
    let r = stranger
        .post(app.url("/login/qr/finish"))
        .form(&[("_csrf", sc.as_str())])
        .send()
        .await
        .expect("finish");
    assert_eq!(
        r.status().as_u16(),
        303,
        "no desktop secret: back to a new code"
    );
    assert_eq!(app.text_with(&stranger, "/account").await.0, 303);

    let r = qr_finish(&app, &desktop, &csrf).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/services");
    assert_eq!(
        app.text_with(&desktop, "/account").await.0,
        200,
        "the desktop is signed in"
    );
    let (_, account) = app.text_with(&desktop, "/account").await;
    assert!(account.contains("138****8000"));
}

#[tokio::test]
async fn a_refused_or_expired_code_signs_nobody_in() {
    let app = TestApp::spawn().await;
    register(&app, PHONE).await;
    let desktop = zhiban_testing::client();
    let (scan, csrf) = qr_page(&app, &desktop).await;
    let (_, page) = app.text(&scan).await;
    let code = hidden(&page, "c");
    let csrf_phone = hidden(&page, "_csrf");
    app.post_form(
        "/login/qr/answer",
        &[
            ("c", code.as_str()),
            ("decision", "deny"),
            ("_csrf", csrf_phone.as_str()),
        ],
    )
    .await;
    assert_eq!(qr_status(&app, &desktop).await, "denied");
    let r = qr_finish(&app, &desktop, &csrf).await;
    assert_eq!(r.status().as_u16(), 409);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("手机上拒绝了这次登录")
    );

    // A new code, approved, but two minutes pass before the desktop continues.
    let (scan, csrf) = qr_page(&app, &desktop).await;
    let (_, page) = app.text(&scan).await;
    let code = hidden(&page, "c");
    app.post_form(
        "/login/qr/answer",
        &[
            ("c", code.as_str()),
            ("decision", "approve"),
            ("_csrf", csrf_phone.as_str()),
        ],
    )
    .await;
    // Two minutes later the code has lapsed.
    app.db.db.clock().advance(chrono::Duration::seconds(121));
    assert_eq!(qr_status(&app, &desktop).await, "expired");
    let r = qr_finish(&app, &desktop, &csrf).await;
    assert_eq!(r.status().as_u16(), 409);
    assert_eq!(app.text_with(&desktop, "/account").await.0, 303);
}

async fn verify_realname(app: &TestApp, client: &reqwest::Client, name: &str, id: &str) {
    let (_, html) = app.text_with(client, "/account").await;
    let csrf = hidden(&html, "_csrf");
    let r = client
        .post(app.url("/account/realname"))
        .form(&[("name", name), ("id_number", id), ("_csrf", csrf.as_str())])
        .send()
        .await
        .expect("realname");
    assert_eq!(r.status().as_u16(), 303);
}

#[tokio::test]
async fn a_legal_representative_registers_the_company_and_authorises_and_revokes_an_agent() {
    let app = TestApp::spawn().await;
    register(&app, PHONE).await;
    let (_, page) = app.text("/account/companies").await;
    assert!(
        page.contains("去实名认证"),
        "a company needs a verified representative"
    );
    verify_realname(&app, &app.client, "张三", ID_NUMBER).await;

    let (_, page) = app.text("/account/companies").await;
    let csrf = hidden(&page, "_csrf");
    let r = app
        .post_form(
            "/account/companies",
            &[
                ("uscc", "91350100M000100Y44"),
                ("company_name", "渝州市示例科技有限公司"),
                ("_csrf", csrf.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let body = r.text().await.expect("body");
    assert!(body.contains("统一社会信用代码不正确"));
    assert!(body.contains("渝州市示例科技有限公司"), "the name is kept");
    let r = app
        .post_form(
            "/account/companies",
            &[
                ("uscc", "91350100M000100Y43"),
                ("company_name", "渝州市示例科技有限公司"),
                ("_csrf", csrf.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);

    // The agent-to-be registers and verifies too.
    let agent = zhiban_testing::client();
    a_minute_passes(&app).await;
    app.register(&agent, "13900139000").await;
    let (_, page) = app.text("/account/companies").await;
    let company_id = hidden(&page, "company_id");
    let r = app
        .post_form(
            "/account/companies/agents",
            &[
                ("company_id", company_id.as_str()),
                ("agent_phone", "13900139000"),
                ("_csrf", csrf.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422, "agents must be verified first");
    assert!(r.text().await.expect("body").contains("未完成实名认证"));
    verify_realname(&app, &agent, "李四", "110101199003074514").await;
    let r = app
        .post_form(
            "/account/companies/agents",
            &[
                ("company_id", company_id.as_str()),
                ("agent_phone", "13900139000"),
                ("_csrf", csrf.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = app.text("/account/companies").await;
    assert!(
        page.contains("139****9000") && page.contains("李*"),
        "the agent is listed, masked"
    );
    let (_, agent_page) = app.text_with(&agent, "/account/companies").await;
    assert!(agent_page.contains("渝州市示例科技有限公司") && agent_page.contains("经办人"));

    // Revoked: the company disappears from the agent's list.
    let agent_id = hidden(&page, "agent_id");
    let r = app
        .post_form(
            "/account/companies/agents/revoke",
            &[
                ("company_id", company_id.as_str()),
                ("agent_id", agent_id.as_str()),
                ("_csrf", csrf.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, agent_page) = app.text_with(&agent, "/account/companies").await;
    assert!(!agent_page.contains("渝州市示例科技有限公司"));
    // Only the representative manages agents.
    let (_, ap) = app.text_with(&agent, "/account").await;
    let agent_csrf = hidden(&ap, "_csrf");
    let r = agent
        .post(app.url("/account/companies/agents"))
        .form(&[
            ("company_id", company_id.as_str()),
            ("agent_phone", "13900139000"),
            ("_csrf", agent_csrf.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test]
async fn a_counter_clerk_raises_a_verified_person_to_level_three_and_every_lookup_is_audited() {
    let app = TestApp::spawn().await;
    let person = zhiban_testing::client();
    app.register(&person, PHONE).await;
    verify_realname(&app, &person, "张三", ID_NUMBER).await;
    app.login().await;
    let (status, page) = app.text(&format!("/admin/citizens?phone={PHONE}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("138****8000") && page.contains("110***********002X"));
    assert!(!page.contains(ID_NUMBER), "staff see the ID number masked");
    let csrf = hidden(&page, "_csrf");
    let citizen_id = hidden(&page, "citizen_id");
    let wrong = app
        .post_form(
            "/admin/citizens/verify",
            &[
                ("citizen_id", citizen_id.as_str()),
                ("phone", PHONE),
                ("id_number", "110101199003074514"),
                ("seen", "1"),
                ("_csrf", csrf.as_str()),
            ],
        )
        .await;
    assert_eq!(wrong.status().as_u16(), 422);
    assert!(
        wrong
            .text()
            .await
            .expect("body")
            .contains("证件号码与该账号实名认证的号码不一致")
    );
    let r = app
        .post_form(
            "/admin/citizens/verify",
            &[
                ("citizen_id", citizen_id.as_str()),
                ("phone", PHONE),
                ("id_number", ID_NUMBER),
                ("seen", "1"),
                ("_csrf", csrf.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, account) = app.text_with(&person, "/account").await;
    assert!(account.contains("L3"));
    let (rows, _) = zhiban_domain::audit::search(
        &app.db.db,
        &zhiban_domain::audit::Filter {
            action: "citizen.".into(),
            actor: zhiban_testing::ADMIN.into(),
            ..Default::default()
        },
        10,
        0,
    )
    .await
    .expect("audit");
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert!(actions.contains(&"citizen.lookup"), "{actions:?}");
    assert!(actions.contains(&"citizen.counter_verify"), "{actions:?}");
}

#[tokio::test]
async fn a_forgotten_password_is_reset_with_an_sms_code_without_revealing_who_is_registered() {
    let app = TestApp::spawn().await;
    register(&app, PHONE).await;
    a_minute_passes(&app).await;
    let visitor = zhiban_testing::client();
    let (_, page) = app.text_with(&visitor, "/reset").await;
    let csrf = hidden(&page, "_csrf");
    // Registered or not, the code is "sent" the same way …
    for phone in [PHONE, "13900139000"] {
        let r = visitor
            .post(app.url("/reset/code"))
            .form(&[("phone", phone), ("_csrf", csrf.as_str())])
            .send()
            .await
            .expect("code");
        assert_eq!(r.status().as_u16(), 200, "{phone}");
        assert!(r.text().await.expect("body").contains("验证码已发送到"));
    }
    // … and a wrong answer reads the same for both.
    let new_password = "N3w!passw0rd";
    let attempt = |phone: &'static str, code: String| {
        let visitor = visitor.clone();
        let csrf = csrf.clone();
        let url = app.url("/reset");
        async move {
            visitor
                .post(url)
                .form(&[
                    ("phone", phone),
                    ("code", code.as_str()),
                    ("password", new_password),
                    ("password_again", new_password),
                    ("_csrf", csrf.as_str()),
                ])
                .send()
                .await
                .expect("reset")
        }
    };
    let unknown = attempt("13900139000", app.last_sms_code("13900139000").await).await;
    assert_eq!(unknown.status().as_u16(), 422);
    assert!(
        unknown
            .text()
            .await
            .expect("body")
            .contains("短信验证码不正确或已过期")
    );
    let r = attempt(PHONE, app.last_sms_code(PHONE).await).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/login?reset=1");
    // Every session ended; the new password works.
    assert_eq!(app.get("/account").await.status().as_u16(), 303);
    let (_, page) = app.text_with(&visitor, "/login?reset=1").await;
    assert!(page.contains("密码已重设"));
    let r = visitor
        .post(app.url("/login"))
        .form(&[
            ("phone", PHONE),
            ("password", new_password),
            ("_csrf", csrf.as_str()),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status().as_u16(), 303);
}

async fn passkey_begin(
    app: &TestApp,
    client: &reqwest::Client,
    host: &str,
    phone: &str,
    csrf: &str,
) -> (u16, serde_json::Value) {
    let r = client
        .post(app.url("/login/passkey/begin"))
        .header("host", host)
        .json(&serde_json::json!({ "phone": phone, "_csrf": csrf }))
        .send()
        .await
        .expect("begin");
    (r.status().as_u16(), r.json().await.expect("json"))
}

#[tokio::test]
async fn asking_for_a_passkey_does_not_reveal_whether_a_number_is_registered() {
    // Published by IP address: passkeys cannot work, and the page says why.
    let by_ip = TestApp::spawn().await;
    let visitor = zhiban_testing::client();
    let (_, page) = by_ip.text_with(&visitor, "/login?method=passkey").await;
    let csrf = page
        .split("data-csrf=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the page's form token")
        .to_string();
    let port = by_ip.base.rsplit(':').next().expect("port");
    let (status, body) =
        passkey_begin(&by_ip, &visitor, &format!("127.0.0.1:{port}"), PHONE, &csrf).await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().is_some_and(|e| e.contains("域名")));

    let app = TestApp::spawn_named("localhost").await;
    register(&app, PHONE).await;
    let visitor = zhiban_testing::client();
    let (_, page) = app.text_with(&visitor, "/login?method=passkey").await;
    assert!(page.contains("pk-phone"));
    let csrf = page
        .split("data-csrf=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the page's form token")
        .to_string();
    let port = app.base.rsplit(':').next().expect("port");
    // By name: a registered number without passkeys and an unknown number
    // both get a challenge naming one credential, the same one every time.
    let host = format!("localhost:{port}");
    let mut shapes = Vec::new();
    for phone in [PHONE, "13900139000", PHONE] {
        let (status, body) = passkey_begin(&app, &visitor, &host, phone, &csrf).await;
        assert_eq!(status, 200, "{body}");
        let allow = body["options"]["publicKey"]["allowCredentials"]
            .as_array()
            .expect("allow")
            .clone();
        assert_eq!(allow.len(), 1);
        shapes.push(allow[0]["id"].as_str().expect("id").to_string());
    }
    assert_eq!(shapes[0], shapes[2], "stable per number");
    assert_ne!(shapes[0], shapes[1], "different per number");
}

#[tokio::test]
async fn a_person_who_turns_on_one_time_codes_needs_one_after_the_password() {
    let app = TestApp::spawn().await;
    register(&app, PHONE).await;
    let (status, page) = app.text("/account/totp").await;
    assert_eq!(status, 200);
    let secret = zhiban_testing::totp_secret_on(&page);
    let csrf = hidden(&page, "_csrf");
    let now = chrono::Utc::now().timestamp();
    let code = zhiban_domain::identity::totp::code_at(&secret, now).expect("code");
    let r = app
        .post_form(
            "/account/totp",
            &[
                ("_csrf", csrf.as_str()),
                ("action", "on"),
                ("totp_code", "000000"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let r = app
        .post_form(
            "/account/totp",
            &[
                ("_csrf", csrf.as_str()),
                ("action", "on"),
                ("totp_code", code.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);

    // Another device: the password alone is not enough.
    let other = zhiban_testing::client();
    let (_, page) = app.text_with(&other, "/login").await;
    let form_csrf = hidden(&page, "_csrf");
    let r = other
        .post(app.url("/login"))
        .form(&[
            ("phone", PHONE),
            ("password", PASSWORD),
            ("_csrf", form_csrf.as_str()),
            ("next", "/account"),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status().as_u16(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .expect("loc")
            .starts_with("/login/verify")
    );
    let r = other
        .get(app.url("/account"))
        .send()
        .await
        .expect("account");
    assert_eq!(
        r.status().as_u16(),
        303,
        "the account stays closed until the code"
    );
    let (_, page) = app.text_with(&other, "/login/verify?next=/account").await;
    let csrf2 = hidden(&page, "_csrf");
    let step = |code: String| {
        let other = other.clone();
        let csrf2 = csrf2.clone();
        let url = app.url("/login/verify");
        async move {
            other
                .post(url)
                .form(&[
                    ("code", code.as_str()),
                    ("_csrf", csrf2.as_str()),
                    ("next", "/account"),
                ])
                .send()
                .await
                .expect("verify")
        }
    };
    assert_eq!(
        step(code.clone()).await.status().as_u16(),
        401,
        "the code used to turn it on is spent"
    );
    let next = zhiban_domain::identity::totp::code_at(&secret, now + 30).expect("code");
    let r = step(next).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(app.text_with(&other, "/account").await.0, 200);
}
