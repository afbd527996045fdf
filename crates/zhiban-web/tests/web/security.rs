//! What a 等保 level-3 assessment found, each as a test that fails without
//! its fix (#13): open redirects, connection floods, registrations lost to
//! concurrency, oversized uploads, disguised files, session tokens kept
//! across the second factor, forged X-Forwarded-For, audit gaps, pages
//! with personal data left in caches, and the API's own errors.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zhiban_domain::identity::SecurityPolicy;
use zhiban_store::sqlx;
use zhiban_testing::{TestApp, hidden, location};
use zhiban_web::{ConnectionLimits, WebConfig};

const PHONE: &str = "13900004444";
const ID_NUMBER: &str = "11010519491231002X";

#[tokio::test]
async fn redirect_targets_with_tabs_or_other_sites_stay_on_this_site() {
    let app = TestApp::spawn().await;
    for path in [
        "/prefs?lang=en&next=/%09/evil.example/",
        "/prefs?lang=en&next=%2F%0A%2Fevil.example",
        "/prefs?lang=en&next=/%5Cevil.example",
        "/search/go?to=/%09/evil.example/",
        "/search/go?to=https://evil.example/",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status().as_u16(), 303, "{path}");
        assert_eq!(location(&r), "/", "{path}");
    }
    // The sign-in form carries only a safe `next`.
    let (_, page) = app.text("/login?next=/%09/evil.example/").await;
    assert_eq!(hidden(&page, "next"), "/account");
}

/// A connection from `ip` (any 127.0.0.0/8 address reaches the server).
async fn connect_from(ip: &str, to: &str) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{ip}:0").parse().expect("addr"))
        .expect("bind");
    socket
        .connect(to.parse().expect("addr"))
        .await
        .expect("connect")
}

/// Whether the server closes the socket (EOF or reset) within `wait`.
async fn closed_within(s: &mut tokio::net::TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 64];
    match tokio::time::timeout(wait, s.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) | Err(_) => false,
    }
}

#[tokio::test]
async fn a_flood_of_idle_and_slow_sockets_does_not_stop_other_people() {
    let app = TestApp::spawn_with(WebConfig {
        connections: ConnectionLimits {
            max_total: 64,
            max_per_client: 8,
            header_read_timeout: Duration::from_secs(1),
        },
        ..WebConfig::default()
    })
    .await;
    let server = app.base.trim_start_matches("http://").to_string();
    // One address opens far more sockets than it may keep.
    let mut flood = Vec::new();
    for _ in 0..40 {
        flood.push(connect_from("127.0.0.2", &server).await);
    }
    // The ones over its share are closed at once.
    let mut closed = 0;
    for s in flood.iter_mut().skip(8) {
        if closed_within(s, Duration::from_secs(5)).await {
            closed += 1;
        }
    }
    assert_eq!(
        closed, 32,
        "every socket over the per-address cap is closed"
    );
    // Someone else is served meanwhile.
    let (status, _) = app.text("/healthz").await;
    assert_eq!(status, 200);
    // A slow sender that never finishes its headers is cut off.
    let mut slow = connect_from("127.0.0.3", &server).await;
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    assert!(
        closed_within(&mut slow, Duration::from_secs(10)).await,
        "the header deadline closes it"
    );
    // The idle ones within the share are closed by the same deadline.
    assert!(closed_within(&mut flood[0], Duration::from_secs(10)).await);
    let (status, _) = app.text("/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn people_registering_at_the_same_time_all_get_their_account() {
    let app = TestApp::spawn_unlimited().await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let app = std::sync::Arc::clone(&app);
        tasks.push(tokio::spawn(async move {
            let c = zhiban_testing::client();
            app.register(&c, &format!("1370000{i:04}")).await;
            app.text_with(&c, "/account").await.0
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("registration"), 200);
    }
}

#[tokio::test]
async fn an_oversized_upload_is_refused_beside_its_field_and_the_answers_stay() {
    let mut config = WebConfig::default();
    config.cases.max_file_mb = 1;
    let app = TestApp::spawn_with(config).await;
    let citizen = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let code = app.code_of("居民身份证补领").await;
    let path = format!("/apply/{code}");
    let big = vec![b'x'; 1024 * 1024 + 1];
    let r = app
        .submit_multipart(
            &citizen,
            &path,
            &path,
            &[
                ("_page", "0"),
                ("_go", "stay"),
                ("address.detail", "民族路 1 号"),
            ],
            &[("file:m1", "户口簿.pdf", &big)],
        )
        .await;
    let html = r.text().await.expect("page");
    assert!(html.contains("不能超过 1 MB"), "the limit is named");
    assert!(html.contains("民族路 1 号"), "what was typed is kept");
}

#[tokio::test]
async fn a_disguised_file_is_refused_and_real_ones_are_named_after_what_they_are() {
    let app = TestApp::spawn().await;
    let citizen = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let code = app.code_of("居民身份证补领").await;
    let path = format!("/apply/{code}?page=2");
    let html_in_pdf: &[u8] = b"%PDF-1.4\n<html><script>alert(1)</script></html>";
    let r = app
        .submit_multipart(
            &citizen,
            &path,
            &path,
            &[("_page", "2"), ("_go", "stay")],
            &[("file:m1", "证明材料.hta", html_in_pdf)],
        )
        .await;
    assert!(
        r.text()
            .await
            .expect("page")
            .contains("只能上传 PDF、JPG 或 PNG 文件"),
        "a web page that starts like a PDF is refused"
    );
    let r = app
        .submit_multipart(
            &citizen,
            &path,
            &path,
            &[("_page", "2"), ("_go", "stay")],
            &[
                ("file:m1", "证明材料.hta", zhiban_testing::samples::PDF),
                (
                    "file:m2",
                    "身份证\u{202e}gnp.exe",
                    zhiban_testing::samples::PNG,
                ),
            ],
        )
        .await;
    assert!(r.status().as_u16() < 400);
    let names: Vec<String> = sqlx::query_scalar("SELECT file_name FROM case_files ORDER BY id")
        .fetch_all(app.db.db.pool())
        .await
        .expect("files");
    assert_eq!(names, vec!["证明材料.pdf", "身份证gnp.png"]);
}

#[tokio::test]
async fn the_cookie_from_before_the_second_factor_opens_nothing_after_it() {
    let app = TestApp::spawn().await;
    // The password step.
    let r = app
        .submit(
            &app.client,
            "/admin/login",
            "/admin/login",
            &[
                ("username", zhiban_testing::ADMIN),
                ("password", zhiban_testing::ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let half = r
        .cookies()
        .find(|c| c.name() == "zb_staff")
        .map(|c| c.value().to_string())
        .expect("a session cookie");
    app.login().await;
    let old = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = old
        .get(app.url("/admin/services"))
        .header("cookie", format!("zb_staff={half}"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 303);
    assert!(location(&r).starts_with("/admin/login"), "{}", location(&r));
    let (status, _) = app.text("/admin/services").await;
    assert_eq!(status, 200, "the new cookie works");
}

#[tokio::test]
async fn a_forged_forwarded_for_does_not_buy_more_sign_in_attempts() {
    let app = TestApp::spawn_with(WebConfig {
        trust_proxy: true,
        trusted_proxies: 1,
        security: SecurityPolicy {
            sign_in_per_minute: 3,
            ..SecurityPolicy::default()
        },
        ..WebConfig::default()
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let r = app
            .client
            .post(app.url("/login"))
            // The client writes the first entry; our proxy appends the
            // address it saw.
            .header("x-forwarded-for", format!("10.0.0.{i}, 203.0.113.7"))
            .form(&[("phone", PHONE), ("password", "x")])
            .send()
            .await
            .expect("post");
        statuses.push(r.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        2,
        "{statuses:?}"
    );
}

async fn audit_rows(app: &TestApp, action: &str) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT detail, ip, outcome FROM audit_log WHERE action = $1 ORDER BY seq")
        .bind(action)
        .fetch_all(app.db.db.pool())
        .await
        .expect("audit")
}

#[tokio::test]
async fn failed_sign_ins_lock_outs_and_sign_outs_of_citizens_are_audited() {
    let app = TestApp::spawn_unlimited().await;
    let c = app.citizen(PHONE).await;
    for _ in 0..6 {
        app.submit(
            &zhiban_testing::client(),
            "/login",
            "/login",
            &[("phone", PHONE), ("password", "wrong")],
        )
        .await;
    }
    let logins = audit_rows(&app, "citizen.login").await;
    let refused: Vec<_> = logins.iter().filter(|r| r.2 == "refused").collect();
    assert!(refused.iter().any(|r| r.0 == "password: invalid"));
    assert!(
        refused.iter().any(|r| r.0 == "password: locked"),
        "{logins:?}"
    );
    assert!(refused.iter().all(|r| r.1 == "127.0.0.1"));
    let (_, account) = app.text_with(&c, "/account").await;
    let r = c
        .post(app.url("/logout"))
        .form(&[("_csrf", hidden(&account, "_csrf"))])
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(audit_rows(&app, "citizen.logout").await.len(), 1);
    // No phone number in the audit log, only its masked form.
    let targets: Vec<String> = sqlx::query_scalar("SELECT actor || target FROM audit_log")
        .fetch_all(app.db.db.pool())
        .await
        .expect("audit");
    assert!(targets.iter().all(|t| !t.contains(PHONE)));
}

#[tokio::test]
async fn signed_in_pages_are_never_kept_by_a_cache() {
    let app = TestApp::spawn().await;
    let citizen = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let code = app.code_of("居民身份证补领").await;
    for path in ["/account", &format!("/apply/{code}"), "/my/cases"] {
        let r = citizen.get(app.url(path)).send().await.expect("get");
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let cc = r.headers()["cache-control"].to_str().expect("header");
        assert!(cc.contains("no-store"), "{path}: {cc}");
    }
    let auditor = app.staff_in_role("cache.auditor", "", "auditor").await;
    app.login().await;
    for path in ["/admin/cases", "/admin/citizens", "/admin/audit"] {
        let r = if path == "/admin/audit" {
            auditor.get(app.url(path)).send().await.expect("get")
        } else {
            app.get(path).await
        };
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let cc = r.headers()["cache-control"].to_str().expect("header");
        assert!(cc.contains("no-store"), "{path}: {cc}");
    }
    // Public pages and assets keep their caching.
    let r = zhiban_testing::client()
        .get(app.url("/assets/site.css"))
        .send()
        .await
        .expect("get");
    assert!(
        !r.headers()["cache-control"]
            .to_str()
            .expect("h")
            .contains("no-store")
    );
}

#[tokio::test]
async fn the_api_answers_bad_parameters_in_its_own_json() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/v1/services?limit=abc",
        "/api/v1/services?limit=0",
        "/api/v1/search?q=x&limit=-1",
    ] {
        let (status, body) = app.json(path).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(body["error"]["code"], "invalid_parameter", "{path}: {body}");
    }
    let (_, spec) = app.json("/api/openapi.json").await;
    let params = spec["paths"]["/api/v1/services"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    let limit = params.iter().find(|p| p["name"] == "limit").expect("limit");
    assert_eq!(limit["schema"]["minimum"], 1);
    // The documented values are the accepted ones, so a schema-valid
    // request is never refused.
    let police = params
        .iter()
        .find(|p| p["name"] == "police")
        .expect("police");
    let values = police["schema"]["enum"].as_array().expect("police values");
    assert!(values.iter().any(|v| v == "traffic") && values.iter().any(|v| v == "交管"));
    for v in values {
        let v = v.as_str().unwrap_or_default();
        let (status, _) = app
            .json(&format!(
                "/api/v1/services?police={}",
                zhiban_testing::urlencode(v)
            ))
            .await;
        assert_eq!(status, 200, "police={v}");
    }
    // The license-verify body is the export file's shape, not a string.
    let body = &spec["paths"]["/api/v1/licenses/verify"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(body["$ref"], "#/components/schemas/ExportFile", "{body}");
    let file = &spec["components"]["schemas"]["ExportFile"];
    assert_eq!(file["type"], "object", "{file}");
    for field in ["format", "license", "signature"] {
        assert!(
            file["required"]
                .as_array()
                .is_some_and(|r| r.iter().any(|f| f == field)),
            "{field} required: {file}"
        );
    }
}

#[tokio::test]
async fn messages_name_the_right_field_and_the_real_limit() {
    let app = TestApp::spawn().await;
    let c = zhiban_testing::client();
    let r = app
        .submit(&c, "/register", "/register/code", &[("phone", PHONE)])
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let r = app
        .submit(
            &c,
            "/register",
            "/register",
            &[
                ("phone", PHONE),
                ("code", "000000"),
                ("password", zhiban_testing::PASSWORD),
                ("password_again", zhiban_testing::PASSWORD),
                ("accept_privacy", "1"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.expect("page");
    assert!(
        html.contains("短信验证码：短信验证码不正确"),
        "labelled as the SMS code"
    );
    assert!(!html.contains("事项编码"));
}
