//! Automatic routing (派单建议): which unit a request belongs to, from its
//! text, offline. A naive Bayes model over the request's jieba words and
//! character pairs, trained when the portal starts from the labelled
//! history (every request a dispatcher confirmed or corrected) and the
//! dispatch catalogue (category → unit, with what each category covers).
//! The dispatcher sees the top suggestions with their confidence and
//! decides; corrections become history for the next training.

use std::collections::{HashMap, HashSet};

use jieba_rs::Jieba;

/// The dispatch catalogue shipped with the demo (`category<TAB>unit<TAB>what it covers`).
pub const DISPATCH_TSV: &str = include_str!("../../demo/dispatch.tsv");
/// The demo's labelled history (see `tools/demo/make_requests.py`).
pub const HISTORY_TSV: &str = include_str!("../../demo/requests.tsv");
/// Words people use for the common 12345 categories (`category<TAB>words`),
/// learnt as one more example of each category in the catalogue.
pub const TERMS_TSV: &str = include_str!("terms.tsv");

/// Spoken and dialect forms (西南官话 first: the demo city is Chongqing-like)
/// and their standard words, so a request written as people talk shares
/// features with the catalogue's wording.
const SPOKEN: &[(&str, &str)] = &[
    ("咋个", "怎么"),
    ("啷个", "怎么"),
    ("咋办", "怎么办"),
    ("莫得", "没有"),
    ("没得", "没有"),
    ("啥子", "什么"),
    ("娃儿", "孩子"),
    ("娃娃", "孩子"),
    ("屋头", "家里"),
    ("晓得", "知道"),
    ("搞不定", "解决不了"),
    ("遭", "被"),
    ("喊价", "要价"),
    ("电瓶车", "电动车"),
    ("摩的", "摩托车"),
    ("的士", "出租车"),
    ("轻轨", "轨道交通"),
];

/// The words of each category in [`TERMS_TSV`].
fn terms() -> Vec<(&'static str, String)> {
    TERMS_TSV
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (cat, words) = l.split_once('\t')?;
            Some((
                cat.trim(),
                words.split_whitespace().collect::<Vec<_>>().join(" "),
            ))
        })
        .collect()
}

/// Words that say nothing about where a request belongs.
const STOP: &[&str] = &[
    "我们",
    "你们",
    "他们",
    "这个",
    "那个",
    "什么",
    "怎么",
    "怎样",
    "如何",
    "一下",
    "请问",
    "你好",
    "您好",
    "谢谢",
    "已经",
    "没有",
    "还是",
    "就是",
    "反映",
    "投诉",
    "举报",
    "咨询",
    "问题",
    "希望",
    "能否",
    "能不能",
    "可以",
    "相关",
    "部门",
    "处理",
    "解决",
    "情况",
    "现在",
    "一直",
    "每天",
    "这样",
    "那么",
    "因为",
    "所以",
    "但是",
    "而且",
    "到底",
    "有没有",
    "是不是",
    "一个",
    "政府",
    "领导",
    "麻烦",
    "尽快",
    "及时",
];

/// A trained router.
pub struct Router {
    units: Vec<String>,
    log_prior: Vec<f64>,
    /// Feature → weighted document count per unit.
    counts: HashMap<String, Vec<f64>>,
    /// Weighted feature total per unit.
    totals: Vec<f64>,
    jieba: Jieba,
}

/// One suggestion: a unit code and how sure the router is (0–1).
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub unit: String,
    pub confidence: f64,
}

const ALPHA: f64 = 0.5;

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

impl Router {
    /// Trains on `(text, unit, weight)` examples.
    pub fn train<'a>(examples: impl IntoIterator<Item = (&'a str, &'a str, f64)>) -> Self {
        let jieba = Jieba::new();
        let mut units: Vec<String> = Vec::new();
        let mut docs: Vec<f64> = Vec::new();
        let mut counts: HashMap<String, Vec<f64>> = HashMap::new();
        let mut per_unit: Vec<Vec<(HashSet<String>, f64)>> = Vec::new();
        for (text, unit, weight) in examples {
            let i = match units.iter().position(|u| u == unit) {
                Some(i) => i,
                None => {
                    units.push(unit.to_string());
                    docs.push(0.0);
                    per_unit.push(Vec::new());
                    units.len() - 1
                }
            };
            docs[i] += weight;
            per_unit[i].push((features(&jieba, text), weight));
        }
        let n = units.len();
        let mut totals = vec![0.0; n];
        for (i, list) in per_unit.into_iter().enumerate() {
            for (feats, w) in list {
                for f in feats {
                    counts.entry(f).or_insert_with(|| vec![0.0; n])[i] += w;
                    totals[i] += w;
                }
            }
        }
        let all: f64 = docs.iter().sum::<f64>().max(1.0);
        // A flattened prior: the busiest units should not win every tie.
        let log_prior = docs.iter().map(|d| ((d + 1.0) / all).ln() * 0.5).collect();
        Router {
            units,
            log_prior,
            counts,
            totals,
            jieba,
        }
    }

    /// How much a feature tells: the log of how many labels there are over
    /// how many it was seen under (an inverse document frequency over
    /// labels), so a word of one category outweighs a common one.
    fn weight(&self, counts: &[f64]) -> f64 {
        let labels = counts.len() as f64;
        let seen = counts.iter().filter(|c| **c > 0.0).count().max(1) as f64;
        (labels / seen).ln().max(0.05)
    }

    /// The `n` most likely labels, most likely first, with confidences
    /// a person can read (tempered, see [`Router::scored`]).
    pub fn suggest(&self, text: &str, n: usize) -> Vec<Suggestion> {
        self.scored(text, n, true)
    }

    /// The labels' shares: `temper` softens naive Bayes' overconfidence for
    /// people; untempered shares are what summing over labels needs (a
    /// unit with many categories must not win by their number).
    fn scored(&self, text: &str, n: usize, temper: bool) -> Vec<Suggestion> {
        let feats = features(&self.jieba, text);
        let vocab = self.counts.len() as f64;
        let mut scores: Vec<(usize, f64)> = (0..self.units.len())
            .map(|i| {
                let denom = (self.totals[i] + ALPHA * vocab).ln();
                let mut s = self.log_prior[i];
                for f in &feats {
                    // Words never seen in training say nothing; words
                    // found under many labels (需要, 哪些, 怎么) say little.
                    if let Some(c) = self.counts.get(f) {
                        s += self.weight(c) * ((c[i] + ALPHA).ln() - denom);
                    }
                }
                (i, s)
            })
            .collect();
        // Naive Bayes counts every word as independent evidence and is far
        // too sure of itself; the scores are tempered by the number of
        // features before they become shares, so "90%" means something to
        // the dispatcher (the order, and so the accuracy, is unchanged).
        let known = feats
            .iter()
            .filter(|f| self.counts.contains_key(*f))
            .count();
        let t = if temper {
            (known as f64 / 4.0).max(1.0)
        } else {
            1.0
        };
        for s in &mut scores {
            s.1 /= t;
        }
        scores.sort_by(|a, b| b.1.total_cmp(&a.1));
        let best = scores.first().map_or(0.0, |s| s.1);
        let z: f64 = scores.iter().map(|(_, s)| (s - best).exp()).sum();
        scores
            .into_iter()
            .take(n)
            .map(|(i, s)| Suggestion {
                unit: self.units[i].clone(),
                confidence: (s - best).exp() / z,
            })
            .collect()
    }
}

/// (text, category) pairs of a history file in the demo's layout.
pub fn history(tsv: &str) -> Vec<(String, String)> {
    tsv.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Some((c.get(12)?.to_string(), c.get(4)?.to_string()))
        })
        .collect()
}

/// One line of the dispatch catalogue: a category, the unit it goes to
/// and what it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueLine {
    pub category: String,
    pub unit: String,
    pub covers: String,
}

/// The catalogue lines of a `category<TAB>unit<TAB>what it covers` file.
pub fn catalogue(tsv: &str) -> Vec<CatalogueLine> {
    tsv.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut c = l.split('\t');
            Some(CatalogueLine {
                category: c.next()?.trim().to_string(),
                unit: c.next()?.trim().to_string(),
                covers: c.next().unwrap_or("").trim().to_string(),
            })
        })
        .collect()
}

/// The portal's routing: a router over the catalogue's categories, and
/// the unit each category goes to. A unit's confidence is the sum over
/// its categories, so a request between two categories of one unit still
/// goes there with confidence.
pub struct Routing {
    router: Router,
    unit_of: HashMap<String, String>,
}

impl Routing {
    /// Trains on the catalogue (each category's name and what it covers,
    /// weighted up), the words people use for the common categories
    /// ([`TERMS_TSV`]) and labelled requests `(text, category)`; requests
    /// whose category left the catalogue are skipped.
    pub fn train(catalogue: &[CatalogueLine], labelled: &[(String, String)]) -> Self {
        let unit_of: HashMap<String, String> = catalogue
            .iter()
            .map(|c| (c.category.clone(), c.unit.clone()))
            .collect();
        let described: Vec<(String, &str)> = catalogue
            .iter()
            .map(|c| {
                (
                    format!("{0} {0} {1}", c.category, c.covers),
                    c.category.as_str(),
                )
            })
            .collect();
        let terms = terms();
        let router = Router::train(
            described
                .iter()
                .map(|(t, c)| (t.as_str(), *c, 4.0))
                .chain(
                    terms
                        .iter()
                        .filter(|(c, _)| unit_of.contains_key(*c))
                        .map(|(c, t)| (t.as_str(), *c, 3.0)),
                )
                .chain(
                    labelled
                        .iter()
                        .filter(|(_, c)| unit_of.contains_key(c))
                        .map(|(t, c)| (t.as_str(), c.as_str(), 1.0)),
                ),
        );
        Routing { router, unit_of }
    }

    /// The demo portal's routing (catalogue and demo history).
    pub fn demo() -> Self {
        Routing::train(&catalogue(DISPATCH_TSV), &history(HISTORY_TSV))
    }

    /// The `n` most likely categories (`unit` holds the category name).
    pub fn categories(&self, text: &str, n: usize) -> Vec<Suggestion> {
        self.router.suggest(text, n)
    }

    /// The unit a category goes to.
    pub fn unit_of(&self, category: &str) -> Option<&str> {
        self.unit_of.get(category).map(String::as_str)
    }

    /// The `n` most likely units.
    pub fn units(&self, text: &str, n: usize) -> Vec<Suggestion> {
        let mut by_unit: Vec<Suggestion> = Vec::new();
        for s in self.router.scored(text, usize::MAX, false) {
            let Some(u) = self.unit_of.get(&s.unit) else {
                continue;
            };
            match by_unit.iter_mut().find(|x| &x.unit == u) {
                Some(x) => x.confidence += s.confidence,
                None => by_unit.push(Suggestion {
                    unit: u.clone(),
                    confidence: s.confidence,
                }),
            }
        }
        by_unit.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        by_unit.truncate(n);
        by_unit
    }
}

/// Jieba words (two characters or more, not stop words), and the single
/// characters and pairs of characters of each Chinese run: typos and
/// unknown words still share characters with the right ones.
fn features(jieba: &Jieba, text: &str) -> HashSet<String> {
    let mut text = text.to_lowercase();
    for (spoken, standard) in SPOKEN {
        if text.contains(spoken) {
            text = text.replace(spoken, standard);
        }
    }
    let mut out = HashSet::new();
    for w in jieba.cut(&text, true) {
        let w = w.word.trim();
        if w.chars().count() >= 2 && w.chars().any(is_cjk) && !STOP.contains(&w) {
            out.insert(format!("w:{w}"));
        }
    }
    let runs = text.split(|c: char| !is_cjk(c));
    for run in runs {
        let chars: Vec<char> = run.chars().collect();
        // Single characters carry much of a short request (赌, 偷, 坟,
        // 税, 砂); the weight over labels keeps common ones (的, 了) quiet.
        for c in &chars {
            out.insert(format!("u:{c}"));
        }
        for pair in chars.windows(2) {
            out.insert(format!("b:{}{}", pair[0], pair[1]));
        }
    }
    out
}

/// Top-1 and top-3 accuracy over `text<TAB>unit` lines.
#[derive(Debug, Default, Clone)]
pub struct Evaluation {
    pub total: usize,
    pub top1: usize,
    pub top3: usize,
    /// (line, text, expected, suggested) of each top-1 miss.
    pub misses: Vec<(usize, String, String, String)>,
}

impl Evaluation {
    pub fn top1_rate(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.top1 as f64 * 100.0 / self.total as f64
        }
    }
    pub fn top3_rate(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.top3 as f64 * 100.0 / self.total as f64
        }
    }
}

/// Evaluates unit routing on a dev set.
pub fn evaluate(routing: &Routing, tsv: &str) -> Evaluation {
    let mut e = Evaluation::default();
    for (i, line) in tsv.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let Some((text, unit)) = line.split_once('\t') else {
            continue;
        };
        let unit = unit.trim();
        e.total += 1;
        let s = routing.units(text, 3);
        if s.first().is_some_and(|x| x.unit == unit) {
            e.top1 += 1;
        } else {
            e.misses.push((
                i + 1,
                text.to_string(),
                unit.to_string(),
                s.first().map(|x| x.unit.clone()).unwrap_or_default(),
            ));
        }
        if s.iter().any(|x| x.unit == unit) {
            e.top3 += 1;
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_goes_to_the_unit_its_words_belong_to() {
        let r = Router::train([
            ("楼下烧烤店油烟太大", "CG", 1.0),
            ("小区门口摆摊占道经营", "CG", 1.0),
            ("公司拖欠工资三个月", "RS", 1.0),
            ("老板不给发工资", "RS", 1.0),
        ]);
        let s = r.suggest("工地老板欠我两个月工资不发", 2);
        assert_eq!(s[0].unit, "RS");
        assert!(s[0].confidence > s[1].confidence);
        assert!((s.iter().map(|x| x.confidence).sum::<f64>() - 1.0).abs() < 1e-9);
        assert_eq!(r.suggest("烧烤摊油烟", 1)[0].unit, "CG");
    }
}
