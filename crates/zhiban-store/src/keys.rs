//! Field-encryption keys kept in the database, wrapped by the master key.
//!
//! [`open`] loads (or, on first start, creates) the active data key, every
//! retired data key and the blind-index key, and installs them on the
//! [`Db`] so every query that reads or writes personal data can reach them
//! through [`Db::keyring`]. [`activate_new`] starts a rotation; which rows
//! move is the domain's business (it knows the columns).

use std::sync::{Arc, RwLock};

use zhiban_crypto::{DataKey, Keyring, MasterKey, SuiteKind, suite, unwrap_key, wrap_key};

use crate::{Db, StoreError};

/// What [`Db`] carries: the master key (to unwrap keys added later by a
/// rotation on another node) and the keyring built from the stored keys.
#[derive(Default)]
pub(crate) struct KeySlot {
    inner: RwLock<Option<Installed>>,
}

#[derive(Clone)]
struct Installed {
    master: Arc<MasterKey>,
    kind: SuiteKind,
    keyring: Arc<Keyring>,
    /// How many data keys were loaded; a change means a rotation happened.
    loaded: i64,
}

impl std::fmt::Debug for KeySlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySlot(..)")
    }
}

impl KeySlot {
    fn get(&self) -> Option<Installed> {
        self.inner.read().ok().and_then(|g| g.clone())
    }

    fn set(&self, v: Installed) {
        if let Ok(mut g) = self.inner.write() {
            *g = Some(v);
        }
    }
}

/// A summary for `zhiban keys status` and the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub suite: SuiteKind,
    pub active: String,
    pub master_fingerprint: String,
}

impl Db {
    /// The keyring for field encryption. Installed by [`open`] (the binary
    /// does it right after migrating; test databases get one of their own).
    pub fn keyring(&self) -> Result<Arc<Keyring>, StoreError> {
        self.keys.get().map(|i| i.keyring).ok_or(StoreError::NoKeys)
    }
}

fn crypto(e: zhiban_crypto::CryptoError) -> StoreError {
    StoreError::Crypto(e.to_string())
}

fn new_key_id() -> String {
    let short = uuid::Uuid::new_v4().simple().to_string();
    format!("k{}", &short[..10])
}

/// Loads the stored keys, creating the first data key and the blind-index
/// key if there are none, and installs the keyring on `db`. Refuses to
/// start when the stored keys belong to another suite or another master key
/// (the message says which).
pub async fn open(db: &Db, master: MasterKey, kind: SuiteKind) -> Result<KeyInfo, StoreError> {
    let master = Arc::new(master);
    ensure_keys(db, &master, kind).await?;
    load(db, master, kind).await
}

async fn ensure_keys(db: &Db, master: &MasterKey, kind: SuiteKind) -> Result<(), StoreError> {
    let s = suite(kind);
    let mut tx = db.begin().await?;
    let stored: Option<String> =
        sqlx::query_scalar("SELECT suite FROM crypto_keys ORDER BY created_at LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    match stored {
        Some(found) if found != kind.to_string() => {
            return Err(StoreError::Crypto(format!(
                "the stored keys use the {found} suite but settings ask for {kind}; \
                 set [crypto] suite = \"{found}\" (changing suite needs a data migration)"
            )));
        }
        Some(_) => {}
        None => {
            // Fixed ids for the first two keys: when two nodes start on an
            // empty database at once, the second insert does nothing and
            // both load the winner's keys.
            for (purpose, id) in [("data", "k0"), ("index", "index")] {
                let key = DataKey::generate(s.as_ref(), id.to_string());
                let wrapped = wrap_key(s.as_ref(), master, &key).map_err(crypto)?;
                sqlx::query(
                    "INSERT INTO crypto_keys (id, purpose, suite, wrapped, state, created_at) \
                     VALUES ($1, $2, $3, $4, 'active', $5) ON CONFLICT (id) DO NOTHING",
                )
                .bind(&key.id)
                .bind(purpose)
                .bind(kind.to_string())
                .bind(wrapped)
                .bind(db.now().timestamp())
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

async fn load(db: &Db, master: Arc<MasterKey>, kind: SuiteKind) -> Result<KeyInfo, StoreError> {
    let s = suite(kind);
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT id, purpose, wrapped, state FROM crypto_keys ORDER BY created_at, id",
    )
    .fetch_all(db.pool())
    .await?;
    let mut active = None;
    let mut index = None;
    let mut others = Vec::new();
    for (id, purpose, wrapped, state) in &rows {
        let key = unwrap_key(s.as_ref(), &master, id, wrapped).map_err(|_| {
            StoreError::Crypto(format!(
                "key {id} cannot be unwrapped: the master key (fingerprint {}) is not the one \
                 these keys were made with; set ZHIBAN_MASTER_KEY or the key file to the original",
                master.fingerprint()
            ))
        })?;
        match (purpose.as_str(), state.as_str()) {
            ("index", _) => index = Some(key),
            ("data", "active") => {
                // Two actives can only mean an interrupted activation; the
                // newer one wins and the older still decrypts.
                if let Some(old) = active.replace(key) {
                    others.push(old);
                }
            }
            _ => {
                others.push(key);
            }
        }
    }
    let (Some(active), Some(index)) = (active, index) else {
        return Err(StoreError::Crypto(
            "crypto_keys has no active data key or no index key".into(),
        ));
    };
    let info = KeyInfo {
        suite: kind,
        active: active.id.clone(),
        master_fingerprint: master.fingerprint(),
    };
    let keyring = Keyring::new(s, active, others, index.bytes().to_vec());
    db.keys.set(Installed {
        master,
        kind,
        keyring: Arc::new(keyring),
        loaded: rows.len() as i64,
    });
    Ok(info)
}

/// Reloads the keyring if another process added a key (a rotation started
/// elsewhere). Cheap: one COUNT. Returns whether anything changed.
pub async fn refresh(db: &Db) -> Result<bool, StoreError> {
    let Some(cur) = db.keys.get() else {
        return Ok(false);
    };
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM crypto_keys")
        .fetch_one(db.pool())
        .await?;
    if n == cur.loaded {
        return Ok(false);
    }
    load(db, cur.master, cur.kind).await?;
    Ok(true)
}

/// Makes a new data key the active one (the old one retires but keeps
/// decrypting) and installs the new keyring. Returns the new key's id.
pub async fn activate_new(db: &Db) -> Result<String, StoreError> {
    let cur = db.keys.get().ok_or(StoreError::NoKeys)?;
    let s = suite(cur.kind);
    let key = DataKey::generate(s.as_ref(), new_key_id());
    let wrapped = wrap_key(s.as_ref(), &cur.master, &key).map_err(crypto)?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE crypto_keys SET state = 'retired' WHERE purpose = 'data'")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO crypto_keys (id, purpose, suite, wrapped, state, created_at) \
         VALUES ($1, 'data', $2, $3, 'active', $4)",
    )
    .bind(&key.id)
    .bind(cur.kind.to_string())
    .bind(wrapped)
    .bind(db.now().timestamp())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    load(db, cur.master, cur.kind).await?;
    Ok(key.id)
}

/// The installed keys, for `zhiban keys status`.
pub fn info(db: &Db) -> Option<KeyInfo> {
    db.keys.get().map(|i| KeyInfo {
        suite: i.kind,
        active: i.keyring.active_id().to_string(),
        master_fingerprint: i.master.fingerprint(),
    })
}
