//! 服务找人 / 为您推荐: services that fit a person, each with the reason it
//! was shown, from rules staff edit as data — a license about to expire,
//! an age (with sex, from the 身份证号), acting for a company in certain
//! months (企业年报), or a past case some years ago (出生登记 five years ago:
//! primary school next). A person may turn recommendations off.
//!
//! Policies are pushed the same way (精准推送): each recommended service
//! brings the policies in force that govern it, and the policies governing
//! what the person applied for in the last two years are listed with that
//! reason. Which policy governs which service is data too: editors link
//! them on the policy in the CMS.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Entry};
use crate::identity::Perm;
use crate::identity::citizen::Citizen;
use crate::identity::staff::StaffSession;
use crate::{Db, DomainError, FieldError};

/// What a rule looks at, with its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// A valid license of `license_type` expiring within `days`.
    LicenseExpiring { license_type: String, days: i64 },
    /// Aged `min`–`max` this year; `sex` 男 or 女, or empty for both.
    Age { min: i32, max: i32, sex: String },
    /// Acting for a company, in months `from_month`–`to_month`.
    CompanyAgent { from_month: u32, to_month: u32 },
    /// A case of `service` concluded `min_years`–`max_years` ago.
    CaseYears {
        service: String,
        min_years: i64,
        max_years: i64,
    },
}

impl Rule {
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::LicenseExpiring { .. } => "license_expiring",
            Rule::Age { .. } => "age",
            Rule::CompanyAgent { .. } => "company_agent",
            Rule::CaseYears { .. } => "case_years",
        }
    }
}

/// A stored rule.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub rule: Rule,
    pub service_code: String,
    /// Shown to the person; `{证照}`, `{日期}`, `{年龄}`, `{企业}`, `{事项}`, `{年份}` are filled in.
    pub reason: String,
    pub active: bool,
}

/// One recommendation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recommendation {
    pub service_code: String,
    pub service_name: String,
    pub reason: String,
    pub rule: String,
    /// Policies in force that govern the service.
    pub policies: Vec<PolicyLink>,
}

/// A policy document to read (its page is `/articles/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyLink {
    pub id: i64,
    pub title: String,
}

/// A policy pushed to the person because of something they applied for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyPush {
    pub policy: PolicyLink,
    /// The service they applied for, and the year they did.
    pub service_name: String,
    pub year: i32,
}

/// Policies pushed at most.
pub const MAX_POLICIES: usize = 5;

/// The live policy documents in force, each with the services it governs.
async fn policies_in_force(db: &Db) -> Result<Vec<(PolicyLink, Vec<String>)>, DomainError> {
    Ok(
        crate::content::reading::live_of_kind(db, crate::content::ArticleKind::Policy)
            .await?
            .into_iter()
            .filter(|p| p.fields.validity.is_empty() || p.fields.validity == "valid")
            .map(|p| {
                (
                    PolicyLink {
                        id: p.id,
                        title: p.title,
                    },
                    p.fields.services,
                )
            })
            .collect(),
    )
}

fn governing(policies: &[(PolicyLink, Vec<String>)], code: &str) -> Vec<PolicyLink> {
    policies
        .iter()
        .filter(|(_, services)| services.iter().any(|s| s == code))
        .map(|(p, _)| p.clone())
        .take(3)
        .collect()
}

/// Policies governing what the person applied for in the last two years,
/// newest application first, none already shown with `shown`; none when
/// they turned recommendations off.
pub async fn policies_for(
    db: &Db,
    citizen: &Citizen,
    shown: &[Recommendation],
) -> Result<Vec<PolicyPush>, DomainError> {
    if is_off(db, citizen).await? {
        return Ok(Vec::new());
    }
    let since = db.now().timestamp() - 730 * 86_400;
    let applied: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT service_code, service_name, submitted_at FROM cases \
         WHERE citizen_id = $1 AND submitted_at >= $2 ORDER BY submitted_at DESC, id DESC LIMIT 50",
    )
    .bind(citizen.id)
    .bind(since)
    .fetch_all(db.pool())
    .await?;
    if applied.is_empty() {
        return Ok(Vec::new());
    }
    let policies = policies_in_force(db).await?;
    let mut out: Vec<PolicyPush> = Vec::new();
    for (code, name, at) in applied {
        for p in governing(&policies, &code) {
            let seen = out.iter().any(|o| o.policy.id == p.id)
                || shown
                    .iter()
                    .any(|r| r.policies.iter().any(|q| q.id == p.id));
            if !seen && out.len() < MAX_POLICIES {
                out.push(PolicyPush {
                    policy: p,
                    service_name: name.clone(),
                    year: crate::time::local_day(at).year(),
                });
            }
        }
    }
    Ok(out)
}

/// What staff type into the rule form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RuleInput {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub license_type: String,
    #[serde(default)]
    pub days: String,
    #[serde(default)]
    pub min: String,
    #[serde(default)]
    pub max: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub from_month: String,
    #[serde(default)]
    pub to_month: String,
    #[serde(default)]
    pub case_service: String,
    #[serde(default)]
    pub service_code: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub active: String,
}

/// A rule as checked, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRule {
    pub rule: Rule,
    pub code: String,
    pub name: String,
    pub service: String,
    pub reason: String,
    pub active: bool,
}

impl RuleInput {
    /// Checks the input: every field the kind needs, in range.
    pub fn parse(&self) -> Result<CheckedRule, Vec<FieldError>> {
        let mut errs = Vec::new();
        let num =
            |v: &str, field: &'static str, lo: i64, hi: i64, errs: &mut Vec<FieldError>| match v
                .trim()
                .parse::<i64>()
            {
                Ok(n) if (lo..=hi).contains(&n) => n,
                _ => {
                    errs.push(FieldError::new(field, "invalid", v.trim().to_string()));
                    0
                }
            };
        let rule = match self.kind.as_str() {
            "license_expiring" => {
                if self.license_type.trim().is_empty() {
                    errs.push(FieldError::new("license_type", "required", ""));
                }
                Rule::LicenseExpiring {
                    license_type: self.license_type.trim().to_string(),
                    days: num(&self.days, "rule_days", 1, 366, &mut errs),
                }
            }
            "age" => {
                let min = num(&self.min, "min", 0, 120, &mut errs);
                let max = num(&self.max, "max", 0, 120, &mut errs);
                if max < min {
                    errs.push(FieldError::new("max", "invalid", self.max.clone()));
                }
                Rule::Age {
                    min: i32::try_from(min).unwrap_or(0),
                    max: i32::try_from(max).unwrap_or(0),
                    sex: match self.sex.trim() {
                        s @ ("男" | "女") => s.to_string(),
                        _ => String::new(),
                    },
                }
            }
            "company_agent" => {
                let from = num(&self.from_month, "from_month", 1, 12, &mut errs);
                let to = num(&self.to_month, "to_month", 1, 12, &mut errs);
                Rule::CompanyAgent {
                    from_month: u32::try_from(from).unwrap_or(1),
                    to_month: u32::try_from(to).unwrap_or(12),
                }
            }
            "case_years" => {
                if self.case_service.trim().is_empty() {
                    errs.push(FieldError::new("case_service", "required", ""));
                }
                let min = num(&self.min, "min", 0, 100, &mut errs);
                let max = num(&self.max, "max", 0, 100, &mut errs);
                Rule::CaseYears {
                    service: self.case_service.trim().to_string(),
                    min_years: min,
                    max_years: max.max(min),
                }
            }
            _ => {
                errs.push(FieldError::new("rule_kind", "required", ""));
                Rule::Age {
                    min: 0,
                    max: 0,
                    sex: String::new(),
                }
            }
        };
        let code = self.code.trim().to_string();
        if code.is_empty()
            || !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            errs.push(FieldError::new("rule_code", "invalid", code.clone()));
        }
        let name = self.name.trim().to_string();
        if name.is_empty() {
            errs.push(FieldError::new("rule_name", "required", ""));
        }
        let reason = self.reason.trim().to_string();
        if reason.is_empty() {
            errs.push(FieldError::new("reason", "required", ""));
        }
        let service = self.service_code.trim().to_string();
        if service.is_empty() {
            errs.push(FieldError::new("rule_service", "required", ""));
        }
        if errs.is_empty() {
            Ok(CheckedRule {
                rule,
                code,
                name,
                service,
                reason,
                active: self.active == "1",
            })
        } else {
            Err(errs)
        }
    }
}

/// Every rule, active or not.
pub async fn rules(db: &Db) -> Result<Vec<RuleRow>, DomainError> {
    let rows: Vec<(i64, String, String, String, String, String, i64)> = sqlx::query_as(
        "SELECT id, code, name, params, service_code, reason, active FROM recommend_rules ORDER BY id",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, code, name, params, service_code, reason, active)| {
            Some(RuleRow {
                id,
                code,
                name,
                rule: serde_json::from_str(&params).ok()?,
                service_code,
                reason,
                active: active != 0,
            })
        })
        .collect())
}

/// Saves a rule (new, or the one with the same code); city-level catalog
/// editors only, since a rule reaches everyone. Audited.
pub async fn save(db: &Db, staff: &StaffSession, input: &RuleInput) -> Result<(), DomainError> {
    if !staff.can(Perm::CatalogEdit) || !matches!(staff.scope, crate::identity::Scope::All) {
        return Err(crate::Conflict::NotAllowed.into());
    }
    let CheckedRule {
        rule,
        code,
        name,
        service,
        reason,
        active,
    } = input.parse().map_err(DomainError::Invalid)?;
    let known: Option<String> =
        sqlx::query_scalar("SELECT code FROM services WHERE code = $1 AND status = 'published'")
            .bind(&service)
            .fetch_optional(db.pool())
            .await?;
    if known.is_none() {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "rule_service",
            "unknown",
            service,
        )]));
    }
    let params = serde_json::to_string(&rule).map_err(|_| DomainError::Internal("rule"))?;
    let now = db.now().timestamp();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO recommend_rules (code, name, kind, params, service_code, reason, active, \
         updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
         params = excluded.params, service_code = excluded.service_code, reason = excluded.reason, \
         active = excluded.active, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(&code)
    .bind(&name)
    .bind(rule.kind())
    .bind(&params)
    .bind(&service)
    .bind(&reason)
    .bind(i64::from(active))
    .bind(&staff.user.username)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &Entry::staff(&staff.user.username, "recommend.save", &code),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A person turns recommendations on or off.
pub async fn set_off(db: &Db, citizen: &Citizen, off: bool) -> Result<(), DomainError> {
    sqlx::query("UPDATE citizens SET recommend_off = $1 WHERE id = $2")
        .bind(i64::from(off))
        .bind(citizen.id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Whether a person turned recommendations off.
pub async fn is_off(db: &Db, citizen: &Citizen) -> Result<bool, DomainError> {
    let off: i64 = sqlx::query_scalar("SELECT recommend_off FROM citizens WHERE id = $1")
        .bind(citizen.id)
        .fetch_one(db.pool())
        .await?;
    Ok(off != 0)
}

fn fill(template: &str, pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .fold(template.to_string(), |t, (k, v)| t.replace(k, v))
}

/// What fits `citizen` on `today`, one per service, never a service they
/// have an unfinished case of; none when they turned recommendations off.
pub async fn for_citizen(
    db: &Db,
    citizen: &Citizen,
    today: NaiveDate,
) -> Result<Vec<Recommendation>, DomainError> {
    if is_off(db, citizen).await? {
        return Ok(Vec::new());
    }
    let open: Vec<String> = sqlx::query_scalar(
        "SELECT service_code FROM cases WHERE citizen_id = $1 AND state NOT IN \
         ('concluded', 'delivered', 'not_accepted', 'withdrawn', 'halted')",
    )
    .bind(citizen.id)
    .fetch_all(db.pool())
    .await?;
    let mut out: Vec<Recommendation> = Vec::new();
    let policies = policies_in_force(db).await?;
    for r in rules(db).await?.into_iter().filter(|r| r.active) {
        if open.contains(&r.service_code) || out.iter().any(|o| o.service_code == r.service_code) {
            continue;
        }
        let Some(filled) = matches(db, citizen, today, &r).await? else {
            continue;
        };
        let name: Option<String> = sqlx::query_scalar(
            "SELECT name FROM services WHERE code = $1 AND status = 'published'",
        )
        .bind(&r.service_code)
        .fetch_optional(db.pool())
        .await?;
        if let Some(service_name) = name {
            out.push(Recommendation {
                service_code: r.service_code.clone(),
                service_name,
                reason: fill(&r.reason, &filled),
                rule: r.code.clone(),
                policies: governing(&policies, &r.service_code),
            });
        }
    }
    Ok(out)
}

/// The placeholders of a rule that fits, or `None`.
async fn matches(
    db: &Db,
    c: &Citizen,
    today: NaiveDate,
    r: &RuleRow,
) -> Result<Option<Vec<(&'static str, String)>>, DomainError> {
    Ok(match &r.rule {
        Rule::LicenseExpiring { license_type, days } => {
            let row: Option<(String, String)> = sqlx::query_as(
                "SELECT t.name, l.expires_on FROM licenses l JOIN license_types t ON t.code = l.type_code \
                 WHERE l.citizen_id = $1 AND l.type_code = $2 AND l.state = 'valid' \
                 AND l.expires_on <> '' AND l.expires_on >= $3 AND l.expires_on <= $4 \
                 ORDER BY l.expires_on LIMIT 1",
            )
            .bind(c.id)
            .bind(license_type)
            .bind(today.to_string())
            .bind((today + Duration::days(*days)).to_string())
            .fetch_optional(db.pool())
            .await?;
            row.map(|(name, on)| vec![("{证照}", name), ("{日期}", on)])
        }
        Rule::Age { min, max, sex } => {
            let age = crate::forms::age_on(&c.id_number, today);
            let person_sex = c
                .id_number
                .chars()
                .nth(16)
                .and_then(|d| d.to_digit(10))
                .map(|d| if d % 2 == 1 { "男" } else { "女" });
            match age {
                Some(a)
                    if (*min..=*max).contains(&a)
                        && (sex.is_empty() || person_sex == Some(sex.as_str())) =>
                {
                    Some(vec![("{年龄}", a.to_string())])
                }
                _ => None,
            }
        }
        Rule::CompanyAgent {
            from_month,
            to_month,
        } => {
            if !(*from_month..=*to_month).contains(&today.month()) {
                None
            } else if let Some(acting) = &c.acting {
                // Acting for a company: that company.
                Some(vec![("{企业}", acting.name.clone())])
            } else {
                crate::identity::company::memberships(db, c.id)
                    .await?
                    .into_iter()
                    .next()
                    .map(|m| vec![("{企业}", m.company.name)])
            }
        }
        Rule::CaseYears {
            service,
            min_years,
            max_years,
        } => {
            let from = crate::time::day_start(today - Duration::days(366 * max_years + 1));
            let to =
                crate::time::day_start(today - Duration::days(365 * min_years) + Duration::days(1));
            let row: Option<(String, i64)> = sqlx::query_as(
                "SELECT service_name, concluded_at FROM cases WHERE citizen_id = $1 \
                 AND service_code = $2 AND concluded_at >= $3 AND concluded_at < $4 \
                 ORDER BY concluded_at DESC LIMIT 1",
            )
            .bind(c.id)
            .bind(service)
            .bind(from)
            .bind(to)
            .fetch_optional(db.pool())
            .await?;
            row.map(|(name, at)| {
                vec![
                    ("{事项}", name),
                    ("{年份}", crate::time::local_day(at).year().to_string()),
                ]
            })
        }
    })
}

/// The demo rules (演示数据), loaded once.
pub async fn load_demo(db: &Db) -> Result<usize, DomainError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recommend_rules")
        .fetch_one(db.pool())
        .await?;
    if n > 0 {
        return Ok(0);
    }
    let demo: Vec<(&str, &str, Rule, &str, &str)> = vec![
        (
            "id-card-expiring",
            "身份证到期换领",
            Rule::LicenseExpiring {
                license_type: "id_card".into(),
                days: 90,
            },
            "500000-GA-HZ-0001-02",
            "您的{证照}将于 {日期} 到期，可提前办理换领。",
        ),
        (
            "driving-licence-expiring",
            "驾驶证到期换证",
            Rule::LicenseExpiring {
                license_type: "driving_licence".into(),
                days: 90,
            },
            "500000-GA-JXJ-0002-01",
            "您的{证照}将于 {日期} 到期，请在有效期满前 90 日内申请换证。",
        ),
        (
            "retirement-men",
            "退休待遇申领（男）",
            Rule::Age {
                min: 60,
                max: 63,
                sex: "男".into(),
            },
            "500000-RS-0004-01",
            "您今年 {年龄} 岁，已到或临近法定退休年龄，可了解基本养老保险待遇申领。",
        ),
        (
            "retirement-women",
            "退休待遇申领（女）",
            Rule::Age {
                min: 50,
                max: 58,
                sex: "女".into(),
            },
            "500000-RS-0004-01",
            "您今年 {年龄} 岁，已到或临近法定退休年龄，可了解基本养老保险待遇申领。",
        ),
        (
            "primary-school",
            "小学入学",
            Rule::CaseYears {
                service: "500000-GA-HZ-0004-01".into(),
                min_years: 5,
                max_years: 6,
            },
            "500000-JW-0001-01",
            "您于 {年份} 年办理了“{事项}”，孩子即将满六岁，可准备小学一年级入学登记。",
        ),
        (
            "annual-report",
            "个体工商户年报",
            Rule::CompanyAgent {
                from_month: 1,
                to_month: 6,
            },
            "500103-SJ-0001-02",
            "您是“{企业}”的经办人，每年 1 月 1 日至 6 月 30 日报送上一年度年度报告。",
        ),
    ];
    let now = db.now().timestamp();
    let mut loaded = 0;
    for (code, name, rule, service, reason) in demo {
        sqlx::query(
            "INSERT INTO recommend_rules (code, name, kind, params, service_code, reason, \
             active, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, 'demo', $7)",
        )
        .bind(code)
        .bind(format!("{name}（演示数据）"))
        .bind(rule.kind())
        .bind(serde_json::to_string(&rule).map_err(|_| DomainError::Internal("rule"))?)
        .bind(service)
        .bind(reason)
        .bind(now)
        .execute(db.pool())
        .await?;
        loaded += 1;
    }
    Ok(loaded)
}
