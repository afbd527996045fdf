//! Filing and following a 一件事 (bundle): one draft of the merged form,
//! then one parent record and one case per applicable item, each in its
//! own department with only its own fields and materials. Items of the
//! first stage are filed for acceptance at once, later ones wait
//! (待前序办结) until every earlier item is approved, and are halted if one
//! is not. A 补正 on one item pauses only that item. The bundle finishes
//! when every item does; its expected date is its slowest item's.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use super::calendar::WorkCalendar;
use super::clock::Deadlines;
use super::desk::Desk;
use super::drafts::{
    Draft, NewCase, can_apply, find_draft, insert_case, save_draft, seal_answers, start_draft,
};
use super::files::{draft_files, draft_supplied};
use super::profile_of;
use super::repo::schedule_supervision;
use super::repo::{Case, CaseEvent, day_text, events, load, next_number, record_event};
use super::workflow::{CaseAction, CaseState, Outcome};
use crate::bundles::merge::{Merged, Part, merge};
use crate::bundles::{self, Bundle};
use crate::catalog::ServiceItem;
use crate::catalog::enums::vocabulary;
use crate::forms::{Answers, FormError};
use crate::identity::citizen::Citizen;
use crate::time::local_date;
use crate::{Db, DomainError, Tx, notify, pii};

/// The key a bundle's draft is kept under (drafts are per person and key).
pub fn draft_key(bundle_code: &str) -> String {
    format!("{BUNDLE_DRAFT}{bundle_code}")
}

pub const BUNDLE_DRAFT: &str = "bundle:";

/// The applicable items for these answers and the form that asks them.
pub struct Plan {
    pub merged: Merged,
    /// The item of each of `merged.children`, in the same order.
    pub items: Vec<ServiceItem>,
}

/// Works out the applicable items and merges their current forms.
pub async fn plan(db: &Db, bundle: &Bundle, answers: &Answers) -> Result<Plan, DomainError> {
    let available = bundles::items_of(db, bundle).await?;
    let mut items = Vec::new();
    let mut parts = Vec::new();
    let applicable = bundle.applicable(answers);
    for bi in &applicable {
        let Some(item) = available.iter().find(|s| s.code == bi.code) else {
            continue;
        };
        let (_, schema) = crate::forms::repo::current(db, item).await?;
        // What the applicable items of earlier stages supply.
        let supplied: Vec<(String, String)> = applicable
            .iter()
            .filter(|e| e.stage < bi.stage)
            .filter_map(|e| {
                let by = available.iter().find(|s| s.code == e.code)?;
                Some(e.supplies.iter().map(|m| (m.clone(), by.name.clone())))
            })
            .flatten()
            .collect();
        items.push(item.clone());
        parts.push((bi.stage, schema, supplied));
    }
    let merged = merge(
        &bundle.name,
        &bundle.questions,
        &items
            .iter()
            .zip(&parts)
            .map(|(item, (stage, schema, supplied))| Part {
                code: &item.code,
                name: &item.name,
                department: &item.department_name,
                stage: *stage,
                schema,
                supplied: supplied.clone(),
            })
            .collect::<Vec<_>>(),
    );
    Ok(Plan { merged, items })
}

/// Keeps the draft's form in step with its answers (a changed answer to a
/// question changes the items, so the form).
async fn refresh(
    db: &Db,
    citizen: &Citizen,
    bundle: &Bundle,
    draft: &mut Draft,
) -> Result<Plan, DomainError> {
    let p = plan(db, bundle, &draft.answers).await?;
    if p.merged.schema != draft.schema {
        draft.schema = p.merged.schema.clone();
        draft.schema.normalize(
            &mut draft.answers,
            &profile_of(db, citizen, local_date(db.now())).await?,
        );
        draft.page = draft.page.min(draft.schema.pages.len());
        sqlx::query(
            "UPDATE case_drafts SET form_schema = $2, answers = $3, page = $4 WHERE id = $1",
        )
        .bind(draft.id)
        .bind(serde_json::to_string(&draft.schema).unwrap_or_default())
        .bind(seal_answers(db, &draft.answers)?)
        .bind(i64::try_from(draft.page).unwrap_or(0))
        .execute(db.pool())
        .await?;
    }
    Ok(p)
}

/// Whether a person may apply for every one of `items` (published,
/// online, at their real-name level).
pub fn can_apply_all<I: std::borrow::Borrow<ServiceItem>>(
    citizen: &Citizen,
    items: &[I],
) -> Result<(), DomainError> {
    items
        .iter()
        .try_for_each(|i| can_apply(citizen, i.borrow()))
}

/// The real-name level the bundle needs: its most demanding item's.
pub fn realname_level<I: std::borrow::Borrow<ServiceItem>>(items: &[I]) -> i64 {
    items
        .iter()
        .map(|i| i.borrow().realname_level)
        .max()
        .unwrap_or(1)
}

/// The person's draft of the bundle, started when there is none.
pub async fn bundle_draft(
    db: &Db,
    citizen: &Citizen,
    bundle: &Bundle,
) -> Result<(Draft, Plan), DomainError> {
    let key = super::drafts::key_for(citizen, &draft_key(&bundle.code));
    let mut draft = match find_draft(db, citizen.id, &key).await? {
        Some(d) => d,
        None => {
            let p = plan(db, bundle, &Answers::new()).await?;
            start_draft(db, citizen, &key, 0, p.merged.schema).await?
        }
    };
    let p = refresh(db, citizen, bundle, &mut draft).await?;
    Ok((draft, p))
}

/// Saves a page of the bundle's form (see `save_draft`); the form follows
/// the answers to the questions.
pub async fn save_bundle_draft(
    db: &Db,
    citizen: &Citizen,
    bundle: &Bundle,
    draft: &mut Draft,
    posted: &Answers,
    page: usize,
) -> Result<Plan, DomainError> {
    save_draft(db, citizen, draft, posted, page).await?;
    refresh(db, citizen, bundle, draft).await
}

/// The parent record of a filed bundle and its items' cases.
#[derive(Debug, Clone, Serialize)]
pub struct BundleCase {
    pub id: i64,
    pub number: String,
    pub bundle_code: String,
    pub bundle_name: String,
    pub citizen_id: Option<i64>,
    pub submitted_at: i64,
    pub finished_at: Option<i64>,
    /// In stage order.
    pub children: Vec<Case>,
}

vocabulary!(
    /// Where a bundle stands, read from its items.
    BundleStatus {
        Working => "working", "办理中";
        Correction => "correction", "待补正";
        Finished => "finished", "已办结";
    }
);

impl BundleCase {
    pub fn status(&self) -> BundleStatus {
        if self.children.iter().all(|c| c.state.finished()) {
            BundleStatus::Finished
        } else if self
            .children
            .iter()
            .any(|c| c.state == CaseState::Correction)
        {
            BundleStatus::Correction
        } else {
            BundleStatus::Working
        }
    }

    /// Items approved and finished, out of all.
    pub fn done_count(&self) -> usize {
        self.children
            .iter()
            .filter(|c| c.state.finished() && c.outcome == Some(Outcome::Approved))
            .count()
    }
}

/// One line of the expected dates: an item and when it should finish.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expected {
    pub number: String,
    pub name: String,
    pub on: NaiveDate,
}

fn ts_date(ts: i64) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp(ts, 0).map(local_date)
}

/// When each item should finish, and the bundle's date: its slowest
/// item's. An accepted item is due on its deadline; one awaiting
/// acceptance on the intake deadline plus its promised days; a waiting
/// item after the slowest earlier stage, the same way. Closed items
/// without a conclusion are left out.
pub fn expected(
    children: &[Case],
    cal: &WorkCalendar,
    intake: u32,
    today: NaiveDate,
) -> (Vec<Expected>, Option<Expected>) {
    let mut out: Vec<Expected> = Vec::new();
    let mut stage_end: Vec<(i64, NaiveDate)> = Vec::new();
    for c in children {
        let promised = u32::try_from(c.promised_days).unwrap_or(0);
        let on = match c.state {
            CaseState::Concluded | CaseState::Delivered => {
                c.concluded_at.and_then(ts_date).or(Some(today))
            }
            CaseState::NotAccepted | CaseState::Withdrawn | CaseState::Halted => None,
            CaseState::Submitted => Some(cal.add_working_days(c.due_on, promised)),
            CaseState::Waiting => {
                let start = stage_end
                    .iter()
                    .filter(|(s, _)| *s < c.bundle_stage)
                    .map(|(_, d)| *d)
                    .max()
                    .unwrap_or(today)
                    .max(today);
                Some(cal.add_working_days(start, intake + promised))
            }
            CaseState::Correction
            | CaseState::Accepted
            | CaseState::Suspended
            | CaseState::Decided => Some(c.due_on),
        };
        if let Some(on) = on {
            stage_end.push((c.bundle_stage, on));
            out.push(Expected {
                number: c.number.clone(),
                name: c.service_name.clone(),
                on,
            });
        }
    }
    let slowest = out.iter().max_by_key(|e| e.on).cloned();
    (out, slowest)
}

/// What happens to the waiting items when an item finishes.
#[derive(Debug, PartialEq, Eq)]
pub enum NextStep {
    Nothing,
    /// The earlier stages are all approved: these start.
    Release(Vec<i64>),
    /// An earlier item was not approved (its name): these stop.
    Halt(Vec<i64>, String),
}

/// (id, stage, state, outcome, name) of each item.
pub type ChildState = (i64, i64, CaseState, Option<Outcome>, String);

/// The rule: the lowest waiting stage starts when every item of the
/// stages before it is finished and approved; when they are all finished
/// and one is not approved, every waiting item stops.
pub fn next_step(children: &[ChildState]) -> NextStep {
    let Some(stage) = children
        .iter()
        .filter(|c| c.2 == CaseState::Waiting)
        .map(|c| c.1)
        .min()
    else {
        return NextStep::Nothing;
    };
    let earlier: Vec<&ChildState> = children.iter().filter(|c| c.1 < stage).collect();
    if earlier.iter().any(|c| !c.2.finished()) {
        return NextStep::Nothing;
    }
    let approved = |c: &&ChildState| {
        matches!(c.2, CaseState::Concluded | CaseState::Delivered) && c.3 == Some(Outcome::Approved)
    };
    if let Some(refused) = earlier.iter().find(|c| !approved(c)) {
        return NextStep::Halt(
            children
                .iter()
                .filter(|c| c.2 == CaseState::Waiting)
                .map(|c| c.0)
                .collect(),
            refused.4.clone(),
        );
    }
    NextStep::Release(
        children
            .iter()
            .filter(|c| c.2 == CaseState::Waiting && c.1 == stage)
            .map(|c| c.0)
            .collect(),
    )
}

/// Files the bundle: everything validated again, one parent record, one
/// case per applicable item with its own fields, materials and e-licenses,
/// one message to the applicant. Returns the bundle's number.
pub async fn submit_bundle(
    desk: &Desk<'_>,
    citizen: &Citizen,
    bundle: &Bundle,
) -> Result<String, DomainError> {
    let db = desk.db;
    let key = super::drafts::key_for(citizen, &draft_key(&bundle.code));
    let Some(mut draft) = find_draft(db, citizen.id, &key).await? else {
        return Err(DomainError::NotFound);
    };
    let p = refresh(db, citizen, bundle, &mut draft).await?;
    can_apply_all(citizen, &p.items)?;
    let today = local_date(db.now());
    draft
        .schema
        .normalize(&mut draft.answers, &profile_of(db, citizen, today).await?);
    let files = draft_files(db, draft.id).await?;
    let supplied = draft_supplied(db, draft.id, &files).await?;
    let mut errors = draft.schema.validate(None, &draft.answers, &supplied);
    if p.merged.children.is_empty() && errors.is_empty() {
        errors.push(FormError {
            key: bundle
                .questions
                .first()
                .map(|q| bundles::question_key(&q.key))
                .unwrap_or_default(),
            code: "bundle_nothing",
            detail: String::new(),
        });
    }
    if !errors.is_empty() {
        return Err(DomainError::Form(errors));
    }
    let first_stage = p.merged.children.iter().map(|c| c.stage).min().unwrap_or(1);
    let pct = desk.settings.yellow_percent;
    let intake = desk.settings.intake_working_days;
    let d = Deadlines::new(desk.calendar, today, intake, intake, pct);
    let pick = |key: &str, fallback: &str| {
        draft
            .answers
            .get(key)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| fallback.to_string())
    };
    let name = pick("applicant_name", &citizen.name);
    let phone = pick("applicant_phone", &citizen.phone);
    let mut tx = db.begin().await?;
    let number = next_number(&mut tx, &desk.settings.number_prefix, today).await?;
    let bundle_id: i64 = sqlx::query_scalar(
        "INSERT INTO bundle_cases (number, bundle_code, bundle_name, citizen_id, submitted_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(&number)
    .bind(&bundle.code)
    .bind(&bundle.name)
    .bind(citizen.id)
    .bind(db.now().timestamp())
    .fetch_one(&mut *tx)
    .await?;
    let mut names = Vec::new();
    for (child, item) in p.merged.children.iter().zip(&p.items) {
        let dept: i64 = sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
            .bind(&item.department_code)
            .fetch_one(&mut *tx)
            .await?;
        let child_number = next_number(&mut tx, &desk.settings.number_prefix, today).await?;
        let state = if child.stage == first_stage {
            CaseState::Submitted
        } else {
            CaseState::Waiting
        };
        let case_id = insert_case(
            &mut tx,
            db,
            &NewCase {
                number: &child_number,
                item,
                department_id: dept,
                citizen_id: Some(citizen.id),
                company_id: citizen.acting.as_ref().map(|c| c.id),
                name: &name,
                phone: &phone,
                form_version: 0,
                schema: &child.schema,
                answers: &child.answers_for(&draft.answers),
                state,
                deadlines: &d,
                procedure: "",
                bundle: Some((bundle_id, child.stage)),
            },
        )
        .await?;
        // The item's materials: the merged uploads and e-licenses under
        // the item's own keys (one stored body serves every item).
        for f in child.schema.file_fields() {
            let Some(mk) = child.merged_key(&f.key) else {
                continue;
            };
            let material = child.schema.material_for(&f.key).unwrap_or_default();
            sqlx::query(
                "INSERT INTO case_files (case_id, field_key, material, kind, file_name, \
                 content_type, size, sha256, storage_key, uploaded_by, uploaded_at, replaced) \
                 SELECT $1, $2, $3, kind, file_name, content_type, size, sha256, storage_key, \
                 uploaded_by, uploaded_at, replaced FROM case_files WHERE draft_id = $4 \
                 AND field_key = $5 ORDER BY id",
            )
            .bind(case_id)
            .bind(&f.key)
            .bind(&material)
            .bind(draft.id)
            .bind(mk)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO license_uses (license_id, kind, case_number, field_key, material, \
                 actor, at) SELECT license_id, kind, $1, $2, $3, actor, at FROM license_uses \
                 WHERE draft_id = $4 AND field_key = $5 AND kind = 'authorize'",
            )
            .bind(&child_number)
            .bind(&f.key)
            .bind(&material)
            .bind(draft.id)
            .bind(mk)
            .execute(&mut *tx)
            .await?;
        }
        record_event(
            &mut tx,
            case_id,
            &citizen.label(),
            &citizen.masked_name(),
            CaseAction::Submit,
            state,
            state,
            &format!("{}（{number}）", bundle.name),
        )
        .await?;
        if state == CaseState::Submitted {
            schedule_supervision(&mut tx, case_id, &d).await?;
        }
        names.push(item.name.clone());
    }
    sqlx::query("DELETE FROM license_uses WHERE draft_id = $1 AND kind = 'authorize'")
        .bind(draft.id)
        .execute(&mut *tx)
        .await?;
    // The draft's file rows go with it; the bodies now belong to the items.
    sqlx::query("DELETE FROM case_files WHERE draft_id = $1")
        .bind(draft.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM case_drafts WHERE id = $1")
        .bind(draft.id)
        .execute(&mut *tx)
        .await?;
    let link = desk.progress_link();
    notify::case_event(
        db,
        &mut tx,
        "bundle",
        &notify::About {
            citizen_id: Some(citizen.id),
            phone: &phone,
            number: &number,
            service: &bundle.name,
            note: &names.join("、"),
            progress_url: &link,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(number)
}

/// Runs after an item of bundle `bundle_id` finished, in its transaction:
/// starts or halts the waiting items, and finishes the bundle.
pub(super) async fn after_child(
    tx: &mut Tx,
    desk: &Desk<'_>,
    bundle_id: i64,
) -> Result<(), DomainError> {
    let db = desk.db;
    let rows = sqlx::query(
        "SELECT id, number, service_name, bundle_stage, state, outcome, citizen_id, \
         applicant_phone FROM cases WHERE bundle_case_id = $1 ORDER BY bundle_stage, id",
    )
    .bind(bundle_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut children: Vec<ChildState> = Vec::new();
    for r in &rows {
        let state: String = r.try_get("state")?;
        let outcome: String = r.try_get("outcome")?;
        children.push((
            r.try_get("id")?,
            r.try_get("bundle_stage")?,
            CaseState::from_slug(&state).unwrap_or(CaseState::Submitted),
            Outcome::from_slug(&outcome),
            r.try_get("service_name")?,
        ));
    }
    let today = local_date(db.now());
    let now = db.now().timestamp();
    let (ids, to, action, note) = match next_step(&children) {
        NextStep::Nothing => (
            Vec::new(),
            CaseState::Waiting,
            CaseAction::Release,
            String::new(),
        ),
        NextStep::Release(ids) => (
            ids,
            CaseState::Submitted,
            CaseAction::Release,
            String::new(),
        ),
        NextStep::Halt(ids, refused) => (
            ids,
            CaseState::Halted,
            CaseAction::Halt,
            format!("前序事项“{refused}”未获准予"),
        ),
    };
    let pct = desk.settings.yellow_percent;
    let intake = desk.settings.intake_working_days;
    let d = Deadlines::new(desk.calendar, today, intake, intake, pct);
    for id in &ids {
        sqlx::query(
            "UPDATE cases SET state = $2, due_on = $3, legal_due_on = $4, yellow_on = $5, \
             todo = $6, running = $7, updated_at = $8, revision = revision + 1 \
             WHERE id = $1 AND state = 'waiting'",
        )
        .bind(id)
        .bind(to.slug())
        .bind(day_text(d.due_on))
        .bind(day_text(d.legal_due_on))
        .bind(day_text(d.yellow_on))
        .bind(i64::from(to.staff_todo()))
        .bind(i64::from(to.clock_running()))
        .bind(now)
        .execute(&mut **tx)
        .await?;
        record_event(
            tx,
            *id,
            "system",
            "一件事联办",
            action,
            CaseState::Waiting,
            to,
            &note,
        )
        .await?;
        if to == CaseState::Submitted {
            schedule_supervision(tx, *id, &d).await?;
            supply_results(tx, db, bundle_id, *id).await?;
        }
        let Some(r) = rows
            .iter()
            .find(|r| r.try_get::<i64, _>("id").ok() == Some(*id))
        else {
            continue;
        };
        let number: String = r.try_get("number")?;
        let service: String = r.try_get("service_name")?;
        let phone = pii::open(
            db,
            pii::ctx::CASE_PHONE,
            &r.try_get::<String, _>("applicant_phone")?,
        )?;
        let link = desk.progress_link();
        notify::case_event(
            db,
            tx,
            action.slug(),
            &notify::About {
                citizen_id: r.try_get("citizen_id")?,
                phone: &phone,
                number: &number,
                service: &service,
                note: &note,
                progress_url: &link,
            },
        )
        .await?;
    }
    let all_done = children.iter().all(|c| {
        if ids.contains(&c.0) {
            to.finished()
        } else {
            c.2.finished()
        }
    });
    if all_done {
        sqlx::query(
            "UPDATE bundle_cases SET finished_at = $2 WHERE id = $1 AND finished_at IS NULL",
        )
        .bind(bundle_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A released item receives the documents the earlier items supply (the
/// bundle's `supplies`): their result files become its materials, so its
/// desk has the 出生医学证明 the hospital issued without asking anyone.
async fn supply_results(
    tx: &mut Tx,
    db: &Db,
    bundle_id: i64,
    case_id: i64,
) -> Result<(), DomainError> {
    let code: String = sqlx::query_scalar("SELECT bundle_code FROM bundle_cases WHERE id = $1")
        .bind(bundle_id)
        .fetch_one(&mut **tx)
        .await?;
    let bundle = match bundles::get(db, &code).await {
        Ok(b) => b,
        Err(DomainError::NotFound) => return Ok(()),
        Err(e) => return Err(e),
    };
    let (schema, stage): (String, i64) =
        sqlx::query_as("SELECT form_schema, bundle_stage FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_one(&mut **tx)
            .await?;
    let schema: crate::forms::FormSchema =
        serde_json::from_str(&schema).map_err(|_| DomainError::Internal("form schema"))?;
    let earlier: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, service_code FROM cases WHERE bundle_case_id = $1 AND bundle_stage < $2",
    )
    .bind(bundle_id)
    .bind(stage)
    .fetch_all(&mut **tx)
    .await?;
    for (from, code) in earlier {
        let Some(item) = bundle.items.iter().find(|i| i.code == code) else {
            continue;
        };
        for f in schema.file_fields() {
            let material = schema.material_for(&f.key).unwrap_or_default();
            let norm = crate::bundles::merge::material_norm(&material);
            if !item
                .supplies
                .iter()
                .any(|s| crate::bundles::merge::material_norm(s) == norm)
            {
                continue;
            }
            sqlx::query(
                "INSERT INTO case_files (case_id, field_key, material, kind, file_name, \
                 content_type, size, sha256, storage_key, uploaded_by, uploaded_at, replaced) \
                 SELECT $1, $2, $3, 'material', file_name, content_type, size, sha256, \
                 storage_key, uploaded_by, uploaded_at, 0 FROM case_files WHERE case_id = $4 \
                 AND kind = 'result' AND replaced = 0 ORDER BY id",
            )
            .bind(case_id)
            .bind(&f.key)
            .bind(&material)
            .bind(from)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ reading

async fn read(db: &Db, row: &sqlx::any::AnyRow) -> Result<BundleCase, DomainError> {
    let id: i64 = row.try_get("id")?;
    let numbers: Vec<String> = sqlx::query_scalar(
        "SELECT number FROM cases WHERE bundle_case_id = $1 ORDER BY bundle_stage, id",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    let mut conn = db.pool().acquire().await?;
    let mut children = Vec::new();
    for n in numbers {
        children.push(load(db, &mut conn, &n).await?);
    }
    Ok(BundleCase {
        id,
        number: row.try_get("number")?,
        bundle_code: row.try_get("bundle_code")?,
        bundle_name: row.try_get("bundle_name")?,
        citizen_id: row.try_get("citizen_id")?,
        submitted_at: row.try_get("submitted_at")?,
        finished_at: row.try_get("finished_at")?,
        children,
    })
}

const SELECT_BUNDLE: &str = "SELECT id, number, bundle_code, bundle_name, citizen_id, \
    submitted_at, finished_at FROM bundle_cases";

/// A filed bundle, for its applicant.
pub async fn bundle_for_citizen(
    db: &Db,
    citizen_id: i64,
    number: &str,
) -> Result<BundleCase, DomainError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT_BUNDLE} WHERE number = $1 AND citizen_id = $2"
    )))
    .bind(super::normalize_number(number))
    .bind(citizen_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(DomainError::NotFound)?;
    read(db, &row).await
}

/// Public progress lookup of a bundle: its number and the phone it was
/// filed with (the number the bundle's message gives).
pub async fn lookup_bundle(
    db: &Db,
    number: &str,
    phone: &str,
) -> Result<Option<BundleCase>, DomainError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT_BUNDLE} WHERE number = $1"
    )))
    .bind(super::normalize_number(number))
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let b = read(db, &row).await?;
    let phone = super::repo::typed_phone(phone);
    let matches = !phone.is_empty() && b.children.iter().any(|c| c.applicant_phone == phone);
    Ok(matches.then_some(b))
}

/// A person's filed bundles, newest first.
pub async fn bundles_of(db: &Db, citizen_id: i64) -> Result<Vec<BundleCase>, DomainError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT_BUNDLE} WHERE citizen_id = $1 ORDER BY submitted_at DESC, id DESC LIMIT 50"
    )))
    .bind(citizen_id)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        out.push(read(db, r).await?);
    }
    Ok(out)
}

/// The bundle a case was filed in: (number, name).
pub async fn bundle_of(db: &Db, case: &Case) -> Result<Option<(String, String)>, DomainError> {
    let Some(id) = case.bundle_case_id else {
        return Ok(None);
    };
    Ok(
        sqlx::query_as("SELECT number, bundle_name FROM bundle_cases WHERE id = $1")
            .bind(id)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Every item's events in one timeline, oldest first: (item, event).
pub async fn timeline(db: &Db, b: &BundleCase) -> Result<Vec<(String, CaseEvent)>, DomainError> {
    let mut out = Vec::new();
    for c in &b.children {
        for e in events(db, c.id).await? {
            out.push((c.service_name.clone(), e));
        }
    }
    out.sort_by_key(|(_, e)| e.at);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseState as S;

    fn child(id: i64, stage: i64, state: S, outcome: Option<Outcome>) -> ChildState {
        (id, stage, state, outcome, format!("事项{id}"))
    }

    #[test]
    fn the_next_stage_starts_only_when_every_earlier_item_is_approved() {
        let ok = Some(Outcome::Approved);
        let mut c = vec![
            child(1, 1, S::Accepted, None),
            child(2, 1, S::Concluded, ok),
            child(3, 2, S::Waiting, None),
            child(4, 2, S::Waiting, None),
            child(5, 3, S::Waiting, None),
        ];
        assert_eq!(next_step(&c), NextStep::Nothing);
        c[0] = child(1, 1, S::Delivered, ok);
        assert_eq!(next_step(&c), NextStep::Release(vec![3, 4]));
        c[2] = child(3, 2, S::Concluded, ok);
        c[3] = child(4, 2, S::Submitted, None);
        assert_eq!(next_step(&c), NextStep::Nothing);
    }

    #[test]
    fn a_refused_or_withdrawn_earlier_item_halts_every_waiting_one() {
        let c = vec![
            child(1, 1, S::Concluded, Some(Outcome::Denied)),
            child(2, 1, S::Concluded, Some(Outcome::Approved)),
            child(3, 2, S::Waiting, None),
            child(4, 3, S::Waiting, None),
        ];
        assert_eq!(next_step(&c), NextStep::Halt(vec![3, 4], "事项1".into()));
        let w = vec![
            child(1, 1, S::Withdrawn, None),
            child(3, 2, S::Waiting, None),
        ];
        assert_eq!(next_step(&w), NextStep::Halt(vec![3], "事项1".into()));
        // Nothing waits: nothing to do.
        assert_eq!(
            next_step(&[child(1, 1, S::NotAccepted, None)]),
            NextStep::Nothing
        );
    }
}
