//! The demo data (演示数据) of a fictional Chongqing-like city, 渝州市, and
//! its public security bureau. It is loaded through the same importer staff
//! use, so it obeys every catalog rule.

use sqlx::Row;

use crate::catalog::transfer::{self, Format, ImportError};
use crate::catalog::{self, ImportSummary};
use crate::{ActorName, Db, DomainError};

pub const DEPARTMENTS_CSV: &[u8] = include_bytes!("../demo/departments.csv");
pub const CATALOG_CSV: &[u8] = include_bytes!("../demo/catalog.csv");

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
        return Ok(None);
    }
    load(db).await.map(Some)
}

/// Loads (or refreshes) the demo org tree and catalog.
pub async fn load(db: &Db) -> Result<ImportSummary, ImportError> {
    let departments = transfer::read_departments(DEPARTMENTS_CSV)?;
    catalog::upsert_departments(db, &departments).await?;
    transfer::import(db, CATALOG_CSV, Format::Csv, &ActorName(DEMO_ACTOR.into())).await
}
