//! Word-level helpers of the engine: character pairs, words that carry
//! no meaning, follow-up connectives, and the cues for amounts, benefits
//! and item families.

use std::collections::HashSet;

use super::aspects::Aspect;

/// Character pairs that say nothing about which service is meant.
pub(super) const STOP_PAIRS: &[&str] = &[
    "一个", "这个", "那个", "什么", "怎么", "现在", "已经", "我们", "自己", "如果", "需要", "可以",
    "还是", "就是", "时候", "没有", "知道", "请问", "你好", "您好", "谢谢", "一下", "这种", "哪种",
    "应该", "是不", "不是", "能否", "是否", "有没", "一般", "的话", "我的", "我家",
];

pub(super) fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{9fff}' | '\u{f900}'..='\u{faff}')
}

pub(super) fn pairs(s: &str) -> Vec<[char; 2]> {
    let mut out = Vec::new();
    for run in s.split(|c: char| !is_cjk(c)) {
        let chars: Vec<char> = run.chars().collect();
        for w in chars.windows(2) {
            out.push([w[0], w[1]]);
        }
    }
    out
}

/// The pairs of a query that can say which item is meant: no stop pairs,
/// each once, in order.
pub(super) fn content_pairs(rewritten: &str) -> Vec<[char; 2]> {
    let stop = stop_pairs();
    let mut seen = HashSet::new();
    pairs(rewritten)
        .into_iter()
        .filter(|p| !stop.contains(p) && seen.insert(*p))
        .collect()
}

pub(super) fn stop_pairs() -> HashSet<[char; 2]> {
    STOP_PAIRS.iter().flat_map(|s| pairs(s)).collect()
}

/// Phrases that only join a follow-up to what came before.
pub(super) const CONNECTIVES: &[&str] = &[
    "那如果是",
    "那要是",
    "如果是",
    "要是",
    "那么",
    "那",
    "还有",
    "另外",
    "请问",
    "问一下",
    "我想问",
    "想问",
    "你好",
    "您好",
    "麻烦",
    "呢",
    "吗",
    "嘛",
    "哦",
    "啊",
];

pub(super) fn follow_label(a: Aspect) -> &'static str {
    match a {
        Aspect::Materials => "要带什么材料",
        Aspect::TimeLimit => "几天能办好",
        Aspect::Fees => "收不收费",
        Aspect::Place => "在哪里办",
        Aspect::Hours => "办理时间",
        Aspect::Conditions => "谁可以办",
        Aspect::Online => "能不能网上办",
        Aspect::Phone => "咨询电话",
        Aspect::Process => "办理流程",
    }
}

/// The longest run of three or more characters of a name that is a
/// catalog word in its own right (驾驶证 of 初次申领机动车驾驶证), used to
/// find an item's family.
pub(super) fn longest_stem(name: &str) -> Option<String> {
    const STEMS: &[&str] = &[
        "驾驶证",
        "身份证",
        "户口",
        "护照",
        "通行证",
        "社会保障卡",
        "公积金",
        "营业执照",
        "结婚",
        "离婚",
        "犬只",
        "居住证",
        "行驶证",
        "号牌",
        "低保",
        "最低生活保障",
        "残疾人证",
        "接种证",
        "食品经营许可",
        "医疗保险",
        "养老保险",
        "失业",
        "不动产",
    ];
    STEMS
        .iter()
        .filter(|s| name.contains(*s))
        .max_by_key(|s| s.chars().count())
        .map(|s| s.to_string())
}

/// Characters two names share in their longest common substring.
pub(super) fn common_part(a: &str, b: &str) -> String {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut best = (0, 0);
    for i in 0..a.len() {
        for j in 0..b.len() {
            let mut k = 0;
            while i + k < a.len() && j + k < b.len() && a[i + k] == b[j + k] {
                k += 1;
            }
            if k > best.1 {
                best = (i, k);
            }
        }
    }
    a[best.0..best.0 + best.1].iter().collect()
}

/// The question asks how much (a benefit's amount, a standard).
pub(super) fn asks_amount(q: &str) -> bool {
    [
        "多少钱",
        "好多钱",
        "好多",
        "多少",
        "最多",
        "最高",
        "每月",
        "一个月",
        "标准",
        "涨了",
        "补几",
        "给几",
        "几块",
    ]
    .iter()
    .any(|w| q.contains(w))
}

/// A service that pays or lends something (its amount is set by policy).
pub(super) fn is_benefit(name: &str) -> bool {
    [
        "补贴",
        "津贴",
        "补助",
        "救助",
        "贷款",
        "返还",
        "最低生活保障",
        "待遇",
        "保险金",
        "奖励",
        "长期护理",
    ]
    .iter()
    .any(|w| name.contains(w))
}

pub(super) fn starts_with_connective(q: &str) -> bool {
    ["那", "还有", "另外", "要是", "如果"]
        .iter()
        .any(|c| q.trim_start().starts_with(c))
}

pub(super) fn strip_connectives(s: &str) -> String {
    let mut out = s.to_string();
    for c in CONNECTIVES {
        out = out.replace(c, " ");
    }
    out.chars()
        .map(|c| {
            if c.is_ascii_punctuation() || "，。！？、；：~～…".contains(c) {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
