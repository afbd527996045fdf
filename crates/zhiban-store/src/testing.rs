//! Per-test databases. Every test gets a database of its own: a fresh SQLite
//! file in a temporary directory, or, when `ZHIBAN_TEST_DATABASE_URL` points
//! at a PostgreSQL server, a freshly created database that is dropped again
//! when the test ends.

use crate::{Backend, Db, StoreError};

pub const TEST_DATABASE_URL_VAR: &str = "ZHIBAN_TEST_DATABASE_URL";

/// A migrated database owned by one test. Dropping it removes it.
pub struct TestDb {
    pub db: Db,
    /// The URL a second pool (e.g. a restarted server) can connect with.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_cleanup: Option<(String, String)>,
}

impl TestDb {
    pub async fn new() -> Result<Self, StoreError> {
        match std::env::var(TEST_DATABASE_URL_VAR) {
            Ok(admin_url) if !admin_url.is_empty() => Self::postgres(admin_url).await,
            _ => Self::sqlite().await,
        }
    }

    /// Like [`TestDb::new`], with keys of the given suite instead of the
    /// one `ZHIBAN_TEST_SUITE` names.
    pub async fn with_suite(kind: zhiban_crypto::SuiteKind) -> Result<Self, StoreError> {
        let t = Self::new().await?;
        sqlx::query("DELETE FROM crypto_keys")
            .execute(t.db.pool())
            .await?;
        crate::keys::open(&t.db, zhiban_crypto::MasterKey::generate(), kind).await?;
        Ok(t)
    }

    /// A fresh SQLite database in a temporary directory.
    pub async fn sqlite() -> Result<Self, StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Sqlx(sqlx::Error::Io(e)))?;
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        let db = Db::connect(&url).await?;
        db.migrate().await?;
        install_test_keys(&db).await?;
        Ok(TestDb {
            db,
            url,
            _dir: Some(dir),
            pg_cleanup: None,
        })
    }

    /// A fresh database on the PostgreSQL server `admin_url` points at.
    pub async fn postgres(admin_url: String) -> Result<Self, StoreError> {
        if Backend::from_url(&admin_url)? != Backend::Postgres {
            return Err(StoreError::UnsupportedUrl);
        }
        let name = format!("zt_{}", uuid::Uuid::new_v4().simple());
        let admin = Db::connect(&admin_url).await?;
        // The name is generated above from hex digits only; identifiers can't be bound.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(admin.pool())
            .await?;
        admin.close().await;
        let url = replace_database(&admin_url, &name);
        let db = Db::connect(&url).await?;
        db.migrate().await?;
        install_test_keys(&db).await?;
        Ok(TestDb {
            db,
            url,
            _dir: None,
            pg_cleanup: Some((admin_url, name)),
        })
    }
}

/// Each test database gets a master key of its own (kept in memory) and
/// the suite named by `ZHIBAN_TEST_SUITE` (`gm` by default).
async fn install_test_keys(db: &Db) -> Result<(), StoreError> {
    let kind = std::env::var("ZHIBAN_TEST_SUITE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_default();
    crate::keys::open(db, zhiban_crypto::MasterKey::generate(), kind).await?;
    Ok(())
}

/// Swaps the database name in a PostgreSQL URL, keeping any query string.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg_cleanup.take() {
            // Drop runs outside any async context we can rely on, so the
            // cleanup gets a small runtime of its own on a plain thread.
            let handle = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(admin) = Db::connect(&admin_url).await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                            .execute(admin.pool())
                            .await;
                        admin.close().await;
                    }
                });
            });
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced_and_query_kept() {
        assert_eq!(
            replace_database(
                "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
                "zt_1"
            ),
            "postgres://postgres@127.0.0.1:5432/zt_1?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://127.0.0.1", "zt_2"),
            "postgres://127.0.0.1/zt_2"
        );
    }

    #[tokio::test]
    async fn migrations_apply_once_and_are_recorded() {
        let t = TestDb::new().await.expect("test db");
        // TestDb::new already migrated; a second run applies nothing.
        assert_eq!(t.db.migrate().await.expect("migrate"), 0);
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations")
            .fetch_one(t.db.pool())
            .await
            .expect("count");
        assert!(n >= 1);
    }
}
