//! What the assistant says: the reply, its cited sources, the choices it
//! offers, and the topic carried to the next turn.

use serde::{Deserialize, Serialize};

use super::aspects::Aspect;

/// A cited source: every answer links to where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub title: String,
    pub url: String,
}

/// A ready reply the person can pick (clarifying questions, next steps).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub label: String,
    /// What is asked when it is picked.
    pub ask: String,
}

/// What the conversation is about, carried from turn to turn.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    /// The service item last answered about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aspects: Vec<Aspect>,
    /// A district (code) the person named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// Items offered in a clarifying question, awaiting a pick.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    /// Answered from the catalog, the knowledge base or published content.
    Answer,
    /// Two or more services fit equally: which one?
    Clarify,
    /// Greetings and thanks.
    SmallTalk,
    /// Not known well enough: a person should answer.
    HandOff,
}

impl ReplyKind {
    /// As stored with each turn and sent by the API (the serde name).
    pub fn slug(self) -> &'static str {
        match self {
            ReplyKind::Answer => "answer",
            ReplyKind::Clarify => "clarify",
            ReplyKind::SmallTalk => "small_talk",
            ReplyKind::HandOff => "handoff",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    pub kind: ReplyKind,
    pub answer: String,
    pub sources: Vec<Source>,
    /// 0 … 1: how sure the engine is that it understood the question.
    pub confidence: f32,
    pub handoff: bool,
    pub choices: Vec<Choice>,
    /// Where to go next (not a citation): 我的办件 for one's own case.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub next: Vec<Source>,
    /// The topic after this turn.
    #[serde(skip)]
    pub topic: Topic,
}
