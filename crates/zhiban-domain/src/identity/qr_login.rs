//! Scan-to-login (扫码登录): a desktop browser shows a one-time QR code; a
//! phone already signed in opens it, sees which device asks, and approves;
//! the desktop then signs in. The code alone signs nobody in: the desktop
//! also holds a secret cookie set when the code was made, so a photographed
//! or forwarded code is useless elsewhere.

use chrono::{DateTime, Utc};

use super::SecurityPolicy;
use super::citizen::{self, Citizen};
use super::staff::{Client, random_token, token_hash};
use crate::audit::{self, Entry};
use crate::{Db, DomainError};

/// A code lives two minutes.
pub const TTL_SECS: i64 = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Approved,
    Denied,
    Used,
    Expired,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Denied => "denied",
            Status::Used => "used",
            Status::Expired => "expired",
        }
    }

    fn parse(s: &str) -> Status {
        match s {
            "approved" => Status::Approved,
            "denied" => Status::Denied,
            "used" => Status::Used,
            _ => Status::Pending,
        }
    }
}

/// A fresh request: the code for the QR image, and the desktop's secret.
#[derive(Debug, Clone)]
pub struct Started {
    pub code: String,
    pub secret: String,
    pub expires_at: i64,
}

pub async fn start(db: &Db, client: &Client, now: DateTime<Utc>) -> Result<Started, DomainError> {
    let code = random_token();
    let secret = random_token();
    let expires_at = now.timestamp() + TTL_SECS;
    let ua: String = client.user_agent.chars().take(200).collect();
    sqlx::query(
        "INSERT INTO qr_logins (code, secret_hash, status, created_at, expires_at, ip, user_agent) \
         VALUES ($1, $2, 'pending', $3, $4, $5, $6)",
    )
    .bind(&code)
    .bind(token_hash(&secret))
    .bind(now.timestamp())
    .bind(expires_at)
    .bind(&client.ip)
    .bind(&ua)
    .execute(db.pool())
    .await?;
    Ok(Started {
        code,
        secret,
        expires_at,
    })
}

/// What the phone shows before approving: where the request comes from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Request {
    pub code: String,
    pub status: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
}

impl Request {
    pub fn status_at(&self, now: DateTime<Utc>) -> Status {
        let s = Status::parse(&self.status);
        if matches!(s, Status::Pending | Status::Approved) && self.expires_at <= now.timestamp() {
            Status::Expired
        } else {
            s
        }
    }
}

pub async fn by_code(db: &Db, code: &str) -> Result<Option<Request>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT code, status, created_at, expires_at, ip, user_agent FROM qr_logins WHERE code = $1",
    )
    .bind(code)
    .fetch_optional(db.pool())
    .await?)
}

/// The phone's answer. Only a pending, unexpired request can be answered.
pub async fn answer(
    db: &Db,
    citizen: &Citizen,
    code: &str,
    approve: bool,
    now: DateTime<Utc>,
) -> Result<Status, DomainError> {
    let status = if approve { "approved" } else { "denied" };
    let n = sqlx::query(
        "UPDATE qr_logins SET status = $2, citizen_id = $3 WHERE code = $1 AND status = 'pending' \
         AND expires_at > $4",
    )
    .bind(code)
    .bind(status)
    .bind(citizen.id)
    .bind(now.timestamp())
    .execute(db.pool())
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(match by_code(db, code).await? {
            Some(r) => r.status_at(now),
            None => Status::Expired,
        });
    }
    audit::record(
        db,
        Entry::citizen(&citizen.label(), "citizen.qr_answer", citizen.label()).detail(status),
    )
    .await?;
    Ok(Status::parse(status))
}

/// The desktop asks how things stand (by its secret).
pub async fn status(db: &Db, secret: &str, now: DateTime<Utc>) -> Result<Status, DomainError> {
    let row: Option<Request> = sqlx::query_as(
        "SELECT code, status, created_at, expires_at, ip, user_agent FROM qr_logins WHERE secret_hash = $1",
    )
    .bind(token_hash(secret))
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map_or(Status::Expired, |r| r.status_at(now)))
}

/// The desktop finishes: an approved, unexpired request becomes a session
/// (once). Returns the session cookie value.
pub async fn finish(
    db: &Db,
    policy: &SecurityPolicy,
    secret: &str,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<Option<(Citizen, String)>, DomainError> {
    let hash = token_hash(secret);
    let citizen_id: Option<Option<i64>> = sqlx::query_scalar(
        "UPDATE qr_logins SET status = 'used' WHERE secret_hash = $1 AND status = 'approved' \
         AND expires_at > $2 RETURNING citizen_id",
    )
    .bind(&hash)
    .bind(now.timestamp())
    .fetch_optional(db.pool())
    .await?;
    let Some(Some(id)) = citizen_id else {
        return Ok(None);
    };
    let c = citizen::get(db, id).await?;
    let token = citizen::start_session(db, policy, &c, "qr", client, now).await?;
    Ok(Some((c, token)))
}
