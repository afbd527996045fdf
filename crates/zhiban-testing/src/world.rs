//! A domain test's world: a database with the demo data, a file store in a
//! directory of its own, the national working-day calendar, default case
//! settings, and the people tests need (staff by role, verified citizens).

use zhiban_domain::Db;
use zhiban_domain::cases::calendar::WorkCalendar;
use zhiban_domain::cases::{CaseSettings, Desk};
use zhiban_domain::catalog::{self, ServiceItem};
use zhiban_domain::identity::SecurityPolicy;
use zhiban_domain::identity::citizen::{self, Citizen, Registration};
use zhiban_domain::identity::ids::Phone;
use zhiban_domain::identity::roles::{self, StaffInput};
use zhiban_domain::identity::sms::{self, DevOutboxGateway, Purpose};
use zhiban_domain::identity::staff::{self, Client, StaffSession};
use zhiban_domain::payments::Payments;
use zhiban_domain::payments::dev_gateway::DevGateway;
use zhiban_store::files::FileStore;
use zhiban_store::sqlx;

use crate::db::{Template, TestDb};

const ROOT_PASSWORD: &str = "R00t!pass";
const HANDLER_PASSWORD: &str = "Hand1er!pw";

pub struct World {
    pub t: TestDb,
    pub dir: tempfile::TempDir,
    pub files: FileStore,
    pub calendar: WorkCalendar,
    pub settings: CaseSettings,
    /// The development payment gateway (a stand-in for a bank's).
    pub gateway: DevGateway,
}

/// A valid 身份证号 (GB 11643 check character) ending in `tail`.
pub fn id_number(tail: u32) -> String {
    let body = format!("50010319800101{:03}", tail % 1000);
    let check = zhiban_domain::identity::ids::id_check_char(&body).expect("check");
    format!("{body}{check}")
}

/// A full staff session (one factor) for calling domain functions as them.
pub async fn staff_session(db: &Db, username: &str, password: &str) -> StaffSession {
    let policy = SecurityPolicy {
        staff_second_factor: false,
        ..SecurityPolicy::default()
    };
    let now = db.now();
    let user = staff::login(db, &policy, username, password, now)
        .await
        .expect("login");
    let token = staff::start_session(db, &policy, &user, &Client::default(), now)
        .await
        .expect("session");
    zhiban_domain::identity::staff_keys::unlock_for_session(db, user.id, password, &token)
        .await
        .expect("keys");
    staff::session(db, &policy, &token, now)
        .await
        .expect("q")
        .expect("live")
}

/// The refused scope checks on record for `actor`: (target, detail, ip),
/// oldest first.
pub async fn refusals(db: &Db, actor: &str) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT target, detail, ip FROM audit_log WHERE actor = $1 AND action = 'scope.refused' \
         AND outcome = 'refused' ORDER BY seq",
    )
    .bind(actor)
    .fetch_all(db.pool())
    .await
    .expect("audit")
}

/// The code in the newest message to `phone` in the development SMS outbox.
pub async fn sms_code(db: &Db, phone: &str) -> String {
    let body: String =
        sqlx::query_scalar("SELECT body FROM sms_outbox WHERE phone = $1 ORDER BY id DESC LIMIT 1")
            .bind(phone)
            .fetch_one(db.pool())
            .await
            .expect("an SMS was written to the outbox");
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a 6-digit code")
        .to_string()
}

/// Registers `phone` as a citizen through the domain (the code from the
/// development SMS outbox), signed up at the database clock's time.
pub async fn register_citizen(db: &Db, phone: &str) -> Citizen {
    let p = Phone::parse(phone).expect("phone");
    let now = db.now();
    sms::send_code(db, &DevOutboxGateway, &p, Purpose::Register, now)
        .await
        .expect("sent");
    let code = sms_code(db, phone).await;
    let reg = Registration {
        phone: phone.into(),
        code,
        password: crate::app::PASSWORD.into(),
        accept_privacy: true,
    };
    citizen::register(
        db,
        &SecurityPolicy::default(),
        &reg,
        &Client::default(),
        now,
    )
    .await
    .expect("registered")
    .0
}

impl World {
    /// The demo city with nobody signed up yet.
    pub async fn new() -> Self {
        let t = TestDb::from(Template::Demo).await.expect("db");
        let dir = tempfile::tempdir().expect("dir");
        let files = FileStore::open(&dir.path().display().to_string()).expect("store");
        World {
            t,
            dir,
            files,
            calendar: WorkCalendar::national(),
            settings: CaseSettings::default(),
            gateway: DevGateway::default(),
        }
    }

    pub fn db(&self) -> &Db {
        &self.t.db
    }

    pub fn desk(&self) -> Desk<'_> {
        Desk {
            db: &self.t.db,
            files: &self.files,
            calendar: &self.calendar,
            settings: &self.settings,
            public_url: "https://zw.example.gov.cn",
        }
    }

    /// What payments need: the development gateway, default settings.
    pub fn payments(&self) -> Payments<'_> {
        Payments {
            db: &self.t.db,
            gateway: &self.gateway,
            settings: &self.gateway.settings,
            public_url: "https://zw.example.gov.cn",
        }
    }

    /// How many file bodies the store holds for cases.
    pub fn stored_bodies(&self) -> usize {
        let cases = self.dir.path().join("cases");
        std::fs::read_dir(cases).map(|d| d.count()).unwrap_or(0)
    }

    /// How many file bodies the store holds for published articles.
    pub fn stored_article_files(&self) -> usize {
        let content = self.dir.path().join("content");
        std::fs::read_dir(content).map(|d| d.count()).unwrap_or(0)
    }

    pub async fn item(&self, code: &str) -> ServiceItem {
        catalog::get_service(self.db(), code).await.expect("item")
    }

    /// The id of the org-tree unit with `code`.
    pub async fn unit(&self, code: &str) -> i64 {
        sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
            .bind(code)
            .fetch_one(self.db().pool())
            .await
            .expect("unit")
    }

    /// The system administrator (every permission).
    pub async fn root(&self) -> StaffSession {
        staff::create_or_reset(self.db(), "root", "", ROOT_PASSWORD)
            .await
            .expect("root");
        staff_session(self.db(), "root", ROOT_PASSWORD).await
    }

    /// A staff member of `unit` with the given built-in roles.
    pub async fn staff(&self, username: &str, unit: &str, role_codes: &[&str]) -> StaffSession {
        let root = self.root().await;
        let all = roles::list_roles(self.db()).await.expect("roles");
        let input = StaffInput {
            username: username.into(),
            display_name: format!("{username} 民警"),
            unit_id: Some(self.unit(unit).await),
            role_ids: all
                .iter()
                .filter(|r| role_codes.contains(&r.code.as_str()))
                .map(|r| r.id)
                .collect(),
            password: HANDLER_PASSWORD.into(),
            ..StaffInput::default()
        };
        roles::save_staff(self.db(), &root, None, &input)
            .await
            .expect("staff");
        staff_session(self.db(), username, HANDLER_PASSWORD).await
    }

    /// A tip handler of `unit` who has chosen their own password, so that
    /// signing in unlocks their own key (see `identity::staff_keys`).
    pub async fn handler(&self, username: &str, unit: &str) -> StaffSession {
        self.staff(username, unit, &["tip_handler"]).await;
        sqlx::query("UPDATE staff_users SET password_changed_at = $1 WHERE username = $2")
            .bind(self.db().now().timestamp())
            .bind(username)
            .execute(self.db().pool())
            .await
            .expect("chosen");
        staff_session(self.db(), username, HANDLER_PASSWORD).await
    }

    /// A person at real-name `level`; from level 2 on with a name and an
    /// ID number (ending in the phone's last three digits), stored
    /// encrypted like any other.
    pub async fn citizen(&self, phone: &str, name: &str, level: i64) -> Citizen {
        let tail: u32 = phone[phone.len().saturating_sub(3)..].parse().unwrap_or(0);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO citizens (phone, password_hash, name, id_number, level, created_at) \
             VALUES ($1, 'x', $2, $3, $4, 0) RETURNING id",
        )
        .bind(phone)
        .bind(if level >= 2 { name } else { "" })
        .bind(if level >= 2 {
            id_number(tail)
        } else {
            String::new()
        })
        .bind(level)
        .fetch_one(self.db().pool())
        .await
        .expect("citizen");
        zhiban_domain::keys::encrypt_pending(self.db())
            .await
            .expect("encrypted");
        citizen::get(self.db(), id).await.expect("get")
    }
}
