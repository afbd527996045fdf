//! 窗口核验: staff at a counter find a person by phone (every lookup
//! audited) and, having checked the ID card in person, raise a verified
//! account to real-name level 3.

use super::citizen::{COLUMNS, Citizen, decrypted, get, invalid, phone_key};
use super::ids::{IdNumber, Phone};
use crate::audit::{self, Entry};
use crate::{Db, DomainError};

/// Staff look a person up by phone (for counter services). Every lookup of
/// personal data is audited.
pub async fn lookup_by_phone(
    db: &Db,
    staff: &str,
    phone: &str,
) -> Result<Option<Citizen>, DomainError> {
    let phone = Phone::parse(phone).map_err(|e| DomainError::Invalid(vec![e]))?;
    let found: Option<Citizen> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM citizens WHERE phone_bidx = $1"
    )))
    .bind(phone_key(db, &phone)?)
    .fetch_optional(db.pool())
    .await?;
    let found = found.map(|c| decrypted(db, c)).transpose()?;
    audit::record(
        db,
        Entry::staff(staff, "citizen.lookup", phone.masked()).detail(if found.is_some() {
            "found"
        } else {
            "none"
        }),
    )
    .await?;
    Ok(found)
}

/// 窗口核验: a clerk has checked the ID card in person and types its number;
/// it must match the verified one. The person reaches level 3.
pub async fn counter_verify(
    db: &Db,
    staff: &str,
    citizen_id: i64,
    id_number: &str,
) -> Result<(), DomainError> {
    let id = IdNumber::parse(id_number).map_err(|e| DomainError::Invalid(vec![e]))?;
    let c = get(db, citizen_id).await?;
    if c.level < 2 || c.id_number != id.as_str() {
        return Err(invalid("id_number", "counter_mismatch"));
    }
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE citizens SET level = 3, verified_by = $2 WHERE id = $1")
        .bind(c.id)
        .bind(staff)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        &Entry::staff(staff, "citizen.counter_verify", c.label()).detail(id.masked()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
