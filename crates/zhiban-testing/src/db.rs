//! Per-test databases copied from a template that is built once per test
//! process: SQLite copies a closed database file, PostgreSQL creates the
//! test's database with `CREATE DATABASE … TEMPLATE`. A PostgreSQL template
//! is named after everything it was built from (migrations, demo data,
//! template kind), so a later run reuses it and a changed migration gets a
//! new one. Every test database gets field-encryption keys of its own.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::OnceLock;

use zhiban_domain::{Db, demo, staff};
use zhiban_store::StoreError;
use zhiban_store::scratch::{self, ScratchDb};

use crate::app::{ADMIN, ADMIN_PASSWORD};

/// Where `ZHIBAN_TEST_DATABASE_URL` points a test run at PostgreSQL.
pub const TEST_DATABASE_URL_VAR: &str = "ZHIBAN_TEST_DATABASE_URL";

/// What a test database starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Template {
    /// Migrated, empty.
    Migrated,
    /// Migrated, with the demo org tree and catalog (演示数据).
    Demo,
    /// The demo data plus the test administrator ([`ADMIN`]).
    Web,
}

impl Template {
    const ALL: [Template; 3] = [Template::Migrated, Template::Demo, Template::Web];

    fn slug(self) -> &'static str {
        match self {
            Template::Migrated => "migrated",
            Template::Demo => "demo",
            Template::Web => "web",
        }
    }

    fn index(self) -> usize {
        Template::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    /// Everything the template's content depends on.
    fn fingerprint(self) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        zhiban_store::schema_fingerprint().hash(&mut h);
        self.slug().hash(&mut h);
        if self != Template::Migrated {
            demo::DEPARTMENTS_CSV.hash(&mut h);
            demo::CATALOG_CSV.hash(&mut h);
            zhiban_domain::content::demo::ARTICLES_TSV.hash(&mut h);
            zhiban_domain::content::demo::POLICIES_TSV.hash(&mut h);
            zhiban_domain::interviews::demo::fingerprint().hash(&mut h);
            zhiban_domain::consultations::demo::fingerprint().hash(&mut h);
        }
        if self == Template::Web {
            (ADMIN, ADMIN_PASSWORD).hash(&mut h);
        }
        h.finish()
    }

    async fn fill(self, db: &Db) -> Result<(), String> {
        db.migrate().await.map_err(|e| e.to_string())?;
        if self != Template::Migrated {
            demo::load(db).await.map_err(|e| format!("{e:?}"))?;
        }
        if self == Template::Web {
            staff::create_or_reset(db, ADMIN, "测试管理员", ADMIN_PASSWORD)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// A database owned by one test. Dropping it removes it.
pub struct TestDb {
    pub db: Db,
    /// The URL a second pool (e.g. a restarted server) can connect with.
    pub url: String,
    _scratch: ScratchDb,
}

impl TestDb {
    /// A migrated, empty database.
    pub async fn new() -> Result<Self, StoreError> {
        Self::from(Template::Migrated).await
    }

    /// A database with the demo org tree and catalog.
    pub async fn demo() -> Result<Self, StoreError> {
        Self::from(Template::Demo).await
    }

    /// A database copied from `template`, with keys of the suite
    /// `ZHIBAN_TEST_SUITE` names (`gm` by default).
    pub async fn from(template: Template) -> Result<Self, StoreError> {
        let kind = std::env::var("ZHIBAN_TEST_SUITE")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_default();
        Self::with_keys(template, kind).await
    }

    /// Like [`TestDb::new`], with keys of the given suite.
    pub async fn with_suite(kind: zhiban_crypto::SuiteKind) -> Result<Self, StoreError> {
        Self::with_keys(Template::Migrated, kind).await
    }

    async fn with_keys(
        template: Template,
        kind: zhiban_crypto::SuiteKind,
    ) -> Result<Self, StoreError> {
        let scratch = match postgres_url() {
            Some(admin) => {
                let name = pg_template(&admin, template)?;
                ScratchDb::postgres_from(&admin, Some(&name)).await?
            }
            None => ScratchDb::sqlite_from(&sqlite_template(template)?).await?,
        };
        zhiban_store::keys::open(&scratch.db, zhiban_crypto::MasterKey::generate(), kind).await?;
        Ok(TestDb {
            db: scratch.db.clone(),
            url: scratch.url.clone(),
            _scratch: scratch,
        })
    }
}

fn postgres_url() -> Option<String> {
    std::env::var(TEST_DATABASE_URL_VAR)
        .ok()
        .filter(|u| !u.is_empty())
}

fn failed(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Crypto(format!("test template ({what}): {e}"))
}

/// Runs `f` to completion on a runtime of its own on a plain thread, so a
/// template can be built from inside any test's runtime.
fn block_on_own_thread<T: Send + 'static>(
    f: impl std::future::Future<Output = Result<T, String>> + Send + 'static,
) -> Result<T, String> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(f)
    })
    .join()
    .map_err(|_| "template builder panicked".to_string())?
}

type Built<T> = OnceLock<Result<T, String>>;

/// The closed SQLite database file of `template`, built on first use.
fn sqlite_template(template: Template) -> Result<PathBuf, StoreError> {
    static DIR: OnceLock<Result<tempfile::TempDir, String>> = OnceLock::new();
    static FILES: [Built<PathBuf>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let built = FILES[template.index()].get_or_init(|| {
        let dir = DIR
            .get_or_init(|| tempfile::tempdir().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(Clone::clone)?;
        let path = dir.path().join(format!("{}.db", template.slug()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        block_on_own_thread(async move {
            let db = Db::connect(&url).await.map_err(|e| e.to_string())?;
            template.fill(&db).await?;
            sqlx_checkpoint(&db).await?;
            db.close().await;
            Ok(())
        })?;
        Ok(path)
    });
    built.clone().map_err(|e| failed(template.slug(), e))
}

/// Folds the write-ahead log into the database file, so copying the file
/// alone copies everything.
async fn sqlx_checkpoint(db: &Db) -> Result<(), String> {
    zhiban_store::sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(db.pool())
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The name of `template`'s database on the server of `admin`, built on
/// first use (by this process or an earlier run).
fn pg_template(admin: &str, template: Template) -> Result<String, StoreError> {
    static NAMES: [Built<String>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let admin = admin.to_string();
    let built = NAMES[template.index()].get_or_init(|| {
        let name = format!("zt_tpl_{}_{:016x}", template.slug(), template.fingerprint());
        block_on_own_thread(async move {
            let e = |e: StoreError| e.to_string();
            if scratch::database_exists(&admin, &name).await.map_err(e)? {
                return Ok(name);
            }
            // Built under a name of its own, then renamed: a run that
            // loses the race to another drops its copy and uses the winner's.
            let building = format!("zt_tpl_new_{}", uuid::Uuid::new_v4().simple());
            scratch::create_database(&admin, &building, None)
                .await
                .map_err(e)?;
            let db = Db::connect(&scratch::replace_database(&admin, &building))
                .await
                .map_err(e)?;
            let filled = template.fill(&db).await;
            db.close().await;
            if let Err(err) = filled {
                let _ = scratch::drop_database(&admin, &building).await;
                return Err(err);
            }
            if !scratch::rename_database(&admin, &building, &name)
                .await
                .map_err(e)?
            {
                scratch::drop_database(&admin, &building).await.map_err(e)?;
            }
            Ok(name)
        })
    });
    built.clone().map_err(|e| failed(template.slug(), e))
}
