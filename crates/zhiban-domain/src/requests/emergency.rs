//! Emergencies are not requests (DOMAIN.md, Citizen requests): someone who
//! types 着火了 or 有人抢劫 must be told to call 119 or 110 before anything
//! is filed. This finds the numbers a text calls for; the form shows them
//! at once and still lets the person go on (a 咨询 about last year's fire
//! is not an emergency, and only they know).

/// An emergency line and what it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Line {
    /// 110: crime and danger to people.
    Police,
    /// 119: fire, people trapped, gas.
    Fire,
    /// 120: someone hurt or ill.
    Ambulance,
    /// 122: road accidents.
    Traffic,
}

impl Line {
    pub fn number(self) -> &'static str {
        match self {
            Line::Police => "110",
            Line::Fire => "119",
            Line::Ambulance => "120",
            Line::Traffic => "122",
        }
    }
    pub fn slug(self) -> &'static str {
        match self {
            Line::Police => "police",
            Line::Fire => "fire",
            Line::Ambulance => "ambulance",
            Line::Traffic => "traffic",
        }
    }
}

/// Words that mean the thing is happening to someone now, per line. The
/// lists hold what people type in a hurry, spoken forms included.
const WORDS: &[(Line, &[&str])] = &[
    (
        Line::Fire,
        &[
            "着火",
            "起火",
            "失火",
            "火灾",
            "烧起来",
            "冒烟",
            "浓烟",
            "爆炸",
            "煤气泄漏",
            "天然气泄漏",
            "燃气泄漏",
            "闻到煤气",
            "被困",
            "困在电梯",
            "关在电梯",
        ],
    ),
    (
        Line::Police,
        &[
            "抢劫",
            "抢钱",
            "抢包",
            "打人",
            "打架",
            "斗殴",
            "持刀",
            "拿刀",
            "砍人",
            "杀人",
            "绑架",
            "被绑",
            "劫持",
            "强奸",
            "猥亵",
            "入室",
            "撬门",
            "家暴",
            "被打",
            "跟踪我",
            "有人闯",
            "正在偷",
            "小偷在",
            "报警",
        ],
    ),
    (
        Line::Ambulance,
        &[
            "晕倒",
            "昏倒",
            "昏迷",
            "没有呼吸",
            "没呼吸",
            "心脏病",
            "心梗",
            "中风",
            "抽搐",
            "吐血",
            "大出血",
            "流血不止",
            "中毒",
            "喝了农药",
            "割腕",
            "想自杀",
            "不想活",
            "受伤了",
            "摔伤",
            "骨折",
            "溺水",
            "触电",
        ],
    ),
    (
        Line::Traffic,
        &[
            "车祸",
            "撞车",
            "追尾",
            "被车撞",
            "撞人",
            "翻车",
            "肇事逃逸",
            "交通事故",
        ],
    ),
];

/// Words that say the matter is past or general, not an emergency now:
/// with them, only a strong word (a fire, a weapon, someone not breathing)
/// still shows the lines.
const NOT_NOW: &[&str] = &[
    "去年",
    "上个月",
    "上周",
    "以前",
    "之前",
    "怎么预防",
    "如何预防",
    "防范",
    "宣传",
    "演练",
    "培训",
    "补贴",
    "赔偿",
    "理赔",
    "证明",
    "鉴定",
    "处理结果",
    "事故认定",
];

const STRONG: &[&str] = &[
    "着火",
    "起火",
    "烧起来",
    "爆炸",
    "持刀",
    "砍人",
    "杀人",
    "绑架",
    "没有呼吸",
    "没呼吸",
    "想自杀",
    "不想活",
    "溺水",
];

/// The emergency lines a text calls for, in a fixed order (none: go on).
/// Someone hurt in a crash is told of 120 as well as 122.
pub fn lines_for(text: &str) -> Vec<Line> {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let calm = NOT_NOW.iter().any(|w| t.contains(w));
    let mut out: Vec<Line> = WORDS
        .iter()
        .filter(|(_, words)| {
            words
                .iter()
                .any(|w| t.contains(w) && (!calm || STRONG.contains(w)))
        })
        .map(|(line, _)| *line)
        .collect();
    if out.contains(&Line::Traffic)
        && !out.contains(&Line::Ambulance)
        && ["受伤", "流血", "昏迷", "晕", "压住", "卡在车里"]
            .iter()
            .any(|w| t.contains(w))
    {
        out.push(Line::Ambulance);
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(text: &str) -> Vec<&'static str> {
        lines_for(text).into_iter().map(Line::number).collect()
    }

    #[test]
    fn things_happening_now_point_to_their_line() {
        assert_eq!(numbers("楼下着火了，好大的烟"), ["119"]);
        assert_eq!(numbers("有人在小区门口持刀抢劫"), ["110"]);
        assert_eq!(numbers("我爸突然晕倒了叫不醒"), ["120"]);
        assert_eq!(numbers("解放碑路口车祸，有人受伤流血"), ["120", "122"]);
        assert_eq!(numbers("电梯困人了 困在电梯里出不来"), ["119"]);
    }

    #[test]
    fn ordinary_requests_and_past_events_are_not_emergencies() {
        assert!(lines_for("咨询一下居住证怎么办理").is_empty());
        assert!(lines_for("小区路灯坏了三天了没人修").is_empty());
        assert!(lines_for("去年车祸的赔偿到现在还没处理").is_empty());
        assert!(lines_for("想了解电动车防火宣传活动").is_empty());
        assert!(lines_for("交通事故认定书怎么申请复核").is_empty());
    }

    #[test]
    fn a_strong_word_still_counts_even_in_a_calm_sentence() {
        assert_eq!(numbers("以前也投诉过，现在隔壁又着火了"), ["119"]);
    }
}
