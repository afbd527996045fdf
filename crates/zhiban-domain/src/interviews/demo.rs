//! The demo's interviews (演示数据): three held ones with their
//! transcripts (户籍制度改革, a 警方在线 session on fraud, 医保参保) and one
//! announced, with questions waiting for the moderators.

use sqlx::Row;

use super::log;
use crate::{Db, DomainError};

/// One line of a transcript: `q` a citizen's question (speaker is the
/// nickname), `a` the answer of guest `n` to the question before it,
/// `h` the host.
struct Line {
    who: char,
    guest: usize,
    speaker: &'static str,
    text: &'static str,
}

const fn q(speaker: &'static str, text: &'static str) -> Line {
    Line {
        who: 'q',
        guest: 0,
        speaker,
        text,
    }
}

const fn a(guest: usize, text: &'static str) -> Line {
    Line {
        who: 'a',
        guest,
        speaker: "",
        text,
    }
}

const fn h(text: &'static str) -> Line {
    Line {
        who: 'h',
        guest: 0,
        speaker: "",
        text,
    }
}

struct Demo {
    kind: &'static str,
    unit: &'static str,
    title: &'static str,
    summary: &'static str,
    guests: &'static [(&'static str, &'static str)],
    /// Days from the demo's loading (negative: held already).
    day: i64,
    lines: &'static [Line],
}

const DEMOS: &[Demo] = &[
    Demo {
        kind: "interview",
        unit: "500000-GA-HZ",
        title: "落户渝州怎么办——户籍制度改革政策解读",
        summary: "今年起我市进一步放宽城镇落户条件，推行户籍业务“跨省通办”“一窗通办”。本期访谈邀请市公安局户政管理总队负责同志，解读落户条件、办理渠道和常见问题。（演示数据）",
        guests: &[
            ("王建国", "市公安局户政管理总队副总队长"),
            ("李敏", "市公安局户政管理总队户籍科科长"),
        ],
        day: -60,
        lines: &[
            h(
                "各位网友下午好！欢迎来到渝州市政府网站在线访谈。今天我们邀请到市公安局户政管理总队的两位负责同志，和大家聊聊落户的那些事。",
            ),
            a(
                0,
                "各位网友好！很高兴和大家交流。今年我们把落户的门槛又降了一些，办理的路也更顺了，欢迎大家提问。",
            ),
            q(
                "山城小陈",
                "我是外省大学毕业生，在渝州找到工作了，毕业证还没拿到，可以先落户吗？",
            ),
            a(
                1,
                "可以。毕业两年内的全日制大专以上学历毕业生，凭毕业证或就业报到证、身份证即可申请落户，毕业证未取得的可先凭学校出具的预毕业证明办理，取得毕业证后补交复印件。可以在“渝州政务服务网”上网上申请，也可以到拟落户地派出所户籍窗口办理。",
            ),
            q("网友", "我父母都在老家，想投靠我落户渝州，需要什么条件？"),
            a(
                1,
                "父母投靠子女落户，子女需在我市有合法稳定住所，父母提供身份证、户口簿、亲属关系证明即可。男满60周岁、女满55周岁的不再另设条件。亲属关系证明可通过电子证照调用，不用再回老家开证明。",
            ),
            q(
                "两路口居民",
                "身份证丢了，我现在在外地出差，能在外地补办吗？",
            ),
            a(
                0,
                "可以。居民身份证补领已经实现“跨省通办”，您可以在出差所在地任意一个公安户籍窗口申请补领，制证完成后可以选择邮寄到家。急需乘车的，可以在车站办理临时乘车证明。",
            ),
            q("新手爸爸", "宝宝刚出生，出生登记要跑几个地方？"),
            a(
                1,
                "一个都不用跑。我们和卫健、医保部门推出了“出生一件事”，在网上一次提交出生医学证明，就能同时办理出生登记、医保参保和社保卡申领，户口簿可以邮寄到家。",
            ),
            h(
                "感谢两位嘉宾的解答！本次访谈的文字实录将在网站保留，网友还可以通过“我要写信”继续咨询户籍问题。",
            ),
        ],
    },
    Demo {
        kind: "police",
        unit: "500000-GA",
        title: "警方在线·反诈专场：识破刷单返利和冒充客服骗局",
        summary: "刷单返利、冒充电商客服、虚假投资理财是当前高发的电信网络诈骗类型。市公安局反诈中心民警在线解答，教您识骗防骗。接到可疑电话请立即拨打 96110 咨询。（演示数据）",
        guests: &[
            ("陈立", "市公安局反诈中心民警"),
            ("赵琳", "市公安局反诈中心宣传员"),
        ],
        day: -25,
        lines: &[
            h("欢迎来到“警方在线”！今天是反诈专场，民警陈立、赵琳在线为大家答疑。"),
            q(
                "小区王阿姨",
                "有人打电话说是快递客服，说我的包裹丢了要给我理赔，让我下载一个软件，这是真的吗？",
            ),
            a(
                0,
                "这是典型的冒充客服诈骗。正规快递理赔不会要求您下载陌生软件、开启屏幕共享，更不会让您提供银行卡验证码。遇到这种电话请直接挂断，通过官方客服电话核实。",
            ),
            q(
                "大学生小刘",
                "网上看到兼职刷单，做一单返几块钱，前几单真的返了，现在要我垫付大额才能提现，怎么办？",
            ),
            a(
                0,
                "立即停止转账！刷单本身就是违法行为，“先返小利、再骗大钱”是这类骗局的固定套路。请保存聊天记录和转账凭证，马上拨打 110 报警，也可以在本网站“线索举报”中提交线索。",
            ),
            q("网友", "怎么知道自己手机号有没有被别人冒用开卡？"),
            a(
                1,
                "可以通过工信部“一证通查”服务查询本人名下的手机号码。另外，建议大家安装“国家反诈中心”App，开启来电预警功能。",
            ),
            h(
                "反诈口诀送给大家：不听、不信、不转账；陌生来电多核实，可疑情况找 96110。感谢各位网友参与！",
            ),
        ],
    },
    Demo {
        kind: "interview",
        unit: "500000-YB",
        title: "2027年度城乡居民医保参保缴费政策解读",
        summary: "2027年度城乡居民基本医疗保险集中缴费期已经开始。本期访谈解读缴费标准、缴费渠道、待遇变化和困难群众资助政策。（演示数据）",
        guests: &[("周红梅", "市医疗保障局待遇保障处处长")],
        day: -8,
        lines: &[
            h("网友们好，欢迎参加本期在线访谈，今天的主题是城乡居民医保参保缴费。"),
            q("江北区刘先生", "今年居民医保每人交多少钱？在哪里交最方便？"),
            a(
                0,
                "2027年度个人缴费标准为每人每年400元，财政补助不低于670元。可以通过渝快办、税务App、微信和银行网点缴费，也可以到社区（村）便民服务点代缴。",
            ),
            q("网友", "孩子在外地上大学，还能在家里参保吗？"),
            a(
                0,
                "在外地就读的大学生可以选择在学校所在地参保，也可以继续在户籍地参保，但不能重复参保。已在学校参保的，不用在家里再交。",
            ),
            q("低保户家属", "家里有低保对象，缴费有补助吗？"),
            a(
                0,
                "有。特困人员个人缴费全额资助，低保对象、返贫致贫人口按规定给予定额资助，由区县医保部门直接落实，不需要本人申请。",
            ),
            h("集中缴费期到明年2月底结束，请大家及时参保缴费。感谢周处长！"),
        ],
    },
    Demo {
        kind: "interview",
        unit: "500000-JW",
        title: "2027年义务教育阶段入学报名政策在线访谈（预告）",
        summary: "2027年小学一年级、初中一年级入学报名即将开始。市教委相关负责同志将在线解读划片招生、报名材料和随迁子女入学政策，欢迎网友提前提问。（演示数据）",
        guests: &[("孙晓东", "市教育委员会基础教育处副处长")],
        day: 5,
        lines: &[
            q(
                "渝北家长",
                "随迁子女上小学需要准备哪些材料？居住证办了不满一年可以吗？",
            ),
            q("网友", "户口和房产不在一个片区，孩子按哪个划片入学？"),
        ],
    },
];

/// What the demo interviews say, for test databases built from them.
pub fn fingerprint() -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    for d in DEMOS {
        (d.kind, d.unit, d.title, d.summary, d.guests, d.day).hash(&mut h);
        for l in d.lines {
            (l.who, l.guest, l.speaker, l.text).hash(&mut h);
        }
    }
    h.finish()
}

/// Loads the demo interviews once (nothing when there are some already).
pub async fn load(db: &Db) -> Result<usize, DomainError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM interviews")
        .fetch_one(db.pool())
        .await?;
    if n > 0 {
        return Ok(0);
    }
    let today = crate::time::local_date(db.now());
    let mut tx = db.begin().await?;
    let mut loaded = 0;
    for d in DEMOS {
        let unit: Option<i64> = sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
            .bind(d.unit)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(unit) = unit else {
            continue;
        };
        let day = today + chrono::Duration::days(d.day);
        let starts = crate::time::at_local(day, 15, 0);
        let ends = crate::time::at_local(day, 16, 30);
        let held = d.day < 0;
        let guests = d
            .guests
            .iter()
            .map(|(n, t)| format!("{n}｜{t}"))
            .collect::<Vec<_>>()
            .join("\n");
        let row = sqlx::query(
            "INSERT INTO interviews (kind, title, summary, guests, unit_id, starts_at, ends_at, \
             state, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'demo', $9) \
             RETURNING id",
        )
        .bind(d.kind)
        .bind(d.title)
        .bind(d.summary)
        .bind(&guests)
        .bind(unit)
        .bind(starts)
        .bind(ends)
        .bind(if held { "ended" } else { "scheduled" })
        .bind(starts - 7 * 86_400)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        if held {
            log(&mut tx, id, "state", None, starts).await?;
        }
        let mut at = if held {
            starts
        } else {
            db.now().timestamp() - 3600
        };
        let mut question = None;
        for line in d.lines {
            at += 240;
            let (kind, speaker) = match line.who {
                'q' => ("question", format!("网友「{}」", line.speaker)),
                'a' => {
                    let (n, t) = d.guests[line.guest];
                    ("answer", format!("{n}（{t}）"))
                }
                _ => ("host", "主持人".to_string()),
            };
            let state = if held { "shown" } else { "pending" };
            let reply_to = if line.who == 'a' { question } else { None };
            let row = sqlx::query(
                "INSERT INTO interview_posts (interview_id, kind, speaker, body, reply_to, \
                 state, created_at, shown_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 RETURNING id",
            )
            .bind(id)
            .bind(kind)
            .bind(&speaker)
            .bind(line.text)
            .bind(reply_to)
            .bind(state)
            .bind(at - if line.who == 'q' { 600 } else { 0 })
            .bind(held.then_some(at))
            .fetch_one(&mut *tx)
            .await?;
            let post: i64 = row.try_get("id")?;
            if line.who == 'q' {
                question = Some(post);
            }
            log(
                &mut tx,
                id,
                if held { "shown" } else { "asked" },
                Some(post),
                at,
            )
            .await?;
        }
        if held {
            log(&mut tx, id, "state", None, ends).await?;
        }
        loaded += 1;
    }
    tx.commit().await?;
    Ok(loaded)
}
