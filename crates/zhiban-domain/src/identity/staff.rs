//! Staff accounts for the admin side: argon2id passwords under the 等保
//! level-3 password rule, lock-out after repeated failures, a TOTP second
//! factor, password age, and sessions kept in the database (only a hash of
//! the cookie value is stored). A session starts at the password stage and
//! becomes full only after the second factor.

use std::collections::BTreeSet;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::lockout::{clear, locked, note_failure};
use super::{Perm, Scope, SecurityPolicy, totp};
use crate::audit::{self, Entry};
use crate::{Db, DomainError, FieldError};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StaffUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Password checked; only the second-factor pages are open.
    Password,
    Full,
}

/// A staff session as seen by a request.
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub user: StaffUser,
    pub csrf_token: String,
    pub stage: Stage,
    pub perms: BTreeSet<Perm>,
    pub scope: Scope,
    pub totp_enrolled: bool,
    /// At least one passkey is registered (also a second factor).
    pub passkey_enrolled: bool,
    /// The secret offered on the enrolment page, until it is confirmed.
    pub enrol_secret: Option<String>,
    /// The password is older than the policy allows: change it first.
    pub password_expired: bool,
    /// Where the current request comes from (set by the web layer): audit
    /// records of refusals carry it.
    pub client_ip: String,
    /// The person's own key, unlocked at sign-in and kept with the session
    /// (see [`super::staff_keys`]); None before they chose a password.
    pub personal_key: Option<super::staff_keys::PersonalKey>,
}

impl StaffSession {
    pub fn can(&self, p: Perm) -> bool {
        self.perms.contains(&p)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LoginError {
    /// Wrong user name or password; deliberately not saying which.
    #[error("invalid credentials")]
    Invalid,
    #[error("account locked")]
    Locked,
    #[error("account disabled")]
    Disabled,
    /// A wrong or replayed one-time code.
    #[error("invalid one-time code")]
    BadCode,
}

/// Password rule: at least 8 characters from at least 3 of
/// lower case, upper case, digits and symbols.
pub fn check_password_policy(password: &str) -> Result<(), FieldError> {
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if password.chars().count() < 8 || classes < 3 {
        return Err(FieldError::new("password", "weak_password", ""));
    }
    Ok(())
}

pub(crate) fn hash_password(password: &str) -> Result<String, DomainError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| DomainError::Internal("hash_failed"))
}

/// A real hash of a random password, so checking an unknown user name costs
/// the same argon2 work as checking a known one.
pub(crate) fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

pub(crate) fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

pub(crate) fn check_username(username: &str) -> Result<(), DomainError> {
    if username.is_empty()
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "username",
            "invalid_code",
            username,
        )]));
    }
    Ok(())
}

/// Creates a system administrator (in the top unit of the org tree, when
/// there is one), or — for an existing account — resets the password and
/// the second factor, unlocks it and ends its sessions. This is the
/// operator's recovery path (`zhiban create-admin`).
pub async fn create_or_reset(
    db: &Db,
    username: &str,
    display_name: &str,
    password: &str,
) -> Result<i64, DomainError> {
    create_or_reset_as(db, username, display_name, password, "system_admin").await
}

/// [`create_or_reset`] with the built-in role a new account gets
/// (`system_admin`, `security_admin` or `auditor`: the three accounts of
/// 三员分立 can all be made on the command line). Resetting an existing
/// account leaves its roles alone.
pub async fn create_or_reset_as(
    db: &Db,
    username: &str,
    display_name: &str,
    password: &str,
    role: &str,
) -> Result<i64, DomainError> {
    let builtin: Option<i64> =
        sqlx::query_scalar("SELECT id FROM roles WHERE code = $1 AND builtin = 1")
            .bind(role)
            .fetch_optional(db.pool())
            .await?;
    let Some(role_id) = builtin else {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "role_ids",
            "invalid_choice",
            role,
        )]));
    };
    let username = username.trim();
    check_username(username)?;
    check_password_policy(password).map_err(|e| DomainError::Invalid(vec![e]))?;
    let hash = hash_password(password)?;
    let display = if display_name.trim().is_empty() {
        username
    } else {
        display_name.trim()
    };
    let now = db.now().timestamp();
    let mut tx = db.begin().await?;
    let existing: Option<i64> =
        sqlx::query_scalar("SELECT id FROM staff_users WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
    let id = match existing {
        Some(id) => {
            sqlx::query(
                "UPDATE staff_users SET password_hash = $2, display_name = $3, \
                 password_changed_at = $4, totp_secret = NULL, totp_last_step = 0, disabled = 0 \
                 WHERE id = $1",
            )
            .bind(id)
            .bind(&hash)
            .bind(display)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            end_sessions_of(&mut tx, id).await?;
            super::staff_keys::drop_keys(&mut tx, id).await?;
            sqlx::query("DELETE FROM staff_passkeys WHERE staff_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            clear(&mut tx, username).await?;
            id
        }
        None => {
            let root: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM departments WHERE parent_id IS NULL ORDER BY sort, id LIMIT 1",
            )
            .fetch_optional(&mut *tx)
            .await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO staff_users (username, display_name, password_hash, created_at, \
                 unit_id, password_changed_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(username)
            .bind(display)
            .bind(&hash)
            .bind(db.now().to_rfc3339())
            .bind(root)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO staff_roles (user_id, role_id) VALUES ($1, $2)")
                .bind(id)
                .bind(role_id)
                .execute(&mut *tx)
                .await?;
            id
        }
    };
    let action = if existing.is_some() {
        "staff.reset"
    } else {
        "staff.create"
    };
    audit::append(
        &mut tx,
        &Entry::staff("zhiban create-admin", action, username).kind(audit::ActorKind::System),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Checks a password. Unknown users cost the same argon2 work as known ones,
/// so timing does not tell whether an account exists.
pub async fn login(
    db: &Db,
    policy: &SecurityPolicy,
    username: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<StaffUser, DomainError> {
    let username = username.trim();
    if locked(db, policy, username, now).await? {
        return Err(DomainError::Login(LoginError::Locked));
    }
    let row: Option<(i64, String, String, Option<i64>, String, i64)> = sqlx::query_as(
        "SELECT id, username, display_name, unit_id, password_hash, disabled \
         FROM staff_users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(db.pool())
    .await?;
    let hash = row
        .as_ref()
        .map_or_else(|| dummy_hash().to_string(), |r| r.4.clone());
    let ok = verify_password(password, &hash);
    match row {
        Some((id, username, display_name, unit_id, _, disabled)) if ok => {
            if disabled != 0 {
                return Err(DomainError::Login(LoginError::Disabled));
            }
            clear(&mut *db.pool().acquire().await?, &username).await?;
            Ok(StaffUser {
                id,
                username,
                display_name,
                unit_id,
            })
        }
        _ => {
            note_failure(db, username, now).await?;
            Err(DomainError::Login(LoginError::Invalid))
        }
    }
}

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Where a session comes from, for the session list and the audit log.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
}

/// Starts a session after the password; returns the cookie value (only its
/// hash is stored). Without a required second factor it is full at once.
pub async fn start_session(
    db: &Db,
    policy: &SecurityPolicy,
    user: &StaffUser,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<String, DomainError> {
    let token = random_token();
    let ua: String = client.user_agent.chars().take(200).collect();
    sqlx::query(
        "INSERT INTO staff_sessions (id, user_id, csrf_token, created_at, expires_at, stage, ip, \
         user_agent) VALUES ($1, $2, $3, $4, $5, 'password', $6, $7)",
    )
    .bind(token_hash(&token))
    .bind(user.id)
    .bind(random_token())
    .bind(now.timestamp())
    .bind(now.timestamp() + policy.idle_secs())
    .bind(&client.ip)
    .bind(&ua)
    .execute(db.pool())
    .await?;
    let token = if policy.staff_second_factor {
        token
    } else {
        promote(db, policy, &token, user.id).await?
    };
    audit::record(
        db,
        Entry::staff(&user.username, "staff.login", &user.username)
            .detail("password")
            .ip(&client.ip),
    )
    .await?;
    Ok(token)
}

/// The second factor is done: the session becomes full under a new token
/// (the one that only passed the password no longer opens anything), and
/// unless concurrent sessions are allowed, every other session of the
/// account ends. Returns the new cookie value.
async fn promote(
    db: &Db,
    policy: &SecurityPolicy,
    token: &str,
    user_id: i64,
) -> Result<String, DomainError> {
    let fresh = random_token();
    let id = token_hash(&fresh);
    let mut tx = db.begin().await?;
    let key_box: Option<String> =
        sqlx::query_scalar("SELECT key_box FROM staff_sessions WHERE id = $1")
            .bind(token_hash(token))
            .fetch_optional(&mut *tx)
            .await?
            .flatten();
    let key_box = super::staff_keys::rebox(db, token, &fresh, key_box.as_deref())?;
    let n = sqlx::query(
        "UPDATE staff_sessions SET id = $2, stage = 'full', enrol_secret = NULL, key_box = $3 \
         WHERE id = $1",
    )
    .bind(token_hash(token))
    .bind(&id)
    .bind(key_box)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(DomainError::Login(LoginError::Invalid));
    }
    let allow: i64 = sqlx::query_scalar("SELECT allow_concurrent FROM staff_users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
    if !policy.staff_concurrent_sessions && allow == 0 {
        sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1 AND id <> $2")
            .bind(user_id)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(fresh)
}

/// Offers a TOTP secret for enrolment (the same one until it is confirmed).
pub async fn begin_enrolment(
    db: &Db,
    session: &StaffSession,
    token: &str,
) -> Result<String, DomainError> {
    if let Some(s) = &session.enrol_secret {
        return Ok(s.clone());
    }
    let secret = totp::new_secret();
    sqlx::query("UPDATE staff_sessions SET enrol_secret = $2 WHERE id = $1")
        .bind(token_hash(token))
        .bind(crate::pii::seal(db, crate::pii::ctx::STAFF_ENROL, &secret)?)
        .execute(db.pool())
        .await?;
    Ok(secret)
}

/// Confirms enrolment with a first code; the session becomes full.
pub async fn confirm_enrolment(
    db: &Db,
    policy: &SecurityPolicy,
    session: &StaffSession,
    token: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<String, DomainError> {
    let Some(secret) = &session.enrol_secret else {
        return Err(DomainError::Login(LoginError::BadCode));
    };
    let Some(step) = totp::check(secret, code, now.timestamp(), 0) else {
        note_failure(db, &session.user.username, now).await?;
        return Err(DomainError::Login(LoginError::BadCode));
    };
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE staff_users SET totp_secret = $2, totp_last_step = $3 WHERE id = $1")
        .bind(session.user.id)
        .bind(crate::pii::seal(db, crate::pii::ctx::STAFF_TOTP, secret)?)
        .bind(step)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        &Entry::staff(
            &session.user.username,
            "staff.totp_enrol",
            &session.user.username,
        ),
    )
    .await?;
    tx.commit().await?;
    promote(db, policy, token, session.user.id).await
}

/// Checks the TOTP code of an enrolled account. Wrong codes count towards
/// the lock-out like wrong passwords; a code is accepted only once.
pub async fn verify_second_factor(
    db: &Db,
    policy: &SecurityPolicy,
    session: &StaffSession,
    token: &str,
    code: &str,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<String, DomainError> {
    let username = &session.user.username;
    if locked(db, policy, username, now).await? {
        return Err(DomainError::Login(LoginError::Locked));
    }
    let accepted = totp::consume(
        db,
        totp::Holder::Staff,
        session.user.id,
        code,
        now.timestamp(),
    )
    .await?;
    if !accepted {
        note_failure(db, username, now).await?;
        audit::record(
            db,
            Entry::staff(username, "staff.login", username)
                .detail("totp")
                .ip(&client.ip)
                .refused(),
        )
        .await?;
        return Err(DomainError::Login(LoginError::BadCode));
    }
    clear(&mut *db.pool().acquire().await?, username).await?;
    promote(db, policy, token, session.user.id).await
}

/// The second factor was a passkey (checked by the caller with
/// `passkey::finish_staff_verify` or just registered at first sign-in).
pub async fn passkey_second_factor(
    db: &Db,
    policy: &SecurityPolicy,
    session: &StaffSession,
    token: &str,
) -> Result<String, DomainError> {
    let username = &session.user.username;
    clear(&mut *db.pool().acquire().await?, username).await?;
    audit::record(
        db,
        Entry::staff(username, "staff.login", username).detail("passkey"),
    )
    .await?;
    promote(db, policy, token, session.user.id).await
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: i64,
    username: String,
    display_name: String,
    unit_id: Option<i64>,
    csrf_token: String,
    expires_at: i64,
    created_at: i64,
    stage: String,
    enrol_secret: Option<String>,
    totp_secret: Option<String>,
    password_changed_at: i64,
    disabled: i64,
    passkeys: i64,
    key_box: Option<String>,
}

/// Looks up a live session and slides its idle deadline.
pub async fn session(
    db: &Db,
    policy: &SecurityPolicy,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<StaffSession>, DomainError> {
    let id = token_hash(token);
    let row: Option<SessionRow> = sqlx::query_as(
        "SELECT u.id, u.username, u.display_name, u.unit_id, s.csrf_token, s.expires_at, \
         s.created_at, s.stage, s.enrol_secret, u.totp_secret, u.password_changed_at, u.disabled, \
         (SELECT COUNT(*) FROM staff_passkeys p WHERE p.staff_id = u.id) AS passkeys, s.key_box \
         FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id WHERE s.id = $1",
    )
    .bind(&id)
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    if r.expires_at <= now.timestamp()
        || policy.outlived(r.created_at, now.timestamp())
        || r.disabled != 0
    {
        end_session(db, token).await?;
        return Ok(None);
    }
    sqlx::query("UPDATE staff_sessions SET expires_at = $2 WHERE id = $1")
        .bind(&id)
        .bind(now.timestamp() + policy.idle_secs())
        .execute(db.pool())
        .await?;
    let perms = super::roles::permissions_of(db, r.id).await?;
    let scope = super::scope_of(db, r.unit_id).await?;
    let max_age = policy.password_max_age_days * 86_400;
    let personal_key = super::staff_keys::from_box(db, r.id, token, r.key_box.as_deref())?;
    Ok(Some(StaffSession {
        user: StaffUser {
            id: r.id,
            username: r.username,
            display_name: r.display_name,
            unit_id: r.unit_id,
        },
        csrf_token: r.csrf_token,
        stage: if r.stage == "full" {
            Stage::Full
        } else {
            Stage::Password
        },
        perms,
        scope,
        totp_enrolled: r.totp_secret.is_some(),
        passkey_enrolled: r.passkeys > 0,
        enrol_secret: crate::pii::open_opt(
            db,
            crate::pii::ctx::STAFF_ENROL,
            r.enrol_secret.as_deref(),
        )?,
        // 0 means an administrator set the password: the person must choose one.
        password_expired: r.password_changed_at == 0
            || (max_age > 0 && now.timestamp() - r.password_changed_at > max_age),
        client_ip: String::new(),
        personal_key,
    }))
}

/// Ends every session of an account (password reset, disabling, lost
/// second factor), inside the caller's transaction.
pub(crate) async fn end_sessions_of(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
) -> Result<(), DomainError> {
    sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn end_session(db: &Db, token: &str) -> Result<(), DomainError> {
    sqlx::query("DELETE FROM staff_sessions WHERE id = $1")
        .bind(token_hash(token))
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Changes one's own password; the current one must be given.
pub async fn change_password(
    db: &Db,
    user: &StaffUser,
    current: &str,
    new: &str,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM staff_users WHERE id = $1")
        .bind(user.id)
        .fetch_one(db.pool())
        .await?;
    if !verify_password(current, &hash) {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "current_password",
            "wrong_password",
            "",
        )]));
    }
    if current == new {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "password",
            "password_reused",
            "",
        )]));
    }
    check_password_policy(new).map_err(|e| DomainError::Invalid(vec![e]))?;
    let new_hash = hash_password(new)?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE staff_users SET password_hash = $2, password_changed_at = $3 WHERE id = $1",
    )
    .bind(user.id)
    .bind(&new_hash)
    .bind(now.timestamp())
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &Entry::staff(&user.username, "staff.password_change", &user.username),
    )
    .await?;
    tx.commit().await?;
    super::staff_keys::change_password(db, user.id, current, new).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_need_eight_characters_of_three_classes() {
        assert!(check_password_policy("short1A").is_err());
        assert!(check_password_policy("alllowercase").is_err());
        assert!(check_password_policy("lowerUPPER").is_err());
        assert!(check_password_policy("lowerUPPER1").is_ok());
        assert!(check_password_policy("lower-123").is_ok());
    }

    #[test]
    fn the_dummy_hash_parses_and_never_verifies() {
        assert!(PasswordHash::new(dummy_hash()).is_ok());
        assert!(!verify_password("anything", dummy_hash()));
        assert!(!verify_password("anything", "not a hash"));
    }
}
