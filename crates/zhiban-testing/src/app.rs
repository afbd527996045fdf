//! `TestApp`: the real server on port 0 over a database of the test's own
//! (copied from the web template: demo data and the test administrator),
//! and the steps people take in a browser.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::redirect::Policy;
use zhiban_domain::identity::roles::{self, StaffInput};
use zhiban_domain::identity::staff::{self, StaffSession};
use zhiban_domain::identity::{Perm, SecurityPolicy, totp};
use zhiban_web::{AppState, WebConfig};

use crate::db::{Template, TestDb};
use crate::html::hidden;

/// The administrator every web test database has (all permissions).
pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "Adm1n!pass";
/// The password of the citizens and staff the helpers create.
pub const PASSWORD: &str = "Citiz3n!pw";
const STAFF_PASSWORD: &str = "Staff1!pass";

pub struct TestApp {
    pub base: String,
    /// Keeps cookies; does not follow redirects, so tests can see them.
    pub client: reqwest::Client,
    pub state: AppState,
    pub db: TestDb,
    /// The administrator's authenticator secret once enrolled.
    pub totp_secret: std::sync::Mutex<Option<String>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _files: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A browser of its own: keeps cookies, does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Where a redirect points (empty when it is not one).
pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

fn one_factor() -> SecurityPolicy {
    SecurityPolicy {
        staff_second_factor: false,
        ..SecurityPolicy::default()
    }
}

impl TestApp {
    /// The portal with default settings.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(WebConfig::default()).await
    }

    /// The portal as published under a host name (`http://localhost:…`)
    /// rather than an IP address: passkeys need a domain.
    pub async fn spawn_named(host: &str) -> TestApp {
        Self::spawn_inner(WebConfig::default(), Some(host)).await
    }

    /// The portal with the per-address sign-in limit out of the way, for
    /// tests that sign in, send codes or post forms many times from one
    /// address (the limit itself has tests of its own).
    pub async fn spawn_unlimited() -> TestApp {
        Self::spawn_with(WebConfig {
            security: zhiban_domain::identity::SecurityPolicy {
                sign_in_per_minute: 1000,
                ..Default::default()
            },
            ..WebConfig::default()
        })
        .await
    }

    /// The portal with `config` (uploads go to a directory of the test's own).
    pub async fn spawn_with(config: WebConfig) -> TestApp {
        Self::spawn_inner(config, None).await
    }

    async fn spawn_inner(mut config: WebConfig, host: Option<&str>) -> TestApp {
        let db = TestDb::from(Template::Web).await.expect("test database");
        let files = tempfile::tempdir().expect("files dir");
        if config.storage_url.is_none() {
            config.storage_url = Some(files.path().display().to_string());
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        // Served at a known address, as in production (the OpenID Connect
        // provider needs it).
        if config.public_url.is_none() {
            config.public_url = Some(match host {
                Some(h) => base.replace("127.0.0.1", h),
                None => base.clone(),
            });
        }
        let state = AppState::new(db.db.clone(), config).await.expect("state");
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
            _files: files,
        }
    }

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

    /// Posts a URL-encoded form with this client's cookies, as it is.
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

    pub async fn text_with(&self, c: &reqwest::Client, path: &str) -> (u16, String) {
        let r = c.get(self.url(path)).send().await.expect("request");
        let status = r.status().as_u16();
        (status, r.text().await.expect("body"))
    }

    pub async fn text(&self, path: &str) -> (u16, String) {
        self.text_with(&self.client, path).await
    }

    pub async fn json(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.json().await.expect("json"))
    }

    /// What a browser does with a form: opens `page` with `c`, takes the
    /// form token from it and posts `fields` to `action`.
    pub async fn submit(
        &self,
        c: &reqwest::Client,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let (_, html) = self.text_with(c, page).await;
        let token = hidden(&html, "_csrf");
        let mut form: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
        form.extend_from_slice(fields);
        c.post(self.url(action))
            .form(&form)
            .send()
            .await
            .expect("post")
    }

    /// The same for a form with file inputs (multipart): `files` are
    /// (input name, file name, body).
    pub async fn submit_multipart(
        &self,
        c: &reqwest::Client,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> reqwest::Response {
        let (_, html) = self.text_with(c, page).await;
        let mut form = Form::new().text("_csrf", hidden(&html, "_csrf"));
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        for (k, name, body) in files {
            form = form.part(
                k.to_string(),
                Part::bytes(body.to_vec()).file_name(name.to_string()),
            );
        }
        c.post(self.url(action))
            .multipart(form)
            .send()
            .await
            .expect("post")
    }

    /// Signs this app's client in as the test administrator: password,
    /// then the one-time code (enrolling the authenticator on the first
    /// sign-in).
    pub async fn login(&self) {
        let r = self
            .submit(
                &self.client,
                "/admin/login",
                "/admin/login",
                &[
                    ("username", ADMIN),
                    ("password", ADMIN_PASSWORD),
                    ("next", "/admin/services"),
                ],
            )
            .await;
        assert_eq!(r.status().as_u16(), 303, "password accepted");
        let to = location(&r);
        assert!(to.starts_with("/admin/login/verify"), "{to}");
        let (_, page) = self.text(&to).await;
        let known = self.totp_secret.lock().expect("lock").clone();
        let secret = match known {
            Some(s) => s,
            None => {
                let s = crate::html::totp_secret_on(&page);
                *self.totp_secret.lock().expect("lock") = Some(s.clone());
                s
            }
        };
        let csrf = hidden(&page, "_csrf");
        // A code is accepted once: a second sign-in in the same 30 s uses
        // the next step's code, which the one-step skew allows.
        let now = self.db.db.now().timestamp();
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
        let db = &self.db.db;
        let now = db.now();
        let user = staff::login(db, &one_factor(), username, password, now)
            .await
            .expect("login");
        let token = staff::start_session(db, &one_factor(), &user, &Default::default(), now)
            .await
            .expect("session");
        zhiban_domain::identity::staff_keys::unlock_for_session(db, user.id, password, &token)
            .await
            .expect("keys");
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

    /// The administrator's full session, for calling domain functions as them.
    pub async fn admin_session(&self) -> StaffSession {
        crate::world::staff_session(&self.db.db, ADMIN, ADMIN_PASSWORD).await
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

    /// The id of the org-tree unit with `code`.
    pub async fn unit_id(&self, code: &str) -> i64 {
        zhiban_store::sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
            .bind(code)
            .fetch_one(self.db.db.pool())
            .await
            .expect("unit")
    }

    /// A staff member of unit `unit` (`""`: the administrator's, the top
    /// of the tree) holding exactly `perms` (through a role made for
    /// them), signed in. The role is a fixture written to the database:
    /// under 三员分立 no real account may grant every combination (the
    /// administrator cannot hand out audit viewing, for one).
    pub async fn staff_with(&self, username: &str, unit: &str, perms: &[Perm]) -> reqwest::Client {
        let db = &self.db.db;
        let role_id: i64 = zhiban_store::sqlx::query_scalar(
            "INSERT INTO roles (code, name, description, builtin) VALUES ($1, $2, '', 0) RETURNING id",
        )
        .bind(format!("role_{}", username.replace(['.', '-'], "_")))
        .bind(format!("测试角色{username}"))
        .fetch_one(db.pool())
        .await
        .expect("role");
        for p in perms {
            zhiban_store::sqlx::query(
                "INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2)",
            )
            .bind(role_id)
            .bind(p.slug())
            .execute(db.pool())
            .await
            .expect("permission");
        }
        self.staff_in_roles(username, unit, vec![role_id]).await
    }

    /// A staff member of `unit` with the built-in role `role_code` (e.g.
    /// `case_handler`), signed in.
    pub async fn staff_in_role(
        &self,
        username: &str,
        unit: &str,
        role_code: &str,
    ) -> reqwest::Client {
        let role = roles::list_roles(&self.db.db)
            .await
            .expect("roles")
            .into_iter()
            .find(|r| r.code == role_code)
            .unwrap_or_else(|| panic!("no role {role_code}"));
        self.staff_in_roles(username, unit, vec![role.id]).await
    }

    async fn staff_in_roles(
        &self,
        username: &str,
        unit: &str,
        role_ids: Vec<i64>,
    ) -> reqwest::Client {
        let admin = self.admin_session().await;
        let input = StaffInput {
            username: username.into(),
            display_name: format!("{username} 测试人员"),
            unit_id: if unit.is_empty() {
                admin.user.unit_id
            } else {
                Some(self.unit_id(unit).await)
            },
            password: STAFF_PASSWORD.into(),
            ..StaffInput::default()
        };
        let id = roles::save_staff(&self.db.db, &admin, None, &input)
            .await
            .expect("staff");
        // The grant is a fixture too (see `staff_with`).
        for r in role_ids {
            zhiban_store::sqlx::query("INSERT INTO staff_roles (user_id, role_id) VALUES ($1, $2)")
                .bind(id)
                .bind(r)
                .execute(self.db.db.pool())
                .await
                .expect("grant");
        }
        self.settle_password(username).await;
        self.session_client(username, STAFF_PASSWORD).await
    }

    /// Marks an administrator-set password as chosen by its owner, so
    /// tests that are not about the first-sign-in change can skip it.
    pub async fn settle_password(&self, username: &str) {
        zhiban_store::sqlx::query(
            "UPDATE staff_users SET password_changed_at = $1 WHERE username = $2",
        )
        .bind(self.db.db.now().timestamp())
        .bind(username)
        .execute(self.db.db.pool())
        .await
        .expect("settle");
    }

    /// The newest code the development SMS gateway wrote for `phone`.
    pub async fn last_sms_code(&self, phone: &str) -> String {
        crate::world::sms_code(&self.db.db, phone).await
    }

    /// Registers `phone` through the pages with `c` (the code from the
    /// development outbox, password [`PASSWORD`]).
    pub async fn register(&self, c: &reqwest::Client, phone: &str) {
        let r = self
            .submit(c, "/register", "/register/code", &[("phone", phone)])
            .await;
        assert_eq!(r.status().as_u16(), 200, "code sent");
        let code = self.last_sms_code(phone).await;
        let r = self
            .submit(
                c,
                "/register",
                "/register",
                &[
                    ("phone", phone),
                    ("code", code.as_str()),
                    ("password", PASSWORD),
                    ("password_again", PASSWORD),
                    ("accept_privacy", "1"),
                ],
            )
            .await;
        assert_eq!(r.status().as_u16(), 303, "registered");
    }

    /// A new browser signed in as a freshly registered citizen (level 1).
    pub async fn citizen(&self, phone: &str) -> reqwest::Client {
        let c = client();
        self.register(&c, phone).await;
        c
    }

    /// A new browser signed in as a citizen who passed real-name
    /// verification (level 2) as `name` with `id_number`.
    pub async fn verified_citizen(
        &self,
        phone: &str,
        name: &str,
        id_number: &str,
    ) -> reqwest::Client {
        let c = self.citizen(phone).await;
        let r = self
            .submit(
                &c,
                "/account",
                "/account/realname",
                &[("name", name), ("id_number", id_number)],
            )
            .await;
        assert_eq!(r.status().as_u16(), 303, "verified");
        c
    }
}
