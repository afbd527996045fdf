//! Offline sentiment of short Chinese texts (negative / neutral /
//! positive) for public-opinion monitoring: a weighted lexicon
//! ([`super::lexicon`]) read clause by clause with the rules Chinese
//! complaints and praise follow —
//!
//! - a negator in front turns a word round (不方便, 没有不耐烦, 不是不满意);
//! - a degree word strengthens it (非常, 太, 特别, 贼);
//! - after a turn (但是, 可是, 不过, 就是, 只是, 却) the clause counts more, and a
//!   conceded one (虽然, 尽管) less: 虽然排队久但工作人员很耐心 is praise,
//!   态度挺好就是效率太低 a complaint;
//! - praise in quotation marks next to a complaint is irony (真是太“高效”了);
//! - a plain question (请问, 怎么办理, 需要哪些) and an official reply
//!   (经核实, 您反映的, 特此回复) lean neutral unless strongly worded;
//! - ！！！ and ？？？ add heat to what is there.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;

/// Where a text comes from; official replies lean neutral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Source {
    /// A request (complaint, consultation, suggestion, praise).
    Request,
    /// A comment under published content.
    Comment,
    /// A 好差评 rating's words.
    Rating,
    /// A department's reply.
    Answer,
    /// An external news item.
    Feed,
}

impl Source {
    pub fn from_slug(s: &str) -> Option<Source> {
        Some(match s {
            "request" => Source::Request,
            "comment" => Source::Comment,
            "rating" => Source::Rating,
            "answer" => Source::Answer,
            "feed" => Source::Feed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Sentiment {
    Negative,
    Neutral,
    Positive,
}

impl Sentiment {
    pub fn slug(self) -> &'static str {
        match self {
            Sentiment::Negative => "negative",
            Sentiment::Neutral => "neutral",
            Sentiment::Positive => "positive",
        }
    }

    pub fn from_slug(s: &str) -> Option<Sentiment> {
        Some(match s {
            "negative" => Sentiment::Negative,
            "neutral" => Sentiment::Neutral,
            "positive" => Sentiment::Positive,
            _ => return None,
        })
    }
}

/// A text's sentiment with its score (negative below zero) and the words
/// that decided it, for the monitoring page to show why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reading {
    pub sentiment: Sentiment,
    pub score: f32,
    pub cues: Vec<String>,
}

struct Lexicon {
    words: HashMap<String, f32>,
    longest: usize,
}

fn lexicon() -> &'static Lexicon {
    static L: OnceLock<Lexicon> = OnceLock::new();
    L.get_or_init(|| {
        let mut words = HashMap::new();
        for line in super::lexicon::LEXICON.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some((w, v)) = line.rsplit_once(' ')
                && let Ok(v) = v.parse::<f32>()
            {
                words.insert(w.trim().to_lowercase(), v);
            }
        }
        let longest = words.keys().map(|w| w.chars().count()).max().unwrap_or(1);
        Lexicon { words, longest }
    })
}

const NEGATORS: [&str; 16] = [
    "不是", "并不", "并非", "从不", "毫不", "没有", "没", "不", "未", "无", "别", "莫", "不太",
    "不够", "莫得", "没得",
];
const DEGREE: [&str; 15] = [
    "非常",
    "特别",
    "十分",
    "太",
    "很",
    "超级",
    "超",
    "贼",
    "巨",
    "好",
    "真",
    "格外",
    "一点",
    "一点都",
    "一点也",
];
/// What follows these counts more.
const TURNS: [&str; 8] = ["但是", "可是", "不过", "然而", "就是", "只是", "但", "却"];
/// What follows these is conceded (counts less).
const CONCEDE: [&str; 3] = ["虽然", "尽管", "虽说"];
/// A question asking for information, not complaining.
const ASKING: [&str; 16] = [
    "请问",
    "咨询",
    "想问",
    "问下",
    "问一下",
    "想了解",
    "了解一下",
    "有没有人知道",
    "需要哪些",
    "需要什么",
    "怎么办理",
    "如何办理",
    "在哪里办",
    "在哪办",
    "哪些材料",
    "什么材料",
];
/// A suggestion or a request for help leans neutral too.
const SUGGESTING: [&str; 6] = ["建议", "希望", "能否", "可否", "请帮忙", "麻烦"];
/// Announcements (news) lean neutral: a warning is not a complaint.
const ANNOUNCING: [&str; 9] = [
    "发布", "通知", "预警", "计划", "开展", "印发", "公布", "召开", "启动",
];
/// An official reply's formulas.
const OFFICIAL: [&str; 14] = [
    "经核实",
    "经调查",
    "您反映的",
    "您好，",
    "特此回复",
    "回复如下",
    "已责成",
    "予以",
    "来电人",
    "工单",
    "感谢您的",
    "我们将",
    "已转交",
    "依法",
];
/// Irony around quoted praise.
const IRONY: [&str; 7] = [
    "真是",
    "可真",
    "还真是",
    "好一个",
    "呵呵",
    "这就是",
    "所谓的",
];

fn clauses(text: &str) -> Vec<(String, f32)> {
    // Split at punctuation; each clause carries its weight: after a turn
    // ×1.6, after a concession ×0.5.
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if "，。！？；,.!?;、…~～\n".contains(c) {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    let mut weighted = Vec::new();
    let mut conceded = false;
    for clause in out {
        // A turn inside the clause splits it too (态度挺好就是效率太低).
        let mut rest = clause.as_str();
        let mut weight = if conceded { 1.6 } else { 1.0 };
        if CONCEDE.iter().any(|c| rest.starts_with(c)) {
            weight = 0.5;
            conceded = true;
        }
        loop {
            let cut = TURNS
                .iter()
                .filter_map(|t| rest.find(t).filter(|&i| i > 0).map(|i| (i, *t)))
                .min_by_key(|(i, _)| *i);
            match cut {
                Some((i, t)) => {
                    weighted.push((rest[..i].to_string(), weight));
                    rest = &rest[i + t.len()..];
                    weight = 1.6;
                    conceded = false;
                }
                None => {
                    weighted.push((rest.to_string(), weight));
                    break;
                }
            }
        }
        if TURNS.iter().any(|t| clause.starts_with(t)) {
            if let Some(last) = weighted.last_mut() {
                last.1 = 1.6;
            }
            conceded = false;
        }
    }
    weighted
}

/// The lexicon's hits in a clause, longest first: (start char, end char,
/// word, weight).
fn hits(chars: &[char]) -> Vec<(usize, usize, String, f32)> {
    let lex = lexicon();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let mut found = None;
        for len in (1..=lex.longest.min(chars.len() - i)).rev() {
            let w: String = chars[i..i + len].iter().collect::<String>().to_lowercase();
            if let Some(v) = lex.words.get(&w) {
                found = Some((len, w, *v));
                break;
            }
        }
        match found {
            Some((len, w, v)) => {
                out.push((i, i + len, w, v));
                i += len;
            }
            None => i += 1,
        }
    }
    out
}

fn ends_with_any(s: &str, list: &[&str]) -> Option<usize> {
    list.iter()
        .filter(|w| s.ends_with(*w))
        .map(|w| w.chars().count())
        .max()
}

/// The sentiment of one text.
pub fn read(text: &str, source: Source) -> Reading {
    let text = text.trim();
    let mut score = 0.0f32;
    let mut cues = Vec::new();
    let quoted = quoted_spans(text);
    let ironic = IRONY.iter().any(|w| text.contains(w))
        || ["太“", "真“", "好“", "最“", "太\"", "真\""]
            .iter()
            .any(|w| text.contains(w));
    let mut negative_seen = false;
    let mut praise_in_quotes = Vec::new();
    for (clause, weight) in clauses(text) {
        let chars: Vec<char> = clause.chars().collect();
        for (start, _, word, mut v) in hits(&chars) {
            let before: String = chars[start.saturating_sub(4)..start].iter().collect();
            // Degree words may sit between a negator and the word (不太方便).
            let mut lead = before.clone();
            if let Some(n) = ends_with_any(&lead, &DEGREE) {
                v *= 1.3;
                let keep = lead.chars().count() - n;
                lead = lead.chars().take(keep).collect();
            }
            if ends_with_any(&lead, &NEGATORS).is_some() {
                v = -v * 0.9;
            }
            if quoted.iter().any(|q| q.contains(&word)) && v > 0.0 {
                praise_in_quotes.push((word.clone(), v * weight));
            }
            if v < 0.0 {
                negative_seen = true;
            }
            score += v * weight;
            cues.push(word);
        }
    }
    // Quoted praise beside a complaint, or after 真是 / 这就是, is irony.
    if !praise_in_quotes.is_empty() && (negative_seen || ironic) {
        for (_, v) in &praise_in_quotes {
            score -= 2.0 * v;
        }
        score -= 1.0;
    }
    // 这就是你们说的便民？ — a rhetorical question with praise words.
    if ironic && text.ends_with(['？', '?']) && score > 0.0 {
        score = -score - 1.0;
    }
    // 跑了四次 / 跑了好几趟: the errand people should not have had to run.
    if let Some(i) = text.find("跑了") {
        let after: String = text[i + "跑了".len()..].chars().take(3).collect();
        if after.chars().any(|c| "两三四五六七八九十几".contains(c))
            && after.chars().any(|c| "次趟回".contains(c))
        {
            score -= 2.0;
            cues.push("跑了几趟".into());
        }
    }
    let heat = text.matches(['！', '!']).count() + text.matches(['？', '?']).count();
    if heat >= 3 {
        score += if score > 0.0 { 1.0 } else { -1.0 };
    }
    let asking = ASKING.iter().any(|w| text.contains(w));
    let suggesting = SUGGESTING.iter().any(|w| text.contains(w));
    let official =
        source == Source::Answer || OFFICIAL.iter().filter(|w| text.contains(*w)).count() >= 2;
    let announcing = source == Source::Feed && ANNOUNCING.iter().any(|w| text.contains(w));
    // (positive, negative) thresholds
    let (mut up, mut down) = (1.0, 1.0);
    if suggesting {
        (up, down) = (2.0, 1.5);
    }
    if asking {
        (up, down) = (3.0, 2.0);
    }
    if announcing {
        (up, down) = (3.5, 3.5);
    }
    if official {
        (up, down) = (8.0, 8.0);
    }
    let sentiment = if score >= up {
        Sentiment::Positive
    } else if score <= -down {
        Sentiment::Negative
    } else {
        Sentiment::Neutral
    };
    Reading {
        sentiment,
        score,
        cues,
    }
}

/// The texts inside quotation marks (“…”, ‘…’, "…", 「…」).
fn quoted_spans(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for c in text.chars() {
        match (c, current.as_mut()) {
            ('“' | '‘' | '「', None) => current = Some(String::new()),
            ('"', None) => current = Some(String::new()),
            ('”' | '’' | '」' | '"', Some(_)) => out.extend(current.take()),
            (c, Some(s)) => s.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Sentiment {
        read(text, Source::Request).sentiment
    }

    #[test]
    fn the_rules_of_praise_and_complaint_hold() {
        assert_eq!(s("工作人员非常耐心，点赞"), Sentiment::Positive);
        assert_eq!(s("办事一点都不方便"), Sentiment::Negative);
        assert_eq!(s("没有不耐烦，态度很好"), Sentiment::Positive);
        assert_eq!(s("虽然排队久，但工作人员很耐心"), Sentiment::Positive);
        assert_eq!(s("态度挺好就是效率太低"), Sentiment::Negative);
        assert_eq!(s("真是太“高效”了，跑了五趟还没办成"), Sentiment::Negative);
        assert_eq!(s("请问居住证在哪里办？"), Sentiment::Neutral);
        assert_eq!(
            read(
                "您好，您反映的问题经核实已责成物业整改，感谢您的监督。",
                Source::Answer
            )
            .sentiment,
            Sentiment::Neutral
        );
        assert_eq!(s("楼下烧烤摊吵到凌晨，睡不着！！！"), Sentiment::Negative);
    }
}
