//! Running the sites (站点设置): opening a site for a unit, the number of
//! review stages, and the channels (栏目) with their type, update period
//! and introduction. Done by the reviewers of the site's unit; every
//! change is audited and followed by every node (the change log).

use super::editing::CHANGE_TOPIC;
use super::{ArticleKind, reading};
use crate::audit::{self, Entry};
use crate::identity::scope;
use crate::identity::staff::StaffSession;
use crate::{Conflict, Db, DomainError, FieldError, changes};

/// Sets how many review stages a site's articles pass (1–3). A text already
/// in review at a stage past the new number is published by its next
/// approval. Only reviewers whose scope covers the site.
pub async fn set_review_stages(
    db: &Db,
    actor: &StaffSession,
    site_code: &str,
    stages: i64,
) -> Result<(), DomainError> {
    let object = format!("site:{site_code}");
    if !actor.perms.contains(&crate::identity::Perm::ContentReview) {
        scope::record_refusal(db, actor, &object, "content.review").await?;
        return Err(Conflict::NotAllowed.into());
    }
    let site = reading::site(db, site_code)
        .await?
        .ok_or(DomainError::NotFound)?;
    scope::require_unit(db, actor, Some(site.unit_id), &object).await?;
    if !(1..=3).contains(&stages) {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "review_stages",
            "invalid_choice",
            stages.to_string(),
        )]));
    }
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE content_sites SET review_stages = $2 WHERE id = $1")
        .bind(site.id)
        .bind(stages)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        &Entry::staff(&actor.user.username, "content.site_stages", &object)
            .detail(format!("{} → {stages}", site.review_stages)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A new site as typed (a district or a department opening its own).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SiteInput {
    pub code: String,
    pub name: String,
    /// The owning unit's id, as chosen.
    pub unit: String,
    pub review_stages: String,
}

/// Opens a site for a unit in the person's scope (they review for it).
/// Its address is `/sites/{code}`; channels are added after. Returns the
/// site's code.
pub async fn create_site(
    db: &Db,
    actor: &StaffSession,
    input: &SiteInput,
) -> Result<String, DomainError> {
    let object = format!("site:{}", input.code.trim());
    if !actor.perms.contains(&crate::identity::Perm::ContentReview) {
        scope::record_refusal(db, actor, &object, "content.review").await?;
        return Err(Conflict::NotAllowed.into());
    }
    let mut errors = Vec::new();
    let code = input.code.trim().to_ascii_lowercase();
    let code_ok = !code.is_empty()
        && code.len() <= 40
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !code_ok {
        errors.push(FieldError::new("site_code", "invalid_code", &code));
    } else if reading::site(db, &code).await?.is_some() {
        errors.push(FieldError::new("site_code", "taken", &code));
    }
    let name = input.name.trim().to_string();
    if name.is_empty() {
        errors.push(FieldError::new("site_name", "required", ""));
    } else if name.chars().count() > CHANNEL_NAME_MAX {
        errors.push(FieldError::new(
            "site_name",
            "too_long",
            CHANNEL_NAME_MAX.to_string(),
        ));
    }
    let stages = input.review_stages.trim().parse::<i64>().unwrap_or(0);
    if !(1..=3).contains(&stages) {
        errors.push(FieldError::new(
            "review_stages",
            "invalid_choice",
            input.review_stages.trim(),
        ));
    }
    let unit = input.unit.trim().parse::<i64>().ok();
    let exists = match unit {
        Some(u) => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM departments WHERE id = $1")
                .bind(u)
                .fetch_one(db.pool())
                .await?
                > 0
        }
        None => false,
    };
    match unit {
        Some(u) if exists && actor.scope.covers(u) => {}
        Some(u) if exists => errors.push(FieldError::new("unit", "outside_scope", u.to_string())),
        _ => errors.push(FieldError::new("unit", "required", "")),
    }
    if !errors.is_empty() {
        scope::audit_field_refusals(db, actor, &object, &errors).await?;
        return Err(DomainError::Invalid(errors));
    }
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO content_sites (code, name, unit_id, review_stages, position) \
         SELECT $1, $2, $3, $4, COALESCE(MAX(position), 0) + 1 FROM content_sites",
    )
    .bind(&code)
    .bind(&name)
    .bind(unit)
    .bind(stages)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &Entry::staff(
            &actor.user.username,
            "content.site_create",
            format!("site:{code}"),
        )
        .detail(&name),
    )
    .await?;
    changes::record(&mut tx, CHANGE_TOPIC, &format!("site:{code}")).await?;
    tx.commit().await?;
    Ok(code)
}

/// A channel as typed on the sites page (new when `id` is `None`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ChannelInput {
    pub site: String,
    pub id: Option<i64>,
    pub code: String,
    pub name: String,
    pub kind: String,
    /// Days without a new article before inspection counts it stale.
    pub stale_days: String,
    pub lead: String,
}

pub const CHANNEL_NAME_MAX: usize = 40;
pub const CHANNEL_LEAD_MAX: usize = 500;

/// Adds a channel to a site or changes one (name, kind, stale days, what
/// it is about). The code stays once chosen: it is in every link. A
/// channel holding articles keeps its kind. Done by people who review for
/// the site (its unit in their scope). Returns the channel's id.
pub async fn save_channel(
    db: &Db,
    actor: &StaffSession,
    input: &ChannelInput,
) -> Result<i64, DomainError> {
    let object = format!("site:{}", input.site.trim());
    if !actor.perms.contains(&crate::identity::Perm::ContentReview) {
        scope::record_refusal(db, actor, &object, "content.review").await?;
        return Err(Conflict::NotAllowed.into());
    }
    let site = reading::site(db, input.site.trim())
        .await?
        .ok_or(DomainError::NotFound)?;
    scope::require_unit(db, actor, Some(site.unit_id), &object).await?;
    let existing = match input.id {
        Some(id) => Some(
            reading::channels(db)
                .await?
                .into_iter()
                .find(|c| c.id == id && c.site_id == site.id)
                .ok_or(DomainError::NotFound)?,
        ),
        None => None,
    };
    let mut errors = Vec::new();
    let code = input.code.trim().to_ascii_lowercase();
    if existing.is_none() {
        let ok = !code.is_empty()
            && code.len() <= 40
            && code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !matches!(code.as_str(), "rss.xml" | "atom.xml" | "topics");
        if !ok {
            errors.push(FieldError::new("channel_code", "invalid_code", &code));
        }
    }
    let name = input.name.trim().to_string();
    if name.is_empty() {
        errors.push(FieldError::new("channel_name", "required", ""));
    } else if name.chars().count() > CHANNEL_NAME_MAX {
        errors.push(FieldError::new(
            "channel_name",
            "too_long",
            CHANNEL_NAME_MAX.to_string(),
        ));
    }
    let kind = ArticleKind::from_slug(input.kind.trim());
    if kind.is_none() {
        errors.push(FieldError::new(
            "channel_kind",
            "invalid_choice",
            input.kind.trim(),
        ));
    }
    let stale_days = match input.stale_days.trim().parse::<i64>() {
        Ok(d) if (1..=3650).contains(&d) => d,
        _ => {
            errors.push(FieldError::new(
                "stale_days",
                "out_of_range",
                "1–3650".to_string(),
            ));
            0
        }
    };
    let lead = input.lead.trim().to_string();
    if lead.chars().count() > CHANNEL_LEAD_MAX {
        errors.push(FieldError::new(
            "lead",
            "too_long",
            CHANNEL_LEAD_MAX.to_string(),
        ));
    }
    if let (Some(c), Some(k)) = (&existing, kind)
        && c.kind != k
    {
        let held: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM article_channels WHERE channel_id = $1")
                .bind(c.id)
                .fetch_one(db.pool())
                .await?;
        if held > 0 {
            errors.push(FieldError::new(
                "channel_kind",
                "channel_in_use",
                held.to_string(),
            ));
        }
    }
    if existing.is_none() && errors.is_empty() {
        let taken: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM content_channels WHERE site_id = $1 AND code = $2",
        )
        .bind(site.id)
        .bind(&code)
        .fetch_one(db.pool())
        .await?;
        if taken > 0 {
            errors.push(FieldError::new("channel_code", "taken", &code));
        }
    }
    let Some(kind) = kind.filter(|_| errors.is_empty()) else {
        return Err(DomainError::Invalid(errors));
    };
    let mut tx = db.begin().await?;
    let id = match &existing {
        Some(c) => {
            sqlx::query(
                "UPDATE content_channels SET name = $2, kind = $3, stale_days = $4, lead = $5 \
                 WHERE id = $1",
            )
            .bind(c.id)
            .bind(&name)
            .bind(kind.slug())
            .bind(stale_days)
            .bind(&lead)
            .execute(&mut *tx)
            .await?;
            c.id
        }
        None => {
            sqlx::query_scalar(
                "INSERT INTO content_channels (site_id, code, name, kind, stale_days, lead, \
                 position) SELECT $1, $2, $3, $4, $5, $6, COALESCE(MAX(position), 0) + 1 \
                 FROM content_channels WHERE site_id = $1 RETURNING id",
            )
            .bind(site.id)
            .bind(&code)
            .bind(&name)
            .bind(kind.slug())
            .bind(stale_days)
            .bind(&lead)
            .fetch_one(&mut *tx)
            .await?
        }
    };
    audit::append(
        &mut tx,
        &Entry::staff(&actor.user.username, "content.channel", &object).detail(format!(
            "{} {} {} {stale_days}",
            existing.as_ref().map_or(code.as_str(), |c| c.code.as_str()),
            name,
            kind.slug()
        )),
    )
    .await?;
    // Site pages, menus and feeds show channels: every node refreshes.
    changes::record(&mut tx, CHANGE_TOPIC, &format!("channel:{id}")).await?;
    tx.commit().await?;
    Ok(id)
}
