//! Applying: drafts filled page by page with their uploads, and
//! submission as a numbered case.

use serde::Serialize;
use sqlx::Row;

use super::clock::Deadlines;
use super::desk::Desk;
use super::files::{Owner, Upload, add_material, draft_files, draft_supplied};
use super::profile_of;
use super::repo::*;
use super::workflow::{CaseAction, CaseState};
use crate::catalog::{ItemType, ServiceItem, Status};
use crate::forms::{Answers, FormSchema};
use crate::identity::citizen::Citizen;
use crate::notify;
use crate::time::local_date;
use crate::{Db, DomainError, pii};

#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    pub id: i64,
    pub service_code: String,
    pub form_version: i64,
    pub schema: FormSchema,
    pub answers: Answers,
    pub page: usize,
    pub updated_at: i64,
}

/// The applicant's draft for an item, started from the current form
/// (and filled from the profile) if there is none.
pub async fn draft(db: &Db, citizen: &Citizen, item: &ServiceItem) -> Result<Draft, DomainError> {
    let key = key_for(citizen, &item.code);
    if let Some(d) = find_draft(db, citizen.id, &key).await? {
        return Ok(d);
    }
    let (version, schema) = crate::forms::repo::current(db, item).await?;
    start_draft(db, citizen, &key, version, schema).await
}

/// The separator of a company's draft keys: a person's draft for an item
/// and the one they fill while acting for a company are two drafts.
const FOR_COMPANY: char = '@';

/// The key the person's draft for `key` (an item's code or a bundle's
/// draft key) is kept under, in the capacity they act in now.
pub(super) fn key_for(citizen: &Citizen, key: &str) -> String {
    match &citizen.acting {
        Some(c) => format!("{key}{FOR_COMPANY}{}", c.id),
        None => key.to_string(),
    }
}

/// Starts a draft under `key` (an item's code, or a bundle's draft key)
/// with answers filled from the profile; an existing one is kept.
pub(super) async fn start_draft(
    db: &Db,
    citizen: &Citizen,
    key: &str,
    version: i64,
    schema: FormSchema,
) -> Result<Draft, DomainError> {
    let mut answers = Answers::new();
    schema.normalize(
        &mut answers,
        &profile_of(db, citizen, local_date(db.now())).await?,
    );
    sqlx::query(
        "INSERT INTO case_drafts (citizen_id, service_code, form_version, form_schema, answers, \
         page, updated_at) VALUES ($1, $2, $3, $4, $5, 0, $6) \
         ON CONFLICT (citizen_id, service_code) DO NOTHING",
    )
    .bind(citizen.id)
    .bind(key)
    .bind(version)
    .bind(serde_json::to_string(&schema).unwrap_or_default())
    .bind(seal_answers(db, &answers)?)
    .bind(db.now().timestamp())
    .execute(db.pool())
    .await?;
    find_draft(db, citizen.id, key)
        .await?
        .ok_or(DomainError::NotFound)
}

pub(super) fn seal_answers(db: &Db, answers: &Answers) -> Result<String, DomainError> {
    pii::seal(
        db,
        pii::ctx::DRAFT_ANSWERS,
        &serde_json::to_string(answers).unwrap_or_default(),
    )
}

pub(super) async fn find_draft(
    db: &Db,
    citizen_id: i64,
    service_code: &str,
) -> Result<Option<Draft>, DomainError> {
    let row = sqlx::query(
        "SELECT id, service_code, form_version, form_schema, answers, page, updated_at \
         FROM case_drafts WHERE citizen_id = $1 AND service_code = $2",
    )
    .bind(citizen_id)
    .bind(service_code)
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    let schema: String = r.try_get("form_schema")?;
    let answers = pii::open(
        db,
        pii::ctx::DRAFT_ANSWERS,
        &r.try_get::<String, _>("answers")?,
    )?;
    Ok(Some(Draft {
        id: r.try_get("id")?,
        service_code: r.try_get("service_code")?,
        form_version: r.try_get("form_version")?,
        schema: serde_json::from_str(&schema).map_err(|_| DomainError::NotFound)?,
        answers: serde_json::from_str(&answers).unwrap_or_default(),
        page: usize::try_from(r.try_get::<i64, _>("page")?).unwrap_or(0),
        updated_at: r.try_get("updated_at")?,
    }))
}

/// The applicant's unfinished applications in the capacity they act in
/// now (for themselves, or for the company), newest first: (service code
/// or bundle draft key, saved at).
pub async fn drafts_of(db: &Db, citizen: &Citizen) -> Result<Vec<(String, i64)>, DomainError> {
    let all: Vec<(String, i64)> = sqlx::query_as(
        "SELECT service_code, updated_at FROM case_drafts WHERE citizen_id = $1 \
         ORDER BY updated_at DESC",
    )
    .bind(citizen.id)
    .fetch_all(db.pool())
    .await?;
    let suffix = citizen
        .acting
        .as_ref()
        .map(|c| format!("{FOR_COMPANY}{}", c.id));
    Ok(all
        .into_iter()
        .filter_map(|(key, at)| match (&suffix, key.split_once(FOR_COMPANY)) {
            (None, None) => Some((key, at)),
            (Some(s), Some((base, _))) if key.ends_with(s.as_str()) => Some((base.to_string(), at)),
            _ => None,
        })
        .collect())
}

/// Saves the answers of the page the applicant is on (nothing typed is
/// lost, even when it does not validate yet).
pub async fn save_draft(
    db: &Db,
    citizen: &Citizen,
    draft: &mut Draft,
    posted: &Answers,
    page: usize,
) -> Result<(), DomainError> {
    merge_page(&draft.schema, &mut draft.answers, posted, Some(draft.page));
    draft.schema.normalize(
        &mut draft.answers,
        &profile_of(db, citizen, local_date(db.now())).await?,
    );
    draft.page = page.min(draft.schema.pages.len());
    sqlx::query("UPDATE case_drafts SET answers = $2, page = $3, updated_at = $4 WHERE id = $1")
        .bind(draft.id)
        .bind(seal_answers(db, &draft.answers)?)
        .bind(i64::try_from(draft.page).unwrap_or(0))
        .bind(db.now().timestamp())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Replaces the answers of one page (or of the whole form) with what was
/// posted, so a cleared field is cleared and a removed row is removed.
pub(super) fn merge_page(
    schema: &FormSchema,
    answers: &mut Answers,
    posted: &Answers,
    page: Option<usize>,
) {
    let keys: Vec<&str> = schema
        .pages
        .iter()
        .enumerate()
        .filter(|(i, _)| page.is_none_or(|p| p == *i))
        .flat_map(|(_, p)| p.fields.iter().map(|f| f.key.as_str()))
        .collect();
    for key in keys {
        let prefix = format!("{key}.");
        answers.retain(|k, _| k != key && !k.starts_with(&prefix));
        for (k, v) in posted {
            if k == key || k.starts_with(&prefix) {
                answers.insert(k.clone(), v.chars().take(5000).collect());
            }
        }
    }
}

/// Adds a material to a draft.
pub async fn add_draft_file(
    desk: &Desk<'_>,
    citizen: &Citizen,
    draft: &Draft,
    upload: Upload<'_>,
) -> Result<i64, DomainError> {
    add_material(
        desk,
        &draft.schema,
        Owner::Draft(draft.id),
        upload,
        &citizen.label(),
    )
    .await
}

/// Removes a material from a draft (the body too: it was never filed).
pub async fn remove_draft_file(
    desk: &Desk<'_>,
    draft: &Draft,
    file_id: i64,
) -> Result<(), DomainError> {
    super::files::remove_unfiled(desk, Owner::Draft(draft.id), file_id).await
}

/// Starting an application needs a published online item and the item's
/// real-name level.
pub fn can_apply(citizen: &Citizen, item: &ServiceItem) -> Result<(), DomainError> {
    if item.status != Status::Published || !item.online {
        return Err(DomainError::NotFound);
    }
    if citizen.level < item.realname_level {
        return Err(DomainError::Conflict(crate::Conflict::RealnameLevel));
    }
    Ok(())
}

/// Files the draft as a case: everything is validated again, the case gets
/// its number, the materials move over, and the applicant is told.
pub async fn submit(
    desk: &Desk<'_>,
    citizen: &Citizen,
    item: &ServiceItem,
) -> Result<Case, DomainError> {
    can_apply(citizen, item)?;
    let Some(mut draft) = find_draft(desk.db, citizen.id, &key_for(citizen, &item.code)).await?
    else {
        return Err(DomainError::NotFound);
    };
    draft.schema.normalize(
        &mut draft.answers,
        &profile_of(desk.db, citizen, local_date(desk.db.now())).await?,
    );
    let files = draft_files(desk.db, draft.id).await?;
    let errors = draft.schema.validate(
        None,
        &draft.answers,
        &draft_supplied(desk.db, draft.id, &files).await?,
    );
    if !errors.is_empty() {
        return Err(DomainError::Form(errors));
    }
    let now = desk.db.now();
    let today = local_date(now);
    let dept_id: i64 = sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
        .bind(&item.department_code)
        .fetch_one(desk.db.pool())
        .await?;
    // A disclosure request (依申请公开) is answered within its item's limit
    // counted from receipt; anything else is first accepted within the
    // intake limit.
    let disclosure = item.item_type == ItemType::Disclosure;
    let (promised, legal) = if disclosure {
        (item.promised_limit_days, item.legal_limit_days)
    } else {
        let intake = desk.settings.intake_working_days;
        (intake, intake)
    };
    let d = Deadlines::new(
        desk.calendar,
        today,
        promised,
        legal,
        desk.settings.yellow_percent,
    );
    let name = draft
        .answers
        .get("applicant_name")
        .filter(|v| !v.trim().is_empty())
        .cloned()
        .unwrap_or_else(|| citizen.name.clone());
    let phone = draft
        .answers
        .get("applicant_phone")
        .filter(|v| !v.trim().is_empty())
        .cloned()
        .unwrap_or_else(|| citizen.phone.clone());
    let mut tx = desk.db.begin().await?;
    let number = next_number(&mut tx, &desk.settings.number_prefix, today).await?;
    let case_id = insert_case(
        &mut tx,
        desk.db,
        &NewCase {
            number: &number,
            item,
            department_id: dept_id,
            citizen_id: Some(citizen.id),
            company_id: citizen.acting.as_ref().map(|c| c.id),
            name: name.trim(),
            phone: phone.trim(),
            form_version: draft.form_version,
            schema: &draft.schema,
            answers: &draft.answers,
            state: CaseState::Submitted,
            deadlines: &d,
            procedure: if disclosure {
                super::disclosure::PROCEDURE
            } else {
                ""
            },
            bundle: None,
        },
    )
    .await?;
    sqlx::query("UPDATE case_files SET case_id = $1, draft_id = NULL WHERE draft_id = $2")
        .bind(case_id)
        .bind(draft.id)
        .execute(&mut *tx)
        .await?;
    crate::licenses::attach_to_case(&mut tx, draft.id, &number).await?;
    sqlx::query("DELETE FROM case_drafts WHERE id = $1")
        .bind(draft.id)
        .execute(&mut *tx)
        .await?;
    record_event(
        &mut tx,
        case_id,
        &citizen.label(),
        &citizen.masked_name(),
        CaseAction::Submit,
        CaseState::Submitted,
        CaseState::Submitted,
        "",
    )
    .await?;
    let link = desk.progress_link();
    notify::case_event(
        desk.db,
        &mut tx,
        "submit",
        &notify::About {
            citizen_id: Some(citizen.id),
            phone: phone.trim(),
            number: &number,
            service: &item.name,
            note: "",
            progress_url: &link,
        },
    )
    .await?;
    schedule_supervision(&mut tx, case_id, &d).await?;
    tx.commit().await?;
    let mut conn = desk.db.pool().acquire().await?;
    load(desk.db, &mut conn, &number).await
}

/// A case about to be filed.
pub(super) struct NewCase<'a> {
    pub number: &'a str,
    pub item: &'a ServiceItem,
    pub department_id: i64,
    /// The applicant's account (none yet for some counter cases).
    pub citizen_id: Option<i64>,
    /// The company the applicant acts for, if any.
    pub company_id: Option<i64>,
    pub name: &'a str,
    pub phone: &'a str,
    pub form_version: i64,
    pub schema: &'a FormSchema,
    pub answers: &'a Answers,
    /// 待受理, or 待前序办结 for a later stage of a bundle.
    pub state: CaseState,
    pub deadlines: &'a Deadlines,
    pub procedure: &'a str,
    /// (the bundle case, the item's stage in it).
    pub bundle: Option<(i64, u32)>,
}

/// Writes the case row, its answers and phone sealed.
pub(super) async fn insert_case(
    tx: &mut crate::Tx,
    db: &Db,
    c: &NewCase<'_>,
) -> Result<i64, DomainError> {
    let now = db.now().timestamp();
    Ok(sqlx::query_scalar(
        "INSERT INTO cases (number, service_code, service_name, department_id, citizen_id, \
         applicant_name, applicant_phone, form_version, form_schema, answers, state, \
         promised_days, legal_days, submitted_at, due_on, legal_due_on, yellow_on, updated_at, \
         applicant_phone_bidx, procedure, todo, running, bundle_case_id, bundle_stage, \
         company_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17, $18, $19, $20, $21, $22, $23, $24, $25) RETURNING id",
    )
    .bind(c.number)
    .bind(&c.item.code)
    .bind(&c.item.name)
    .bind(c.department_id)
    .bind(c.citizen_id)
    .bind(c.name)
    .bind(pii::seal(db, pii::ctx::CASE_PHONE, c.phone)?)
    .bind(c.form_version)
    .bind(serde_json::to_string(c.schema).unwrap_or_default())
    .bind(pii::seal(
        db,
        pii::ctx::CASE_ANSWERS,
        &serde_json::to_string(c.answers).unwrap_or_default(),
    )?)
    .bind(c.state.slug())
    .bind(i64::from(c.item.promised_limit_days))
    .bind(i64::from(c.item.legal_limit_days))
    .bind(now)
    .bind(day_text(c.deadlines.due_on))
    .bind(day_text(c.deadlines.legal_due_on))
    .bind(day_text(c.deadlines.yellow_on))
    .bind(now)
    .bind(pii::phone_index(db, pii::ctx::CASE_PHONE, c.phone)?)
    .bind(c.procedure)
    .bind(i64::from(c.state.staff_todo()))
    .bind(i64::from(c.state.clock_running()))
    .bind(c.bundle.map(|b| b.0))
    .bind(c.bundle.map_or(0, |b| i64::from(b.1)))
    .bind(c.company_id)
    .fetch_one(&mut **tx)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posting_a_page_replaces_only_that_page() {
        let schema = FormSchema::from_json(
            r#"{"title":"t","pages":[
                {"title":"a","fields":[{"key":"x","label":"X","kind":"text"}]},
                {"title":"b","fields":[{"key":"g","label":"G","kind":"group",
                  "fields":[{"key":"n","label":"N","kind":"text"}]}]}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let mut answers: Answers = [
            ("x".to_string(), "keep".to_string()),
            ("g.#".to_string(), "2".to_string()),
            ("g.0.n".to_string(), "a".to_string()),
            ("g.1.n".to_string(), "b".to_string()),
        ]
        .into();
        let posted: Answers = [
            ("g.#".to_string(), "1".to_string()),
            ("g.0.n".to_string(), "z".to_string()),
            ("x".to_string(), "ignored".to_string()),
        ]
        .into();
        merge_page(&schema, &mut answers, &posted, Some(1));
        assert_eq!(answers.get("x").map(String::as_str), Some("keep"));
        assert_eq!(answers.get("g.0.n").map(String::as_str), Some("z"));
        assert!(!answers.contains_key("g.1.n"));
    }
}
