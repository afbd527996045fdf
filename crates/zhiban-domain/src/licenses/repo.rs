//! Licenses in the database: issuing (by staff, by import, by an approved
//! case), checking, revoking, the holder's wallet and shared links, every
//! use, 免证办, and expiry reminders.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sqlx::Row;

use super::{ExportFile, FORMAT, LicenseDoc, LicenseType, SignatureBlock, Status, TypeField};
use crate::audit::{self, Entry};
use crate::identity::Perm;
use crate::identity::citizen::Citizen;
use crate::identity::ids::{IdNumber, Uscc};
use crate::identity::scope::{audit_field_refusals, require_city, require_unit};
use crate::identity::staff::StaffSession;
use crate::pii::{self, ctx};
use crate::signing;
use crate::time::local_date;
use crate::{Db, DomainError, FieldError, Tx};

fn invalid(field: &'static str, code: &'static str, detail: impl Into<String>) -> DomainError {
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

fn type_from_row(r: &sqlx::any::AnyRow) -> Result<LicenseType, DomainError> {
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

// ------------------------------------------------------------------ issuing

/// What staff (or an import line) fill in to issue a license.
#[derive(Debug, Clone, Default)]
pub struct IssueInput {
    pub type_code: String,
    pub holder_name: String,
    pub holder_id_number: String,
    pub fields: BTreeMap<String, String>,
    pub issued_on: Option<NaiveDate>,
    /// None: by the type's validity (or long-term).
    pub expires_on: Option<NaiveDate>,
}

/// Checks the input against its type; returns the normalised holder ID.
fn check_input(t: &LicenseType, input: &IssueInput) -> Result<String, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = input.holder_name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(FieldError::new("holder_name", "required", ""));
    }
    let id = if t.holder_kind == "company" {
        Uscc::parse(&input.holder_id_number).map(|u| u.as_str().to_string())
    } else {
        IdNumber::parse(&input.holder_id_number).map(|i| i.as_str().to_string())
    };
    let id = match id {
        Ok(id) => id,
        Err(mut e) => {
            e.field = "holder_id_number";
            errors.push(e);
            String::new()
        }
    };
    for f in &t.fields {
        let v = input.fields.get(&f.key).map(|v| v.trim()).unwrap_or("");
        if v.is_empty() {
            errors.push(FieldError::new(
                "license_field",
                "required",
                f.label.clone(),
            ));
        } else if v.chars().count() > 500 {
            errors.push(FieldError::new(
                "license_field",
                "too_long",
                f.label.clone(),
            ));
        }
    }
    if let (Some(i), Some(e)) = (input.issued_on, input.expires_on)
        && e <= i
    {
        errors.push(FieldError::new("expires_on", "expires_before_issue", ""));
    }
    if errors.is_empty() {
        Ok(id)
    } else {
        Err(errors)
    }
}

fn add_years(d: NaiveDate, years: i64) -> NaiveDate {
    let y = d.year() + i32::try_from(years).unwrap_or(0);
    NaiveDate::from_ymd_opt(y, d.month(), d.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, d.month(), 28))
        .unwrap_or(d)
}

/// Makes sure the department has a signing key before a transaction that
/// issues starts: creating one inside it would be a second writer on
/// SQLite.
pub async fn prepare_key(db: &Db, department_id: i64) -> Result<(), DomainError> {
    signing::key_for(db, &format!("dept:{department_id}")).await?;
    Ok(())
}

/// Issues a license from `department_id`, signed with that department's
/// key, inside the caller's transaction. `source` says who or what issued
/// it (`staff:…`, `import:…`, `case:…`).
async fn issue_in(
    conn: &mut Tx,
    db: &Db,
    t: &LicenseType,
    department_id: i64,
    input: &IssueInput,
    source: &str,
) -> Result<License, DomainError> {
    let holder_id = check_input(t, input).map_err(DomainError::Invalid)?;
    let (issuer_code, issuer_name): (String, String) =
        sqlx::query_as("SELECT code, name FROM departments WHERE id = $1")
            .bind(department_id)
            .fetch_optional(&mut **conn)
            .await?
            .ok_or_else(|| invalid("issuer", "required", ""))?;
    let issued = input.issued_on.unwrap_or_else(|| local_date(conn.now()));
    let expires = input
        .expires_on
        .or_else(|| (t.valid_years > 0).then(|| add_years(issued, t.valid_years)));
    let fields: BTreeMap<String, String> = t
        .fields
        .iter()
        .map(|f| {
            let v = input.fields.get(&f.key).map(|v| v.trim()).unwrap_or("");
            (f.key.clone(), v.to_string())
        })
        .collect();
    let doc = LicenseDoc {
        number: super::new_number(issued),
        type_code: t.code.clone(),
        type_name: t.name.clone(),
        holder_name: input.holder_name.trim().to_string(),
        holder_id_number: holder_id.clone(),
        fields,
        issuer_code,
        issuer_name,
        issued_on: issued.format("%Y-%m-%d").to_string(),
        expires_on: expires
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
    };
    let key = signing::key_for(db, &format!("dept:{department_id}")).await?;
    let signature = key.sign(&doc.canonical())?;
    let holder_bidx = pii::index(db, ctx::LICENSE_HOLDER_ID, &holder_id)?;
    // A person's license lands in the wallet of the account verified with
    // that 身份证号 (if there is one yet; later verification links it too).
    let citizen_id: Option<i64> = if t.holder_kind == "person" {
        sqlx::query_scalar("SELECT id FROM citizens WHERE id_number_bidx = $1")
            .bind(pii::index(db, ctx::CITIZEN_ID_NUMBER, &holder_id)?)
            .fetch_optional(&mut **conn)
            .await?
    } else {
        None
    };
    let now = conn.now().timestamp();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO licenses (number, type_code, holder_name, holder_id_number, holder_bidx, \
         citizen_id, fields, issuer_id, issued_on, expires_on, signing_key, signature, source, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         RETURNING id",
    )
    .bind(&doc.number)
    .bind(&doc.type_code)
    .bind(&doc.holder_name)
    .bind(pii::seal(db, ctx::LICENSE_HOLDER_ID, &holder_id)?)
    .bind(&holder_bidx)
    .bind(citizen_id)
    .bind(pii::seal(
        db,
        ctx::LICENSE_FIELDS,
        &serde_json::to_string(&doc.fields).unwrap_or_default(),
    )?)
    .bind(department_id)
    .bind(&doc.issued_on)
    .bind(&doc.expires_on)
    .bind(&key.id)
    .bind(&signature)
    .bind(source)
    .bind(now)
    .fetch_one(&mut **conn)
    .await?;
    if let Some(c) = citizen_id {
        message(
            conn,
            c,
            &format!("您的电子{}已签发", doc.type_name),
            &format!(
                "证照编号 {}，签发机关 {}。可在“我的证照”查看、下载或出示；办事时可一键授权使用，无需再提交复印件。",
                doc.number, doc.issuer_name
            ),
        )
        .await?;
    }
    audit::append(
        conn,
        &Entry::staff(source, "license.issue", &doc.number).detail(format!(
            "{} {}",
            doc.type_name,
            doc.masked_id()
        )),
    )
    .await?;
    Ok(License {
        id,
        doc,
        issuer_id: department_id,
        citizen_id,
        revoked: false,
        revoked_at: None,
        revoke_reason: String::new(),
        signing_key: key.id,
        signature,
        source: source.to_string(),
        created_at: now,
    })
}

/// Staff issue a license from a department in their scope.
pub async fn issue(
    db: &Db,
    staff: &StaffSession,
    department_id: i64,
    input: &IssueInput,
) -> Result<License, DomainError> {
    if !staff.can(Perm::LicensesManage) {
        return Err(DomainError::Conflict(crate::Conflict::NotAllowed));
    }
    require_unit(
        db,
        staff,
        Some(department_id),
        &format!("department:{department_id}"),
    )
    .await?;
    let t = get_type(db, &input.type_code)
        .await
        .map_err(|_| invalid("type_code", "required", ""))?;
    if !may_issue(db, &t.code, department_id).await? {
        let errors = vec![FieldError::new(
            "type_code",
            "issuer_not_allowed",
            t.name.clone(),
        )];
        audit_field_refusals(db, staff, &format!("license_type:{}", t.code), &errors).await?;
        return Err(DomainError::Invalid(errors));
    }
    prepare_key(db, department_id).await?;
    let mut tx = db.begin().await?;
    let lic = issue_in(
        &mut tx,
        db,
        &t,
        department_id,
        input,
        &format!("staff:{}", staff.user.username),
    )
    .await?;
    tx.commit().await?;
    Ok(lic)
}

/// Issues the licenses an approved case produces, inside the case's
/// transaction: for each type whose `produced_by` names the case's item,
/// a license to the applicant, with fields taken from the answers of the
/// same key (or a reference to the case).
pub async fn issue_for_case(
    conn: &mut Tx,
    db: &Db,
    case: &crate::cases::Case,
    applicant: &Citizen,
) -> Result<Vec<String>, DomainError> {
    let mut issued = Vec::new();
    for t in types(db).await? {
        if !t.produced_by(&case.service_code) || t.holder_kind != "person" {
            continue;
        }
        if !may_issue(db, &t.code, case.department_id).await? {
            // Approval stands; the license is not the department's to issue.
            tracing::warn!(case = %case.number, license_type = %t.code, "case's department may not issue this license type; none issued");
            continue;
        }
        let fields = t
            .fields
            .iter()
            .map(|f| {
                let v = case
                    .answers
                    .get(&f.key)
                    .filter(|v| !v.trim().is_empty())
                    .cloned()
                    .unwrap_or_else(|| format!("见办件 {}", case.number));
                (f.key.clone(), v)
            })
            .collect();
        let input = IssueInput {
            type_code: t.code.clone(),
            holder_name: applicant.name.clone(),
            holder_id_number: applicant.id_number.clone(),
            fields,
            issued_on: None,
            expires_on: None,
        };
        let lic = issue_in(
            conn,
            db,
            &t,
            case.department_id,
            &input,
            &format!("case:{}", case.number),
        )
        .await?;
        issued.push(lic.doc.number);
    }
    Ok(issued)
}

/// One refused import line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportLineError {
    pub line: usize,
    pub errors: Vec<FieldError>,
}

/// Imports licenses from CSV (UTF-8, header: 证照类型, 持证人, 证件号码,
/// 签发日期, 有效期至, then one column per field label). All lines or none:
/// one bad line refuses the file and every problem is listed.
pub async fn import_csv(
    db: &Db,
    staff: &StaffSession,
    department_id: i64,
    bytes: &[u8],
) -> Result<usize, Vec<ImportLineError>> {
    let fail = |e: String| {
        vec![ImportLineError {
            line: 0,
            errors: vec![FieldError::new("file", "unreadable", e)],
        }]
    };
    if !staff.can(Perm::LicensesManage) {
        return Err(fail("not allowed".into()));
    }
    if let Err(e) = require_unit(
        db,
        staff,
        Some(department_id),
        &format!("department:{department_id}"),
    )
    .await
    {
        return Err(fail(e.to_string()));
    }
    let all_types = types(db).await.map_err(|e| fail(e.to_string()))?;
    let mut allowed_types = BTreeSet::new();
    for t in &all_types {
        if may_issue(db, &t.code, department_id)
            .await
            .map_err(|e| fail(e.to_string()))?
        {
            allowed_types.insert(t.code.clone());
        }
    }
    let text = String::from_utf8_lossy(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes));
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| fail(e.to_string()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(c_type), Some(c_name), Some(c_id)) =
        (col("证照类型"), col("持证人"), col("证件号码"))
    else {
        return Err(fail("表头须含 证照类型、持证人、证件号码".into()));
    };
    let (c_issued, c_expires) = (col("签发日期"), col("有效期至"));
    let mut inputs = Vec::new();
    let mut bad = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                bad.push(ImportLineError {
                    line,
                    errors: vec![FieldError::new("file", "unreadable", e.to_string())],
                });
                continue;
            }
        };
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").trim().to_string();
        let type_text = get(Some(c_type));
        let Some(t) = all_types
            .iter()
            .find(|t| t.name == type_text || t.code == type_text)
        else {
            bad.push(ImportLineError {
                line,
                errors: vec![FieldError::new(
                    "type_code",
                    "unknown_license_type",
                    type_text,
                )],
            });
            continue;
        };
        let date = |c: Option<usize>| {
            let v = get(c);
            if v.is_empty() {
                Ok(None)
            } else {
                NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| FieldError::new("date", "invalid_date", v))
            }
        };
        let mut errors = Vec::new();
        let issued_on = date(c_issued).unwrap_or_else(|e| {
            errors.push(e);
            None
        });
        let expires_on = date(c_expires).unwrap_or_else(|e| {
            errors.push(e);
            None
        });
        let fields = t
            .fields
            .iter()
            .map(|f| (f.key.clone(), get(col(&f.label))))
            .collect();
        let input = IssueInput {
            type_code: t.code.clone(),
            holder_name: get(Some(c_name)),
            holder_id_number: get(Some(c_id)),
            fields,
            issued_on,
            expires_on,
        };
        if !allowed_types.contains(&t.code) {
            errors.push(FieldError::new(
                "type_code",
                "issuer_not_allowed",
                t.name.clone(),
            ));
        }
        if let Err(e) = check_input(t, &input) {
            errors.extend(e);
        }
        if errors.is_empty() {
            inputs.push((t.clone(), input));
        } else {
            bad.push(ImportLineError { line, errors });
        }
    }
    if !bad.is_empty() {
        let refused: Vec<FieldError> = bad
            .iter()
            .flat_map(|b| b.errors.iter().cloned())
            .filter(|e| e.code == "issuer_not_allowed")
            .collect();
        if let Err(e) = audit_field_refusals(
            db,
            staff,
            &format!("license_import:department:{department_id}"),
            &refused,
        )
        .await
        {
            return Err(fail(e.to_string()));
        }
        return Err(bad);
    }
    if inputs.is_empty() {
        return Err(fail("文件中没有证照".into()));
    }
    let source = format!("import:{}", staff.user.username);
    let run = async {
        prepare_key(db, department_id).await?;
        let mut tx = db.begin().await?;
        for (t, input) in &inputs {
            issue_in(&mut tx, db, t, department_id, input, &source).await?;
        }
        tx.commit().await?;
        Ok::<_, DomainError>(inputs.len())
    };
    run.await.map_err(|e| fail(e.to_string()))
}

// ------------------------------------------------------------------ reading and checking

const SELECT: &str = "SELECT l.id, l.number, l.type_code, t.name AS type_name, l.holder_name, \
    l.holder_id_number, l.citizen_id, l.fields, l.issuer_id, d.code AS issuer_code, \
    d.name AS issuer_name, l.issued_on, l.expires_on, l.state, l.revoked_at, l.revoke_reason, \
    l.signing_key, l.signature, l.source, l.created_at FROM licenses l \
    JOIN license_types t ON t.code = l.type_code JOIN departments d ON d.id = l.issuer_id";

fn from_row(db: &Db, r: &sqlx::any::AnyRow) -> Result<License, DomainError> {
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

async fn public_view(db: &Db, lic: &License) -> Result<PublicView, DomainError> {
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

// ------------------------------------------------------------------ the holder

/// The field of a business license that names the legal representative.
pub const LEGAL_REP_FIELD: &str = "legal_rep";

/// Whether a company's license names `person` as its legal representative
/// (licenses without that field, and personal ones, always do).
pub fn names_representative(lic: &License, person: &str) -> bool {
    lic.doc
        .fields
        .get(LEGAL_REP_FIELD)
        .is_none_or(|rep| rep.trim() == person.trim())
}

/// The licenses issued to a company (by its 统一社会信用代码), newest first.
pub async fn of_company(db: &Db, uscc: &str) -> Result<Vec<License>, DomainError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE l.holder_bidx = $1 ORDER BY l.id DESC"
    )))
    .bind(pii::index(db, ctx::LICENSE_HOLDER_ID, uscc)?)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|r| from_row(db, r)).collect()
}

/// The person's wallet: licenses issued to their verified 身份证号, and
/// the licenses of companies they represent, as long as the license names
/// them as the legal representative (a 营业执照 naming someone else stays
/// out of their wallet).
pub async fn wallet(db: &Db, citizen: &Citizen) -> Result<Vec<License>, DomainError> {
    let mut out = Vec::new();
    if !citizen.id_number.is_empty() {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE l.holder_bidx = $1 ORDER BY l.id DESC"
        )))
        .bind(pii::index(db, ctx::LICENSE_HOLDER_ID, &citizen.id_number)?)
        .fetch_all(db.pool())
        .await?;
        for r in &rows {
            out.push(from_row(db, r)?);
        }
    }
    let usccs: Vec<String> =
        sqlx::query_scalar("SELECT uscc FROM companies WHERE legal_rep_id = $1")
            .bind(citizen.id)
            .fetch_all(db.pool())
            .await?;
    for u in usccs {
        for lic in of_company(db, &u).await? {
            if names_representative(&lic, &citizen.name) {
                out.push(lic);
            }
        }
    }
    Ok(out)
}

/// One license of the person's wallet, or NotFound.
pub async fn own(db: &Db, citizen: &Citizen, number: &str) -> Result<License, DomainError> {
    wallet(db, citizen)
        .await?
        .into_iter()
        .find(|l| l.doc.number == number.trim().to_uppercase())
        .ok_or(DomainError::NotFound)
}

/// A use of a license, as the holder sees it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Use {
    pub kind: String,
    pub case_number: String,
    pub material: String,
    pub actor: String,
    pub at: i64,
}

pub async fn uses(db: &Db, license_id: i64) -> Result<Vec<Use>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT kind, case_number, material, actor, at FROM license_uses \
         WHERE license_id = $1 ORDER BY at DESC, id DESC LIMIT 200",
    )
    .bind(license_id)
    .fetch_all(db.pool())
    .await?)
}

/// One row of `license_uses`.
#[derive(Default)]
struct UseRecord<'a> {
    kind: &'a str,
    draft_id: Option<i64>,
    case_number: &'a str,
    field_key: &'a str,
    material: &'a str,
    actor: &'a str,
}

async fn record_use(conn: &mut Tx, license_id: i64, u: UseRecord<'_>) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO license_uses (license_id, kind, draft_id, case_number, field_key, material, \
         actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(license_id)
    .bind(u.kind)
    .bind(u.draft_id)
    .bind(u.case_number)
    .bind(u.field_key)
    .bind(u.material)
    .bind(u.actor)
    .bind(conn.now().timestamp())
    .execute(&mut **conn)
    .await?;
    Ok(())
}

/// Hours a shared link may live.
pub const SHARE_HOURS: [i64; 4] = [1, 24, 72, 168];

/// Makes a time-limited link that shows the license's check and its data
/// (holder ID masked). Returns the token (only its hash is stored).
pub async fn share(
    db: &Db,
    citizen: &Citizen,
    number: &str,
    hours: i64,
) -> Result<String, DomainError> {
    if !SHARE_HOURS.contains(&hours) {
        return Err(invalid("hours", "invalid_choice", hours.to_string()));
    }
    let lic = own(db, citizen, number).await?;
    let token = crate::identity::staff::random_token();
    let now = db.now().timestamp();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO license_shares (token_hash, license_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(crate::identity::staff::token_hash(&token))
    .bind(lic.id)
    .bind(now)
    .bind(now + hours * 3600)
    .execute(&mut *tx)
    .await?;
    let actor = citizen.label();
    let u = UseRecord {
        kind: "share",
        actor: &actor,
        ..Default::default()
    };
    record_use(&mut tx, lic.id, u).await?;
    tx.commit().await?;
    Ok(token)
}

/// A live share of the person's license.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Share {
    pub token_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub views: i64,
}

pub async fn shares(db: &Db, license_id: i64) -> Result<Vec<Share>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT token_hash, created_at, expires_at, views FROM license_shares \
         WHERE license_id = $1 AND revoked = 0 AND expires_at > $2 ORDER BY created_at DESC",
    )
    .bind(license_id)
    .bind(db.now().timestamp())
    .fetch_all(db.pool())
    .await?)
}

/// Ends a shared link before its time.
pub async fn unshare(
    db: &Db,
    citizen: &Citizen,
    number: &str,
    token_hash: &str,
) -> Result<(), DomainError> {
    let lic = own(db, citizen, number).await?;
    sqlx::query("UPDATE license_shares SET revoked = 1 WHERE token_hash = $1 AND license_id = $2")
        .bind(token_hash)
        .bind(lic.id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// What a shared link shows: the check, and the license with the holder's
/// ID masked. None when the link is unknown, ended or expired.
pub async fn shared(
    db: &Db,
    token: &str,
    viewer_ip: &str,
) -> Result<Option<(PublicView, LicenseDoc)>, DomainError> {
    let now = db.now().timestamp();
    let id: Option<i64> = sqlx::query_scalar(
        "SELECT license_id FROM license_shares WHERE token_hash = $1 AND revoked = 0 \
         AND expires_at > $2",
    )
    .bind(crate::identity::staff::token_hash(token))
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    let Some(id) = id else { return Ok(None) };
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE l.id = $1")))
        .bind(id)
        .fetch_one(db.pool())
        .await?;
    let lic = from_row(db, &row)?;
    let view = public_view(db, &lic).await?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE license_shares SET views = views + 1 WHERE token_hash = $1")
        .bind(crate::identity::staff::token_hash(token))
        .execute(&mut *tx)
        .await?;
    let actor = format!("ip:{viewer_ip}");
    let u = UseRecord {
        kind: "share_view",
        actor: &actor,
        ..Default::default()
    };
    record_use(&mut tx, lic.id, u).await?;
    tx.commit().await?;
    let mut doc = lic.doc;
    doc.holder_id_number = doc.masked_id();
    Ok(Some((view, doc)))
}

// ------------------------------------------------------------------ 免证办

/// The person's valid licenses that can stand in for `material`.
pub async fn usable_for(
    db: &Db,
    citizen: &Citizen,
    material: &str,
) -> Result<Vec<License>, DomainError> {
    let all_types = types(db).await?;
    let wanted: Vec<&LicenseType> = all_types.iter().filter(|t| t.replaces(material)).collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for lic in wallet(db, citizen).await? {
        if wanted.iter().any(|t| t.code == lic.doc.type_code)
            && status(db, &lic).await? == Status::Valid
        {
            out.push(lic);
        }
    }
    Ok(out)
}

/// The holder authorises one license to supply a file field of their draft
/// (one click instead of an upload). Logged as a use.
pub async fn authorize(
    db: &Db,
    citizen: &Citizen,
    draft_id: i64,
    field_key: &str,
    material: &str,
    number: &str,
) -> Result<(), DomainError> {
    let lic = own(db, citizen, number).await?;
    if status(db, &lic).await? != Status::Valid
        || !types(db)
            .await?
            .iter()
            .any(|t| t.code == lic.doc.type_code && t.replaces(material))
    {
        return Err(invalid(
            "license",
            "license_not_usable",
            lic.doc.type_name.clone(),
        ));
    }
    let mut tx = db.begin().await?;
    sqlx::query(
        "DELETE FROM license_uses WHERE draft_id = $1 AND field_key = $2 AND kind = 'authorize'",
    )
    .bind(draft_id)
    .bind(field_key)
    .execute(&mut *tx)
    .await?;
    let actor = citizen.label();
    let u = UseRecord {
        kind: "authorize",
        draft_id: Some(draft_id),
        field_key,
        material,
        actor: &actor,
        ..Default::default()
    };
    record_use(&mut tx, lic.id, u).await?;
    tx.commit().await?;
    Ok(())
}

/// Takes an authorisation back (before submission).
pub async fn withdraw(db: &Db, draft_id: i64, field_key: &str) -> Result<(), DomainError> {
    sqlx::query(
        "DELETE FROM license_uses WHERE draft_id = $1 AND field_key = $2 AND kind = 'authorize' \
         AND case_number = ''",
    )
    .bind(draft_id)
    .bind(field_key)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// An authorised license in a draft or a case.
#[derive(Debug, Clone, Serialize)]
pub struct Authorised {
    pub field_key: String,
    pub material: String,
    pub license: License,
    pub status: Status,
}

/// Authorisations of a draft (by field key).
pub async fn for_draft(db: &Db, draft_id: i64) -> Result<Vec<Authorised>, DomainError> {
    authorised(db, "u.draft_id = $1", Param::Int(draft_id)).await
}

/// Authorisations a case was filed with.
pub async fn for_case(db: &Db, case_number: &str) -> Result<Vec<Authorised>, DomainError> {
    authorised(
        db,
        "u.case_number = $1",
        Param::Text(case_number.to_string()),
    )
    .await
}

enum Param {
    Int(i64),
    Text(String),
}

async fn authorised(db: &Db, cond: &str, p: Param) -> Result<Vec<Authorised>, DomainError> {
    let sql = format!(
        "SELECT u.license_id, u.field_key, u.material FROM license_uses u \
         WHERE {cond} AND u.kind = 'authorize' ORDER BY u.id"
    );
    let q = sqlx::query_as::<_, (i64, String, String)>(sqlx::AssertSqlSafe(sql));
    let q = match p {
        Param::Int(i) => q.bind(i),
        Param::Text(t) => q.bind(t),
    };
    let mut out = Vec::new();
    for (license_id, field_key, material) in q.fetch_all(db.pool()).await? {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE l.id = $1")))
            .bind(license_id)
            .fetch_one(db.pool())
            .await?;
        let license = from_row(db, &row)?;
        let status = status(db, &license).await?;
        out.push(Authorised {
            field_key,
            material,
            license,
            status,
        });
    }
    Ok(out)
}

/// At submission: the draft's authorisations move to the case.
pub async fn attach_to_case(
    conn: &mut Tx,
    draft_id: i64,
    case_number: &str,
) -> Result<(), DomainError> {
    sqlx::query(
        "UPDATE license_uses SET case_number = $2, draft_id = NULL WHERE draft_id = $1 \
         AND kind = 'authorize'",
    )
    .bind(draft_id)
    .bind(case_number)
    .execute(&mut **conn)
    .await?;
    Ok(())
}

/// Staff open the licenses a case was filed with: each view is a use the
/// holder can see, and an audit record.
pub async fn staff_view_for_case(
    db: &Db,
    staff: &StaffSession,
    case_number: &str,
) -> Result<Vec<Authorised>, DomainError> {
    let mut list = for_case(db, case_number).await?;
    if list.is_empty() {
        return Ok(list);
    }
    let full = staff.can(Perm::CitizensView);
    let mut tx = db.begin().await?;
    for a in &mut list {
        let actor = format!("staff:{}", staff.user.username);
        let u = UseRecord {
            kind: "case_view",
            case_number,
            field_key: &a.field_key,
            material: &a.material,
            actor: &actor,
            ..Default::default()
        };
        record_use(&mut tx, a.license.id, u).await?;
        if !full {
            mask_doc(&mut a.license.doc);
        }
    }
    audit::append(
        &mut tx,
        &Entry::staff(&staff.user.username, "license.case_view", case_number),
    )
    .await?;
    tx.commit().await?;
    Ok(list)
}

// ------------------------------------------------------------------ expiry (服务找人)

async fn message(
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

/// Days before expiry a holder is reminded.
pub const REMIND_DAYS: i64 = 30;

/// Reminds holders of licenses that expire within [`REMIND_DAYS`], once per
/// license, with a link to the renewal service. Returns how many.
pub async fn remind_expiring(
    db: &Db,
    today: NaiveDate,
    public_url: &str,
) -> Result<usize, DomainError> {
    let until = (today + chrono::Duration::days(REMIND_DAYS))
        .format("%Y-%m-%d")
        .to_string();
    let rows: Vec<(i64, String, String, Option<i64>, String, String)> = sqlx::query_as(
        "SELECT l.id, l.number, t.name, l.citizen_id, l.expires_on, t.renewal_service \
         FROM licenses l JOIN license_types t ON t.code = l.type_code \
         WHERE l.state = 'valid' AND l.reminded = 0 AND l.expires_on <> '' \
         AND l.expires_on >= $1 AND l.expires_on <= $2",
    )
    .bind(today.format("%Y-%m-%d").to_string())
    .bind(&until)
    .fetch_all(db.pool())
    .await?;
    let mut n = 0;
    for (id, number, type_name, citizen, expires_on, renewal) in rows {
        let mut tx = db.begin().await?;
        let claimed =
            sqlx::query("UPDATE licenses SET reminded = 1 WHERE id = $1 AND reminded = 0")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if claimed == 1
            && let Some(c) = citizen
        {
            let link = if renewal.is_empty() {
                String::new()
            } else {
                format!("在线办理换证：{public_url}/services/{renewal}")
            };
            message(
                &mut tx,
                c,
                &format!("您的{type_name}将于 {expires_on} 到期"),
                &format!("证照编号 {number}。请在到期前办理换领。{link}"),
            )
            .await?;
            n += 1;
        }
        tx.commit().await?;
    }
    Ok(n)
}
