//! Reading requests: as staff inside their scope, as their citizen, the
//! timeline, possible duplicates and the desks' lists.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use super::repo::{
    Request, RequestEvent, SELECT, day_text, from_row, load, normalize_number, staff_sees,
};
use super::workflow::{RequestAction, RequestState, RequestType, Satisfaction};
use crate::cases::Light;
use crate::identity::Perm;
use crate::identity::scope::out_of_scope;
use crate::identity::staff::StaffSession;
use crate::{Db, DomainError};

/// A request as staff read it: the dispatcher's desk or the unit's, inside
/// their scope; outside it, audited and answered as missing.
pub async fn for_staff(
    db: &Db,
    staff: &StaffSession,
    number: &str,
) -> Result<Request, DomainError> {
    let mut conn = db.pool().acquire().await?;
    let r = load(db, &mut conn, &normalize_number(number)).await?;
    drop(conn);
    if staff_sees(staff, &r) {
        Ok(r)
    } else {
        Err(out_of_scope(db, staff, &format!("request:{}", r.number)).await)
    }
}

/// A citizen's own request.
pub async fn for_citizen(db: &Db, citizen_id: i64, number: &str) -> Result<Request, DomainError> {
    let mut conn = db.pool().acquire().await?;
    let r = load(db, &mut conn, &normalize_number(number)).await?;
    if r.citizen_id == Some(citizen_id) {
        Ok(r)
    } else {
        Err(DomainError::NotFound)
    }
}

pub async fn events(db: &Db, request_id: i64) -> Result<Vec<RequestEvent>, DomainError> {
    let rows = sqlx::query(
        "SELECT at, actor_label, action, to_state, note FROM request_events \
         WHERE request_id = $1 ORDER BY id",
    )
    .bind(request_id)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let (Some(action), Some(to_state)) = (
            RequestAction::from_slug(&r.try_get::<String, _>("action")?),
            RequestState::from_slug(&r.try_get::<String, _>("to_state")?),
        ) else {
            continue;
        };
        out.push(RequestEvent {
            at: r.try_get("at")?,
            actor_label: r.try_get("actor_label")?,
            action,
            to_state,
            note: r.try_get("note")?,
        });
    }
    Ok(out)
}

/// Character pairs of the Chinese (and alphanumeric) text, for comparing
/// two requests about the same thing written by different people.
fn pairs(text: &str) -> std::collections::HashSet<(char, char)> {
    let chars: Vec<char> = text.chars().filter(|c| c.is_alphanumeric()).collect();
    chars.windows(2).map(|w| (w[0], w[1])).collect()
}

/// How alike two texts are (Dice over character pairs, 0–1).
pub fn likeness(a: &str, b: &str) -> f64 {
    let (x, y) = (pairs(a), pairs(b));
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    2.0 * x.intersection(&y).count() as f64 / (x.len() + y.len()) as f64
}

/// Open requests that look like this one: the same district and street,
/// filed within `window_days`, still running, and about the same thing
/// (the same category or suggestion, or a fifth of the character pairs shared). Most alike
/// first.
pub async fn duplicates(
    db: &Db,
    r: &Request,
    window_days: i64,
) -> Result<Vec<Request>, DomainError> {
    let (Some(district), false) = (r.district_id, r.street.is_empty()) else {
        return Ok(Vec::new());
    };
    let topic = r.category_id.or(r.suggested_category_id);
    let since = r.submitted_at - window_days * 86_400;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE r.district_id = $1 AND r.street = $2 AND r.running = 1 AND r.id <> $3 \
         AND r.state <> 'merged' AND r.submitted_at >= $4 ORDER BY r.submitted_at DESC LIMIT 100"
    )))
    .bind(district)
    .bind(&r.street)
    .bind(r.id)
    .bind(since)
    .fetch_all(db.pool())
    .await?;
    let text = format!("{} {}", r.title, r.body);
    let mut found: Vec<(f64, Request)> = Vec::new();
    for row in &rows {
        let other = from_row(db, row)?;
        let same_topic =
            topic.is_some() && other.category_id.or(other.suggested_category_id) == topic;
        let alike = likeness(&text, &format!("{} {}", other.title, other.body));
        if same_topic || alike >= 0.2 {
            found.push((alike + if same_topic { 1.0 } else { 0.0 }, other));
        }
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    Ok(found.into_iter().take(5).map(|(_, r)| r).collect())
}

/// A row of a list.
#[derive(Debug, Clone, Serialize)]
pub struct RequestRow {
    pub number: String,
    pub kind: RequestType,
    pub title: String,
    pub district_name: String,
    pub street: String,
    pub state: RequestState,
    pub category_name: String,
    pub unit_name: String,
    pub submitted_at: i64,
    pub due_on: NaiveDate,
    pub light: Light,
    pub extension_asked: i64,
    pub satisfaction: Option<Satisfaction>,
}

impl RequestRow {
    fn of(r: Request, today: NaiveDate) -> Self {
        RequestRow {
            light: r.light(today),
            number: r.number,
            kind: r.kind,
            title: r.title,
            district_name: r.district_name,
            street: r.street,
            state: r.state,
            category_name: r.category_name,
            unit_name: r.unit_name,
            submitted_at: r.submitted_at,
            due_on: r.due_on,
            extension_asked: r.extension_asked,
            satisfaction: r.satisfaction,
        }
    }
}

/// The lists of the two desks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tab {
    /// Dispatcher: 待受理派单 (new and returned requests).
    #[default]
    Dispatch,
    /// Dispatcher: extension requests waiting.
    Extensions,
    /// Dispatcher: answered, waiting for 回访.
    Visit,
    /// Unit: dispatched, to sign.
    Sign,
    /// Unit: signed, being handled.
    Handle,
    /// Past the deadline and still running.
    Overdue,
    /// Everything in scope.
    All,
}

impl Tab {
    pub const DISPATCHER: [Tab; 5] = [
        Tab::Dispatch,
        Tab::Extensions,
        Tab::Visit,
        Tab::Overdue,
        Tab::All,
    ];
    pub const UNIT: [Tab; 4] = [Tab::Sign, Tab::Handle, Tab::Overdue, Tab::All];

    pub fn slug(self) -> &'static str {
        match self {
            Tab::Dispatch => "dispatch",
            Tab::Extensions => "extensions",
            Tab::Visit => "visit",
            Tab::Sign => "sign",
            Tab::Handle => "handle",
            Tab::Overdue => "overdue",
            Tab::All => "all",
        }
    }
}

pub const PAGE_SIZE: i64 = 50;

/// A page of a desk's list, most urgent first; `q` matches the number or
/// words of the title. Each tab reads one index range.
pub async fn list(
    db: &Db,
    staff: &StaffSession,
    tab: Tab,
    q: &str,
    page: u32,
    today: NaiveDate,
) -> Result<Vec<RequestRow>, DomainError> {
    let mut wheres: Vec<String> = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let dispatcher = staff.can(Perm::RequestsDispatch);
    let unit = staff.can(Perm::RequestsHandle);
    let ids = |col: &str| -> Option<String> {
        match &staff.scope {
            crate::identity::Scope::All => None,
            crate::identity::Scope::Units(ids) => {
                let list: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
                Some(if list.is_empty() {
                    "1 = 0".to_string()
                } else {
                    format!("{col} IN ({})", list.join(", "))
                })
            }
        }
    };
    let dispatcher_tab = matches!(tab, Tab::Dispatch | Tab::Extensions | Tab::Visit);
    let unit_tab = matches!(tab, Tab::Sign | Tab::Handle);
    if (dispatcher_tab && !dispatcher) || (unit_tab && !unit) || (!dispatcher && !unit) {
        return Ok(Vec::new());
    }
    // Dispatcher's lists cover the districts in scope; units' their units.
    let scope_sql = if dispatcher_tab || (dispatcher && !unit_tab) {
        ids("r.district_id")
    } else {
        ids("r.unit_id")
    };
    if let Some(s) = scope_sql {
        wheres.push(s);
    }
    match tab {
        Tab::Dispatch => wheres.push("r.desk = 'dispatcher' AND r.running = 1".into()),
        Tab::Extensions => wheres.push("r.extension_asked > 0".into()),
        Tab::Visit => wheres.push("r.desk = 'dispatcher' AND r.state = 'answered'".into()),
        Tab::Sign => wheres.push("r.desk = 'unit' AND r.state = 'dispatched'".into()),
        Tab::Handle => wheres.push("r.desk = 'unit' AND r.state = 'handling'".into()),
        Tab::Overdue => {
            binds.push(day_text(today));
            wheres.push(format!("r.running = 1 AND r.due_on < ${}", binds.len()));
        }
        Tab::All => {}
    }
    let q = q.trim();
    if !q.is_empty() {
        let n = normalize_number(q);
        // A request number (letters and digits, some digits): one index
        // lookup; anything else searches titles and streets.
        if n.len() >= 8
            && n.chars().any(|c| c.is_ascii_digit())
            && n.len()
                == q.chars()
                    .filter(|c| !c.is_whitespace() && *c != '-')
                    .count()
        {
            binds.push(n);
            wheres.push(format!("r.number = ${}", binds.len()));
        } else {
            let esc = q
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            binds.push(format!("%{esc}%"));
            wheres.push(format!(
                "(r.title LIKE ${0} ESCAPE '\\' OR r.street LIKE ${0} ESCAPE '\\')",
                binds.len()
            ));
        }
    }
    let order = if tab == Tab::All {
        "r.submitted_at DESC, r.id DESC"
    } else {
        "r.due_on, r.id"
    };
    let sql = format!(
        "{SELECT}{} {} ORDER BY {order} LIMIT {PAGE_SIZE} OFFSET {}",
        if wheres.is_empty() { "" } else { " WHERE" },
        wheres.join(" AND "),
        i64::from(page) * PAGE_SIZE
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in &binds {
        query = query.bind(b);
    }
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter()
        .map(|row| from_row(db, row).map(|r| RequestRow::of(r, today)))
        .collect()
}

/// A citizen's requests, newest first.
pub async fn of_citizen(
    db: &Db,
    citizen_id: i64,
    today: NaiveDate,
) -> Result<Vec<RequestRow>, DomainError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE r.citizen_id = $1 ORDER BY r.submitted_at DESC LIMIT 200"
    )))
    .bind(citizen_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| from_row(db, row).map(|r| RequestRow::of(r, today)))
        .collect()
}
