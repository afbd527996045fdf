//! Measuring search quality: a file of `query<TAB>title-regex` lines, where
//! a query counts as found when a top-1 (or top-3) title matches the regex.

use regex::Regex;

use crate::{SearchIndex, SearchQuery};

#[derive(Debug, Clone, Default)]
pub struct EvalReport {
    pub queries: usize,
    pub top1: usize,
    pub top3: usize,
    /// (line number, query, expected regex, the top-3 titles found)
    pub misses: Vec<(usize, String, String, Vec<String>)>,
    /// Lines that could not be read: (line number, reason).
    pub bad_lines: Vec<(usize, String)>,
}

impl EvalReport {
    pub fn top1_rate(&self) -> f64 {
        rate(self.top1, self.queries)
    }
    pub fn top3_rate(&self) -> f64 {
        rate(self.top3, self.queries)
    }
}

fn rate(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 * 100.0 / of as f64
    }
}

/// Runs every query of `tsv` (comments start with `#`) against `index`.
pub fn evaluate(index: &SearchIndex, tsv: &str) -> EvalReport {
    let mut report = EvalReport::default();
    for (i, line) in tsv.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((query, pattern)) = line.split_once('\t') else {
            report.bad_lines.push((line_no, "no tab".into()));
            continue;
        };
        let re = match Regex::new(pattern.trim()) {
            Ok(r) => r,
            Err(e) => {
                report.bad_lines.push((line_no, e.to_string()));
                continue;
            }
        };
        report.queries += 1;
        let titles: Vec<String> = index
            .search(&SearchQuery {
                text: query.to_string(),
                limit: 3,
                ..SearchQuery::default()
            })
            .map(|r| r.hits.iter().map(|h| h.doc.title.clone()).collect())
            .unwrap_or_default();
        if titles.first().is_some_and(|t| re.is_match(t)) {
            report.top1 += 1;
        }
        if titles.iter().any(|t| re.is_match(t)) {
            report.top3 += 1;
        } else {
            report.misses.push((
                line_no,
                query.to_string(),
                pattern.trim().to_string(),
                titles,
            ));
        }
    }
    report
}
