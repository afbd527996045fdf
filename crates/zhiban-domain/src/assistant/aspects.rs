//! What a question asks about a service (its aspect: materials, time
//! limit, fees …), read from the everyday ways people ask it, and the
//! question with those words taken out so what is left names the service.

use serde::{Deserialize, Serialize};

/// One part of a service guide a question can ask about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aspect {
    Materials,
    TimeLimit,
    Fees,
    Place,
    Hours,
    Conditions,
    Online,
    Phone,
    Process,
}

impl Aspect {
    pub fn slug(self) -> &'static str {
        match self {
            Aspect::Materials => "materials",
            Aspect::TimeLimit => "time_limit",
            Aspect::Fees => "fees",
            Aspect::Place => "place",
            Aspect::Hours => "hours",
            Aspect::Conditions => "conditions",
            Aspect::Online => "online",
            Aspect::Phone => "phone",
            Aspect::Process => "process",
        }
    }

    pub fn from_slug(s: &str) -> Option<Aspect> {
        ALL.iter().copied().find(|a| a.slug() == s)
    }
}

const ALL: [Aspect; 9] = [
    Aspect::Materials,
    Aspect::TimeLimit,
    Aspect::Fees,
    Aspect::Place,
    Aspect::Hours,
    Aspect::Conditions,
    Aspect::Online,
    Aspect::Phone,
    Aspect::Process,
];

/// Phrases that ask for an aspect, longest first within each list (the
/// whole list is sorted by length when matching). Written from how people
/// ask at a counter and on the hotline, 重庆话 included (好多钱, 好久,
/// 哪点, 啥子).
const CUES: &[(Aspect, &[&str])] = &[
    (
        Aspect::Materials,
        &[
            "需要什么证件",
            "要带哪些东西",
            "要带什么东西",
            "需要哪些东西",
            "需要什么东西",
            "要准备什么",
            "要准备哪些",
            "要准备啥",
            "准备什么",
            "准备哪些",
            "准备啥",
            "准备些什么",
            "要带什么",
            "要带啥",
            "带什么",
            "带啥",
            "带哪些",
            "带些什么",
            "带啥子",
            "拿什么",
            "拿啥",
            "提交什么",
            "交什么材料",
            "什么材料",
            "哪些材料",
            "啥材料",
            "啥子材料",
            "材料",
            "资料",
            "什么证件",
            "哪些证件",
            "证件要哪些",
            "要带",
            "需要带",
            "要哪些东西",
            "需要哪些",
            "需要什么",
            "要些什么",
        ],
    ),
    (
        Aspect::TimeLimit,
        &[
            "多长时间",
            "多少个工作日",
            "几个工作日",
            "多少天",
            "几天",
            "多久",
            "好久",
            "要多长",
            "时限",
            "多快",
            "什么时候能拿",
            "什么时候拿",
            "啥时候拿",
            "啥时候能拿",
            "什么时候能办好",
            "什么时候办好",
            "好久能拿",
            "能办好",
            "办得好",
            "出证",
            "当场能",
            "当天能",
            "当天拿",
            "当场拿",
            "立等可取",
            "办结",
        ],
    ),
    (
        Aspect::Fees,
        &[
            "要不要钱",
            "收不收钱",
            "收不收费",
            "要不要收费",
            "要钱不",
            "要钱吗",
            "收费吗",
            "收钱吗",
            "多少钱",
            "好多钱",
            "几块钱",
            "多少费用",
            "什么费用",
            "哪些费用",
            "费用",
            "收费",
            "收钱",
            "花钱",
            "花多少",
            "要钱",
            "免费",
            "工本费",
            "价格",
            "多钱",
            "要交钱",
            "交钱",
            "交多少",
        ],
    ),
    (
        Aspect::Place,
        &[
            "在哪个窗口",
            "哪个窗口",
            "在哪里办",
            "在哪儿办",
            "到哪里办",
            "去哪里办",
            "去哪儿办",
            "去哪办",
            "在哪办",
            "在哪点",
            "哪点办",
            "哪个地方",
            "什么地方",
            "啥地方",
            "哪个部门",
            "什么部门",
            "找哪个",
            "找谁",
            "在哪里",
            "在哪儿",
            "在哪",
            "去哪",
            "到哪",
            "哪里",
            "地址",
            "地点",
            "窗口",
        ],
    ),
    (
        Aspect::Hours,
        &[
            "几点上班",
            "几点下班",
            "几点开门",
            "几点到几点",
            "上班时间",
            "办公时间",
            "工作时间",
            "营业时间",
            "周末上班",
            "周末能",
            "周末可以",
            "周六",
            "周日",
            "星期六",
            "星期天",
            "星期日",
            "礼拜天",
            "礼拜六",
            "周末",
            "节假日",
            "中午",
            "几点",
            "上班吗",
            "上班不",
            "开门",
            "晚上",
            "半夜",
            "早上",
            "上午",
            "下午",
            "休息",
            "24小时",
        ],
    ),
    (
        Aspect::Conditions,
        &[
            "什么条件",
            "哪些条件",
            "啥条件",
            "条件",
            "谁可以",
            "谁能",
            "哪些人",
            "什么人可以",
            "什么人能",
            "资格",
            "符合",
            "外地人",
            "外地户口",
            "外省",
            "非本地",
            "能不能办",
            "可不可以办",
            "可以办吗",
            "能办吗",
            "能办不",
            "办得了不",
            "办得到不",
            "要求",
            "什么病",
            "啥子病",
            "哪些病",
            "啥病",
            "什么情况下",
            "什么情况",
            "啥情况",
            "几岁",
            "多大岁数",
            "年龄",
        ],
    ),
    (
        Aspect::Online,
        &[
            "网上能不能",
            "网上可以",
            "网上能",
            "网上办",
            "网上申请",
            "在线办",
            "在线申请",
            "线上办",
            "手机上",
            "手机能",
            "手机可以",
            "不用跑",
            "跑几次",
            "跑几趟",
            "跑一趟",
            "要跑",
            "去现场",
            "跑现场",
            "要不要跑",
            "必须跑",
            "到现场",
            "本人到场",
            "本人去",
            "亲自去",
            "必须去",
            "渝快办",
            "网办",
            "网上",
            "在线",
            "线上",
        ],
    ),
    (
        Aspect::Phone,
        &[
            "咨询电话",
            "联系电话",
            "联系方式",
            "电话多少",
            "电话号码",
            "打哪个电话",
            "什么电话",
            "电话",
            "号码",
        ],
    ),
    (
        Aspect::Process,
        &["办理流程", "办理步骤", "什么流程", "流程", "步骤", "程序"],
    ),
];

/// The aspects a question asks about (in the order of [`Aspect`]) and the
/// question with their cues blanked out, so what is left names the thing.
/// Cues inside `protected` words (catalog words like 收费公路, 工作时间
/// 证明) are left alone.
pub fn read(question: &str, protected: &dyn Fn(&str) -> bool) -> (Vec<Aspect>, String) {
    let mut cues: Vec<(Aspect, &str)> = CUES
        .iter()
        .flat_map(|(a, list)| list.iter().map(move |c| (*a, *c)))
        .collect();
    cues.sort_by_key(|c| std::cmp::Reverse(c.1.chars().count()));
    let mut found: Vec<Aspect> = Vec::new();
    let mut rest = question.to_string();
    for (aspect, cue) in cues {
        if !rest.contains(cue) || protected(cue) {
            continue;
        }
        rest = rest.replace(cue, " ");
        if !found.contains(&aspect) {
            found.push(aspect);
        }
    }
    found.sort_by_key(|a| ALL.iter().position(|x| x == a));
    (found, rest)
}

/// Short replies that are not about a service at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmallTalk {
    Greeting,
    Thanks,
    /// "转人工": the person wants a person.
    Human,
    /// About the person's own case, account or record (进度, 还剩几分,
    /// 账户余额): needs their identity, so a person or 我的办件 answers.
    Personal,
}

pub fn small_talk(q: &str) -> Option<SmallTalk> {
    let t: String = q
        .chars()
        .filter(|c| {
            !c.is_whitespace() && !c.is_ascii_punctuation() && !"，。！？、~～…".contains(*c)
        })
        .collect();
    const HUMAN: &[&str] = &[
        "转人工",
        "人工客服",
        "人工服务",
        "找人工",
        "真人",
        "人工坐席",
        "找客服",
        "转客服",
        "人工",
    ];
    if HUMAN.iter().any(|h| t.contains(h)) && t.chars().count() <= 12 {
        return Some(SmallTalk::Human);
    }
    const PERSONAL: &[&str] = &[
        "帮我查",
        "帮我看",
        "帮我算",
        "查一下我",
        "查下我",
        "进度",
        "到哪一步",
        "办好没有",
        "办好了没",
        "批下来没",
        "审批到哪",
        "怎么还没",
        "咋还没",
        "还剩几分",
        "还有好多钱",
        "余额",
        "我的账户",
        "我账户",
    ];
    if PERSONAL.iter().any(|h| t.contains(h)) {
        return Some(SmallTalk::Personal);
    }
    const THANKS: &[&str] = &[
        "谢谢",
        "多谢",
        "感谢",
        "谢了",
        "好的",
        "明白了",
        "知道了",
        "晓得了",
        "thanks",
        "thankyou",
    ];
    if THANKS.iter().any(|h| t.starts_with(h)) && t.chars().count() <= 8 {
        return Some(SmallTalk::Thanks);
    }
    const HELLO: &[&str] = &[
        "你好",
        "您好",
        "在吗",
        "在不在",
        "hello",
        "hi",
        "喂",
        "哈喽",
    ];
    if HELLO.iter().any(|h| t.starts_with(h)) && t.chars().count() <= 5 {
        return Some(SmallTalk::Greeting);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aspects(q: &str) -> Vec<Aspect> {
        read(q, &|_| false).0
    }

    #[test]
    fn everyday_ways_of_asking_name_the_aspect() {
        assert_eq!(aspects("办居住证要带什么"), [Aspect::Materials]);
        assert_eq!(aspects("身份证几天能办好"), [Aspect::TimeLimit]);
        assert_eq!(aspects("换驾照收不收费"), [Aspect::Fees]);
        assert_eq!(aspects("补个身份证要好多钱"), [Aspect::Fees]);
        assert_eq!(aspects("护照在哪个窗口办"), [Aspect::Place]);
        assert_eq!(aspects("出入境周末上班吗"), [Aspect::Hours]);
        assert_eq!(aspects("外地人可以办居住证吗"), [Aspect::Conditions]);
        assert_eq!(aspects("社保卡能不能网上办"), [Aspect::Online]);
        assert_eq!(
            aspects("结婚登记要带啥，多少钱"),
            [Aspect::Materials, Aspect::Fees]
        );
    }

    #[test]
    fn the_rest_of_the_question_names_the_service() {
        let (_, rest) = read("办居住证要带什么", &|_| false);
        assert_eq!(rest.trim(), "办居住证");
    }

    #[test]
    fn cues_inside_catalog_words_are_kept() {
        let (a, rest) = read("高速公路收费标准", &|c| c == "收费");
        assert!(a.is_empty());
        assert!(rest.contains("收费"));
    }

    #[test]
    fn greetings_thanks_and_asking_for_a_person() {
        assert_eq!(small_talk("你好"), Some(SmallTalk::Greeting));
        assert_eq!(small_talk("谢谢！"), Some(SmallTalk::Thanks));
        assert_eq!(small_talk("转人工"), Some(SmallTalk::Human));
        assert_eq!(small_talk("你好，身份证丢了怎么补办"), None);
        assert_eq!(
            small_talk("我上个月交的护照申请 现在办好没有"),
            Some(SmallTalk::Personal)
        );
    }
}
