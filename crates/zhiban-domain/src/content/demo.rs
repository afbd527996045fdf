//! The demo sites, channels and articles (演示数据): the city portal, the
//! police bureau and two districts, with articles spread over the past
//! months so the lists and site health look like a real site's.

use super::{ArticleKind, KindFields, rich_text};
use crate::{Db, DomainError};

pub const ARTICLES_TSV: &str = include_str!("../../demo/articles.tsv");

/// (site code, name, owning unit's code, review stages)
const SITES: &[(&str, &str, &str, i64)] = &[
    ("city", "渝州市人民政府", "500000", 2),
    ("police", "渝州市公安局", "500000-GA", 2),
    ("500103", "渝中区人民政府", "500103", 1),
    ("500105", "江北区人民政府", "500105", 1),
];

/// (site, channel code, name, kind, days before it counts as not updated)
const CHANNELS: &[(&str, &str, &str, ArticleKind, i64)] = &[
    ("city", "yaowen", "要闻动态", ArticleKind::News, 14),
    ("city", "bumen", "部门动态", ArticleKind::News, 14),
    ("city", "tongzhi", "通知公告", ArticleKind::Notice, 180),
    ("city", "bianmin", "便民公告", ArticleKind::Bulletin, 180),
    ("police", "jingwu", "警务动态", ArticleKind::News, 14),
    (
        "police",
        "jingqing",
        "警情通报",
        ArticleKind::PoliceReport,
        180,
    ),
    (
        "police",
        "bianmin",
        "交通管制与便民公告",
        ArticleKind::Bulletin,
        180,
    ),
    (
        "police",
        "fanzha",
        "反诈警示",
        ArticleKind::CaseWarning,
        180,
    ),
    ("police", "tongzhi", "通知公告", ArticleKind::Notice, 180),
    ("500103", "dongtai", "区县动态", ArticleKind::News, 14),
    ("500103", "tongzhi", "通知公告", ArticleKind::Notice, 180),
    ("500105", "dongtai", "区县动态", ArticleKind::News, 14),
    ("500105", "tongzhi", "通知公告", ArticleKind::Notice, 180),
];

/// Who demo articles are attributed to.
const DEMO_ACTOR: &str = "演示数据";

/// Loads the demo sites and articles when there are no sites yet (in one
/// transaction: all of it or nothing).
pub async fn load_if_empty(db: &Db) -> Result<bool, DomainError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM content_sites")
        .fetch_one(db.pool())
        .await?;
    if n > 0 {
        return Ok(false);
    }
    let mut tx = db.begin().await?;
    for (i, (code, name, unit, stages)) in SITES.iter().enumerate() {
        let unit_id: Option<i64> = sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
            .bind(unit)
            .fetch_optional(&mut *tx)
            .await?;
        // A deployment without the demo org tree gets no demo sites.
        let Some(unit_id) = unit_id else {
            return Ok(false);
        };
        sqlx::query(
            "INSERT INTO content_sites (code, name, unit_id, review_stages, position) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(code)
        .bind(name)
        .bind(unit_id)
        .bind(stages)
        .bind(i as i64)
        .execute(&mut *tx)
        .await?;
    }
    for (i, (site, code, name, kind, stale)) in CHANNELS.iter().enumerate() {
        sqlx::query(
            "INSERT INTO content_channels (site_id, code, name, kind, stale_days, position) \
             SELECT id, $2, $3, $4, $5, $6 FROM content_sites WHERE code = $1",
        )
        .bind(site)
        .bind(code)
        .bind(name)
        .bind(kind.slug())
        .bind(stale)
        .bind(i as i64)
        .execute(&mut *tx)
        .await?;
    }
    let now = tx.now().timestamp();
    let today = crate::time::local_date(tx.now());
    for line in ARTICLES_TSV.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [channels, kind, days, source, title, body, rest @ ..] = cols.as_slice() else {
            return Err(DomainError::Internal("demo article line"));
        };
        let kind = ArticleKind::from_slug(kind).ok_or(DomainError::Internal("demo kind"))?;
        let days: i64 = days
            .parse()
            .map_err(|_| DomainError::Internal("demo days"))?;
        let body = rich_text::clean(&body.replace("\\n", "\n\n")).html;
        let mut fields = KindFields::default();
        if let [starts, ends, area] = rest {
            let day = |s: &str| {
                s.parse::<i64>()
                    .ok()
                    .map(|d| today + chrono::Duration::days(d))
            };
            fields.starts_on = day(starts);
            fields.ends_on = day(ends);
            fields.area = (*area).to_string();
        }
        // In office hours (09:00–16:00 Beijing time), like real publishing.
        let day = today - chrono::Duration::days(days);
        let hour = 9 + (title.chars().count() % 8) as u32;
        let at = crate::time::at_local(day, hour, 30).min(now);
        let mut targets = Vec::new();
        for c in channels.split(',') {
            let (site, code) = c
                .split_once(':')
                .ok_or(DomainError::Internal("demo channel"))?;
            let id: Option<i64> = sqlx::query_scalar(
                "SELECT c.id FROM content_channels c JOIN content_sites s ON s.id = c.site_id \
                 WHERE s.code = $1 AND c.code = $2",
            )
            .bind(site)
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?;
            targets.push((site, id.ok_or(DomainError::Internal("demo channel"))?));
        }
        let home = targets[0].0;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO articles (site_id, kind, title, summary, body, source, fields, state, \
             stage, version, author, live_version, live_from, first_published_at, created_by, \
             created_at, updated_at) SELECT id, $2, $3, '', $4, $5, $6, 'published', 0, 1, $7, \
             1, $8, $8, $7, $8, $8 FROM content_sites WHERE code = $1 RETURNING id",
        )
        .bind(home)
        .bind(kind.slug())
        .bind(title)
        .bind(&body)
        .bind(source)
        .bind(fields.to_json())
        .bind(DEMO_ACTOR)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO article_versions (article_id, version, title, summary, body, source, \
             fields, saved_by, saved_at) VALUES ($1, 1, $2, '', $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(title)
        .bind(&body)
        .bind(source)
        .bind(fields.to_json())
        .bind(DEMO_ACTOR)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        for (_, channel) in &targets {
            sqlx::query("INSERT INTO article_channels (article_id, channel_id) VALUES ($1, $2)")
                .bind(id)
                .bind(channel)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO article_events (article_id, action, stage, version, actor, note, at) \
             VALUES ($1, 'publish', 0, 1, $2, '', $3)",
        )
        .bind(id)
        .bind(DEMO_ACTOR)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}
