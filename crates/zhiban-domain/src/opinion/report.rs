//! What the monitoring page shows: the trend of items and negative items
//! by day, the topics that are loudest (with how they changed against the
//! period before, and their hot words), the mix of sources, and the items
//! behind any of these.

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use super::monitor::Item;
use super::topics::{self, Topic};
use crate::{Db, DomainError};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DayCount {
    pub day: String,
    pub total: i64,
    pub negative: i64,
    pub positive: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicRow {
    pub topic: Topic,
    pub total: i64,
    pub negative: i64,
    /// Items in the period of the same length before.
    pub previous: i64,
    pub hot: Vec<(String, usize)>,
}

impl TopicRow {
    /// Negative share, whole percent.
    pub fn negative_pct(&self) -> i64 {
        if self.total == 0 {
            0
        } else {
            (self.negative * 100 + self.total / 2) / self.total
        }
    }
    /// Change against the period before, whole percent (None: nothing before).
    pub fn change_pct(&self) -> Option<i64> {
        (self.previous > 0).then(|| (self.total - self.previous) * 100 / self.previous)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub first: String,
    pub last: String,
    pub days: Vec<DayCount>,
    pub total: i64,
    pub negative: i64,
    pub positive: i64,
    pub topics: Vec<TopicRow>,
    /// (source, items)
    pub sources: Vec<(String, i64)>,
}

impl Overview {
    pub fn negative_pct(&self) -> i64 {
        if self.total == 0 {
            0
        } else {
            (self.negative * 100 + self.total / 2) / self.total
        }
    }
}

/// The `days` days ending on `last`.
pub async fn overview(db: &Db, last: NaiveDate, days: i64) -> Result<Overview, DomainError> {
    let days = days.clamp(1, 366);
    let first = last - Duration::days(days - 1);
    let before = first - Duration::days(days);
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT day, topic, sentiment, COUNT(*) FROM opinion_items WHERE day >= $1 AND day <= $2 \
         GROUP BY day, topic, sentiment",
    )
    .bind(before.to_string())
    .bind(last.to_string())
    .fetch_all(db.pool())
    .await?;
    let mut by_day: Vec<DayCount> = (0..days)
        .map(|i| DayCount {
            day: (first + Duration::days(i)).to_string(),
            ..DayCount::default()
        })
        .collect();
    let mut topics: Vec<TopicRow> = Topic::ALL
        .iter()
        .map(|t| TopicRow {
            topic: *t,
            total: 0,
            negative: 0,
            previous: 0,
            hot: Vec::new(),
        })
        .collect();
    let (fs, mut total, mut negative, mut positive) = (first.to_string(), 0, 0, 0);
    for (day, topic, sentiment, n) in rows {
        let t = Topic::from_slug(&topic).unwrap_or(Topic::Other);
        let row = topics.iter_mut().find(|r| r.topic == t);
        if day < fs {
            if let Some(r) = row {
                r.previous += n;
            }
            continue;
        }
        total += n;
        if let Some(r) = row {
            r.total += n;
            if sentiment == "negative" {
                r.negative += n;
            }
        }
        let d = by_day.iter_mut().find(|d| d.day == day);
        match sentiment.as_str() {
            "negative" => negative += n,
            "positive" => positive += n,
            _ => {}
        }
        if let Some(d) = d {
            d.total += n;
            match sentiment.as_str() {
                "negative" => d.negative += n,
                "positive" => d.positive += n,
                _ => {}
            }
        }
    }
    topics.retain(|r| r.total > 0);
    topics.sort_by(|a, b| b.total.cmp(&a.total).then(a.topic.cmp(&b.topic)));
    // Hot words are told apart from the words of the whole period; each
    // text is cut into words once.
    let period: Vec<(String, String)> = sqlx::query_as(
        "SELECT topic, title || '。' || body FROM opinion_items WHERE day >= $1 AND day <= $2 \
         ORDER BY said_at DESC LIMIT 3000",
    )
    .bind(&fs)
    .bind(last.to_string())
    .fetch_all(db.pool())
    .await?;
    let cut: Vec<(String, Vec<String>)> = period
        .into_iter()
        .map(|(topic, text)| (topic, topics::words_of(&text)))
        .collect();
    let background = topics::Background::new(cut.iter().map(|(_, w)| w.as_slice()));
    for r in topics.iter_mut().take(6) {
        let group = cut
            .iter()
            .filter(|(t, _)| t == r.topic.slug())
            .take(300)
            .map(|(_, w)| w.as_slice());
        r.hot = topics::hot_among(group, &background, 5);
    }
    let sources: Vec<(String, i64)> = sqlx::query_as(
        "SELECT source, COUNT(*) FROM opinion_items WHERE day >= $1 AND day <= $2 \
         GROUP BY source ORDER BY COUNT(*) DESC, source",
    )
    .bind(&fs)
    .bind(last.to_string())
    .fetch_all(db.pool())
    .await?;
    Ok(Overview {
        first: fs,
        last: last.to_string(),
        days: by_day,
        total,
        negative,
        positive,
        topics,
        sources,
    })
}

/// Which items to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub topic: Option<Topic>,
    pub sentiment: Option<String>,
    pub source: Option<String>,
    /// Items containing this watched word.
    pub watched: Option<String>,
    /// Items whose title or text contains this.
    pub q: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub offset: i64,
    pub limit: i64,
}

/// The items matching `f`, newest first, and how many match in all.
pub async fn items(db: &Db, f: &Filter) -> Result<(Vec<Item>, i64), DomainError> {
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<String> = Vec::new();
    let mut add = |clause: &str, value: String| {
        args.push(value);
        clauses.push(clause.replace('?', &format!("${}", args.len())));
    };
    if let Some(t) = f.topic {
        add("topic = ?", t.slug().to_string());
    }
    if let Some(s) = f.sentiment.as_deref().filter(|s| !s.is_empty()) {
        add("sentiment = ?", s.to_string());
    }
    if let Some(s) = f.source.as_deref().filter(|s| !s.is_empty()) {
        add("source = ?", s.to_string());
    }
    if let Some(w) = f.watched.as_deref().filter(|s| !s.is_empty()) {
        add(
            "('、' || watched || '、') LIKE ?",
            format!("%、{}、%", super::monitor::like_escape(w)),
        );
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        // Both placeholders are the same parameter.
        add(
            "(title LIKE ? OR body LIKE ?)",
            format!("%{}%", super::monitor::like_escape(q)),
        );
    }
    if let Some(d) = f.from {
        add("day >= ?", d.to_string());
    }
    if let Some(d) = f.to {
        add("day <= ?", d.to_string());
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    let count_sql = format!("SELECT COUNT(*) FROM opinion_items{filter}");
    let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
    for a in &args {
        count = count.bind(a);
    }
    let total = count.fetch_one(db.pool()).await?;
    let list_sql = format!(
        "SELECT id, source, title, body, url, sentiment, topic, cues, watched, day, said_at \
         FROM opinion_items{filter} ORDER BY said_at DESC, id DESC LIMIT {} OFFSET {}",
        f.limit.clamp(1, 200),
        f.offset.max(0)
    );
    let mut list = sqlx::query_as::<_, Item>(sqlx::AssertSqlSafe(list_sql));
    for a in &args {
        list = list.bind(a);
    }
    Ok((list.fetch_all(db.pool()).await?, total))
}
