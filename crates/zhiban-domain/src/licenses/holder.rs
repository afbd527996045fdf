//! The holder's side: the wallet (own and company licenses), every use,
//! shared links, 免证办 in applications, and expiry reminders.

use chrono::NaiveDate;
use serde::Serialize;

use super::{LicenseDoc, LicenseType, Status};
use crate::audit::{self, Entry};
use crate::identity::Perm;
use crate::identity::citizen::Citizen;
use crate::identity::staff::StaffSession;
use crate::pii::{self, ctx};
use crate::{Db, DomainError, Tx};

use super::repo::*;

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
    // Acting for a company: the company's licenses, and only those.
    if let Some(company) = &citizen.acting {
        return of_company(db, &company.uscc).await;
    }
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
