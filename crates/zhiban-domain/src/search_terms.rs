//! The search area's data: staff-maintained synonyms and search analytics
//! (what people search for, what finds nothing, what they open).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::audit::{self, Entry};
use crate::identity::staff::StaffSession;
use crate::{Db, DomainError, FieldError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Synonym {
    pub id: i64,
    pub phrase: String,
    pub replacement: String,
    pub updated_by: String,
    pub updated_at: String,
}

pub async fn synonyms(db: &Db) -> Result<Vec<Synonym>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT id, phrase, replacement, updated_by, updated_at FROM search_synonyms ORDER BY phrase",
    )
    .fetch_all(db.pool())
    .await?)
}

/// Pairs for the search index.
pub async fn synonym_pairs(db: &Db) -> Result<Vec<(String, String)>, DomainError> {
    Ok(synonyms(db)
        .await?
        .into_iter()
        .map(|s| (s.phrase, s.replacement))
        .collect())
}

/// Adds a synonym, or changes the replacement of an existing phrase.
/// Synonyms shape every search of the city: whole-city accounts only, and
/// every change is audited with what it was before.
pub async fn save_synonym(
    db: &Db,
    actor: &StaffSession,
    phrase: &str,
    replacement: &str,
) -> Result<(), DomainError> {
    crate::identity::scope::require_city(db, actor, &format!("synonym:{}", phrase.trim())).await?;
    let phrase = phrase.trim();
    let replacement = replacement.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut errs = Vec::new();
    if phrase.is_empty() {
        errs.push(FieldError::new("phrase", "required", ""));
    } else if phrase.chars().count() > 30 {
        errs.push(FieldError::new("phrase", "too_long", "≤ 30"));
    }
    if replacement.is_empty() {
        errs.push(FieldError::new("replacement", "required", ""));
    } else if replacement.chars().count() > 100 {
        errs.push(FieldError::new("replacement", "too_long", "≤ 100"));
    }
    if !errs.is_empty() {
        return Err(DomainError::Invalid(errs));
    }
    let now = db.now().to_rfc3339();
    let by = &actor.user.username;
    let mut tx = db.begin().await?;
    let before: Option<String> =
        sqlx::query_scalar("SELECT replacement FROM search_synonyms WHERE phrase = $1")
            .bind(phrase)
            .fetch_optional(&mut *tx)
            .await?;
    let sql = if before.is_some() {
        "UPDATE search_synonyms SET replacement = $2, updated_by = $3, updated_at = $4 WHERE phrase = $1"
    } else {
        "INSERT INTO search_synonyms (phrase, replacement, updated_by, updated_at) VALUES ($1, $2, $3, $4)"
    };
    sqlx::query(sql)
        .bind(phrase)
        .bind(&replacement)
        .bind(by)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    crate::changes::record(&mut tx, crate::changes::SEARCH_SYNONYM, phrase).await?;
    let detail = match before {
        Some(b) => format!("{b} → {replacement}"),
        None => format!("→ {replacement}"),
    };
    audit::append(
        &mut tx,
        &Entry::staff(by, "search.synonym_save", phrase)
            .detail(detail)
            .ip(&actor.client_ip),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_synonym(db: &Db, actor: &StaffSession, id: i64) -> Result<(), DomainError> {
    crate::identity::scope::require_city(db, actor, &format!("synonym:{id}")).await?;
    let mut tx = db.begin().await?;
    let found: Option<(String, String)> =
        sqlx::query_as("SELECT phrase, replacement FROM search_synonyms WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((phrase, replacement)) = found else {
        return Ok(());
    };
    audit::append(
        &mut tx,
        &Entry::staff(&actor.user.username, "search.synonym_delete", &phrase)
            .detail(format!("{replacement} →"))
            .ip(&actor.client_ip),
    )
    .await?;
    sqlx::query("DELETE FROM search_synonyms WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    crate::changes::record(&mut tx, crate::changes::SEARCH_SYNONYM, &phrase).await?;
    tx.commit().await?;
    Ok(())
}

/// Records a search; returns its id for click tracking. `client` is the
/// searcher's address: only a keyed hash of it is kept, to count distinct
/// people behind a query (see [`hot_queries`]).
pub async fn log_search(
    db: &Db,
    query: &str,
    results: usize,
    client: &str,
    at: DateTime<Utc>,
) -> Result<i64, DomainError> {
    let client_key = crate::pii::index(db, crate::pii::ctx::SEARCH_CLIENT, client.trim())?;
    Ok(sqlx::query_scalar(
        "INSERT INTO search_log (query, results, client_key, searched_at) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(query)
    .bind(i64::try_from(results).unwrap_or(i64::MAX))
    .bind(client_key)
    .bind(at.timestamp())
    .fetch_one(db.pool())
    .await?)
}

/// Deletes searches (and their clicks) older than `days`; returns how many
/// searches went. Analytics need months, not years, and queries can hold
/// personal details people typed into the box.
pub async fn purge_older_than(db: &Db, days: i64, now: DateTime<Utc>) -> Result<u64, DomainError> {
    let cutoff = now.timestamp() - days.max(1) * 86_400;
    let mut tx = db.begin().await?;
    sqlx::query(
        "DELETE FROM search_clicks WHERE search_id IN (SELECT id FROM search_log WHERE searched_at < $1)",
    )
    .bind(cutoff)
    .execute(&mut *tx)
    .await?;
    let n = sqlx::query("DELETE FROM search_log WHERE searched_at < $1")
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(n)
}

/// Records that a result of search `search_id` was opened.
pub async fn log_click(
    db: &Db,
    search_id: i64,
    target: &str,
    at: DateTime<Utc>,
) -> Result<(), DomainError> {
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM search_log WHERE id = $1")
        .bind(search_id)
        .fetch_optional(db.pool())
        .await?;
    if exists.is_none() {
        return Err(DomainError::NotFound);
    }
    sqlx::query("INSERT INTO search_clicks (search_id, target, clicked_at) VALUES ($1, $2, $3)")
        .bind(search_id)
        .bind(target)
        .bind(at.timestamp())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// One query's numbers over a period.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct QueryStat {
    pub query: String,
    pub searches: i64,
    /// Searches that found nothing.
    pub zero: i64,
    /// Results opened from these searches.
    pub clicks: i64,
}

impl QueryStat {
    /// Opened results per search, in percent.
    pub fn click_through(&self) -> i64 {
        if self.searches == 0 {
            0
        } else {
            self.clicks * 100 / self.searches
        }
    }
}

/// Queries since `since`, most searched first.
pub async fn query_stats(
    db: &Db,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<QueryStat>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT l.query AS query, COUNT(*) AS searches, \
         CAST(SUM(CASE WHEN l.results = 0 THEN 1 ELSE 0 END) AS BIGINT) AS zero, \
         CAST(COALESCE(SUM(c.n), 0) AS BIGINT) AS clicks \
         FROM search_log l \
         LEFT JOIN (SELECT search_id, COUNT(*) AS n FROM search_clicks GROUP BY search_id) c \
           ON c.search_id = l.id \
         WHERE l.searched_at >= $1 \
         GROUP BY l.query ORDER BY searches DESC, l.query LIMIT $2",
    )
    .bind(since.timestamp())
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// A query becomes a hot-search candidate only when at least this many
/// distinct clients searched it …
pub const HOT_MIN_CLIENTS: i64 = 5;
/// … on at least this many different days (Beijing time).
pub const HOT_MIN_DAYS: i64 = 2;

/// A query that many people searched, with the staff decision on it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct HotCandidate {
    pub query: String,
    pub clients: i64,
    pub days: i64,
    pub searches: i64,
    /// `approved`, `blocked`, or empty while nobody has decided.
    pub decision: String,
}

/// Whether a query reads as an advert or carries contact details (a phone
/// or QQ number, a WeChat id, a web address): never a hot search.
pub fn looks_like_spam(query: &str) -> bool {
    let q: String = query
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            other => other,
        })
        .collect::<String>()
        .to_lowercase();
    const WORDS: [&str; 22] = [
        "微信", "薇信", "威信", "加v", "+v", "vx", "wx", "qq", "扣扣", "代办", "代理", "包过",
        "办证", "刷单", "贷款", "联系", "电话", "http", "www", ".com", ".cn", "@",
    ];
    if q.chars().count() > 20 || WORDS.iter().any(|w| q.contains(w)) {
        return true;
    }
    // Five digits in a row (a phone, QQ or account number), or a run of
    // letters and digits mixed (abc123: a WeChat id).
    let mut digits = 0;
    let mut run = String::new();
    for c in q.chars().chain(std::iter::once(' ')) {
        digits = if c.is_ascii_digit() { digits + 1 } else { 0 };
        if digits >= 5 {
            return true;
        }
        if c.is_ascii_alphanumeric() {
            run.push(c);
        } else {
            let mixed = run.chars().any(|c| c.is_ascii_digit())
                && run.chars().any(|c| c.is_ascii_alphabetic());
            if mixed && run.len() >= 4 {
                return true;
            }
            run.clear();
        }
    }
    false
}

/// Queries since `since` that enough distinct people searched on enough
/// days, found something and read as neither advert nor contact details,
/// with any staff decision; most people first.
pub async fn hot_candidates(
    db: &Db,
    since: DateTime<Utc>,
) -> Result<Vec<HotCandidate>, DomainError> {
    let rows: Vec<HotCandidate> = sqlx::query_as(
        "SELECT l.query AS query, COUNT(DISTINCT l.client_key) AS clients, \
         COUNT(DISTINCT (l.searched_at + 28800) / 86400) AS days, COUNT(*) AS searches, \
         COALESCE(MAX(r.decision), '') AS decision \
         FROM search_log l LEFT JOIN hot_search_reviews r ON r.query = l.query \
         WHERE l.searched_at >= $1 AND l.results > 0 AND l.client_key <> '' \
         GROUP BY l.query \
         HAVING COUNT(DISTINCT l.client_key) >= $2 \
            AND COUNT(DISTINCT (l.searched_at + 28800) / 86400) >= $3 \
         ORDER BY clients DESC, searches DESC, l.query LIMIT 100",
    )
    .bind(since.timestamp())
    .bind(HOT_MIN_CLIENTS)
    .bind(HOT_MIN_DAYS)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .filter(|c| !looks_like_spam(&c.query))
        .collect())
}

/// 大家都在搜: candidates staff approved, most people first.
pub async fn hot_queries(
    db: &Db,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<String>, DomainError> {
    Ok(hot_candidates(db, since)
        .await?
        .into_iter()
        .filter(|c| c.decision == "approved")
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|c| c.query)
        .collect())
}

/// Staff approve (`approved`), block (`blocked`) or reconsider (empty) a
/// query for the hot-search list: whole-city accounts only, audited.
pub async fn review_hot(
    db: &Db,
    actor: &StaffSession,
    query: &str,
    decision: &str,
) -> Result<(), DomainError> {
    let query = query.trim();
    crate::identity::scope::require_city(db, actor, &format!("hot_search:{query}")).await?;
    if query.is_empty() {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "query", "required", "",
        )]));
    }
    if !matches!(decision, "approved" | "blocked" | "") {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "decision",
            "invalid_choice",
            decision,
        )]));
    }
    let by = &actor.user.username;
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM hot_search_reviews WHERE query = $1")
        .bind(query)
        .execute(&mut *tx)
        .await?;
    if !decision.is_empty() {
        sqlx::query(
            "INSERT INTO hot_search_reviews (query, decision, decided_by, decided_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(query)
        .bind(decision)
        .bind(by)
        .bind(db.now().timestamp())
        .execute(&mut *tx)
        .await?;
    }
    audit::append(
        &mut tx,
        &Entry::staff(by, "search.hot_review", query)
            .detail(if decision.is_empty() {
                "reconsider"
            } else {
                decision
            })
            .ip(&actor.client_ip),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A query suggested as another name of an item, because the people who
/// searched it mostly opened that item (synonyms learned from the log).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Learned {
    pub query: String,
    /// The opened result: `/services/{code}`.
    pub target: String,
    pub item_name: String,
    /// Distinct people who searched the query and opened the item.
    pub clients: i64,
    /// The item's share of all results opened from the query, percent.
    pub share: i64,
}

/// A query is suggested once this many different people opened the item
/// from it …
pub const LEARN_MIN_CLIENTS: i64 = 3;
/// … and the item took at least this share of the results opened from it.
pub const LEARN_MIN_SHARE: i64 = 60;

/// The item code in a result address (`/services/CODE`, maybe with a query).
fn service_code(target: &str) -> Option<&str> {
    let rest = target.strip_prefix("/services/")?;
    let code = rest.split(['?', '#', '/']).next()?;
    (!code.is_empty()).then_some(code)
}

async fn item_name(db: &Db, code: &str) -> Result<Option<String>, DomainError> {
    Ok(
        sqlx::query_scalar("SELECT name FROM services WHERE code = $1")
            .bind(code)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Queries since `since` whose opened results point at one item, that are
/// not yet a synonym, not the item's own name, not decided by staff and
/// read as neither advert nor contact details; most people first.
pub async fn learned_synonyms(db: &Db, since: DateTime<Utc>) -> Result<Vec<Learned>, DomainError> {
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT l.query, c.target, COUNT(DISTINCT l.client_key), COUNT(*) \
         FROM search_clicks c JOIN search_log l ON l.id = c.search_id \
         WHERE l.searched_at >= $1 AND l.client_key <> '' GROUP BY l.query, c.target",
    )
    .bind(since.timestamp())
    .fetch_all(db.pool())
    .await?;
    let mut opened: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for (q, _, _, n) in &rows {
        *opened.entry(q.as_str()).or_default() += n;
    }
    let synonyms: std::collections::HashSet<String> =
        synonyms(db).await?.into_iter().map(|s| s.phrase).collect();
    let decided: std::collections::HashSet<(String, String)> =
        sqlx::query_as("SELECT query, target FROM learned_synonym_reviews")
            .fetch_all(db.pool())
            .await?
            .into_iter()
            .collect();
    let mut out = Vec::new();
    for (query, target, clients, clicks) in &rows {
        let q = query.trim();
        let share = clicks * 100 / opened.get(query.as_str()).copied().unwrap_or(1).max(1);
        if *clients < LEARN_MIN_CLIENTS
            || share < LEARN_MIN_SHARE
            || !(2..=30).contains(&q.chars().count())
            || looks_like_spam(q)
            || synonyms.contains(q)
            || decided.contains(&(query.clone(), target.clone()))
        {
            continue;
        }
        let Some(code) = service_code(target) else {
            continue;
        };
        let Some(item_name) = item_name(db, code).await? else {
            continue;
        };
        if item_name.contains(q) {
            continue;
        }
        out.push(Learned {
            query: q.to_string(),
            target: target.clone(),
            item_name,
            clients: *clients,
            share,
        });
    }
    out.sort_by(|a, b| {
        b.clients
            .cmp(&a.clients)
            .then_with(|| a.query.cmp(&b.query))
    });
    out.truncate(50);
    Ok(out)
}

/// Staff accept a learned synonym (the query then reads as the item's name
/// in every search, like a synonym they typed) or turn it down; either way
/// it leaves the suggestions. Whole-city accounts only, audited.
pub async fn review_learned(
    db: &Db,
    actor: &StaffSession,
    query: &str,
    target: &str,
    accept: bool,
) -> Result<(), DomainError> {
    let query = query.trim();
    crate::identity::scope::require_city(db, actor, &format!("learned_synonym:{query}")).await?;
    let code = service_code(target).ok_or(DomainError::NotFound)?;
    let name = item_name(db, code).await?.ok_or(DomainError::NotFound)?;
    if accept {
        save_synonym(db, actor, query, &name).await?;
    }
    let by = &actor.user.username;
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO learned_synonym_reviews (query, target, decision, decided_by, decided_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (query, target) DO UPDATE SET \
         decision = excluded.decision, decided_by = excluded.decided_by, decided_at = excluded.decided_at",
    )
    .bind(query)
    .bind(target)
    .bind(if accept { "accepted" } else { "rejected" })
    .bind(by)
    .bind(db.now().timestamp())
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &Entry::staff(by, "search.learned_review", query)
            .detail(if accept { "accepted" } else { "rejected" })
            .ip(&actor.client_ip),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::looks_like_spam;

    #[test]
    fn adverts_and_contact_details_are_never_hot() {
        for spam in [
            "身份证代办加微信abc123",
            "办证请联系13912345678",
            "加V：yz2026",
            "ｗｗｗ．ｂａｎｚｈｅｎｇ．ｃｏｍ",
            "QQ 87654321",
            "快速贷款",
        ] {
            assert!(looks_like_spam(spam), "{spam}");
        }
        for fine in [
            "身份证补领",
            "护照",
            "新生儿落户",
            "公积金提取",
            "5G基站",
            "个税app",
        ] {
            assert!(!looks_like_spam(fine), "{fine}");
        }
    }
}
