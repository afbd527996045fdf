//! 好差评 (国办发〔2019〕51号, DOMAIN.md): a rating in five levels after a
//! case concludes (一事一评) or after a counter visit (一次一评), tied to the
//! case, the item, the unit and the staff member; every bad rating opens a
//! rectification (整改) the unit verifies, fixes by a deadline or explains
//! as unfounded, with a follow-up call (回访) for every real-name one and
//! one appeal for the rater; monthly statistics by unit and item.

pub mod demo;
mod repo;
pub mod stats;
mod visits;
pub mod workflow;

pub use repo::*;
pub use visits::*;
pub use workflow::{RectAction, RectState};

use serde::Serialize;

use crate::FieldError;
use crate::catalog::enums::vocabulary;

vocabulary!(
    /// The five levels; the slug is the score.
    Score {
        VerySatisfied => "5", "非常满意";
        Satisfied => "4", "满意";
        Basic => "3", "基本满意";
        Unsatisfied => "2", "不满意";
        VeryUnsatisfied => "1", "非常不满意";
    }
);

impl Score {
    pub fn value(self) -> i64 {
        match self {
            Score::VerySatisfied => 5,
            Score::Satisfied => 4,
            Score::Basic => 3,
            Score::Unsatisfied => 2,
            Score::VeryUnsatisfied => 1,
        }
    }

    pub fn from_value(v: i64) -> Option<Score> {
        Score::ALL.iter().copied().find(|s| s.value() == v)
    }

    /// 不满意 and 非常不满意 are bad ratings (差评).
    pub fn bad(self) -> bool {
        self.value() <= 2
    }
}

/// Tags a rater may pick (DOMAIN.md's short questionnaire): what went
/// well, for a good rating, and what went wrong, for a bad one.
pub const GOOD_TAGS: &[&str] = &[
    "一次办成",
    "办理速度快",
    "服务态度好",
    "材料要求清楚",
    "网上办理方便",
];
pub const BAD_TAGS: &[&str] = &[
    "等待时间长",
    "材料反复提交",
    "办事指南不清楚",
    "服务态度差",
    "超过承诺时限",
    "系统不好用",
];

/// The longest comment kept.
pub const MAX_COMMENT: usize = 500;

/// What a rater submits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RatingInput {
    /// The level's slug ("1"–"5"), as posted.
    pub score: String,
    pub tags: Vec<String>,
    pub comment: String,
    /// Rate without one's name: no follow-up call.
    pub anonymous: bool,
}

/// A checked rating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub score: Score,
    pub tags: Vec<String>,
    pub comment: String,
    pub anonymous: bool,
}

impl RatingInput {
    /// Checks the level, keeps only known tags (once each) and trims the
    /// comment; a bad rating must say what went wrong, by a tag or in words.
    pub fn check(&self) -> Result<Checked, Vec<FieldError>> {
        let mut errs = Vec::new();
        let score = Score::from_slug(self.score.trim());
        if score.is_none() {
            errs.push(FieldError::new("score", "required", ""));
        }
        let mut tags: Vec<String> = Vec::new();
        for t in &self.tags {
            let t = t.trim();
            if (GOOD_TAGS.contains(&t) || BAD_TAGS.contains(&t)) && !tags.iter().any(|x| x == t) {
                tags.push(t.to_string());
            }
        }
        let comment = self.comment.trim();
        if comment.chars().count() > MAX_COMMENT {
            errs.push(FieldError::new(
                "comment",
                "too_long",
                MAX_COMMENT.to_string(),
            ));
        }
        if let Some(s) = score
            && s.bad()
            && comment.is_empty()
            && !tags.iter().any(|t| BAD_TAGS.contains(&t.as_str()))
        {
            errs.push(FieldError::new("comment", "bad_rating_reason", ""));
        }
        match score {
            Some(score) if errs.is_empty() => Ok(Checked {
                score,
                tags,
                comment: comment.to_string(),
                anonymous: self.anonymous,
            }),
            _ => Err(errs),
        }
    }
}

/// How a rating was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// After a case concluded (一事一评).
    Online,
    /// After a visit to a counter (一次一评).
    Counter,
}

impl Channel {
    pub fn slug(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Counter => "counter",
        }
    }
    pub fn from_slug(s: &str) -> Channel {
        if s == "counter" {
            Channel::Counter
        } else {
            Channel::Online
        }
    }
}

/// One rating as read back.
#[derive(Debug, Clone, Serialize)]
pub struct Rating {
    pub id: i64,
    pub channel: Channel,
    pub case_number: Option<String>,
    pub service_code: String,
    pub service_name: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub staff: String,
    pub staff_label: String,
    pub score: Score,
    pub tags: Vec<String>,
    /// Decrypted; only the rater and the rated unit read it.
    pub comment: String,
    pub real_name: bool,
    pub day: String,
    pub created_at: i64,
}

impl Rating {
    pub fn bad(&self) -> bool {
        self.score.bad()
    }
}

/// Splits stored tags.
fn split_tags(s: &str) -> Vec<String> {
    s.split('、')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}
