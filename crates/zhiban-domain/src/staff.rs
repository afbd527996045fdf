//! Staff accounts for the admin side: argon2id passwords under the 等保
//! level-3 password rule, lock-out after repeated failures, and sessions
//! kept in the database (only a hash of the cookie value is stored).

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Db, DomainError, FieldError};

/// Failed logins allowed inside [`LOCK_WINDOW_SECS`] before the account locks.
pub const MAX_FAILURES: i64 = 5;
pub const LOCK_WINDOW_SECS: i64 = 30 * 60;
/// Idle timeout of a staff session.
pub const SESSION_IDLE_SECS: i64 = 30 * 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
}

/// A staff session as seen by a request.
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub user: StaffUser,
    pub csrf_token: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LoginError {
    /// Wrong user name or password; deliberately not saying which.
    #[error("invalid credentials")]
    Invalid,
    #[error("account locked")]
    Locked,
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

fn hash_password(password: &str) -> Result<String, DomainError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| DomainError::Conflict("hash_failed"))
}

/// A real hash of a random password, so checking an unknown user name costs
/// the same argon2 work as checking a known one.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Creates a staff account, or resets the password of an existing one.
pub async fn create_or_reset(
    db: &Db,
    username: &str,
    display_name: &str,
    password: &str,
) -> Result<i64, DomainError> {
    let username = username.trim();
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
    check_password_policy(password).map_err(|e| DomainError::Invalid(vec![e]))?;
    let hash = hash_password(password)?;
    let display = if display_name.trim().is_empty() {
        username
    } else {
        display_name.trim()
    };
    let mut tx = db.pool().begin().await?;
    let existing: Option<i64> =
        sqlx::query_scalar("SELECT id FROM staff_users WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
    let id = match existing {
        Some(id) => {
            sqlx::query(
                "UPDATE staff_users SET password_hash = $2, display_name = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(&hash)
            .bind(display)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            id
        }
        None => {
            sqlx::query_scalar(
                "INSERT INTO staff_users (username, display_name, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(username)
            .bind(display)
            .bind(&hash)
            .bind(crate::now().to_rfc3339())
            .fetch_one(&mut *tx)
            .await?
        }
    };
    tx.commit().await?;
    Ok(id)
}

/// Checks a password. Unknown users cost the same argon2 work as known ones,
/// so timing does not tell whether an account exists.
pub async fn login(
    db: &Db,
    username: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<StaffUser, DomainError> {
    let username = username.trim();
    let since = now.timestamp() - LOCK_WINDOW_SECS;
    let failures: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_failures WHERE username = $1 AND failed_at > $2",
    )
    .bind(username)
    .bind(since)
    .fetch_one(db.pool())
    .await?;
    if failures >= MAX_FAILURES {
        return Err(DomainError::Login(LoginError::Locked));
    }
    let row = sqlx::query(
        "SELECT id, username, display_name, password_hash FROM staff_users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(db.pool())
    .await?;
    let (user, hash) = match &row {
        Some(r) => (
            Some(StaffUser {
                id: r.try_get("id")?,
                username: r.try_get("username")?,
                display_name: r.try_get("display_name")?,
            }),
            r.try_get::<String, _>("password_hash")?,
        ),
        None => (None, dummy_hash().to_string()),
    };
    let ok = verify_password(password, &hash);
    match user {
        Some(user) if ok => {
            sqlx::query("DELETE FROM login_failures WHERE username = $1")
                .bind(username)
                .execute(db.pool())
                .await?;
            Ok(user)
        }
        _ => {
            sqlx::query("INSERT INTO login_failures (username, failed_at) VALUES ($1, $2)")
                .bind(username)
                .bind(now.timestamp())
                .execute(db.pool())
                .await?;
            Err(DomainError::Login(LoginError::Invalid))
        }
    }
}

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Starts a session; returns the cookie value (only its hash is stored).
pub async fn start_session(
    db: &Db,
    user: &StaffUser,
    now: DateTime<Utc>,
) -> Result<String, DomainError> {
    let token = random_token();
    sqlx::query(
        "INSERT INTO staff_sessions (id, user_id, csrf_token, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash(&token))
    .bind(user.id)
    .bind(random_token())
    .bind(now.timestamp())
    .bind(now.timestamp() + SESSION_IDLE_SECS)
    .execute(db.pool())
    .await?;
    Ok(token)
}

/// Looks up a live session and slides its idle deadline.
pub async fn session(
    db: &Db,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<StaffSession>, DomainError> {
    let id = token_hash(token);
    let row = sqlx::query(
        "SELECT u.id, u.username, u.display_name, s.csrf_token, s.expires_at \
         FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id WHERE s.id = $1",
    )
    .bind(&id)
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let expires: i64 = r.try_get("expires_at")?;
    if expires <= now.timestamp() {
        end_session(db, token).await?;
        return Ok(None);
    }
    sqlx::query("UPDATE staff_sessions SET expires_at = $2 WHERE id = $1")
        .bind(&id)
        .bind(now.timestamp() + SESSION_IDLE_SECS)
        .execute(db.pool())
        .await?;
    Ok(Some(StaffSession {
        user: StaffUser {
            id: r.try_get("id")?,
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
        },
        csrf_token: r.try_get("csrf_token")?,
    }))
}

pub async fn end_session(db: &Db, token: &str) -> Result<(), DomainError> {
    sqlx::query("DELETE FROM staff_sessions WHERE id = $1")
        .bind(token_hash(token))
        .execute(db.pool())
        .await?;
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
