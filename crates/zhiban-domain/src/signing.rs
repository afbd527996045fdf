//! Signing keys (SM2 under the 国密 suite, Ed25519 under the international
//! one): one per issuing department for e-licenses, one for the audit
//! chain's checkpoints. The secret half is field-encrypted like personal
//! data; the public half is published with every signature so anyone can
//! verify, offline too.

use zhiban_crypto::{Suite, SuiteKind, sign_b64, verify_b64};

use crate::pii::{self, ctx};
use crate::{Db, DomainError, StoreError};

/// A key that can sign.
pub struct SigningKey {
    pub id: String,
    pub owner: String,
    pub suite: SuiteKind,
    pub public: Vec<u8>,
    secret: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .field("owner", &self.owner)
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

/// The public half of a stored key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub id: String,
    pub owner: String,
    pub suite: SuiteKind,
    pub public: Vec<u8>,
}

impl PublicKey {
    /// Short fingerprint for pages and the command line.
    pub fn fingerprint(&self) -> String {
        let s = zhiban_crypto::suite(self.suite);
        hex::encode(&s.hash(&self.public)[..8])
    }
}

fn crypto(e: zhiban_crypto::CryptoError) -> DomainError {
    DomainError::Store(StoreError::Crypto(e.to_string()))
}

fn suite_of(db: &Db) -> Result<std::sync::Arc<dyn Suite>, DomainError> {
    Ok(zhiban_crypto::suite(db.keyring()?.suite().kind()))
}

/// The newest key of `owner` (e.g. `dept:12`, `audit`), made on first use.
pub async fn key_for(db: &Db, owner: &str) -> Result<SigningKey, DomainError> {
    let found: Option<(String, String, String, String)> = sqlx::query_as(
        "SELECT id, suite, public_key, secret FROM signing_keys \
         WHERE owner = $1 AND retired_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(owner)
    .fetch_optional(db.pool())
    .await?;
    if let Some((id, suite, public, secret)) = found {
        let suite: SuiteKind = suite.parse().map_err(crypto)?;
        let secret = pii::open(db, ctx::SIGNING_SECRET, &secret)?;
        return Ok(SigningKey {
            id,
            owner: owner.to_string(),
            suite,
            public: hex::decode(public).map_err(|e| DomainError::Delivery(e.to_string()))?,
            secret: hex::decode(secret).map_err(|e| DomainError::Delivery(e.to_string()))?,
        });
    }
    let s = suite_of(db)?;
    let (secret, public) = s.generate_signing_key();
    let id = format!("sk{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    sqlx::query(
        "INSERT INTO signing_keys (id, owner, suite, public_key, secret, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(owner)
    .bind(s.kind().as_str())
    .bind(hex::encode(&public))
    .bind(pii::seal(db, ctx::SIGNING_SECRET, &hex::encode(&secret))?)
    .bind(db.now().timestamp())
    .execute(db.pool())
    .await?;
    // Two nodes may have made one each at once: the newest signs, both verify.
    Box::pin(key_for(db, owner)).await
}

/// Retires `owner`'s keys; the next [`key_for`] makes a new one. Retired
/// keys still verify.
pub async fn retire(db: &Db, owner: &str) -> Result<(), DomainError> {
    sqlx::query("UPDATE signing_keys SET retired_at = $2 WHERE owner = $1 AND retired_at IS NULL")
        .bind(owner)
        .bind(db.now().timestamp())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// `owner`'s keys that are current or were retired after `since`.
pub async fn published(db: &Db, owner: &str, since: i64) -> Result<Vec<PublicKey>, DomainError> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, suite, public_key FROM signing_keys WHERE owner = $1 \
         AND (retired_at IS NULL OR retired_at > $2) ORDER BY created_at DESC, id DESC",
    )
    .bind(owner)
    .bind(since)
    .fetch_all(db.pool())
    .await?;
    rows.into_iter()
        .map(|(id, suite, public)| {
            Ok(PublicKey {
                id,
                owner: owner.to_string(),
                suite: suite.parse().map_err(crypto)?,
                public: hex::decode(public).map_err(|e| DomainError::Delivery(e.to_string()))?,
            })
        })
        .collect()
}

/// A stored public key by id.
pub async fn public_key(db: &Db, id: &str) -> Result<Option<PublicKey>, DomainError> {
    let row: Option<(String, String, String)> =
        sqlx::query_as("SELECT owner, suite, public_key FROM signing_keys WHERE id = $1")
            .bind(id)
            .fetch_optional(db.pool())
            .await?;
    row.map(|(owner, suite, public)| {
        Ok(PublicKey {
            id: id.to_string(),
            owner,
            suite: suite.parse().map_err(crypto)?,
            public: hex::decode(public).map_err(|e| DomainError::Delivery(e.to_string()))?,
        })
    })
    .transpose()
}

impl SigningKey {
    /// Base64 signature of `msg`.
    pub fn sign(&self, msg: &[u8]) -> Result<String, DomainError> {
        sign_b64(zhiban_crypto::suite(self.suite).as_ref(), &self.secret, msg).map_err(crypto)
    }

    /// The raw signature bytes of `msg` (for formats with their own
    /// encoding, such as a JWS).
    pub fn sign_raw(&self, msg: &[u8]) -> Result<Vec<u8>, DomainError> {
        zhiban_crypto::suite(self.suite)
            .sign(&self.secret, msg)
            .map_err(crypto)
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            id: self.id.clone(),
            owner: self.owner.clone(),
            suite: self.suite,
            public: self.public.clone(),
        }
    }
}

/// Whether `sig` is `key`'s signature of `msg`.
pub fn verify(key: &PublicKey, msg: &[u8], sig: &str) -> bool {
    verify_b64(
        zhiban_crypto::suite(key.suite).as_ref(),
        &key.public,
        msg,
        sig,
    )
}
