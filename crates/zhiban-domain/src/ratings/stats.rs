//! 好差评 statistics for one Beijing calendar month: the number of
//! ratings, the satisfaction rate (非常满意, 满意 and 基本满意 among all),
//! bad ratings and the share of them rectified (fixed or explained), on
//! time, and the follow-up rate of real-name bad ratings; in total, by
//! unit, by item and (for staff reports) by staff member.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::Score;
use super::workflow::RectState;
use crate::identity::Scope;
use crate::time::next_month;
use crate::{Db, DomainError};

/// Figures of one group.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tally {
    /// Unit id, item code or staff username; empty for the total.
    pub key: String,
    pub name: String,
    pub ratings: i64,
    /// Count per level, 非常满意 first.
    pub by_score: [i64; 5],
    pub satisfied: i64,
    pub bad: i64,
    /// Bad ratings fixed or explained.
    pub rectified: i64,
    /// …by their deadline.
    pub rectified_on_time: i64,
    /// Real-name bad ratings (each needs a follow-up call).
    pub real_name_bad: i64,
    pub followed_up: i64,
}

fn pct(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 * 100.0 / d as f64)
}

impl Tally {
    /// 满意率.
    pub fn satisfaction_rate(&self) -> Option<f64> {
        pct(self.satisfied, self.ratings)
    }
    /// 差评整改率.
    pub fn rectification_rate(&self) -> Option<f64> {
        pct(self.rectified, self.bad)
    }
    /// 按期整改率.
    pub fn on_time_rate(&self) -> Option<f64> {
        pct(self.rectified_on_time, self.bad)
    }
    /// 实名差评回访率.
    pub fn followup_rate(&self) -> Option<f64> {
        pct(self.followed_up, self.real_name_bad)
    }
    /// The mean score.
    pub fn mean(&self) -> Option<f64> {
        let sum: i64 = self
            .by_score
            .iter()
            .zip([5, 4, 3, 2, 1])
            .map(|(n, s)| n * s)
            .sum();
        (self.ratings > 0).then(|| sum as f64 / self.ratings as f64)
    }

    fn add(&mut self, r: &Row) {
        self.ratings += 1;
        if let Some(s) = Score::from_value(r.score) {
            let i = usize::try_from(5 - s.value()).unwrap_or(0);
            self.by_score[i] += 1;
            if s.bad() {
                self.bad += 1;
                if r.real_name {
                    self.real_name_bad += 1;
                }
            } else {
                self.satisfied += 1;
            }
        }
        if r.resolved {
            self.rectified += 1;
        }
        if r.on_time {
            self.rectified_on_time += 1;
        }
        if r.followed_up {
            self.followed_up += 1;
        }
    }
}

/// One month's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// `YYYY-MM`.
    pub month: String,
    pub total: Tally,
    /// Most ratings first.
    pub units: Vec<Tally>,
    pub items: Vec<Tally>,
    pub staff: Vec<Tally>,
}

struct Row {
    unit_id: i64,
    unit_name: String,
    service_code: String,
    service_name: String,
    staff: String,
    staff_label: String,
    score: i64,
    real_name: bool,
    resolved: bool,
    on_time: bool,
    followed_up: bool,
}

/// Parses `YYYY-MM` into the month's first day.
pub fn parse_month(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{}-01", s.trim()), "%Y-%m-%d").ok()
}

type Raw = (
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
);

fn bump(list: &mut Vec<Tally>, key: &str, name: &str, r: &Row) {
    match list.iter_mut().find(|t| t.key == key) {
        Some(t) => t.add(r),
        None => {
            let mut t = Tally {
                key: key.to_string(),
                name: name.to_string(),
                ..Tally::default()
            };
            t.add(r);
            list.push(t);
        }
    }
}

/// The figures of the month starting on `first` (any day of it will do),
/// for the units in `scope` (`Scope::All`: the public page).
pub async fn month(db: &Db, scope: &Scope, first: NaiveDate) -> Result<Summary, DomainError> {
    let first = first.with_day(1).unwrap_or(first);
    let raw: Vec<Raw> = sqlx::query_as(
        "SELECT r.unit_id, d.name, r.service_code, r.service_name, r.staff, r.staff_label, \
         r.score, r.real_name, x.state, x.resolved_at, x.due_on, x.followup_at \
         FROM ratings r JOIN departments d ON d.id = r.unit_id \
         LEFT JOIN rectifications x ON x.rating_id = r.id \
         WHERE r.day >= $1 AND r.day < $2",
    )
    .bind(first.to_string())
    .bind(next_month(first).to_string())
    .fetch_all(db.pool())
    .await?;
    let mut s = Summary {
        month: first.format("%Y-%m").to_string(),
        ..Summary::default()
    };
    for (
        unit_id,
        unit_name,
        code,
        name,
        staff,
        staff_label,
        score,
        real,
        state,
        resolved_at,
        due,
        followup_at,
    ) in raw
    {
        if !scope.covers(unit_id) {
            continue;
        }
        let resolved = state
            .as_deref()
            .and_then(RectState::from_slug)
            .is_some_and(RectState::resolved);
        let due = due.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
        let on_time = resolved
            && matches!((resolved_at, due), (Some(at), Some(d)) if crate::time::local_day(at) <= d);
        let r = Row {
            unit_id,
            unit_name,
            service_code: code,
            service_name: name,
            staff,
            staff_label,
            score,
            real_name: real != 0,
            resolved,
            on_time,
            followed_up: followup_at.is_some(),
        };
        s.total.add(&r);
        bump(&mut s.units, &r.unit_id.to_string(), &r.unit_name, &r);
        let item_key = if r.service_code.is_empty() {
            format!("unit:{}", r.unit_id)
        } else {
            r.service_code.clone()
        };
        bump(&mut s.items, &item_key, &r.service_name, &r);
        if !r.staff.is_empty() {
            bump(&mut s.staff, &r.staff, &r.staff_label, &r);
        }
    }
    for list in [&mut s.units, &mut s.items, &mut s.staff] {
        list.sort_by(|a, b| b.ratings.cmp(&a.ratings).then(a.name.cmp(&b.name)));
    }
    Ok(s)
}

/// The months that have ratings, newest first.
pub async fn months(db: &Db) -> Result<Vec<String>, DomainError> {
    let days: Vec<String> = sqlx::query_scalar("SELECT DISTINCT substr(day, 1, 7) FROM ratings")
        .fetch_all(db.pool())
        .await?;
    let mut m = days;
    m.sort_unstable_by(|a, b| b.cmp(a));
    Ok(m)
}

/// A month's staff report as CSV (UTF-8 with a byte-order mark, so Excel
/// and WPS open it as Chinese): the total, then each unit, item and staff
/// member with every figure.
pub fn report_csv(s: &Summary) -> Result<Vec<u8>, DomainError> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let csv_err = |_| DomainError::Internal("csv");
    w.write_record([
        "月份",
        "分组",
        "名称",
        "评价数",
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
        "满意率(%)",
        "差评数",
        "已整改",
        "按期整改",
        "差评整改率(%)",
        "实名差评",
        "已回访",
    ])
    .map_err(csv_err)?;
    let groups = std::iter::once(("合计", &s.total))
        .chain(s.units.iter().map(|t| ("单位", t)))
        .chain(s.items.iter().map(|t| ("事项", t)))
        .chain(s.staff.iter().map(|t| ("工作人员", t)));
    let fmt = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_default();
    for (group, t) in groups {
        let mut row = vec![s.month.clone(), group.to_string(), t.name.clone()];
        row.push(t.ratings.to_string());
        row.extend(t.by_score.iter().map(i64::to_string));
        row.push(fmt(t.satisfaction_rate()));
        row.push(t.bad.to_string());
        row.push(t.rectified.to_string());
        row.push(t.rectified_on_time.to_string());
        row.push(fmt(t.rectification_rate()));
        row.push(t.real_name_bad.to_string());
        row.push(t.followed_up.to_string());
        w.write_record(&row).map_err(csv_err)?;
    }
    w.into_inner().map_err(|_| DomainError::Internal("csv"))
}
