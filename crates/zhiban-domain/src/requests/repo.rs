//! Requests as stored: the record, filing, and every step of the closed
//! loop in one transaction with its event, audit record, message and
//! supervision jobs (merged requests share the answer).

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::workflow::{
    Facts, Refusal, RequestAction, RequestSettings, RequestState, RequestType, Satisfaction, Who,
    next,
};
use crate::audit::{self, Entry};
use crate::cases::calendar::WorkCalendar;
use crate::cases::{Deadlines, Light};
use crate::identity::Perm;
use crate::identity::citizen::Citizen;
use crate::identity::ids::{mask_name, mask_phone};
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
    /// Where it is, as (latitude, longitude), when the writer gave a point.
    pub point: Option<crate::geo::Point>,
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
        if self.citizen_id.is_none() && self.contact_name.is_empty() {
            return "匿名".to_string();
        }
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

pub(super) fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Text as stored: trimmed, at most `n` characters.
pub(super) fn clip(s: &str, n: usize) -> String {
    s.trim().chars().take(n).collect()
}

pub(super) fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(super) const SELECT: &str = "SELECT r.id, r.number, r.kind, r.mailbox, r.title, r.body, r.district_id, \
    COALESCE(dd.name, '') AS district_name, r.street, r.address, r.lat, r.lon, r.citizen_id, r.contact_name, \
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

pub(super) fn from_row(db: &Db, r: &sqlx::any::AnyRow) -> Result<Request, DomainError> {
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
        point: match (r.try_get("lat")?, r.try_get("lon")?) {
            (Some(lat), Some(lon)) => Some((lat, lon)),
            _ => None,
        },
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
pub(super) async fn next_number(
    conn: &mut AnyConnection,
    day: NaiveDate,
) -> Result<String, DomainError> {
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
    let at = conn.now().timestamp();
    record_event_at(
        conn,
        request_id,
        at,
        actor,
        actor_label,
        action,
        from,
        to,
        note,
    )
    .await
}

/// A timeline line at a given time (the demo's history is dated in the past).
#[allow(clippy::too_many_arguments)]
pub(super) async fn record_event_at(
    conn: &mut Tx,
    request_id: i64,
    at: i64,
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
    .bind(at)
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
pub(super) async fn schedule_supervision(
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

#[allow(clippy::too_many_arguments)]
pub(super) async fn tell(
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
