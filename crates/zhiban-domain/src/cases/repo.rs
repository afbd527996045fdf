//! The case itself: its record and readable number, every transition in
//! one transaction with its event, audit record, message and clock change,
//! electronic supervision, and reading a case as staff, as its applicant or
//! by number and phone.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use super::clock::{Deadlines, Light};
use super::desk::Desk;
use super::disclosure::{self, Answer};
use super::files::{Owner, Upload, case_files, case_supplied, store_file};
use super::profile_of;
use super::workflow::{CaseAction, CaseState, Delivery, Outcome, Role};
use crate::audit::{self, Entry};
use crate::forms::{Answers, FormSchema};
use crate::identity::Perm;
use crate::identity::citizen::Citizen;
use crate::identity::ids::{mask_name, mask_phone};
use crate::identity::scope::out_of_scope;
use crate::identity::staff::StaffSession;
use crate::notify;
use crate::time::local_date;
use crate::{Db, DomainError, FieldError, Tx, jobs, pii};

/// Why the staff asked for corrections, and which answers to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    pub reason: String,
    /// Input names (fields or materials) to change; empty means any.
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub id: i64,
    pub number: String,
    pub service_code: String,
    pub service_name: String,
    pub department_id: i64,
    pub department_name: String,
    pub citizen_id: Option<i64>,
    pub applicant_name: String,
    pub applicant_phone: String,
    pub form_version: i64,
    pub schema: FormSchema,
    pub answers: Answers,
    pub state: CaseState,
    pub resume_state: Option<CaseState>,
    /// Set once decided.
    pub outcome: Option<Outcome>,
    pub correction: Option<Correction>,
    pub delivery: Option<Delivery>,
    pub tracking_no: String,
    pub promised_days: i64,
    pub legal_days: i64,
    pub submitted_at: i64,
    pub accepted_on: Option<NaiveDate>,
    pub due_on: NaiveDate,
    pub legal_due_on: NaiveDate,
    pub yellow_on: NaiveDate,
    pub paused_on: Option<NaiveDate>,
    pub concluded_at: Option<i64>,
    pub revision: i64,
    /// `disclosure` for a 依申请公开 request, empty otherwise.
    pub procedure: String,
    /// A disclosure request's answer type, once decided.
    pub answer: Option<Answer>,
    /// Working days the answer period was extended by (once at most).
    pub extended_days: i64,
    /// The 一件事 this case was filed in, and its stage there.
    pub bundle_case_id: Option<i64>,
    pub bundle_stage: i64,
    /// `online` or `counter` (窗口收件).
    pub channel: String,
    /// The clerk who received a counter case.
    pub received_by: String,
    /// The company the case was filed for (以企业身份办事).
    pub company_id: Option<i64>,
}

impl Case {
    /// A request for government information (依申请公开).
    pub fn is_disclosure(&self) -> bool {
        self.procedure == disclosure::PROCEDURE
    }

    /// The staff steps offered now: extending the answer period only for
    /// a disclosure request that was not extended before.
    pub fn staff_actions(&self) -> Vec<CaseAction> {
        let mut actions = self.state.staff_actions().to_vec();
        if self.is_disclosure()
            && self.extended_days == 0
            && self.state.after(CaseAction::Extend, self.state).is_some()
        {
            let at = actions.len().saturating_sub(1);
            actions.insert(at, CaseAction::Extend);
        }
        actions
    }

    pub fn light(&self, today: NaiveDate) -> Light {
        Light::of(
            self.state.clock_running(),
            self.state.paused(),
            today,
            self.due_on,
            self.yellow_on,
        )
    }

    pub fn masked_name(&self) -> String {
        mask_name(&self.applicant_name)
    }

    pub fn masked_phone(&self) -> String {
        mask_phone(&self.applicant_phone)
    }

    fn deadlines(&self) -> Deadlines {
        Deadlines {
            due_on: self.due_on,
            legal_due_on: self.legal_due_on,
            yellow_on: self.yellow_on,
        }
    }

    /// Whether the applicant may change this answer while correcting.
    pub fn correctable(&self, input_name: &str) -> bool {
        let Some(c) = &self.correction else {
            return false;
        };
        let key = input_name.split('.').next().unwrap_or(input_name);
        c.fields.is_empty() || c.fields.iter().any(|f| f == key)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseEvent {
    pub at: i64,
    pub actor_label: String,
    pub action: CaseAction,
    pub from_state: CaseState,
    pub to_state: CaseState,
    pub note: String,
}

/// A row in a list.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRow {
    pub id: i64,
    pub number: String,
    pub service_name: String,
    pub department_name: String,
    pub applicant_masked: String,
    pub state: CaseState,
    pub outcome: Option<Outcome>,
    pub submitted_at: i64,
    pub due_on: NaiveDate,
    pub light: Light,
}

pub(super) fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

pub(super) fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

const SELECT_CASE: &str = "SELECT c.id, c.number, c.service_code, c.service_name, \
    c.department_id, d.name AS department_name, c.citizen_id, c.applicant_name, \
    c.applicant_phone, c.form_version, c.form_schema, c.answers, c.state, c.resume_state, \
    c.outcome, c.correction, c.delivery, c.tracking_no, c.promised_days, c.legal_days, \
    c.submitted_at, c.accepted_on, c.due_on, c.legal_due_on, c.yellow_on, c.paused_on, \
    c.concluded_at, c.revision, c.procedure, c.answer, c.extended_days, c.bundle_case_id, \
    c.bundle_stage, c.channel, c.received_by, c.company_id FROM cases c JOIN departments d ON d.id = c.department_id";

/// Reads a case row, decrypting the answers and the phone.
fn case_from_row(db: &Db, r: &sqlx::any::AnyRow) -> Result<Case, DomainError> {
    let bad = |col: &str| sqlx::Error::ColumnDecode {
        index: col.to_string(),
        source: "unreadable value".into(),
    };
    let text = |col: &str| r.try_get::<String, _>(col);
    Ok(Case {
        id: r.try_get("id")?,
        number: text("number")?,
        service_code: text("service_code")?,
        service_name: text("service_name")?,
        department_id: r.try_get("department_id")?,
        department_name: text("department_name")?,
        citizen_id: r.try_get("citizen_id")?,
        applicant_name: text("applicant_name")?,
        applicant_phone: pii::open(db, pii::ctx::CASE_PHONE, &text("applicant_phone")?)?,
        form_version: r.try_get("form_version")?,
        schema: serde_json::from_str(&text("form_schema")?).map_err(|_| bad("form_schema"))?,
        answers: serde_json::from_str(&pii::open(db, pii::ctx::CASE_ANSWERS, &text("answers")?)?)
            .map_err(|_| bad("answers"))?,
        state: CaseState::from_slug(&text("state")?).ok_or_else(|| bad("state"))?,
        resume_state: CaseState::from_slug(&text("resume_state")?),
        outcome: Outcome::from_slug(&text("outcome")?),
        correction: serde_json::from_str(&text("correction")?).ok(),
        delivery: Delivery::from_slug(&text("delivery")?),
        tracking_no: text("tracking_no")?,
        promised_days: r.try_get("promised_days")?,
        legal_days: r.try_get("legal_days")?,
        submitted_at: r.try_get("submitted_at")?,
        accepted_on: date(&text("accepted_on")?),
        due_on: date(&text("due_on")?).ok_or_else(|| bad("due_on"))?,
        legal_due_on: date(&text("legal_due_on")?).ok_or_else(|| bad("legal_due_on"))?,
        yellow_on: date(&text("yellow_on")?).ok_or_else(|| bad("yellow_on"))?,
        paused_on: date(&text("paused_on")?),
        concluded_at: r.try_get("concluded_at")?,
        revision: r.try_get("revision")?,
        procedure: text("procedure")?,
        answer: Answer::from_slug(&text("answer")?),
        extended_days: r.try_get("extended_days")?,
        bundle_case_id: r.try_get("bundle_case_id")?,
        bundle_stage: r.try_get("bundle_stage")?,
        channel: text("channel")?,
        received_by: text("received_by")?,
        company_id: r.try_get("company_id")?,
    })
}

pub(super) async fn load(
    db: &Db,
    conn: &mut AnyConnection,
    number: &str,
) -> Result<Case, DomainError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT_CASE} WHERE c.number = $1"
    )))
    .bind(number)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(DomainError::NotFound)?;
    case_from_row(db, &row)
}

/// Case numbers as people read them aloud: prefix, date, a daily count.
fn format_number(prefix: &str, day: NaiveDate, n: i64) -> String {
    format!("{prefix}{}{n:05}", day.format("%Y%m%d"))
}

pub(super) async fn next_number(
    conn: &mut AnyConnection,
    prefix: &str,
    day: NaiveDate,
) -> Result<String, DomainError> {
    let n: i64 = sqlx::query_scalar(
        "INSERT INTO case_counters (day, n) VALUES ($1, 1) \
         ON CONFLICT (day) DO UPDATE SET n = case_counters.n + 1 RETURNING n",
    )
    .bind(day_text(day))
    .fetch_one(&mut *conn)
    .await?;
    Ok(format_number(prefix, day, n))
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
    case_id: i64,
    actor: &str,
    actor_label: &str,
    action: CaseAction,
    from: CaseState,
    to: CaseState,
    note: &str,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO case_events (case_id, at, actor, actor_label, action, from_state, to_state, \
         note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(case_id)
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

/// 09:00 Beijing time on a day, as a timestamp.
fn nine_am(day: NaiveDate) -> i64 {
    crate::time::at_local(day, 9, 0)
}

/// Queues the reminder (when the light turns yellow) and the escalation
/// (the morning after the deadline) for the current deadlines.
pub(super) async fn schedule_supervision(
    conn: &mut Tx,
    case_id: i64,
    d: &Deadlines,
) -> Result<(), DomainError> {
    let payload = serde_json::json!({ "case_id": case_id });
    jobs::enqueue(
        conn,
        "case_remind",
        &payload,
        nine_am(d.yellow_on),
        Some(&format!("remind:{case_id}:{}", d.due_on)),
    )
    .await?;
    jobs::enqueue(
        conn,
        "case_escalate",
        &payload,
        nine_am(d.due_on.succ_opt().unwrap_or(d.due_on)),
        Some(&format!("escalate:{case_id}:{}", d.due_on)),
    )
    .await
}

/// Who acts on a case.
pub enum Actor<'a> {
    Staff(&'a StaffSession),
    Applicant(&'a Citizen),
}

impl Actor<'_> {
    fn id(&self) -> String {
        match self {
            Actor::Staff(s) => s.user.username.clone(),
            Actor::Applicant(c) => c.label(),
        }
    }
    fn label(&self) -> String {
        match self {
            Actor::Staff(s) => s.user.display_name.clone(),
            Actor::Applicant(c) => c.masked_name(),
        }
    }
}

/// What a step needs besides the action.
#[derive(Debug, Clone, Default)]
pub struct Step {
    pub reason: String,
    /// For 补正: the answers to change.
    pub fields: Vec<String>,
    /// For 转办: the receiving unit.
    pub to_unit: Option<i64>,
    /// For 送达.
    pub delivery: Option<Delivery>,
    pub tracking_no: String,
    /// For 补正后提交: the corrected answers.
    pub answers: Answers,
    /// The revision the person saw; a step on an older one is refused.
    pub revision: Option<i64>,
    /// For a decision on a disclosure request: the answer type.
    pub answer: Option<Answer>,
    /// For extending a disclosure request: working days (blank: 20).
    pub days: Option<u32>,
}

/// A staff member may act on a case of a unit inside their scope.
pub fn staff_sees(staff: &StaffSession, department_id: i64) -> bool {
    staff.can(Perm::CasesHandle) && staff.scope.covers(department_id)
}

/// One step of the workflow, in one transaction: the rule check, the new
/// state, the clock, the event, the message.
pub async fn act(
    desk: &Desk<'_>,
    actor: Actor<'_>,
    number: &str,
    action: CaseAction,
    step: Step,
) -> Result<Case, DomainError> {
    let db = desk.db;
    if action == CaseAction::Conclude {
        // Concluding may issue an e-license: its key must exist first.
        let dept: Option<i64> =
            sqlx::query_scalar("SELECT department_id FROM cases WHERE number = $1")
                .bind(number)
                .fetch_optional(db.pool())
                .await?;
        if let Some(d) = dept {
            crate::licenses::prepare_key(db, d).await?;
        }
        // An approved case whose item charges a fee concludes only once
        // the fee is paid or waived (统一支付).
        let mut conn = db.pool().acquire().await?;
        let found = load(db, &mut conn, number).await;
        drop(conn);
        if let Ok(c) = found
            && c.outcome == Some(Outcome::Approved)
            && !crate::payments::fee_settled(db, &c).await?
        {
            return Err(DomainError::Invalid(vec![FieldError::new(
                "fee", "unpaid", "",
            )]));
        }
    }
    // An applicant acts on their own case or their company's (checked
    // before the write lock is taken).
    let applicant_reaches = match &actor {
        Actor::Applicant(c) => for_citizen(db, c, number).await.is_ok(),
        Actor::Staff(_) => false,
    };
    let mut tx = db.begin().await?;
    let case = load(db, &mut tx, number).await?;
    match (&actor, action.role()) {
        (Actor::Staff(s), Role::Staff) if staff_sees(s, case.department_id) => {}
        (Actor::Applicant(_), Role::Applicant) if applicant_reaches => {}
        (Actor::Staff(s), _) if staff_sees(s, case.department_id) => {
            return Err(DomainError::Conflict(crate::Conflict::NotAllowed));
        }
        (Actor::Staff(s), _) => {
            // Out of scope: let go of the write lock, then audit and answer
            // as if the case did not exist.
            tx.rollback().await?;
            return Err(out_of_scope(db, s, &format!("case:{}", case.number)).await);
        }
        _ => return Err(DomainError::NotFound),
    }
    if step.revision.is_some_and(|r| r != case.revision) {
        return Err(DomainError::Conflict(crate::Conflict::Stale));
    }
    let resume_to = case.resume_state.unwrap_or(CaseState::Submitted);
    let Some(to) = case.state.after(action, resume_to) else {
        return Err(DomainError::Conflict(crate::Conflict::NotAllowed));
    };
    if action == CaseAction::Extend && !case.is_disclosure() {
        return Err(DomainError::Conflict(crate::Conflict::NotAllowed));
    }
    let reason = step.reason.trim().chars().take(2000).collect::<String>();
    let mut errs = Vec::new();
    if action.needs_reason() && reason.is_empty() {
        errs.push(FieldError::new("reason", "required", ""));
    }
    let today = local_date(db.now());
    let cal = desk.calendar;
    let pct = desk.settings.yellow_percent;
    let mut deadlines = case.deadlines();
    let mut accepted_on = case.accepted_on;
    let mut paused_on = case.paused_on;
    let mut resume_state = case.resume_state;
    let mut correction = case.correction.clone();
    let mut outcome = case.outcome;
    let mut delivery = case.delivery;
    let mut tracking = case.tracking_no.clone();
    let mut department_id = case.department_id;
    let mut answers = case.answers.clone();
    let mut concluded_at = case.concluded_at;
    let mut answer = case.answer;
    let mut extended_days = case.extended_days;
    let mut note = reason.clone();
    let promised = u32::try_from(case.promised_days).unwrap_or(0);
    let legal = u32::try_from(case.legal_days).unwrap_or(0);
    let resumed = |d: Deadlines, since: Option<NaiveDate>| {
        d.shifted(cal, since.map_or(0, |p| cal.working_days_between(p, today)))
    };
    match action {
        CaseAction::Accept => {
            accepted_on = Some(today);
            // A disclosure request's answer period runs from receipt.
            if !case.is_disclosure() {
                deadlines = Deadlines::new(cal, today, promised, legal, pct);
            }
        }
        CaseAction::Correct => {
            let valid: Vec<String> = step
                .fields
                .iter()
                .filter(|k| case.schema.field(k).is_some())
                .cloned()
                .collect();
            resume_state = Some(case.state);
            paused_on = Some(today);
            if !valid.is_empty() {
                let labels: Vec<String> = valid
                    .iter()
                    .filter_map(|k| case.schema.field(k).map(|f| f.label.clone()))
                    .collect();
                note = format!("{reason}（需补正：{}）", labels.join("、"));
            }
            correction = Some(Correction {
                reason: reason.clone(),
                fields: valid,
            });
        }
        CaseAction::Resubmit => {
            let Actor::Applicant(citizen) = &actor else {
                return Err(DomainError::Conflict(crate::Conflict::NotAllowed));
            };
            // Only the answers staff asked about may change.
            let mut posted = step.answers.clone();
            posted.retain(|k, _| case.correctable(k));
            for f in case.schema.fields().filter(|f| case.correctable(&f.key)) {
                let prefix = format!("{}.", f.key);
                answers.retain(|k, _| *k != f.key && !k.starts_with(&prefix));
            }
            answers.extend(posted);
            let profile = profile_of(db, citizen, today).await?;
            case.schema.normalize(&mut answers, &profile);
            let files = case_files(desk.db, case.id).await?;
            let supplied = case_supplied(db, &case.number, &files).await?;
            let form_errors = case.schema.validate(None, &answers, &supplied);
            if !form_errors.is_empty() {
                return Err(DomainError::Form(form_errors));
            }
            if case.is_disclosure() {
                // 第三十条: the period counts from receipt of the corrected request.
                let extra = u32::try_from(case.extended_days).unwrap_or(0);
                deadlines = Deadlines::new(cal, today, promised + extra, legal + extra, pct);
            } else if resume_to == CaseState::Submitted {
                let intake = desk.settings.intake_working_days;
                deadlines = Deadlines::new(cal, today, intake, intake, pct);
            } else {
                deadlines = resumed(deadlines, paused_on);
            }
            paused_on = None;
            resume_state = None;
            correction = None;
        }
        CaseAction::Suspend => paused_on = Some(today),
        CaseAction::Resume => {
            deadlines = resumed(deadlines, paused_on);
            paused_on = None;
        }
        CaseAction::Approve | CaseAction::Deny => {
            outcome = Some(if action == CaseAction::Approve {
                Outcome::Approved
            } else {
                Outcome::Denied
            });
            if case.is_disclosure() {
                match disclosure::check_answer(action, step.answer, &reason) {
                    Ok(a) => {
                        answer = Some(a);
                        note = if reason.is_empty() {
                            a.label().to_string()
                        } else {
                            format!("{}。{reason}", a.label())
                        };
                    }
                    Err(found) => {
                        for e in found {
                            if !errs.contains(&e) {
                                errs.push(e);
                            }
                        }
                    }
                }
            }
        }
        CaseAction::Extend => match disclosure::check_extension(case.extended_days, step.days) {
            Ok(days) => {
                deadlines = deadlines.shifted(cal, days);
                extended_days = i64::from(days);
                note = format!(
                    "延长 {days} 个工作日，答复期限至 {}。理由：{reason}",
                    deadlines.due_on
                );
            }
            Err(found) => errs.extend(found),
        },
        CaseAction::Conclude => concluded_at = Some(db.now().timestamp()),
        CaseAction::Deliver => match step.delivery {
            None => errs.push(FieldError::new("delivery", "required", "")),
            Some(d) => {
                tracking = step.tracking_no.trim().chars().take(60).collect();
                if d == Delivery::Mail && tracking.is_empty() {
                    errs.push(FieldError::new("tracking_no", "required", ""));
                }
                // An approval delivered online needs the document to download.
                if d == Delivery::Online && case.outcome == Some(Outcome::Approved) {
                    let results = case_files(desk.db, case.id)
                        .await?
                        .iter()
                        .filter(|f| f.kind == "result")
                        .count();
                    if results == 0 {
                        errs.push(FieldError::new("result_file", "required", ""));
                    }
                }
                delivery = Some(d);
                note = if d == Delivery::Mail {
                    format!("{}（运单号 {tracking}）", d.label())
                } else {
                    d.label().to_string()
                };
            }
        },
        CaseAction::Transfer => {
            let target = match step.to_unit {
                Some(u) if u != case.department_id => {
                    sqlx::query_scalar::<_, String>("SELECT name FROM departments WHERE id = $1")
                        .bind(u)
                        .fetch_optional(&mut *tx)
                        .await?
                }
                _ => None,
            };
            match (target, step.to_unit) {
                (Some(name), Some(u)) => {
                    department_id = u;
                    note = format!("转至{name}：{reason}");
                }
                _ => errs.push(FieldError::new("to_unit", "required", "")),
            }
        }
        CaseAction::Submit
        | CaseAction::Withdraw
        | CaseAction::Reject
        | CaseAction::Remind
        | CaseAction::Escalate
        | CaseAction::Release
        | CaseAction::Halt => {}
    }
    if !errs.is_empty() {
        return Err(DomainError::Invalid(errs));
    }
    let updated = sqlx::query(
        "UPDATE cases SET state = $2, resume_state = $3, outcome = $4, correction = $5, \
         delivery = $6, tracking_no = $7, accepted_on = $8, due_on = $9, legal_due_on = $10, \
         yellow_on = $11, paused_on = $12, concluded_at = $13, department_id = $14, answers = $15, \
         updated_at = $16, revision = revision + 1, todo = $18, running = $19, answer = $20, \
         extended_days = $21 WHERE id = $1 AND revision = $17",
    )
    .bind(case.id)
    .bind(to.slug())
    .bind(resume_state.map(|s| s.slug()).unwrap_or(""))
    .bind(outcome.map(|o| o.slug()).unwrap_or(""))
    .bind(
        correction
            .as_ref()
            .map(|c| serde_json::to_string(c).unwrap_or_default())
            .unwrap_or_default(),
    )
    .bind(delivery.map(|d| d.slug()).unwrap_or(""))
    .bind(&tracking)
    .bind(accepted_on.map(day_text).unwrap_or_default())
    .bind(day_text(deadlines.due_on))
    .bind(day_text(deadlines.legal_due_on))
    .bind(day_text(deadlines.yellow_on))
    .bind(paused_on.map(day_text).unwrap_or_default())
    .bind(concluded_at)
    .bind(department_id)
    .bind(pii::seal(
        db,
        pii::ctx::CASE_ANSWERS,
        &serde_json::to_string(&answers).unwrap_or_default(),
    )?)
    .bind(db.now().timestamp())
    .bind(case.revision)
    .bind(i64::from(to.staff_todo()))
    .bind(i64::from(to.clock_running()))
    .bind(answer.map(|a| a.slug()).unwrap_or(""))
    .bind(extended_days)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(DomainError::Conflict(crate::Conflict::Stale));
    }
    // An approved case whose item produces an e-license issues it now, to
    // the applicant's verified identity, in the same transaction.
    if action == CaseAction::Conclude && outcome == Some(Outcome::Approved) {
        if let Some(company_id) = case.company_id {
            crate::licenses::issue_for_company_case(&mut tx, db, &case, company_id).await?;
        } else if let Some(cid) = case.citizen_id {
            let applicant = crate::identity::citizen::get(db, cid).await?;
            if !applicant.id_number.is_empty() {
                crate::licenses::issue_for_case(&mut tx, db, &case, &applicant).await?;
            }
        }
    }
    record_event(
        &mut tx,
        case.id,
        &actor.id(),
        &actor.label(),
        action,
        case.state,
        to,
        &note,
    )
    .await?;
    if let Actor::Staff(s) = &actor {
        audit::append(
            &mut tx,
            &Entry::staff(&s.user.username, "case.act", &case.number).detail(action.slug()),
        )
        .await?;
    }
    if deadlines != case.deadlines() && to.clock_running() {
        schedule_supervision(&mut tx, case.id, &deadlines).await?;
    }
    // An item of a bundle that finishes may start the next stage, halt
    // it, or finish the bundle.
    if let Some(bundle) = case.bundle_case_id
        && to.finished()
    {
        super::bundled::after_child(&mut tx, desk, bundle).await?;
    }
    let link = desk.progress_link();
    // A disclosure request is answered, not approved or refused a licence.
    let event = match action {
        CaseAction::Approve | CaseAction::Deny if case.is_disclosure() => "answer",
        _ => action.slug(),
    };
    notify::case_event(
        db,
        &mut tx,
        event,
        &notify::About {
            citizen_id: case.citizen_id,
            phone: &case.applicant_phone,
            number: &case.number,
            service: &case.service_name,
            note: &note,
            progress_url: &link,
        },
    )
    .await?;
    tx.commit().await?;
    let mut conn = desk.db.pool().acquire().await?;
    load(db, &mut conn, number).await
}

// ------------------------------------------------------------------ reading

pub async fn for_staff(db: &Db, staff: &StaffSession, number: &str) -> Result<Case, DomainError> {
    let mut conn = db.pool().acquire().await?;
    let case = load(db, &mut conn, &normalize_number(number)).await?;
    drop(conn);
    if !staff.can(Perm::CasesHandle) {
        return Err(DomainError::NotFound);
    }
    if !staff_sees(staff, case.department_id) {
        return Err(out_of_scope(db, staff, &format!("case:{}", case.number)).await);
    }
    Ok(case)
}

/// A case opened on the workbench: reading an applicant's personal data is
/// on the audit record.
pub async fn open_for_staff(
    db: &Db,
    staff: &StaffSession,
    number: &str,
) -> Result<Case, DomainError> {
    let case = for_staff(db, staff, number).await?;
    audit::record(
        db,
        Entry::staff(&staff.user.username, "case.view", &case.number),
    )
    .await?;
    Ok(case)
}

/// The applicant's case: their own, or their company's while they may act
/// for it (someone else's: not found).
pub async fn for_citizen(db: &Db, citizen: &Citizen, number: &str) -> Result<Case, DomainError> {
    let mut conn = db.pool().acquire().await?;
    let case = load(db, &mut conn, &normalize_number(number)).await?;
    drop(conn);
    if !crate::identity::company::may_reach(db, citizen, case.citizen_id, case.company_id).await? {
        return Err(DomainError::NotFound);
    }
    Ok(case)
}

/// A phone number as people type it (`139 1234 5678`, `+86…`), as stored.
pub(super) fn typed_phone(phone: &str) -> String {
    crate::identity::ids::Phone::parse(phone)
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|_| phone.trim().to_string())
}

/// Public progress lookup: the number and the applicant's phone must match.
/// The phone may be typed as people do (`139 1234 5678`, `+86…`).
pub async fn lookup(db: &Db, number: &str, phone: &str) -> Result<Option<Case>, DomainError> {
    let phone = typed_phone(phone);
    let mut conn = db.pool().acquire().await?;
    match load(db, &mut conn, &normalize_number(number)).await {
        Ok(c) if !phone.is_empty() && c.applicant_phone == phone => Ok(Some(c)),
        Ok(_) | Err(DomainError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn events(db: &Db, case_id: i64) -> Result<Vec<CaseEvent>, DomainError> {
    let rows = sqlx::query(
        "SELECT at, actor_label, action, from_state, to_state, note FROM case_events \
         WHERE case_id = $1 ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let action: String = r.try_get("action")?;
        let from: String = r.try_get("from_state")?;
        let to: String = r.try_get("to_state")?;
        let (Some(action), Some(from_state), Some(to_state)) = (
            CaseAction::from_slug(&action),
            CaseState::from_slug(&from),
            CaseState::from_slug(&to),
        ) else {
            continue;
        };
        out.push(CaseEvent {
            at: r.try_get("at")?,
            actor_label: r.try_get("actor_label")?,
            action,
            from_state,
            to_state,
            note: r.try_get("note")?,
        });
    }
    Ok(out)
}

/// Accepts several submitted cases at once; returns (accepted, skipped numbers).
pub async fn batch_accept(
    desk: &Desk<'_>,
    staff: &StaffSession,
    numbers: &[String],
) -> Result<(usize, Vec<String>), DomainError> {
    let mut accepted = 0;
    let mut skipped = Vec::new();
    for n in numbers.iter().take(200) {
        match act(
            desk,
            Actor::Staff(staff),
            n,
            CaseAction::Accept,
            Step::default(),
        )
        .await
        {
            Ok(_) => accepted += 1,
            Err(DomainError::NotFound | DomainError::Conflict(_)) => skipped.push(n.clone()),
            Err(e) => return Err(e),
        }
    }
    Ok((accepted, skipped))
}

/// Runs a reminder or escalation job: recorded on the case only if the
/// light still says so (a pause may have moved the deadline, in which case
/// a job for the new deadline is already queued).
pub async fn supervise(db: &Db, kind: &str, payload: &str) -> Result<(), DomainError> {
    let v: serde_json::Value = serde_json::from_str(payload).map_err(|_| DomainError::NotFound)?;
    let id = v
        .get("case_id")
        .and_then(serde_json::Value::as_i64)
        .ok_or(DomainError::NotFound)?;
    let mut tx = db.begin().await?;
    let number: Option<String> = sqlx::query_scalar("SELECT number FROM cases WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(number) = number else {
        return Ok(());
    };
    let case = load(db, &mut tx, &number).await?;
    let light = case.light(local_date(db.now()));
    let action = match (kind, light) {
        ("case_remind", Light::Yellow) => CaseAction::Remind,
        ("case_escalate", Light::Red) => CaseAction::Escalate,
        _ => return Ok(()),
    };
    let note = format!("办理期限 {}", case.due_on.format("%Y-%m-%d"));
    record_event(
        &mut tx,
        case.id,
        "system",
        "电子监察",
        action,
        case.state,
        case.state,
        &note,
    )
    .await?;
    // The desk (staff who handle cases in the case's unit) is told; an
    // escalation also reaches the unit above.
    let text = match action {
        CaseAction::Escalate => format!(
            "办件 {}（{}）已超过办理期限 {}，请立即办理。",
            case.number, case.service_name, case.due_on
        ),
        _ => format!(
            "办件 {}（{}）将于 {} 到期，请及时办理。",
            case.number, case.service_name, case.due_on
        ),
    };
    notify::text_unit_staff(
        &mut tx,
        db,
        case.department_id,
        action == CaseAction::Escalate,
        Perm::CasesHandle,
        &text,
    )
    .await?;
    if action == CaseAction::Escalate {
        audit::append(
            &mut tx,
            &Entry::staff("system", "case.escalate", &case.number).detail(note),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Adds a result document (批文, 证照, 决定书) to a decided case.
pub async fn add_result_file(
    desk: &Desk<'_>,
    staff: &StaffSession,
    number: &str,
    upload: Upload<'_>,
) -> Result<i64, DomainError> {
    let case = for_staff(desk.db, staff, number).await?;
    if !matches!(case.state, CaseState::Decided | CaseState::Concluded) {
        return Err(DomainError::Conflict(crate::Conflict::NotAllowed));
    }
    store_file(
        desk,
        Owner::Case(case.id),
        "办理结果",
        "result",
        upload,
        &staff.user.username,
    )
    .await
}

/// The applicant replaces a material while correcting; the old file stays
/// on record, marked replaced.
pub async fn replace_material(
    desk: &Desk<'_>,
    citizen: &Citizen,
    number: &str,
    upload: Upload<'_>,
) -> Result<i64, DomainError> {
    let case = for_citizen(desk.db, citizen, number).await?;
    if case.state != CaseState::Correction || !case.correctable(upload.field_key) {
        return Err(DomainError::Conflict(crate::Conflict::NotAllowed));
    }
    let Some(material) = case.schema.material_for(upload.field_key) else {
        return Err(DomainError::NotFound);
    };
    let field_key = upload.field_key.to_string();
    // Store the new file first: if it is refused, the old one stays current.
    let id = store_file(
        desk,
        Owner::Case(case.id),
        &material,
        "material",
        upload,
        &citizen.label(),
    )
    .await?;
    sqlx::query(
        "UPDATE case_files SET replaced = 1 WHERE case_id = $1 AND field_key = $2 AND id <> $3 \
         AND kind = 'material'",
    )
    .bind(case.id)
    .bind(&field_key)
    .bind(id)
    .execute(desk.db.pool())
    .await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_numbers_read_as_prefix_date_and_count() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default();
        assert_eq!(format_number("ZB", day, 12), "ZB2026112400012");
        assert_eq!(normalize_number(" zb-20261124-00012 "), "ZB2026112400012");
    }
}
