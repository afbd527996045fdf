//! Staff members' own key pairs (SM2), for what only certain people may
//! read whatever the server's keys open (police tips, [`crate::tips::keys`]).
//!
//! - The secret is sealed under a key derived (argon2id) from the password
//!   the person chose. A password an administrator set does not count: the
//!   pair is made, or opened, only once the person has chosen their own.
//! - Signing in opens it and seals it again under a key derived from the
//!   session cookie (`staff_sessions.key_box`); the table keeps only the
//!   cookie's hash, so the database alone opens nothing.
//! - Changing one's password seals it under the new one. An administrator's
//!   reset cannot: the pair and every unit key sealed for it are dropped,
//!   and a colleague grants the unit keys again to the new pair.

use argon2::Argon2;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;
use zhiban_crypto::pke;

use crate::{Db, DomainError};

/// A person's unlocked secret key, held for one request.
#[derive(Clone)]
pub struct PersonalKey {
    pub staff_id: i64,
    secret: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for PersonalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PersonalKey({}, <secret>)", self.staff_id)
    }
}

impl PersonalKey {
    /// Opens what was sealed for this person's public key.
    pub fn open(&self, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, DomainError> {
        pke::sm2_decrypt(&self.secret, sealed)
            .map(Zeroizing::new)
            .map_err(|_| DomainError::Internal("a key sealed for this person does not open"))
    }
}

fn crypto(_: zhiban_crypto::CryptoError) -> DomainError {
    DomainError::Internal("staff key")
}

/// The AEAD key a password and its salt give (argon2id).
fn derive(db: &Db, password: &[u8], salt: &[u8]) -> Result<Zeroizing<Vec<u8>>, DomainError> {
    let len = db.keyring()?.suite().key_len();
    let mut out = Zeroizing::new(vec![0u8; len]);
    Argon2::default()
        .hash_password_into(password, salt, &mut out)
        .map_err(|_| DomainError::Internal("key derivation"))?;
    Ok(out)
}

/// The key a session's box is sealed under: a hash of the cookie value
/// (256 random bits) under another label than the stored session id.
fn cookie_key(db: &Db, token: &str) -> Result<Zeroizing<Vec<u8>>, DomainError> {
    let len = db.keyring()?.suite().key_len();
    let digest = Sha256::digest(format!("zhiban staff key box\n{token}").as_bytes());
    Ok(Zeroizing::new(digest[..len].to_vec()))
}

const PASSWORD_AAD: &[u8] = b"staff_keys.sealed_secret";
const BOX_AAD: &[u8] = b"staff_sessions.key_box";

fn seal(db: &Db, key: &[u8], aad: &[u8], plain: &[u8]) -> Result<String, DomainError> {
    Ok(B64.encode(
        db.keyring()?
            .suite()
            .seal(key, aad, plain)
            .map_err(crypto)?,
    ))
}

fn open(db: &Db, key: &[u8], aad: &[u8], stored: &str) -> Option<Zeroizing<Vec<u8>>> {
    let bytes = B64.decode(stored).ok()?;
    db.keyring()
        .ok()?
        .suite()
        .open(key, aad, &bytes)
        .ok()
        .map(Zeroizing::new)
}

/// A person's stored pair, as a password finds it.
enum Stored {
    None,
    Opened(Zeroizing<Vec<u8>>),
    /// There is one, and this password does not open it.
    Closed,
}

async fn open_with_password(db: &Db, staff_id: i64, password: &str) -> Result<Stored, DomainError> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT salt, sealed_secret FROM staff_keys WHERE staff_id = $1")
            .bind(staff_id)
            .fetch_optional(db.pool())
            .await?;
    let Some((salt, sealed)) = row else {
        return Ok(Stored::None);
    };
    let salt = B64
        .decode(salt)
        .map_err(|_| DomainError::Internal("salt"))?;
    let key = derive(db, password.as_bytes(), &salt)?;
    Ok(open(db, &key, PASSWORD_AAD, &sealed).map_or(Stored::Closed, Stored::Opened))
}

/// Opens this person's key with the password they just gave, making the
/// pair on first use. None while the password is one an administrator set
/// (the person must choose their own first).
pub async fn unlock_or_create(
    db: &Db,
    staff_id: i64,
    password: &str,
) -> Result<Option<PersonalKey>, DomainError> {
    let chosen: i64 =
        sqlx::query_scalar("SELECT password_changed_at FROM staff_users WHERE id = $1")
            .bind(staff_id)
            .fetch_one(db.pool())
            .await?;
    if chosen == 0 {
        return Ok(None);
    }
    match open_with_password(db, staff_id, password).await? {
        Stored::Opened(secret) => return Ok(Some(PersonalKey { staff_id, secret })),
        // Sealed under a password this person no longer has (a reset
        // that did not go through here): start again.
        Stored::Closed => drop_keys(&mut *db.pool().acquire().await?, staff_id).await?,
        Stored::None => {}
    }
    let (secret, public) = pke::sm2_key_pair();
    let secret = Zeroizing::new(secret);
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let key = derive(db, password.as_bytes(), &salt)?;
    sqlx::query(
        "INSERT INTO staff_keys (staff_id, public_key, salt, sealed_secret, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(staff_id)
    .bind(B64.encode(&public))
    .bind(B64.encode(salt))
    .bind(seal(db, &key, PASSWORD_AAD, &secret)?)
    .bind(db.now().timestamp())
    .execute(db.pool())
    .await?;
    Ok(Some(PersonalKey { staff_id, secret }))
}

/// Keeps the key with the session whose cookie is `token`.
pub async fn attach(db: &Db, token: &str, key: &PersonalKey) -> Result<(), DomainError> {
    sqlx::query("UPDATE staff_sessions SET key_box = $2 WHERE id = $1")
        .bind(super::staff::token_hash(token))
        .bind(seal(db, &cookie_key(db, token)?, BOX_AAD, &key.secret)?)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The key kept with a session (see [`attach`]), if any.
pub(crate) fn from_box(
    db: &Db,
    staff_id: i64,
    token: &str,
    key_box: Option<&str>,
) -> Result<Option<PersonalKey>, DomainError> {
    let Some(stored) = key_box else {
        return Ok(None);
    };
    Ok(open(db, &cookie_key(db, token)?, BOX_AAD, stored)
        .map(|secret| PersonalKey { staff_id, secret }))
}

/// The box of a session moving from cookie `old` to cookie `new`.
pub(crate) fn rebox(
    db: &Db,
    old: &str,
    new: &str,
    key_box: Option<&str>,
) -> Result<Option<String>, DomainError> {
    let Some(stored) = key_box else {
        return Ok(None);
    };
    match open(db, &cookie_key(db, old)?, BOX_AAD, stored) {
        Some(secret) => Ok(Some(seal(db, &cookie_key(db, new)?, BOX_AAD, &secret)?)),
        None => Ok(None),
    }
}

/// Seals the key under a new password the person chose (the old one
/// opened it); makes the pair if there was none.
pub(crate) async fn change_password(
    db: &Db,
    staff_id: i64,
    current: &str,
    new: &str,
) -> Result<(), DomainError> {
    let Stored::Opened(secret) = open_with_password(db, staff_id, current).await? else {
        // No pair yet (or one under a password an administrator set):
        // make it under the password the person now chose.
        drop_keys(&mut *db.pool().acquire().await?, staff_id).await?;
        unlock_or_create(db, staff_id, new).await?;
        return Ok(());
    };
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let key = derive(db, new.as_bytes(), &salt)?;
    sqlx::query("UPDATE staff_keys SET salt = $2, sealed_secret = $3 WHERE staff_id = $1")
        .bind(staff_id)
        .bind(B64.encode(salt))
        .bind(seal(db, &key, PASSWORD_AAD, &secret)?)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// An administrator reset the password: the pair cannot be opened any
/// more by anyone, so it goes, with every unit key sealed for it.
pub(crate) async fn drop_keys(
    conn: &mut sqlx::AnyConnection,
    staff_id: i64,
) -> Result<(), DomainError> {
    sqlx::query("DELETE FROM unit_key_grants WHERE staff_id = $1")
        .bind(staff_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM staff_keys WHERE staff_id = $1")
        .bind(staff_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The public key of a person, if they have a pair.
pub(crate) async fn public_key(db: &Db, staff_id: i64) -> Result<Option<Vec<u8>>, DomainError> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT public_key FROM staff_keys WHERE staff_id = $1")
            .bind(staff_id)
            .fetch_optional(db.pool())
            .await?;
    stored
        .map(|s| {
            B64.decode(s)
                .map_err(|_| DomainError::Internal("public key"))
        })
        .transpose()
}

/// After the person gave their password (signing in, or choosing a new
/// one): opens or makes their key and keeps it with session `token`.
pub async fn unlock_for_session(
    db: &Db,
    staff_id: i64,
    password: &str,
    token: &str,
) -> Result<(), DomainError> {
    if let Some(key) = unlock_or_create(db, staff_id, password).await? {
        attach(db, token, &key).await?;
    }
    Ok(())
}
