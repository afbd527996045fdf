//! `spawn_app()`: a real server on port 0 over a database of the test's own,
//! loaded with the demo data, plus a cookie-keeping HTTP client.

#![allow(dead_code, clippy::expect_used)]

use std::time::Duration;

use reqwest::redirect::Policy;
use zhiban_domain::identity::{SecurityPolicy, totp};
use zhiban_domain::{demo, staff};
use zhiban_store::testing::TestDb;
use zhiban_web::{AppState, WebConfig};

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "Adm1n!pass";

pub struct TestApp {
    pub base: String,
    /// Keeps cookies; does not follow redirects, so tests can see them.
    pub client: reqwest::Client,
    pub state: AppState,
    pub db: TestDb,
    /// The administrator's authenticator secret once enrolled.
    pub totp_secret: std::sync::Mutex<Option<String>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

pub async fn spawn_app() -> TestApp {
    let db = TestDb::new().await.expect("test database");
    demo::load(&db.db).await.expect("demo data");
    staff::create_or_reset(&db.db, ADMIN, "测试管理员", ADMIN_PASSWORD)
        .await
        .expect("admin");
    let state = AppState::new(db.db.clone(), WebConfig::default())
        .await
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server_state = state.clone();
    tokio::spawn(async move {
        let _ = zhiban_web::serve(listener, server_state, async {
            let _ = rx.await;
        })
        .await;
    });
    TestApp {
        base,
        client: client(),
        state,
        db,
        totp_secret: std::sync::Mutex::new(None),
        shutdown: Some(tx),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// Posts a URL-encoded form with this client's cookies.
    pub async fn post_form<T: serde::Serialize + ?Sized>(
        &self,
        path: &str,
        form: &T,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("post")
    }

    /// A client of its own (another browser or phone), keeping cookies.
    pub fn fresh_client() -> reqwest::Client {
        client()
    }

    pub async fn text_with(&self, c: &reqwest::Client, path: &str) -> (u16, String) {
        let r = c.get(self.url(path)).send().await.expect("request");
        let status = r.status().as_u16();
        (status, r.text().await.expect("body"))
    }

    pub async fn text(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.text().await.expect("body"))
    }

    pub async fn json(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.json().await.expect("json"))
    }

    /// Signs the client in as the test administrator: password, then the
    /// one-time code (enrolling the authenticator on the first sign-in).
    pub async fn login(&self) {
        let (_, page) = self.text("/admin/login").await;
        let csrf = hidden(&page, "_csrf");
        let r = self
            .post_form(
                "/admin/login",
                &[
                    ("username", ADMIN),
                    ("password", ADMIN_PASSWORD),
                    ("_csrf", csrf.as_str()),
                    ("next", "/admin/services"),
                ],
            )
            .await;
        assert_eq!(r.status().as_u16(), 303, "password accepted");
        let to = r.headers()["location"]
            .to_str()
            .expect("location")
            .to_string();
        assert!(to.starts_with("/admin/login/verify"), "{to}");
        let (_, page) = self.text(&to).await;
        let known = self.totp_secret.lock().expect("lock").clone();
        let secret = match known {
            Some(s) => s,
            None => {
                let s = totp_secret_on(&page);
                *self.totp_secret.lock().expect("lock") = Some(s.clone());
                s
            }
        };
        let csrf = hidden(&page, "_csrf");
        // A code is accepted once: a second sign-in in the same 30 s uses
        // the next step's code, which the one-step skew allows.
        let now = chrono::Utc::now().timestamp();
        for at in [now, now + 30] {
            let code = totp::code_at(&secret, at).expect("code");
            let r = self
                .post_form(
                    "/admin/login/verify",
                    &[
                        ("code", code.as_str()),
                        ("_csrf", csrf.as_str()),
                        ("next", "/admin/services"),
                    ],
                )
                .await;
            if r.status().as_u16() == 303 {
                return;
            }
        }
        panic!("one-time code refused");
    }

    /// A full staff session for `username` made through the domain (no
    /// browser steps): a client that carries only that session's cookie.
    pub async fn session_client(&self, username: &str, password: &str) -> reqwest::Client {
        let policy = SecurityPolicy {
            staff_second_factor: false,
            ..SecurityPolicy::default()
        };
        let now = chrono::Utc::now();
        let user = staff::login(&self.db.db, &policy, username, password, now)
            .await
            .expect("login");
        let token = staff::start_session(&self.db.db, &policy, &user, &Default::default(), now)
            .await
            .expect("session");
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::COOKIE,
            format!("zb_staff={token}").parse().expect("header"),
        );
        reqwest::Client::builder()
            .redirect(Policy::none())
            .default_headers(headers)
            .build()
            .expect("client")
    }

    /// A published item's code whose name contains `needle`.
    pub async fn code_of(&self, needle: &str) -> String {
        let cat = self.state.catalog();
        cat.services
            .iter()
            .find(|s| s.name.contains(needle))
            .map(|s| s.code.clone())
            .unwrap_or_else(|| panic!("no published item named like {needle}"))
    }
}

/// The administrator's full session, for calling domain functions as them.
pub async fn admin_session(app: &TestApp) -> staff::StaffSession {
    let policy = SecurityPolicy {
        staff_second_factor: false,
        ..SecurityPolicy::default()
    };
    let now = chrono::Utc::now();
    let user = staff::login(&app.db.db, &policy, ADMIN, ADMIN_PASSWORD, now)
        .await
        .expect("login");
    let token = staff::start_session(&app.db.db, &policy, &user, &Default::default(), now)
        .await
        .expect("session");
    staff::session(&app.db.db, &policy, &token, now)
        .await
        .expect("q")
        .expect("live")
}

/// Marks an administrator-set password as chosen by its owner, so tests
/// that are not about the first-sign-in change can skip it.
pub async fn settle_password(db: &zhiban_store::Db, username: &str) {
    zhiban_store::sqlx::query(
        "UPDATE staff_users SET password_changed_at = $1 WHERE username = $2",
    )
    .bind(chrono::Utc::now().timestamp())
    .bind(username)
    .execute(db.pool())
    .await
    .expect("settle");
}

/// The newest code the development SMS gateway wrote for `phone`.
pub async fn last_sms_code(app: &TestApp, phone: &str) -> String {
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

/// Registers a citizen with `client` (through the pages, code from the outbox).
pub async fn register_citizen(
    app: &TestApp,
    client: &reqwest::Client,
    phone: &str,
    password: &str,
) {
    let (_, page) = app.text_with(client, "/register").await;
    let csrf = hidden(&page, "_csrf");
    let r = client
        .post(app.url("/register/code"))
        .form(&[("phone", phone), ("_csrf", csrf.as_str())])
        .send()
        .await
        .expect("code");
    assert_eq!(r.status().as_u16(), 200);
    let code = last_sms_code(app, phone).await;
    let r = client
        .post(app.url("/register"))
        .form(&[
            ("phone", phone),
            ("code", code.as_str()),
            ("password", password),
            ("password_again", password),
            ("accept_privacy", "1"),
            ("_csrf", csrf.as_str()),
        ])
        .send()
        .await
        .expect("register");
    assert_eq!(r.status().as_u16(), 303, "registered");
}

/// The authenticator secret shown on the enrolment page.
pub fn totp_secret_on(html: &str) -> String {
    let marker = "id=\"totp-secret\">";
    let start = html.find(marker).expect("enrolment page shows the secret") + marker.len();
    let end = html[start..].find('<').expect("end") + start;
    html[start..end].replace(' ', "")
}

/// The value of the first hidden input named `name`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden field {name}"))
        + marker.len();
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].to_string()
}

/// All form fields of the item editor as (name, value) pairs.
pub fn editor_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, _) in zhiban_domain::catalog::transfer_columns() {
        let id = format!("id=\"f-{k}\"");
        let Some(pos) = html.find(&id) else { continue };
        let tag_start = html[..pos].rfind('<').expect("tag");
        let tag = &html[tag_start..];
        let value = if tag.starts_with("<textarea") {
            let open_end = tag.find('>').expect(">") + 1;
            let close = tag.find("</textarea>").expect("close");
            unescape(&tag[open_end..close])
        } else if tag.starts_with("<select") {
            let close = tag.find("</select>").expect("close");
            let body = &tag[..close];
            match body.find(" selected>") {
                Some(sel) => {
                    let opt = body[..sel].rfind("value=\"").expect("value") + 7;
                    let end = body[opt..].find('"').expect("q") + opt;
                    unescape(&body[opt..end])
                }
                None => String::new(),
            }
        } else {
            let v = tag.find("value=\"").expect("value") + 7;
            let end = tag[v..].find('"').expect("q") + v;
            unescape(&tag[v..end])
        };
        out.push((k.to_string(), value));
    }
    out
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}
