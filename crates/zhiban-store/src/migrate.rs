//! Embedded, ordered migrations. One SQL text per migration serves both
//! engines; the only engine-specific word is the auto-increment key, written
//! `{{id}}` in the files.

use crate::{Backend, Db, StoreError};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "catalog_and_staff",
        sql: include_str!("../migrations/0001_catalog_and_staff.sql"),
    },
    Migration {
        version: 2,
        name: "search",
        sql: include_str!("../migrations/0002_search.sql"),
    },
    Migration {
        version: 3,
        name: "change_log",
        sql: include_str!("../migrations/0003_change_log.sql"),
    },
    Migration {
        version: 4,
        name: "identity_and_audit",
        sql: include_str!("../migrations/0004_identity_and_audit.sql"),
    },
    Migration {
        version: 5,
        name: "citizens",
        sql: include_str!("../migrations/0005_citizens.sql"),
    },
    Migration {
        version: 6,
        name: "oidc",
        sql: include_str!("../migrations/0006_oidc.sql"),
    },
    Migration {
        version: 7,
        name: "qr_login_and_companies",
        sql: include_str!("../migrations/0007_qr_login_and_companies.sql"),
    },
    Migration {
        version: 8,
        name: "passkeys",
        sql: include_str!("../migrations/0008_passkeys.sql"),
    },
    Migration {
        version: 9,
        name: "staff_passkeys",
        sql: include_str!("../migrations/0009_staff_passkeys.sql"),
    },
    Migration {
        version: 10,
        name: "citizen_totp",
        sql: include_str!("../migrations/0010_citizen_totp.sql"),
    },
    Migration {
        version: 11,
        name: "cases",
        sql: include_str!("../migrations/0011_cases.sql"),
    },
    Migration {
        version: 12,
        name: "keys_and_field_encryption",
        sql: include_str!("../migrations/0012_keys_and_field_encryption.sql"),
    },
    Migration {
        version: 13,
        name: "licenses",
        sql: include_str!("../migrations/0013_licenses.sql"),
    },
    Migration {
        version: 14,
        name: "security",
        sql: include_str!("../migrations/0014_security.sql"),
    },
    Migration {
        version: 15,
        name: "separation of duties and license issuers",
        sql: include_str!("../migrations/0015_separation_of_duties.sql"),
    },
    Migration {
        version: 16,
        name: "hot searches reviewed by staff",
        sql: include_str!("../migrations/0016_hot_searches.sql"),
    },
    Migration {
        version: 17,
        name: "content",
        sql: include_str!("../migrations/0017_content.sql"),
    },
    Migration {
        version: 18,
        name: "disclosure requests, article files and topics",
        sql: include_str!("../migrations/0018_disclosure_and_attachments.sql"),
    },
    Migration {
        version: 19,
        name: "citizen requests and the dispatch catalogue",
        sql: include_str!("../migrations/0019_requests.sql"),
    },
    Migration {
        version: 20,
        name: "police tips",
        sql: include_str!("../migrations/0020_tips.sql"),
    },
    Migration {
        version: 21,
        name: "live interviews",
        sql: include_str!("../migrations/0021_interviews.sql"),
    },
    Migration {
        version: 22,
        name: "Open311 API keys and map points",
        sql: include_str!("../migrations/0022_open311.sql"),
    },
    Migration {
        version: 23,
        name: "consultations and surveys",
        sql: include_str!("../migrations/0023_consultations.sql"),
    },
    Migration {
        version: 24,
        name: "files sent with requests",
        sql: include_str!("../migrations/0024_request_files.sql"),
    },
    Migration {
        version: 25,
        name: "files sent with police tips",
        sql: include_str!("../migrations/0025_tip_files.sql"),
    },
    Migration {
        version: 26,
        name: "anonymous requests",
        sql: include_str!("../migrations/0026_anonymous_requests.sql"),
    },
    Migration {
        version: 27,
        name: "tip keys of units and handlers",
        sql: include_str!("../migrations/0027_tip_unit_keys.sql"),
    },
    Migration {
        version: 28,
        name: "one-thing bundles",
        sql: include_str!("../migrations/0028_bundles.sql"),
    },
    Migration {
        version: 29,
        name: "ratings and rectifications",
        sql: include_str!("../migrations/0029_ratings.sql"),
    },
    Migration {
        version: 30,
        name: "payments",
        sql: include_str!("../migrations/0030_payments.sql"),
    },
    Migration {
        version: 31,
        name: "recommendation rules",
        sql: include_str!("../migrations/0031_recommendations.sql"),
    },
    Migration {
        version: 32,
        name: "counter intake and acting for companies",
        sql: include_str!("../migrations/0032_counter_and_acting.sql"),
    },
    Migration {
        version: 33,
        name: "assistant",
        sql: include_str!("../migrations/0033_assistant.sql"),
    },
    Migration {
        version: 34,
        name: "assistant hand-off",
        sql: include_str!("../migrations/0034_assistant_handoff.sql"),
    },
    Migration {
        version: 35,
        name: "service English names and aliases",
        sql: include_str!("../migrations/0035_service_names.sql"),
    },
    Migration {
        version: 36,
        name: "public-opinion monitoring",
        sql: include_str!("../migrations/0036_opinion.sql"),
    },
    Migration {
        version: 37,
        name: "learned synonyms",
        sql: include_str!("../migrations/0037_learned_synonyms.sql"),
    },
];

/// A fingerprint of the embedded migrations: a database built from a
/// template is only reused while this is unchanged.
pub fn fingerprint() -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    for m in MIGRATIONS {
        (m.version, m.name, m.sql).hash(&mut h);
    }
    h.finish()
}

fn render(sql: &str, backend: Backend) -> String {
    let id = match backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    };
    sql.replace("{{id}}", id)
}

pub(crate) async fn run(db: &Db) -> Result<usize, StoreError> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (\
           version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .execute(db.pool())
    .await?;
    let mut applied = 0;
    for m in MIGRATIONS {
        let mut tx = db.begin().await?;
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_some() {
            continue;
        }
        let sql = render(m.sql, db.backend());
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await
            .map_err(|source| StoreError::Migration {
                version: m.version,
                name: m.name,
                source,
            })?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(version = m.version, name = m.name, "migration applied");
        applied += 1;
    }
    Ok(applied)
}

fn now_text() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    secs.to_string()
}
