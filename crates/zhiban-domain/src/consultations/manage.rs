//! Staff side of 征集调查 (管理征集调查): scheduling a consultation or a
//! survey for a unit of one's data scope, moderating comments, publishing
//! the feedback summary, and the answers as CSV. Another unit's reads as
//! missing, and the refusal is audited.

use sqlx::Row;

use super::{Comment, Consultation, ConsultationKind, Phase, all_answers, comments, get};
use crate::audit::{self, Entry};
use crate::forms::{FieldKind, FormSchema};
use crate::identity::scope::{chosen_unit, record_refusal};
use crate::identity::staff::StaffSession;
use crate::{Db, DomainError, FieldError};

pub async fn mine(db: &Db, staff: &StaffSession) -> Result<Vec<Consultation>, DomainError> {
    let mut all = super::list(db).await?;
    all.retain(|c| staff.scope.covers(c.unit_id));
    Ok(all)
}

pub async fn for_staff(
    db: &Db,
    staff: &StaffSession,
    id: i64,
) -> Result<Consultation, DomainError> {
    let c = get(db, id).await?;
    if !staff.scope.covers(c.unit_id) {
        record_refusal(db, staff, &format!("consultation:{id}"), "out_of_scope").await?;
        return Err(DomainError::OutOfScope);
    }
    Ok(c)
}

/// The form, as typed.
#[derive(Debug, Clone, Default)]
pub struct ConsultationForm {
    pub kind: String,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub schema_json: String,
    pub unit_id: Option<i64>,
    pub opens_at: String,
    pub closes_at: String,
    pub anonymous: bool,
}

struct Checked {
    kind: ConsultationKind,
    unit_id: i64,
    opens_at: i64,
    closes_at: i64,
}

async fn check(
    db: &Db,
    staff: &StaffSession,
    f: &ConsultationForm,
) -> Result<Checked, DomainError> {
    let mut errs = Vec::new();
    let kind = ConsultationKind::from_slug(&f.kind);
    if kind.is_none() {
        errs.push(FieldError::new("consultation_kind", "invalid_choice", ""));
    }
    let len = |s: &str| s.trim().chars().count();
    if len(&f.title) < 4 {
        errs.push(FieldError::new("consultation_title", "too_short", "4"));
    } else if len(&f.title) > 100 {
        errs.push(FieldError::new("consultation_title", "too_long", ""));
    }
    if len(&f.summary) == 0 {
        errs.push(FieldError::new("consultation_summary", "required", ""));
    }
    match kind {
        Some(ConsultationKind::Consultation) if len(&f.body) < 20 => {
            errs.push(FieldError::new("consultation_body", "too_short", "20"));
        }
        Some(ConsultationKind::Survey) => match FormSchema::from_json(&f.schema_json) {
            Ok(s)
                if s.pages.iter().flat_map(|p| &p.fields).any(|q| {
                    !matches!(
                        q.kind,
                        FieldKind::Choice
                            | FieldKind::MultiChoice
                            | FieldKind::Rating
                            | FieldKind::Text
                            | FieldKind::Textarea
                            | FieldKind::Number
                            | FieldKind::Date
                    )
                }) =>
            {
                errs.push(FieldError::new("consultation_schema", "survey_kinds", ""));
            }
            Ok(_) => {}
            Err(e) => errs.push(FieldError::new(
                "consultation_schema",
                "invalid_schema",
                e.first().map(|e| e.detail.clone()).unwrap_or_default(),
            )),
        },
        _ => {}
    }
    let period = crate::time::check_period(
        &f.opens_at,
        &f.closes_at,
        ("consultation_opens", "consultation_closes"),
        &mut errs,
    );
    let unit_id = chosen_unit(db, staff, f.unit_id, "consultation_unit", &mut errs).await?;
    match (kind, unit_id, period) {
        (Some(kind), Some(unit_id), Some((opens_at, closes_at))) if errs.is_empty() => {
            Ok(Checked {
                kind,
                unit_id,
                opens_at,
                closes_at,
            })
        }
        _ => Err(DomainError::Invalid(errs)),
    }
}

/// Saves a new one (`id` none) or changes one. A survey's questions are
/// fixed once somebody has answered.
pub async fn save(
    db: &Db,
    staff: &StaffSession,
    id: Option<i64>,
    f: &ConsultationForm,
) -> Result<i64, DomainError> {
    if let Some(id) = id {
        let old = for_staff(db, staff, id).await?;
        let answered: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM survey_answers WHERE consultation_id = $1")
                .bind(id)
                .fetch_one(db.pool())
                .await?;
        if answered > 0 && old.schema_json.trim() != f.schema_json.trim() {
            return Err(DomainError::Invalid(vec![FieldError::new(
                "consultation_schema",
                "answered_already",
                answered.to_string(),
            )]));
        }
    }
    let c = check(db, staff, f).await?;
    let schema = if c.kind == ConsultationKind::Survey {
        f.schema_json.trim()
    } else {
        ""
    };
    let body = if c.kind == ConsultationKind::Consultation {
        f.body.trim()
    } else {
        ""
    };
    let saved = match id {
        None => {
            let row = sqlx::query(
                "INSERT INTO consultations (kind, title, summary, body, schema_json, unit_id, \
                 opens_at, closes_at, anonymous, created_by, created_at) VALUES ($1, $2, $3, $4, \
                 $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(c.kind.slug())
            .bind(f.title.trim())
            .bind(f.summary.trim())
            .bind(body)
            .bind(schema)
            .bind(c.unit_id)
            .bind(c.opens_at)
            .bind(c.closes_at)
            .bind(i64::from(f.anonymous))
            .bind(&staff.user.username)
            .bind(db.now().timestamp())
            .fetch_one(db.pool())
            .await?;
            row.try_get("id")?
        }
        Some(id) => {
            sqlx::query(
                "UPDATE consultations SET kind = $1, title = $2, summary = $3, body = $4, \
                 schema_json = $5, unit_id = $6, opens_at = $7, closes_at = $8, anonymous = $9 \
                 WHERE id = $10",
            )
            .bind(c.kind.slug())
            .bind(f.title.trim())
            .bind(f.summary.trim())
            .bind(body)
            .bind(schema)
            .bind(c.unit_id)
            .bind(c.opens_at)
            .bind(c.closes_at)
            .bind(i64::from(f.anonymous))
            .bind(id)
            .execute(db.pool())
            .await?;
            id
        }
    };
    audit::record(
        db,
        Entry::staff(&staff.user.username, "consultation.save", saved.to_string()),
    )
    .await?;
    Ok(saved)
}

/// The comments waiting for moderation.
pub async fn pending_comments(
    db: &Db,
    staff: &StaffSession,
    id: i64,
) -> Result<Vec<Comment>, DomainError> {
    for_staff(db, staff, id).await?;
    comments(db, id, "pending").await
}

/// Shows (`true`) or declines a waiting comment.
pub async fn moderate(
    db: &Db,
    staff: &StaffSession,
    id: i64,
    comment: i64,
    show: bool,
) -> Result<(), DomainError> {
    for_staff(db, staff, id).await?;
    let done = sqlx::query(
        "UPDATE consultation_comments SET state = $1 \
         WHERE id = $2 AND consultation_id = $3 AND state = 'pending'",
    )
    .bind(if show { "shown" } else { "rejected" })
    .bind(comment)
    .bind(id)
    .execute(db.pool())
    .await?;
    if done.rows_affected() != 1 {
        return Err(DomainError::Conflict(crate::Conflict::Stale));
    }
    audit::record(
        db,
        Entry::staff(
            &staff.user.username,
            if show {
                "consultation.comment_show"
            } else {
                "consultation.comment_decline"
            },
            format!("{id}/{comment}"),
        ),
    )
    .await?;
    Ok(())
}

/// Publishes (or corrects) the feedback summary once the period is over.
pub async fn publish_feedback(
    db: &Db,
    staff: &StaffSession,
    id: i64,
    text: &str,
) -> Result<(), DomainError> {
    let c = for_staff(db, staff, id).await?;
    if c.phase != Phase::Closed {
        return Err(DomainError::Conflict(crate::Conflict::NotAllowed));
    }
    let text = text.trim();
    if text.chars().count() < 20 {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "feedback",
            "too_short",
            "20",
        )]));
    }
    sqlx::query("UPDATE consultations SET feedback = $1, feedback_at = $2 WHERE id = $3")
        .bind(text)
        .bind(db.now().timestamp())
        .bind(id)
        .execute(db.pool())
        .await?;
    audit::record(
        db,
        Entry::staff(
            &staff.user.username,
            "consultation.feedback",
            id.to_string(),
        ),
    )
    .await?;
    Ok(())
}

/// Every answer of a survey as CSV (UTF-8 with a byte-order mark, so
/// Excel and WPS open it as Chinese): the time, then one column per
/// question; nothing about who answered. The export is audited.
pub async fn answers_csv(db: &Db, staff: &StaffSession, id: i64) -> Result<Vec<u8>, DomainError> {
    let c = for_staff(db, staff, id).await?;
    let schema = c.schema.ok_or(DomainError::NotFound)?;
    let fields: Vec<_> = schema.pages.iter().flat_map(|p| &p.fields).collect();
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let csv_err = |_| DomainError::Internal("csv");
    let mut header = vec!["提交时间".to_string()];
    header.extend(fields.iter().map(|f| f.label.clone()));
    w.write_record(&header).map_err(csv_err)?;
    for (at, answers) in all_answers(db, id).await? {
        let mut row = vec![crate::time::local_time(at)];
        row.extend(fields.iter().map(|f| {
            answers
                .get(&f.key)
                .map(|v| v.lines().map(str::trim).collect::<Vec<_>>().join("、"))
                .unwrap_or_default()
        }));
        w.write_record(&row).map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(|_| DomainError::Internal("csv"))?;
    audit::record(
        db,
        Entry::staff(&staff.user.username, "consultation.export", id.to_string()),
    )
    .await?;
    Ok(bytes)
}
