//! SMS verification codes and the gateway that delivers them. Only the
//! development gateway exists here (no SMS provider can be reached from this
//! machine): it writes each message to the log and to a staff-visible
//! outbox, and says so in its name. A real provider implements the same
//! trait.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use rand::Rng;

use super::ids::Phone;
use super::staff::token_hash;
use crate::{Db, DomainError, FieldError, Tx};

/// The signature every text message starts with (【…】, as registered with
/// the SMS provider): one for codes, case messages and reminders alike.
static SIGNATURE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The default signature, the demo city's portal.
pub const DEFAULT_SIGNATURE: &str = "渝州市政务服务网";

/// Sets the signature once at start (the `sms_signature` setting); later
/// calls are ignored.
pub fn set_signature(name: &str) {
    let name = name.trim().trim_start_matches('【').trim_end_matches('】');
    if !name.is_empty() {
        let _ = SIGNATURE.set(name.to_string());
    }
}

/// `body` with the signature in front: 【渝州市政务服务网】….
pub fn signed(body: &str) -> String {
    let name = SIGNATURE
        .get()
        .map(String::as_str)
        .unwrap_or(DEFAULT_SIGNATURE);
    format!("【{name}】{body}")
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), DomainError>> + Send + 'a>>;

/// Delivers one text message.
pub trait SmsGateway: Send + Sync {
    /// Shown in the outbox and the logs.
    fn name(&self) -> &'static str;
    fn send<'a>(&'a self, db: &'a Db, phone: &'a Phone, body: &'a str) -> SendFuture<'a>;
}

/// 开发用短信网关: nothing is sent; the message goes to the log and to
/// `sms_outbox`, which staff with `sms.outbox` can read at `/admin/sms`.
#[derive(Debug, Default)]
pub struct DevOutboxGateway;

impl SmsGateway for DevOutboxGateway {
    fn name(&self) -> &'static str {
        "dev-outbox"
    }

    fn send<'a>(&'a self, db: &'a Db, phone: &'a Phone, body: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            tracing::info!(phone = %phone.masked(), %body, "development SMS gateway: not sent, written to the outbox");
            sqlx::query(
                "INSERT INTO sms_outbox (phone, body, gateway, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(phone.as_str())
            .bind(body)
            .bind(self.name())
            .bind(db.now().timestamp())
            .execute(db.pool())
            .await?;
            Ok(())
        })
    }
}

/// Why a code is sent; a code for one purpose never works for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Register,
    Login,
    ResetPassword,
}

impl Purpose {
    fn code(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::Login => "login",
            Purpose::ResetPassword => "reset",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Purpose::Register => "注册",
            Purpose::Login => "登录",
            Purpose::ResetPassword => "重置密码",
        }
    }
}

pub const CODE_TTL_SECS: i64 = 5 * 60;
pub const RESEND_AFTER_SECS: i64 = 60;
pub const MAX_PER_DAY: i64 = 10;
const MAX_ATTEMPTS: i64 = 5;

/// Codes are filed under the phone's blind index, not the number itself.
fn code_key(db: &Db, phone: &Phone) -> Result<String, DomainError> {
    crate::pii::index(db, "sms_codes.phone", phone.as_str())
}

/// Sends a fresh code, at most once a minute and ten times a day per phone.
/// Refusals name the wait, never whether an account exists.
pub async fn send_code(
    db: &Db,
    gateway: &dyn SmsGateway,
    phone: &Phone,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let t = now.timestamp();
    let (recent, today): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN created_at > $2 THEN 1 ELSE 0 END), 0), COUNT(*) \
         FROM sms_codes WHERE phone = $1 AND created_at > $3",
    )
    .bind(code_key(db, phone)?)
    .bind(t - RESEND_AFTER_SECS)
    .bind(t - 86_400)
    .fetch_one(db.pool())
    .await?;
    if recent > 0 {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "phone",
            "sms_too_soon",
            "",
        )]));
    }
    if today >= MAX_PER_DAY {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "phone",
            "sms_daily_limit",
            "",
        )]));
    }
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000));
    sqlx::query(
        "INSERT INTO sms_codes (phone, purpose, code_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(code_key(db, phone)?)
    .bind(purpose.code())
    .bind(token_hash(&format!("{}:{code}", phone.as_str())))
    .bind(t)
    .bind(t + CODE_TTL_SECS)
    .execute(db.pool())
    .await?;
    let body = signed(&format!(
        "您的{}验证码为 {code}，5 分钟内有效。请勿告诉他人。",
        purpose.words()
    ));
    gateway.send(db, phone, &body).await
}

/// What a typed code is, against the newest live code for a phone.
enum Found {
    /// It matches the code with this id.
    Matches(i64),
    /// It does not match the code with this id.
    Wrong(i64),
    /// There is no live code (none sent, expired, used, or tried too often).
    Missing,
}

async fn find(
    conn: &mut sqlx::AnyConnection,
    db: &Db,
    phone: &Phone,
    purpose: Purpose,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Found, DomainError> {
    let row: Option<(i64, String, i64)> = sqlx::query_as(
        "SELECT id, code_hash, attempts FROM sms_codes WHERE phone = $1 AND purpose = $2 \
         AND used = 0 AND expires_at > $3 ORDER BY id DESC LIMIT 1",
    )
    .bind(code_key(db, phone)?)
    .bind(purpose.code())
    .bind(now.timestamp())
    .fetch_optional(conn)
    .await?;
    let Some((id, hash, attempts)) = row else {
        return Ok(Found::Missing);
    };
    if attempts >= MAX_ATTEMPTS {
        return Ok(Found::Missing);
    }
    let code: String = code.chars().filter(char::is_ascii_digit).collect();
    if token_hash(&format!("{}:{code}", phone.as_str())) == hash {
        Ok(Found::Matches(id))
    } else {
        Ok(Found::Wrong(id))
    }
}

async fn count_wrong_try(db: &Db, id: i64) -> Result<(), DomainError> {
    sqlx::query("UPDATE sms_codes SET attempts = attempts + 1 WHERE id = $1")
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Uses up the newest live code for `phone` and `purpose` if `code` matches.
/// Each wrong try counts; after five the code is dead.
pub async fn check_code(
    db: &Db,
    phone: &Phone,
    purpose: Purpose,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, DomainError> {
    let mut conn = db.pool().acquire().await?;
    match find(&mut conn, db, phone, purpose, code, now).await? {
        // The conditional update makes the code single-use across nodes.
        Found::Matches(id) => Ok(sqlx::query(
            "UPDATE sms_codes SET used = 1 WHERE id = $1 AND used = 0",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
            == 1),
        Found::Wrong(id) => {
            drop(conn);
            count_wrong_try(db, id).await?;
            Ok(false)
        }
        Found::Missing => Ok(false),
    }
}

/// Like [`check_code`], inside the transaction of the change the code
/// allows (a registration, a password reset): the code is used up only if
/// that transaction commits, so a change that fails leaves it usable. A
/// wrong code rolls the transaction back (it takes the write lock) before
/// the try is counted. `Ok(None)` means refused; `Ok(Some(tx))` carries on.
pub async fn use_code_in(
    mut tx: Tx,
    db: &Db,
    phone: &Phone,
    purpose: Purpose,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Option<Tx>, DomainError> {
    match find(&mut tx, db, phone, purpose, code, now).await? {
        Found::Matches(id) => {
            let n = sqlx::query("UPDATE sms_codes SET used = 1 WHERE id = $1 AND used = 0")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            Ok((n == 1).then_some(tx))
        }
        Found::Wrong(id) => {
            tx.rollback().await?;
            count_wrong_try(db, id).await?;
            Ok(None)
        }
        Found::Missing => Ok(None),
    }
}

/// One outbox row for the staff page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxMessage {
    pub id: i64,
    pub phone: String,
    pub body: String,
    pub gateway: String,
    pub created_at: i64,
}

pub async fn outbox(db: &Db, limit: i64) -> Result<Vec<OutboxMessage>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT id, phone, body, gateway, created_at FROM sms_outbox ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}
