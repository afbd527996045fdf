//! Ratings and rectifications against the database: rating a concluded
//! case once, the rectification a bad rating opens (in the same
//! transaction), the unit's desk, each step with its event and audit
//! record, and the rater's appeal.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use super::workflow::{RectAction, RectFacts, RectRefusal, RectState, next};
use super::{Channel, Checked, Rating, RatingInput, Score, split_tags};
use crate::audit::{self, Entry};
use crate::cases::{Case, CaseState, Desk};
use crate::identity::Perm;
use crate::identity::citizen::Citizen;
use crate::identity::scope::out_of_scope;
use crate::identity::staff::StaffSession;
use crate::time::{local_date, local_day};
use crate::{Conflict, Db, DomainError, FieldError, Tx, notify, pii};

/// The rectification of one bad rating.
#[derive(Debug, Clone, Serialize)]
pub struct Rectification {
    pub id: i64,
    pub rating: Rating,
    pub state: RectState,
    pub due_on: NaiveDate,
    /// `founded` or `unfounded`, once verified.
    pub verdict: String,
    /// 核实情况 (what the unit found).
    pub finding: String,
    /// 整改措施, or why the rating is unfounded.
    pub remedy: String,
    pub resolved_at: Option<i64>,
    /// 回访记录.
    pub followup: String,
    pub followup_at: Option<i64>,
    pub appeal: String,
    pub appealed_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub revision: i64,
}

impl Rectification {
    pub fn facts(&self) -> RectFacts {
        RectFacts {
            real_name: self.rating.real_name,
            appealed: self.appealed_at.is_some(),
        }
    }

    /// Past its deadline and not yet resolved.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        !self.state.resolved() && today > self.due_on
    }

    /// Resolved by the deadline.
    pub fn on_time(&self) -> bool {
        self.resolved_at
            .is_some_and(|at| local_day(at) <= self.due_on)
    }

    /// The unit's next steps.
    pub fn actions(&self) -> Vec<RectAction> {
        [
            RectAction::Verify,
            RectAction::Fix,
            RectAction::Unfounded,
            RectAction::Followup,
        ]
        .into_iter()
        .filter(|a| next(self.state, *a, self.facts()).is_ok())
        .collect()
    }

    /// The rater may still appeal.
    pub fn appealable(&self) -> bool {
        next(self.state, RectAction::Appeal, self.facts()).is_ok()
    }
}

/// One step in a rectification's history.
#[derive(Debug, Clone, Serialize)]
pub struct RectEvent {
    pub at: i64,
    pub actor_label: String,
    pub action: RectAction,
    pub from_state: RectState,
    pub to_state: RectState,
    pub note: String,
}

/// A case its applicant may rate: a result was reached (办结, 送达, or
/// not accepted).
pub fn rateable(case: &Case) -> bool {
    matches!(
        case.state,
        CaseState::Concluded | CaseState::Delivered | CaseState::NotAccepted
    )
}

pub(super) const RATING_COLS: &str = "r.id, r.channel, c.number, r.service_code, r.service_name, r.unit_id, \
    d.name AS unit_name, r.staff, r.staff_label, r.score, r.tags, r.comment, r.real_name, r.day, \
    r.created_at";
pub(super) const RATING_FROM: &str = "ratings r JOIN departments d ON d.id = r.unit_id \
    LEFT JOIN cases c ON c.id = r.case_id";

fn rating_from(db: &Db, row: &sqlx::any::AnyRow) -> Result<Rating, DomainError> {
    let comment: String = row.try_get("comment")?;
    Ok(Rating {
        id: row.try_get("id")?,
        channel: Channel::from_slug(&row.try_get::<String, _>("channel")?),
        case_number: row.try_get("number")?,
        service_code: row.try_get("service_code")?,
        service_name: row.try_get("service_name")?,
        unit_id: row.try_get("unit_id")?,
        unit_name: row.try_get("unit_name")?,
        staff: row.try_get("staff")?,
        staff_label: row.try_get("staff_label")?,
        score: Score::from_value(row.try_get("score")?).ok_or(DomainError::Internal("score"))?,
        tags: split_tags(&row.try_get::<String, _>("tags")?),
        comment: pii::open(db, pii::ctx::RATING_COMMENT, &comment)?,
        real_name: row.try_get::<i64, _>("real_name")? != 0,
        day: row.try_get("day")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The rating of a case, with its rectification when it was bad.
pub async fn of_case(
    db: &Db,
    case_id: i64,
) -> Result<Option<(Rating, Option<Rectification>)>, DomainError> {
    let sql = format!("SELECT {RATING_COLS} FROM {RATING_FROM} WHERE r.case_id = $1");
    with_rectification(db, &sql, case_id).await
}

pub(super) async fn with_rectification(
    db: &Db,
    sql: &str,
    key: i64,
) -> Result<Option<(Rating, Option<Rectification>)>, DomainError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else { return Ok(None) };
    let rating = rating_from(db, &row)?;
    let rect = rectification_of(db, rating.clone()).await?;
    Ok(Some((rating, rect)))
}

const RECT_COLS: &str = "x.id AS rect_id, x.state, x.due_on, x.verdict, x.finding, x.remedy, \
    x.resolved_at, x.followup, x.followup_at, x.appeal, x.appealed_at, x.closed_at, x.revision";

fn rect_from(row: &sqlx::any::AnyRow, rating: Rating) -> Result<Rectification, DomainError> {
    let due: String = row.try_get("due_on")?;
    Ok(Rectification {
        id: row.try_get("rect_id")?,
        state: RectState::from_slug(&row.try_get::<String, _>("state")?)
            .ok_or(DomainError::Internal("rectification state"))?,
        due_on: NaiveDate::parse_from_str(&due, "%Y-%m-%d")
            .map_err(|_| DomainError::Internal("rectification due"))?,
        verdict: row.try_get("verdict")?,
        finding: row.try_get("finding")?,
        remedy: row.try_get("remedy")?,
        resolved_at: row.try_get("resolved_at")?,
        followup: row.try_get("followup")?,
        followup_at: row.try_get("followup_at")?,
        appeal: row.try_get("appeal")?,
        appealed_at: row.try_get("appealed_at")?,
        closed_at: row.try_get("closed_at")?,
        revision: row.try_get("revision")?,
        rating,
    })
}

async fn rectification_of(db: &Db, rating: Rating) -> Result<Option<Rectification>, DomainError> {
    let sql = format!("SELECT {RECT_COLS} FROM rectifications x WHERE x.rating_id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(rating.id)
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| rect_from(&r, rating)).transpose()
}

/// Who a rating of `case` is about: the staff member who last took a
/// step on it (usually the one who concluded it).
async fn rated_staff(tx: &mut Tx, case_id: i64) -> Result<(String, String), DomainError> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT e.actor, e.actor_label FROM case_events e JOIN staff_users u ON u.username = e.actor \
         WHERE e.case_id = $1 ORDER BY e.id DESC LIMIT 1",
    )
    .bind(case_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.unwrap_or_default())
}

/// What a new rating records.
pub(super) struct NewRating<'a> {
    pub channel: Channel,
    pub case_id: Option<i64>,
    pub visit_id: Option<i64>,
    pub citizen_id: Option<i64>,
    pub service_code: &'a str,
    pub service_name: &'a str,
    pub unit_id: i64,
    pub staff: (String, String),
    pub checked: Checked,
    /// The rater's label for the audit log.
    pub actor: String,
    pub target: String,
}

/// Writes a rating and, for a bad one, its rectification (due in the
/// setting's working days) and a text to the unit's staff, in `tx`.
pub(super) async fn insert_rating(
    tx: &mut Tx,
    desk: &Desk<'_>,
    r: NewRating<'_>,
) -> Result<i64, DomainError> {
    let db = desk.db;
    let now = db.now();
    let today = local_date(now);
    let real_name = !r.checked.anonymous;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO ratings (channel, case_id, visit_id, citizen_id, service_code, service_name, \
         unit_id, staff, staff_label, score, tags, comment, real_name, day, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
    )
    .bind(r.channel.slug())
    .bind(r.case_id)
    .bind(r.visit_id)
    .bind(r.citizen_id)
    .bind(r.service_code)
    .bind(r.service_name)
    .bind(r.unit_id)
    .bind(&r.staff.0)
    .bind(&r.staff.1)
    .bind(r.checked.score.value())
    .bind(r.checked.tags.join("、"))
    .bind(pii::seal(db, pii::ctx::RATING_COMMENT, &r.checked.comment)?)
    .bind(i64::from(real_name))
    .bind(today.to_string())
    .bind(now.timestamp())
    .fetch_one(&mut **tx)
    .await?;
    let entry = Entry::citizen(&r.actor, "rating.give", &r.target)
        .detail(r.checked.score.slug().to_string());
    audit::append(tx, &entry).await?;
    if r.checked.score.bad() {
        let due = desk
            .calendar
            .add_working_days(today, desk.settings.rectify_working_days);
        sqlx::query(
            "INSERT INTO rectifications (rating_id, unit_id, state, due_on, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(r.unit_id)
        .bind(RectState::Open.slug())
        .bind(due.to_string())
        .bind(now.timestamp())
        .execute(&mut **tx)
        .await?;
        let text = format!(
            "【差评整改】{}收到一条{}（{}），请于 {due} 前核实整改。",
            r.service_name,
            r.checked.score.label(),
            r.checked.tags.join("、"),
        );
        notify::text_unit_staff(tx, db, r.unit_id, false, Perm::RatingsHandle, &text).await?;
    }
    Ok(id)
}

/// The applicant rates their case, once (一事一评).
pub async fn rate_case(
    desk: &Desk<'_>,
    citizen: &Citizen,
    number: &str,
    input: &RatingInput,
) -> Result<Rating, DomainError> {
    let db = desk.db;
    let case = crate::cases::for_citizen(db, citizen, number).await?;
    if !rateable(&case) {
        return Err(Conflict::NotAllowed.into());
    }
    let checked = input.check().map_err(DomainError::Invalid)?;
    let mut tx = db.begin().await?;
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM ratings WHERE case_id = $1")
        .bind(case.id)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(Conflict::AlreadyRated.into());
    }
    let staff = rated_staff(&mut tx, case.id).await?;
    let saved = insert_rating(
        &mut tx,
        desk,
        NewRating {
            channel: Channel::Online,
            case_id: Some(case.id),
            visit_id: None,
            citizen_id: Some(citizen.id),
            service_code: &case.service_code,
            service_name: &case.service_name,
            unit_id: case.department_id,
            staff,
            checked,
            actor: citizen.label(),
            target: case.number.clone(),
        },
    )
    .await;
    let committed = match saved {
        Ok(_) => tx.commit().await.map_err(DomainError::from),
        Err(e) => Err(e),
    };
    if let Err(e) = committed {
        // Two submissions at once: the second finds the first.
        return Err(match of_case(db, case.id).await? {
            Some(_) => Conflict::AlreadyRated.into(),
            None => e,
        });
    }
    of_case(db, case.id)
        .await?
        .map(|(r, _)| r)
        .ok_or(DomainError::NotFound)
}

// ------------------------------------------------------------ the unit's desk

/// Which rectifications a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RectTab {
    /// Not yet closed.
    #[default]
    Todo,
    Overdue,
    Closed,
    All,
}

impl RectTab {
    pub const ALL: [RectTab; 4] = [
        RectTab::Todo,
        RectTab::Overdue,
        RectTab::Closed,
        RectTab::All,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            RectTab::Todo => "todo",
            RectTab::Overdue => "overdue",
            RectTab::Closed => "closed",
            RectTab::All => "all",
        }
    }

    pub fn from_slug(s: &str) -> RectTab {
        RectTab::ALL
            .into_iter()
            .find(|t| t.slug() == s)
            .unwrap_or_default()
    }
}

/// A staff member may work the rectifications of units in their scope.
pub fn staff_sees(staff: &StaffSession, unit_id: i64) -> bool {
    staff.can(Perm::RatingsHandle) && staff.scope.covers(unit_id)
}

/// The rectifications of the units in `staff`'s scope on `tab`, the
/// nearest deadline first (closed ones: the latest first).
pub async fn rectifications(
    db: &Db,
    staff: &StaffSession,
    tab: RectTab,
) -> Result<Vec<Rectification>, DomainError> {
    // One query: the rating and its rectification together.
    let sql = format!(
        "SELECT {RATING_COLS}, {RECT_COLS} FROM {RATING_FROM} \
         JOIN rectifications x ON x.rating_id = r.id ORDER BY x.due_on, x.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(db.pool())
        .await?;
    let today = local_date(db.now());
    let mut out = Vec::new();
    for row in rows {
        let unit: i64 = row.try_get("unit_id")?;
        if !staff_sees(staff, unit) {
            continue;
        }
        let x = rect_from(&row, rating_from(db, &row)?)?;
        let keep = match tab {
            RectTab::Todo => x.state.todo(),
            RectTab::Overdue => x.overdue(today),
            RectTab::Closed => !x.state.todo(),
            RectTab::All => true,
        };
        if keep {
            out.push(x);
        }
    }
    if tab == RectTab::Closed {
        out.reverse();
    }
    Ok(out)
}

/// One rectification as the unit's staff read it (out of scope: not found,
/// and the attempt is audited).
pub async fn rectification_for_staff(
    db: &Db,
    staff: &StaffSession,
    id: i64,
) -> Result<Rectification, DomainError> {
    let x = rectification(db, id).await?.ok_or(DomainError::NotFound)?;
    if !staff_sees(staff, x.rating.unit_id) {
        return Err(out_of_scope(db, staff, &format!("rectification:{id}")).await);
    }
    Ok(x)
}

async fn rectification(db: &Db, id: i64) -> Result<Option<Rectification>, DomainError> {
    let sql = format!(
        "SELECT {RATING_COLS} FROM {RATING_FROM} JOIN rectifications x ON x.rating_id = r.id \
         WHERE x.id = $1"
    );
    Ok(with_rectification(db, &sql, id).await?.and_then(|(_, x)| x))
}

/// The history of a rectification, oldest first.
pub async fn rect_events(db: &Db, id: i64) -> Result<Vec<RectEvent>, DomainError> {
    let rows: Vec<(i64, String, String, String, String, String)> = sqlx::query_as(
        "SELECT at, actor_label, action, from_state, to_state, note FROM rectification_events \
         WHERE rectification_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(at, actor_label, a, f, t, note)| {
            Some(RectEvent {
                at,
                actor_label,
                action: RectAction::from_slug(&a)?,
                from_state: RectState::from_slug(&f)?,
                to_state: RectState::from_slug(&t)?,
                note,
            })
        })
        .collect())
}

/// Who takes a step.
pub enum RectActor<'a> {
    Staff(&'a StaffSession),
    /// The rater (the case's applicant, or the visitor holding the link).
    Rater(String),
}

/// The longest note kept.
const MAX_NOTE: usize = 2000;

/// One step of a rectification, in one transaction with its event, audit
/// record and (on resolution) the rater's message.
pub async fn act(
    desk: &Desk<'_>,
    actor: RectActor<'_>,
    id: i64,
    action: RectAction,
    note: &str,
    revision: Option<i64>,
) -> Result<Rectification, DomainError> {
    let db = desk.db;
    let x = rectification(db, id).await?.ok_or(DomainError::NotFound)?;
    match &actor {
        RectActor::Staff(s) if !staff_sees(s, x.rating.unit_id) => {
            return Err(out_of_scope(db, s, &format!("rectification:{id}")).await);
        }
        RectActor::Staff(_) if action.by_rater() => return Err(Conflict::NotAllowed.into()),
        RectActor::Rater(_) if !action.by_rater() => return Err(Conflict::NotAllowed.into()),
        _ => {}
    }
    if revision.is_some_and(|r| r != x.revision) {
        return Err(Conflict::Stale.into());
    }
    let to = next(x.state, action, x.facts()).map_err(|r| match r {
        RectRefusal::AppealedBefore => {
            DomainError::Invalid(vec![FieldError::new("appeal", "appealed_before", "")])
        }
        _ => Conflict::NotAllowed.into(),
    })?;
    let note: String = note.trim().chars().take(MAX_NOTE).collect();
    if action.needs_note() && note.is_empty() {
        let field = if action == RectAction::Appeal {
            "appeal"
        } else {
            "note"
        };
        return Err(DomainError::Invalid(vec![FieldError::new(
            field, "required", "",
        )]));
    }
    let now = db.now();
    let today = local_date(now);
    let at = now.timestamp();
    let mut verdict = x.verdict.clone();
    let mut finding = x.finding.clone();
    let mut remedy = x.remedy.clone();
    let mut resolved_at = x.resolved_at;
    let mut followup = x.followup.clone();
    let mut followup_at = x.followup_at;
    let mut appeal = x.appeal.clone();
    let mut appealed_at = x.appealed_at;
    let mut due_on = x.due_on;
    match action {
        RectAction::Verify => {
            verdict = "founded".into();
            finding = note.clone();
        }
        RectAction::Fix => {
            if verdict.is_empty() {
                verdict = "founded".into();
            }
            remedy = note.clone();
            resolved_at = Some(at);
        }
        RectAction::Unfounded => {
            verdict = "unfounded".into();
            remedy = note.clone();
            resolved_at = Some(at);
        }
        RectAction::Followup => {
            followup = note.clone();
            followup_at = Some(at);
        }
        RectAction::Appeal => {
            // Looked at again from the start, with a new deadline.
            appeal = note.clone();
            appealed_at = Some(at);
            verdict.clear();
            resolved_at = None;
            due_on = desk
                .calendar
                .add_working_days(today, desk.settings.rectify_working_days);
        }
        RectAction::Remind => {}
    }
    let closed_at = (to == RectState::Closed).then_some(at);
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        "UPDATE rectifications SET state = $1, verdict = $2, finding = $3, remedy = $4, \
         resolved_at = $5, followup = $6, followup_at = $7, appeal = $8, appealed_at = $9, \
         due_on = $10, closed_at = $11, revision = revision + 1 WHERE id = $12 AND revision = $13",
    )
    .bind(to.slug())
    .bind(&verdict)
    .bind(&finding)
    .bind(&remedy)
    .bind(resolved_at)
    .bind(&followup)
    .bind(followup_at)
    .bind(&appeal)
    .bind(appealed_at)
    .bind(due_on.to_string())
    .bind(closed_at)
    .bind(id)
    .bind(x.revision)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(Conflict::Stale.into());
    }
    let (actor_id, label, entry) = match &actor {
        RectActor::Staff(s) => (
            s.user.username.clone(),
            s.user.display_name.clone(),
            Entry::staff(&s.user.username, "rectification.act", id.to_string()),
        ),
        RectActor::Rater(who) => (
            who.clone(),
            "评价人".to_string(),
            Entry::citizen(who, "rectification.appeal", id.to_string()),
        ),
    };
    sqlx::query(
        "INSERT INTO rectification_events (rectification_id, at, actor, actor_label, action, \
         from_state, to_state, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(at)
    .bind(&actor_id)
    .bind(&label)
    .bind(action.slug())
    .bind(x.state.slug())
    .bind(to.slug())
    .bind(&note)
    .execute(&mut *tx)
    .await?;
    audit::append(&mut tx, &entry.detail(action.slug())).await?;
    if matches!(action, RectAction::Fix | RectAction::Unfounded) {
        tell_rater(&mut tx, desk, &x, action, &note).await?;
    }
    if action == RectAction::Appeal {
        let text = format!(
            "【差评申诉】{}的差评整改结果被评价人申诉，请于 {due_on} 前重新核实。",
            x.rating.service_name
        );
        notify::text_unit_staff(
            &mut tx,
            db,
            x.rating.unit_id,
            false,
            Perm::RatingsHandle,
            &text,
        )
        .await?;
    }
    tx.commit().await?;
    rectification(db, id).await?.ok_or(DomainError::NotFound)
}

/// Tells a real-name rater how their bad rating was dealt with.
async fn tell_rater(
    tx: &mut Tx,
    desk: &Desk<'_>,
    x: &Rectification,
    action: RectAction,
    note: &str,
) -> Result<(), DomainError> {
    if !x.rating.real_name {
        return Ok(());
    }
    let db = desk.db;
    let (citizen_id, phone) = match x.rating.channel {
        Channel::Online => {
            let row: Option<(Option<i64>, String)> = sqlx::query_as(
                "SELECT c.citizen_id, c.applicant_phone FROM ratings r \
                 JOIN cases c ON c.id = r.case_id WHERE r.id = $1",
            )
            .bind(x.rating.id)
            .fetch_optional(&mut **tx)
            .await?;
            match row {
                Some((c, p)) => (c, pii::open(db, pii::ctx::CASE_PHONE, &p)?),
                None => return Ok(()),
            }
        }
        Channel::Counter => {
            let p: Option<String> = sqlx::query_scalar(
                "SELECT v.phone FROM ratings r JOIN rating_visits v ON v.id = r.visit_id \
                 WHERE r.id = $1",
            )
            .bind(x.rating.id)
            .fetch_optional(&mut **tx)
            .await?;
            match p {
                Some(p) => (None, pii::open(db, pii::ctx::VISIT_PHONE, &p)?),
                None => return Ok(()),
            }
        }
    };
    let event = if action == RectAction::Fix {
        "rating-fixed"
    } else {
        "rating-unfounded"
    };
    notify::case_event(
        db,
        tx,
        event,
        &notify::About {
            citizen_id,
            phone: &phone,
            number: x.rating.case_number.as_deref().unwrap_or(""),
            service: &x.rating.service_name,
            note,
            progress_url: &desk.progress_link(),
        },
    )
    .await
}

/// The applicant appeals the outcome of their case's bad rating, once.
pub async fn appeal_case(
    desk: &Desk<'_>,
    citizen: &Citizen,
    number: &str,
    text: &str,
) -> Result<Rectification, DomainError> {
    let case = crate::cases::for_citizen(desk.db, citizen, number).await?;
    let (_, x) = of_case(desk.db, case.id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let x = x.ok_or(DomainError::NotFound)?;
    act(
        desk,
        RectActor::Rater(citizen.label()),
        x.id,
        RectAction::Appeal,
        text,
        None,
    )
    .await
}
