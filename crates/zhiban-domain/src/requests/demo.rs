//! The demo's dispatch catalogue, streets and 300 past requests (演示数据,
//! written by `tools/demo/make_requests.py`): spread over the past year,
//! across types, districts and states, some overdue, merged or reopened,
//! so the desks, statistics and 公开选登 look like a real hotline's.

use chrono::NaiveDate;

use super::routing::{DISPATCH_TSV, HISTORY_TSV, catalogue};
use super::workflow::{RequestAction, RequestSettings, RequestState, RequestType, Satisfaction};
use crate::cases::Deadlines;
use crate::cases::calendar::WorkCalendar;
use crate::time::{at_local, local_day};
use crate::{Db, DomainError, Tx, pii};

/// Loads the dispatch catalogue and the streets of the demo districts,
/// once (nothing happens when the catalogue has categories, or when the
/// demo org tree is missing).
pub async fn load_catalogue(db: &Db) -> Result<bool, DomainError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM request_categories")
        .fetch_one(db.pool())
        .await?;
    if n > 0 {
        return Ok(false);
    }
    let mut tx = db.begin().await?;
    for (i, line) in catalogue(DISPATCH_TSV).iter().enumerate() {
        let Some(unit) = unit_id(&mut tx, &line.unit).await? else {
            return Ok(false);
        };
        sqlx::query(
            "INSERT INTO request_categories (name, unit_id, description, position) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&line.category)
        .bind(unit)
        .bind(&line.covers)
        .bind(i as i64)
        .execute(&mut *tx)
        .await?;
    }
    let mut seen = std::collections::BTreeSet::new();
    for row in rows() {
        if !seen.insert((row.district, row.street)) {
            continue;
        }
        let Some(d) = unit_id(&mut tx, row.district).await? else {
            continue;
        };
        sqlx::query("INSERT INTO request_streets (district_id, name) VALUES ($1, $2)")
            .bind(d)
            .bind(row.street)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

async fn unit_id(tx: &mut Tx, code: &str) -> Result<Option<i64>, DomainError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut **tx)
            .await?,
    )
}

/// One line of the demo history.
struct Row<'a> {
    kind: RequestType,
    district: &'a str,
    street: &'a str,
    days_ago: i64,
    category: &'a str,
    unit: &'a str,
    state: RequestState,
    satisfaction: Option<Satisfaction>,
    overdue: bool,
    reopened: bool,
    merged_into: Option<usize>,
    publish: bool,
    text: &'a str,
    answer: &'a str,
}

fn rows() -> Vec<Row<'static>> {
    HISTORY_TSV
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Some(Row {
                kind: RequestType::from_slug(c.first()?)?,
                district: c.get(1)?,
                street: c.get(2)?,
                days_ago: c.get(3)?.parse().ok()?,
                category: c.get(4)?,
                unit: c.get(5)?,
                state: RequestState::from_slug(c.get(6)?)?,
                satisfaction: Satisfaction::from_slug(c.get(7)?),
                overdue: *c.get(8)? == "1",
                reopened: *c.get(9)? == "1",
                merged_into: c.get(10)?.parse().ok(),
                publish: *c.get(11)? == "1",
                text: c.get(12)?,
                answer: c.get(13).copied().unwrap_or(""),
            })
        })
        .collect()
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "邓", "曹", "彭",
];

#[allow(clippy::too_many_arguments)]
async fn event(
    tx: &mut Tx,
    id: i64,
    at: i64,
    actor: &str,
    action: RequestAction,
    from: RequestState,
    to: RequestState,
    note: &str,
) -> Result<(), DomainError> {
    super::repo::record_event_at(tx, id, at, actor, actor, action, from, to, note).await
}

/// Loads the 300 demo requests into an empty requests table, with their
/// timelines (needs the data keys: contact phones are encrypted). Returns
/// how many were loaded.
pub async fn load_history(db: &Db) -> Result<usize, DomainError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM requests")
        .fetch_one(db.pool())
        .await?;
    if n > 0 {
        return Ok(0);
    }
    load_catalogue(db).await?;
    let cal = WorkCalendar::national();
    let settings = RequestSettings::default();
    let now = db.now().timestamp();
    let today = local_day(now);
    let mut tx = db.begin().await?;
    let mut ids: Vec<i64> = Vec::new();
    let mut counters: std::collections::HashMap<NaiveDate, i64> = Default::default();
    let rows = rows();
    for (i, row) in rows.iter().enumerate() {
        let (Some(district), Some(unit)) = (
            unit_id(&mut tx, row.district).await?,
            unit_id(&mut tx, row.unit).await?,
        ) else {
            return Ok(0);
        };
        let category: Option<i64> =
            sqlx::query_scalar("SELECT id FROM request_categories WHERE name = $1")
                .bind(row.category)
                .fetch_optional(&mut *tx)
                .await?;
        let minutes = (i as i64 * 37) % 540;
        let day0 = today - chrono::Duration::days(row.days_ago);
        let filed = (at_local(day0, 8, 30) + minutes * 60).min(now - 3600);
        let limit = settings.limit(row.kind);
        let d = Deadlines::new(&cal, day0, limit, limit, 20);
        let seq = counters.entry(day0).or_insert(0);
        *seq += 1;
        let number = format!("SQ{}{:05}", day0.format("%Y%m%d"), 90_000 + *seq);
        let name = format!(
            "{}{}",
            SURNAMES[i % SURNAMES.len()],
            if i % 3 == 0 { "女士" } else { "先生" }
        );
        let phone = format!("139{:04}{:04}", 2300 + i % 97, 1000 + i);
        let s = row.state;
        let classified = s != RequestState::Submitted;
        let dispatched = matches!(
            s,
            RequestState::Dispatched
                | RequestState::Handling
                | RequestState::Answered
                | RequestState::Concluded
        );
        let signed = dispatched && s != RequestState::Dispatched;
        let answered = matches!(s, RequestState::Answered | RequestState::Concluded);
        let dispatched_at = dispatched.then_some(filed + 2 * 3600);
        let signed_at = signed.then_some(filed + 5 * 3600);
        let answer_day = if row.overdue {
            cal.add_working_days(d.due_on, 2)
        } else {
            cal.add_working_days(day0, (limit / 2).max(1))
        };
        let minute = u32::try_from((i * 13) % 420).unwrap_or(0);
        let answered_at =
            answered.then(|| (at_local(answer_day, 9 + minute / 60, minute % 60)).min(now - 1800));
        let concluded_at = (s == RequestState::Concluded)
            .then(|| answered_at.map(|a| (a + 86_400).min(now - 600)))
            .flatten();
        let merged_into = row
            .merged_into
            .and_then(|j| ids.get(j.saturating_sub(1)).copied());
        let state = if merged_into.is_some() {
            RequestState::Merged
        } else {
            s
        };
        let desk = match state.desk() {
            Some(super::Who::Dispatcher) => "dispatcher",
            Some(super::Who::Unit) => "unit",
            _ => "",
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO requests (number, kind, mailbox, title, body, district_id, street, \
             contact_name, contact_phone, publish_ok, published, state, category_id, \
             suggested_category_id, unit_id, merged_into, answer, satisfaction, reopened, \
             submitted_at, due_on, yellow_on, dispatched_at, sign_due_on, signed_at, answered_at, \
             concluded_at, updated_at, desk, running) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $11, $12, $13, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, \
             $26, $27, $28, $29) RETURNING id",
        )
        .bind(&number)
        .bind(row.kind.slug())
        .bind(if i % 11 == 0 { "mayor" } else { "" })
        .bind(super::title_of(row.text))
        .bind(row.text)
        .bind(district)
        .bind(row.street)
        .bind(&name)
        .bind(pii::seal(db, pii::ctx::REQUEST_PHONE, &phone)?)
        .bind(i64::from(row.publish))
        .bind(i64::from(row.publish && s == RequestState::Concluded))
        .bind(state.slug())
        .bind(if classified { category } else { None })
        .bind(dispatched.then_some(unit))
        .bind(merged_into)
        .bind(if answered { row.answer } else { "" })
        .bind(
            (s == RequestState::Concluded)
                .then_some(row.satisfaction)
                .flatten()
                .map(|x| x.slug())
                .unwrap_or(""),
        )
        .bind(i64::from(row.reopened))
        .bind(filed)
        .bind(d.due_on.to_string())
        .bind(d.yellow_on.to_string())
        .bind(dispatched_at)
        .bind(if dispatched {
            cal.add_working_days(day0, settings.sign_days).to_string()
        } else {
            String::new()
        })
        .bind(signed_at)
        .bind(answered_at)
        .bind(concluded_at)
        .bind(concluded_at.or(answered_at).or(signed_at).unwrap_or(filed))
        .bind(desk)
        .bind(i64::from(state.clock_running()))
        .fetch_one(&mut *tx)
        .await?;
        ids.push(id);
        type S = RequestState;
        type A = RequestAction;
        let who = format!("{}（12345 热线）", crate::identity::ids::mask_name(&name));
        event(
            &mut tx,
            id,
            filed,
            &who,
            A::Submit,
            S::Submitted,
            S::Submitted,
            "",
        )
        .await?;
        if let Some(into) = merged_into {
            let target: String = sqlx::query_scalar("SELECT number FROM requests WHERE id = $1")
                .bind(into)
                .fetch_one(&mut *tx)
                .await?;
            event(
                &mut tx,
                id,
                filed + 1800,
                "12345 派单员",
                A::Merge,
                S::Submitted,
                S::Merged,
                &format!("与 {target} 合并办理：同一地点同一问题"),
            )
            .await?;
            continue;
        }
        if classified {
            let note = format!("分类：{}", row.category);
            event(
                &mut tx,
                id,
                filed + 3600,
                "12345 派单员",
                A::Accept,
                S::Submitted,
                S::Accepted,
                &note,
            )
            .await?;
        }
        if let Some(at) = dispatched_at {
            event(
                &mut tx,
                id,
                at,
                "12345 派单员",
                A::Dispatch,
                S::Accepted,
                S::Dispatched,
                "按派单目录派至承办单位",
            )
            .await?;
        }
        if let Some(at) = signed_at {
            event(
                &mut tx,
                id,
                at,
                "承办单位",
                A::Sign,
                S::Dispatched,
                S::Handling,
                "",
            )
            .await?;
        }
        if let Some(at) = answered_at {
            if row.reopened {
                event(
                    &mut tx,
                    id,
                    at - 3 * 86_400,
                    "承办单位",
                    A::Answer,
                    S::Handling,
                    S::Answered,
                    "",
                )
                .await?;
                event(
                    &mut tx,
                    id,
                    at - 2 * 86_400,
                    &who,
                    A::Reopen,
                    S::Answered,
                    S::Handling,
                    "不满意，要求重新办理：问题没有得到解决",
                )
                .await?;
            }
            event(
                &mut tx,
                id,
                at,
                "承办单位",
                A::Answer,
                S::Handling,
                S::Answered,
                "",
            )
            .await?;
        }
        if let (Some(at), Some(sat)) = (concluded_at, row.satisfaction) {
            event(
                &mut tx,
                id,
                at,
                &who,
                A::Rate,
                S::Answered,
                S::Concluded,
                sat.label(),
            )
            .await?;
        }
        if state.clock_running() && d.due_on < today {
            let at = at_local(d.due_on.succ_opt().unwrap_or(d.due_on), 9, 0);
            let note = format!("已超过答复期限 {}", d.due_on);
            event(
                &mut tx,
                id,
                at,
                "电子监察",
                A::Escalate,
                state,
                state,
                &note,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(ids.len())
}
