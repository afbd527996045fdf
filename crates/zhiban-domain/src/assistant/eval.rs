//! Measuring the assistant: a file of
//! `question<TAB>expected source<TAB>words` lines. The expected source is a
//! regular expression a cited source's title must match (`-` when the
//! honest reply is a hand-off); words (separated by `|`) must appear in
//! the answer. A question starting with `+` continues the conversation of
//! the line above. A wrong answer is worse than a hand-off, so both are
//! counted.

use regex::Regex;

use super::engine::{Assistant, ReplyKind, Topic};

#[derive(Debug, Clone, Default)]
pub struct AssistantEval {
    pub questions: usize,
    /// Replied with at least one cited source (answers and clarifying
    /// questions that list the candidates).
    pub answered: usize,
    /// Answered and right: a source matches and every word is there; or
    /// handed off where a hand-off was expected.
    pub correct: usize,
    /// Answered, but from the wrong source or without the words; or
    /// answered where a person was expected.
    pub wrong: usize,
    pub handed_off: usize,
    /// Asked back which item was meant, listing the right one.
    pub clarified: usize,
    /// Every question not counted correct: (line, question, expected, what it said).
    pub misses: Vec<(usize, String, String, String)>,
    /// Every reply that would answer at threshold 0: (confidence, right),
    /// to choose the threshold setting from.
    pub calibration: Vec<(f32, bool)>,
    pub bad_lines: Vec<(usize, String)>,
}

fn rate(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 * 100.0 / of as f64
    }
}

impl AssistantEval {
    /// At each threshold: (threshold, share of questions answered right,
    /// share answered wrong) among replies that cite sources.
    pub fn by_threshold(&self) -> Vec<(f32, f64, f64)> {
        [0.3f32, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8]
            .iter()
            .map(|t| {
                let kept = self.calibration.iter().filter(|(c, _)| c >= t);
                let (right, wrong) = kept.fold(
                    (0, 0),
                    |(r, w), (_, ok)| {
                        if *ok { (r + 1, w) } else { (r, w + 1) }
                    },
                );
                (*t, rate(right, self.questions), rate(wrong, self.questions))
            })
            .collect()
    }

    pub fn answered_rate(&self) -> f64 {
        rate(self.answered, self.questions)
    }
    pub fn correct_rate(&self) -> f64 {
        rate(self.correct, self.questions)
    }
    pub fn wrong_rate(&self) -> f64 {
        rate(self.wrong, self.questions)
    }
    pub fn handed_off_rate(&self) -> f64 {
        rate(self.handed_off, self.questions)
    }
}

pub fn evaluate(assistant: &Assistant<'_>, tsv: &str) -> AssistantEval {
    let mut r = AssistantEval::default();
    let mut topic = Topic::default();
    for (i, line) in tsv.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut cols = line.split('\t');
        let (Some(question), Some(expected)) = (cols.next(), cols.next()) else {
            r.bad_lines.push((line_no, "fewer than two columns".into()));
            continue;
        };
        let words: Vec<&str> = cols
            .next()
            .unwrap_or("")
            .split('|')
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .collect();
        let expected = expected.trim();
        let re = if expected == "-" {
            None
        } else {
            match Regex::new(expected) {
                Ok(re) => Some(re),
                Err(e) => {
                    r.bad_lines.push((line_no, e.to_string()));
                    continue;
                }
            }
        };
        let question = match question.strip_prefix('+') {
            Some(q) => q,
            None => {
                topic = Topic::default();
                question
            }
        };
        let reply = assistant.reply(question, &topic);
        topic = reply.topic.clone();
        r.questions += 1;
        let mut answered = !reply.handoff && !reply.sources.is_empty();
        if reply.handoff || reply.kind == ReplyKind::HandOff {
            r.handed_off += 1;
        }
        // A clarifying question that lists the right item but does not
        // answer yet is neither an answer nor wrong.
        if answered
            && reply.kind == ReplyKind::Clarify
            && let Some(re) = &re
            && reply.sources.iter().any(|s| re.is_match(&s.title))
            && !words.iter().all(|w| reply.answer.contains(w))
        {
            answered = false;
            r.clarified += 1;
        }
        let right = match &re {
            None => !answered,
            Some(re) => {
                answered
                    && reply.sources.iter().any(|s| re.is_match(&s.title))
                    && words.iter().all(|w| reply.answer.contains(w))
            }
        };
        if answered {
            r.answered += 1;
            if !right {
                r.wrong += 1;
            }
        }
        if re.is_some() && !reply.sources.is_empty() && reply.confidence < 1.0 + f32::EPSILON {
            r.calibration.push((reply.confidence, right));
        }
        if right {
            r.correct += 1;
        } else {
            let said = if answered {
                let titles: Vec<&str> = reply.sources.iter().map(|s| s.title.as_str()).collect();
                format!(
                    "[{}] {} ← {}",
                    reply.confidence,
                    titles.join(" | "),
                    reply.answer.lines().next().unwrap_or("")
                )
            } else {
                format!("[{:.2}] {:?}", reply.confidence, reply.kind)
            };
            r.misses
                .push((line_no, question.to_string(), expected.to_string(), said));
        }
    }
    r
}

/// What the running portal answers from, built in memory from a database:
/// the published services and articles in a search index with the staff
/// synonyms, and the knowledge base in force.
pub async fn load(
    db: &crate::Db,
) -> Result<(zhiban_search::SearchIndex, super::Brain), crate::DomainError> {
    use std::sync::Arc;
    let catalog = Arc::new(crate::catalog::CatalogSnapshot::load(db).await?);
    let index = zhiban_search::SearchIndex::open(None)
        .map_err(|_| crate::DomainError::Internal("search index"))?;
    index.set_synonyms(crate::search_terms::synonym_pairs(db).await?);
    index
        .replace_kind("service", crate::search_docs::service_docs(&catalog))
        .map_err(|_| crate::DomainError::Internal("search index"))?;
    let (articles, _) = crate::search_docs::article_docs(db).await?;
    index
        .replace_kind("article", articles)
        .map_err(|_| crate::DomainError::Internal("search index"))?;
    let brain = super::Brain::new(catalog, super::knowledge::in_force(db).await?, &index);
    Ok((index, brain))
}
