//! English queries (dog registration, business licence, housing fund
//! withdrawal). Items carry English names and English search words in
//! their text; a query whose words are English (not pinyin, which the
//! query understanding turns into Chinese first) is matched word by word:
//! Snowball-stemmed (tantivy's stemmer), British and American spellings
//! made one, filler words dropped, ranked by BM25 with a bonus for
//! covering every word of the query.

use std::collections::HashMap;

use tantivy::tokenizer::{Language, LowerCaser, SimpleTokenizer, Stemmer, TextAnalyzer};

/// Words that say nothing about which service is meant.
const STOP: &[&str] = &[
    "a", "an", "the", "of", "for", "to", "my", "me", "i", "how", "do", "does", "can", "could",
    "where", "is", "are", "in", "on", "at", "and", "or", "with", "from", "what", "get", "need",
    "want", "please", "apply", "applying", "online", "about", "it", "be", "should", "which", "who",
    "when", "your", "our", "we", "you", "there", "this", "that", "make", "go", "by", "new",
    "china", "chinese", "yuzhou", "city",
];

/// British and American spellings (and a few common variants) made one
/// before stemming.
const SPELLINGS: &[(&str, &str)] = &[
    ("licence", "license"),
    ("licences", "licenses"),
    ("programme", "program"),
    ("centre", "center"),
    ("organisation", "organization"),
    ("enrolment", "enrollment"),
    ("enrol", "enroll"),
    ("cheque", "check"),
    ("kerb", "curb"),
    ("flat", "apartment"),
    ("flats", "apartments"),
    ("id", "identity"),
    ("ids", "identity"),
];

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The English words of a text, stemmed, fillers dropped. Chinese text and
/// numbers give none.
pub fn words(text: &str) -> Vec<String> {
    // Built once per thread: the stemmer's tables are not rebuilt per query.
    thread_local! {
        static ANALYZER: std::cell::RefCell<TextAnalyzer> = std::cell::RefCell::new(analyzer());
    }
    ANALYZER.with(|a| stemmed(&mut a.borrow_mut(), text))
}

fn stemmed(a: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text
        .split(|c: char| !c.is_ascii_alphabetic() && c != '\'')
        .map(|w| w.trim_matches('\'').to_ascii_lowercase())
        .filter(|w| w.len() >= 2 && !STOP.contains(&w.as_str()))
    {
        let w = raw.trim_end_matches("'s");
        let w = SPELLINGS
            .iter()
            .find(|(from, _)| *from == w)
            .map_or(w, |(_, to)| *to);
        let mut stream = a.token_stream(w);
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
    }
    out
}

/// Whether understood query words are English: all Latin letters (pinyin
/// was already read as Chinese), at least one a real word.
pub fn is_english(understood_words: &[String]) -> bool {
    !understood_words.is_empty()
        && understood_words
            .iter()
            .all(|w| w.chars().all(|c| c.is_ascii_alphanumeric() || c == '\''))
        && understood_words
            .iter()
            .any(|w| w.chars().filter(char::is_ascii_alphabetic).count() >= 3)
}

/// Stemmed English words → the documents holding them.
#[derive(Debug, Default)]
pub struct EnglishIndex {
    postings: HashMap<String, Vec<(u64, f32)>>,
    lengths: HashMap<u64, f32>,
    average: f32,
}

impl EnglishIndex {
    /// From each document's key and its text.
    pub fn build<'a>(docs: impl Iterator<Item = (u64, &'a str)>) -> Self {
        let mut postings: HashMap<String, Vec<(u64, f32)>> = HashMap::new();
        let mut lengths = HashMap::new();
        for (key, text) in docs {
            let ws = words(text);
            if ws.is_empty() {
                continue;
            }
            let mut tf: HashMap<&str, f32> = HashMap::new();
            for w in &ws {
                *tf.entry(w.as_str()).or_default() += 1.0;
            }
            for (w, n) in tf {
                postings.entry(w.to_string()).or_default().push((key, n));
            }
            lengths.insert(key, ws.len() as f32);
        }
        let average = if lengths.is_empty() {
            1.0
        } else {
            lengths.values().sum::<f32>() / lengths.len() as f32
        };
        EnglishIndex {
            postings,
            lengths,
            average,
        }
    }

    /// Documents for the query's English words, best first: BM25, times
    /// the share of the query's words each covers (so all of "dog
    /// registration" beats many "registration"s).
    pub fn search(&self, query: &str, limit: usize) -> Vec<(u64, f32)> {
        let mut qs = words(query);
        qs.sort();
        qs.dedup();
        if qs.is_empty() {
            return Vec::new();
        }
        let n = self.lengths.len() as f32;
        let (k1, b) = (1.2f32, 0.75f32);
        let mut scores: HashMap<u64, (f32, usize)> = HashMap::new();
        for q in &qs {
            let Some(list) = self.postings.get(q) else {
                continue;
            };
            let df = list.len() as f32;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            for (key, tf) in list {
                let len = self.lengths.get(key).copied().unwrap_or(self.average);
                let s = idf * tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * len / self.average));
                let e = scores.entry(*key).or_default();
                e.0 += s;
                e.1 += 1;
            }
        }
        let total = qs.len() as f32;
        let mut out: Vec<(u64, f32)> = scores
            .into_iter()
            .map(|(k, (s, hit))| {
                let share = hit as f32 / total;
                (k, s * share * share)
            })
            .collect();
        out.sort_by(|a, b| {
            b.1.partial_cmp(&a.1)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.0.cmp(&b.0))
        });
        out.truncate(limit);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_plurals_and_fillers_meet() {
        assert_eq!(words("Business Licences"), words("business license"));
        assert_eq!(words("How do I register my dogs?"), words("register dog"));
        assert!(words("居民身份证补领 2024").is_empty());
        assert!(is_english(&["dog".into(), "registration".into()]));
        assert!(!is_english(&["身份证".into()]));
        assert!(!is_english(&["id".into()]));
    }

    #[test]
    fn every_word_of_the_query_counts() {
        let docs = [
            (
                1u64,
                "犬只登记 Dog Registration dog licence|register my dog",
            ),
            (
                2u64,
                "个体工商户设立登记 Sole Trader Registration business licence|register a shop",
            ),
            (
                3u64,
                "机动车转移登记 Vehicle Ownership Transfer Registration",
            ),
        ];
        let index = EnglishIndex::build(docs.iter().map(|(k, t)| (*k, *t)));
        assert_eq!(index.search("dog registration", 3)[0].0, 1);
        assert_eq!(index.search("business licences", 3)[0].0, 2);
        assert_eq!(index.search("transfer my car ownership", 3)[0].0, 3);
        assert!(index.search("狗", 3).is_empty());
    }
}
