//! Licenses in the database: types and who may issue them, reading and
//! checking (public verification, downloaded files), and staff views.
//! Issuing is in `issuing`, the holder's side in `holder`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use super::{ExportFile, FORMAT, LicenseDoc, LicenseType, SignatureBlock, Status, TypeField};
use crate::audit::{self, Entry};
use crate::identity::Perm;
use crate::identity::scope::{require_city, require_unit};
use crate::identity::staff::StaffSession;
use crate::pii::{self, ctx};
use crate::signing;
use crate::time::local_date;
use crate::{Db, DomainError, FieldError, Tx};

pub(super) fn invalid(
    field: &'static str,
    code: &'static str,
    detail: impl Into<String>,
) -> DomainError {
    DomainError::Invalid(vec![FieldError::new(field, code, detail)])
}

/// A stored license with what the portal knows about it.
#[derive(Debug, Clone, Serialize)]
pub struct License {
    pub id: i64,
    pub doc: LicenseDoc,
    pub issuer_id: i64,
    pub citizen_id: Option<i64>,
    pub revoked: bool,
    pub revoked_at: Option<i64>,
    pub revoke_reason: String,
    pub signing_key: String,
    pub signature: String,
    pub source: String,
    pub created_at: i64,
}

impl License {
    pub fn number(&self) -> &str {
        &self.doc.number
    }
}

// ------------------------------------------------------------------ types

pub async fn types(db: &Db) -> Result<Vec<LicenseType>, DomainError> {
    let rows = sqlx::query(
        "SELECT code, name, holder_kind, fields, valid_years, renewal_service, produced_by \
         FROM license_types ORDER BY sort, code",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(type_from_row).collect()
}

pub(super) fn type_from_row(r: &sqlx::any::AnyRow) -> Result<LicenseType, DomainError> {
    let fields: String = r.try_get("fields")?;
    Ok(LicenseType {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        holder_kind: r.try_get("holder_kind")?,
        fields: serde_json::from_str::<Vec<TypeField>>(&fields).unwrap_or_default(),
        valid_years: r.try_get("valid_years")?,
        renewal_service: r.try_get("renewal_service")?,
        produced_by: r.try_get("produced_by")?,
    })
}

pub async fn get_type(db: &Db, code: &str) -> Result<LicenseType, DomainError> {
    types(db)
        .await?
        .into_iter()
        .find(|t| t.code == code)
        .ok_or(DomainError::NotFound)
}

/// Which departments may issue each type (ids; a department covers the
/// units below it).
pub async fn issuers(db: &Db) -> Result<BTreeMap<String, Vec<i64>>, DomainError> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT type_code, department_id FROM license_type_issuers")
            .fetch_all(db.pool())
            .await?;
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (t, d) in rows {
        out.entry(t).or_default().push(d);
    }
    Ok(out)
}

/// Whether `department_id` (or a unit above it) is listed as an issuer of
/// `type_code`.
pub async fn may_issue(db: &Db, type_code: &str, department_id: i64) -> Result<bool, DomainError> {
    Ok(issuing_departments(db, type_code)
        .await?
        .contains(&department_id))
}

/// Every department that may issue `type_code`: those named for it and
/// the units below them.
pub async fn issuing_departments(db: &Db, type_code: &str) -> Result<BTreeSet<i64>, DomainError> {
    let listed: BTreeSet<i64> =
        sqlx::query_scalar("SELECT department_id FROM license_type_issuers WHERE type_code = $1")
            .bind(type_code)
            .fetch_all(db.pool())
            .await?
            .into_iter()
            .collect();
    if listed.is_empty() {
        return Ok(listed);
    }
    let parents: BTreeMap<i64, Option<i64>> =
        sqlx::query_as::<_, (i64, Option<i64>)>("SELECT id, parent_id FROM departments")
            .fetch_all(db.pool())
            .await?
            .into_iter()
            .collect();
    let covered = |id: i64| {
        let mut at = Some(id);
        // The tree is shallow; the bound only guards against a cycle.
        for _ in 0..64 {
            let Some(here) = at else { break };
            if listed.contains(&here) {
                return true;
            }
            at = parents.get(&here).copied().flatten();
        }
        false
    };
    Ok(parents.keys().copied().filter(|id| covered(*id)).collect())
}

/// What a city-level account sets on a license type.
#[derive(Debug, Clone, Default)]
pub struct TypeSettings {
    /// The catalog item that renews it (服务找人 links in reminders).
    pub renewal_service: String,
    /// Catalog items whose approved cases issue it, comma-separated.
    pub produced_by: String,
    /// Departments allowed to issue it (each covers the units below it).
    pub issuers: BTreeSet<i64>,
}

/// Sets how a type is renewed, which items issue it and which departments
/// may: a city-level setting, in one transaction, audited.
pub async fn configure_type(
    db: &Db,
    staff: &StaffSession,
    code: &str,
    settings: &TypeSettings,
) -> Result<(), DomainError> {
    require_city(db, staff, &format!("license_type:{code}")).await?;
    get_type(db, code).await?;
    let known: Vec<i64> = sqlx::query_scalar("SELECT id FROM departments")
        .fetch_all(db.pool())
        .await?;
    if let Some(bad) = settings.issuers.iter().find(|d| !known.contains(d)) {
        return Err(invalid("issuers", "invalid_choice", bad.to_string()));
    }
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE license_types SET renewal_service = $2, produced_by = $3 WHERE code = $1")
        .bind(code)
        .bind(settings.renewal_service.trim())
        .bind(settings.produced_by.trim())
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM license_type_issuers WHERE type_code = $1")
        .bind(code)
        .execute(&mut *tx)
        .await?;
    for d in &settings.issuers {
        sqlx::query("INSERT INTO license_type_issuers (type_code, department_id) VALUES ($1, $2)")
            .bind(code)
            .bind(d)
            .execute(&mut *tx)
            .await?;
    }
    let ids: Vec<String> = settings.issuers.iter().map(i64::to_string).collect();
    audit::append(
        &mut tx,
        &Entry::staff(&staff.user.username, "license.type_configure", code)
            .detail(format!(
                "renewal={} produced_by={} issuers={}",
                settings.renewal_service.trim(),
                settings.produced_by.trim(),
                ids.join(",")
            ))
            .ip(&staff.client_ip),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ------------------------------------------------------------------ reading and checking

pub(super) const SELECT: &str = "SELECT l.id, l.number, l.type_code, t.name AS type_name, l.holder_name, \
    l.holder_id_number, l.citizen_id, l.fields, l.issuer_id, d.code AS issuer_code, \
    d.name AS issuer_name, l.issued_on, l.expires_on, l.state, l.revoked_at, l.revoke_reason, \
    l.signing_key, l.signature, l.source, l.created_at FROM licenses l \
    JOIN license_types t ON t.code = l.type_code JOIN departments d ON d.id = l.issuer_id";

pub(super) fn from_row(db: &Db, r: &sqlx::any::AnyRow) -> Result<License, DomainError> {
    let fields = pii::open(db, ctx::LICENSE_FIELDS, &r.try_get::<String, _>("fields")?)?;
    Ok(License {
        id: r.try_get("id")?,
        doc: LicenseDoc {
            number: r.try_get("number")?,
            type_code: r.try_get("type_code")?,
            type_name: r.try_get("type_name")?,
            holder_name: r.try_get("holder_name")?,
            holder_id_number: pii::open(
                db,
                ctx::LICENSE_HOLDER_ID,
                &r.try_get::<String, _>("holder_id_number")?,
            )?,
            fields: serde_json::from_str(&fields).unwrap_or_default(),
            issuer_code: r.try_get("issuer_code")?,
            issuer_name: r.try_get("issuer_name")?,
            issued_on: r.try_get("issued_on")?,
            expires_on: r.try_get("expires_on")?,
        },
        issuer_id: r.try_get("issuer_id")?,
        citizen_id: r.try_get("citizen_id")?,
        revoked: r.try_get::<String, _>("state")? == "revoked",
        revoked_at: r.try_get("revoked_at")?,
        revoke_reason: r.try_get("revoke_reason")?,
        signing_key: r.try_get("signing_key")?,
        signature: r.try_get("signature")?,
        source: r.try_get("source")?,
        created_at: r.try_get("created_at")?,
    })
}

/// A license by number (no access check: callers decide what to show).
pub async fn by_number(db: &Db, number: &str) -> Result<Option<License>, DomainError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE l.number = $1")))
        .bind(number.trim().to_uppercase())
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| from_row(db, &r)).transpose()
}

/// Re-checks the stored signature against the stored data (a row edited in
/// the database reads as tampered) and the issuer's right to issue the type.
pub async fn status(db: &Db, lic: &License) -> Result<Status, DomainError> {
    let ok = match signing::public_key(db, &lic.signing_key).await? {
        Some(k) => signing::verify(&k, &lic.doc.canonical(), &lic.signature),
        None => false,
    };
    Ok(Status::of(
        ok,
        may_issue(db, &lic.doc.type_code, lic.issuer_id).await?,
        lic.revoked,
        lic.doc.expires(),
        local_date(db.now()),
    ))
}

/// What the public verification page and API show: status and masked data.
#[derive(Debug, Clone, Serialize)]
pub struct PublicView {
    pub number: String,
    pub status: Status,
    pub status_label: &'static str,
    pub type_name: String,
    pub holder: String,
    pub holder_id: String,
    pub issuer: String,
    pub issued_on: String,
    pub expires_on: String,
    pub revoke_reason: String,
    pub key_fingerprint: String,
    pub algorithm: &'static str,
}

/// The public check by number (the QR code leads here). None when there is
/// no such license.
pub async fn verify_public(db: &Db, number: &str) -> Result<Option<PublicView>, DomainError> {
    let Some(lic) = by_number(db, number).await? else {
        return Ok(None);
    };
    public_view(db, &lic).await.map(Some)
}

pub(super) async fn public_view(db: &Db, lic: &License) -> Result<PublicView, DomainError> {
    let st = status(db, lic).await?;
    let key = signing::public_key(db, &lic.signing_key).await?;
    Ok(PublicView {
        number: lic.doc.number.clone(),
        status: st,
        status_label: st.label_zh(),
        type_name: lic.doc.type_name.clone(),
        holder: lic.doc.masked_holder(),
        holder_id: lic.doc.masked_id(),
        issuer: lic.doc.issuer_name.clone(),
        issued_on: lic.doc.issued_on.clone(),
        expires_on: lic.doc.expires_on.clone(),
        revoke_reason: if lic.revoked {
            lic.revoke_reason.clone()
        } else {
            String::new()
        },
        key_fingerprint: key.as_ref().map(|k| k.fingerprint()).unwrap_or_default(),
        algorithm: key
            .map(|k| super::algorithm_name(k.suite))
            .unwrap_or_default(),
    })
}

/// What an uploaded license file says, offline and (when this portal
/// knows the number) online. Holder data is masked.
#[derive(Debug, Clone)]
pub struct FileCheck {
    /// The file's own check (signature under the key it carries, expiry).
    pub status: Status,
    pub key_fingerprint: String,
    pub doc: LicenseDoc,
    /// This portal's check of the same number.
    pub online: Option<PublicView>,
}

impl FileCheck {
    /// Whether the file was signed with the key this portal holds for the
    /// number (None when the portal does not know it).
    pub fn key_matches(&self) -> Option<bool> {
        self.online
            .as_ref()
            .map(|o| !o.key_fingerprint.is_empty() && o.key_fingerprint == self.key_fingerprint)
    }

    pub fn key_mismatch(&self) -> bool {
        self.key_matches() == Some(false)
    }

    pub fn unknown_here(&self) -> bool {
        self.online.is_none()
    }

    /// The file's answer: one that verifies only under a key of its own,
    /// not the issuer's on record, is a forgery.
    pub fn file_status(&self) -> Status {
        if self.key_mismatch() {
            Status::Tampered
        } else {
            self.status
        }
    }

    /// The overall answer: the file's, then what only this portal knows
    /// (an issuer without the right to issue the type, a revocation).
    pub fn verdict(&self) -> Status {
        let own = self.file_status();
        match (own, self.online.as_ref().map(|o| o.status)) {
            (Status::Tampered, _) => Status::Tampered,
            (_, Some(Status::Unauthorized)) => Status::Unauthorized,
            (_, Some(Status::Revoked)) => Status::Revoked,
            _ => own,
        }
    }
}

/// Checks an exported file: its own signature, then this portal's record
/// of the number (revocation and the issuer's key are only known online).
/// `Err(reason)` when the text is not a license file.
pub async fn check_file(
    db: &Db,
    text: &str,
    today: NaiveDate,
) -> Result<Result<FileCheck, String>, DomainError> {
    let check = match super::verify_export(text, today) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let online = if super::number_ok(&check.doc.number) {
        verify_public(db, &check.doc.number).await?
    } else {
        None
    };
    let mut doc = check.doc;
    doc.holder_id_number = doc.masked_id();
    doc.holder_name = doc.masked_holder();
    Ok(Ok(FileCheck {
        status: check.status,
        key_fingerprint: check.key_fingerprint,
        doc,
        online,
    }))
}

/// The exported file for the holder's download.
pub async fn export(db: &Db, lic: &License, public_url: &str) -> Result<ExportFile, DomainError> {
    let key = signing::public_key(db, &lic.signing_key)
        .await?
        .ok_or(DomainError::NotFound)?;
    Ok(ExportFile {
        format: FORMAT.to_string(),
        license: lic.doc.clone(),
        signature: SignatureBlock {
            suite: key.suite.to_string(),
            algorithm: super::algorithm_name(key.suite).to_string(),
            key_id: key.id.clone(),
            public_key: hex::encode(&key.public),
            value: lic.signature.clone(),
        },
        verify_url: format!("{}/licenses/verify/{}", public_url, lic.doc.number),
    })
}

// ------------------------------------------------------------------ staff

/// Staff search: by license number, or exactly by the holder's 身份证号 /
/// 统一社会信用代码 (through its blind index), within their scope.
pub async fn search(
    db: &Db,
    staff: &StaffSession,
    q: &str,
    limit: i64,
) -> Result<Vec<License>, DomainError> {
    let q = q.trim().to_uppercase();
    let rows = if q.is_empty() {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} ORDER BY l.id DESC LIMIT $1"
        )))
        .bind(limit * 4)
        .fetch_all(db.pool())
        .await?
    } else if q.starts_with("ZZ") {
        sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE l.number = $1")))
            .bind(&q)
            .fetch_all(db.pool())
            .await?
    } else {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE l.holder_bidx = $1 ORDER BY l.id DESC"
        )))
        .bind(pii::index(db, ctx::LICENSE_HOLDER_ID, &q)?)
        .fetch_all(db.pool())
        .await?
    };
    let mut out = Vec::new();
    for r in &rows {
        let lic = from_row(db, r)?;
        if staff.scope.covers(lic.issuer_id) {
            out.push(lic);
        } else if !q.is_empty() {
            // Looked up by number or holder: a refusal worth a record.
            crate::identity::scope::record_refusal(
                db,
                staff,
                &format!("license:{}", lic.doc.number),
                "outside_scope",
            )
            .await?;
        }
        if out.len() as i64 >= limit {
            break;
        }
    }
    Ok(out)
}

/// Revokes a license (a reason is required); the holder is told.
pub async fn revoke(
    db: &Db,
    staff: &StaffSession,
    number: &str,
    reason: &str,
) -> Result<(), DomainError> {
    let reason: String = reason.trim().chars().take(500).collect();
    if reason.is_empty() {
        return Err(invalid("reason", "required", ""));
    }
    let lic = by_number(db, number).await?.ok_or(DomainError::NotFound)?;
    if !staff.can(Perm::LicensesManage) {
        return Err(DomainError::Conflict(crate::Conflict::NotAllowed));
    }
    let object = format!("license:{}", lic.doc.number);
    require_unit(db, staff, Some(lic.issuer_id), &object).await?;
    if lic.revoked {
        return Err(DomainError::Conflict(crate::Conflict::AlreadyRevoked));
    }
    let now = db.now().timestamp();
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE licenses SET state = 'revoked', revoked_at = $2, revoke_reason = $3 \
         WHERE id = $1 AND state = 'valid'",
    )
    .bind(lic.id)
    .bind(now)
    .bind(&reason)
    .execute(&mut *tx)
    .await?;
    if let Some(c) = lic.citizen_id {
        message(
            &mut tx,
            c,
            &format!("您的{}已被吊销", lic.doc.type_name),
            &format!(
                "证照编号 {}，吊销原因：{reason}。如有疑问请联系{}。",
                lic.doc.number, lic.doc.issuer_name
            ),
        )
        .await?;
    }
    audit::append(
        &mut tx,
        &Entry::staff(&staff.user.username, "license.revoke", &lic.doc.number)
            .detail(&reason)
            .ip(&staff.client_ip),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Staff see a license's full holder data only with `citizens.view`, and
/// each such view is audited. Without it, the data comes back masked.
pub async fn for_staff(
    db: &Db,
    staff: &StaffSession,
    number: &str,
) -> Result<(License, bool), DomainError> {
    let mut lic = by_number(db, number).await?.ok_or(DomainError::NotFound)?;
    if !staff.can(Perm::LicensesManage) {
        return Err(DomainError::NotFound);
    }
    let object = format!("license:{}", lic.doc.number);
    require_unit(db, staff, Some(lic.issuer_id), &object).await?;
    let full = staff.can(Perm::CitizensView);
    if full {
        audit::record(
            db,
            Entry::staff(&staff.user.username, "license.view", &lic.doc.number),
        )
        .await?;
    } else {
        mask_doc(&mut lic.doc);
    }
    Ok((lic, full))
}

/// Replaces holder data with its masked form (for staff without
/// `citizens.view`). Fields are masked too: they may name people.
pub fn mask_doc(doc: &mut LicenseDoc) {
    doc.holder_id_number = doc.masked_id();
    doc.holder_name = doc.masked_holder();
    for v in doc.fields.values_mut() {
        let n = v.chars().count();
        *v = v
            .chars()
            .take(n.min(2))
            .chain(std::iter::repeat_n('*', n.saturating_sub(2).min(6)))
            .collect();
    }
}

pub(super) async fn message(
    conn: &mut Tx,
    citizen_id: i64,
    title: &str,
    body: &str,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO messages (citizen_id, case_number, title, body, created_at) \
         VALUES ($1, '', $2, $3, $4)",
    )
    .bind(citizen_id)
    .bind(title)
    .bind(body)
    .bind(conn.now().timestamp())
    .execute(&mut **conn)
    .await?;
    Ok(())
}
