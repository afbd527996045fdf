//! 舆情监测: gathering what people say into one stream of items, each read
//! for sentiment and topic, and watching it — keyword watch lists and
//! spikes (a topic's items, or its negative items, far above its own usual
//! daily count) that text the staff holding 舆情监测.
//!
//! Sources: citizens' requests and the departments' answers to them, the
//! words of 好差评 ratings, comments on consultations, questions to online
//! interviews, and external RSS/Atom feeds ([`super::feeds`]). Each portal
//! source is read from where the last run stopped, so a run costs what is
//! new; personal numbers are masked before a text is kept.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::sentiment::{self, Sentiment, Source};
use super::topics::{self, Topic};
use crate::audit::{self, Entry as AuditEntry};
use crate::identity::Perm;
use crate::identity::staff::StaffSession;
use crate::{Conflict, Db, DomainError, FieldError, Tx, jobs};

/// Where an item came from.
pub const SOURCES: &[&str] = &["request", "answer", "rating", "comment", "question", "feed"];

fn reading_source(source: &str) -> Source {
    match source {
        "request" => Source::Request,
        "answer" => Source::Answer,
        "rating" => Source::Rating,
        "feed" => Source::Feed,
        _ => Source::Comment,
    }
}

/// Something said, before it is read.
#[derive(Debug, Clone)]
pub struct Said {
    pub source: &'static str,
    pub source_ref: String,
    pub feed_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub url: String,
    pub said_at: i64,
    /// A rating's own score (1–5): the rater's word on their sentiment.
    pub score: Option<i64>,
}

/// A stored item as the monitoring page shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Item {
    pub id: i64,
    pub source: String,
    pub title: String,
    pub body: String,
    pub url: String,
    pub sentiment: String,
    pub topic: String,
    pub cues: String,
    pub watched: String,
    pub day: String,
    pub said_at: i64,
}

impl Item {
    pub fn topic(&self) -> Topic {
        Topic::from_slug(&self.topic).unwrap_or(Topic::Other)
    }
}

fn clip(s: &str, n: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n).collect();
        out.push('…');
        out
    }
}

/// Reads and keeps new items (an item already kept is left as it is);
/// returns the items kept now, for the watch list.
async fn keep(db: &Db, said: Vec<Said>, watch: &[String]) -> Result<Vec<Item>, DomainError> {
    let now = db.now().timestamp();
    let mut kept = Vec::new();
    let mut tx = db.begin().await?;
    for s in said {
        let title = clip(&crate::requests::scrub(&s.title), 120);
        let body = clip(&crate::requests::scrub(&s.body), 2000);
        let text = format!("{title}。{body}");
        let reading = sentiment::read(&text, reading_source(s.source));
        let sent = match s.score {
            Some(v) if v <= 2 => Sentiment::Negative,
            Some(3) => Sentiment::Neutral,
            Some(_) => Sentiment::Positive,
            None => reading.sentiment,
        };
        let (topic, topic_cues) = topics::classify(&text);
        let mut cues = reading.cues.clone();
        cues.extend(topic_cues);
        cues.dedup();
        let watched: Vec<&str> = watch
            .iter()
            .filter(|w| text.contains(w.as_str()))
            .map(|w| w.as_str())
            .collect();
        let day =
            crate::time::local_date(DateTime::from_timestamp(s.said_at, 0).unwrap_or_default())
                .to_string();
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO opinion_items (source, source_ref, feed_id, title, body, url, sentiment, \
             score, topic, cues, watched, day, said_at, collected_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (source, source_ref) DO NOTHING RETURNING id",
        )
        .bind(s.source)
        .bind(&s.source_ref)
        .bind(s.feed_id)
        .bind(&title)
        .bind(&body)
        .bind(&s.url)
        .bind(sent.slug())
        .bind((reading.score * 1000.0) as i64)
        .bind(topic.slug())
        .bind(cues.join("、"))
        .bind(watched.join("、"))
        .bind(&day)
        .bind(s.said_at)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            kept.push(Item {
                id,
                source: s.source.to_string(),
                title,
                body,
                url: s.url,
                sentiment: sent.slug().to_string(),
                topic: topic.slug().to_string(),
                cues: cues.join("、"),
                watched: watched.join("、"),
                day,
                said_at: s.said_at,
            });
        }
    }
    tx.commit().await?;
    Ok(kept)
}

async fn cursor(db: &Db, source: &str) -> Result<i64, DomainError> {
    Ok(
        sqlx::query_scalar("SELECT upto FROM opinion_cursors WHERE source = $1")
            .bind(source)
            .fetch_optional(db.pool())
            .await?
            .unwrap_or(0),
    )
}

async fn advance(db: &Db, source: &str, upto: i64) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO opinion_cursors (source, upto) VALUES ($1, $2) \
         ON CONFLICT (source) DO UPDATE SET upto = excluded.upto",
    )
    .bind(source)
    .bind(upto)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// How many rows of one source a run reads at most (the next run goes on).
const BATCH: i64 = 2000;

/// Reads what was said on the portal since the last run, with where each
/// source's cursor moves to once these items are kept (not before: a run
/// that fails reads them again, and keeping is idempotent).
async fn portal(db: &Db) -> Result<(Vec<Said>, Vec<(&'static str, i64)>), DomainError> {
    let mut out = Vec::new();
    let mut moves = Vec::new();

    let from = cursor(db, "request").await?;
    let rows: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
        "SELECT id, number, title, body, submitted_at FROM requests WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(from)
    .bind(BATCH)
    .fetch_all(db.pool())
    .await?;
    if let Some(last) = rows.last() {
        moves.push(("request", last.0));
    }
    for (_, number, title, body, at) in rows {
        out.push(Said {
            source: "request",
            url: format!("/admin/requests/{number}"),
            source_ref: number,
            feed_id: None,
            title,
            body,
            said_at: at,
            score: None,
        });
    }

    let from = cursor(db, "answer").await?;
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT number, title, answer, answered_at FROM requests \
         WHERE answered_at > $1 AND answer <> '' ORDER BY answered_at LIMIT $2",
    )
    .bind(from)
    .bind(BATCH)
    .fetch_all(db.pool())
    .await?;
    if let Some(last) = rows.last() {
        moves.push(("answer", last.3));
    }
    for (number, title, answer, at) in rows {
        out.push(Said {
            source: "answer",
            url: format!("/admin/requests/{number}"),
            source_ref: number,
            feed_id: None,
            title: format!("答复：{title}"),
            body: answer,
            said_at: at,
            score: None,
        });
    }

    let from = cursor(db, "rating").await?;
    let rows: Vec<(i64, String, i64, String, String, i64)> = sqlx::query_as(
        "SELECT id, service_name, score, tags, comment, created_at FROM ratings \
         WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(from)
    .bind(BATCH)
    .fetch_all(db.pool())
    .await?;
    if let Some(last) = rows.last() {
        moves.push(("rating", last.0));
    }
    for (id, service, score, tags, comment, at) in rows {
        let comment = crate::pii::open(db, crate::pii::ctx::RATING_COMMENT, &comment)?;
        let body = if comment.trim().is_empty() {
            tags
        } else {
            comment
        };
        if body.trim().is_empty() {
            continue;
        }
        out.push(Said {
            source: "rating",
            source_ref: id.to_string(),
            url: format!("/admin/ratings/{id}"),
            feed_id: None,
            title: format!("评价：{service}"),
            body,
            said_at: at,
            score: Some(score),
        });
    }

    let from = cursor(db, "comment").await?;
    let rows: Vec<(i64, i64, String, String, i64)> = sqlx::query_as(
        "SELECT c.id, c.consultation_id, k.title, c.body, c.created_at FROM consultation_comments c \
         JOIN consultations k ON k.id = c.consultation_id WHERE c.id > $1 ORDER BY c.id LIMIT $2",
    )
    .bind(from)
    .bind(BATCH)
    .fetch_all(db.pool())
    .await?;
    if let Some(last) = rows.last() {
        moves.push(("comment", last.0));
    }
    for (id, consultation, title, body, at) in rows {
        out.push(Said {
            source: "comment",
            source_ref: id.to_string(),
            url: format!("/admin/consultations/{consultation}"),
            feed_id: None,
            title: format!("留言：{title}"),
            body,
            said_at: at,
            score: None,
        });
    }

    let from = cursor(db, "question").await?;
    let rows: Vec<(i64, i64, String, String, i64)> = sqlx::query_as(
        "SELECT p.id, p.interview_id, i.title, p.body, p.created_at FROM interview_posts p \
         JOIN interviews i ON i.id = p.interview_id \
         WHERE p.id > $1 AND p.kind = 'question' ORDER BY p.id LIMIT $2",
    )
    .bind(from)
    .bind(BATCH)
    .fetch_all(db.pool())
    .await?;
    if let Some(last) = rows.last() {
        moves.push(("question", last.0));
    }
    for (id, interview, title, body, at) in rows {
        out.push(Said {
            source: "question",
            source_ref: id.to_string(),
            url: format!("/admin/interviews/{interview}"),
            feed_id: None,
            title: format!("提问：{title}"),
            body,
            said_at: at,
            score: None,
        });
    }
    Ok((out, moves))
}

/// Keeps items said elsewhere (a feed's entries), read like the portal's.
pub async fn take_in(db: &Db, said: Vec<Said>) -> Result<usize, DomainError> {
    let watch = watch_words(db).await?;
    let words: Vec<String> = watch.into_iter().map(|w| w.word).collect();
    Ok(keep(db, said, &words).await?.len())
}

/// What one monitoring run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunOutcome {
    pub collected: usize,
    pub feeds_ok: usize,
    pub feeds_failed: usize,
    pub alerts: Vec<Alert>,
}

/// One monitoring run: the portal's new items, every active feed, then the
/// alert rules for today.
pub async fn run(db: &Db) -> Result<RunOutcome, DomainError> {
    let mut out = RunOutcome::default();
    loop {
        let (said, moves) = portal(db).await?;
        if moves.is_empty() {
            break;
        }
        out.collected += take_in(db, said).await?;
        for (source, upto) in moves {
            advance(db, source, upto).await?;
        }
    }
    let (ok, failed, n) = super::feeds::fetch_all(db).await?;
    out.feeds_ok = ok;
    out.feeds_failed = failed;
    out.collected += n;
    out.alerts = check_alerts(db, crate::time::local_date(db.now())).await?;
    Ok(out)
}

/// The job: the next run queued (so a failing run does not end the
/// chain), then one run.
pub async fn job(db: &Db) -> Result<(), DomainError> {
    schedule(db, db.now()).await?;
    let outcome = run(db).await?;
    tracing::info!(
        collected = outcome.collected,
        feeds_ok = outcome.feeds_ok,
        feeds_failed = outcome.feeds_failed,
        alerts = outcome.alerts.len(),
        "opinion monitoring run"
    );
    Ok(())
}

/// On a node's start: the next regular run, and on a portal that has
/// never gathered anything (a first start with the demo data) a run now,
/// so the monitoring page has figures from the beginning.
pub async fn start(db: &Db, now: DateTime<Utc>) -> Result<(), DomainError> {
    schedule(db, now).await?;
    let ran: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM opinion_cursors")
        .fetch_one(db.pool())
        .await?;
    if ran == 0 {
        let mut tx = db.begin().await?;
        jobs::enqueue(
            &mut tx,
            "opinion_collect",
            &serde_json::json!({}),
            now.timestamp(),
            Some("opinion:first"),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Queues the next run (`every_minutes` from the rules), once however many
/// nodes ask.
pub async fn schedule(db: &Db, now: DateTime<Utc>) -> Result<(), DomainError> {
    let every = rules(db).await?.every_minutes.max(1) * 60;
    let at = (now.timestamp() / every + 1) * every;
    let mut tx = db.begin().await?;
    jobs::enqueue(
        &mut tx,
        "opinion_collect",
        &serde_json::json!({}),
        at,
        Some(&format!("opinion:{at}")),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- rules

/// When a count is a spike.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rules {
    /// Days before today the usual daily count is taken from.
    pub baseline_days: i64,
    /// Fewer items than this in a day are never a spike.
    pub min_count: i64,
    /// A spike is at least this share of the usual count (200 = twice).
    pub ratio_pct: i64,
    /// Minutes between monitoring runs.
    pub every_minutes: i64,
}

pub async fn rules(db: &Db) -> Result<Rules, DomainError> {
    let (baseline_days, min_count, ratio_pct, every_minutes): (i64, i64, i64, i64) =
        sqlx::query_as(
            "SELECT baseline_days, min_count, ratio_pct, every_minutes FROM opinion_rules WHERE id = 1",
        )
        .fetch_one(db.pool())
        .await?;
    Ok(Rules {
        baseline_days,
        min_count,
        ratio_pct,
        every_minutes,
    })
}

/// Only 舆情监测 staff change what is watched and how.
pub(super) fn allowed(staff: &StaffSession) -> Result<(), DomainError> {
    if staff.can(Perm::OpinionMonitor) {
        Ok(())
    } else {
        Err(Conflict::NotAllowed.into())
    }
}

/// Changes the alert rules (audited).
pub async fn save_rules(db: &Db, staff: &StaffSession, r: &Rules) -> Result<(), DomainError> {
    allowed(staff)?;
    let mut errs = Vec::new();
    let mut range = |field: &'static str, v: i64, lo: i64, hi: i64| {
        if !(lo..=hi).contains(&v) {
            errs.push(FieldError::new(field, "out_of_range", format!("{lo}–{hi}")));
        }
    };
    range("baseline_days", r.baseline_days, 3, 90);
    range("min_count", r.min_count, 1, 10_000);
    range("ratio_pct", r.ratio_pct, 110, 1000);
    range("every_minutes", r.every_minutes, 5, 1440);
    if !errs.is_empty() {
        return Err(DomainError::Invalid(errs));
    }
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE opinion_rules SET baseline_days = $1, min_count = $2, ratio_pct = $3, \
         every_minutes = $4, updated_by = $5, updated_at = $6 WHERE id = 1",
    )
    .bind(r.baseline_days)
    .bind(r.min_count)
    .bind(r.ratio_pct)
    .bind(r.every_minutes)
    .bind(&staff.user.username)
    .bind(db.now().timestamp())
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &AuditEntry::staff(
            &staff.user.username,
            "opinion.rules",
            format!(
                "{}d ≥{} ×{}% /{}min",
                r.baseline_days, r.min_count, r.ratio_pct, r.every_minutes
            ),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- watch list

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Watch {
    pub id: i64,
    pub word: String,
    pub created_by: String,
}

pub async fn watch_words(db: &Db) -> Result<Vec<Watch>, DomainError> {
    Ok(
        sqlx::query_as("SELECT id, word, created_by FROM opinion_watch ORDER BY word")
            .fetch_all(db.pool())
            .await?,
    )
}

/// Adds a watched word (2–20 characters). Items already kept that contain
/// it are marked too, so the list behind it is complete from the start.
pub async fn add_watch(db: &Db, staff: &StaffSession, word: &str) -> Result<i64, DomainError> {
    allowed(staff)?;
    let word = word.trim();
    let n = word.chars().count();
    if n == 0 {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "word", "required", "",
        )]));
    }
    if !(2..=20).contains(&n) {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "word",
            "length_between",
            "2–20",
        )]));
    }
    let mut tx = db.begin().await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO opinion_watch (word, created_by, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (word) DO NOTHING RETURNING id",
    )
    .bind(word)
    .bind(&staff.user.username)
    .bind(db.now().timestamp())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "word", "taken", word,
        )]));
    };
    sqlx::query(
        "UPDATE opinion_items SET watched = CASE WHEN watched = '' THEN $1 ELSE watched || '、' || $1 END \
         WHERE (title LIKE $2 OR body LIKE $2)",
    )
    .bind(word)
    .bind(format!("%{}%", like_escape(word)))
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &AuditEntry::staff(&staff.user.username, "opinion.watch.add", word.to_string()),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A word for a LIKE pattern: its wildcards dropped (no watched word or
/// filter needs them).
pub(super) fn like_escape(s: &str) -> String {
    s.replace(['%', '_'], "")
}

pub async fn remove_watch(db: &Db, staff: &StaffSession, id: i64) -> Result<(), DomainError> {
    allowed(staff)?;
    let mut tx = db.begin().await?;
    let word: Option<String> =
        sqlx::query_scalar("DELETE FROM opinion_watch WHERE id = $1 RETURNING word")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(word) = word else {
        return Err(DomainError::NotFound);
    };
    audit::append(
        &mut tx,
        &AuditEntry::staff(&staff.user.username, "opinion.watch.remove", word),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- alerts

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Alert {
    pub id: i64,
    /// volume, negative or watch
    pub kind: String,
    /// A topic's slug, or the watched word.
    pub subject: String,
    pub day: String,
    pub count: i64,
    /// The usual daily count ×100.
    pub baseline: i64,
    pub seen_by: String,
    pub created_at: i64,
}

impl Alert {
    pub fn topic(&self) -> Option<Topic> {
        (self.kind != "watch")
            .then(|| Topic::from_slug(&self.subject))
            .flatten()
    }
    /// The usual daily count, as people read it (1.4).
    pub fn usual(&self) -> String {
        format!("{:.1}", self.baseline as f64 / 100.0)
    }
}

/// Whether `count` today is a spike against the daily counts before it
/// (the days with none count as zero).
pub fn is_spike(rules: &Rules, count: i64, history: &[i64]) -> bool {
    if count < rules.min_count.max(1) {
        return false;
    }
    let days = history.len().max(1) as f64;
    let mean = history.iter().sum::<i64>() as f64 / days;
    let var = history
        .iter()
        .map(|c| (*c as f64 - mean).powi(2))
        .sum::<f64>()
        / days;
    // Far above what a usual day varies by, and well above the usual count
    // (a quiet topic's first few items are not a spike unless min_count says so).
    let by_ratio = count as f64 * 100.0 >= mean.max(1.0) * rules.ratio_pct as f64;
    let by_spread = count as f64 > mean + 3.0 * var.sqrt();
    by_ratio && by_spread
}

/// Daily counts per topic (all items, negative items) over `days` days
/// ending on `last`.
async fn daily_counts(
    db: &Db,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Vec<(String, String, i64, i64)>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT topic, day, COUNT(*), SUM(CASE WHEN sentiment = 'negative' THEN 1 ELSE 0 END) \
         FROM opinion_items WHERE day >= $1 AND day <= $2 GROUP BY topic, day",
    )
    .bind(first.to_string())
    .bind(last.to_string())
    .fetch_all(db.pool())
    .await?)
}

/// Applies the rules to `today`: a topic whose items or negative items
/// spike, and each watched word seen today, raise an alert (one per
/// subject a day; its count is kept current). New alerts text the staff
/// who hold 舆情监测. Returns the alerts raised now.
pub async fn check_alerts(db: &Db, today: NaiveDate) -> Result<Vec<Alert>, DomainError> {
    let rules = rules(db).await?;
    let first = today - Duration::days(rules.baseline_days);
    let counts = daily_counts(db, first, today).await?;
    let mut candidates: Vec<(&'static str, String, i64, i64)> = Vec::new();
    for topic in Topic::ALL {
        let mut hist_all = Vec::new();
        let mut hist_neg = Vec::new();
        let (mut now_all, mut now_neg) = (0, 0);
        let mut d = first;
        while d <= today {
            let ds = d.to_string();
            let (a, n) = counts
                .iter()
                .find(|(t, day, _, _)| t == topic.slug() && *day == ds)
                .map(|(_, _, a, n)| (*a, *n))
                .unwrap_or((0, 0));
            if d == today {
                (now_all, now_neg) = (a, n);
            } else {
                hist_all.push(a);
                hist_neg.push(n);
            }
            d += Duration::days(1);
        }
        let mean = |h: &[i64]| (h.iter().sum::<i64>() * 100) / h.len().max(1) as i64;
        if is_spike(&rules, now_all, &hist_all) {
            candidates.push(("volume", topic.slug().to_string(), now_all, mean(&hist_all)));
        }
        if is_spike(&rules, now_neg, &hist_neg) {
            candidates.push((
                "negative",
                topic.slug().to_string(),
                now_neg,
                mean(&hist_neg),
            ));
        }
    }
    for w in watch_words(db).await? {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM opinion_items WHERE day = $1 AND watched <> '' \
             AND ('、' || watched || '、') LIKE $2",
        )
        .bind(today.to_string())
        .bind(format!("%、{}、%", like_escape(&w.word)))
        .fetch_one(db.pool())
        .await?;
        if n > 0 {
            candidates.push(("watch", w.word, n, 0));
        }
    }
    let now = db.now().timestamp();
    let mut raised = Vec::new();
    let mut tx = db.begin().await?;
    for (kind, subject, count, baseline) in candidates {
        let new: Option<i64> = sqlx::query_scalar(
            "INSERT INTO opinion_alerts (kind, subject, day, count, baseline, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, subject, day) DO NOTHING RETURNING id",
        )
        .bind(kind)
        .bind(&subject)
        .bind(today.to_string())
        .bind(count)
        .bind(baseline)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        match new {
            Some(id) => {
                let alert = Alert {
                    id,
                    kind: kind.to_string(),
                    subject,
                    day: today.to_string(),
                    count,
                    baseline,
                    seen_by: String::new(),
                    created_at: now,
                };
                tell(&mut tx, db, &alert).await?;
                raised.push(alert);
            }
            None => {
                sqlx::query(
                    "UPDATE opinion_alerts SET count = $1 WHERE kind = $2 AND subject = $3 AND day = $4",
                )
                .bind(count)
                .bind(kind)
                .bind(&subject)
                .bind(today.to_string())
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(raised)
}

/// Texts the 舆情监测 staff about a new alert.
async fn tell(tx: &mut Tx, db: &Db, a: &Alert) -> Result<(), DomainError> {
    let text = match a.kind.as_str() {
        "watch" => format!(
            "舆情提醒：今日已有{}条信息提到关注词“{}”，请登录舆情监测查看。",
            a.count, a.subject
        ),
        "negative" => format!(
            "舆情预警：“{}”今日负面信息{}条，平日约{}条，请及时研判。",
            a.topic().map(|t| t.label()).unwrap_or("其他"),
            a.count,
            a.usual()
        ),
        _ => format!(
            "舆情预警：“{}”今日信息{}条，平日约{}条，请及时研判。",
            a.topic().map(|t| t.label()).unwrap_or("其他"),
            a.count,
            a.usual()
        ),
    };
    crate::notify::text_holders(tx, db, None, Perm::OpinionMonitor, &text).await
}

/// Recent alerts, newest first.
pub async fn alerts(db: &Db, limit: i64) -> Result<Vec<Alert>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT id, kind, subject, day, count, baseline, seen_by, created_at FROM opinion_alerts \
         ORDER BY day DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// Marks an alert as looked into (by whom is kept).
pub async fn mark_seen(db: &Db, staff: &StaffSession, id: i64) -> Result<(), DomainError> {
    allowed(staff)?;
    let mut tx = db.begin().await?;
    let seen: Option<String> =
        sqlx::query_scalar("SELECT seen_by FROM opinion_alerts WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    match seen {
        None => return Err(DomainError::NotFound),
        // Someone already looked into it: their name stays.
        Some(by) if !by.is_empty() => return Ok(()),
        Some(_) => {}
    }
    sqlx::query("UPDATE opinion_alerts SET seen_by = $1 WHERE id = $2")
        .bind(&staff.user.username)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        &AuditEntry::staff(&staff.user.username, "opinion.alert.seen", id.to_string()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
