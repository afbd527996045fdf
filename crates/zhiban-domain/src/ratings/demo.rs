//! Demo ratings (演示数据): four months of counter-visit ratings on the
//! high-frequency items, mostly good, a few bad ones with their
//! rectifications — the older ones closed, the recent ones still open —
//! so the public statistics and the staff desk show something real.

use chrono::Duration;

use super::workflow::RectState;
use super::{BAD_TAGS, GOOD_TAGS};
use crate::cases::calendar::WorkCalendar;
use crate::time::{at_local, local_day};
use crate::{Db, DomainError, pii};

/// The demo's counter staff (演示数据).
const STAFF: &[(&str, &str)] = &[
    ("demo.window01", "窗口 01 号 王晓敏"),
    ("demo.window02", "窗口 02 号 李建国"),
    ("demo.window03", "窗口 03 号 陈雨欣"),
    ("demo.window05", "窗口 05 号 刘德胜"),
    ("demo.window07", "窗口 07 号 赵静"),
];

const GOOD_WORDS: &[&str] = &[
    "工作人员很耐心，一次就办好了。",
    "比以前快多了，点赞。",
    "",
    "",
    "指导很清楚，谢谢。",
    "",
];
const BAD_WORDS: &[&str] = &[
    "排队等了一个多小时，窗口只开了两个。",
    "材料交了两次还说不全，希望一次性告知。",
    "网上预约的时间到了还要重新取号。",
];

/// A small deterministic generator, so every demo database is the same.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Loads the demo ratings into an empty ratings table (needs the data
/// keys: comments and phones are encrypted). Returns how many were loaded.
pub async fn load_history(db: &Db) -> Result<usize, DomainError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ratings")
        .fetch_one(db.pool())
        .await?;
    if n > 0 {
        return Ok(0);
    }
    let items: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT code, name, department_id FROM services \
         WHERE status = 'published' AND high_frequency = 1 ORDER BY code",
    )
    .fetch_all(db.pool())
    .await?;
    if items.is_empty() {
        return Ok(0);
    }
    let cal = WorkCalendar::national();
    let now = db.now().timestamp();
    let today = local_day(now);
    let mut rng = Lcg(20_191_201);
    let mut tx = db.begin().await?;
    let mut loaded = 0usize;
    for days_ago in (1..=120i64).rev() {
        let day = today - Duration::days(days_ago);
        if !cal.is_working_day(day) {
            continue;
        }
        for k in 0..(4 + rng.next(5)) {
            let (code, name, unit) =
                &items[usize::try_from(rng.next(items.len() as u64)).unwrap_or(0)];
            let (staff, label) = STAFF[usize::try_from(rng.next(STAFF.len() as u64)).unwrap_or(0)];
            let roll = rng.next(100);
            let score: i64 = match roll {
                0..=61 => 5,
                62..=86 => 4,
                87..=95 => 3,
                96..=98 => 2,
                _ => 1,
            };
            let at = at_local(day, 9, 0) + i64::try_from(k).unwrap_or(0) * 2400 + 600;
            let phone = format!("1358{:03}{:04}", 100 + rng.next(800), 1000 + loaded);
            let visit: i64 = sqlx::query_scalar(
                "INSERT INTO rating_visits (token_hash, unit_id, service_code, service_name, \
                 staff, staff_label, phone, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(format!("demo-{loaded}"))
            .bind(unit)
            .bind(code)
            .bind(name)
            .bind(staff)
            .bind(label)
            .bind(pii::seal(db, pii::ctx::VISIT_PHONE, &phone)?)
            .bind(at - 1800)
            .bind(at - 1800 + super::VISIT_DAYS * 86_400)
            .fetch_one(&mut *tx)
            .await?;
            let bad = score <= 2;
            let (tags, words) = if bad {
                let t = BAD_TAGS[usize::try_from(rng.next(BAD_TAGS.len() as u64)).unwrap_or(0)];
                let w = BAD_WORDS[usize::try_from(rng.next(BAD_WORDS.len() as u64)).unwrap_or(0)];
                (t.to_string(), w)
            } else {
                let t = GOOD_TAGS[usize::try_from(rng.next(GOOD_TAGS.len() as u64)).unwrap_or(0)];
                let w = GOOD_WORDS[usize::try_from(rng.next(GOOD_WORDS.len() as u64)).unwrap_or(0)];
                (t.to_string(), w)
            };
            let real_name = rng.next(10) < 8;
            let rating: i64 = sqlx::query_scalar(
                "INSERT INTO ratings (channel, visit_id, service_code, service_name, unit_id, \
                 staff, staff_label, score, tags, comment, real_name, day, created_at) \
                 VALUES ('counter', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            )
            .bind(visit)
            .bind(code)
            .bind(name)
            .bind(unit)
            .bind(staff)
            .bind(label)
            .bind(score)
            .bind(&tags)
            .bind(pii::seal(db, pii::ctx::RATING_COMMENT, words)?)
            .bind(i64::from(real_name))
            .bind(day.to_string())
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            if bad {
                let due = cal.add_working_days(day, 5);
                // Older ones are dealt with (two of three fixed, one
                // explained); those of the last week are still open.
                let (state, verdict, remedy, resolved, followup, closed) = if days_ago > 7 {
                    let resolved_at = at_local(cal.add_working_days(day, 2), 15, 0);
                    let fixed = rng.next(3) < 2;
                    let (verdict, remedy) = if fixed {
                        (
                            "founded",
                            "已增开高峰时段窗口并对经办人员开展业务培训，材料清单已在办事指南中补充说明。",
                        )
                    } else {
                        (
                            "unfounded",
                            "经调取窗口录像核实，当日办理用时符合承诺时限，已向评价人说明情况。",
                        )
                    };
                    let followup = real_name.then_some((
                        "已电话回访，评价人对整改情况表示认可。",
                        resolved_at + 86_400,
                    ));
                    (
                        RectState::Closed,
                        verdict,
                        remedy,
                        Some(resolved_at),
                        followup,
                        Some(followup.map_or(resolved_at, |(_, at)| at)),
                    )
                } else {
                    (RectState::Open, "", "", None, None, None)
                };
                sqlx::query(
                    "INSERT INTO rectifications (rating_id, unit_id, state, due_on, verdict, \
                     remedy, resolved_at, followup, followup_at, closed_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(rating)
                .bind(unit)
                .bind(state.slug())
                .bind(due.to_string())
                .bind(verdict)
                .bind(remedy)
                .bind(resolved)
                .bind(followup.map_or("", |(t, _)| t))
                .bind(followup.map(|(_, at)| at))
                .bind(closed)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            loaded += 1;
        }
    }
    tx.commit().await?;
    Ok(loaded)
}
