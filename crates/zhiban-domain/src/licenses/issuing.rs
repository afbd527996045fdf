//! Issuing licenses: by staff, by CSV import (all lines or none), and by
//! an approved case of a producing item.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::{LicenseDoc, LicenseType};
use crate::audit::{self, Entry};
use crate::identity::Perm;
use crate::identity::citizen::Citizen;
use crate::identity::ids::{IdNumber, Uscc};
use crate::identity::scope::{audit_field_refusals, require_unit};
use crate::identity::staff::StaffSession;
use crate::pii::{self, ctx};
use crate::signing;
use crate::time::local_date;
use crate::{Db, DomainError, FieldError, Tx};

use super::repo::*;

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
/// transaction: for each person type whose `produced_by` names the case's
/// item, a license to the applicant, with fields taken from the answers of
/// the same key (or a reference to the case).
pub async fn issue_for_case(
    conn: &mut Tx,
    db: &Db,
    case: &crate::cases::Case,
    applicant: &Citizen,
) -> Result<Vec<String>, DomainError> {
    let holder = Holder {
        kind: "person",
        name: &applicant.name,
        id: &applicant.id_number,
        known: &[],
    };
    issue_produced(conn, db, case, &holder).await
}

/// The same for a case filed for a company (以企业身份办事): the company
/// types the item produces, issued to the company, its 统一社会信用代码 and
/// legal representative filled in from the register.
pub async fn issue_for_company_case(
    conn: &mut Tx,
    db: &Db,
    case: &crate::cases::Case,
    company_id: i64,
) -> Result<Vec<String>, DomainError> {
    let found: Option<(String, String, String)> = sqlx::query_as(
        "SELECT c.uscc, c.name, p.name FROM companies c JOIN citizens p ON p.id = c.legal_rep_id \
         WHERE c.id = $1",
    )
    .bind(company_id)
    .fetch_optional(&mut **conn)
    .await?;
    let Some((uscc, name, rep)) = found else {
        return Ok(Vec::new());
    };
    let known = [("uscc", uscc.as_str()), ("legal_rep", rep.as_str())];
    let holder = Holder {
        kind: "company",
        name: &name,
        id: &uscc,
        known: &known,
    };
    issue_produced(conn, db, case, &holder).await
}

/// Who a case's licenses go to.
struct Holder<'a> {
    kind: &'a str,
    name: &'a str,
    id: &'a str,
    /// Fields known from the holder's record rather than the answers.
    known: &'a [(&'a str, &'a str)],
}

async fn issue_produced(
    conn: &mut Tx,
    db: &Db,
    case: &crate::cases::Case,
    holder: &Holder<'_>,
) -> Result<Vec<String>, DomainError> {
    let mut issued = Vec::new();
    for t in types(db).await? {
        if !t.produced_by(&case.service_code) || t.holder_kind != holder.kind {
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
                let known = holder
                    .known
                    .iter()
                    .find(|(k, _)| *k == f.key)
                    .map(|(_, v)| v.to_string());
                let v = known
                    .or_else(|| {
                        case.answers
                            .get(&f.key)
                            .filter(|v| !v.trim().is_empty())
                            .cloned()
                    })
                    .unwrap_or_else(|| format!("见办件 {}", case.number));
                (f.key.clone(), v)
            })
            .collect();
        let input = IssueInput {
            type_code: t.code.clone(),
            holder_name: holder.name.to_string(),
            holder_id_number: holder.id.to_string(),
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
