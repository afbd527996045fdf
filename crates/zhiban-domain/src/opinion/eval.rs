//! `zhiban eval sentiment FILE.tsv`: accuracy of [`super::sentiment`] on
//! `label<TAB>source<TAB>text` lines (label negative / neutral /
//! positive; source request / comment / rating / answer / feed), with the
//! confusion table and every miss.

use super::sentiment::{self, Sentiment, Source};

#[derive(Debug, Default)]
pub struct Report {
    pub total: usize,
    pub correct: usize,
    /// confusion[expected][got], in the order negative, neutral, positive.
    pub confusion: [[usize; 3]; 3],
    /// (line, expected, got, text)
    pub misses: Vec<(usize, Sentiment, Sentiment, String)>,
    pub bad_lines: Vec<usize>,
}

impl Report {
    pub fn accuracy(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            100.0 * self.correct as f64 / self.total as f64
        }
    }
}

fn index(s: Sentiment) -> usize {
    match s {
        Sentiment::Negative => 0,
        Sentiment::Neutral => 1,
        Sentiment::Positive => 2,
    }
}

pub fn evaluate(tsv: &str) -> Report {
    let mut r = Report::default();
    for (n, line) in tsv.lines().enumerate() {
        let line_no = n + 1;
        if line.trim().is_empty()
            || line.starts_with('#')
            || (n == 0 && line.starts_with("label\t"))
        {
            continue;
        }
        let mut cols = line.splitn(3, '\t');
        let (Some(label), Some(source), Some(text)) = (cols.next(), cols.next(), cols.next())
        else {
            r.bad_lines.push(line_no);
            continue;
        };
        let (Some(want), Some(source)) = (
            Sentiment::from_slug(label.trim()),
            Source::from_slug(source.trim()),
        ) else {
            r.bad_lines.push(line_no);
            continue;
        };
        let got = sentiment::read(text, source).sentiment;
        r.total += 1;
        r.confusion[index(want)][index(got)] += 1;
        if got == want {
            r.correct += 1;
        } else {
            r.misses.push((line_no, want, got, text.to_string()));
        }
    }
    r
}
