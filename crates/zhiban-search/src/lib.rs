//! Search over every kind of public content (services now; articles,
//! policies, FAQs and datasets later) with a `kind` facet. The index is
//! tantivy over character uni- and bigrams, so any part of a Chinese word
//! is found (营商 finds 营商环境); [`understand`] turns what citizens type
//! into the words to look for; results are re-ranked to prefer exact name
//! hits, popular items and the user's audience.

pub mod english;
pub mod eval;
mod highlight;
pub mod understand;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{LowerCaser, NgramTokenizer, TextAnalyzer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term, doc};

pub use highlight::{Segment, highlight, snippet};
pub use understand::{Lexicon, Understood, pinyin_of};

/// How many candidates are re-ranked and counted for facets.
const CANDIDATES: usize = 100;
/// Below this many title matches, bodies are searched too.
const MIN_TITLE_HITS: usize = 10;
const NGRAM: &str = "zh_ngram";

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Dir(String),
}

/// One thing that can be found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchDoc {
    /// `service`, later `article`, `policy`, `faq`, `dataset`.
    pub kind: String,
    pub id: String,
    pub title: String,
    /// Other names (俗称, English search words): searched and ranked like
    /// the title, not shown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Text searched besides the title (department, conditions, materials …).
    pub body: String,
    /// Short text shown under the title.
    pub summary: String,
    pub department: String,
    /// `person`, `company` or `both`.
    pub audience: String,
    pub online: bool,
    /// Higher is more often used.
    pub popularity: u64,
    pub url: String,
    /// Publication date (`YYYY-MM-DD`) of dated content; empty for services.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub date: String,
}

/// A search request with its optional facet filters.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: String,
    pub kind: Option<String>,
    pub department: Option<String>,
    pub audience: Option<String>,
    pub online_only: bool,
    /// Only documents dated on or after this day (`YYYY-MM-DD`); undated
    /// ones (services) drop out when it is set.
    pub since: Option<String>,
    /// The searcher's own audience, if known: preferred in ranking.
    pub prefer_audience: Option<String>,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Hit {
    pub doc: Arc<SearchDoc>,
    pub score: f32,
    pub title: Vec<Segment>,
    pub snippet: Vec<Segment>,
}

/// Facet values with counts, most frequent first.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Facets {
    pub kind: Vec<(String, usize)>,
    pub department: Vec<(String, usize)>,
    pub audience: Vec<(String, usize)>,
    pub online: usize,
}

#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    pub understood: Understood,
    /// Matches after filters (counted among the best [`CANDIDATES`]).
    pub total: usize,
    /// True when there were more matches than were counted.
    pub capped: bool,
    pub hits: Vec<Hit>,
    pub facets: Facets,
}

struct Fields {
    key: Field,
    kind: Field,
    title: Field,
    body: Field,
}

/// The index plus what is needed to understand queries against it.
pub struct SearchIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    docs: RwLock<HashMap<u64, Arc<SearchDoc>>>,
    lexicon: RwLock<Arc<Lexicon>>,
    synonyms: RwLock<Vec<(String, String)>>,
    /// The English words of every document (English names and search
    /// words), for English queries.
    english: RwLock<Arc<english::EnglishIndex>>,
}

fn doc_key(kind: &str, id: &str) -> u64 {
    // FNV-1a: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in kind.bytes().chain([0u8]).chain(id.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let ngram = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(NGRAM)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let key = b.add_u64_field("key", INDEXED | FAST | STORED);
    let kind = b.add_text_field("kind", STRING | STORED);
    let title = b.add_text_field("title", ngram.clone());
    let body = b.add_text_field("body", ngram);
    (
        b.build(),
        Fields {
            key,
            kind,
            title,
            body,
        },
    )
}

/// The title and the Chinese other names, as the title field holds them
/// (English ones go by the English index and leave the title field's
/// lengths, and so Chinese ranking, as they were).
fn names_of(d: &SearchDoc) -> String {
    let mut names = d.title.clone();
    for a in d.aliases.iter().filter(|a| !a.is_ascii()) {
        names.push('\n');
        names.push_str(a);
    }
    names
}

/// Uni- and bigrams of a word, as the index tokenizer produces them.
fn grams(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    match chars.len() {
        0 => Vec::new(),
        1 => vec![word.to_string()],
        _ => chars.windows(2).map(|w| w.iter().collect()).collect(),
    }
}

impl SearchIndex {
    /// Opens (or creates) the index in `dir`, or in memory when `None`.
    pub fn open(dir: Option<&Path>) -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        let index = match dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(|e| SearchError::Dir(e.to_string()))?;
                let mmap = tantivy::directory::MmapDirectory::open(d)
                    .map_err(|e| SearchError::Dir(e.to_string()))?;
                Index::open_or_create(mmap, schema)?
            }
            None => Index::create_in_ram(schema),
        };
        let analyzer = TextAnalyzer::builder(NgramTokenizer::new(1, 2, false)?)
            .filter(LowerCaser)
            .build();
        index.tokenizers().register(NGRAM, analyzer);
        let writer = index.writer_with_num_threads(1, 50_000_000)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            reader,
            writer: Mutex::new(writer),
            fields,
            docs: RwLock::new(HashMap::new()),
            lexicon: RwLock::new(Arc::new(Lexicon::build([], &[]))),
            synonyms: RwLock::new(Vec::new()),
            english: RwLock::new(Arc::new(english::EnglishIndex::default())),
        })
    }

    fn lexicon(&self) -> Arc<Lexicon> {
        match self.lexicon.read() {
            Ok(l) => Arc::clone(&l),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    fn rebuild_lexicon(&self) {
        let docs = self.docs.read().map(|d| d.clone()).unwrap_or_default();
        let synonyms = self.synonyms.read().map(|s| s.clone()).unwrap_or_default();
        let lex = Lexicon::build(docs.values().map(|d| d.title.as_str()), &synonyms);
        if let Ok(mut l) = self.lexicon.write() {
            *l = Arc::new(lex);
        }
        let texts: Vec<(u64, String)> = docs
            .iter()
            .map(|(k, d)| (*k, format!("{}\n{}", d.body, d.aliases.join("\n"))))
            .collect();
        let en = english::EnglishIndex::build(texts.iter().map(|(k, t)| (*k, t.as_str())));
        if let Ok(mut e) = self.english.write() {
            *e = Arc::new(en);
        }
    }

    /// Candidates for an English query, by its English words.
    fn english_candidates(&self, text: &str) -> Vec<(f32, Arc<SearchDoc>)> {
        let Some(en) = self.english.read().ok().map(|e| Arc::clone(&e)) else {
            return Vec::new();
        };
        let Ok(docs) = self.docs.read() else {
            return Vec::new();
        };
        en.search(text, CANDIDATES)
            .into_iter()
            .filter_map(|(k, s)| docs.get(&k).map(|d| (s, Arc::clone(d))))
            .collect()
    }

    /// Replaces every document of `kind` with `docs`, commits, and makes the
    /// change visible to searches at once.
    pub fn replace_kind(&self, kind: &str, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        self.replace_kind_with_progress(kind, docs, |_| {})
    }

    /// Like [`Self::replace_kind`], calling `progress` with the number of
    /// documents added so far.
    pub fn replace_kind_with_progress(
        &self,
        kind: &str,
        docs: Vec<SearchDoc>,
        mut progress: impl FnMut(usize),
    ) -> Result<(), SearchError> {
        self.write(
            vec![Term::from_field_text(self.fields.kind, kind)],
            &docs,
            &mut progress,
        )?;
        if let Ok(mut map) = self.docs.write() {
            map.retain(|_, d| d.kind != kind);
            for d in docs {
                map.insert(doc_key(&d.kind, &d.id), Arc::new(d));
            }
        }
        self.rebuild_lexicon();
        Ok(())
    }

    /// Deletes every document matching `deletes`, adds `docs`, commits and
    /// makes the result visible to searches.
    fn write(
        &self,
        deletes: Vec<Term>,
        docs: &[SearchDoc],
        progress: &mut dyn FnMut(usize),
    ) -> Result<(), SearchError> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| SearchError::Dir("writer lock poisoned".into()))?;
        for t in deletes {
            writer.delete_term(t);
        }
        for (i, d) in docs.iter().enumerate() {
            writer.add_document(doc!(
                self.fields.key => doc_key(&d.kind, &d.id),
                self.fields.kind => d.kind.clone(),
                self.fields.title => names_of(d),
                self.fields.body => d.body.clone(),
            ))?;
            if i % 1000 == 999 {
                progress(i + 1);
            }
        }
        writer.commit()?;
        self.reader.reload()?;
        progress(docs.len());
        Ok(())
    }

    /// Adds or replaces `docs` and removes the documents of `kind` with ids
    /// in `removed`, then makes the change visible at once.
    pub fn upsert(
        &self,
        kind: &str,
        docs: Vec<SearchDoc>,
        removed: &[String],
    ) -> Result<(), SearchError> {
        let keys: Vec<u64> = removed
            .iter()
            .map(|id| doc_key(kind, id))
            .chain(docs.iter().map(|d| doc_key(&d.kind, &d.id)))
            .collect();
        let deletes = keys
            .iter()
            .map(|k| Term::from_field_u64(self.fields.key, *k))
            .collect();
        self.write(deletes, &docs, &mut |_| {})?;
        if let Ok(mut map) = self.docs.write() {
            for k in &keys {
                map.remove(k);
            }
            for d in docs {
                map.insert(doc_key(&d.kind, &d.id), Arc::new(d));
            }
        }
        self.rebuild_lexicon();
        Ok(())
    }

    /// Sets the staff-maintained synonyms (phrase → replacement); they take
    /// effect for the next query.
    pub fn set_synonyms(&self, synonyms: Vec<(String, String)>) {
        if let Ok(mut s) = self.synonyms.write() {
            *s = synonyms;
        }
        self.rebuild_lexicon();
    }

    pub fn len(&self) -> usize {
        self.docs.read().map(|d| d.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn understand(&self, q: &str) -> Understood {
        self.lexicon().understand(q)
    }

    /// A flat disjunction of the words' n-grams on title (boosted) and body.
    /// Flat term disjunctions let tantivy skip whole blocks of documents
    /// that cannot reach the top (block-max WAND); precision comes back in
    /// the re-ranking, which looks at whole words.
    fn words_query(&self, words: &[String], with_body: bool) -> BooleanQuery {
        let mut seen = std::collections::HashSet::new();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let fields: &[(Field, f32)] = if with_body {
            &[(self.fields.title, 3.0), (self.fields.body, 1.0)]
        } else {
            &[(self.fields.title, 3.0)]
        };
        for g in words.iter().flat_map(|w| grams(w)) {
            if !seen.insert(g.clone()) {
                continue;
            }
            for &(field, boost) in fields {
                let term: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(field, &g),
                    IndexRecordOption::WithFreqs,
                ));
                clauses.push((Occur::Should, Box::new(BoostQuery::new(term, boost))));
            }
        }
        BooleanQuery::new(clauses)
    }

    fn candidates(&self, words: &[String]) -> Result<Vec<(f32, Arc<SearchDoc>)>, SearchError> {
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        // Titles first: short fields, small posting lists. Only when titles
        // give too little do bodies (conditions, materials …) join in.
        let mut top = searcher.search(
            &self.words_query(words, false),
            &TopDocs::with_limit(CANDIDATES).order_by_score(),
        )?;
        if top.len() < MIN_TITLE_HITS {
            top = searcher.search(
                &self.words_query(words, true),
                &TopDocs::with_limit(CANDIDATES).order_by_score(),
            )?;
        }
        let docs = self
            .docs
            .read()
            .map_err(|_| SearchError::Dir("docs lock poisoned".into()))?;
        // One key column per segment, opened on first use.
        let mut columns: HashMap<u32, tantivy::columnar::Column<u64>> = HashMap::new();
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let column = match columns.entry(addr.segment_ord) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => v.insert(
                    searcher
                        .segment_reader(addr.segment_ord)
                        .fast_fields()
                        .u64("key")?,
                ),
            };
            let key = column.first(addr.doc_id).unwrap_or(0);
            if let Some(d) = docs.get(&key) {
                out.push((score, Arc::clone(d)));
            }
        }
        Ok(out)
    }

    pub fn search(&self, q: &SearchQuery) -> Result<SearchResults, SearchError> {
        let lexicon = self.lexicon();
        let understood = lexicon.understand(&q.text);
        // English words go by the English names and search words; if they
        // find nothing, the character search still has its say.
        let english = if english::is_english(&understood.words) {
            self.english_candidates(&q.text)
        } else {
            Vec::new()
        };
        let candidates = if english.is_empty() {
            self.candidates(&understood.words)?
        } else {
            english
        };
        let capped = candidates.len() >= CANDIDATES;
        let facets = facets_of(&candidates);
        let compact: String = understood
            .rewritten
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let original: String = understood
            .corrected
            .as_deref()
            .unwrap_or(&understood.normalized)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let mut ranked: Vec<(f32, Arc<SearchDoc>)> = candidates
            .into_iter()
            .filter(|(_, d)| q.kind.as_ref().is_none_or(|k| &d.kind == k))
            .filter(|(_, d)| q.department.as_ref().is_none_or(|x| &d.department == x))
            .filter(|(_, d)| {
                q.audience
                    .as_ref()
                    .is_none_or(|a| &d.audience == a || d.audience == "both")
            })
            .filter(|(_, d)| !q.online_only || d.online)
            .filter(|(_, d)| {
                q.since
                    .as_ref()
                    .is_none_or(|since| !d.date.is_empty() && d.date.as_str() >= since.as_str())
            })
            .map(|(bm25, d)| {
                let named =
                    |w: &str| d.title.contains(w) || d.aliases.iter().any(|a| a.contains(w));
                let in_title = understood
                    .words
                    .iter()
                    .filter(|w| named(w.as_str()))
                    .map(|w| w.chars().count())
                    .sum::<usize>() as f32;
                let mut score = bm25 + 0.6 * in_title;
                if !original.is_empty() && named(&original) {
                    score += 8.0;
                }
                if !compact.is_empty() && d.title.contains(&compact) {
                    score += 4.0;
                }
                score *= 1.0 + 0.08 * (1.0 + d.popularity as f32).ln();
                if q.prefer_audience.as_ref().is_some_and(|a| &d.audience == a) {
                    score *= 1.1;
                }
                (score, d)
            })
            .collect();
        ranked.sort_by(|a, b| {
            b.0.partial_cmp(&a.0)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.1.title.chars().count().cmp(&b.1.title.chars().count()))
                .then_with(|| a.1.id.cmp(&b.1.id))
        });
        let total = ranked.len();
        let limit = if q.limit == 0 { 10 } else { q.limit };
        let hits = ranked
            .into_iter()
            .skip(q.offset)
            .take(limit)
            .map(|(score, doc)| Hit {
                title: highlight(&doc.title, &understood.words),
                snippet: snippet(&doc.summary, &understood.words, 80),
                doc,
                score,
            })
            .collect();
        Ok(SearchResults {
            understood,
            total,
            capped,
            hits,
            facets,
        })
    }

    /// Titles to suggest while someone types: titles containing the text,
    /// or, for Latin letters, titles with words read that way.
    pub fn suggest(&self, prefix: &str, limit: usize) -> Vec<String> {
        let lexicon = self.lexicon();
        let norm = lexicon.normalize(prefix);
        if norm.is_empty() {
            return Vec::new();
        }
        let needles: Vec<String> = if norm.chars().all(|c| c.is_ascii_alphabetic()) {
            lexicon.pinyin_prefix(&norm, 5)
        } else {
            vec![norm]
        };
        let Ok(docs) = self.docs.read() else {
            return Vec::new();
        };
        let mut found: Vec<&Arc<SearchDoc>> = docs
            .values()
            .filter(|d| needles.iter().any(|n| d.title.contains(n.as_str())))
            .collect();
        found.sort_by(|a, b| {
            b.popularity
                .cmp(&a.popularity)
                .then_with(|| a.title.chars().count().cmp(&b.title.chars().count()))
                .then_with(|| a.title.cmp(&b.title))
        });
        let mut out: Vec<String> = Vec::new();
        for d in found {
            if !out.contains(&d.title) {
                out.push(d.title.clone());
            }
            if out.len() >= limit {
                break;
            }
        }
        out
    }

    /// Items like the query's words when nothing matched all of them: the
    /// best documents for any single character of the query.
    pub fn similar(&self, q: &str, limit: usize) -> Vec<Arc<SearchDoc>> {
        let u = self.understand(q);
        let chars: Vec<String> = u
            .rewritten
            .chars()
            .filter(|c| c.is_alphanumeric())
            .map(|c| c.to_string())
            .collect();
        self.candidates(&chars)
            .map(|c| c.into_iter().take(limit).map(|(_, d)| d).collect())
            .unwrap_or_default()
    }

    /// Direct access for tests and tools.
    pub fn doc_count_in_index(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

fn facets_of(candidates: &[(f32, Arc<SearchDoc>)]) -> Facets {
    let mut kind: HashMap<&str, usize> = HashMap::new();
    let mut department: HashMap<&str, usize> = HashMap::new();
    let mut audience: HashMap<&str, usize> = HashMap::new();
    let mut online = 0;
    for (_, d) in candidates {
        *kind.entry(&d.kind).or_default() += 1;
        *department.entry(&d.department).or_default() += 1;
        *audience.entry(&d.audience).or_default() += 1;
        online += usize::from(d.online);
    }
    let sorted = |m: HashMap<&str, usize>| {
        let mut v: Vec<(String, usize)> = m.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    };
    Facets {
        kind: sorted(kind),
        department: sorted(department),
        audience: sorted(audience),
        online,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, title: &str, pop: u64) -> SearchDoc {
        SearchDoc {
            kind: "service".into(),
            id: id.into(),
            title: title.into(),
            aliases: Vec::new(),
            body: format!("{title} 渝州市公安局"),
            summary: format!("{title}的办理条件和材料"),
            department: "渝州市公安局".into(),
            audience: "person".into(),
            online: true,
            popularity: pop,
            url: format!("/services/{id}"),
            date: String::new(),
        }
    }

    fn index() -> SearchIndex {
        let idx = SearchIndex::open(None).expect("index");
        idx.replace_kind(
            "service",
            vec![
                doc("1", "居民身份证补领", 10),
                doc("2", "居民身份证换领", 10),
                doc("3", "机动车驾驶证期满换证", 5),
                doc("4", "营商环境投诉", 1),
                doc("5", "普通护照签发", 8),
            ],
        )
        .expect("indexed");
        idx
    }

    fn top(idx: &SearchIndex, q: &str) -> String {
        let r = idx
            .search(&SearchQuery {
                text: q.into(),
                limit: 3,
                ..SearchQuery::default()
            })
            .expect("search");
        r.hits
            .first()
            .map(|h| h.doc.title.clone())
            .unwrap_or_default()
    }

    #[test]
    fn part_of_a_word_finds_the_whole_word() {
        assert_eq!(top(&index(), "营商"), "营商环境投诉");
    }

    #[test]
    fn colloquial_pinyin_typo_and_traditional_queries_find_the_item() {
        let idx = index();
        assert_eq!(top(&idx, "身份证丢了"), "居民身份证补领");
        assert_eq!(top(&idx, "sfz补办"), "居民身份证补领");
        assert_eq!(top(&idx, "驾使证换证"), "机动车驾驶证期满换证");
        assert_eq!(top(&idx, "護照申請"), "普通护照签发");
    }

    #[test]
    fn replacing_a_kind_takes_effect_at_once() {
        let idx = index();
        idx.replace_kind("service", vec![doc("9", "犬只登记", 1)])
            .expect("replaced");
        assert_eq!(idx.len(), 1);
        assert_eq!(idx.doc_count_in_index(), 1);
        assert_eq!(top(&idx, "犬只"), "犬只登记");
        assert_eq!(top(&idx, "身份证"), "");
    }

    #[test]
    fn single_documents_can_be_replaced_and_removed() {
        let idx = index();
        idx.upsert("service", vec![doc("5", "普通护照补发", 8)], &["1".into()])
            .expect("upserted");
        assert_eq!(idx.len(), 4);
        assert_eq!(idx.doc_count_in_index(), 4);
        assert_eq!(top(&idx, "护照补发"), "普通护照补发");
        assert_eq!(top(&idx, "身份证补领"), "居民身份证换领");
    }

    #[test]
    fn the_searchers_audience_is_preferred_among_equal_matches() {
        let idx = SearchIndex::open(None).expect("index");
        let mut company = doc("c", "注销登记（企业）", 1);
        company.audience = "company".into();
        let person = doc("p", "注销登记（个人）", 1);
        idx.replace_kind("service", vec![person, company])
            .expect("indexed");
        let first = |who: Option<&str>| {
            idx.search(&SearchQuery {
                text: "注销登记".into(),
                prefer_audience: who.map(str::to_string),
                limit: 2,
                ..SearchQuery::default()
            })
            .expect("search")
            .hits[0]
                .doc
                .id
                .clone()
        };
        assert_eq!(first(Some("company")), "c");
        assert_eq!(first(Some("person")), "p");
    }

    #[test]
    fn hits_are_highlighted_and_facets_counted() {
        let r = index()
            .search(&SearchQuery {
                text: "身份证".into(),
                limit: 10,
                ..SearchQuery::default()
            })
            .expect("search");
        assert_eq!(r.total, 2);
        assert!(
            r.hits[0]
                .title
                .iter()
                .any(|s| s.hit && s.text.contains("身份证"))
        );
        assert_eq!(r.facets.kind, vec![("service".to_string(), 2)]);
    }

    #[test]
    fn suggestions_follow_text_and_pinyin_initials() {
        let idx = index();
        assert_eq!(idx.suggest("护照", 5), vec!["普通护照签发".to_string()]);
        assert!(idx.suggest("sfz", 5).iter().any(|t| t.contains("身份证")));
    }
}
