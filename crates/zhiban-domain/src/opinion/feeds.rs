//! External RSS/Atom feeds staff configure for 舆情监测 (local news sites,
//! a 问政 column, a forum's board): fetched on every monitoring run, each
//! new entry kept as an item and read like the portal's own.

use serde::Serialize;

use super::monitor::{self, Said, allowed};
use crate::audit::{self, Entry as AuditEntry};
use crate::identity::staff::StaffSession;
use crate::{Db, DomainError, FieldError};

/// The largest feed document read.
const MAX_BYTES: usize = 4 * 1024 * 1024;
/// How long one fetch may take.
const TIMEOUT_SECS: u64 = 20;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Feed {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub active: i64,
    pub fetched_at: Option<i64>,
    pub last_error: String,
    pub created_by: String,
}

/// Feeds with how many items each has given.
pub async fn list(db: &Db) -> Result<Vec<(Feed, i64)>, DomainError> {
    let feeds: Vec<Feed> = sqlx::query_as(
        "SELECT id, name, url, active, fetched_at, last_error, created_by FROM opinion_feeds ORDER BY name, id",
    )
    .fetch_all(db.pool())
    .await?;
    let counts: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT feed_id, COUNT(*) FROM opinion_items WHERE feed_id IS NOT NULL GROUP BY feed_id",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(feeds
        .into_iter()
        .map(|f| {
            let n = counts
                .iter()
                .find(|(id, _)| *id == f.id)
                .map(|c| c.1)
                .unwrap_or(0);
            (f, n)
        })
        .collect())
}

/// Adds a feed (a name and an http(s) address), audited.
pub async fn add(db: &Db, staff: &StaffSession, name: &str, url: &str) -> Result<i64, DomainError> {
    allowed(staff)?;
    let (name, url) = (name.trim(), url.trim());
    let mut errs = Vec::new();
    if name.is_empty() {
        errs.push(FieldError::new("feed_name", "required", ""));
    } else if name.chars().count() > 40 {
        errs.push(FieldError::new("feed_name", "too_long", "40"));
    }
    let parsed = reqwest::Url::parse(url).ok();
    if url.is_empty() {
        errs.push(FieldError::new("feed_url", "required", ""));
    } else if !matches!(parsed.as_ref().map(|u| u.scheme()), Some("http" | "https"))
        || parsed.as_ref().and_then(|u| u.host_str()).is_none()
        || url.len() > 500
    {
        errs.push(FieldError::new("feed_url", "invalid_url", url));
    }
    if !errs.is_empty() {
        return Err(DomainError::Invalid(errs));
    }
    let mut tx = db.begin().await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO opinion_feeds (name, url, created_by, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (url) DO NOTHING RETURNING id",
    )
    .bind(name)
    .bind(url)
    .bind(&staff.user.username)
    .bind(db.now().timestamp())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "feed_url", "taken", url,
        )]));
    };
    audit::append(
        &mut tx,
        &AuditEntry::staff(&staff.user.username, "opinion.feed.add", url.to_string()),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Turns a feed on or off (its items stay).
pub async fn set_active(
    db: &Db,
    staff: &StaffSession,
    id: i64,
    active: bool,
) -> Result<(), DomainError> {
    allowed(staff)?;
    let mut tx = db.begin().await?;
    let n = sqlx::query("UPDATE opinion_feeds SET active = $1 WHERE id = $2")
        .bind(i64::from(active))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(DomainError::NotFound);
    }
    audit::append(
        &mut tx,
        &AuditEntry::staff(
            &staff.user.username,
            if active {
                "opinion.feed.on"
            } else {
                "opinion.feed.off"
            },
            id.to_string(),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Text without markup: feeds put HTML in summaries.
fn plain(html: &str) -> String {
    crate::content::rich_text::text_of(html)
}

/// A feed document's entries as items of this feed. RSS 0.9x/1.0/2.0,
/// Atom and JSON Feed are all read (feed-rs).
pub fn entries(feed_id: i64, body: &[u8], now: i64) -> Result<Vec<Said>, String> {
    let doc = feed_rs::parser::parse(body).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for e in doc.entries {
        let title = e.title.map(|t| plain(&t.content)).unwrap_or_default();
        let summary = e
            .summary
            .map(|t| plain(&t.content))
            .or_else(|| e.content.and_then(|c| c.body).map(|b| plain(&b)))
            .unwrap_or_default();
        if title.is_empty() && summary.is_empty() {
            continue;
        }
        let link = e
            .links
            .first()
            .map(|l| l.href.clone())
            .filter(|h| h.starts_with("http://") || h.starts_with("https://"))
            .unwrap_or_default();
        let said_at = e
            .published
            .or(e.updated)
            .map(|d| d.timestamp())
            .unwrap_or(now)
            .min(now);
        let key = if e.id.is_empty() { link.clone() } else { e.id };
        out.push(Said {
            source: "feed",
            source_ref: format!("{feed_id}:{}", clip_key(&key, &title)),
            feed_id: Some(feed_id),
            title,
            body: summary,
            url: link,
            said_at,
            score: None,
        });
    }
    Ok(out)
}

/// An entry's identity: its id or link, or failing both its title.
fn clip_key(key: &str, title: &str) -> String {
    let k = if key.trim().is_empty() { title } else { key };
    k.chars().take(300).collect()
}

async fn download(url: &str) -> Result<Vec<u8>, String> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(TIMEOUT_SECS))
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent("Zhiban opinion monitor")
        .build()
        .map_err(|e| e.to_string())?;
    let mut res = client.get(url).send().await.map_err(|e| e.to_string())?;
    if !res.status().is_success() {
        return Err(format!("HTTP {}", res.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| e.to_string())? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BYTES {
            return Err(format!("larger than {} MB", MAX_BYTES / 1024 / 1024));
        }
    }
    Ok(body)
}

/// Fetches one feed and keeps its new entries; the outcome (or why it
/// failed) is kept on the feed for the page.
pub async fn fetch(db: &Db, feed: &Feed) -> Result<Result<usize, String>, DomainError> {
    let now = db.now().timestamp();
    let got = match download(&feed.url).await {
        Ok(body) => entries(feed.id, &body, now),
        Err(e) => Err(e),
    };
    let outcome = match got {
        Ok(said) => Ok(monitor::take_in(db, said).await?),
        Err(e) => Err(e),
    };
    sqlx::query("UPDATE opinion_feeds SET fetched_at = $1, last_error = $2 WHERE id = $3")
        .bind(now)
        .bind(
            outcome
                .as_ref()
                .err()
                .map(|e| clip_err(e))
                .unwrap_or_default(),
        )
        .bind(feed.id)
        .execute(db.pool())
        .await?;
    if let Err(e) = &outcome {
        tracing::warn!(feed = feed.id, error = %e, "opinion feed fetch failed");
    }
    Ok(outcome)
}

fn clip_err(e: &str) -> String {
    e.chars().take(300).collect()
}

/// Fetches every active feed: (feeds that worked, feeds that failed, items kept).
pub async fn fetch_all(db: &Db) -> Result<(usize, usize, usize), DomainError> {
    let feeds: Vec<Feed> = sqlx::query_as(
        "SELECT id, name, url, active, fetched_at, last_error, created_by FROM opinion_feeds \
         WHERE active = 1 ORDER BY id",
    )
    .fetch_all(db.pool())
    .await?;
    let (mut ok, mut failed, mut kept) = (0, 0, 0);
    for f in &feeds {
        match fetch(db, f).await? {
            Ok(n) => {
                ok += 1;
                kept += n;
            }
            Err(_) => failed += 1,
        }
    }
    Ok((ok, failed, kept))
}

/// Fetches one feed now (the 立即抓取 button).
pub async fn fetch_now(
    db: &Db,
    staff: &StaffSession,
    id: i64,
) -> Result<Result<usize, String>, DomainError> {
    allowed(staff)?;
    let feed: Option<Feed> = sqlx::query_as(
        "SELECT id, name, url, active, fetched_at, last_error, created_by FROM opinion_feeds WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    let feed = feed.ok_or(DomainError::NotFound)?;
    fetch(db, &feed).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_and_atom_entries_become_items() {
        let rss = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>渝州晚报</title>
<item><title>幸福路夜间施工扰民</title><link>https://news.example.cn/a/1</link>
<guid>a1</guid><description>&lt;p&gt;居民反映&lt;b&gt;噪音&lt;/b&gt;太大&lt;/p&gt;</description>
<pubDate>Mon, 07 Dec 2026 08:00:00 +0800</pubDate></item>
</channel></rss>"#;
        let items = entries(7, rss.as_bytes(), 2_000_000_000).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].title, "幸福路夜间施工扰民");
        assert_eq!(items[0].body, "居民反映 噪音 太大");
        assert_eq!(items[0].url, "https://news.example.cn/a/1");
        assert_eq!(items[0].source_ref, "7:a1");
        assert_eq!(items[0].said_at, 1_796_601_600);

        let atom = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>问政</title><id>urn:x</id><updated>2026-12-07T00:00:00Z</updated>
<entry><title>点赞政务中心</title><id>urn:e:1</id><updated>2026-12-06T00:00:00Z</updated>
<link href="https://forum.example.cn/t/9"/><summary>窗口服务很耐心</summary></entry></feed>"#;
        let items = entries(8, atom.as_bytes(), 2_000_000_000).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].url, "https://forum.example.cn/t/9");
        assert_eq!(items[0].source_ref, "8:urn:e:1");
        assert!(entries(8, b"not a feed", 0).is_err());
    }
}
