//! Passkeys (WebAuthn, via webauthn-rs): a signed-in person adds a passkey
//! from the account centre; later they sign in with their phone number and
//! the passkey, with no password. Staff use passkeys as their second factor
//! (instead of, or beside, a one-time code). Ceremony state lives in the database so
//! any node can finish what another began.
//!
//! Asking for a passkey must not tell whether a number is registered or has
//! passkeys: a number without any gets a challenge naming a made-up
//! credential derived from a secret of this installation, which no
//! authenticator holds, so both cases look the same from outside.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Url, Uuid,
    Webauthn, WebauthnBuilder,
};

use super::SecurityPolicy;
use super::citizen::{self, Citizen};
use super::ids::Phone;
use super::staff::{Client, random_token};
use crate::audit::{self, Entry};
use crate::{Db, DomainError, FieldError};

const CEREMONY_SECS: i64 = 300;

/// The relying party for `origin` (`https://zwfw.example.gov.cn`). Passkeys
/// need a domain name: an IP address cannot be a WebAuthn relying party.
pub fn relying_party(origin: &str, name: &str) -> Option<Webauthn> {
    let url = Url::parse(origin).ok()?;
    let host = url.domain()?.to_string();
    WebauthnBuilder::new(&host, &url)
        .ok()?
        .rp_name(name)
        .build()
        .ok()
}

fn invalid(field: &'static str, code: &'static str) -> DomainError {
    DomainError::Invalid(vec![FieldError::new(field, code, "")])
}

fn webauthn_failed<E: std::fmt::Debug>(e: E) -> DomainError {
    tracing::info!(error = ?e, "webauthn ceremony refused");
    invalid("passkey", "passkey_failed")
}

async fn save_ceremony<T: Serialize>(
    db: &Db,
    kind: &str,
    owner_id: Option<i64>,
    state: &T,
    now: DateTime<Utc>,
) -> Result<String, DomainError> {
    let id = random_token();
    let json = serde_json::to_string(state).map_err(|_| DomainError::Internal("ceremony_state"))?;
    sqlx::query(
        "INSERT INTO webauthn_ceremonies (id, kind, owner_id, state, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(kind)
    .bind(owner_id)
    .bind(json)
    .bind(now.timestamp() + CEREMONY_SECS)
    .execute(db.pool())
    .await?;
    Ok(id)
}

/// Takes a ceremony out (single use).
async fn take_ceremony(
    db: &Db,
    id: &str,
    kind: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Option<i64>, String)>, DomainError> {
    let row: Option<(Option<i64>, String, i64)> = sqlx::query_as(
        "SELECT owner_id, state, expires_at FROM webauthn_ceremonies WHERE id = $1 AND kind = $2",
    )
    .bind(id)
    .bind(kind)
    .fetch_optional(db.pool())
    .await?;
    let n = sqlx::query("DELETE FROM webauthn_ceremonies WHERE id = $1 OR expires_at < $2")
        .bind(id)
        .bind(now.timestamp())
        .execute(db.pool())
        .await?
        .rows_affected();
    Ok(match row {
        Some((c, state, exp)) if exp > now.timestamp() && n > 0 => Some((c, state)),
        _ => None,
    })
}

/// Whose passkeys: a citizen's or a staff member's (separate tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Citizen(i64),
    Staff(i64),
}

impl Owner {
    fn table(self) -> &'static str {
        match self {
            Owner::Citizen(_) => "passkeys",
            Owner::Staff(_) => "staff_passkeys",
        }
    }
    fn column(self) -> &'static str {
        match self {
            Owner::Citizen(_) => "citizen_id",
            Owner::Staff(_) => "staff_id",
        }
    }
    fn id(self) -> i64 {
        match self {
            Owner::Citizen(id) | Owner::Staff(id) => id,
        }
    }
    fn ceremony(self, what: &str) -> String {
        match self {
            Owner::Citizen(_) => what.to_string(),
            Owner::Staff(_) => format!("staff_{what}"),
        }
    }
}

async fn passkeys_of(db: &Db, owner: Owner) -> Result<Vec<(i64, Passkey)>, DomainError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, passkey FROM {} WHERE {} = $1 ORDER BY id",
        owner.table(),
        owner.column()
    )))
    .bind(owner.id())
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, json)| serde_json::from_str(&json).ok().map(|p| (id, p)))
        .collect())
}

/// A passkey as listed in the account centre.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PasskeyInfo {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

pub async fn list(db: &Db, owner: Owner) -> Result<Vec<PasskeyInfo>, DomainError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, name, created_at, last_used_at FROM {} WHERE {} = $1 ORDER BY id",
        owner.table(),
        owner.column()
    )))
    .bind(owner.id())
    .fetch_all(db.pool())
    .await?)
}

/// The stable WebAuthn user handle (random, never the account's id).
async fn user_handle(db: &Db, owner: Owner) -> Result<Uuid, DomainError> {
    let text = match owner {
        Owner::Citizen(id) => super::oidc::subject(db, id).await?,
        Owner::Staff(id) => {
            sqlx::query("UPDATE staff_users SET webauthn_handle = $2 WHERE id = $1 AND webauthn_handle IS NULL")
                .bind(id)
                .bind(Uuid::new_v4().to_string())
                .execute(db.pool())
                .await?;
            sqlx::query_scalar("SELECT webauthn_handle FROM staff_users WHERE id = $1")
                .bind(id)
                .fetch_one(db.pool())
                .await?
        }
    };
    Uuid::parse_str(&text).map_err(|_| DomainError::Internal("user_handle"))
}

/// Who is registering, as the authenticator will show it.
pub struct Holder<'a> {
    pub owner: Owner,
    pub user_name: &'a str,
    pub display_name: &'a str,
    /// For the audit trail (`citizen:12` or the staff user name).
    pub label: String,
}

pub async fn begin_registration(
    db: &Db,
    wa: &Webauthn,
    who: &Holder<'_>,
    now: DateTime<Utc>,
) -> Result<(String, CreationChallengeResponse), DomainError> {
    let existing: Vec<_> = passkeys_of(db, who.owner)
        .await?
        .into_iter()
        .map(|(_, p)| p.cred_id().clone())
        .collect();
    let handle = user_handle(db, who.owner).await?;
    let (options, state) = wa
        .start_passkey_registration(handle, who.user_name, who.display_name, Some(existing))
        .map_err(webauthn_failed)?;
    let id = save_ceremony(
        db,
        &who.owner.ceremony("register"),
        Some(who.owner.id()),
        &state,
        now,
    )
    .await?;
    Ok((id, options))
}

pub async fn finish_registration(
    db: &Db,
    wa: &Webauthn,
    who: &Holder<'_>,
    ceremony: &str,
    name: &str,
    credential: &RegisterPublicKeyCredential,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let kind = who.owner.ceremony("register");
    let Some((Some(owner), state)) = take_ceremony(db, ceremony, &kind, now).await? else {
        return Err(invalid("passkey", "passkey_expired"));
    };
    if owner != who.owner.id() {
        return Err(invalid("passkey", "passkey_expired"));
    }
    let state: PasskeyRegistration =
        serde_json::from_str(&state).map_err(|_| DomainError::Internal("ceremony_state"))?;
    let key = wa
        .finish_passkey_registration(credential, &state)
        .map_err(webauthn_failed)?;
    let name: String = match name.trim() {
        "" => "通行密钥".into(),
        n => n.chars().take(40).collect(),
    };
    let json = serde_json::to_string(&key).map_err(|_| DomainError::Internal("passkey_state"))?;
    let mut tx = db.begin().await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {} ({}, cred_id, passkey, name, created_at) VALUES ($1, $2, $3, $4, $5)",
        who.owner.table(),
        who.owner.column()
    )))
    .bind(who.owner.id())
    .bind(URL_SAFE_NO_PAD.encode(key.cred_id()))
    .bind(json)
    .bind(&name)
    .bind(now.timestamp())
    .execute(&mut *tx)
    .await?;
    let entry = match who.owner {
        Owner::Citizen(_) => Entry::citizen(&who.label, "citizen.passkey_add", &who.label),
        Owner::Staff(_) => Entry::staff(&who.label, "staff.passkey_add", &who.label),
    };
    audit::append(&mut tx, &entry.detail(&name)).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn remove(db: &Db, owner: Owner, label: &str, id: i64) -> Result<(), DomainError> {
    let mut tx = db.begin().await?;
    let n = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {} WHERE id = $1 AND {} = $2",
        owner.table(),
        owner.column()
    )))
    .bind(id)
    .bind(owner.id())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(DomainError::NotFound);
    }
    let entry = match owner {
        Owner::Citizen(_) => Entry::citizen(label, "citizen.passkey_remove", label),
        Owner::Staff(_) => Entry::staff(label, "staff.passkey_remove", label),
    };
    audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// A secret of this installation, made on first use.
async fn server_secret(db: &Db, name: &str) -> Result<String, DomainError> {
    sqlx::query(
        "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(random_token())
    .execute(db.pool())
    .await?;
    Ok(
        sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(db.pool())
            .await?,
    )
}

/// Begins a sign-in for `phone`. Numbers without passkeys get a challenge
/// for a made-up credential (see the module docs).
pub async fn begin_login(
    db: &Db,
    wa: &Webauthn,
    phone: &str,
    now: DateTime<Utc>,
) -> Result<(String, RequestChallengeResponse), DomainError> {
    let phone = Phone::parse(phone).map_err(|e| DomainError::Invalid(vec![e]))?;
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM citizens WHERE phone_bidx = $1")
        .bind(citizen::phone_key(db, &phone)?)
        .fetch_optional(db.pool())
        .await?;
    let keys = match id {
        Some(id) => passkeys_of(db, Owner::Citizen(id))
            .await?
            .into_iter()
            .map(|(_, p)| p)
            .collect(),
        None => Vec::new(),
    };
    if keys.is_empty() {
        let secret = server_secret(db, "passkey_decoy").await?;
        let fake = Sha256::digest(format!("{secret}:{}", phone.as_str()).as_bytes());
        let (mut options, _) = wa
            .start_passkey_authentication(&[])
            .map_err(webauthn_failed)?;
        options.public_key.allow_credentials = vec![webauthn_rs_proto::AllowCredentials {
            type_: "public-key".into(),
            id: fake[..16].to_vec(),
            transports: None,
        }];
        let id = save_ceremony(db, "login", None, &serde_json::Value::Null, now).await?;
        return Ok((id, options));
    }
    let (options, state) = wa
        .start_passkey_authentication(&keys)
        .map_err(webauthn_failed)?;
    let ceremony = save_ceremony(db, "login", id, &state, now).await?;
    Ok((ceremony, options))
}

/// Checks an assertion against the ceremony and the owner's stored keys,
/// and moves the key's signature counter on.
async fn check_assertion(
    db: &Db,
    wa: &Webauthn,
    owner_of: impl Fn(i64) -> Owner,
    kind: &str,
    ceremony: &str,
    credential: &PublicKeyCredential,
    now: DateTime<Utc>,
) -> Result<Owner, DomainError> {
    let Some((Some(owner_id), state)) = take_ceremony(db, ceremony, kind, now).await? else {
        return Err(invalid("passkey", "passkey_failed"));
    };
    let owner = owner_of(owner_id);
    let state: PasskeyAuthentication =
        serde_json::from_str(&state).map_err(|_| DomainError::Internal("ceremony_state"))?;
    let result = wa
        .finish_passkey_authentication(credential, &state)
        .map_err(webauthn_failed)?;
    let cred = URL_SAFE_NO_PAD.encode(result.cred_id());
    let row: Option<(i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, {}, passkey FROM {} WHERE cred_id = $1",
        owner.column(),
        owner.table()
    )))
    .bind(&cred)
    .fetch_optional(db.pool())
    .await?;
    let Some((key_id, _, json)) = row.filter(|r| r.1 == owner_id) else {
        return Err(invalid("passkey", "passkey_failed"));
    };
    let mut key: Passkey =
        serde_json::from_str(&json).map_err(|_| DomainError::Internal("passkey_state"))?;
    key.update_credential(&result);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {} SET passkey = $2, last_used_at = $3 WHERE id = $1",
        owner.table()
    )))
    .bind(key_id)
    .bind(serde_json::to_string(&key).map_err(|_| DomainError::Internal("passkey_state"))?)
    .bind(now.timestamp())
    .execute(db.pool())
    .await?;
    Ok(owner)
}

/// Finishes a sign-in; returns the person and a session cookie value.
pub async fn finish_login(
    db: &Db,
    wa: &Webauthn,
    policy: &SecurityPolicy,
    ceremony: &str,
    credential: &PublicKeyCredential,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<(Citizen, String), DomainError> {
    let owner = check_assertion(db, wa, Owner::Citizen, "login", ceremony, credential, now).await?;
    let who = citizen::get(db, owner.id()).await?;
    let token = citizen::start_session(db, policy, &who, "passkey", client, now).await?;
    Ok((who, token))
}

/// A staff member's second factor: a challenge for their own passkeys.
pub async fn begin_staff_verify(
    db: &Db,
    wa: &Webauthn,
    staff_id: i64,
    now: DateTime<Utc>,
) -> Result<(String, RequestChallengeResponse), DomainError> {
    let owner = Owner::Staff(staff_id);
    let keys: Vec<Passkey> = passkeys_of(db, owner)
        .await?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    if keys.is_empty() {
        return Err(invalid("passkey", "passkey_none"));
    }
    let (options, state) = wa
        .start_passkey_authentication(&keys)
        .map_err(webauthn_failed)?;
    let id = save_ceremony(db, &owner.ceremony("verify"), Some(staff_id), &state, now).await?;
    Ok((id, options))
}

/// Checks a staff member's passkey assertion (the caller then completes
/// the session's second factor).
pub async fn finish_staff_verify(
    db: &Db,
    wa: &Webauthn,
    staff_id: i64,
    ceremony: &str,
    credential: &PublicKeyCredential,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let owner = check_assertion(
        db,
        wa,
        Owner::Staff,
        "staff_verify",
        ceremony,
        credential,
        now,
    )
    .await?;
    if owner != Owner::Staff(staff_id) {
        return Err(invalid("passkey", "passkey_failed"));
    }
    Ok(())
}
