//! What the desk and the applicant read: the workbench lists (one index
//! range each, counts capped), supervision alerts and 我的办件.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::clock::Light;
use super::repo::*;
use super::workflow::{CaseAction, CaseState, Outcome};
use crate::identity::Scope;
use crate::identity::ids::mask_name;
use crate::identity::staff::StaffSession;
use crate::{Db, DomainError};

/// Which list of the workbench.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tab {
    /// 待办: a step is due from staff.
    #[default]
    Todo,
    /// 已办: the staff member took a step on it.
    Done,
    /// 超期: past the deadline and still running.
    Overdue,
    /// Every case in scope.
    All,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub tab: Tab,
    pub state: Option<CaseState>,
    pub light: Option<Light>,
    pub service: String,
    /// Case number, applicant name or item name.
    pub q: String,
    pub page: u32,
}

pub const PAGE_SIZE: i64 = 50;

/// Adds a bound value and returns its placeholder.
fn bind(v: String, binds: &mut Vec<String>) -> String {
    binds.push(v);
    format!("${}", binds.len())
}

fn in_list(states: impl Iterator<Item = CaseState>) -> String {
    states
        .map(|s| format!("'{}'", s.slug()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Lists count at most this many rows; beyond it the page says "more than".
pub const COUNT_CAP: i64 = 10_000;

/// A page of the workbench.
#[derive(Debug, Clone, Default)]
pub struct CaseList {
    pub rows: Vec<CaseRow>,
    /// Matching cases, counted up to [`COUNT_CAP`].
    pub total: i64,
    /// More than [`COUNT_CAP`] cases match.
    pub capped: bool,
}

/// Whether typed text is a case number rather than a name.
fn looks_like_number(text: &str) -> bool {
    let n = normalize_number(text);
    n.len() >= 8
        && n.chars().any(|c| c.is_ascii_digit())
        && n.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The workbench list: scope, tab, filters, most urgent first. Every list
/// reads one index range (`todo`/`running` with the deadline, or the last
/// update), and counting stops at [`COUNT_CAP`], so a page costs the same
/// over a thousand cases or a million.
pub async fn list(
    db: &Db,
    staff: &StaffSession,
    q: &ListQuery,
    today: NaiveDate,
) -> Result<CaseList, DomainError> {
    let mut wheres: Vec<String> = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    // Every state name below comes from the closed vocabulary, not input.
    let paused = in_list(CaseState::ALL.iter().copied().filter(|s| s.paused()));
    match &staff.scope {
        Scope::All => {}
        Scope::Units(ids) => {
            let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
            wheres.push(format!("c.department_id IN ({})", ids.join(", ")));
        }
    }
    let today_s = day_text(today);
    match q.tab {
        Tab::Todo => wheres.push("c.todo = 1".into()),
        Tab::Done => {
            let p = bind(staff.user.username.clone(), &mut binds);
            wheres.push(format!(
                "c.id IN (SELECT e.case_id FROM case_events e WHERE e.actor = {p})"
            ));
        }
        Tab::Overdue => {
            let p = bind(today_s.clone(), &mut binds);
            wheres.push(format!("c.running = 1 AND c.due_on < {p}"));
        }
        Tab::All => {}
    }
    if let Some(s) = q.state {
        let p = bind(s.slug().to_string(), &mut binds);
        wheres.push(format!("c.state = {p}"));
    }
    match q.light {
        Some(Light::Red) => {
            let p = bind(today_s.clone(), &mut binds);
            wheres.push(format!("c.running = 1 AND c.due_on < {p}"));
        }
        Some(Light::Yellow) => {
            let p = bind(today_s.clone(), &mut binds);
            wheres.push(format!(
                "c.running = 1 AND c.due_on >= {p} AND c.yellow_on <= {p}"
            ));
        }
        Some(Light::Green) => {
            let p = bind(today_s.clone(), &mut binds);
            wheres.push(format!(
                "c.running = 1 AND c.due_on >= {p} AND c.yellow_on > {p}"
            ));
        }
        Some(Light::Paused) => wheres.push(format!("c.state IN ({paused})")),
        Some(Light::Off) => wheres.push(format!("c.running = 0 AND c.state NOT IN ({paused})")),
        None => {}
    }
    if !q.service.trim().is_empty() {
        let p = bind(q.service.trim().to_string(), &mut binds);
        wheres.push(format!("c.service_code = {p}"));
    }
    let text = q.q.trim();
    if !text.is_empty() {
        // A mobile number first: eleven digits also look like a number.
        if let Some(phone) = crate::pii::normalise_phone(text) {
            // The phone is encrypted; its blind index matches exactly.
            let ix = crate::pii::index(db, crate::pii::ctx::CASE_PHONE, &phone)?;
            let p = bind(ix, &mut binds);
            wheres.push(format!("c.applicant_phone_bidx = {p}"));
        } else if looks_like_number(text) {
            let p = bind(normalize_number(text), &mut binds);
            wheres.push(format!("c.number = {p}"));
        } else {
            let p = bind(text.to_string(), &mut binds);
            wheres.push(format!("c.applicant_name = {p}"));
        }
    }
    let filter = if wheres.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", wheres.join(" AND "))
    };
    let by_deadline = matches!(q.tab, Tab::Todo | Tab::Overdue)
        || matches!(q.light, Some(Light::Red | Light::Yellow | Light::Green));
    let order = if by_deadline {
        "c.due_on, c.yellow_on, c.id"
    } else {
        "c.updated_at DESC, c.id DESC"
    };
    let count_sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM cases c{filter} LIMIT {}) AS capped",
        COUNT_CAP + 1
    );
    let mut count = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql));
    for b in &binds {
        count = count.bind(b.clone());
    }
    let counted: i64 = count.fetch_one(db.pool()).await?;
    let sql = format!(
        "SELECT c.id, c.number, c.service_name, d.name AS department_name, c.applicant_name, \
         c.state, c.outcome, c.submitted_at, c.due_on, c.yellow_on FROM cases c \
         JOIN departments d ON d.id = c.department_id{filter} ORDER BY {order} \
         LIMIT {PAGE_SIZE} OFFSET {}",
        i64::from(q.page) * PAGE_SIZE
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in &binds {
        query = query.bind(b.clone());
    }
    let rows = query.fetch_all(db.pool()).await?;
    Ok(CaseList {
        rows: rows_to_list(&rows, today)?,
        total: counted.min(COUNT_CAP),
        capped: counted > COUNT_CAP,
    })
}

pub(super) fn rows_to_list(
    rows: &[sqlx::any::AnyRow],
    today: NaiveDate,
) -> Result<Vec<CaseRow>, DomainError> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let state: String = r.try_get("state")?;
        let Some(state) = CaseState::from_slug(&state) else {
            continue;
        };
        let due_on = date(&r.try_get::<String, _>("due_on")?).unwrap_or(today);
        let yellow_on = date(&r.try_get::<String, _>("yellow_on")?).unwrap_or(today);
        out.push(CaseRow {
            id: r.try_get("id")?,
            number: r.try_get("number")?,
            service_name: r.try_get("service_name")?,
            department_name: r.try_get("department_name")?,
            applicant_masked: mask_name(&r.try_get::<String, _>("applicant_name")?),
            state,
            outcome: Outcome::from_slug(&r.try_get::<String, _>("outcome")?),
            submitted_at: r.try_get("submitted_at")?,
            due_on,
            light: Light::of(
                state.clock_running(),
                state.paused(),
                today,
                due_on,
                yellow_on,
            ),
        });
    }
    Ok(out)
}

/// A reminder or escalation from electronic supervision, for the desk.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    pub number: String,
    pub service_name: String,
    pub action: CaseAction,
    pub at: i64,
    pub note: String,
}

/// Reminders and escalations of the last `days` days on cases in the staff
/// member's scope that are still running, newest first.
pub async fn alerts(db: &Db, staff: &StaffSession, days: i64) -> Result<Vec<Alert>, DomainError> {
    let scope = match &staff.scope {
        Scope::All => String::new(),
        Scope::Units(ids) => format!(
            " AND c.department_id IN ({})",
            ids.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let sql = format!(
        "SELECT c.number, c.service_name, e.action, e.at, e.note FROM case_events e \
         JOIN cases c ON c.id = e.case_id WHERE e.actor = 'system' AND e.at >= $1 \
         AND c.running = 1{scope} ORDER BY e.at DESC, e.id DESC LIMIT 50"
    );
    let rows: Vec<(String, String, String, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(db.now().timestamp() - days * 86_400)
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(number, service_name, action, at, note)| {
            Some(Alert {
                action: CaseAction::from_slug(&action)?,
                number,
                service_name,
                at,
                note,
            })
        })
        .collect())
}

/// A company's cases, whoever of its agents filed them, newest first (the
/// company's 我的办件 while acting for it).
pub async fn of_company(
    db: &Db,
    company_id: i64,
    today: NaiveDate,
) -> Result<Vec<CaseRow>, DomainError> {
    applicant_list(db, "c.company_id = $1", company_id, today).await
}

/// 我的办件: the applicant's own cases (not those filed for a company,
/// which are the company's), newest first.
pub async fn of_citizen(
    db: &Db,
    citizen_id: i64,
    today: NaiveDate,
) -> Result<Vec<CaseRow>, DomainError> {
    applicant_list(
        db,
        "c.citizen_id = $1 AND c.company_id IS NULL",
        citizen_id,
        today,
    )
    .await
}

/// Every case the person filed, for themselves or for a company (their
/// personal-data export).
pub async fn filed_by(
    db: &Db,
    citizen_id: i64,
    today: NaiveDate,
) -> Result<Vec<CaseRow>, DomainError> {
    applicant_list(db, "c.citizen_id = $1", citizen_id, today).await
}

async fn applicant_list(
    db: &Db,
    cond: &str,
    id: i64,
    today: NaiveDate,
) -> Result<Vec<CaseRow>, DomainError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT c.id, c.number, c.service_name, d.name AS department_name, c.applicant_name, \
         c.state, c.outcome, c.submitted_at, c.due_on, c.yellow_on FROM cases c \
         JOIN departments d ON d.id = c.department_id WHERE {cond} \
         ORDER BY c.submitted_at DESC, c.id DESC LIMIT 500"
    )))
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    rows_to_list(&rows, today)
}
