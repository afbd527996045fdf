//! The demo data (演示数据) of a fictional Chongqing-like city, 渝州市, and
//! its public security bureau. It is loaded through the same importer staff
//! use, so it obeys every catalog rule.

use sqlx::Row;

use crate::catalog::transfer::{self, Format, ImportError};
use crate::catalog::{self, ImportSummary};
use crate::{ActorName, Db, DomainError};

pub const DEPARTMENTS_CSV: &[u8] = include_bytes!("../demo/departments.csv");
pub const CATALOG_CSV: &[u8] = include_bytes!("../demo/catalog.csv");
/// English names and English search words of the demo items:
/// `code<TAB>name_en<TAB>word|word…`.
pub const CATALOG_EN_TSV: &str = include_str!("../demo/catalog_en.tsv");

/// Who demo rows are attributed to in change histories.
pub const DEMO_ACTOR: &str = "演示数据";

/// Loads the demo org tree and catalog into an empty database. Returns
/// `None` when the catalog already has items (nothing is touched then).
pub async fn load_if_empty(db: &Db) -> Result<Option<ImportSummary>, ImportError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM services")
        .fetch_one(db.pool())
        .await
        .map_err(DomainError::from)?;
    let n: i64 = row.try_get("n").map_err(DomainError::from)?;
    if n > 0 {
        // Sites and articles came later than the catalog: a database
        // loaded before then gets them now.
        crate::content::demo::load_if_empty(db).await?;
        crate::requests::demo::load_catalogue(db).await?;
        crate::interviews::demo::load(db).await?;
        crate::consultations::demo::load(db).await?;
        crate::bundles::demo::load(db).await?;
        crate::recommend::load_demo(db).await?;
        return Ok(None);
    }
    load(db).await.map(Some)
}

/// Loads (or refreshes) the demo org tree and catalog.
pub async fn load(db: &Db) -> Result<ImportSummary, ImportError> {
    let departments = transfer::read_departments(DEPARTMENTS_CSV)?;
    catalog::upsert_departments(db, &departments).await?;
    let mut rows = transfer::read_rows(CATALOG_CSV, Format::Csv)?;
    with_english(&mut rows);
    let names = catalog::department_names(db).await?;
    let items = transfer::validate_rows(&rows, &names).map_err(ImportError::Rows)?;
    let summary = catalog::import_services(db, &items, &ActorName(DEMO_ACTOR.into())).await?;
    link_license_types(db).await?;
    crate::content::demo::load_if_empty(db).await?;
    crate::requests::demo::load_catalogue(db).await?;
    crate::interviews::demo::load(db).await?;
    crate::consultations::demo::load(db).await?;
    crate::bundles::demo::load(db).await?;
    crate::recommend::load_demo(db).await?;
    Ok(summary)
}

/// Gives each demo row its English name and English search words.
fn with_english(rows: &mut [catalog::ServiceInput]) {
    let english: std::collections::HashMap<&str, (&str, &str)> = CATALOG_EN_TSV
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut c = l.split('\t');
            Some((c.next()?, (c.next()?, c.next().unwrap_or(""))))
        })
        .collect();
    for row in rows {
        if let Some((name, words)) = english.get(row.code.trim()) {
            row.name_en = (*name).to_string();
            row.aliases = words.replace('|', "\n");
        }
    }
}

/// Which demo items renew each license type (服务找人 links in expiry
/// reminders) and which issue it when a case is approved and concluded.
const LICENSE_LINKS: &[(&str, &str, &str)] = &[
    (
        "id_card",
        "500000-GA-HZ-0001-02",
        "500000-GA-HZ-0001-01,500000-GA-HZ-0001-02,500000-GA-HZ-0001-03",
    ),
    (
        "driving_licence",
        "500000-GA-JXJ-0002-01",
        "500000-GA-JXJ-0001-01,500000-GA-JXJ-0002-01,500000-GA-JXJ-0002-02",
    ),
    ("vehicle_licence", "", "500000-GA-JXJ-0004-02"),
    (
        "household",
        "500000-GA-HZ-0007-02",
        "500000-GA-HZ-0007-01,500000-GA-HZ-0007-02",
    ),
    (
        "business_licence",
        "500000-SJ-0002-04",
        "500000-SJ-0002-02,500000-SJ-0002-04",
    ),
    ("marriage", "", "500000-MZ-0001-01,500000-MZ-0001-03"),
    ("no_crime", "", "500000-GA-ZA-0001-01"),
    (
        "social_security",
        "500000-RS-0001-03",
        "500000-RS-0001-01,500000-RS-0001-03",
    ),
];

/// Which departments may issue each type (a department covers the units
/// below it): 公安 the identity and traffic documents, 市场监管 business
/// licenses, 民政 marriage, 人社 social security cards, city and districts.
const LICENSE_ISSUERS: &[(&str, &[&str])] = &[
    ("id_card", &["500000-GA"]),
    ("driving_licence", &["500000-GA"]),
    ("vehicle_licence", &["500000-GA"]),
    ("household", &["500000-GA"]),
    ("no_crime", &["500000-GA"]),
    (
        "business_licence",
        &[
            "500000-SJ",
            "500103-SJ",
            "500105-SJ",
            "500106-SJ",
            "500190-SJ",
        ],
    ),
    (
        "marriage",
        &["500000-MZ", "500103-MZ", "500105-MZ", "500106-MZ"],
    ),
    (
        "social_security",
        &[
            "500000-RS",
            "500103-RS",
            "500105-RS",
            "500106-RS",
            "500190-SB",
        ],
    ),
];

async fn link_license_types(db: &Db) -> Result<(), DomainError> {
    for (code, departments) in LICENSE_ISSUERS {
        for d in *departments {
            sqlx::query(
                "INSERT INTO license_type_issuers (type_code, department_id) \
                 SELECT $1, id FROM departments WHERE code = $2 \
                 AND NOT EXISTS (SELECT 1 FROM license_type_issuers i \
                 JOIN departments d ON d.id = i.department_id \
                 WHERE i.type_code = $1 AND d.code = $2)",
            )
            .bind(code)
            .bind(d)
            .execute(db.pool())
            .await?;
        }
    }
    for (code, renewal, produced_by) in LICENSE_LINKS {
        sqlx::query(
            "UPDATE license_types SET renewal_service = $2, produced_by = $3 WHERE code = $1",
        )
        .bind(code)
        .bind(renewal)
        .bind(produced_by)
        .execute(db.pool())
        .await?;
    }
    Ok(())
}
