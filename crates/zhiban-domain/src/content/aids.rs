//! Interpretation aids (解读助手), offline: from a policy's text, an
//! extractive summary and its key points as a citizen asks them — who it is
//! for (适用对象), what it gives (支持内容 and 补贴标准 with amounts), the
//! conditions, the time limits, where to apply and whom to call. Editors
//! get them as a draft interpretation to correct before it goes to review;
//! nothing is published unread.

use super::rich_text;

/// Key points, each a list of sentences from the policy itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPoints {
    pub applies_to: Vec<String>,
    pub support: Vec<String>,
    pub amounts: Vec<String>,
    pub conditions: Vec<String>,
    pub time_limits: Vec<String>,
    pub channels: Vec<String>,
    pub phones: Vec<String>,
}

/// Sentences of a text (Chinese and Latin punctuation, line breaks), with
/// leading list numbering kept.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        cur.push(c);
        if matches!(c, '。' | '！' | '？' | '；' | '\n' | '¶') {
            push(&mut out, &mut cur);
        }
    }
    push(&mut out, &mut cur);
    out
}

fn push(out: &mut Vec<String>, cur: &mut String) {
    let s = cur
        .trim()
        .trim_end_matches(['；', '\n', '¶'])
        .trim()
        .to_string();
    if s.chars().count() >= 4 {
        out.push(s);
    }
    cur.clear();
}

fn has_any(s: &str, words: &[&str]) -> bool {
    words.iter().any(|w| s.contains(w))
}

/// A number followed by a unit of money or a share: 1000元, 30万元, 60%.
fn has_amount(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    chars.windows(2).enumerate().any(|(i, w)| {
        w[0].is_ascii_digit()
            && (w[1] == '元'
                || w[1] == '%'
                || w[1] == '％'
                || (w[1] == '万' && chars.get(i + 2) == Some(&'元')))
    })
}

/// A telephone number: five or more digits (hyphens allowed) after 电话 or
/// 热线, or a government hotline (123xx, 96xxx).
fn has_phone(s: &str) -> bool {
    let digits_run = s
        .split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .any(|run| run.chars().filter(char::is_ascii_digit).count() >= 5);
    (has_any(s, &["电话", "热线", "拨打"]) && digits_run)
        || s.split(|c: char| !c.is_ascii_digit())
            .any(|run| run.len() == 5 && (run.starts_with("123") || run.starts_with("96")))
}

/// The text of a body with its paragraph and line ends kept as `¶`.
fn marked_text(body: &str) -> String {
    let mut b = body.replace("<br>", "¶");
    for end in ["</p>", "</li>", "</h2>", "</h3>", "</h4>", "</td>", "\n"] {
        b = b.replace(end, &format!("¶{end}"));
    }
    rich_text::text_of(&b)
}

/// Sentences that say something: a line ending in a colon is a
/// salutation or a heading (各区县人力社保局：).
fn statements(body: &str) -> Vec<String> {
    sentences(&marked_text(body))
        .into_iter()
        .filter(|s| !s.ends_with('：') && !s.ends_with(':'))
        .collect()
}

/// Words that put a sentence under a question (a sentence can answer several).
const APPLIES_TO: &[&str] = &[
    "对象",
    "适用于",
    "符合条件的",
    "凡",
    "参保企业",
    "申请人",
    "毕业生",
    "老年人",
    "职工",
];
const SUPPORT: &[&str] = &[
    "补贴", "补助", "津贴", "贷款", "贴息", "返还", "提高", "给予", "免费",
];
const CONDITIONS: &[&str] = &[
    "条件",
    "须",
    "应当",
    "需要",
    "不超过",
    "达到",
    "签订",
    "未就业",
    "未裁员",
];
const TIME_LIMITS: &[&str] = &[
    "工作日",
    "日内",
    "期限",
    "截止",
    "前完成",
    "之日起",
    "期间",
    "月底",
    "年底",
];
const CHANNELS: &[&str] = &[
    "政务服务网",
    "窗口",
    "APP",
    "客户端",
    "小程序",
    "在线",
    "网上",
    "现场",
    "免申即享",
    "自动",
];

fn put(s: &str, cues: &[&str], list: &mut Vec<String>) {
    if has_any(s, cues) {
        list.push(s.to_string());
    }
}

/// The key points of a policy's text (HTML or plain).
pub fn key_points(body: &str) -> KeyPoints {
    let mut k = KeyPoints::default();
    for s in statements(body) {
        put(&s, APPLIES_TO, &mut k.applies_to);
        // A sentence with an amount is a 补贴标准, not only 支持内容.
        if has_amount(&s) {
            k.amounts.push(s.clone());
        } else {
            put(&s, SUPPORT, &mut k.support);
        }
        put(&s, CONDITIONS, &mut k.conditions);
        put(&s, TIME_LIMITS, &mut k.time_limits);
        put(&s, CHANNELS, &mut k.channels);
        if has_phone(&s) {
            k.phones.push(s);
        }
    }
    k
}

/// The `n` sentences that carry most of the key points, in their order.
pub fn summary(body: &str, n: usize) -> Vec<String> {
    let all = statements(body);
    let k = key_points(body);
    let score = |s: &String| {
        [
            &k.applies_to,
            &k.support,
            &k.amounts,
            &k.conditions,
            &k.time_limits,
            &k.channels,
        ]
        .iter()
        .filter(|list| list.contains(s))
        .count()
            * 10
            // What it gives is what people ask first.
            + usize::from(has_amount(s)) * 15
    };
    let mut ranked: Vec<(usize, usize)> =
        all.iter().enumerate().map(|(i, s)| (score(s), i)).collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut keep: Vec<usize> = ranked.iter().take(n).map(|(_, i)| *i).collect();
    keep.sort();
    keep.into_iter().map(|i| all[i].clone()).collect()
}

/// A draft interpretation of a policy: its summary and key points under
/// the questions citizens ask, as HTML for the editor to correct.
pub fn draft(title: &str, body: &str) -> (String, String) {
    let k = key_points(body);
    let mut html = String::new();
    let summary = summary(body, 3);
    if !summary.is_empty() {
        html.push_str("<h2>一、政策要点</h2><ul>");
        for s in &summary {
            html.push_str(&format!("<li>{}</li>", escape(s)));
        }
        html.push_str("</ul>");
    }
    let sections = [
        ("适用对象", &k.applies_to),
        ("支持内容", &k.support),
        ("补贴标准", &k.amounts),
        ("申请条件", &k.conditions),
        ("办理时限", &k.time_limits),
        ("办理渠道", &k.channels),
        ("咨询电话", &k.phones),
    ];
    let numbers = ["二", "三", "四", "五", "六", "七", "八"];
    let mut n = 0;
    for (name, list) in sections {
        if list.is_empty() {
            continue;
        }
        html.push_str(&format!("<h2>{}、{name}</h2><ul>", numbers[n.min(6)]));
        for s in list.iter().take(4) {
            html.push_str(&format!("<li>{}</li>", escape(s)));
        }
        html.push_str("</ul>");
        n += 1;
    }
    (format!("政策解读：{title}"), html)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const WENGANG: &str = "<p>各区县人力社保局：</p><p>一、返还对象。参加失业保险且上年度未裁员的参保企业；30人（含）以下的参保企业，裁员率不高于参保职工总数的20%。</p><p>二、返还标准。大型企业按上年度实际缴纳失业保险费的30%返还，中小微企业按60%返还。</p><p>三、办理方式。推行“免申即享”，经公示无异议后直接将资金拨付至企业对公账户。</p><p>四、办理时限。2026年12月31日前完成。</p><p>咨询电话：12333。</p>";

    #[test]
    fn key_points_come_out_under_the_questions_people_ask() {
        let k = key_points(WENGANG);
        assert!(k.applies_to.iter().any(|s| s.contains("返还对象")), "{k:?}");
        assert!(
            k.amounts.iter().any(|s| s.contains("中小微企业按60%返还")),
            "{k:?}"
        );
        assert!(
            k.time_limits.iter().any(|s| s.contains("12月31日前完成")),
            "{k:?}"
        );
        assert!(k.channels.iter().any(|s| s.contains("免申即享")), "{k:?}");
        assert_eq!(k.phones, ["咨询电话：12333。"]);
        // The salutation is nobody's key point.
        let all = [
            &k.applies_to,
            &k.support,
            &k.amounts,
            &k.conditions,
            &k.time_limits,
            &k.channels,
        ];
        assert!(all.iter().all(|l| l.iter().all(|s| !s.contains("各区县"))));
    }

    #[test]
    fn money_and_hotlines_are_recognised_and_dates_are_not_taken_for_phones() {
        assert!(has_amount("个人可申请最高30万元创业担保贷款"));
        assert!(has_amount("每人每月补贴2000元"));
        assert!(!has_amount("2026年12月31日前完成"));
        assert!(has_phone("举报电话：110、96110"));
        assert!(has_phone("咨询电话 023-63961245"));
        assert!(!has_phone("2026年12月31日前完成"));
    }

    #[test]
    fn the_summary_keeps_the_sentences_with_the_most_points_in_order() {
        let s = summary(WENGANG, 3);
        assert_eq!(s.len(), 3);
        assert!(s.iter().all(|x| !x.contains("各区县")));
        assert!(s.iter().any(|x| x.contains("60%")));
        let (title, html) = draft("稳岗返还通知", WENGANG);
        assert_eq!(title, "政策解读：稳岗返还通知");
        assert!(html.contains("<h2>一、政策要点</h2>"));
        assert!(html.contains("补贴标准") && html.contains("咨询电话"));
        assert!(rich_text::check(&rich_text::clean(&html).html).is_empty());
    }
}
