//! Throw-away databases: a SQLite file in a temporary directory, or a
//! database created on a PostgreSQL server and dropped again with the
//! value. `zhiban bench` measures on them; the test support crate builds
//! its per-test databases on them (copied from a migrated template).

use std::path::Path;

use crate::{Backend, Db, StoreError};

/// A database that lives as long as this value.
pub struct ScratchDb {
    pub db: Db,
    /// The URL a second pool (e.g. a restarted server) can connect with.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_cleanup: Option<(String, String)>,
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Sqlx(sqlx::Error::Io(e))
}

impl ScratchDb {
    /// A fresh, migrated SQLite database in a temporary directory.
    pub async fn sqlite() -> Result<Self, StoreError> {
        let t = Self::sqlite_file(None).await?;
        t.db.migrate().await?;
        Ok(t)
    }

    /// A SQLite database that starts as a copy of `template` (a closed
    /// database file).
    pub async fn sqlite_from(template: &Path) -> Result<Self, StoreError> {
        Self::sqlite_file(Some(template)).await
    }

    async fn sqlite_file(template: Option<&Path>) -> Result<Self, StoreError> {
        let dir = tempfile::tempdir().map_err(io)?;
        let path = dir.path().join("scratch.db");
        if let Some(template) = template {
            std::fs::copy(template, &path).map_err(io)?;
        }
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = Db::connect(&url).await?;
        Ok(ScratchDb {
            db,
            url,
            _dir: Some(dir),
            pg_cleanup: None,
        })
    }

    /// A fresh, migrated database on the PostgreSQL server `admin_url`
    /// points at.
    pub async fn postgres(admin_url: &str) -> Result<Self, StoreError> {
        let t = Self::postgres_from(admin_url, None).await?;
        t.db.migrate().await?;
        Ok(t)
    }

    /// A new database on that server, copied from the database `template`
    /// (`CREATE DATABASE … TEMPLATE`), or empty.
    pub async fn postgres_from(
        admin_url: &str,
        template: Option<&str>,
    ) -> Result<Self, StoreError> {
        let name = format!("zt_{}", uuid::Uuid::new_v4().simple());
        create_database(admin_url, &name, template).await?;
        let url = replace_database(admin_url, &name);
        let db = Db::connect(&url).await?;
        Ok(ScratchDb {
            db,
            url,
            _dir: None,
            pg_cleanup: Some((admin_url.to_string(), name)),
        })
    }
}

/// Identifiers cannot be bound, so database names are checked to be plain.
fn plain_name(name: &str) -> Result<&str, StoreError> {
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        Ok(name)
    } else {
        Err(StoreError::UnsupportedUrl)
    }
}

async fn admin(admin_url: &str) -> Result<Db, StoreError> {
    if Backend::from_url(admin_url)? != Backend::Postgres {
        return Err(StoreError::UnsupportedUrl);
    }
    Db::connect(admin_url).await
}

/// `CREATE DATABASE name [TEMPLATE template]` on the server of `admin_url`.
pub async fn create_database(
    admin_url: &str,
    name: &str,
    template: Option<&str>,
) -> Result<(), StoreError> {
    let name = plain_name(name)?;
    let sql = match template {
        Some(t) => format!("CREATE DATABASE {name} TEMPLATE {}", plain_name(t)?),
        None => format!("CREATE DATABASE {name}"),
    };
    let admin = admin(admin_url).await?;
    let r = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(admin.pool())
        .await;
    admin.close().await;
    r?;
    Ok(())
}

/// Renames a database; `false` when the new name is taken.
pub async fn rename_database(admin_url: &str, from: &str, to: &str) -> Result<bool, StoreError> {
    let sql = format!(
        "ALTER DATABASE {} RENAME TO {}",
        plain_name(from)?,
        plain_name(to)?
    );
    let admin = admin(admin_url).await?;
    let r = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(admin.pool())
        .await;
    admin.close().await;
    match r {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Whether a database of that name exists on the server.
pub async fn database_exists(admin_url: &str, name: &str) -> Result<bool, StoreError> {
    let admin = admin(admin_url).await?;
    let n: Result<i64, _> =
        sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_one(admin.pool())
            .await;
    admin.close().await;
    Ok(n? > 0)
}

/// Drops a database, ending its connections.
pub async fn drop_database(admin_url: &str, name: &str) -> Result<(), StoreError> {
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", plain_name(name)?);
    let admin = admin(admin_url).await?;
    let r = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(admin.pool())
        .await;
    admin.close().await;
    r?;
    Ok(())
}

/// Swaps the database name in a PostgreSQL URL, keeping any query string.
pub fn replace_database(url: &str, name: &str) -> String {
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

impl Drop for ScratchDb {
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
                    let _ = drop_database(&admin_url, &name).await;
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

    #[test]
    fn only_plain_database_names_reach_sql() {
        assert!(plain_name("zt_0a1b").is_ok());
        assert!(plain_name("zt; DROP DATABASE test").is_err());
        assert!(plain_name("").is_err());
    }

    #[tokio::test]
    async fn migrations_apply_once_and_are_recorded() {
        let t = ScratchDb::sqlite().await.expect("scratch db");
        assert_eq!(t.db.migrate().await.expect("migrate"), 0);
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations")
            .fetch_one(t.db.pool())
            .await
            .expect("count");
        assert!(n >= 13);
    }
}
