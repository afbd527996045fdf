//! The route table walked as an attacker's page would: every POST that a
//! browser form makes for a signed-in person is refused without the form
//! token, whatever the route. A handler that reads its body without the
//! `Csrf` extractor fails here.

use std::collections::BTreeSet;

use reqwest::Method;
use zhiban_testing::TestApp;

const PHONE: &str = "13900003333";
const ID_NUMBER: &str = "11010519491231002X";

fn sample(path: &str, code: &str) -> String {
    path.replace("{code}", code)
        .replace("{id}", "1")
        .replace("{number}", "ZB2026010100001")
        .replace("{token}", "token")
        .replace("{*path}", "site.css")
}

#[tokio::test]
async fn every_form_post_without_its_token_is_refused() {
    // Sign-in limits out of the way: one POST to every route.
    let app = TestApp::spawn_unlimited().await;
    app.login().await;
    let citizen = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let code = app.code_of("身份证").await;

    let mut posts: Vec<(String, &reqwest::Client)> = Vec::new();
    for r in zhiban_web::staff_routes() {
        if r.methods.contains(&Method::POST) {
            posts.push((sample(r.path, &code), &app.client));
        }
    }
    let mut exempt = BTreeSet::new();
    for r in zhiban_web::site_routes(&app.state) {
        if !r.methods.contains(&Method::POST) {
            continue;
        }
        if let Some(why) = r.csrf_exempt {
            assert!(why.len() > 20, "{} says why it is exempt", r.path);
            exempt.insert(r.path);
            continue;
        }
        // Staff pages with the staff session, the rest with a citizen's.
        let client = if r.path.starts_with("/admin") {
            &app.client
        } else {
            &citizen
        };
        posts.push((sample(r.path, &code), client));
    }
    assert!(
        posts.len() > 60,
        "the walk covers the POST routes ({})",
        posts.len()
    );
    for (path, client) in &posts {
        for body in [None, Some("_csrf=not-the-token&name=x")] {
            let req = client
                .post(app.url(path))
                .header("content-type", "application/x-www-form-urlencoded");
            let req = match body {
                Some(b) => req.body(b),
                None => req,
            };
            let r = req.send().await.expect("post");
            assert_eq!(r.status().as_u16(), 403, "POST {path} with {body:?}");
        }
    }
    assert_eq!(
        exempt,
        BTreeSet::from([
            "/api/v1/licenses/verify",
            "/fines",
            "/pay/notify",
            "/oidc/token",
            // Open311: other systems post with an API key (tests/open311).
            "/open311/v2/requests.json",
            "/open311/v2/requests.xml",
            "/oidc/userinfo",
            "/progress"
        ]),
        "an exemption is a decision: review it here"
    );
    // Nobody was signed out or changed along the way.
    let (status, _) = app.text_with(&citizen, "/account").await;
    assert_eq!(status, 200);
    let (status, _) = app.text("/admin/account").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_staff_menu_shows_only_what_a_persons_roles_open() {
    let app = TestApp::spawn().await;
    let clerk = app
        .staff_with(
            "menu.clerk",
            "500000-GA-HZ",
            &[zhiban_domain::identity::Perm::CasesHandle],
        )
        .await;
    let (_, page) = app.text_with(&clerk, "/admin/account").await;
    assert!(
        page.contains("href=\"/admin/cases\""),
        "their area is listed"
    );
    assert!(
        page.contains("href=\"/admin/account\""),
        "everyone has their account"
    );
    for hidden in [
        "/admin/services",
        "/admin/staff",
        "/admin/audit",
        "/admin/roles",
    ] {
        assert!(
            !page.contains(&format!("href=\"{hidden}\"")),
            "{hidden} is not offered"
        );
    }
    app.login().await;
    let (_, page) = app.text("/admin/account").await;
    let menu = zhiban_web::staff_menu();
    assert!(menu.len() >= 14);
    // 三员分立: the system administrator sees everything but the audit
    // log, which only the security auditor opens, and the police tips,
    // which only the receiving unit's tip handlers read.
    for entry in &menu {
        let sealed = matches!(
            entry.perm,
            Some(
                zhiban_domain::identity::Perm::AuditView
                    | zhiban_domain::identity::Perm::TipsHandle
            )
        );
        assert_eq!(
            page.contains(&format!("href=\"{}\"", entry.path)),
            !sealed,
            "the administrator's menu and {}",
            entry.path
        );
    }
    let auditor = app.staff_in_role("menu.auditor", "", "auditor").await;
    let (_, page) = app.text_with(&auditor, "/admin/account").await;
    assert!(page.contains("href=\"/admin/audit\""));
    assert!(!page.contains("href=\"/admin/staff\""));
}
