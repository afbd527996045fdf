//! Open311 over HTTP from the portal's side (tests/open311 runs a client
//! nobody here wrote): keys are issued on a staff page and shown once,
//! only by whole-city administrators; a request posted with a key reaches
//! the dispatcher with the chosen category and the map point; a revoked
//! key posts nothing.

use zhiban_testing::*;

fn key_on(page: &str) -> String {
    let start = page.find("id=\"api-key\">").expect("the key is shown") + 13;
    let end = page[start..].find('<').expect("end") + start;
    page[start..end].to_string()
}

async fn noise_code(app: &TestApp) -> String {
    let (status, services) = app.json("/open311/v2/services.json").await;
    assert_eq!(status, 200);
    services
        .as_array()
        .expect("list")
        .iter()
        .find(|s| s["service_name"] == "噪声扰民")
        .and_then(|s| s["service_code"].as_str())
        .expect("噪声扰民 is a service")
        .to_string()
}

#[tokio::test]
async fn a_key_issued_on_the_staff_page_files_a_request_the_dispatcher_sees() {
    let app = TestApp::spawn_unlimited().await;
    app.login().await;
    let r = app
        .submit(
            &app.client,
            "/admin/open311",
            "/admin/open311",
            &[("name", "渝快办 App")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let key = key_on(&r.text().await.expect("page"));
    assert!(key.starts_with("zb311_") && key.len() > 40);
    // Shown once: the list has the name and a prefix only.
    let (_, list) = app.text("/admin/open311").await;
    assert!(list.contains("渝快办 App") && !list.contains(&key));
    // The key is stored as a hash.
    let stored: Vec<String> = zhiban_store::sqlx::query_scalar("SELECT key_hash FROM api_keys")
        .fetch_all(app.db.db.pool())
        .await
        .expect("keys");
    assert!(stored.iter().all(|h| !h.contains(&key[6..])));

    let code = noise_code(&app).await;
    let c = client();
    let r = c
        .post(app.url("/open311/v2/requests.json"))
        .form(&[
            ("api_key", key.as_str()),
            ("service_code", code.as_str()),
            (
                "description",
                "北城天街后面的工地每天晚上十一点以后还在打桩，噪音太大，孩子没法睡觉。",
            ),
            ("address_string", "江北区北城天街后"),
            ("lat", "29.5291"),
            ("long", "106.5697"),
            ("first_name", "丽"),
            ("last_name", "陈"),
            ("phone", "13800138312"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 200);
    let body: serde_json::Value = r.json().await.expect("json");
    let number = body[0]["service_request_id"]
        .as_str()
        .expect("number")
        .to_string();
    // The dispatcher's page proposes the chosen category first.
    let (_, page) = app.text(&format!("/admin/requests/{number}")).await;
    assert!(page.contains("北城天街后面的工地"));
    assert!(page.contains("噪声扰民"));
    let (lat, kind): (Option<f64>, String) =
        zhiban_store::sqlx::query_as("SELECT lat, kind FROM requests WHERE number = $1")
            .bind(&number)
            .fetch_one(app.db.db.pool())
            .await
            .expect("row");
    assert_eq!(lat, Some(29.5291));
    assert_eq!(
        kind, "complaint",
        "a complaint unless the attribute says otherwise"
    );

    // Revoked, the key posts nothing more.
    let id: i64 = zhiban_store::sqlx::query_scalar("SELECT id FROM api_keys")
        .fetch_one(app.db.db.pool())
        .await
        .expect("id");
    let r = app
        .submit(
            &app.client,
            "/admin/open311",
            "/admin/open311/revoke",
            &[("id", &id.to_string())],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let r = c
        .post(app.url("/open311/v2/requests.json"))
        .form(&[
            ("api_key", key.as_str()),
            ("service_code", code.as_str()),
            ("description", "同一个工地今晚又在打桩，请再次处理。"),
            ("address_string", "江北区北城天街"),
            ("first_name", "丽"),
            ("last_name", "陈"),
            ("phone", "13800138312"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 403);
    let errors: serde_json::Value = r.json().await.expect("errors");
    assert_eq!(errors[0]["code"], 403);
}

#[tokio::test]
async fn keys_are_issued_only_by_whole_city_administrators() {
    let app = TestApp::spawn_unlimited().await;
    let district = app
        .staff_with(
            "dk.admin",
            "500105",
            &[zhiban_domain::identity::Perm::OidcClients],
        )
        .await;
    let (status, page) = app.text_with(&district, "/admin/open311").await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("action=\"/admin/open311\""),
        "no issuing form"
    );
    let r = app
        .submit(
            &district,
            "/admin/account",
            "/admin/open311",
            &[("name", "区县自建系统")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 403);
    let issued: i64 = zhiban_store::sqlx::query_scalar("SELECT COUNT(*) FROM api_keys")
        .fetch_one(app.db.db.pool())
        .await
        .expect("count");
    assert_eq!(issued, 0);
    // Without the permission, the page is closed.
    let handler = app
        .staff_in_role("dk.handler", "500105", "case_handler")
        .await;
    assert_eq!(app.text_with(&handler, "/admin/open311").await.0, 403);
}
