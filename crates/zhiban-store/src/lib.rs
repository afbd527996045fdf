//! The store owns database connections for both supported engines through one
//! code path (sqlx's `Any` driver), the embedded migrations and the per-test
//! databases. SQL everywhere uses `$1`-style parameters, which SQLite accepts
//! too, so every query is written once.

mod clock;
pub mod documents;
pub mod files;
pub mod keys;
mod migrate;
pub mod scratch;

pub use clock::Clock;
pub use migrate::fingerprint as schema_fingerprint;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

pub use sqlx;

/// Which engine a [`Db`] talks to. Only DDL differs between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("no field-encryption keys are installed on this database")]
    NoKeys,
    #[error("keys: {0}")]
    Crypto(String),
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: i64,
        name: &'static str,
        source: sqlx::Error,
    },
}

/// A pool plus the knowledge of which engine is behind it.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    keys: std::sync::Arc<keys::KeySlot>,
    clock: Clock,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }
}

impl FromStr for Backend {
    type Err = StoreError;
    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Backend::from_url(url)
    }
}

impl Db {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`).
    /// SQLite gets WAL with `synchronous=FULL`: a write we acknowledged is on
    /// disk even if the process or the machine dies right after.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            Backend::Sqlite => {
                options
                    .max_connections(8)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; \
                                 PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Backend::Postgres => options.max_connections(16).connect(url).await?,
        };
        Ok(Db {
            pool,
            backend,
            keys: Default::default(),
            clock: Clock::default(),
        })
    }

    /// The current time by this handle's clock (see [`Clock`]).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The clock itself, for tests that move it.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Begins a write transaction. On SQLite it takes the write lock first
    /// (`BEGIN IMMEDIATE`), so a transaction that reads before it writes
    /// waits for other writers (up to the busy timeout) instead of failing
    /// with `database is locked` when one commits in between.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let inner = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx {
            inner,
            clock: self.clock.clone(),
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies every embedded migration not yet applied, each in its own
    /// transaction. Returns how many were applied.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        migrate::run(self).await
    }

    /// A cheap round trip for `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A write transaction that knows the time: rows written in it (and the
/// audit record and jobs that go with them) read the same clock as the
/// rest of the domain. Derefs to the connection, so `&mut *tx` runs
/// queries in it; it rolls back unless committed.
pub struct Tx {
    inner: sqlx::Transaction<'static, sqlx::Any>,
    clock: Clock,
}

impl Tx {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

impl std::ops::Deref for Tx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::scratch::ScratchDb;

    /// Transactions that read, then write, from many tasks at once: with
    /// `BEGIN IMMEDIATE` each waits for the write lock instead of failing
    /// with `database is locked`, and no increment is lost.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_read_then_write_transactions_all_commit_on_sqlite() {
        let t = ScratchDb::sqlite().await.expect("scratch db");
        sqlx::raw_sql("CREATE TABLE counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO counter VALUES (1, 0)")
            .execute(t.db.pool())
            .await
            .expect("table");
        let mut tasks = Vec::new();
        for _ in 0..40 {
            let db = t.db.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = db.begin().await?;
                let n: i64 = sqlx::query_scalar("SELECT n FROM counter WHERE id = 1")
                    .fetch_one(&mut *tx)
                    .await?;
                tokio::task::yield_now().await;
                sqlx::query("UPDATE counter SET n = $1 WHERE id = 1")
                    .bind(n + 1)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await
            }));
        }
        let mut errors = Vec::new();
        for task in tasks {
            if let Err(e) = task.await.expect("task") {
                errors.push(e.to_string());
            }
        }
        assert!(errors.is_empty(), "{errors:?}");
        let n: i64 = sqlx::query_scalar("SELECT n FROM counter WHERE id = 1")
            .fetch_one(t.db.pool())
            .await
            .expect("count");
        assert_eq!(n, 40, "every increment kept");
    }
}
