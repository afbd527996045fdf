//! 窗口收件: a clerk files an application for a person who came to the
//! counter. The clerk checks the ID card in person, types the person's
//! name, 身份证号 and phone, fills the item's form with them and scans the
//! materials; the draft is the clerk's until it is filed. The case then
//! runs like any other. It reaches the person's 我的办件 at once when an
//! account is verified under that 身份证号, or later, the moment one is
//! ([`claim`], called by 实名认证).

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::clock::Deadlines;
use super::desk::Desk;
use super::drafts::{NewCase, insert_case, merge_page};
use super::files::{CaseFile, Owner, Upload, add_material, file_counts};
use super::repo::*;
use super::workflow::{CaseAction, CaseState};
use crate::catalog::{ServiceItem, Status};
use crate::forms::{Answers, FormSchema, Profile};
use crate::identity::Perm;
use crate::identity::citizen::is_person_name;
use crate::identity::ids::{IdNumber, Phone, mask_id_number, mask_name};
use crate::identity::staff::StaffSession;
use crate::time::local_date;
use crate::{Db, DomainError, FieldError, Tx, audit, notify, pii};

/// The person at the counter, as the clerk checked them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalkIn {
    pub name: String,
    pub id_number: String,
    pub phone: String,
}

impl WalkIn {
    /// Checks what the clerk typed: every problem at once, each under its
    /// own field. `seen`: the clerk confirms the ID card was checked.
    pub fn parse(
        name: &str,
        id_number: &str,
        phone: &str,
        seen: bool,
    ) -> Result<Self, DomainError> {
        let mut errs = Vec::new();
        let name = name.trim();
        if name.is_empty() {
            errs.push(FieldError::new("person_name", "required", ""));
        } else if !is_person_name(name) {
            errs.push(FieldError::new("person_name", "invalid_person_name", ""));
        }
        let id = IdNumber::parse(id_number).map_err(|e| errs.push(e)).ok();
        let phone = Phone::parse(phone).map_err(|e| errs.push(e)).ok();
        if !seen {
            errs.push(FieldError::new("seen", "required", ""));
        }
        match (id, phone) {
            (Some(id), Some(phone)) if errs.is_empty() => Ok(WalkIn {
                name: name.to_string(),
                id_number: id.as_str().to_string(),
                phone: phone.as_str().to_string(),
            }),
            _ => Err(DomainError::Invalid(errs)),
        }
    }

    pub fn masked_name(&self) -> String {
        mask_name(&self.name)
    }

    pub fn masked_id_number(&self) -> String {
        mask_id_number(&self.id_number)
    }

    /// The form's profile: name and 身份证号 were checked by the clerk, so
    /// they are filled in and locked like a verified account's.
    pub fn profile(&self, today: chrono::NaiveDate) -> Profile {
        Profile {
            today,
            name: self.name.clone(),
            id_number: self.id_number.clone(),
            phone: self.phone.clone(),
            verified: true,
            companies: Vec::new(),
        }
    }
}

/// A clerk's application in progress.
#[derive(Debug, Clone, Serialize)]
pub struct CounterDraft {
    pub id: i64,
    pub staff_username: String,
    pub service_code: String,
    pub form_version: i64,
    pub schema: FormSchema,
    pub answers: Answers,
    pub applicant: WalkIn,
    pub updated_at: i64,
}

/// One line of the clerk's list of open applications.
#[derive(Debug, Clone, Serialize)]
pub struct CounterLine {
    pub id: i64,
    pub service_code: String,
    pub applicant_masked: String,
    pub updated_at: i64,
}

/// Items a clerk may receive: published, with a unit inside their scope
/// (online or not: the counter takes what cannot be applied for online).
pub fn may_receive(staff: &StaffSession, item: &ServiceItem, department_id: i64) -> bool {
    item.status == Status::Published
        && staff.can(Perm::CasesHandle)
        && staff.scope.covers(department_id)
}

/// The items a clerk may receive, by unit: (unit name, [(code, name)]).
pub type Receivable = Vec<(String, Vec<(String, String)>)>;

pub fn receivable(catalog: &crate::catalog::CatalogSnapshot, staff: &StaffSession) -> Receivable {
    let mut out: Receivable = Vec::new();
    for d in &catalog.departments {
        if !staff.can(Perm::CasesHandle) || !staff.scope.covers(d.id) {
            continue;
        }
        let mut items: Vec<(String, String)> = catalog
            .services
            .iter()
            .filter(|s| s.department_code == d.code)
            .map(|s| (s.code.clone(), s.name.clone()))
            .collect();
        if !items.is_empty() {
            items.sort();
            out.push((d.name.clone(), items));
        }
    }
    out
}

async fn department_of(db: &Db, item: &ServiceItem) -> Result<i64, DomainError> {
    sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
        .bind(&item.department_code)
        .fetch_optional(db.pool())
        .await?
        .ok_or(DomainError::NotFound)
}

fn seal_json<T: Serialize>(db: &Db, ctx: &str, v: &T) -> Result<String, DomainError> {
    pii::seal(db, ctx, &serde_json::to_string(v).unwrap_or_default())
}

/// Starts an application for the person at the counter.
pub async fn start(
    db: &Db,
    staff: &StaffSession,
    item: &ServiceItem,
    applicant: WalkIn,
) -> Result<CounterDraft, DomainError> {
    let dept = department_of(db, item).await?;
    if !may_receive(staff, item, dept) {
        return Err(DomainError::NotFound);
    }
    let (version, schema) = crate::forms::repo::current(db, item).await?;
    let mut answers = Answers::new();
    schema.normalize(&mut answers, &applicant.profile(local_date(db.now())));
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO counter_drafts (staff_username, service_code, form_version, form_schema, \
         answers, applicant, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&staff.user.username)
    .bind(&item.code)
    .bind(version)
    .bind(serde_json::to_string(&schema).unwrap_or_default())
    .bind(seal_json(db, pii::ctx::COUNTER_ANSWERS, &answers)?)
    .bind(seal_json(db, pii::ctx::COUNTER_APPLICANT, &applicant)?)
    .bind(db.now().timestamp())
    .fetch_one(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &audit::Entry::staff(&staff.user.username, "case.counter_start", &item.code)
            .detail(applicant.masked_id_number()),
    )
    .await?;
    tx.commit().await?;
    get(db, staff, id).await
}

/// One of the clerk's own open applications.
pub async fn get(db: &Db, staff: &StaffSession, id: i64) -> Result<CounterDraft, DomainError> {
    let r = sqlx::query(
        "SELECT id, staff_username, service_code, form_version, form_schema, answers, applicant, \
         updated_at FROM counter_drafts WHERE id = $1 AND staff_username = $2",
    )
    .bind(id)
    .bind(&staff.user.username)
    .fetch_optional(db.pool())
    .await?
    .ok_or(DomainError::NotFound)?;
    let bad = |col: &str| sqlx::Error::ColumnDecode {
        index: col.to_string(),
        source: "unreadable value".into(),
    };
    let open = |ctx: &str, col: &str| -> Result<String, DomainError> {
        pii::open(db, ctx, &r.try_get::<String, _>(col)?)
    };
    Ok(CounterDraft {
        id: r.try_get("id")?,
        staff_username: r.try_get("staff_username")?,
        service_code: r.try_get("service_code")?,
        form_version: r.try_get("form_version")?,
        schema: serde_json::from_str(&r.try_get::<String, _>("form_schema")?)
            .map_err(|_| bad("form_schema"))?,
        answers: serde_json::from_str(&open(pii::ctx::COUNTER_ANSWERS, "answers")?)
            .unwrap_or_default(),
        applicant: serde_json::from_str(&open(pii::ctx::COUNTER_APPLICANT, "applicant")?)
            .map_err(|_| bad("applicant"))?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The clerk's open applications, latest first (names masked).
pub async fn open_drafts(db: &Db, staff: &StaffSession) -> Result<Vec<CounterLine>, DomainError> {
    let rows = sqlx::query(
        "SELECT id, service_code, applicant, updated_at FROM counter_drafts \
         WHERE staff_username = $1 ORDER BY updated_at DESC, id DESC LIMIT 50",
    )
    .bind(&staff.user.username)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let who: Option<WalkIn> = serde_json::from_str(&pii::open(
                db,
                pii::ctx::COUNTER_APPLICANT,
                &r.try_get::<String, _>("applicant")?,
            )?)
            .ok();
            Ok(CounterLine {
                id: r.try_get("id")?,
                service_code: r.try_get("service_code")?,
                applicant_masked: who.map(|w| w.masked_name()).unwrap_or_default(),
                updated_at: r.try_get("updated_at")?,
            })
        })
        .collect()
}

/// Saves what the clerk typed (every page at once; nothing typed is lost,
/// valid or not).
pub async fn save(db: &Db, draft: &mut CounterDraft, posted: &Answers) -> Result<(), DomainError> {
    merge_page(&draft.schema, &mut draft.answers, posted, None);
    draft.schema.normalize(
        &mut draft.answers,
        &draft.applicant.profile(local_date(db.now())),
    );
    sqlx::query("UPDATE counter_drafts SET answers = $2, updated_at = $3 WHERE id = $1")
        .bind(draft.id)
        .bind(seal_json(db, pii::ctx::COUNTER_ANSWERS, &draft.answers)?)
        .bind(db.now().timestamp())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The scans of a counter application.
pub async fn files(db: &Db, draft: &CounterDraft) -> Result<Vec<CaseFile>, DomainError> {
    super::files::counter_files(db, draft.id).await
}

/// Adds a scanned material.
pub async fn add_file(
    desk: &Desk<'_>,
    staff: &StaffSession,
    draft: &CounterDraft,
    upload: Upload<'_>,
) -> Result<i64, DomainError> {
    add_material(
        desk,
        &draft.schema,
        Owner::Counter(draft.id),
        upload,
        &format!("staff:{}", staff.user.username),
    )
    .await
}

/// Removes a scan (the body too: it was never filed).
pub async fn remove_file(
    desk: &Desk<'_>,
    draft: &CounterDraft,
    file_id: i64,
) -> Result<(), DomainError> {
    super::files::remove_unfiled(desk, Owner::Counter(draft.id), file_id).await
}

/// Drops an application the person decided not to file, with its scans.
pub async fn discard(
    desk: &Desk<'_>,
    staff: &StaffSession,
    draft: &CounterDraft,
) -> Result<(), DomainError> {
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT storage_key FROM case_files WHERE counter_draft_id = $1")
            .bind(draft.id)
            .fetch_all(desk.db.pool())
            .await?;
    let mut tx = desk.db.begin().await?;
    sqlx::query("DELETE FROM case_files WHERE counter_draft_id = $1")
        .bind(draft.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM counter_drafts WHERE id = $1 AND staff_username = $2")
        .bind(draft.id)
        .bind(&staff.user.username)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        &audit::Entry::staff(
            &staff.user.username,
            "case.counter_discard",
            &draft.service_code,
        ),
    )
    .await?;
    tx.commit().await?;
    for k in keys {
        let _ = desk.files.delete(&k).await;
    }
    Ok(())
}

/// The account verified under the person's 身份证号, if there is one.
async fn account_of(db: &Db, id_number: &str) -> Result<Option<i64>, DomainError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM citizens WHERE id_number_bidx = $1 AND level >= 2")
            .bind(pii::index(db, pii::ctx::CITIZEN_ID_NUMBER, id_number)?)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Files the application: validated whole, numbered, the scans moved over,
/// recorded as received at the counter by this clerk, and the person told
/// (a message in their account if they have one, a text either way).
pub async fn file(
    desk: &Desk<'_>,
    staff: &StaffSession,
    item: &ServiceItem,
    draft: &mut CounterDraft,
) -> Result<Case, DomainError> {
    let db = desk.db;
    let dept = department_of(db, item).await?;
    if !may_receive(staff, item, dept) || item.code != draft.service_code {
        return Err(DomainError::NotFound);
    }
    let today = local_date(db.now());
    draft
        .schema
        .normalize(&mut draft.answers, &draft.applicant.profile(today));
    let scans = files(db, draft).await?;
    let errors = draft
        .schema
        .validate(None, &draft.answers, &file_counts(&scans));
    if !errors.is_empty() {
        return Err(DomainError::Form(errors));
    }
    let intake = desk.settings.intake_working_days;
    let d = Deadlines::new(
        desk.calendar,
        today,
        intake,
        intake,
        desk.settings.yellow_percent,
    );
    let mut who = draft.applicant.clone();
    // The contact phone may be changed on the form (name and number not).
    if let Some(p) = draft
        .answers
        .get("applicant_phone")
        .and_then(|p| Phone::parse(p).ok())
    {
        who.phone = p.as_str().to_string();
    }
    let citizen_id = account_of(db, &who.id_number).await?;
    let mut tx = db.begin().await?;
    let number = next_number(&mut tx, &desk.settings.number_prefix, today).await?;
    let case_id = insert_case(
        &mut tx,
        db,
        &NewCase {
            number: &number,
            item,
            department_id: dept,
            citizen_id,
            company_id: None,
            name: &who.name,
            phone: &who.phone,
            form_version: draft.form_version,
            schema: &draft.schema,
            answers: &draft.answers,
            state: CaseState::Submitted,
            deadlines: &d,
            procedure: "",
            bundle: None,
        },
    )
    .await?;
    sqlx::query(
        "UPDATE cases SET channel = 'counter', received_by = $2, applicant_id_number = $3, \
         applicant_id_bidx = $4 WHERE id = $1",
    )
    .bind(case_id)
    .bind(&staff.user.username)
    .bind(pii::seal(db, pii::ctx::CASE_ID_NUMBER, &who.id_number)?)
    .bind(pii::index(db, pii::ctx::CASE_ID_NUMBER, &who.id_number)?)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE case_files SET case_id = $1, counter_draft_id = NULL WHERE counter_draft_id = $2",
    )
    .bind(case_id)
    .bind(draft.id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM counter_drafts WHERE id = $1")
        .bind(draft.id)
        .execute(&mut *tx)
        .await?;
    record_event(
        &mut tx,
        case_id,
        &staff.user.username,
        &staff.user.display_name,
        CaseAction::Submit,
        CaseState::Submitted,
        CaseState::Submitted,
        COUNTER_NOTE,
    )
    .await?;
    let link = desk.progress_link();
    notify::case_event(
        db,
        &mut tx,
        "submit",
        &notify::About {
            citizen_id,
            phone: &who.phone,
            number: &number,
            service: &item.name,
            note: "",
            progress_url: &link,
        },
    )
    .await?;
    schedule_supervision(&mut tx, case_id, &d).await?;
    audit::append(
        &mut tx,
        &audit::Entry::staff(&staff.user.username, "case.counter_file", &number)
            .detail(who.masked_id_number()),
    )
    .await?;
    tx.commit().await?;
    let mut conn = db.pool().acquire().await?;
    load(db, &mut conn, &number).await
}

/// The note on the 收件 event of a counter case.
pub const COUNTER_NOTE: &str = "窗口收件";

/// Gives the person the counter cases filed under their 身份证号 and name
/// that no account holds yet (inside 实名认证's transaction). The name must
/// match too: the number alone, typed by someone else, takes nothing.
/// Returns how many.
pub async fn claim(
    tx: &mut Tx,
    db: &Db,
    citizen_id: i64,
    id_number: &str,
    name: &str,
) -> Result<u64, DomainError> {
    Ok(sqlx::query(
        "UPDATE cases SET citizen_id = $1 WHERE citizen_id IS NULL AND applicant_id_bidx = $2 \
         AND applicant_name = $3 AND channel = 'counter'",
    )
    .bind(citizen_id)
    .bind(pii::index(db, pii::ctx::CASE_ID_NUMBER, id_number)?)
    .bind(name)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}
