//! The demo's 征集调查 (演示数据): two drafts for comment (one open, one
//! closed with its feedback) and two surveys with answers (one open to
//! anyone, one closed).

use crate::{Db, DomainError};

const SERVICE_SURVEY: &str = r#"{"title": "政务服务满意度调查", "pages": [{"title": "您的评价", "fields": [
 {"key": "channel", "label": "您最近一次通过哪种方式办事？", "kind": "choice", "required": true,
  "options": ["网上办理", "政务服务大厅窗口", "自助终端", "手机App或小程序"]},
 {"key": "satisfaction", "label": "总体满意度", "kind": "rating", "required": true, "max": 5,
  "help": "1 表示很不满意，5 表示很满意"},
 {"key": "problems", "label": "办事中遇到过哪些问题？", "kind": "multi_choice",
  "options": ["材料要求不清楚", "排队时间长", "来回跑多次", "网上系统难用", "没有遇到问题"]},
 {"key": "advice", "label": "您对改进政务服务有什么建议？", "kind": "textarea", "max_len": 500}
]}]}"#;

const BUS_SURVEY: &str = r#"{"title": "公交线网优化意见调查", "pages": [{"title": "您的出行", "fields": [
 {"key": "often", "label": "您平时乘坐公交车的频率", "kind": "choice", "required": true,
  "options": ["每天", "每周几次", "偶尔", "几乎不坐"]},
 {"key": "wants", "label": "您最希望改进的方面", "kind": "multi_choice", "required": true,
  "options": ["增加班次", "延长末班时间", "增设站点", "优化换乘", "车内环境"]},
 {"key": "score", "label": "对现有公交服务的评分", "kind": "rating", "required": true, "max": 5}
]}]}"#;

struct Demo {
    kind: &'static str,
    unit: &'static str,
    title: &'static str,
    summary: &'static str,
    body: &'static str,
    schema: &'static str,
    /// Days from loading: opens, closes.
    days: (i64, i64),
    anonymous: bool,
    feedback: &'static str,
    comments: &'static [(&'static str, &'static str, bool)],
}

const DEMOS: &[Demo] = &[
    Demo {
        kind: "consultation",
        unit: "500000-CG",
        title: "《渝州市生活垃圾分类管理办法（修订草案征求意见稿）》公开征求意见",
        summary: "为进一步推进生活垃圾分类工作，市城市管理局起草了修订草案，现向社会公开征求意见。（演示数据）",
        body: "第一条　为了加强生活垃圾分类管理，改善人居环境，根据有关法律法规，结合本市实际，制定本办法。\n第二条　本市行政区域内生活垃圾的分类投放、收集、运输、处理及其监督管理，适用本办法。\n第三条　生活垃圾分为可回收物、有害垃圾、厨余垃圾和其他垃圾。\n第四条　住宅小区实行定时定点投放，投放时间由物业服务人征求业主意见后确定并公示，每日不少于两个时段。\n第五条　违反本办法规定，个人未按规定分类投放的，由城市管理部门责令改正；拒不改正的，处五十元以上二百元以下罚款。",
        schema: "",
        days: (-10, 20),
        anonymous: false,
        feedback: "",
        comments: &[
            (
                "网友张*",
                "建议定时定点投放时段增加晚上八点到九点，很多上班族早上赶时间来不及。",
                true,
            ),
            (
                "网友李*",
                "第五条罚款前应该先有提醒和教育，老年人对分类规则不熟悉。",
                true,
            ),
            (
                "网友王*",
                "希望小区增加厨余垃圾破袋设施，手上不卫生。",
                false,
            ),
        ],
    },
    Demo {
        kind: "consultation",
        unit: "500000-JW",
        title: "《渝州市义务教育阶段学校招生入学工作实施意见（征求意见稿）》征求意见",
        summary: "市教委就义务教育招生入学工作实施意见公开征求社会意见，征求意见期已结束，现公布意见采纳情况。（演示数据）",
        body: "一、坚持免试就近入学，公办学校按划定的服务范围招生。\n二、随迁子女凭居住证入学，居住证办理满六个月即可申请。\n三、推行网上报名，报名材料通过电子证照共享核验，家长无需提交纸质复印件。\n四、多校划片区域实行电脑随机派位，派位过程全程公开。",
        schema: "",
        days: (-60, -30),
        anonymous: false,
        feedback: "征求意见期间共收到意见建议 126 条，经梳理，采纳“居住证满六个月即可申请”“报名材料电子证照核验”等意见 31 条；关于取消多校划片的建议，因涉及学位资源统筹，暂不采纳，将在下一步工作中研究。感谢市民的关心和支持。",
        comments: &[
            (
                "网友陈*",
                "支持网上报名，去年跑了三趟复印材料，今年希望一次都不跑。",
                true,
            ),
            (
                "网友刘*",
                "随迁子女居住证满一年的要求太长，建议缩短。",
                true,
            ),
        ],
    },
    Demo {
        kind: "survey",
        unit: "500000",
        title: "2026年度政务服务满意度调查",
        summary: "为持续改进政务服务，诚邀您用两分钟填写本问卷，不需要登录，每台设备填写一次。（演示数据）",
        body: "",
        schema: SERVICE_SURVEY,
        days: (-20, 40),
        anonymous: true,
        feedback: "",
        comments: &[],
    },
    Demo {
        kind: "survey",
        unit: "500000-JT",
        title: "主城区公交线网优化意见调查",
        summary: "市交通运输委员会就主城区公交线网优化征集市民意见，调查已结束，结果如下。（演示数据）",
        body: "",
        schema: BUS_SURVEY,
        days: (-90, -45),
        anonymous: true,
        feedback: "本次调查共收到有效问卷 160 份。市民最希望增加班次和延长末班时间，我委已在 12 条线路试点延长末班车至 23:00，并于高峰时段加密 8 条线路班次。",
        comments: &[],
    },
];

/// A deterministic spread of answers: question `key` of answer `i`.
fn pick(options: &[&str], i: usize, salt: usize) -> String {
    let weights = [5, 4, 3, 2, 1, 1];
    let total: usize = weights.iter().take(options.len()).sum();
    let mut r = (i * 37 + salt * 11) % total;
    for (o, w) in options.iter().zip(weights) {
        if r < w {
            return (*o).to_string();
        }
        r -= w;
    }
    options[0].to_string()
}

fn demo_answers(schema: &str, i: usize) -> crate::forms::Answers {
    let mut a = crate::forms::Answers::new();
    if schema == SERVICE_SURVEY {
        a.insert(
            "channel".into(),
            pick(
                &[
                    "网上办理",
                    "政务服务大厅窗口",
                    "手机App或小程序",
                    "自助终端",
                ],
                i,
                1,
            ),
        );
        a.insert(
            "satisfaction".into(),
            pick(&["5", "4", "3", "2", "1"], i, 2),
        );
        a.insert(
            "problems".into(),
            [
                pick(&["没有遇到问题", "材料要求不清楚", "排队时间长"], i, 3),
                pick(&["没有遇到问题", "来回跑多次", "网上系统难用"], i, 4),
            ]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join("\n"),
        );
        if i.is_multiple_of(9) {
            a.insert(
                "advice".into(),
                "希望网上办事的材料说明写得再清楚一些。".into(),
            );
        }
    } else {
        a.insert(
            "often".into(),
            pick(&["每天", "每周几次", "偶尔", "几乎不坐"], i, 5),
        );
        a.insert(
            "wants".into(),
            [
                pick(&["增加班次", "延长末班时间", "增设站点"], i, 6),
                pick(&["延长末班时间", "优化换乘", "车内环境"], i, 7),
            ]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join("\n"),
        );
        a.insert("score".into(), pick(&["4", "3", "5", "2", "1"], i, 8));
    }
    a
}

/// What the demo says, for test databases built from it.
pub fn fingerprint() -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    for d in DEMOS {
        (d.kind, d.unit, d.title, d.summary, d.body, d.schema, d.days).hash(&mut h);
        (d.feedback, d.comments).hash(&mut h);
    }
    h.finish()
}

/// Loads the demo once (nothing when there are some already).
pub async fn load(db: &Db) -> Result<usize, DomainError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM consultations")
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
        let Some(unit) = unit else { continue };
        let opens = crate::time::at_local(today + chrono::Duration::days(d.days.0), 9, 0);
        let closes = crate::time::at_local(today + chrono::Duration::days(d.days.1), 18, 0);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO consultations (kind, title, summary, body, schema_json, unit_id, \
             opens_at, closes_at, anonymous, feedback, feedback_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'demo', $7) RETURNING id",
        )
        .bind(d.kind)
        .bind(d.title)
        .bind(d.summary)
        .bind(d.body)
        .bind(d.schema)
        .bind(unit)
        .bind(opens)
        .bind(closes)
        .bind(i64::from(d.anonymous))
        .bind(d.feedback)
        .bind((!d.feedback.is_empty()).then_some(closes + 5 * 86_400))
        .fetch_one(&mut *tx)
        .await?;
        for (i, (speaker, body, shown)) in d.comments.iter().enumerate() {
            sqlx::query(
                "INSERT INTO consultation_comments (consultation_id, speaker, body, state, \
                 created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(speaker)
            .bind(body)
            .bind(if *shown { "shown" } else { "pending" })
            .bind(opens + 3600 * (i as i64 + 1))
            .execute(&mut *tx)
            .await?;
        }
        let answers = if d.schema.is_empty() {
            0
        } else if d.days.1 < 0 {
            160
        } else {
            120
        };
        for i in 0..answers {
            let a = demo_answers(d.schema, i);
            sqlx::query(
                "INSERT INTO survey_answers (consultation_id, device, answers, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(format!("demo-{i}"))
            .bind(serde_json::to_string(&a).map_err(|_| DomainError::Internal("answers"))?)
            .bind(opens + 1800 * i as i64)
            .execute(&mut *tx)
            .await?;
        }
        loaded += 1;
    }
    tx.commit().await?;
    Ok(loaded)
}
