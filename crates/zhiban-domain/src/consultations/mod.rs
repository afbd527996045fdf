//! 征集调查: draft-policy consultations (征求意见) and surveys (问卷调查).
//!
//! A consultation publishes a draft for a period; signed-in people comment,
//! comments show once a moderator accepts them, and when the period ends
//! the unit publishes a feedback summary (采纳情况). A survey asks questions
//! written in the form engine's schema (single and multiple choice, ratings,
//! text); each account answers once, or each device where the survey takes
//! answers without an account; results are counted per question.
//!
//! - this module: records, the public side, results;
//! - [`manage`]: staff (scheduling, moderation, feedback, CSV) within
//!   their data scope;
//! - [`demo`]: two consultations and two surveys with answers (演示数据).

pub mod demo;
pub mod manage;

use sqlx::Row;

use crate::catalog::enums::vocabulary;
use crate::forms::{Answers, FieldKind, FormSchema};
use crate::identity::citizen::Citizen;
use crate::{Db, DomainError, FieldError};

vocabulary!(
    /// A consultation or a survey.
    ConsultationKind {
        Consultation => "consultation", "征求意见";
        Survey => "survey", "问卷调查";
    }
);

/// Where one stands in its period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Upcoming,
    Open,
    Closed,
}

impl Phase {
    pub fn slug(self) -> &'static str {
        match self {
            Phase::Upcoming => "upcoming",
            Phase::Open => "open",
            Phase::Closed => "closed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Consultation {
    pub id: i64,
    pub kind: ConsultationKind,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub schema: Option<FormSchema>,
    pub schema_json: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub opens_at: i64,
    pub closes_at: i64,
    pub anonymous: bool,
    pub feedback: String,
    pub feedback_at: Option<i64>,
    pub phase: Phase,
}

impl Consultation {
    pub fn is_survey(&self) -> bool {
        self.kind == ConsultationKind::Survey
    }
}

const SELECT: &str = "SELECT c.id, c.kind, c.title, c.summary, c.body, c.schema_json, c.unit_id, \
    d.name AS unit_name, c.opens_at, c.closes_at, c.anonymous, c.feedback, c.feedback_at \
    FROM consultations c JOIN departments d ON d.id = c.unit_id";

fn of_row(r: &sqlx::any::AnyRow, now: i64) -> Result<Consultation, DomainError> {
    let kind = ConsultationKind::from_slug(&r.try_get::<String, _>("kind")?)
        .ok_or(DomainError::Internal("unreadable consultation"))?;
    let schema_json: String = r.try_get("schema_json")?;
    let opens_at: i64 = r.try_get("opens_at")?;
    let closes_at: i64 = r.try_get("closes_at")?;
    Ok(Consultation {
        id: r.try_get("id")?,
        kind,
        title: r.try_get("title")?,
        summary: r.try_get("summary")?,
        body: r.try_get("body")?,
        schema: (kind == ConsultationKind::Survey)
            .then(|| FormSchema::from_json(&schema_json).ok())
            .flatten(),
        schema_json,
        unit_id: r.try_get("unit_id")?,
        unit_name: r.try_get("unit_name")?,
        opens_at,
        closes_at,
        anonymous: r.try_get::<i64, _>("anonymous")? == 1,
        feedback: r.try_get("feedback")?,
        feedback_at: r.try_get("feedback_at")?,
        phase: if now < opens_at {
            Phase::Upcoming
        } else if now < closes_at {
            Phase::Open
        } else {
            Phase::Closed
        },
    })
}

/// All of them, open first (closing soonest), then upcoming, then closed
/// (newest first).
pub async fn list(db: &Db) -> Result<Vec<Consultation>, DomainError> {
    let now = db.now().timestamp();
    let mut all = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} ORDER BY c.closes_at DESC LIMIT 500"
    )))
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| of_row(r, now))
    .collect::<Result<Vec<_>, _>>()?;
    all.sort_by_key(|c| match c.phase {
        Phase::Open => (0, c.closes_at),
        Phase::Upcoming => (1, c.opens_at),
        Phase::Closed => (2, -c.closes_at),
    });
    Ok(all)
}

pub async fn get(db: &Db, id: i64) -> Result<Consultation, DomainError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE c.id = $1")))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(DomainError::NotFound)?;
    of_row(&row, db.now().timestamp())
}

/// A comment on a draft.
#[derive(Debug, Clone)]
pub struct Comment {
    pub id: i64,
    pub speaker: String,
    pub body: String,
    pub state: String,
    pub at: i64,
}

pub(crate) async fn comments(db: &Db, id: i64, state: &str) -> Result<Vec<Comment>, DomainError> {
    sqlx::query(
        "SELECT id, speaker, body, state, created_at FROM consultation_comments \
         WHERE consultation_id = $1 AND state = $2 ORDER BY id",
    )
    .bind(id)
    .bind(state)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(Comment {
            id: r.try_get("id")?,
            speaker: r.try_get("speaker")?,
            body: r.try_get("body")?,
            state: r.try_get("state")?,
            at: r.try_get("created_at")?,
        })
    })
    .collect::<Result<Vec<_>, DomainError>>()
}

/// The comments shown on a consultation's page.
pub async fn shown_comments(db: &Db, id: i64) -> Result<Vec<Comment>, DomainError> {
    comments(db, id, "shown").await
}

/// A signed-in person comments on an open draft; it shows once accepted.
pub async fn comment(db: &Db, id: i64, citizen: &Citizen, text: &str) -> Result<(), DomainError> {
    let c = get(db, id).await?;
    if c.kind != ConsultationKind::Consultation || c.phase != Phase::Open {
        return Err(DomainError::Conflict(crate::Conflict::NotAllowed));
    }
    let text = text.trim().replace("\r\n", "\n");
    let n = text.chars().count();
    let code = match n {
        0 => Some(("required", String::new())),
        1..10 => Some(("too_short", "10".to_string())),
        n if n > 3000 => Some(("too_long", String::new())),
        _ => None,
    };
    if let Some((code, detail)) = code {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "comment", code, detail,
        )]));
    }
    sqlx::query(
        "INSERT INTO consultation_comments (consultation_id, citizen_id, speaker, body, state, \
         created_at) VALUES ($1, $2, $3, $4, 'pending', $5)",
    )
    .bind(id)
    .bind(citizen.id)
    .bind(format!(
        "网友{}",
        crate::identity::ids::mask_name(&citizen.name)
    ))
    .bind(&text)
    .bind(db.now().timestamp())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Who answers a survey: an account, or a device (the hash of its cookie).
#[derive(Debug, Clone, Copy)]
pub enum Respondent<'a> {
    Citizen(&'a Citizen),
    Device(&'a str),
}

fn device_hash(cookie: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(cookie.as_bytes()))
}

/// Whether this account or device has answered already.
pub async fn answered(db: &Db, id: i64, who: Respondent<'_>) -> Result<bool, DomainError> {
    let n: i64 = match who {
        Respondent::Citizen(c) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM survey_answers WHERE consultation_id = $1 AND citizen_id = $2",
        )
        .bind(id)
        .bind(c.id)
        .fetch_one(db.pool())
        .await?,
        Respondent::Device(d) => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM survey_answers WHERE consultation_id = $1 AND device = $2",
            )
            .bind(id)
            .bind(device_hash(d))
            .fetch_one(db.pool())
            .await?
        }
    };
    Ok(n > 0)
}

/// Answers an open survey once. Problems come back per question
/// ([`DomainError::Form`]), with nothing stored.
pub async fn answer(
    db: &Db,
    id: i64,
    who: Respondent<'_>,
    answers: &Answers,
) -> Result<(), DomainError> {
    let c = get(db, id).await?;
    let Some(schema) = c.schema.as_ref().filter(|_| c.phase == Phase::Open) else {
        return Err(DomainError::Conflict(crate::Conflict::NotAllowed));
    };
    if matches!(who, Respondent::Device(_)) && !c.anonymous {
        return Err(DomainError::Conflict(crate::Conflict::NotAllowed));
    }
    let errs = schema.validate(None, answers, &Default::default());
    if !errs.is_empty() {
        return Err(DomainError::Form(errs));
    }
    if answered(db, id, who).await? {
        return Err(DomainError::Conflict(crate::Conflict::NotAllowed));
    }
    // Only the questions' own answers are kept.
    let kept: Answers = schema
        .pages
        .iter()
        .flat_map(|p| &p.fields)
        .filter_map(|f| {
            answers
                .get(&f.key)
                .map(|v| (f.key.clone(), v.trim().to_string()))
        })
        .collect();
    let (citizen, device) = match who {
        Respondent::Citizen(c) => (Some(c.id), None),
        Respondent::Device(d) => (None, Some(device_hash(d))),
    };
    let done = sqlx::query(
        "INSERT INTO survey_answers (consultation_id, citizen_id, device, answers, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(citizen)
    .bind(device)
    .bind(serde_json::to_string(&kept).map_err(|_| DomainError::Internal("answers"))?)
    .bind(db.now().timestamp())
    .execute(db.pool())
    .await;
    match done {
        Ok(_) => Ok(()),
        // Two submissions at once: the second meets the unique index.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(DomainError::Conflict(crate::Conflict::NotAllowed))
        }
        Err(e) => Err(e.into()),
    }
}

/// The counts of one question.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionResult {
    pub key: String,
    pub label: String,
    /// (option, count) for choices and ratings, in the options' order.
    pub counts: Vec<(String, i64)>,
    /// People who answered this question.
    pub answered: i64,
    /// The mean score of a rating.
    pub average: Option<f64>,
    /// Answers to a text question (staff only).
    pub texts: Vec<String>,
}

impl QuestionResult {
    /// The share of an option among those who answered, in whole percent.
    pub fn percent(&self, count: &i64) -> i64 {
        if self.answered == 0 {
            0
        } else {
            (*count * 100 + self.answered / 2) / self.answered
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    pub total: i64,
    pub questions: Vec<QuestionResult>,
}

pub(crate) async fn all_answers(db: &Db, id: i64) -> Result<Vec<(i64, Answers)>, DomainError> {
    sqlx::query(
        "SELECT answers, created_at FROM survey_answers WHERE consultation_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        let text: String = r.try_get("answers")?;
        Ok((
            r.try_get("created_at")?,
            serde_json::from_str(&text).map_err(|_| DomainError::Internal("answers"))?,
        ))
    })
    .collect()
}

/// Counts per question. `with_texts`: include the text answers (staff).
pub async fn results(db: &Db, id: i64, with_texts: bool) -> Result<Results, DomainError> {
    let c = get(db, id).await?;
    let schema = c.schema.ok_or(DomainError::NotFound)?;
    let rows = all_answers(db, id).await?;
    let mut questions = Vec::new();
    for f in schema.pages.iter().flat_map(|p| &p.fields) {
        let values: Vec<&str> = rows
            .iter()
            .filter_map(|(_, a)| a.get(&f.key).map(|v| v.trim()))
            .filter(|v| !v.is_empty())
            .collect();
        let options: Vec<String> = match f.kind {
            FieldKind::Rating => (1..=f.rating_max()).map(|n| n.to_string()).collect(),
            FieldKind::Choice | FieldKind::MultiChoice => f.options.clone(),
            _ => Vec::new(),
        };
        let counts = options
            .iter()
            .map(|o| {
                let n = values
                    .iter()
                    .filter(|v| v.lines().any(|line| line.trim() == o))
                    .count();
                (o.clone(), i64::try_from(n).unwrap_or(i64::MAX))
            })
            .collect();
        let average = (f.kind == FieldKind::Rating && !values.is_empty()).then(|| {
            let sum: f64 = values.iter().filter_map(|v| v.parse::<f64>().ok()).sum();
            sum / values.len() as f64
        });
        let texts = if with_texts && options.is_empty() {
            values.iter().map(|v| v.to_string()).collect()
        } else {
            Vec::new()
        };
        questions.push(QuestionResult {
            key: f.key.clone(),
            label: f.label.clone(),
            counts,
            answered: i64::try_from(values.len()).unwrap_or(i64::MAX),
            average,
            texts,
        });
    }
    Ok(Results {
        total: i64::try_from(rows.len()).unwrap_or(i64::MAX),
        questions,
    })
}
