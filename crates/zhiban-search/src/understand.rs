//! Query understanding: what a citizen typed → the words to search for.
//!
//! 1. Normalise: full-width → half-width, lower case, 繁體 → 简体.
//! 2. Colloquial intents and synonyms (丢了 → 补领, 驾照 → 驾驶证), longest
//!    phrase first; staff edit the dictionary and it applies at once.
//! 3. Drop filler words (怎么, 如何, 办理 …).
//! 4. Latin runs are pinyin: full (shenfenzheng) or initials (sfz) → the
//!    catalog words that read that way.
//! 5. Typos: a run that is not a catalog word but sounds exactly like one
//!    (驾使证 → 驾驶证), or becomes one when a look-alike character is put
//!    right (户藉 → 户籍, 身仿证 → 身份证), is corrected, and the correction
//!    is reported.
//! 6. Words: jieba (search mode) over what is left.

use std::collections::{HashMap, HashSet};

use ferrous_opencc::OpenCC;
use ferrous_opencc::config::BuiltinConfig;
use jieba_rs::Jieba;
use pinyin::ToPinyin;

/// Built-in colloquial phrases and synonyms. Staff add to (and override)
/// these in the admin UI.
pub const DEFAULT_SYNONYMS: &[(&str, &str)] = &[
    ("丢了", "补领"),
    ("丢失", "补领"),
    ("掉了", "补领"),
    ("遗失", "补领"),
    ("补办", "补领"),
    ("被偷", "补领"),
    ("坏了", "换领"),
    ("损坏", "换领"),
    ("过期", "期满换领"),
    ("到期", "期满换领"),
    ("快到期", "期满换领"),
    ("换新", "换领 补换"),
    ("换证", "换证 换领"),
    ("sfz", "身份证"),
    ("身份证", "居民身份证"),
    ("临时身份证", "临时居民身份证"),
    ("驾照", "驾驶证"),
    ("驾驶本", "驾驶证"),
    ("行驶证", "机动车行驶证"),
    ("扣分", "交通违法 记分"),
    ("罚单", "交通违法"),
    ("违章", "交通违法"),
    ("过户", "过户 转移登记"),
    ("年检", "机动车检验"),
    ("上牌", "注册登记"),
    ("上户口", "出生登记 户口"),
    ("报户口", "出生登记 户口"),
    ("新生儿", "出生"),
    ("生孩子", "出生 生育"),
    ("出生证", "出生医学证明"),
    ("疫苗", "预防接种"),
    ("打疫苗", "预防接种"),
    ("落户", "落户 户口迁移"),
    ("迁户口", "户口迁移"),
    ("户口本", "户口簿"),
    ("开证明", "证明"),
    ("无犯罪证明", "无犯罪记录证明"),
    ("港澳通行证", "往来港澳通行证"),
    ("港澳签注", "往来港澳通行证 签注"),
    ("去香港", "往来港澳通行证"),
    ("去澳门", "往来港澳通行证"),
    ("台胞证", "台湾"),
    ("去台湾", "往来台湾通行证"),
    ("出国", "普通护照"),
    ("护照", "普通护照"),
    ("社保卡", "社会保障卡"),
    ("社保", "社会保险 社会保障"),
    ("医保", "医疗保险 医疗保障"),
    ("失业金", "失业保险金"),
    ("领失业", "失业保险金"),
    ("退休", "退休 养老保险待遇"),
    ("养老金", "养老保险待遇"),
    ("生育险", "生育津贴"),
    ("产假工资", "生育津贴"),
    ("看病", "就医"),
    ("异地看病", "异地就医备案"),
    ("结婚", "结婚登记"),
    ("领证", "结婚登记"),
    ("离婚", "离婚登记"),
    ("低保", "最低生活保障"),
    ("老人补贴", "高龄津贴"),
    ("丧葬费", "丧葬补助金"),
    ("上学", "入学"),
    ("小学报名", "义务教育入学"),
    ("买房", "购房 不动产 公积金"),
    ("租房", "租房 租赁"),
    ("房产证", "不动产权证书 不动产登记"),
    ("公积金", "住房公积金"),
    ("开公司", "公司设立登记"),
    ("注册公司", "公司设立登记"),
    ("开店", "个体工商户 食品经营许可"),
    ("营业执照", "营业执照 设立登记"),
    ("关公司", "企业注销"),
    ("公司注销", "企业注销"),
    ("公司", "公司 企业"),
    ("餐馆", "食品经营许可"),
    ("饭店", "食品经营许可"),
    ("餐厅", "食品经营许可"),
    ("小吃店", "食品经营许可"),
    ("注销公司", "企业注销"),
    ("个税", "个人所得税"),
    ("退税", "个人所得税 汇算"),
    ("开发票", "发票"),
    ("领发票", "发票领用"),
    ("盖房子", "建筑工程施工许可"),
    ("网约车", "网络预约出租汽车"),
    ("残疾证", "残疾人证"),
    ("养狗", "犬只登记"),
    ("办狗证", "犬只登记"),
    ("狗证", "犬只登记"),
    ("消防检查", "消防安全检查"),
    // Policies people ask about by their everyday names (#16).
    ("长护险", "长期护理保险"),
    ("电动车", "电动自行车"),
    ("电瓶车", "电动自行车"),
    ("鞭炮", "烟花爆竹"),
    ("放炮", "燃放烟花爆竹"),
    ("放烟花", "燃放烟花爆竹"),
    ("充电桩", "充电 充电基础设施"),
    ("新能源车", "新能源汽车"),
    ("两卡", "银行卡 电话卡"),
    ("公租房", "公共租赁住房"),
    ("廉租房", "公共租赁住房"),
    ("个体户", "个体工商户"),
    ("扩岗补贴", "扩岗补助"),
    // Situations and everyday names (#19): what people say when they do
    // not know the service's name, 重庆话 included.
    ("考驾照", "初次申领机动车驾驶证"),
    ("学车", "初次申领机动车驾驶证"),
    ("扣满12分", "满分学习考试"),
    ("扣满分", "满分学习考试"),
    ("车牌", "号牌"),
    ("牌照", "号牌"),
    ("改名字", "姓名变更"),
    ("改名", "姓名变更"),
    ("改姓", "姓名变更"),
    ("领养", "收养登记"),
    ("收养", "收养登记"),
    ("狗狗", "犬只"),
    ("条狗", "犬只"),
    ("只狗", "犬只"),
    ("驾照补办", "驾驶证补证"),
    ("补驾照", "驾驶证补证"),
    ("驾照掉了", "驾驶证补证"),
    ("驾照丢了", "驾驶证补证"),
    ("娃儿", "子女 儿童"),
    ("娃娃", "子女 儿童"),
    ("小孩", "子女 儿童"),
    ("孩子", "子女 儿童"),
    ("刚生", "出生"),
    ("生娃", "生育 出生"),
    ("生小孩", "生育 出生"),
    ("读小学", "义务教育入学 小学"),
    ("上小学", "义务教育入学 小学"),
    ("读初中", "义务教育入学 初中"),
    ("上初中", "义务教育入学 初中"),
    ("上幼儿园", "学前教育入园"),
    ("读幼儿园", "学前教育入园"),
    ("外地娃", "随迁子女"),
    ("二手房", "存量房"),
    ("新房", "商品房"),
    ("刻章", "印章刻制"),
    ("刻公章", "印章刻制"),
    ("健康证", "健康证明"),
    ("电梯", "特种设备 电梯"),
    ("代开发票", "发票代开"),
    ("烟草证", "烟草专卖零售许可证"),
    ("卖烟", "烟草专卖零售许可证"),
    ("电工证", "特种作业操作证"),
    ("焊工证", "特种作业操作证"),
    ("网吧", "互联网上网服务营业场所"),
    ("查档案", "档案查阅"),
    ("查档", "档案查阅"),
    ("代办", "帮办代办"),
    ("零星报销", "医疗费用手工报销"),
    ("婚姻登记处", "结婚登记 婚姻登记"),
    ("扯证", "结婚登记"),
    ("扯结婚证", "结婚登记"),
    ("去世", "死亡 注销"),
    ("过世", "死亡 注销"),
    ("辞职", "离职"),
    ("辞退", "失业 离职"),
    ("下岗", "失业"),
    ("理发店", "公共场所卫生许可 个体工商户"),
    ("美容美发", "公共场所卫生许可"),
    ("摆摊摊", "摊贩"),
    ("摆摊", "摊贩"),
    ("占道", "占用城市道路"),
    ("打官司", "法律援助"),
    ("请不起律师", "法律援助"),
    ("拖欠工资", "劳动人事争议仲裁"),
    ("拖工资", "劳动人事争议仲裁"),
    ("欠工资", "劳动人事争议仲裁"),
];

/// The situation lexicon (`situations.tsv`): how people describe what
/// happened to them, and the words the services use for it.
pub const SITUATIONS_TSV: &str = include_str!("situations.tsv");

fn situations() -> impl Iterator<Item = (&'static str, &'static str)> {
    SITUATIONS_TSV
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once('\t'))
        .map(|(a, b)| (a.trim(), b.trim()))
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
}

/// Characters people type for others that look alike or sit next to them
/// in an input method (形近字): the right character, then those typed for
/// it. 户藉 → 户籍, 身仿证 → 身份证, 营业执熙 → 营业执照. A swap is only made
/// when it turns the text into a catalog word.
const SHAPES: &[(char, &str)] = &[
    ('籍', "藉耤箱"),
    ('份', "仿伪彷"),
    ('照', "熙煦昭"),
    ('执', "热丸孰"),
    ('营', "莹萤宫荣菅"),
    ('驾', "驽架"),
    ('驶', "驮驰使"),
    ('证', "征怔症正"),
    ('婚', "昏"),
    ('残', "践浅栈"),
    ('疾', "嫉痪"),
    ('缴', "激檄"),
    ('险', "脸俭验捡"),
    ('税', "锐悦说"),
    ('社', "杜礼祉"),
    ('护', "沪扩"),
    ('签', "笠筌"),
    ('准', "淮谁推"),
    ('迁', "迂"),
    ('赁', "凭货任"),
    ('贷', "货袋"),
    ('申', "甲由电"),
    ('领', "岭邻令"),
    ('补', "朴扑"),
    ('换', "唤焕涣"),
    ('积', "枳织"),
    ('金', "全"),
    ('提', "堤题"),
    ('取', "娶趣"),
    ('低', "底抵纸"),
    ('保', "堡褓呆"),
    ('抚', "扰怃"),
    ('恤', "洫"),
    ('孕', "孪"),
    ('龄', "玲铃"),
    ('殡', "嫔缤滨"),
    ('葬', "莽"),
    ('居', "据剧锯"),
    ('住', "往注柱"),
    ('户', "尸沪"),
    ('口', "日囗"),
    ('簿', "薄溥"),
    ('登', "澄蹬"),
    ('记', "纪汜"),
    ('出', "岀山"),
    ('生', "牛"),
    ('医', "区"),
    ('疗', "疔"),
    ('犬', "大太尤"),
    ('只', "兄"),
    ('摊', "滩瘫"),
    ('贩', "畈"),
    ('延', "廷诞"),
    ('续', "读绩"),
    ('销', "消锁"),
    ('学', "字觉"),
    ('历', "厉励"),
    ('业', "亚"),
    ('务', "努"),
    ('养', "羊美姜"),
    ('老', "考孝者"),
    ('退', "褪腿"),
    ('休', "体"),
    ('健', "键建"),
    ('康', "糠慷"),
    ('检', "捡俭"),
    ('验', "险"),
    ('疫', "役疲"),
    ('苗', "笛"),
    ('租', "祖阻"),
    ('房', "防"),
    ('产', "彦"),
    ('权', "杈"),
    ('纳', "钠呐"),
    ('噪', "燥躁澡"),
    ('设', "没"),
    ('立', "亚"),
    ('载', "戴栽"),
    ('牌', "碑脾"),
    ('撤', "撒澈"),
];

/// Words that say nothing about which service is meant.
const FILLER: &[&str] = &[
    "怎么办理",
    "啷个办",
    "咋个办",
    "啷个",
    "咋个",
    "啥子",
    "要得不",
    "如何办理",
    "怎样办理",
    "在哪里办",
    "在哪办",
    "需要什么",
    "要什么",
    "哪些材料",
    "什么材料",
    "怎么办",
    "怎么弄",
    "怎么",
    "如何",
    "怎样",
    "哪里",
    "在哪",
    "请问",
    "我想",
    "我要",
    "想要",
    "需要",
    "办理",
    "申请",
    "手续",
    "流程",
    "材料",
    "一下",
    "可以",
    "能不能",
    "吗",
    "呢",
    "啊",
    "吧",
    "了",
    "的",
    "我",
    "要",
    "办",
    "去",
];

/// Shared, immutable resources for understanding queries. Rebuilt when the
/// index's titles or the synonym dictionary change.
pub struct Lexicon {
    jieba: Jieba,
    /// A typed character → the characters it may stand for (形近字).
    shapes: HashMap<char, Vec<char>>,
    t2s: Option<OpenCC>,
    /// Words that occur in titles, with how many titles use them.
    vocab: HashMap<String, u32>,
    by_pinyin: HashMap<String, Vec<String>>,
    by_initials: HashMap<String, Vec<String>>,
    /// (phrase, replacement) sorted longest phrase first.
    synonyms: Vec<(String, String)>,
    /// For each filler word, the catalog words that contain it (a filler
    /// inside one of those words is part of the name, not filler).
    filler_guard: Vec<(&'static str, Vec<String>)>,
}

/// What the query turned into.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Understood {
    /// The query after normalisation (简体, half-width, lower case).
    pub normalized: String,
    /// The query rewritten (synonyms, pinyin, corrections) before splitting.
    pub rewritten: String,
    /// Words to search for, in order, without duplicates.
    pub words: Vec<String>,
    /// Set when a typo was corrected: the corrected query to show as
    /// "did you mean".
    pub corrected: Option<String>,
}

/// Plain pinyin of every character (first reading), and the initials.
pub fn pinyin_of(s: &str) -> (String, String) {
    let mut full = String::new();
    let mut initials = String::new();
    for (c, p) in s.chars().zip(s.to_pinyin()) {
        match p {
            Some(p) => {
                full.push_str(p.plain());
                initials.push_str(p.first_letter());
            }
            None => {
                full.push(c);
                initials.push(c);
            }
        }
    }
    (full, initials)
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{9fff}' | '\u{f900}'..='\u{faff}')
}

/// Full-width → half-width, lower case.
fn fold_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

impl Lexicon {
    /// Builds the lexicon from the titles in the index and the synonym
    /// dictionary (built-ins overridden by `custom`).
    pub fn build<'a>(
        titles: impl IntoIterator<Item = &'a str>,
        custom: &[(String, String)],
    ) -> Self {
        let mut jieba = Jieba::new();
        let mut synonyms: HashMap<String, String> = DEFAULT_SYNONYMS
            .iter()
            .copied()
            .chain(situations())
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        for (a, b) in custom {
            let a = fold_width(a.trim());
            if !a.is_empty() {
                synonyms.insert(a, b.trim().to_string());
            }
        }
        // Domain words first, so jieba keeps them whole.
        for w in [
            "身份证",
            "驾驶证",
            "公积金",
            "社保卡",
            "户口簿",
            "居住证",
            "通行证",
            "签注",
            "补领",
            "换领",
            "期满",
            "换证",
            "补证",
            "落户",
            "医保",
            "异地就医",
            "低保",
            "护照",
            "台胞证",
            "营业执照",
            "个体工商户",
            "不动产",
            "预防接种",
            "出生医学证明",
            "失业保险金",
            "生育津贴",
            "高龄津贴",
        ] {
            jieba.add_word(w, Some(200_000), None);
        }
        let mut vocab: HashMap<String, u32> = HashMap::new();
        for title in titles {
            let title = fold_width(title);
            let mut seen = HashSet::new();
            for tok in jieba.cut_for_search(&title, false) {
                let w = tok.word;
                if w.chars().count() >= 2 && w.chars().all(is_cjk) && seen.insert(w.to_string()) {
                    *vocab.entry(w.to_string()).or_default() += 1;
                }
            }
        }
        for target in synonyms.values() {
            for w in target.split_whitespace() {
                if w.chars().count() >= 2 {
                    vocab.entry(w.to_string()).or_insert(1);
                }
            }
        }
        let mut by_pinyin: HashMap<String, Vec<String>> = HashMap::new();
        let mut by_initials: HashMap<String, Vec<String>> = HashMap::new();
        let mut words: Vec<(&String, &u32)> = vocab.iter().collect();
        // Most used first, so the likeliest reading wins.
        words.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        for (w, _) in words {
            jieba.add_word(w, Some(50_000), None);
            let (full, initials) = pinyin_of(w);
            by_pinyin.entry(full).or_default().push(w.clone());
            if initials.len() >= 2 {
                by_initials.entry(initials).or_default().push(w.clone());
            }
        }
        // Colloquial phrases can be typed in pinyin too (shebaoka → 社保卡).
        for phrase in synonyms.keys() {
            if phrase.chars().count() >= 2 && phrase.chars().all(is_cjk) {
                let (full, initials) = pinyin_of(phrase);
                by_pinyin.entry(full).or_default().push(phrase.clone());
                if initials.len() >= 3 {
                    by_initials
                        .entry(initials)
                        .or_default()
                        .push(phrase.clone());
                }
            }
        }
        let mut synonyms: Vec<(String, String)> = synonyms.into_iter().collect();
        synonyms.sort_by(|a, b| {
            b.0.chars()
                .count()
                .cmp(&a.0.chars().count())
                .then_with(|| a.0.cmp(&b.0))
        });
        let filler_guard = FILLER
            .iter()
            .map(|f| {
                let guards: Vec<String> = vocab.keys().filter(|w| w.contains(f)).cloned().collect();
                (*f, guards)
            })
            .collect();
        let mut shapes: HashMap<char, Vec<char>> = HashMap::new();
        for (right, typed) in SHAPES {
            for t in typed.chars().filter(|t| t != right) {
                let e = shapes.entry(t).or_default();
                if !e.contains(right) {
                    e.push(*right);
                }
            }
        }
        Lexicon {
            filler_guard,
            shapes,
            jieba,
            t2s: OpenCC::from_config(BuiltinConfig::T2s).ok(),
            vocab,
            by_pinyin,
            by_initials,
            synonyms,
        }
    }

    pub fn normalize(&self, q: &str) -> String {
        let folded = fold_width(q.trim());
        let simplified = match &self.t2s {
            Some(cc) => cc.convert(&folded),
            None => folded,
        };
        simplified.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    pub fn is_word(&self, w: &str) -> bool {
        self.vocab.contains_key(w)
    }

    /// Applies the synonym dictionary once, longest phrase first; replaced
    /// text is not rewritten again.
    fn apply_synonyms(&self, q: &str) -> String {
        let chars: Vec<char> = q.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        'outer: while i < chars.len() {
            for (phrase, target) in &self.synonyms {
                let p: Vec<char> = phrase.chars().collect();
                if chars[i..].starts_with(&p) {
                    out.push(' ');
                    out.push_str(target);
                    out.push(' ');
                    i += p.len();
                    continue 'outer;
                }
            }
            out.push(chars[i]);
            i += 1;
        }
        out
    }

    fn strip_filler(&self, q: &str) -> String {
        let mut s = q.to_string();
        for (f, guards) in &self.filler_guard {
            // Only strip filler where it is not part of a catalog word.
            if s.contains(f) && !guards.iter().any(|w| s.contains(w.as_str())) {
                s = s.replace(f, " ");
            }
        }
        s
    }

    /// Latin letters: whole pinyin or initials of catalog words.
    fn word_for_pinyin(&self, run: &str) -> Option<String> {
        if let Some(ws) = self.by_pinyin.get(run) {
            return ws.first().cloned();
        }
        if let Some(ws) = self.by_initials.get(run) {
            return ws.first().cloned();
        }
        None
    }

    /// The catalog word `window` becomes when one character typed for a
    /// look-alike is put right (户藉 → 户籍).
    fn shape_fix(&self, window: &[char]) -> Option<String> {
        for (j, c) in window.iter().enumerate() {
            for right in self.shapes.get(c).into_iter().flatten() {
                let mut w: Vec<char> = window.to_vec();
                w[j] = *right;
                let w: String = w.into_iter().collect();
                if self.is_word(&w) {
                    return Some(w);
                }
            }
        }
        None
    }

    /// Replaces sound-alike and look-alike typos inside a CJK run with
    /// catalog words.
    fn correct_run(&self, run: &str) -> (String, bool) {
        let chars: Vec<char> = run.chars().collect();
        let mut out = String::new();
        let mut changed = false;
        let mut i = 0;
        while i < chars.len() {
            let mut replaced = false;
            for len in (2..=4).rev() {
                if i + len > chars.len() {
                    continue;
                }
                let window: String = chars[i..i + len].iter().collect();
                if self.is_word(&window) {
                    out.push_str(&window);
                    i += len;
                    replaced = true;
                    break;
                }
                // Two-character windows are too short to judge unless jieba
                // also fails to see a word there.
                if len == 2 && self.jieba.cut(&window, false).len() == 1 {
                    continue;
                }
                let (full, _) = pinyin_of(&window);
                let best = self
                    .by_pinyin
                    .get(&full)
                    .and_then(|cands| cands.iter().find(|c| c.chars().count() == len).cloned())
                    .or_else(|| self.shape_fix(&chars[i..i + len]));
                if let Some(best) = best {
                    changed |= best != window;
                    out.push_str(&best);
                    i += len;
                    replaced = true;
                    break;
                }
            }
            if !replaced {
                out.push(chars[i]);
                i += 1;
            }
        }
        (out, changed)
    }

    pub fn understand(&self, q: &str) -> Understood {
        let normalized = self.normalize(q);
        // Latin runs first (sfz补办 → 身份证补办), then synonyms.
        let mut spelled = String::new();
        let mut run = String::new();
        let flush = |run: &mut String, out: &mut String| {
            if run.is_empty() {
                return;
            }
            match self.word_for_pinyin(run) {
                Some(w) => {
                    out.push(' ');
                    out.push_str(&w);
                    out.push(' ');
                }
                None => out.push_str(run),
            }
            run.clear();
        };
        for c in normalized.chars() {
            if c.is_ascii_alphabetic() {
                run.push(c);
            } else {
                flush(&mut run, &mut spelled);
                spelled.push(c);
            }
        }
        flush(&mut run, &mut spelled);

        // Correct typos before synonyms so 驾使证 still becomes 驾驶证.
        let mut corrected_any = false;
        let mut fixed = String::new();
        let mut cjk = String::new();
        for c in spelled.chars().chain(std::iter::once(' ')) {
            if is_cjk(c) {
                cjk.push(c);
            } else {
                if !cjk.is_empty() {
                    let (r, changed) = self.correct_run(&cjk);
                    corrected_any |= changed;
                    fixed.push_str(&r);
                    cjk.clear();
                }
                fixed.push(c);
            }
        }
        let fixed = fixed.trim().to_string();
        let corrected =
            corrected_any.then(|| fixed.split_whitespace().collect::<Vec<_>>().join(""));

        let rewritten = self.strip_filler(&self.apply_synonyms(&fixed));
        let mut words: Vec<String> = Vec::new();
        for part in rewritten.split_whitespace() {
            for tok in self.jieba.cut_for_search(part, false) {
                let w = tok.word.trim();
                if w.is_empty() || w.chars().all(|c| !c.is_alphanumeric()) {
                    continue;
                }
                if !words.iter().any(|x| x == w) {
                    words.push(w.to_string());
                }
            }
        }
        Understood {
            normalized,
            rewritten: rewritten.split_whitespace().collect::<Vec<_>>().join(" "),
            words,
            corrected,
        }
    }

    /// Catalog words whose pinyin or initials start with `prefix`, for
    /// suggestions as someone types in Latin letters.
    pub fn pinyin_prefix(&self, prefix: &str, limit: usize) -> Vec<String> {
        let mut out: Vec<&String> = self
            .by_pinyin
            .iter()
            .chain(self.by_initials.iter())
            .filter(|(k, _)| k.starts_with(prefix))
            .flat_map(|(_, v)| v.iter())
            .collect();
        out.sort_by(|a, b| {
            self.vocab
                .get(*b)
                .cmp(&self.vocab.get(*a))
                .then_with(|| a.cmp(b))
        });
        out.dedup();
        out.into_iter().take(limit).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex() -> Lexicon {
        Lexicon::build(
            [
                "居民身份证补领",
                "居民身份证换领",
                "机动车驾驶证期满换证",
                "住房公积金提取（租房）",
                "普通护照签发",
                "营商环境投诉",
            ],
            &[],
        )
    }

    #[test]
    fn initials_and_full_pinyin_become_words() {
        let l = lex();
        assert!(l.understand("sfz补办").words.iter().any(|w| w == "身份证"));
        assert!(l.understand("gjj").words.iter().any(|w| w == "公积金"));
        assert!(
            l.understand("shenfenzheng")
                .words
                .iter()
                .any(|w| w == "身份证")
        );
    }

    #[test]
    fn sound_alike_typos_are_corrected_and_reported() {
        let u = lex().understand("驾使证换证");
        assert!(u.words.iter().any(|w| w == "驾驶证"), "{u:?}");
        assert_eq!(u.corrected.as_deref(), Some("驾驶证换证"));
    }

    #[test]
    fn look_alike_typos_are_corrected_only_into_catalog_words() {
        let l = Lexicon::build(["户籍证明开具", "居民身份证补领", "营业执照补领"], &[]);
        assert_eq!(
            l.understand("户藉证明").corrected.as_deref(),
            Some("户籍证明")
        );
        assert_eq!(
            l.understand("身仿证补办").corrected.as_deref(),
            Some("身份证补办")
        );
        assert_eq!(
            l.understand("营业执熙丢了").corrected.as_deref(),
            Some("营业执照丢了")
        );
        // 熙 stays where no catalog word needs it.
        assert_eq!(l.understand("康熙").corrected, None);
    }

    #[test]
    fn situations_lead_to_the_words_of_the_service() {
        let l = lex();
        let u = l.understand("刚被公司开除了");
        assert!(u.rewritten.contains("失业登记"), "{}", u.rewritten);
        let u = l.understand("装修要在路边堆材料");
        assert!(u.rewritten.contains("临时占用城市道路"), "{}", u.rewritten);
        // The longer phrase wins: a lost job is not a lost card.
        let u = l.understand("工作丢了");
        assert!(!u.rewritten.contains("补领"), "{}", u.rewritten);
        for (phrase, words) in situations() {
            assert!(phrase.chars().count() >= 2, "{phrase}");
            assert!(!words.is_empty(), "{phrase}");
        }
    }

    #[test]
    fn a_colloquial_phrase_is_not_reported_as_a_typo() {
        let u = lex().understand("上户口");
        assert!(u.corrected.is_none(), "{u:?}");
        assert!(u.words.iter().any(|w| w == "出生"));
    }

    #[test]
    fn traditional_characters_are_simplified() {
        let u = lex().understand("護照申請");
        assert_eq!(u.normalized, "护照申请");
        assert!(u.words.iter().any(|w| w == "护照"));
    }

    #[test]
    fn colloquial_phrases_map_to_official_terms() {
        let u = lex().understand("身份证丢了怎么办");
        assert!(u.words.iter().any(|w| w == "补领"), "{u:?}");
        assert!(!u.words.iter().any(|w| w == "怎么办"));
        assert!(u.corrected.is_none());
    }

    #[test]
    fn staff_synonyms_override_the_built_in_ones() {
        let l = Lexicon::build(["营商环境投诉"], &[("营商".into(), "营商环境".into())]);
        assert!(l.understand("营商").words.iter().any(|w| w == "营商环境"));
    }
}
