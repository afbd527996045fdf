//! What staff and citizens read: sites and channels, an article with its
//! history for staff, and the published versions for everyone.

use super::workflow::stage_code;
use super::{ArticleAction, ArticleKind, ArticleState, Channel, KindFields, Site};
use crate::identity::scope;
use crate::identity::staff::StaffSession;
use crate::{Db, DomainError};

pub async fn sites(db: &Db) -> Result<Vec<Site>, DomainError> {
    let rows: Vec<(i64, String, String, i64, i64)> = sqlx::query_as(
        "SELECT id, code, name, unit_id, review_stages FROM content_sites ORDER BY position, id",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, code, name, unit_id, review_stages)| Site {
            id,
            code,
            name,
            unit_id,
            review_stages,
        })
        .collect())
}

pub async fn site(db: &Db, code: &str) -> Result<Option<Site>, DomainError> {
    Ok(sites(db).await?.into_iter().find(|s| s.code == code))
}

/// The sites a staff member's scope covers.
pub async fn sites_in_scope(db: &Db, actor: &StaffSession) -> Result<Vec<Site>, DomainError> {
    Ok(sites(db)
        .await?
        .into_iter()
        .filter(|s| actor.scope.covers(s.unit_id))
        .collect())
}

type ChannelRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
);

/// Every channel of every site, in site and menu order.
pub async fn channels(db: &Db) -> Result<Vec<Channel>, DomainError> {
    let rows: Vec<ChannelRow> = sqlx::query_as(
        "SELECT c.id, c.site_id, s.code, s.name, c.code, c.name, c.kind, c.stale_days, c.lead \
         FROM content_channels c JOIN content_sites s ON s.id = c.site_id \
         ORDER BY s.position, s.id, c.position, c.id",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(
            |(id, site_id, site_code, site_name, code, name, kind, stale_days, lead)| {
                Some(Channel {
                    id,
                    site_id,
                    site_code,
                    site_name,
                    code,
                    name,
                    kind: ArticleKind::from_slug(&kind)?,
                    stale_days,
                    lead,
                })
            },
        )
        .collect())
}

/// A row of the staff list.
#[derive(Debug, Clone)]
pub struct StaffRow {
    pub id: i64,
    pub title: String,
    pub kind: ArticleKind,
    pub site_name: String,
    pub state: ArticleState,
    /// The stage under review (`first`, `second`, `final`), while in review.
    pub stage_code: &'static str,
    pub live: bool,
    pub live_from: Option<i64>,
    pub updated_at: i64,
    pub author: String,
}

/// Which articles the staff list shows.
#[derive(Debug, Clone, Default)]
pub struct StaffFilter {
    pub state: Option<ArticleState>,
    pub site: Option<String>,
    /// Only texts waiting for a review this person may give (not their own).
    pub to_review: bool,
}

/// Articles of the sites in the actor's scope, most recently changed first.
pub async fn staff_list(
    db: &Db,
    actor: &StaffSession,
    filter: &StaffFilter,
    limit: i64,
) -> Result<Vec<StaffRow>, DomainError> {
    let sites: Vec<Site> = sites_in_scope(db, actor)
        .await?
        .into_iter()
        .filter(|s| filter.site.as_deref().is_none_or(|c| c == s.code))
        .collect();
    if sites.is_empty() {
        return Ok(Vec::new());
    }
    // Site ids come from the database, not from input.
    let ids: Vec<String> = sites.iter().map(|s| s.id.to_string()).collect();
    let mut sql = format!(
        "SELECT a.id, a.title, a.kind, s.name, a.state, a.stage, s.review_stages, \
         a.live_version, a.live_from, a.updated_at, a.author FROM articles a \
         JOIN content_sites s ON s.id = a.site_id WHERE a.site_id IN ({})",
        ids.join(", ")
    );
    let state = if filter.to_review {
        Some(ArticleState::InReview)
    } else {
        filter.state
    };
    if state.is_some() {
        sql.push_str(" AND a.state = $1");
    } else {
        sql.push_str(" AND $1 = $1");
    }
    if filter.to_review {
        sql.push_str(
            " AND a.author <> $2 AND NOT EXISTS (SELECT 1 FROM article_events e \
             WHERE e.article_id = a.id AND e.action = 'approve' AND e.actor = $2 \
             AND e.id > (SELECT COALESCE(MAX(x.id), 0) FROM article_events x \
             WHERE x.article_id = a.id AND x.action = 'submit'))",
        );
    } else {
        sql.push_str(" AND $2 = $2");
    }
    sql.push_str(" ORDER BY a.updated_at DESC, a.id DESC LIMIT $3");
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        i64,
        i64,
        Option<i64>,
        Option<i64>,
        i64,
        String,
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(state.map(|s| s.slug()).unwrap_or(""))
        .bind(&actor.user.username)
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let state = ArticleState::from_slug(&r.4)?;
            Some(StaffRow {
                id: r.0,
                title: r.1,
                kind: ArticleKind::from_slug(&r.2)?,
                site_name: r.3,
                stage_code: if state == ArticleState::InReview {
                    stage_code(r.5, r.6)
                } else {
                    ""
                },
                state,
                live: r.7.is_some(),
                live_from: r.8,
                updated_at: r.9,
                author: r.10,
            })
        })
        .collect())
}

/// One step of an article's history.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: ArticleAction,
    pub stage_code: &'static str,
    pub version: i64,
    pub actor: String,
    pub note: String,
    pub at: i64,
}

/// A saved version (newest first in lists).
#[derive(Debug, Clone)]
pub struct Version {
    pub version: i64,
    pub title: String,
    pub body: String,
    pub saved_by: String,
    pub saved_at: i64,
}

/// Everything the staff page of one article shows.
#[derive(Debug, Clone)]
pub struct Detail {
    pub id: i64,
    pub site: Site,
    pub kind: ArticleKind,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub source: String,
    pub fields: KindFields,
    pub state: ArticleState,
    pub stage: i64,
    pub stage_code: &'static str,
    pub version: i64,
    pub author: String,
    pub publish_at: Option<i64>,
    pub unpublish_at: Option<i64>,
    pub live_version: Option<i64>,
    pub live_from: Option<i64>,
    pub live_until: Option<i64>,
    pub withdrawn_reason: String,
    pub revision: i64,
    pub channels: Vec<i64>,
    pub events: Vec<Event>,
    pub versions: Vec<Version>,
    /// Who approved earlier stages of the current round.
    pub approvers: Vec<String>,
}

type DetailRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// One article for staff, refused (audited, answered as missing) outside
/// the actor's scope.
pub async fn detail(db: &Db, actor: &StaffSession, id: i64) -> Result<Detail, DomainError> {
    let r: Option<DetailRow> = sqlx::query_as(
        "SELECT site_id, kind, title, summary, body, source, fields, state, stage, version, \
         author, publish_at, unpublish_at, live_version, live_from, live_until \
         FROM articles WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    let r = r.ok_or(DomainError::NotFound)?;
    // (Past the sixteen columns a tuple row holds.)
    let (revision, withdrawn_reason): (i64, String) =
        sqlx::query_as("SELECT revision, withdrawn_reason FROM articles WHERE id = $1")
            .bind(id)
            .fetch_one(db.pool())
            .await?;
    let site = sites(db)
        .await?
        .into_iter()
        .find(|s| s.id == r.0)
        .ok_or(DomainError::NotFound)?;
    scope::require_unit(db, actor, Some(site.unit_id), &format!("article:{id}")).await?;
    let state = ArticleState::from_slug(&r.7).ok_or(DomainError::Internal("article state"))?;
    let channels: Vec<i64> =
        sqlx::query_scalar("SELECT channel_id FROM article_channels WHERE article_id = $1")
            .bind(id)
            .fetch_all(db.pool())
            .await?;
    let events: Vec<(String, i64, i64, String, String, i64)> = sqlx::query_as(
        "SELECT action, stage, version, actor, note, at FROM article_events \
         WHERE article_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    let last_submit = events.iter().rposition(|e| e.0 == "submit");
    let approvers = events
        .iter()
        .enumerate()
        .filter(|(i, e)| e.0 == "approve" && last_submit.is_some_and(|s| *i > s))
        .map(|(_, e)| e.3.clone())
        .collect();
    let stages = site.review_stages;
    let versions: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
        "SELECT version, title, body, saved_by, saved_at FROM article_versions \
         WHERE article_id = $1 ORDER BY version DESC",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    Ok(Detail {
        id,
        kind: ArticleKind::from_slug(&r.1).ok_or(DomainError::Internal("article kind"))?,
        title: r.2,
        summary: r.3,
        body: r.4,
        source: r.5,
        fields: KindFields::from_json(&r.6),
        stage_code: if state == ArticleState::InReview {
            stage_code(r.8, stages)
        } else {
            ""
        },
        state,
        stage: r.8,
        version: r.9,
        author: r.10,
        publish_at: r.11,
        unpublish_at: r.12,
        live_version: r.13,
        live_from: r.14,
        live_until: r.15,
        withdrawn_reason,
        revision,
        channels,
        events: events
            .into_iter()
            .filter_map(|(action, stage, version, actor, note, at)| {
                Some(Event {
                    action: ArticleAction::from_slug(&action)?,
                    stage_code: if stage > 0 {
                        stage_code(stage, stages)
                    } else {
                        ""
                    },
                    version,
                    actor,
                    note,
                    at,
                })
            })
            .collect(),
        versions: versions
            .into_iter()
            .map(|(version, title, body, saved_by, saved_at)| Version {
                version,
                title,
                body,
                saved_by,
                saved_at,
            })
            .collect(),
        approvers,
        site,
    })
}

/// A published article as citizens read it (its approved version).
#[derive(Debug, Clone)]
pub struct Live {
    pub id: i64,
    pub site_code: String,
    pub site_name: String,
    pub kind: ArticleKind,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub source: String,
    pub fields: KindFields,
    /// The date shown: when it was first published.
    pub published_at: i64,
    /// When the version shown was approved (differs after a revision).
    pub updated_at: i64,
    /// Channels it appears in: (site code, channel code, channel name).
    pub channels: Vec<(String, String, String)>,
    /// The approved version shown (its files are the ones citizens get).
    pub version: i64,
}

/// What happened to an article a citizen asks for.
#[derive(Debug, Clone)]
pub enum PublicArticle {
    Live(Box<Live>),
    /// Taken down, with the reason (the page says so rather than 404).
    Withdrawn {
        title: String,
        reason: String,
    },
    /// Never published, not yet, or no longer (scheduled unpublish).
    Missing,
}

/// An article for citizens: only its approved version, only while it is
/// live at `db.now()`.
pub async fn public(db: &Db, id: i64) -> Result<PublicArticle, DomainError> {
    let now = db.now().timestamp();
    type Row = (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        i64,
        i64,
        i64,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT s.code, s.name, a.kind, v.title, v.summary, v.body, v.source, v.fields, \
         a.first_published_at, a.live_from, a.live_version FROM articles a \
         JOIN content_sites s ON s.id = a.site_id \
         JOIN article_versions v ON v.article_id = a.id AND v.version = a.live_version \
         WHERE a.id = $1 AND a.live_from <= $2 AND (a.live_until IS NULL OR a.live_until > $2)",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else {
        let gone: Option<(String, String, String)> = sqlx::query_as(
            "SELECT state, title, withdrawn_reason FROM articles WHERE id = $1 \
             AND first_published_at IS NOT NULL",
        )
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
        return Ok(match gone {
            Some((state, title, reason)) if state == ArticleState::Withdrawn.slug() => {
                PublicArticle::Withdrawn { title, reason }
            }
            _ => PublicArticle::Missing,
        });
    };
    let channels: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT s.code, c.code, c.name FROM article_channels ac \
         JOIN content_channels c ON c.id = ac.channel_id \
         JOIN content_sites s ON s.id = c.site_id WHERE ac.article_id = $1 \
         ORDER BY s.position, c.position",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    Ok(PublicArticle::Live(Box::new(Live {
        id,
        site_code: r.0,
        site_name: r.1,
        kind: ArticleKind::from_slug(&r.2).ok_or(DomainError::Internal("article kind"))?,
        title: r.3,
        summary: r.4,
        body: r.5,
        source: r.6,
        fields: KindFields::from_json(&r.7),
        published_at: r.8,
        updated_at: r.9,
        channels,
        version: r.10,
    })))
}

/// A line of a public list.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: i64,
    pub title: String,
    pub kind: ArticleKind,
    pub published_at: i64,
    pub fields: KindFields,
}

/// Live articles of one channel, newest first, and how many there are.
pub async fn in_channel(
    db: &Db,
    channel_id: i64,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Item>, i64), DomainError> {
    let now = db.now().timestamp();
    let live = "a.live_from <= $2 AND (a.live_until IS NULL OR a.live_until > $2)";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM article_channels ac JOIN articles a ON a.id = ac.article_id \
         WHERE ac.channel_id = $1 AND {live}"
    )))
    .bind(channel_id)
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    let rows: Vec<(i64, String, String, i64, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT a.id, v.title, a.kind, a.first_published_at, v.fields \
             FROM article_channels ac JOIN articles a ON a.id = ac.article_id \
             JOIN article_versions v ON v.article_id = a.id AND v.version = a.live_version \
             WHERE ac.channel_id = $1 AND {live} \
             ORDER BY a.first_published_at DESC, a.id DESC LIMIT $3 OFFSET $4"
        )))
        .bind(channel_id)
        .bind(now)
        .bind(limit)
        .bind(offset)
        .fetch_all(db.pool())
        .await?;
    Ok((items(rows), total))
}

/// The newest live articles of one site's channels of the given kinds (the
/// home pages' lists).
pub async fn latest(
    db: &Db,
    site_code: &str,
    kinds: &[ArticleKind],
    limit: i64,
) -> Result<Vec<Item>, DomainError> {
    let now = db.now().timestamp();
    // Kind slugs come from the closed vocabulary, not input.
    let kinds: Vec<String> = kinds.iter().map(|k| format!("'{}'", k.slug())).collect();
    let rows: Vec<(i64, String, String, i64, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT a.id, v.title, a.kind, a.first_published_at, v.fields FROM articles a \
             JOIN article_versions v ON v.article_id = a.id AND v.version = a.live_version \
             WHERE a.live_from <= $2 AND (a.live_until IS NULL OR a.live_until > $2) \
             AND a.kind IN ({}) AND a.id IN (SELECT ac.article_id FROM article_channels ac \
             JOIN content_channels c ON c.id = ac.channel_id \
             JOIN content_sites s ON s.id = c.site_id WHERE s.code = $1) \
             ORDER BY a.first_published_at DESC, a.id DESC LIMIT $3",
            kinds.join(", ")
        )))
        .bind(site_code)
        .bind(now)
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    Ok(items(rows))
}

fn items(rows: Vec<(i64, String, String, i64, String)>) -> Vec<Item> {
    rows.into_iter()
        .filter_map(|(id, title, kind, published_at, fields)| {
            Some(Item {
                id,
                title,
                kind: ArticleKind::from_slug(&kind)?,
                published_at,
                fields: KindFields::from_json(&fields),
            })
        })
        .collect()
}

/// A live article's text, for the search index and feeds.
#[derive(Debug, Clone)]
pub struct Text {
    pub id: i64,
    pub kind: ArticleKind,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub source: String,
    pub site_code: String,
    pub site_name: String,
    pub published_at: i64,
    pub updated_at: i64,
}

type TextRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
);

/// Every article live at `db.now()`, newest first (at most `limit`), of one
/// site (`Some(code)`) or all, and of one channel when given.
pub async fn live_texts(
    db: &Db,
    site: Option<&str>,
    channel: Option<i64>,
    limit: i64,
) -> Result<Vec<Text>, DomainError> {
    let now = db.now().timestamp();
    let rows: Vec<TextRow> = sqlx::query_as(
        "SELECT a.id, a.kind, v.title, v.summary, v.body, v.source, s.code, s.name, \
         a.first_published_at, a.live_from FROM articles a \
         JOIN content_sites s ON s.id = a.site_id \
         JOIN article_versions v ON v.article_id = a.id AND v.version = a.live_version \
         WHERE a.live_from <= $1 AND (a.live_until IS NULL OR a.live_until > $1) \
         AND ($2 = '' OR a.id IN (SELECT ac.article_id FROM article_channels ac \
              JOIN content_channels c ON c.id = ac.channel_id \
              JOIN content_sites cs ON cs.id = c.site_id WHERE cs.code = $2)) \
         AND ($3 = 0 OR a.id IN (SELECT article_id FROM article_channels WHERE channel_id = $3)) \
         ORDER BY a.first_published_at DESC, a.id DESC LIMIT $4",
    )
    .bind(now)
    .bind(site.unwrap_or(""))
    .bind(channel.unwrap_or(0))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Text {
                id: r.0,
                kind: ArticleKind::from_slug(&r.1)?,
                title: r.2,
                summary: r.3,
                body: r.4,
                source: r.5,
                site_code: r.6,
                site_name: r.7,
                published_at: r.8,
                updated_at: r.9,
            })
        })
        .collect())
}

/// The next moment after `db.now()` at which an approved article goes
/// online or offline by itself (scheduling), if any: readers of the live
/// set (the search index) refresh then.
pub async fn next_change(db: &Db) -> Result<Option<i64>, DomainError> {
    let now = db.now().timestamp();
    let from: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(live_from) FROM articles WHERE live_version IS NOT NULL AND live_from > $1",
    )
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    let until: Option<i64> =
        sqlx::query_scalar("SELECT MIN(live_until) FROM articles WHERE live_until > $1")
            .bind(now)
            .fetch_one(db.pool())
            .await?;
    Ok(match (from, until) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

/// Every live article of one kind, newest first (the policy library, the
/// interpretations of a policy, the policies behind a guide).
pub async fn live_of_kind(db: &Db, kind: ArticleKind) -> Result<Vec<Item>, DomainError> {
    let rows: Vec<(i64, String, String, i64, String)> = sqlx::query_as(
        "SELECT a.id, v.title, a.kind, a.first_published_at, v.fields FROM articles a \
         JOIN article_versions v ON v.article_id = a.id AND v.version = a.live_version \
         WHERE a.kind = $1 AND a.live_from <= $2 AND (a.live_until IS NULL OR a.live_until > $2) \
         ORDER BY a.first_published_at DESC, a.id DESC",
    )
    .bind(kind.slug())
    .bind(db.now().timestamp())
    .fetch_all(db.pool())
    .await?;
    Ok(items(rows))
}

/// What a policy or an interpretation links to, live now.
#[derive(Debug, Clone, Default)]
pub struct PolicyLinks {
    /// A policy's interpretations.
    pub interpretations: Vec<Item>,
    /// The document that replaced a repealed policy.
    pub replaced_by: Option<Item>,
    /// An interpretation's policy.
    pub policy: Option<Item>,
}

pub async fn policy_links(
    db: &Db,
    id: i64,
    kind: ArticleKind,
    fields: &KindFields,
) -> Result<PolicyLinks, DomainError> {
    let mut links = PolicyLinks::default();
    match kind {
        ArticleKind::Policy => {
            links.interpretations = live_of_kind(db, ArticleKind::Interpretation)
                .await?
                .into_iter()
                .filter(|i| i.fields.policy == Some(id))
                .collect();
            if let Some(r) = fields.replaced_by {
                links.replaced_by = live_of_kind(db, ArticleKind::Policy)
                    .await?
                    .into_iter()
                    .find(|p| p.id == r);
            }
        }
        ArticleKind::Interpretation => {
            if let Some(p) = fields.policy {
                links.policy = live_of_kind(db, ArticleKind::Policy)
                    .await?
                    .into_iter()
                    .find(|i| i.id == p);
            }
        }
        _ => {}
    }
    Ok(links)
}

/// The live policies governing a catalog item (a guide shows them).
pub async fn policies_for_service(db: &Db, code: &str) -> Result<Vec<Item>, DomainError> {
    Ok(live_of_kind(db, ArticleKind::Policy)
        .await?
        .into_iter()
        .filter(|p| p.fields.services.iter().any(|c| c == code))
        .collect())
}

/// The 依申请公开 item a site's unit answers (its guide is where citizens
/// file a request): (code, name).
pub async fn disclosure_item(
    db: &Db,
    site: &Site,
) -> Result<Option<(String, String)>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT code, name FROM services WHERE department_id = $1 AND item_type = 'disclosure' \
         AND status = 'published' ORDER BY code LIMIT 1",
    )
    .bind(site.unit_id)
    .fetch_optional(db.pool())
    .await?)
}
