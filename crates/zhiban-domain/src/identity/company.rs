//! Company (法人) accounts: a company is registered by its legal
//! representative (a real-name verified citizen), identified by its
//! 统一社会信用代码, and acts through agents (经办人) the representative
//! authorises and can revoke at any time.

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

use super::citizen::Citizen;
use super::ids::{Phone, Uscc, mask_name, mask_phone};
use crate::audit::{self, Entry};
use crate::{Db, DomainError, FieldError};

pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Result<bool, DomainError>> + Send + 'a>>;

/// Checks that a code, a company name and a legal representative belong
/// together (the market-regulation register, through a licensed provider).
pub trait CompanyVerifier: Send + Sync {
    fn name(&self) -> &'static str;
    fn verify<'a>(&'a self, uscc: &'a Uscc, name: &'a str, legal_rep: &'a str) -> CheckFuture<'a>;
}

/// 开发环境核验: no register can be reached from here, so this stand-in
/// accepts any code with a valid check character and a non-empty name.
#[derive(Debug, Default)]
pub struct DevCompanyVerifier;

impl CompanyVerifier for DevCompanyVerifier {
    fn name(&self) -> &'static str {
        "dev-format-only"
    }

    fn verify<'a>(&'a self, _uscc: &'a Uscc, name: &'a str, legal_rep: &'a str) -> CheckFuture<'a> {
        Box::pin(async move { Ok(!name.trim().is_empty() && !legal_rep.trim().is_empty()) })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Company {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub legal_rep_id: i64,
    pub created_at: i64,
}

/// A company a person may act for, and in which capacity.
#[derive(Debug, Clone, Serialize)]
pub struct Membership {
    pub company: Company,
    pub legal_rep: bool,
}

fn invalid(field: &'static str, code: &'static str) -> DomainError {
    DomainError::Invalid(vec![FieldError::new(field, code, "")])
}

/// Registers a company with the signed-in person as its legal representative.
pub async fn register(
    db: &Db,
    verifier: &dyn CompanyVerifier,
    rep: &Citizen,
    uscc: &str,
    name: &str,
) -> Result<Company, DomainError> {
    if rep.level < 2 {
        return Err(invalid("uscc", "needs_realname"));
    }
    let uscc = Uscc::parse(uscc).map_err(|e| DomainError::Invalid(vec![e]))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("company_name", "required"));
    }
    if !verifier.verify(&uscc, name, &rep.name).await? {
        return Err(invalid("uscc", "company_mismatch"));
    }
    // A 营业执照 this portal holds for the code must name this person as
    // the legal representative (whatever the verifier said).
    for lic in crate::licenses::of_company(db, uscc.as_str()).await? {
        if !lic.revoked && !crate::licenses::names_representative(&lic, &rep.name) {
            audit::record(
                db,
                Entry::citizen(&rep.label(), "company.register", uscc.as_str())
                    .detail(format!("legal_rep_mismatch {}", lic.doc.number))
                    .refused(),
            )
            .await?;
            return Err(invalid("uscc", "legal_rep_mismatch"));
        }
    }
    let mut tx = db.begin().await?;
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM companies WHERE uscc = $1")
        .bind(uscc.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(invalid("uscc", "uscc_registered"));
    }
    let company: Company = sqlx::query_as(
        "INSERT INTO companies (uscc, name, legal_rep_id, created_at) VALUES ($1, $2, $3, $4) \
         RETURNING id, uscc, name, legal_rep_id, created_at",
    )
    .bind(uscc.as_str())
    .bind(name)
    .bind(rep.id)
    .bind(db.now().timestamp())
    .fetch_one(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &Entry::citizen(&rep.label(), "company.register", uscc.as_str())
            .detail(format!("{name} via {}", verifier.name())),
    )
    .await?;
    tx.commit().await?;
    Ok(company)
}

/// Companies this person represents or acts for (revoked agents excluded).
pub async fn memberships(db: &Db, citizen_id: i64) -> Result<Vec<Membership>, DomainError> {
    let reps: Vec<Company> = sqlx::query_as(
        "SELECT id, uscc, name, legal_rep_id, created_at FROM companies WHERE legal_rep_id = $1 ORDER BY id",
    )
    .bind(citizen_id)
    .fetch_all(db.pool())
    .await?;
    let agent_of: Vec<Company> = sqlx::query_as(
        "SELECT c.id, c.uscc, c.name, c.legal_rep_id, c.created_at FROM companies c \
         JOIN company_agents a ON a.company_id = c.id \
         WHERE a.citizen_id = $1 AND a.revoked_at IS NULL ORDER BY c.id",
    )
    .bind(citizen_id)
    .fetch_all(db.pool())
    .await?;
    Ok(reps
        .into_iter()
        .map(|company| Membership {
            company,
            legal_rep: true,
        })
        .chain(agent_of.into_iter().map(|company| Membership {
            company,
            legal_rep: false,
        }))
        .collect())
}

/// An agent as the legal representative sees them (masked).
#[derive(Debug, Clone, Serialize)]
pub struct Agent {
    pub citizen_id: i64,
    pub phone: String,
    pub name: String,
    pub granted_at: i64,
    pub revoked_at: Option<i64>,
}

async fn own_company(db: &Db, rep: &Citizen, company_id: i64) -> Result<Company, DomainError> {
    let c: Option<Company> = sqlx::query_as(
        "SELECT id, uscc, name, legal_rep_id, created_at FROM companies WHERE id = $1",
    )
    .bind(company_id)
    .fetch_optional(db.pool())
    .await?;
    match c {
        Some(c) if c.legal_rep_id == rep.id => Ok(c),
        _ => Err(DomainError::NotFound),
    }
}

pub async fn agents(db: &Db, rep: &Citizen, company_id: i64) -> Result<Vec<Agent>, DomainError> {
    own_company(db, rep, company_id).await?;
    let rows: Vec<(i64, String, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT a.citizen_id, p.phone, p.name, a.granted_at, a.revoked_at FROM company_agents a \
         JOIN citizens p ON p.id = a.citizen_id WHERE a.company_id = $1 ORDER BY a.granted_at",
    )
    .bind(company_id)
    .fetch_all(db.pool())
    .await?;
    rows.into_iter()
        .map(|(citizen_id, phone, name, granted_at, revoked_at)| {
            Ok(Agent {
                citizen_id,
                phone: mask_phone(&crate::pii::open(
                    db,
                    crate::pii::ctx::CITIZEN_PHONE,
                    &phone,
                )?),
                name: mask_name(&name),
                granted_at,
                revoked_at,
            })
        })
        .collect()
}

/// Authorises a real-name verified person (by phone) to act for the company.
pub async fn add_agent(
    db: &Db,
    rep: &Citizen,
    company_id: i64,
    phone: &str,
) -> Result<(), DomainError> {
    let company = own_company(db, rep, company_id).await?;
    let phone = Phone::parse(phone).map_err(|e| DomainError::Invalid(vec![e]))?;
    let who: Option<(i64, i64)> =
        sqlx::query_as("SELECT id, level FROM citizens WHERE phone_bidx = $1")
            .bind(super::citizen::phone_key(db, &phone)?)
            .fetch_optional(db.pool())
            .await?;
    let Some((agent_id, _)) = who.filter(|(_, level)| *level >= 2) else {
        return Err(invalid("agent_phone", "agent_not_verified"));
    };
    if agent_id == rep.id {
        return Err(invalid("agent_phone", "agent_is_rep"));
    }
    let now = db.now().timestamp();
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM company_agents WHERE company_id = $1 AND citizen_id = $2")
        .bind(company.id)
        .bind(agent_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO company_agents (company_id, citizen_id, granted_at) VALUES ($1, $2, $3)",
    )
    .bind(company.id)
    .bind(agent_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &Entry::citizen(&rep.label(), "company.agent_grant", &company.uscc).detail(phone.masked()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn revoke_agent(
    db: &Db,
    rep: &Citizen,
    company_id: i64,
    agent_id: i64,
) -> Result<(), DomainError> {
    let company = own_company(db, rep, company_id).await?;
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "UPDATE company_agents SET revoked_at = $3 WHERE company_id = $1 AND citizen_id = $2 AND revoked_at IS NULL",
    )
    .bind(company.id)
    .bind(agent_id)
    .bind(db.now().timestamp())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(DomainError::NotFound);
    }
    audit::append(
        &mut tx,
        &Entry::citizen(&rep.label(), "company.agent_revoke", &company.uscc)
            .detail(format!("citizen:{agent_id}")),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A company by its id.
pub async fn by_id(db: &Db, id: i64) -> Result<Option<Company>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT id, uscc, name, legal_rep_id, created_at FROM companies WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

/// The company `company_id` if the person may act for it: its legal
/// representative, or an agent whose authorisation stands.
pub async fn member_company(
    db: &Db,
    citizen_id: i64,
    company_id: i64,
) -> Result<Option<Company>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT c.id, c.uscc, c.name, c.legal_rep_id, c.created_at FROM companies c \
         WHERE c.id = $1 AND (c.legal_rep_id = $2 OR EXISTS (SELECT 1 FROM company_agents a \
         WHERE a.company_id = c.id AND a.citizen_id = $2 AND a.revoked_at IS NULL))",
    )
    .bind(company_id)
    .bind(citizen_id)
    .fetch_optional(db.pool())
    .await?)
}

/// Switches the signed-in session to act for a company the person may act
/// for (以企业身份办事), or back to the person (`None`). Audited.
pub async fn act_as(
    db: &Db,
    session_token: &str,
    citizen: &Citizen,
    company_id: Option<i64>,
) -> Result<Option<Company>, DomainError> {
    let company = match company_id {
        Some(id) => Some(
            member_company(db, citizen.id, id)
                .await?
                .ok_or(DomainError::NotFound)?,
        ),
        None => None,
    };
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE citizen_sessions SET acting_company_id = $2 WHERE id = $1 AND citizen_id = $3",
    )
    .bind(super::staff::token_hash(session_token))
    .bind(company.as_ref().map(|c| c.id))
    .bind(citizen.id)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &Entry::citizen(&citizen.label(), "company.act_as", citizen.label()).detail(
            company
                .as_ref()
                .map_or_else(|| "self".to_string(), |c| c.uscc.clone()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(company)
}

/// Whether the person may see and act on a case of `company_id` (or, for a
/// personal case, whether it is theirs): a company's cases belong to the
/// company, so every standing agent and the representative reach them and
/// a revoked agent no longer does.
pub async fn may_reach(
    db: &Db,
    citizen: &Citizen,
    owner_citizen: Option<i64>,
    company_id: Option<i64>,
) -> Result<bool, DomainError> {
    Ok(match company_id {
        Some(c) => member_company(db, citizen.id, c).await?.is_some(),
        None => owner_citizen == Some(citizen.id),
    })
}
