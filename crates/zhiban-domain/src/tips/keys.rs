//! The keys that make a tip readable only by its unit's handlers and by
//! its reporter — not by the system administrator, not by other units,
//! and not by whoever holds the server's data keys.
//!
//! - Every tip has a content key of its own. Its content, messages and
//!   files are sealed under it (values start with `tk1:`).
//! - The content key is sealed (SM2) for the receiving unit's public key
//!   (`tips.unit_key`), and for the reporter under a key derived (argon2id)
//!   from the secret shown to them once (`tips.reporter_key`).
//! - The unit's secret key exists only sealed for each of its handlers'
//!   own public keys ([`crate::identity::staff_keys`]), which only their
//!   password, or their session cookie, opens.
//! - A unit's key is made with its first tip and sealed for every handler
//!   of the unit who has a key by then. Before any has, it waits under the
//!   server's data key (`pending_secret`) and the first handler to open a
//!   tip takes it over, which clears it.
//! - Later handlers get it from a colleague who holds it ([`grant`]): the
//!   colleague sees who is waiting and decides, so an account an
//!   administrator made does not get the key by itself.
//! - Tips filed before unit keys existed stay under the data key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore;
use serde::Serialize;
use zeroize::Zeroizing;
use zhiban_crypto::pke;

use super::reads_for;
use crate::audit::{self, Entry};
use crate::identity::staff::StaffSession;
use crate::{Conflict, Db, DomainError, pii};

const PREFIX: &str = "tk1:";

/// What a tip's texts and files are sealed with: its own content key, or
/// the data key for tips filed before unit keys existed (and for files
/// staged before their tip is filed).
#[derive(Clone, Default)]
pub(crate) enum Sealer {
    #[default]
    Server,
    Own(Zeroizing<Vec<u8>>),
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Sealer::Server => "Sealer::Server",
            Sealer::Own(_) => "Sealer::Own(<key>)",
        })
    }
}

fn crypto(_: zhiban_crypto::CryptoError) -> DomainError {
    DomainError::Internal("tip key")
}

impl Sealer {
    pub(crate) fn seal(&self, db: &Db, context: &str, value: &str) -> Result<String, DomainError> {
        match self {
            Sealer::Server => pii::seal(db, context, value),
            Sealer::Own(key) => {
                let sealed = db
                    .keyring()?
                    .suite()
                    .seal(key, context.as_bytes(), value.as_bytes())
                    .map_err(crypto)?;
                Ok(format!("{PREFIX}{}", B64.encode(sealed)))
            }
        }
    }

    /// Opens a value sealed by either kind (the prefix tells which).
    pub(crate) fn open(&self, db: &Db, context: &str, stored: &str) -> Result<String, DomainError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return pii::open(db, context, stored);
        };
        let Sealer::Own(key) = self else {
            return Err(DomainError::Internal("a tip's own key is needed"));
        };
        let bytes = B64
            .decode(rest)
            .map_err(|_| DomainError::Internal("tip value"))?;
        let plain = db
            .keyring()?
            .suite()
            .open(key, context.as_bytes(), &bytes)
            .map_err(crypto)?;
        String::from_utf8(plain).map_err(|_| DomainError::Internal("tip value"))
    }
}

/// A new tip's keys: its content key, sealed for `unit`
/// (`tips.unit_key`) and for the reporter's `secret` (`tips.reporter_key`).
pub(crate) async fn for_new_tip(
    db: &Db,
    unit: i64,
    secret: &str,
) -> Result<(Sealer, String, String), DomainError> {
    let public = unit_public_key(db, unit).await?;
    let mut key = Zeroizing::new(vec![0u8; db.keyring()?.suite().key_len()]);
    rand::rng().fill_bytes(&mut key);
    let for_unit = B64.encode(pke::sm2_encrypt(&public, &key).map_err(crypto)?);
    let for_reporter = reporter_box(db, secret, &key)?;
    Ok((Sealer::Own(key), for_unit, for_reporter))
}

const REPORTER_AAD: &[u8] = b"tips.reporter_key";

fn secret_key(db: &Db, secret: &str, salt: &[u8]) -> Result<Zeroizing<Vec<u8>>, DomainError> {
    let mut out = Zeroizing::new(vec![0u8; db.keyring()?.suite().key_len()]);
    argon2::Argon2::default()
        .hash_password_into(super::normalize(secret).as_bytes(), salt, &mut out)
        .map_err(|_| DomainError::Internal("key derivation"))?;
    Ok(out)
}

fn reporter_box(db: &Db, secret: &str, key: &[u8]) -> Result<String, DomainError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let sealed = db
        .keyring()?
        .suite()
        .seal(&secret_key(db, secret, &salt)?, REPORTER_AAD, key)
        .map_err(crypto)?;
    Ok(format!("{}.{}", B64.encode(salt), B64.encode(sealed)))
}

/// The reporter's way in: the content key under their secret (the secret
/// was checked against its hash before).
pub(crate) fn for_reporter(
    db: &Db,
    secret: &str,
    reporter_key: Option<&str>,
) -> Result<Sealer, DomainError> {
    let Some(stored) = reporter_key else {
        return Ok(Sealer::Server);
    };
    let bad = || DomainError::Internal("reporter key");
    let (salt, sealed) = stored.split_once('.').ok_or_else(bad)?;
    let salt = B64.decode(salt).map_err(|_| bad())?;
    let sealed = B64.decode(sealed).map_err(|_| bad())?;
    let key = db
        .keyring()?
        .suite()
        .open(&secret_key(db, secret, &salt)?, REPORTER_AAD, &sealed)
        .map_err(|_| bad())?;
    Ok(Sealer::Own(Zeroizing::new(key)))
}

/// The unit's way in: the content key under the unit's key, which this
/// person's own key opens (see the module docs).
pub(crate) async fn for_staff(
    db: &Db,
    staff: &StaffSession,
    unit: i64,
    unit_key: Option<&str>,
) -> Result<Sealer, DomainError> {
    let Some(stored) = unit_key else {
        return Ok(Sealer::Server);
    };
    let secret = unit_secret(db, staff, unit).await?;
    let sealed = B64
        .decode(stored)
        .map_err(|_| DomainError::Internal("unit key"))?;
    let key = pke::sm2_decrypt(&secret, &sealed).map_err(crypto)?;
    Ok(Sealer::Own(Zeroizing::new(key)))
}

/// A handler of a unit, as its colleagues see them when granting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Colleague {
    pub id: i64,
    pub username: String,
    pub display_name: String,
}

/// Where this person stands with their unit's tip key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum KeyState {
    /// They hold it (or will take it over with the first tip they open).
    Held,
    /// The unit has no tips yet, so no key either.
    NoUnitKey,
    /// Their own key is not with this session.
    NoPersonalKey,
    /// A colleague has to grant it.
    NotGranted,
}

/// The handlers of `unit` with keys of their own, with their public keys.
async fn handlers(db: &Db, unit: i64) -> Result<Vec<(Colleague, String)>, DomainError> {
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT u.id, u.username, u.display_name, k.public_key FROM staff_users u \
         JOIN staff_keys k ON k.staff_id = u.id WHERE u.unit_id = $1 AND u.disabled = 0 \
         AND EXISTS (SELECT 1 FROM staff_roles sr JOIN role_permissions rp \
         ON rp.role_id = sr.role_id WHERE sr.user_id = u.id AND rp.permission = 'tips.handle') \
         ORDER BY u.username",
    )
    .bind(unit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, username, display_name, public)| {
            (
                Colleague {
                    id,
                    username,
                    display_name,
                },
                public,
            )
        })
        .collect())
}

fn seal_for(public_b64: &str, secret: &[u8]) -> Result<String, DomainError> {
    let public = B64
        .decode(public_b64)
        .map_err(|_| DomainError::Internal("public key"))?;
    Ok(B64.encode(pke::sm2_encrypt(&public, secret).map_err(crypto)?))
}

/// Keeps the unit's secret as sealed for one holder (a second grant to
/// the same person changes nothing).
async fn insert_grant(
    conn: &mut sqlx::AnyConnection,
    unit: i64,
    holder: i64,
    sealed: &str,
    by: &str,
    at: i64,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO unit_key_grants (unit_id, staff_id, sealed_secret, granted_by, granted_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (unit_id, staff_id) DO NOTHING",
    )
    .bind(unit)
    .bind(holder)
    .bind(sealed)
    .bind(by)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The unit's public key, making the pair with the unit's first tip.
async fn unit_public_key(db: &Db, unit: i64) -> Result<Vec<u8>, DomainError> {
    let decode = |s: String| B64.decode(s).map_err(|_| DomainError::Internal("unit key"));
    let known: Option<String> =
        sqlx::query_scalar("SELECT public_key FROM unit_keys WHERE unit_id = $1")
            .bind(unit)
            .fetch_optional(db.pool())
            .await?;
    if let Some(k) = known {
        return decode(k);
    }
    let (secret, public) = pke::sm2_key_pair();
    let secret = Zeroizing::new(secret);
    let holders = handlers(db, unit).await?;
    let pending = if holders.is_empty() {
        Some(pii::seal(
            db,
            pii::ctx::UNIT_KEY_PENDING,
            &B64.encode(&*secret),
        )?)
    } else {
        None
    };
    let now = db.now().timestamp();
    let mut tx = db.begin().await?;
    let made: Option<i64> = sqlx::query_scalar(
        "INSERT INTO unit_keys (unit_id, public_key, pending_secret, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (unit_id) DO NOTHING RETURNING unit_id",
    )
    .bind(unit)
    .bind(B64.encode(&public))
    .bind(pending)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    if made.is_none() {
        // Another tip made it at the same moment: use that one.
        drop(tx);
        let k: String = sqlx::query_scalar("SELECT public_key FROM unit_keys WHERE unit_id = $1")
            .bind(unit)
            .fetch_one(db.pool())
            .await?;
        return decode(k);
    }
    for (c, their_public) in &holders {
        let sealed = seal_for(their_public, &secret)?;
        insert_grant(&mut tx, unit, c.id, &sealed, "zhiban", now).await?;
    }
    audit::append(
        &mut tx,
        &Entry::staff("zhiban", "tip_key.create", format!("unit:{unit}"))
            .detail(format!("holders={}", holders.len()))
            .kind(audit::ActorKind::System),
    )
    .await?;
    tx.commit().await?;
    Ok(public)
}

/// The unit's secret key, opened with this person's own key; the first
/// handler to need it takes over a pending one.
async fn unit_secret(
    db: &Db,
    staff: &StaffSession,
    unit: i64,
) -> Result<Zeroizing<Vec<u8>>, DomainError> {
    let Some(own) = &staff.personal_key else {
        return Err(Conflict::NoPersonalKey.into());
    };
    let granted: Option<String> = sqlx::query_scalar(
        "SELECT sealed_secret FROM unit_key_grants WHERE unit_id = $1 AND staff_id = $2",
    )
    .bind(unit)
    .bind(staff.user.id)
    .fetch_optional(db.pool())
    .await?;
    if let Some(sealed) = granted {
        let bytes = B64
            .decode(sealed)
            .map_err(|_| DomainError::Internal("grant"))?;
        return own.open(&bytes);
    }
    let pending: Option<String> =
        sqlx::query_scalar("SELECT pending_secret FROM unit_keys WHERE unit_id = $1")
            .bind(unit)
            .fetch_optional(db.pool())
            .await?
            .flatten();
    let Some(pending) = pending.filter(|_| reads_for(staff, unit)) else {
        return Err(Conflict::NoTipKey.into());
    };
    let secret = Zeroizing::new(
        B64.decode(pii::open(db, pii::ctx::UNIT_KEY_PENDING, &pending)?)
            .map_err(|_| DomainError::Internal("pending key"))?,
    );
    let Some(public) = crate::identity::staff_keys::public_key(db, staff.user.id).await? else {
        return Err(Conflict::NoPersonalKey.into());
    };
    let mut tx = db.begin().await?;
    let taken = sqlx::query(
        "UPDATE unit_keys SET pending_secret = NULL WHERE unit_id = $1 AND pending_secret = $2",
    )
    .bind(unit)
    .bind(&pending)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if taken == 1 {
        let sealed = B64.encode(pke::sm2_encrypt(&public, &secret).map_err(crypto)?);
        let (by, at) = (&staff.user.username, db.now().timestamp());
        insert_grant(&mut tx, unit, staff.user.id, &sealed, by, at).await?;
        audit::append(
            &mut tx,
            &Entry::staff(&staff.user.username, "tip_key.take", format!("unit:{unit}")),
        )
        .await?;
        tx.commit().await?;
        return Ok(secret);
    }
    // A colleague took it over a moment ago: the key is theirs to grant.
    drop(tx);
    Err(Conflict::NoTipKey.into())
}

/// Where this person stands with their unit's key, and the colleagues
/// waiting for one (only someone who holds it sees them).
pub async fn state(
    db: &Db,
    staff: &StaffSession,
) -> Result<(KeyState, Vec<Colleague>), DomainError> {
    let Some(unit) = staff.user.unit_id.filter(|u| reads_for(staff, *u)) else {
        return Ok((KeyState::NotGranted, Vec::new()));
    };
    let exists: Option<Option<String>> =
        sqlx::query_scalar("SELECT pending_secret FROM unit_keys WHERE unit_id = $1")
            .bind(unit)
            .fetch_optional(db.pool())
            .await?;
    let Some(pending) = exists else {
        return Ok((KeyState::NoUnitKey, Vec::new()));
    };
    if staff.personal_key.is_none() {
        return Ok((KeyState::NoPersonalKey, Vec::new()));
    }
    let granted: Vec<i64> =
        sqlx::query_scalar("SELECT staff_id FROM unit_key_grants WHERE unit_id = $1")
            .bind(unit)
            .fetch_all(db.pool())
            .await?;
    if !granted.contains(&staff.user.id) {
        let state = if pending.is_some() {
            KeyState::Held
        } else {
            KeyState::NotGranted
        };
        return Ok((state, Vec::new()));
    }
    let waiting = handlers(db, unit)
        .await?
        .into_iter()
        .map(|(c, _)| c)
        .filter(|c| !granted.contains(&c.id))
        .collect();
    Ok((KeyState::Held, waiting))
}

/// Grants the unit's key to a colleague: a handler of the same unit with
/// a key of their own. Audited.
pub async fn grant(db: &Db, staff: &StaffSession, colleague: i64) -> Result<(), DomainError> {
    let Some(unit) = staff.user.unit_id.filter(|u| reads_for(staff, *u)) else {
        return Err(DomainError::NotFound);
    };
    let Some((c, public)) = handlers(db, unit)
        .await?
        .into_iter()
        .find(|(c, _)| c.id == colleague)
    else {
        return Err(DomainError::NotFound);
    };
    let secret = unit_secret(db, staff, unit).await?;
    let mut tx = db.begin().await?;
    let sealed = seal_for(&public, &secret)?;
    let (by, at) = (&staff.user.username, db.now().timestamp());
    insert_grant(&mut tx, unit, c.id, &sealed, by, at).await?;
    audit::append(
        &mut tx,
        &Entry::staff(&staff.user.username, "tip_key.grant", &c.username)
            .detail(format!("unit:{unit}")),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A person who no longer handles tips for a unit keeps no key of it (run
/// when their account changes).
pub(crate) async fn forget_former(
    conn: &mut sqlx::AnyConnection,
    staff_id: i64,
) -> Result<(), DomainError> {
    sqlx::query(
        "DELETE FROM unit_key_grants WHERE staff_id = $1 AND (unit_id <> \
         COALESCE((SELECT unit_id FROM staff_users WHERE id = $1), -1) OR NOT EXISTS \
         (SELECT 1 FROM staff_roles sr JOIN role_permissions rp ON rp.role_id = sr.role_id \
         WHERE sr.user_id = $1 AND rp.permission = 'tips.handle'))",
    )
    .bind(staff_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
