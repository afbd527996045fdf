//! 部门考核: how each unit answers the requests dispatched to it in a
//! month — response (signed within the signing limit), on-time answers,
//! resolution (concluded) and satisfaction (satisfied or basically
//! satisfied among those rated).

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::workflow::Satisfaction;
use crate::identity::Scope;
use crate::time::{day_start, local_day, next_month};
use crate::{Db, DomainError};

/// One unit's figures for one month.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UnitMonth {
    pub unit_id: i64,
    pub unit_name: String,
    /// Requests dispatched to the unit in the month.
    pub dispatched: i64,
    /// Signed within the signing limit.
    pub signed_on_time: i64,
    pub answered: i64,
    /// Answered by the deadline.
    pub answered_on_time: i64,
    pub concluded: i64,
    pub rated: i64,
    /// Satisfied or basically satisfied.
    pub satisfied: i64,
}

fn pct(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 * 100.0 / d as f64)
}

impl UnitMonth {
    /// 响应率: signed in time among those dispatched.
    pub fn response_rate(&self) -> Option<f64> {
        pct(self.signed_on_time, self.dispatched)
    }
    /// 按时答复率: answered by the deadline among those answered.
    pub fn on_time_rate(&self) -> Option<f64> {
        pct(self.answered_on_time, self.answered)
    }
    /// 办结率: concluded among those dispatched.
    pub fn resolution_rate(&self) -> Option<f64> {
        pct(self.concluded, self.dispatched)
    }
    /// 满意率: satisfied or basically satisfied among those rated.
    pub fn satisfaction_rate(&self) -> Option<f64> {
        pct(self.satisfied, self.rated)
    }
}

type Row = (
    i64,
    String,
    Option<i64>,
    String,
    Option<i64>,
    String,
    String,
    Option<i64>,
);

/// Every unit in `scope` with requests dispatched in the month starting
/// on `first` (a Beijing calendar month), busiest first.
pub async fn by_unit(
    db: &Db,
    scope: &Scope,
    first: NaiveDate,
) -> Result<Vec<UnitMonth>, DomainError> {
    let first = first.with_day(1).unwrap_or(first);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT r.unit_id, d.name, r.signed_at, r.sign_due_on, r.answered_at, r.due_on, \
         r.satisfaction, r.concluded_at FROM requests r JOIN departments d ON d.id = r.unit_id \
         WHERE r.dispatched_at >= $1 AND r.dispatched_at < $2",
    )
    .bind(day_start(first))
    .bind(day_start(next_month(first)))
    .fetch_all(db.pool())
    .await?;
    let mut out: Vec<UnitMonth> = Vec::new();
    for (unit, name, signed_at, sign_due, answered_at, due_on, satisfaction, concluded_at) in rows {
        if !scope.covers(unit) {
            continue;
        }
        let i = match out.iter().position(|u| u.unit_id == unit) {
            Some(i) => i,
            None => {
                out.push(UnitMonth {
                    unit_id: unit,
                    unit_name: name,
                    ..UnitMonth::default()
                });
                out.len() - 1
            }
        };
        let u = &mut out[i];
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        u.dispatched += 1;
        if let (Some(at), Some(due)) = (signed_at, day(&sign_due))
            && local_day(at) <= due
        {
            u.signed_on_time += 1;
        }
        if let Some(at) = answered_at {
            u.answered += 1;
            if day(&due_on).is_some_and(|d| local_day(at) <= d) {
                u.answered_on_time += 1;
            }
        }
        if concluded_at.is_some() {
            u.concluded += 1;
        }
        if let Some(s) = Satisfaction::from_slug(&satisfaction) {
            u.rated += 1;
            if s != Satisfaction::Unsatisfied {
                u.satisfied += 1;
            }
        }
    }
    out.sort_by(|a, b| {
        b.dispatched
            .cmp(&a.dispatched)
            .then(a.unit_name.cmp(&b.unit_name))
    });
    Ok(out)
}
