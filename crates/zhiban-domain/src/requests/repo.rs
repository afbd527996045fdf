//! Requests as stored: filing, every step of the closed loop in one
//! transaction with its event, audit record, message and supervision
//! jobs, merging duplicates, and reading a request as its citizen or as
//! staff inside their scope.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::routing::Routing;
use super::workflow::{
    Facts, Refusal, RequestAction, RequestSettings, RequestState, RequestType, Satisfaction, Who,
    next,
};
use crate::audit::{self, Entry};
use crate::cases::calendar::WorkCalendar;
use crate::cases::{Deadlines, Light};
use crate::identity::Perm;
use crate::identity::citizen::Citizen;
use crate::identity::ids::{Phone, mask_name, mask_phone};
use crate::identity::scope::out_of_scope;
use crate::identity::staff::StaffSession;
use crate::time::local_date;
use crate::{Conflict, Db, DomainError, FieldError, Tx, jobs, notify, pii};

/// What request handling needs besides the database.
pub struct Hall<'a> {
    pub db: &'a Db,
    pub calendar: &'a WorkCalendar,
    pub settings: &'a RequestSettings,
    /// Share of the time limit left when the light turns yellow.
    pub yellow_percent: u32,
    /// The portal's public address, for links in messages.
    pub public_url: &'a str,
}

impl Hall<'_> {
    fn link(&self, number: &str) -> String {
        format!(
            "{}/my/requests/{number}",
            self.public_url.trim_end_matches('/')
        )
    }
}

/// Which mailbox a citizen wrote to.
pub const MAILBOXES: [(&str, &str); 3] = [
    ("", "12345 政务服务便民热线"),
    ("mayor", "市长信箱"),
    ("police-chief", "公安局长信箱"),
];

/// A request as staff and its citizen read it.
#[derive(Debug, Clone, Serialize)]
pub struct Request {
    pub id: i64,
    pub number: String,
    pub kind: RequestType,
    pub mailbox: String,
    pub title: String,
    pub body: String,
    pub district_id: Option<i64>,
    pub district_name: String,
    pub street: String,
    pub address: String,
    pub citizen_id: Option<i64>,
    pub contact_name: String,
    pub contact_phone: String,
    pub publish_ok: bool,
    pub published: bool,
    pub state: RequestState,
    pub category_id: Option<i64>,
    pub category_name: String,
    pub suggested_category_id: Option<i64>,
    pub suggested_category_name: String,
    pub unit_id: Option<i64>,
    pub unit_name: String,
    pub merged_into: Option<String>,
    pub answer: String,
    pub satisfaction: Option<Satisfaction>,
    pub reopened: bool,
    pub extension_asked: i64,
    pub extended_days: i64,
    pub submitted_at: i64,
    pub due_on: NaiveDate,
    pub yellow_on: NaiveDate,
    pub dispatched_at: Option<i64>,
    pub sign_due_on: Option<NaiveDate>,
    pub signed_at: Option<i64>,
    pub answered_at: Option<i64>,
    pub concluded_at: Option<i64>,
    pub revision: i64,
}

impl Request {
    pub fn light(&self, today: NaiveDate) -> Light {
        Light::of(
            self.state.clock_running(),
            false,
            today,
            self.due_on,
            self.yellow_on,
        )
    }

    pub fn masked_name(&self) -> String {
        mask_name(&self.contact_name)
    }

    pub fn masked_phone(&self) -> String {
        mask_phone(&self.contact_phone)
    }

    fn facts(&self) -> Facts {
        Facts {
            extension_pending: self.extension_asked > 0,
            reopened: self.reopened,
        }
    }

    /// The label of the mailbox written to.
    pub fn mailbox_label(&self) -> &'static str {
        MAILBOXES
            .iter()
            .find(|(k, _)| *k == self.mailbox)
            .map_or(MAILBOXES[0].1, |(_, l)| *l)
    }

    /// Whether `who` may take `action` now.
    pub fn allows(&self, action: RequestAction, who: Who) -> bool {
        next(self.state, action, who, self.facts()).is_ok()
    }

    /// The citizen may still rate (or reopen) the answer.
    pub fn rateable(&self) -> bool {
        self.state == RequestState::Answered
    }
}

/// One step in a request's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct RequestEvent {
    pub at: i64,
    pub actor_label: String,
    pub action: RequestAction,
    pub to_state: RequestState,
    pub note: String,
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

const SELECT: &str = "SELECT r.id, r.number, r.kind, r.mailbox, r.title, r.body, r.district_id, \
    COALESCE(dd.name, '') AS district_name, r.street, r.address, r.citizen_id, r.contact_name, \
    r.contact_phone, r.publish_ok, r.published, r.state, r.category_id, \
    COALESCE(c.name, '') AS category_name, r.suggested_category_id, \
    COALESCE(sc.name, '') AS suggested_name, r.unit_id, COALESCE(u.name, '') AS unit_name, \
    COALESCE(m.number, '') AS merged_number, r.answer, r.satisfaction, r.reopened, \
    r.extension_asked, r.extended_days, r.submitted_at, r.due_on, r.yellow_on, r.dispatched_at, \
    r.sign_due_on, r.signed_at, r.answered_at, r.concluded_at, r.revision FROM requests r \
    LEFT JOIN departments dd ON dd.id = r.district_id \
    LEFT JOIN request_categories c ON c.id = r.category_id \
    LEFT JOIN request_categories sc ON sc.id = r.suggested_category_id \
    LEFT JOIN departments u ON u.id = r.unit_id \
    LEFT JOIN requests m ON m.id = r.merged_into";

fn from_row(db: &Db, r: &sqlx::any::AnyRow) -> Result<Request, DomainError> {
    let bad = |col: &str| sqlx::Error::ColumnDecode {
        index: col.to_string(),
        source: "unreadable value".into(),
    };
    let text = |col: &str| r.try_get::<String, _>(col);
    let merged: String = text("merged_number")?;
    Ok(Request {
        id: r.try_get("id")?,
        number: text("number")?,
        kind: RequestType::from_slug(&text("kind")?).ok_or_else(|| bad("kind"))?,
        mailbox: text("mailbox")?,
        title: text("title")?,
        body: text("body")?,
        district_id: r.try_get("district_id")?,
        district_name: text("district_name")?,
        street: text("street")?,
        address: text("address")?,
        citizen_id: r.try_get("citizen_id")?,
        contact_name: text("contact_name")?,
        contact_phone: pii::open(db, pii::ctx::REQUEST_PHONE, &text("contact_phone")?)?,
        publish_ok: r.try_get::<i64, _>("publish_ok")? != 0,
        published: r.try_get::<i64, _>("published")? != 0,
        state: RequestState::from_slug(&text("state")?).ok_or_else(|| bad("state"))?,
        category_id: r.try_get("category_id")?,
        category_name: text("category_name")?,
        suggested_category_id: r.try_get("suggested_category_id")?,
        suggested_category_name: text("suggested_name")?,
        unit_id: r.try_get("unit_id")?,
        unit_name: text("unit_name")?,
        merged_into: (!merged.is_empty()).then_some(merged),
        answer: text("answer")?,
        satisfaction: Satisfaction::from_slug(&text("satisfaction")?),
        reopened: r.try_get::<i64, _>("reopened")? != 0,
        extension_asked: r.try_get("extension_asked")?,
        extended_days: r.try_get("extended_days")?,
        submitted_at: r.try_get("submitted_at")?,
        due_on: date(&text("due_on")?).ok_or_else(|| bad("due_on"))?,
        yellow_on: date(&text("yellow_on")?).ok_or_else(|| bad("yellow_on"))?,
        dispatched_at: r.try_get("dispatched_at")?,
        sign_due_on: date(&text("sign_due_on")?),
        signed_at: r.try_get("signed_at")?,
        answered_at: r.try_get("answered_at")?,
        concluded_at: r.try_get("concluded_at")?,
        revision: r.try_get("revision")?,
    })
}

pub(super) async fn load(
    db: &Db,
    conn: &mut AnyConnection,
    number: &str,
) -> Result<Request, DomainError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE r.number = $1")))
        .bind(number)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(DomainError::NotFound)?;
    from_row(db, &row)
}

/// A request number as people read it aloud: SQ, the date, a daily count.
async fn next_number(conn: &mut AnyConnection, day: NaiveDate) -> Result<String, DomainError> {
    let n: i64 = sqlx::query_scalar(
        "INSERT INTO request_counters (day, n) VALUES ($1, 1) \
         ON CONFLICT (day) DO UPDATE SET n = request_counters.n + 1 RETURNING n",
    )
    .bind(day_text(day))
    .fetch_one(&mut *conn)
    .await?;
    Ok(format!("SQ{}{n:05}", day.format("%Y%m%d")))
}

/// A number typed by a person: spaces and dashes are ignored, letters upper-cased.
pub fn normalize_number(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn record_event(
    conn: &mut Tx,
    request_id: i64,
    actor: &str,
    actor_label: &str,
    action: RequestAction,
    from: RequestState,
    to: RequestState,
    note: &str,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO request_events (request_id, at, actor, actor_label, action, from_state, \
         to_state, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(request_id)
    .bind(conn.now().timestamp())
    .bind(actor)
    .bind(actor_label)
    .bind(action.slug())
    .bind(from.slug())
    .bind(to.slug())
    .bind(note)
    .execute(&mut **conn)
    .await?;
    Ok(())
}

fn desk_of(state: RequestState) -> &'static str {
    match state.desk() {
        Some(Who::Dispatcher) => "dispatcher",
        Some(Who::Unit) => "unit",
        _ => "",
    }
}

/// 09:00 Beijing time on a day.
fn nine_am(day: NaiveDate) -> i64 {
    crate::time::at_local(day, 9, 0)
}

/// Queues the reminder (when the light turns yellow) and the escalation
/// (the morning after the deadline) of the answer clock.
async fn schedule_supervision(
    conn: &mut Tx,
    id: i64,
    due_on: NaiveDate,
    yellow_on: NaiveDate,
) -> Result<(), DomainError> {
    let payload = serde_json::json!({ "request_id": id });
    jobs::enqueue(
        conn,
        "request_remind",
        &payload,
        nine_am(yellow_on),
        Some(&format!("request-remind:{id}:{due_on}")),
    )
    .await?;
    jobs::enqueue(
        conn,
        "request_escalate",
        &payload,
        nine_am(due_on.succ_opt().unwrap_or(due_on)),
        Some(&format!("request-escalate:{id}:{due_on}")),
    )
    .await
}

// ------------------------------------------------------------------ filing

/// What a citizen (or a hotline operator for them) files.
#[derive(Debug, Clone, Default)]
pub struct NewRequest {
    pub kind: Option<RequestType>,
    pub mailbox: String,
    pub title: String,
    pub body: String,
    pub district_id: Option<i64>,
    pub street: String,
    pub address: String,
    pub contact_name: String,
    pub contact_phone: String,
    /// The citizen agrees that the answer may be published without their
    /// personal data (公开选登).
    pub publish_ok: bool,
}

/// Types that are about a place: the district is required.
fn needs_place(t: RequestType) -> bool {
    matches!(
        t,
        RequestType::Help | RequestType::Complaint | RequestType::Report
    )
}

fn clip(s: &str, n: usize) -> String {
    s.trim().chars().take(n).collect()
}

/// Checks a new request; returns the cleaned copy.
async fn check_new(db: &Db, new: &NewRequest) -> Result<NewRequest, DomainError> {
    let mut errs = Vec::new();
    let mut clean = new.clone();
    clean.title = clip(&new.title, 80);
    clean.body = new.body.trim().to_string();
    clean.street = clip(&new.street, 40);
    clean.address = clip(&new.address, 120);
    clean.contact_name = clip(&new.contact_name, 40);
    let Some(kind) = new.kind else {
        errs.push(FieldError::new("request_kind", "required", ""));
        return Err(DomainError::Invalid(errs));
    };
    let body_len = clean.body.chars().count();
    if body_len == 0 {
        errs.push(FieldError::new("request_body", "required", ""));
    } else if body_len < 10 {
        errs.push(FieldError::new("request_body", "too_short", "10"));
    } else if body_len > 3000 {
        errs.push(FieldError::new("request_body", "too_long", "3000"));
    }
    if clean.title.is_empty() {
        // A title from the first words, as a call-taker would write it.
        clean.title = clean
            .body
            .split(['。', '！', '？', '\n', '!', '?'])
            .next()
            .unwrap_or("")
            .chars()
            .take(30)
            .collect();
    }
    if !MAILBOXES.iter().any(|(k, _)| *k == clean.mailbox) {
        errs.push(FieldError::new("mailbox", "invalid_choice", ""));
    }
    match clean.district_id {
        Some(d) => {
            let level: Option<String> =
                sqlx::query_scalar("SELECT level FROM departments WHERE id = $1")
                    .bind(d)
                    .fetch_optional(db.pool())
                    .await?;
            if level.as_deref() != Some("区县") {
                errs.push(FieldError::new("request_place", "invalid_choice", ""));
            }
        }
        None if needs_place(kind) => errs.push(FieldError::new("request_place", "required", "")),
        None => {}
    }
    match Phone::parse(&clean.contact_phone) {
        Ok(p) => clean.contact_phone = p.as_str().to_string(),
        Err(_) if clean.contact_phone.trim().is_empty() => {
            errs.push(FieldError::new("contact_phone", "required", ""))
        }
        Err(_) => errs.push(FieldError::new("contact_phone", "invalid_phone", "")),
    }
    if clean.contact_name.is_empty() {
        errs.push(FieldError::new("contact_name", "required", ""));
    }
    if errs.is_empty() {
        Ok(clean)
    } else {
        Err(DomainError::Invalid(errs))
    }
}

/// The category id of a name in the catalogue.
async fn category_id(conn: &mut AnyConnection, name: &str) -> Result<Option<i64>, DomainError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM request_categories WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// Files a request: checked, numbered, classified by the router (the
/// dispatcher confirms), its answer clock started, the citizen told.
pub async fn file(
    hall: &Hall<'_>,
    routing: &Routing,
    citizen: Option<&Citizen>,
    new: &NewRequest,
) -> Result<Request, DomainError> {
    let db = hall.db;
    let new = check_new(db, new).await?;
    let kind = new.kind.ok_or(DomainError::Internal("checked"))?;
    let today = local_date(db.now());
    let limit = hall.settings.limit(kind);
    let d = Deadlines::new(hall.calendar, today, limit, limit, hall.yellow_percent);
    let suggested = routing
        .categories(&format!("{} {}", new.title, new.body), 1)
        .into_iter()
        .next();
    let mut tx = db.begin().await?;
    let suggested_id = match &suggested {
        Some(s) => category_id(&mut tx, &s.unit).await?,
        None => None,
    };
    let number = next_number(&mut tx, today).await?;
    let now = db.now().timestamp();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO requests (number, kind, mailbox, title, body, district_id, street, address, \
         citizen_id, contact_name, contact_phone, publish_ok, state, suggested_category_id, \
         submitted_at, due_on, yellow_on, updated_at, desk, running) VALUES ($1, $2, $3, $4, $5, \
         $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $15, 'dispatcher', 1) RETURNING id",
    )
    .bind(&number)
    .bind(kind.slug())
    .bind(&new.mailbox)
    .bind(&new.title)
    .bind(&new.body)
    .bind(new.district_id)
    .bind(&new.street)
    .bind(&new.address)
    .bind(citizen.map(|c| c.id))
    .bind(&new.contact_name)
    .bind(pii::seal(db, pii::ctx::REQUEST_PHONE, &new.contact_phone)?)
    .bind(i64::from(new.publish_ok))
    .bind(RequestState::Submitted.slug())
    .bind(suggested_id)
    .bind(now)
    .bind(day_text(d.due_on))
    .bind(day_text(d.yellow_on))
    .fetch_one(&mut *tx)
    .await?;
    let (actor, label) = match citizen {
        Some(c) => (c.label(), c.masked_name()),
        None => ("anonymous".to_string(), mask_name(&new.contact_name)),
    };
    record_event(
        &mut tx,
        id,
        &actor,
        &label,
        RequestAction::Submit,
        RequestState::Submitted,
        RequestState::Submitted,
        "",
    )
    .await?;
    schedule_supervision(&mut tx, id, d.due_on, d.yellow_on).await?;
    tell(
        hall,
        &mut tx,
        "request-submit",
        citizen.map(|c| c.id),
        &new.contact_phone,
        &number,
        kind,
        &format!("{}个工作日内答复", limit),
    )
    .await?;
    tx.commit().await?;
    let mut conn = db.pool().acquire().await?;
    load(db, &mut conn, &number).await
}

#[allow(clippy::too_many_arguments)]
async fn tell(
    hall: &Hall<'_>,
    tx: &mut Tx,
    event: &str,
    citizen_id: Option<i64>,
    phone: &str,
    number: &str,
    kind: RequestType,
    note: &str,
) -> Result<(), DomainError> {
    let link = hall.link(number);
    notify::case_event(
        hall.db,
        tx,
        event,
        &notify::About {
            citizen_id,
            phone,
            number,
            service: kind.label(),
            note,
            progress_url: &link,
        },
    )
    .await
}

// ------------------------------------------------------------------ steps

/// Who acts on a request.
pub enum Actor<'a> {
    Staff(&'a StaffSession),
    Citizen(&'a Citizen),
}

impl Actor<'_> {
    fn id(&self) -> String {
        match self {
            Actor::Staff(s) => s.user.username.clone(),
            Actor::Citizen(c) => c.label(),
        }
    }
    fn label(&self) -> String {
        match self {
            Actor::Staff(s) => s.user.display_name.clone(),
            Actor::Citizen(c) => c.masked_name(),
        }
    }
}

/// What a step needs besides the action.
#[derive(Debug, Clone, Default)]
pub struct Step {
    pub reason: String,
    /// 受理分类/派单: the category (blank: the router's suggestion).
    pub category_id: Option<i64>,
    /// 派单: another unit than the category's (blank: the category's).
    pub unit_id: Option<i64>,
    /// 申请延期: working days.
    pub days: Option<u32>,
    /// 回访/评价.
    pub satisfaction: Option<Satisfaction>,
    /// 合并: the number of the open request this one joins.
    pub into: String,
    /// The revision the person saw; a step on an older one is refused.
    pub revision: Option<i64>,
}

/// Whether a staff member works the dispatcher's desk for this request:
/// the permission, and the request's district in their scope (a request
/// without a district belongs to the city-wide desk).
pub fn dispatcher_sees(staff: &StaffSession, r: &Request) -> bool {
    staff.can(Perm::RequestsDispatch) && staff.scope.covers_opt(r.district_id)
}

/// Whether a staff member handles this request for its unit.
pub fn unit_sees(staff: &StaffSession, r: &Request) -> bool {
    staff.can(Perm::RequestsHandle) && r.unit_id.is_some_and(|u| staff.scope.covers(u))
}

/// Whether a staff member may read this request at all.
pub fn staff_sees(staff: &StaffSession, r: &Request) -> bool {
    dispatcher_sees(staff, r) || unit_sees(staff, r)
}

/// Every refusal of the rules is a step not possible now (409).
fn refused(_: Refusal) -> DomainError {
    DomainError::Conflict(Conflict::NotAllowed)
}

/// One step of the closed loop, in one transaction.
pub async fn act(
    hall: &Hall<'_>,
    actor: Actor<'_>,
    number: &str,
    action: RequestAction,
    step: Step,
) -> Result<Request, DomainError> {
    let db = hall.db;
    let mut tx = db.begin().await?;
    let r = load(db, &mut tx, &normalize_number(number)).await?;
    let who = match &actor {
        Actor::Citizen(c) if r.citizen_id == Some(c.id) => Who::Citizen,
        Actor::Citizen(_) => return Err(DomainError::NotFound),
        Actor::Staff(s) => match action.who() {
            Who::Dispatcher if dispatcher_sees(s, &r) => Who::Dispatcher,
            Who::Unit if unit_sees(s, &r) => Who::Unit,
            _ if staff_sees(s, &r) => return Err(DomainError::Conflict(Conflict::NotAllowed)),
            _ => {
                tx.rollback().await?;
                return Err(out_of_scope(db, s, &format!("request:{}", r.number)).await);
            }
        },
    };
    if step.revision.is_some_and(|v| v != r.revision) {
        return Err(DomainError::Conflict(Conflict::Stale));
    }
    // An unsatisfied rating reopens the request, once.
    let action = if action == RequestAction::Rate
        && step.satisfaction == Some(Satisfaction::Unsatisfied)
        && !r.reopened
    {
        RequestAction::Reopen
    } else {
        action
    };
    // 派单 straight from 待受理 accepts (classifies) it on the way.
    let accept_first = action == RequestAction::Dispatch && r.state == RequestState::Submitted;
    let from = if accept_first {
        next(r.state, RequestAction::Accept, who, r.facts()).map_err(refused)?
    } else {
        r.state
    };
    let to = next(from, action, who, r.facts()).map_err(refused)?;
    let reason = clip(&step.reason, 3000);
    let mut errs = Vec::new();
    let needs_reason = action.needs_reason() && action != RequestAction::Answer;
    if needs_reason && reason.is_empty() {
        errs.push(FieldError::new("reason", "required", ""));
    }
    let today = local_date(db.now());
    let now = db.now().timestamp();
    let cal = hall.calendar;
    let mut category_id = r.category_id;
    let mut unit_id = r.unit_id;
    let mut due_on = r.due_on;
    let mut yellow_on = r.yellow_on;
    let mut sign_due_on = r.sign_due_on;
    let mut dispatched_at = r.dispatched_at;
    let mut signed_at = r.signed_at;
    let mut answered_at = r.answered_at;
    let mut concluded_at = r.concluded_at;
    let mut answer = r.answer.clone();
    let mut satisfaction = r.satisfaction;
    let mut reopened = r.reopened;
    let mut extension_asked = r.extension_asked;
    let mut extended_days = r.extended_days;
    let mut merged_into: Option<i64> = None;
    let mut note = reason.clone();
    let mut event = "";
    match action {
        RequestAction::Accept | RequestAction::Dispatch => {
            category_id = step
                .category_id
                .or(r.category_id)
                .or(r.suggested_category_id);
            let cat: Option<(String, i64)> = match category_id {
                Some(c) => {
                    sqlx::query_as("SELECT name, unit_id FROM request_categories WHERE id = $1")
                        .bind(c)
                        .fetch_optional(&mut *tx)
                        .await?
                }
                None => None,
            };
            let Some((cat_name, cat_unit)) = cat else {
                errs.push(FieldError::new("request_category", "required", ""));
                return Err(DomainError::Invalid(errs));
            };
            note = format!("分类：{cat_name}");
            if r.suggested_category_id.is_some() && r.suggested_category_id != category_id {
                note.push_str(&format!("（纠正系统建议“{}”）", r.suggested_category_name));
            }
            if action == RequestAction::Dispatch {
                let unit = step.unit_id.unwrap_or(cat_unit);
                let name: Option<String> =
                    sqlx::query_scalar("SELECT name FROM departments WHERE id = $1")
                        .bind(unit)
                        .fetch_optional(&mut *tx)
                        .await?;
                let Some(name) = name else {
                    errs.push(FieldError::new("request_unit", "required", ""));
                    return Err(DomainError::Invalid(errs));
                };
                unit_id = Some(unit);
                dispatched_at = Some(now);
                signed_at = None;
                let sign_due = cal.add_working_days(today, hall.settings.sign_days);
                sign_due_on = Some(sign_due);
                note = format!("{note}；派至{name}，请于 {sign_due} 前签收");
                if !reason.is_empty() {
                    note = format!("{note}。{reason}");
                }
                event = "request-dispatch";
            }
        }
        RequestAction::Reject => event = "request-reject",
        RequestAction::Merge => {
            let into = normalize_number(&step.into);
            let target: Option<(i64, String, i64)> =
                sqlx::query_as("SELECT id, state, running FROM requests WHERE number = $1")
                    .bind(&into)
                    .fetch_optional(&mut *tx)
                    .await?;
            match target {
                Some((id, state, running)) if id != r.id && running == 1 && state != "merged" => {
                    merged_into = Some(id);
                    note = format!("与 {into} 合并办理");
                    if !reason.is_empty() {
                        note = format!("{note}：{reason}");
                    }
                    event = "request-merge";
                }
                _ => errs.push(FieldError::new("merge_into", "not_open", "")),
            }
        }
        RequestAction::Sign => signed_at = Some(now),
        RequestAction::Return => {
            note = format!("{}退回：{reason}", r.unit_name);
            unit_id = None;
            sign_due_on = None;
        }
        RequestAction::AskExtension => match step.days {
            Some(d) if d >= 1 && d <= hall.settings.max_extension_days => {
                extension_asked = i64::from(d);
                note = format!("申请延期 {d} 个工作日：{reason}");
            }
            _ => errs.push(FieldError::new(
                "extension_days",
                "out_of_range",
                hall.settings.max_extension_days.to_string(),
            )),
        },
        RequestAction::ApproveExtension => {
            let days = u32::try_from(extension_asked).unwrap_or(0);
            due_on = cal.add_working_days(due_on, days);
            yellow_on = cal.add_working_days(yellow_on, days);
            extended_days += extension_asked;
            extension_asked = 0;
            note = format!("同意延期 {days} 个工作日，答复期限至 {due_on}");
            if !reason.is_empty() {
                note = format!("{note}。{reason}");
            }
            event = "request-extend";
        }
        RequestAction::RefuseExtension => extension_asked = 0,
        RequestAction::Answer => {
            let len = reason.chars().count();
            if len == 0 {
                errs.push(FieldError::new("request_answer", "required", ""));
            } else if len < 10 {
                errs.push(FieldError::new("request_answer", "too_short", "10"));
            }
            answer = reason.clone();
            answered_at = Some(now);
            note = String::new();
            event = "request-answer";
        }
        RequestAction::Visit | RequestAction::Rate => match step.satisfaction {
            Some(s) => {
                satisfaction = Some(s);
                concluded_at = Some(now);
                note = if reason.is_empty() {
                    s.label().to_string()
                } else {
                    format!("{}：{reason}", s.label())
                };
            }
            None => errs.push(FieldError::new("satisfaction", "required", "")),
        },
        RequestAction::Reopen => {
            satisfaction = Some(Satisfaction::Unsatisfied);
            reopened = true;
            concluded_at = None;
            answered_at = None;
            let limit = hall.settings.limit(r.kind);
            let d = Deadlines::new(cal, today, limit, limit, hall.yellow_percent);
            due_on = d.due_on;
            yellow_on = d.yellow_on;
            note = format!("不满意，要求重新办理：{reason}");
            event = "request-reopen";
        }
        RequestAction::Submit | RequestAction::Remind | RequestAction::Escalate => {}
    }
    if !errs.is_empty() {
        return Err(DomainError::Invalid(errs));
    }
    let updated = sqlx::query(
        "UPDATE requests SET state = $2, category_id = $3, unit_id = $4, due_on = $5, \
         yellow_on = $6, sign_due_on = $7, dispatched_at = $8, signed_at = $9, answered_at = $10, \
         concluded_at = $11, answer = $12, satisfaction = $13, reopened = $14, \
         extension_asked = $15, extended_days = $16, merged_into = COALESCE($17, merged_into), \
         desk = $18, running = $19, updated_at = $20, revision = revision + 1 \
         WHERE id = $1 AND revision = $21",
    )
    .bind(r.id)
    .bind(to.slug())
    .bind(category_id)
    .bind(unit_id)
    .bind(day_text(due_on))
    .bind(day_text(yellow_on))
    .bind(sign_due_on.map(day_text).unwrap_or_default())
    .bind(dispatched_at)
    .bind(signed_at)
    .bind(answered_at)
    .bind(concluded_at)
    .bind(&answer)
    .bind(satisfaction.map(|s| s.slug()).unwrap_or(""))
    .bind(i64::from(reopened))
    .bind(extension_asked)
    .bind(extended_days)
    .bind(merged_into)
    .bind(desk_of(to))
    .bind(i64::from(to.clock_running()))
    .bind(now)
    .bind(r.revision)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(DomainError::Conflict(Conflict::Stale));
    }
    if accept_first {
        record_event(
            &mut tx,
            r.id,
            &actor.id(),
            &actor.label(),
            RequestAction::Accept,
            r.state,
            from,
            "",
        )
        .await?;
    }
    record_event(
        &mut tx,
        r.id,
        &actor.id(),
        &actor.label(),
        action,
        from,
        to,
        &note,
    )
    .await?;
    if let Actor::Staff(s) = &actor {
        audit::append(
            &mut tx,
            &Entry::staff(&s.user.username, "request.act", &r.number).detail(action.slug()),
        )
        .await?;
    }
    if matches!(
        action,
        RequestAction::Dispatch | RequestAction::Reopen | RequestAction::ApproveExtension
    ) && to.clock_running()
    {
        schedule_supervision(&mut tx, r.id, due_on, yellow_on).await?;
    }
    if action == RequestAction::Dispatch
        && let Some(sd) = sign_due_on
    {
        jobs::enqueue(
            &mut tx,
            "request_sign_check",
            &serde_json::json!({ "request_id": r.id }),
            nine_am(sd.succ_opt().unwrap_or(sd)),
            Some(&format!("request-sign:{}:{now}", r.id)),
        )
        .await?;
    }
    let told = match action {
        RequestAction::Answer => answer.clone(),
        _ => note.clone(),
    };
    if !event.is_empty() {
        tell(
            hall,
            &mut tx,
            event,
            r.citizen_id,
            &r.contact_phone,
            &r.number,
            r.kind,
            &told,
        )
        .await?;
    }
    if action == RequestAction::Answer {
        answer_merged(hall, &mut tx, &actor, r.id, &answer, unit_id).await?;
    }
    tx.commit().await?;
    let mut conn = db.pool().acquire().await?;
    load(db, &mut conn, &r.number).await
}

/// Merged requests share the handling: each gets the answer, moves to 待回访
/// and its citizen is told.
async fn answer_merged(
    hall: &Hall<'_>,
    tx: &mut Tx,
    actor: &Actor<'_>,
    id: i64,
    answer: &str,
    unit_id: Option<i64>,
) -> Result<(), DomainError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE r.merged_into = $1 AND r.state = 'merged'"
    )))
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    let now = hall.db.now().timestamp();
    for row in rows {
        let m = from_row(hall.db, &row)?;
        sqlx::query(
            "UPDATE requests SET state = 'answered', answer = $2, answered_at = $3, unit_id = $4, \
             desk = 'dispatcher', running = 0, updated_at = $3, revision = revision + 1 \
             WHERE id = $1",
        )
        .bind(m.id)
        .bind(answer)
        .bind(now)
        .bind(unit_id)
        .execute(&mut **tx)
        .await?;
        record_event(
            tx,
            m.id,
            &actor.id(),
            &actor.label(),
            RequestAction::Answer,
            RequestState::Merged,
            RequestState::Answered,
            "合并办理，同一答复",
        )
        .await?;
        tell(
            hall,
            tx,
            "request-answer",
            m.citizen_id,
            &m.contact_phone,
            &m.number,
            m.kind,
            answer,
        )
        .await?;
    }
    Ok(())
}

/// Publishes (or takes down) an answered request in 公开选登; only with
/// the citizen's agreement and once answered.
pub async fn set_published(
    db: &Db,
    staff: &StaffSession,
    number: &str,
    publish: bool,
) -> Result<Request, DomainError> {
    let r = for_staff(db, staff, number).await?;
    if !dispatcher_sees(staff, &r) {
        return Err(DomainError::Conflict(Conflict::NotAllowed));
    }
    if publish && (!r.publish_ok || r.answer.is_empty()) {
        return Err(DomainError::Conflict(Conflict::NotAllowed));
    }
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE requests SET published = $2, revision = revision + 1 WHERE id = $1")
        .bind(r.id)
        .bind(i64::from(publish))
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        &Entry::staff(
            &staff.user.username,
            if publish {
                "request.publish"
            } else {
                "request.unpublish"
            },
            &r.number,
        ),
    )
    .await?;
    tx.commit().await?;
    for_staff(db, staff, number).await
}

// ------------------------------------------------------------------ reading

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
        Tab::Extensions => {
            wheres.push("r.desk = 'unit' AND r.extension_asked > 0".into());
        }
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
        if n.starts_with("SQ") && n.len() >= 6 {
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
        .map(|row| {
            let r = from_row(db, row)?;
            Ok(RequestRow {
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
            })
        })
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
        .map(|row| {
            let r = from_row(db, row)?;
            Ok(RequestRow {
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
            })
        })
        .collect()
}

// ------------------------------------------------------------------ catalogue

/// A category of the dispatch catalogue.
#[derive(Debug, Clone, Serialize)]
pub struct Category {
    pub id: i64,
    pub name: String,
    pub unit_id: i64,
    pub unit_code: String,
    pub unit_name: String,
    pub description: String,
}

pub async fn categories(db: &Db) -> Result<Vec<Category>, DomainError> {
    let rows = sqlx::query(
        "SELECT c.id, c.name, c.unit_id, d.code AS unit_code, d.name AS unit_name, c.description \
         FROM request_categories c JOIN departments d ON d.id = c.unit_id \
         ORDER BY c.position, c.id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Category {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                unit_id: r.try_get("unit_id")?,
                unit_code: r.try_get("unit_code")?,
                unit_name: r.try_get("unit_name")?,
                description: r.try_get("description")?,
            })
        })
        .collect()
}

/// Adds a category or changes one (same name): which unit it goes to and
/// what it covers. City-wide dispatchers only.
pub async fn save_category(
    db: &Db,
    staff: &StaffSession,
    name: &str,
    unit_id: Option<i64>,
    description: &str,
) -> Result<(), DomainError> {
    if !staff.can(Perm::RequestsDispatch) || !matches!(staff.scope, crate::identity::Scope::All) {
        crate::identity::scope::record_refusal(db, staff, "request_categories", "city_level")
            .await?;
        return Err(DomainError::CityLevel);
    }
    let name = clip(name, 30);
    let mut errs = Vec::new();
    if name.is_empty() {
        errs.push(FieldError::new("request_category", "required", ""));
    }
    let unit_ok = match unit_id {
        Some(u) => sqlx::query_scalar::<_, i64>("SELECT id FROM departments WHERE id = $1")
            .bind(u)
            .fetch_optional(db.pool())
            .await?
            .is_some(),
        None => false,
    };
    if !unit_ok {
        errs.push(FieldError::new("request_unit", "required", ""));
    }
    if !errs.is_empty() {
        return Err(DomainError::Invalid(errs));
    }
    let mut tx = db.begin().await?;
    let position: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) + 1 FROM request_categories")
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query(
        "INSERT INTO request_categories (name, unit_id, description, position) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET unit_id = $2, description = $3",
    )
    .bind(&name)
    .bind(unit_id)
    .bind(clip(description, 200))
    .bind(position)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &Entry::staff(&staff.user.username, "request.category", &name),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The routing the portal learns now: the catalogue (category → unit code)
/// and every classified request (the dispatchers' confirmations and
/// corrections), most recent first up to `limit`.
pub async fn training(db: &Db, limit: i64) -> Result<Routing, DomainError> {
    let catalogue: Vec<super::routing::CatalogueLine> = categories(db)
        .await?
        .into_iter()
        .map(|c| super::routing::CatalogueLine {
            category: c.name,
            unit: c.unit_code,
            covers: c.description,
        })
        .collect();
    let labelled: Vec<(String, String)> = sqlx::query_as(
        "SELECT r.title || ' ' || r.body, c.name FROM requests r \
         JOIN request_categories c ON c.id = r.category_id ORDER BY r.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(
        tokio::task::spawn_blocking(move || Routing::train(&catalogue, &labelled))
            .await
            .map_err(|_| DomainError::Internal("training the router"))?,
    )
}

/// Districts (区县) and their streets, for the location picker.
pub async fn places(db: &Db) -> Result<Vec<(i64, String, Vec<String>)>, DomainError> {
    let districts: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM departments WHERE level = '区县' ORDER BY code")
            .fetch_all(db.pool())
            .await?;
    let streets: Vec<(i64, String)> =
        sqlx::query_as("SELECT district_id, name FROM request_streets ORDER BY district_id, name")
            .fetch_all(db.pool())
            .await?;
    Ok(districts
        .into_iter()
        .map(|(id, name)| {
            let s = streets
                .iter()
                .filter(|(d, _)| *d == id)
                .map(|(_, n)| n.clone())
                .collect();
            (id, name, s)
        })
        .collect())
}

// ------------------------------------------------------------------ 公开选登

/// Personal data a citizen may have typed into a published text: mobile
/// numbers and 身份证号 are masked (the name and phone of the contact are
/// never shown at all).
pub fn scrub(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit() || chars[i] == 'X' || chars[i] == 'x')
            {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            let n = run.chars().count();
            if n == 11 && run.starts_with('1') {
                out.push_str(&mask_phone(&run));
            } else if n == 18 || n == 15 {
                out.push_str(&crate::identity::ids::mask_id_number(&run));
            } else {
                out.push_str(&run);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// A published request as the public reads it: no contact, no address.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub number: String,
    pub kind: RequestType,
    pub title: String,
    pub body: String,
    pub district_name: String,
    pub street: String,
    pub unit_name: String,
    pub answer: String,
    pub submitted_at: i64,
    pub answered_at: Option<i64>,
    pub satisfaction: Option<Satisfaction>,
}

impl From<Request> for Published {
    fn from(r: Request) -> Self {
        Published {
            title: scrub(&r.title),
            body: scrub(&r.body),
            answer: scrub(&r.answer),
            number: r.number,
            kind: r.kind,
            district_name: r.district_name,
            street: r.street,
            unit_name: r.unit_name,
            submitted_at: r.submitted_at,
            answered_at: r.answered_at,
            satisfaction: r.satisfaction,
        }
    }
}

/// 公开选登, newest answers first, optionally of one type.
pub async fn published(
    db: &Db,
    kind: Option<RequestType>,
    page: u32,
    per_page: i64,
) -> Result<(Vec<Published>, i64), DomainError> {
    let filter = if kind.is_some() {
        " AND r.kind = $1"
    } else {
        ""
    };
    let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM requests r WHERE r.published = 1 AND r.publish_ok = 1{filter}"
    )));
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE r.published = 1 AND r.publish_ok = 1{filter} \
         ORDER BY r.answered_at DESC, r.id DESC LIMIT {per_page} OFFSET {}",
        i64::from(page) * per_page
    )));
    if let Some(k) = kind {
        count = count.bind(k.slug());
        rows = rows.bind(k.slug());
    }
    let total = count.fetch_one(db.pool()).await?;
    let list = rows
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|row| from_row(db, row).map(Published::from))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((list, total))
}

/// One published request.
pub async fn published_one(db: &Db, number: &str) -> Result<Published, DomainError> {
    let mut conn = db.pool().acquire().await?;
    let r = load(db, &mut conn, &normalize_number(number)).await?;
    if r.published && r.publish_ok {
        Ok(r.into())
    } else {
        Err(DomainError::NotFound)
    }
}
