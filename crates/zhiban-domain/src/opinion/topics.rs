//! Topic grouping for short Chinese texts: each text goes to the area of
//! city life it is about (交通出行, 教育入学, 住房物业, …) by the words it
//! uses, weighted by how telling each word is; a text that names none goes
//! to 其他. Inside a topic, [`hot_words`] finds the words many of its texts
//! share (停车难, 夜间施工), so staff see what the topic is about this week.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use crate::catalog::enums::vocabulary;

vocabulary!(
    /// The areas public opinion is grouped into.
    Topic {
        Traffic => "traffic", "交通出行";
        Education => "education", "教育入学";
        Health => "health", "医疗医保";
        Jobs => "jobs", "就业社保";
        Housing => "housing", "住房物业";
        Environment => "environment", "生态环境";
        CityLooks => "city", "市容城管";
        Market => "market", "市场消费";
        Safety => "safety", "治安安全";
        Services => "services", "政务服务";
        Other => "other", "其他";
    }
);

/// word weight, per topic. A weight of 3 names the topic on its own
/// (医保, 物业费); 1 only leans (排队, 小区).
const WORDS: &[(Topic, &str)] = &[
    (
        Topic::Traffic,
        "公交 3|地铁 3|轻轨 3|停车 3|停车位 3|停车场 3|车位 2|道路 2|马路 2|红绿灯 3|信号灯 3|拥堵 3|堵车 3|\
         驾照 3|驾驶证 3|违章 2|罚单 2|出租车 3|网约车 3|打车 3|共享单车 3|电动车 2|斑马线 3|人行道 2|\
         路口 2|高速 2|收费站 3|公路 2|通勤 3|班次 3|站台 3|公交站 3|车站 2|堵 1|绕路 2|限行 3|车辆 1|交警 3|挪车 3",
    ),
    (
        Topic::Education,
        "学校 3|入学 3|学位 3|幼儿园 3|转学 3|学区 3|老师 2|教师 2|培训机构 3|补课 3|招生 3|中考 3|\
         高考 3|小学 3|初中 3|高中 3|学生 2|孩子上学 3|上学 3|校车 3|课后服务 3|食堂 1|作业 2|学费 3|\
         择校 3|义务教育 3|报名 1|托管 2|托育 3|大学 2|助学金 3|奖学金 3",
    ),
    (
        Topic::Health,
        "医院 3|医保 3|看病 3|挂号 3|报销 3|药 2|药店 3|医生 3|护士 3|疫苗 3|门诊 3|卫生院 3|住院 3|\
         急诊 3|社区医院 3|体检 3|医疗 3|诊所 3|处方 3|慢病 3|医保卡 3|异地就医 3|病 1|救护车 3|床位 2|生育 2",
    ),
    (
        Topic::Jobs,
        "社保 3|养老金 3|退休 3|失业 3|就业 3|工资 3|欠薪 3|拖欠工资 3|劳动合同 3|公积金 3|辞退 3|\
         招聘 3|找工作 3|劳动仲裁 3|加班 3|工伤 3|裁员 3|农民工 3|社保卡 3|缴费基数 3|补贴 2|培训 1|创业 2|\
         灵活就业 3|养老保险 3|失业金 3|下岗 3",
    ),
    (
        Topic::Housing,
        "物业 3|物业费 3|小区 2|租房 3|公租房 3|廉租房 3|电梯 3|业委会 3|装修 2|房产证 3|不动产 2|\
         拆迁 3|征收 2|漏水 3|停水 3|停电 3|燃气 3|天然气 3|供水 3|水压 3|供暖 3|房东 3|房租 3|\
         开发商 3|交房 3|烂尾 3|楼盘 3|房价 3|住房 3|维修基金 3|楼道 2|保障房 3|物管 3|外墙 2|加装电梯 3",
    ),
    (
        Topic::Environment,
        "噪音 3|噪声 3|油烟 3|污染 3|异味 3|臭味 3|排污 3|扬尘 3|夜间施工 3|施工 1|河道 3|空气 2|\
         环保 3|污水 3|雾霾 3|焚烧 3|垃圾分类 3|垃圾 2|臭 2|黑臭 3|绿地 2|树木 2|砍树 3|生态 3|废气 3|粉尘 3|吵 2",
    ),
    (
        Topic::CityLooks,
        "占道经营 3|占道 3|摆摊 3|摊贩 3|违建 3|违章建筑 3|路灯 3|井盖 3|城管 3|广告牌 3|乱停 3|\
         乱停车 3|乱贴 3|牛皮癣 3|化粪池 2|公厕 3|厕所 2|积水 3|下水道 3|路面 2|坑洼 3|破损 2|市容 3|\
         流浪狗 3|犬只 2|遛狗 3|狗 1|绿化带 3",
    ),
    (
        Topic::Market,
        "商家 3|消费 3|退款 3|退费 3|价格 2|涨价 3|食品安全 3|假冒 3|假货 3|超市 3|餐馆 3|饭店 3|外卖 3|\
         预付卡 3|健身房 3|店家 3|投诉商家 3|质量问题 3|维权 2|霸王条款 3|缺斤少两 3|过期 2|收费 1|乱收费 3|\
         网购 3|快递 3|商场 3|菜市场 3|理发店 2|诈骗短信 1",
    ),
    (
        Topic::Safety,
        "诈骗 3|报警 3|派出所 3|盗窃 3|被盗 3|小偷 3|治安 3|打架 3|斗殴 3|安全隐患 3|消防 3|火灾 3|\
         电诈 3|民警 3|警察 3|110 3|赌博 3|传销 3|危险 2|隐患 2|监控 2|巡逻 3|醉驾 3|酒驾 3|失窃 3|骗子 3|跟踪 2",
    ),
    (
        Topic::Services,
        "办事 3|窗口 3|办理 2|审批 3|排队 2|网上办 3|材料 2|工作人员 2|政务服务 3|大厅 2|政务中心 3|\
         跑腿 3|证明 2|户口 3|身份证 3|营业执照 3|居住证 3|办证 3|预约 2|一网通办 3|跑了 2|跑几趟 3|\
         系统 1|app 1|APP 1|网站 2|小程序 2|热线 2|12345 3|打不通 3|推诿 3|踢皮球 3|态度 1|效率 1|\
         公章 2|盖章 3|开证明 3|签证 3|护照 3|结婚登记 3|出生证 3|社区 1|街道 1|办件 3",
    ),
];

struct Table {
    /// word → (topic, weight)
    words: HashMap<&'static str, Vec<(Topic, u32)>>,
    longest: usize,
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let mut words: HashMap<&'static str, Vec<(Topic, u32)>> = HashMap::new();
        let mut longest = 0;
        for (topic, list) in WORDS {
            for entry in list.split('|') {
                let entry = entry.trim();
                let Some((w, weight)) = entry.rsplit_once(' ') else {
                    continue;
                };
                let weight: u32 = weight.parse().unwrap_or(1);
                longest = longest.max(w.chars().count());
                words.entry(w).or_default().push((*topic, weight));
            }
        }
        Table { words, longest }
    })
}

/// The topic a text is about, with the words that decided it. Words are
/// matched longest first, so 夜间施工 counts for 生态环境 once and is not
/// also read as 施工. Ties go to the topic named first in the text.
pub fn classify(text: &str) -> (Topic, Vec<String>) {
    let t = table();
    let chars: Vec<char> = text.chars().collect();
    let mut scores: BTreeMap<Topic, (u32, usize)> = BTreeMap::new();
    let mut cues: HashMap<Topic, Vec<String>> = HashMap::new();
    let mut i = 0;
    while i < chars.len() {
        let mut matched = 0;
        for len in (1..=t.longest.min(chars.len() - i)).rev() {
            let w: String = chars[i..i + len].iter().collect();
            if let Some(hits) = t.words.get(w.as_str()) {
                for (topic, weight) in hits {
                    let e = scores.entry(*topic).or_insert((0, i));
                    e.0 += weight;
                    let c = cues.entry(*topic).or_default();
                    if !c.contains(&w) {
                        c.push(w.clone());
                    }
                }
                matched = len;
                break;
            }
        }
        i += matched.max(1);
    }
    let best = scores
        .iter()
        .filter(|(_, (score, _))| *score >= 2)
        .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))
        .map(|(t, _)| *t);
    match best {
        Some(topic) => (topic, cues.remove(&topic).unwrap_or_default()),
        None => (Topic::Other, Vec::new()),
    }
}

/// Words too common to say what a group of texts is about.
const STOP: &[&str] = &[
    "我们",
    "你们",
    "他们",
    "什么",
    "怎么",
    "这个",
    "那个",
    "没有",
    "已经",
    "还是",
    "就是",
    "但是",
    "可是",
    "因为",
    "所以",
    "如果",
    "希望",
    "请问",
    "一下",
    "一个",
    "现在",
    "问题",
    "反映",
    "相关",
    "部门",
    "情况",
    "能否",
    "是否",
    "可以",
    "需要",
    "进行",
    "时候",
    "非常",
    "真的",
    "自己",
    "这样",
    "这里",
    "那里",
    "今天",
    "昨天",
    "每天",
    "一直",
    "不是",
    "不能",
    "不要",
    "还有",
    "而且",
    "处理",
    "解决",
    "市民",
    "群众",
    "谢谢",
    "感谢",
    "您好",
    "你好",
    "经核实",
    "回复",
    "我们的",
    "以及",
    // What the monitor puts in front of titles (评价：…, 答复：…).
    "评价",
    "答复",
    "留言",
    "提问",
];

/// The words of a text that can say what it is about, each once.
pub fn words_of(text: &str) -> Vec<String> {
    static JIEBA: OnceLock<jieba_rs::Jieba> = OnceLock::new();
    let jieba = JIEBA.get_or_init(jieba_rs::Jieba::new);
    let mut seen: Vec<String> = Vec::new();
    for w in jieba.cut(text, false) {
        let w = w.word.trim();
        if w.chars().count() < 2
            || w.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_punctuation())
            || STOP.contains(&w)
            || seen.iter().any(|s| s == w)
        {
            continue;
        }
        seen.push(w.to_string());
    }
    seen
}

/// The words of a period's texts, each text cut once: how many texts use
/// each word, to tell a group's own words from everyone's.
pub struct Background {
    df: HashMap<String, usize>,
    total: usize,
}

impl Background {
    pub fn new<'a>(texts: impl IntoIterator<Item = &'a [String]>) -> Background {
        let mut df: HashMap<String, usize> = HashMap::new();
        let mut total = 0usize;
        for words in texts {
            total += 1;
            for w in words {
                *df.entry(w.clone()).or_default() += 1;
            }
        }
        Background { df, total }
    }
}

/// What a group of texts (already cut by [`words_of`]) is about: the words
/// at least two of them share, ranked by how many share them and how rare
/// they are in the background, so 停车难 rises above words every topic uses
/// (办理, 一次). Returns (word, texts of the group that use it).
pub fn hot_among<'a>(
    group: impl IntoIterator<Item = &'a [String]>,
    background: &Background,
    n: usize,
) -> Vec<(String, usize)> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for words in group {
        for w in words {
            *counts.entry(w.as_str()).or_default() += 1;
        }
    }
    let total = background.total;
    let mut scored: Vec<(String, usize, f64)> = counts
        .into_iter()
        .filter(|(_, c)| *c >= 2)
        .map(|(w, c)| {
            let d = background.df.get(w).copied().unwrap_or(0).max(c);
            let idf = ((total.max(d) as f64 + 1.0) / (d as f64 + 1.0)).ln() + 0.1;
            (w.to_string(), c, c as f64 * idf)
        })
        .collect();
    scored.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    scored.truncate(n);
    scored.into_iter().map(|(w, c, _)| (w, c)).collect()
}

/// [`hot_among`] for plain texts.
pub fn hot_words<'a>(
    texts: impl IntoIterator<Item = &'a str>,
    background: impl IntoIterator<Item = &'a str>,
    n: usize,
) -> Vec<(String, usize)> {
    let group: Vec<Vec<String>> = texts.into_iter().map(words_of).collect();
    let all: Vec<Vec<String>> = background.into_iter().map(words_of).collect();
    hot_among(
        group.iter().map(Vec::as_slice),
        &Background::new(all.iter().map(Vec::as_slice)),
        n,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_go_to_the_area_they_are_about() {
        let cases = [
            ("小区门口的公交站取消了，老人出行很不方便", Topic::Traffic),
            ("孩子明年上小学，学位够不够？", Topic::Education),
            ("异地就医报销太麻烦了", Topic::Health),
            ("公司拖欠工资三个月了", Topic::Jobs),
            ("物业不作为，电梯坏了一周没人修", Topic::Housing),
            ("工地夜间施工吵得睡不着", Topic::Environment),
            ("路边占道经营的摊贩太多", Topic::CityLooks),
            ("健身房跑路了预付卡退不了", Topic::Market),
            ("接到电诈电话被骗了两万", Topic::Safety),
            ("窗口工作人员让我跑了三趟才办成营业执照", Topic::Services),
            ("今天天气真好", Topic::Other),
        ];
        for (text, want) in cases {
            assert_eq!(classify(text).0, want, "{text}");
        }
    }

    #[test]
    fn the_longer_word_wins_and_is_the_cue() {
        let (topic, cues) = classify("晚上夜间施工");
        assert_eq!(topic, Topic::Environment);
        assert_eq!(cues, vec!["夜间施工".to_string()]);
    }

    #[test]
    fn hot_words_are_what_the_group_shares_and_the_rest_does_not() {
        let group = [
            "幸福小区停车难，办理车位太少",
            "停车难的问题什么时候解决，办理很慢",
            "学校门口停车难，办理",
            "一条只说一次的话",
        ];
        let others = [
            "办理居住证要什么",
            "办理营业执照",
            "办理护照",
            "办理社保卡",
            "办理结婚登记",
        ];
        let background: Vec<&str> = group.iter().chain(others.iter()).copied().collect();
        let hot = hot_words(group.iter().copied(), background.iter().copied(), 5);
        assert_eq!(hot[0].0, "停车难", "{hot:?}");
        assert_eq!(hot[0].1, 3);
        // 办理 is in three texts of the group too, but in every other text as well.
        let rank = |w: &str| hot.iter().position(|(x, _)| x == w);
        assert!(rank("办理").is_none_or(|r| r > 0), "{hot:?}");
        assert!(hot.iter().all(|(_, n)| *n >= 2));
    }
}
