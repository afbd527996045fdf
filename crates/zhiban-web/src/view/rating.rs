//! How a 好差评 rating is asked for and shown, shared by the applicant's
//! case and the counter-visit link: the five levels, the tags, what was
//! typed kept across a refused submission, and month pickers and rates
//! for the statistics pages.

use chrono::{Datelike, NaiveDate};
use zhiban_domain::FieldError;
use zhiban_domain::ratings::{BAD_TAGS, GOOD_TAGS, RatingInput, Score};

use crate::view::PageCtx;
use crate::view::messages::field_messages;

/// The rating form as posted (or empty), with its problems.
#[derive(Debug, Clone, Default)]
pub struct RatingForm {
    pub score: String,
    pub tags: Vec<String>,
    pub comment: String,
    pub anonymous: bool,
    /// (field, message).
    pub errors: Vec<(String, String)>,
}

impl RatingForm {
    /// Reads the posted pairs (`tags` repeats).
    pub fn from_fields(fields: &[(String, String)]) -> Self {
        let mut f = RatingForm::default();
        for (k, v) in fields {
            match k.as_str() {
                "score" => f.score = v.clone(),
                "tags" => f.tags.push(v.clone()),
                "comment" => f.comment = v.clone(),
                "anonymous" => f.anonymous = v == "1",
                _ => {}
            }
        }
        f
    }

    pub fn input(&self) -> RatingInput {
        RatingInput {
            score: self.score.clone(),
            tags: self.tags.clone(),
            comment: self.comment.clone(),
            anonymous: self.anonymous,
        }
    }

    /// Keeps the form as typed and adds the translated problems.
    pub fn refused(mut self, ctx: &PageCtx, errs: &[FieldError]) -> Self {
        self.errors = field_messages(ctx, errs);
        self
    }

    pub fn error_for(&self, field: &str) -> Option<&String> {
        self.errors.iter().find(|(k, _)| k == field).map(|(_, m)| m)
    }

    pub fn picked(&self, tag: &&str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }

    pub fn scores(&self) -> &'static [Score] {
        Score::ALL
    }

    pub fn good_tags(&self) -> &'static [&'static str] {
        GOOD_TAGS
    }

    pub fn bad_tags(&self) -> &'static [&'static str] {
        BAD_TAGS
    }
}

/// The translation key of a tag (tags are stored in Chinese).
pub fn tag_key(tag: &str) -> String {
    if let Some(i) = GOOD_TAGS.iter().position(|t| *t == tag) {
        format!("ratings.good_{i}")
    } else if let Some(i) = BAD_TAGS.iter().position(|t| *t == tag) {
        format!("ratings.bad_{i}")
    } else {
        String::new()
    }
}

/// A tag in the visitor's language.
pub fn tag_text(ctx: &PageCtx, tag: &str) -> String {
    let key = tag_key(tag);
    if key.is_empty() {
        tag.to_string()
    } else {
        ctx.t(&key)
    }
}

/// A level in the visitor's language.
pub fn score_text(ctx: &PageCtx, s: &Score) -> String {
    ctx.t(&format!("ratings.score_{}", s.slug()))
}

/// A share as a percentage with one decimal, or a dash when nothing was counted.
pub fn rate(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}%")).unwrap_or_else(|| "—".into())
}

/// The last `n` months up to `today`'s, newest first (`YYYY-MM`).
pub fn recent_months(today: NaiveDate, n: usize) -> Vec<String> {
    let mut m = today.with_day(1).unwrap_or(today);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(m.format("%Y-%m").to_string());
        m = (m - chrono::Duration::days(1)).with_day(1).unwrap_or(m);
    }
    out
}

/// What a rating page shows besides the rating itself: the form (as typed,
/// with its problems), the appeal's problems, and a notice.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    pub form: RatingForm,
    pub appeal_errors: Vec<(String, String)>,
    pub notice: String,
}

impl Shown {
    pub fn notice(notice: String) -> Self {
        Shown {
            notice,
            ..Shown::default()
        }
    }

    /// A refused rating (`form`) or appeal (`form` is `None`): the problems
    /// beside the fields, or a notice for a step no longer possible
    /// (rated already, appealed, not yet concluded). Other failures pass.
    pub fn refused(
        ctx: &PageCtx,
        e: zhiban_domain::DomainError,
        form: Option<RatingForm>,
    ) -> Result<Shown, crate::error::AppError> {
        use zhiban_domain::DomainError;
        Ok(match (e, form) {
            (DomainError::Invalid(errs), Some(form)) => Shown {
                form: form.refused(ctx, &errs),
                ..Shown::default()
            },
            (DomainError::Invalid(errs), None) => Shown {
                appeal_errors: field_messages(ctx, &errs),
                ..Shown::default()
            },
            (DomainError::Conflict(c), _) => Shown::notice(ctx.conflict(c)),
            (e, _) => return Err(e.into()),
        })
    }

    /// The page's status: 422 when something was refused beside a field.
    pub fn status(&self) -> axum::http::StatusCode {
        if self.form.errors.is_empty() && self.appeal_errors.is_empty() {
            axum::http::StatusCode::OK
        } else {
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        }
    }
}
