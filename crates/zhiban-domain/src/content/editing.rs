//! Writing articles and moving them through review. Every step is one
//! transaction: the revision check, the new state, the version or event
//! row, the audit record and the change-log row other nodes follow.

use std::collections::BTreeSet;

use super::files::{self, Attach};
use super::workflow::{self, Actor, Facts, Next, Refusal};
use super::{ArticleAction, ArticleInput, ArticleKind, ArticleState, Parsed, reading};
use crate::audit::{self, Entry};
use crate::identity::scope;
use crate::identity::staff::StaffSession;
use crate::{Conflict, Db, DomainError, FieldError, Tx, changes};

/// Change-log topic of a published article (search and other nodes follow
/// it); the key is the article id.
pub const CHANGE_TOPIC: &str = "content.article";

/// Checks the input, its site and channels against the actor's scope: a
/// problem of any kind comes back with all the others.
async fn checked(
    db: &Db,
    actor: &StaffSession,
    input: &ArticleInput,
    object: &str,
) -> Result<(Parsed, i64), DomainError> {
    let mut errors = Vec::new();
    let parsed = super::parse(input);
    if let Err(e) = &parsed {
        errors.extend(e.iter().cloned());
    }
    let sites = reading::sites(db).await?;
    let site = sites.iter().find(|s| s.code == input.site.trim());
    match site {
        None => errors.push(FieldError::new("site", "invalid_choice", input.site.trim())),
        Some(s) if !actor.scope.covers(s.unit_id) => {
            errors.push(FieldError::new("site", "outside_scope", s.name.clone()));
        }
        Some(_) => {}
    }
    let channels = reading::channels(db).await?;
    let kind = ArticleKind::from_slug(input.kind.trim());
    let mut seen = BTreeSet::new();
    for id in &input.channels {
        if !seen.insert(*id) {
            continue;
        }
        let Some(c) = channels.iter().find(|c| c.id == *id) else {
            errors.push(FieldError::new(
                "channels",
                "invalid_choice",
                id.to_string(),
            ));
            continue;
        };
        let unit = sites.iter().find(|s| s.id == c.site_id).map(|s| s.unit_id);
        if !unit.is_some_and(|u| actor.scope.covers(u)) {
            errors.push(FieldError::new(
                "channels",
                "outside_scope",
                format!("{} {}", c.site_name, c.name),
            ));
        } else if kind.is_some_and(|k| !c.kind.holds(k)) {
            errors.push(FieldError::new(
                "channels",
                "wrong_kind",
                format!("{} {}", c.site_name, c.name),
            ));
        }
    }
    if let Ok(p) = &parsed {
        errors.extend(references(db, &p.fields).await?);
    }
    if !errors.is_empty() {
        scope::audit_field_refusals(db, actor, object, &errors).await?;
        return Err(DomainError::Invalid(errors));
    }
    let (Ok(mut parsed), Some(site)) = (parsed, site) else {
        return Err(DomainError::Internal("checked input without a site"));
    };
    parsed.channels = seen.into_iter().collect();
    Ok((parsed, site.id))
}

/// What a policy or an interpretation points to must exist: the services
/// it governs (published catalog items), the policy an interpretation
/// explains and the document that replaced a policy.
async fn references(db: &Db, f: &super::KindFields) -> Result<Vec<FieldError>, DomainError> {
    let mut errors = Vec::new();
    for code in &f.services {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM services WHERE code = $1 AND status = 'published'",
        )
        .bind(code)
        .fetch_one(db.pool())
        .await?;
        if n == 0 {
            errors.push(FieldError::new("services", "unknown_service", code.clone()));
        }
    }
    for (field, id) in [("policy", f.policy), ("replaced_by", f.replaced_by)] {
        let Some(id) = id else { continue };
        let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM articles WHERE id = $1")
            .bind(id)
            .fetch_optional(db.pool())
            .await?;
        if kind.as_deref() != Some(ArticleKind::Policy.slug()) {
            errors.push(FieldError::new(field, "not_a_policy", id.to_string()));
        }
    }
    Ok(errors)
}

/// Checks the input and the new files together (every problem at once),
/// then puts the new bodies into the file store.
async fn checked_with_files(
    db: &Db,
    actor: &StaffSession,
    input: &ArticleInput,
    object: &str,
    attach: Option<&Attach<'_>>,
    existing: usize,
) -> Result<(Parsed, i64, Vec<files::Stored>), DomainError> {
    let (good, file_errors) = match attach {
        Some(a) => files::check(&a.changes, a.settings, existing),
        None => (Vec::new(), Vec::new()),
    };
    let (p, site_id) = match checked(db, actor, input, object).await {
        Ok(_) if !file_errors.is_empty() => return Err(DomainError::Invalid(file_errors)),
        Ok(ok) => ok,
        Err(DomainError::Invalid(mut errors)) => {
            errors.extend(file_errors);
            return Err(DomainError::Invalid(errors));
        }
        Err(e) => return Err(e),
    };
    let stored = match attach {
        Some(a) => files::put(a.store, &good).await?,
        None => Vec::new(),
    };
    Ok((p, site_id, stored))
}

/// A new draft. Returns its id.
pub async fn create(
    db: &Db,
    actor: &StaffSession,
    input: &ArticleInput,
) -> Result<i64, DomainError> {
    create_with(db, actor, input, None).await
}

/// A new draft with its files. Returns its id.
pub async fn create_with(
    db: &Db,
    actor: &StaffSession,
    input: &ArticleInput,
    attach: Option<&Attach<'_>>,
) -> Result<i64, DomainError> {
    if !actor.perms.contains(&crate::identity::Perm::ContentEdit) {
        scope::record_refusal(db, actor, "article:new", "content.edit").await?;
        return Err(Conflict::NotAllowed.into());
    }
    let (p, site_id, stored) =
        checked_with_files(db, actor, input, "article:new", attach, 0).await?;
    let written = create_rows(db, actor, &p, site_id, &stored).await;
    if written.is_err()
        && let Some(a) = attach
    {
        files::forget(a.store, &stored).await;
    }
    written
}

async fn create_rows(
    db: &Db,
    actor: &StaffSession,
    p: &Parsed,
    site_id: i64,
    stored: &[files::Stored],
) -> Result<i64, DomainError> {
    let mut tx = db.begin().await?;
    let now = tx.now().timestamp();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO articles (site_id, kind, title, summary, body, source, fields, state, \
         stage, version, author, publish_at, unpublish_at, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', 0, 1, $8, $9, $10, $8, $11, $11) \
         RETURNING id",
    )
    .bind(site_id)
    .bind(p.kind.slug())
    .bind(&p.title)
    .bind(&p.summary)
    .bind(&p.body)
    .bind(&p.source)
    .bind(p.fields.to_json())
    .bind(&actor.user.username)
    .bind(p.publish_at)
    .bind(p.unpublish_at)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let fields = p.fields.to_json();
    write_version(&mut tx, id, 1, &Text::of(p, &fields), &actor.user.username).await?;
    files::record(&mut tx, id, 1, stored, &[], &actor.user.username).await?;
    set_channels(&mut tx, id, &p.channels).await?;
    event(&mut tx, id, ArticleAction::Create, 0, 1, actor, "").await?;
    audit::append(
        &mut tx,
        &Entry::staff(
            &actor.user.username,
            "content.create",
            format!("article:{id}"),
        )
        .detail(&p.title),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Saves the working copy as a new version (a draft again; a published
/// article stays readable in its approved version).
pub async fn update(
    db: &Db,
    actor: &StaffSession,
    id: i64,
    revision: i64,
    input: &ArticleInput,
) -> Result<(), DomainError> {
    update_with(db, actor, id, revision, input, None).await
}

/// Saves the working copy with its file changes as a new version.
pub async fn update_with(
    db: &Db,
    actor: &StaffSession,
    id: i64,
    revision: i64,
    input: &ArticleInput,
    attach: Option<&Attach<'_>>,
) -> Result<(), DomainError> {
    let object = format!("article:{id}");
    may_save(db, actor, id, &object).await?;
    let existing = files::working(db, id).await?;
    let (p, site_id, stored) =
        checked_with_files(db, actor, input, &object, attach, existing.len()).await?;
    let removed: Vec<i64> = attach
        .map(|a| a.changes.removed.clone())
        .unwrap_or_default();
    let written = update_rows(db, actor, id, revision, &p, site_id, &stored, &removed).await;
    if written.is_err()
        && let Some(a) = attach
    {
        files::forget(a.store, &stored).await;
    }
    written
}

#[allow(clippy::too_many_arguments)]
async fn update_rows(
    db: &Db,
    actor: &StaffSession,
    id: i64,
    revision: i64,
    p: &Parsed,
    site_id: i64,
    stored: &[files::Stored],
    removed: &[i64],
) -> Result<(), DomainError> {
    let object = format!("article:{id}");
    let mut tx = db.begin().await?;
    let row = lock(&mut tx, id, revision).await?;
    workflow::save(&row.facts, &actor_of(actor)).map_err(conflict_of)?;
    let version = row.version + 1;
    let now = tx.now().timestamp();
    sqlx::query(
        "UPDATE articles SET site_id = $2, kind = $3, title = $4, summary = $5, body = $6, \
         source = $7, fields = $8, state = 'draft', stage = 0, version = $9, author = $10, \
         publish_at = $11, unpublish_at = $12, updated_at = $13, revision = revision + 1 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(site_id)
    .bind(p.kind.slug())
    .bind(&p.title)
    .bind(&p.summary)
    .bind(&p.body)
    .bind(&p.source)
    .bind(p.fields.to_json())
    .bind(version)
    .bind(&actor.user.username)
    .bind(p.publish_at)
    .bind(p.unpublish_at)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let fields = p.fields.to_json();
    write_version(
        &mut tx,
        id,
        version,
        &Text::of(p, &fields),
        &actor.user.username,
    )
    .await?;
    files::record(&mut tx, id, version, stored, removed, &actor.user.username).await?;
    set_channels(&mut tx, id, &p.channels).await?;
    event(&mut tx, id, ArticleAction::Save, 0, version, actor, "").await?;
    audit::append(
        &mut tx,
        &Entry::staff(&actor.user.username, "content.save", &object)
            .detail(format!("v{version} {}", p.title)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A review step: submit, recall, approve, reject or withdraw. `note` is
/// the reviewer's comment, the rejection or the withdrawal reason.
pub async fn step(
    db: &Db,
    actor: &StaffSession,
    id: i64,
    revision: i64,
    action: ArticleAction,
    note: &str,
) -> Result<ArticleState, DomainError> {
    let object = format!("article:{id}");
    let who = actor_of(actor);
    let rule = |f: &Facts| -> Result<Next, Refusal> {
        match action {
            ArticleAction::Submit => workflow::submit(f, &who),
            ArticleAction::Recall => workflow::recall(f, &who),
            ArticleAction::Approve => workflow::approve(f, &who),
            ArticleAction::Reject => workflow::reject(f, &who, note),
            ArticleAction::Withdraw => workflow::withdraw(f, &who, note),
            _ => Err(Refusal::State),
        }
    };
    let before = in_scope(db, actor, id).await?;
    refuse_unless(db, actor, &object, rule(&before.facts)).await?;
    let mut tx = db.begin().await?;
    let row = lock(&mut tx, id, revision).await?;
    let next = rule(&row.facts).map_err(conflict_of)?;
    let now = tx.now().timestamp();
    let recorded = match (action, next.goes_live) {
        (ArticleAction::Approve, true) => ArticleAction::Publish,
        _ => action,
    };
    if next.goes_live {
        // Scheduled: from the time asked for; otherwise (or when that time
        // has passed) from now.
        let from = row.publish_at.filter(|t| *t > now).unwrap_or(now);
        sqlx::query(
            "UPDATE articles SET state = $2, stage = 0, live_version = version, live_from = $3, \
             live_until = unpublish_at, first_published_at = COALESCE(first_published_at, $3), \
             withdrawn_reason = '', updated_at = $4, revision = revision + 1 WHERE id = $1",
        )
        .bind(id)
        .bind(next.state.slug())
        .bind(from)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        changes::record(&mut tx, CHANGE_TOPIC, &id.to_string()).await?;
    } else if action == ArticleAction::Withdraw {
        sqlx::query(
            "UPDATE articles SET state = $2, stage = 0, live_version = NULL, live_from = NULL, \
             live_until = NULL, withdrawn_reason = $3, updated_at = $4, revision = revision + 1 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(next.state.slug())
        .bind(note.trim())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        changes::record(&mut tx, CHANGE_TOPIC, &id.to_string()).await?;
    } else {
        sqlx::query(
            "UPDATE articles SET state = $2, stage = $3, updated_at = $4, revision = revision + 1 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(next.state.slug())
        .bind(next.stage)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    event(
        &mut tx,
        id,
        recorded,
        row.facts.stage,
        row.version,
        actor,
        note.trim(),
    )
    .await?;
    audit::append(
        &mut tx,
        &Entry::staff(
            &actor.user.username,
            match recorded {
                ArticleAction::Submit => "content.submit",
                ArticleAction::Recall => "content.recall",
                ArticleAction::Approve => "content.approve",
                ArticleAction::Publish => "content.publish",
                ArticleAction::Reject => "content.reject",
                _ => "content.withdraw",
            },
            &object,
        )
        .detail(format!("v{} {}", row.version, note.trim())),
    )
    .await?;
    tx.commit().await?;
    Ok(next.state)
}

/// Makes an earlier version the working copy again (as a new version and
/// a draft): rollback goes through review like any change.
pub async fn restore(
    db: &Db,
    actor: &StaffSession,
    id: i64,
    revision: i64,
    version: i64,
) -> Result<(), DomainError> {
    let object = format!("article:{id}");
    may_save(db, actor, id, &object).await?;
    let mut tx = db.begin().await?;
    let row = lock(&mut tx, id, revision).await?;
    workflow::save(&row.facts, &actor_of(actor)).map_err(conflict_of)?;
    let old: Option<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT title, summary, body, source, fields FROM article_versions \
         WHERE article_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((title, summary, body, source, fields)) = old else {
        return Err(DomainError::NotFound);
    };
    let new_version = row.version + 1;
    let now = tx.now().timestamp();
    sqlx::query(
        "UPDATE articles SET title = $2, summary = $3, body = $4, source = $5, fields = $6, \
         state = 'draft', stage = 0, version = $7, author = $8, updated_at = $9, \
         revision = revision + 1 WHERE id = $1",
    )
    .bind(id)
    .bind(&title)
    .bind(&summary)
    .bind(&body)
    .bind(&source)
    .bind(&fields)
    .bind(new_version)
    .bind(&actor.user.username)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let text = Text {
        title: &title,
        summary: &summary,
        body: &body,
        source: &source,
        fields: &fields,
    };
    write_version(&mut tx, id, new_version, &text, &actor.user.username).await?;
    files::restore(&mut tx, id, version, new_version).await?;
    let note = format!("v{version}");
    event(
        &mut tx,
        id,
        ArticleAction::Restore,
        0,
        new_version,
        actor,
        &note,
    )
    .await?;
    audit::append(
        &mut tx,
        &Entry::staff(&actor.user.username, "content.restore", &object).detail(note),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses (audited where it should be) a save the article's state or the
/// person's part does not allow, before anything is checked or written.
async fn may_save(db: &Db, actor: &StaffSession, id: i64, object: &str) -> Result<(), DomainError> {
    let before = in_scope(db, actor, id).await?;
    refuse_unless(
        db,
        actor,
        object,
        workflow::save(&before.facts, &actor_of(actor)),
    )
    .await
}

fn actor_of(actor: &StaffSession) -> Actor<'_> {
    Actor {
        username: &actor.user.username,
        perms: &actor.perms,
    }
}

fn conflict_of(r: Refusal) -> DomainError {
    match r {
        Refusal::State | Refusal::Permission => Conflict::NotAllowed.into(),
        Refusal::OwnText => Conflict::OwnText.into(),
        Refusal::SameReviewer => Conflict::SameReviewer.into(),
        Refusal::ReasonRequired => {
            DomainError::Invalid(vec![FieldError::new("note", "required", "")])
        }
    }
}

/// Refusals a person should not have been able to attempt (no permission,
/// their own text) are audited; every refusal is returned as its error.
async fn refuse_unless(
    db: &Db,
    actor: &StaffSession,
    object: &str,
    r: Result<Next, Refusal>,
) -> Result<(), DomainError> {
    match r {
        Ok(_) => Ok(()),
        Err(refusal) => {
            let why = match refusal {
                Refusal::Permission => Some("permission"),
                Refusal::OwnText => Some("own_text"),
                Refusal::SameReviewer => Some("same_reviewer"),
                Refusal::State | Refusal::ReasonRequired => None,
            };
            if let Some(why) = why {
                scope::record_refusal(db, actor, object, why).await?;
            }
            Err(conflict_of(refusal))
        }
    }
}

/// What a step needs of the stored article.
pub(super) struct Loaded {
    pub facts: Facts,
    pub version: i64,
    pub unit_id: i64,
    pub publish_at: Option<i64>,
}

type LoadedRow = (String, i64, i64, String, Option<i64>, i64, i64, Option<i64>);

const LOAD_SQL: &str = "SELECT a.state, a.stage, a.version, a.author, a.live_version, \
     s.review_stages, s.unit_id, a.publish_at FROM articles a \
     JOIN content_sites s ON s.id = a.site_id WHERE a.id = $1";

const APPROVERS_SQL: &str = "SELECT actor FROM article_events WHERE article_id = $1 \
     AND action = 'approve' AND id > (SELECT COALESCE(MAX(id), 0) FROM article_events \
     WHERE article_id = $1 AND action = 'submit')";

fn loaded(row: LoadedRow, approvers: Vec<String>) -> Result<Loaded, DomainError> {
    let (state, stage, version, author, live, stages, unit_id, publish_at) = row;
    let state = ArticleState::from_slug(&state).ok_or(DomainError::Internal("article state"))?;
    Ok(Loaded {
        facts: Facts {
            state,
            stage,
            stages,
            author,
            approvers,
            live: live.is_some(),
        },
        version,
        unit_id,
        publish_at,
    })
}

/// The article as it stands, refused (audited, answered as missing) when
/// its site is outside the actor's scope.
async fn in_scope(db: &Db, actor: &StaffSession, id: i64) -> Result<Loaded, DomainError> {
    let row: Option<LoadedRow> = sqlx::query_as(LOAD_SQL)
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    let row = row.ok_or(DomainError::NotFound)?;
    let approvers: Vec<String> = sqlx::query_scalar(APPROVERS_SQL)
        .bind(id)
        .fetch_all(db.pool())
        .await?;
    let l = loaded(row, approvers)?;
    scope::require_unit(db, actor, Some(l.unit_id), &format!("article:{id}")).await?;
    Ok(l)
}

/// The same inside the write transaction, with the revision the person saw.
async fn lock(tx: &mut Tx, id: i64, revision: i64) -> Result<Loaded, DomainError> {
    let current: Option<i64> = sqlx::query_scalar("SELECT revision FROM articles WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    match current {
        None => return Err(DomainError::NotFound),
        Some(r) if r != revision => return Err(Conflict::Stale.into()),
        Some(_) => {}
    }
    let row: LoadedRow = sqlx::query_as(LOAD_SQL)
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    let approvers: Vec<String> = sqlx::query_scalar(APPROVERS_SQL)
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
    loaded(row, approvers)
}

/// The text of one version, as stored.
struct Text<'a> {
    title: &'a str,
    summary: &'a str,
    body: &'a str,
    source: &'a str,
    fields: &'a str,
}

impl<'a> Text<'a> {
    fn of(p: &'a Parsed, fields: &'a str) -> Self {
        Text {
            title: &p.title,
            summary: &p.summary,
            body: &p.body,
            source: &p.source,
            fields,
        }
    }
}

async fn write_version(
    tx: &mut Tx,
    id: i64,
    version: i64,
    t: &Text<'_>,
    who: &str,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO article_versions (article_id, version, title, summary, body, source, \
         fields, saved_by, saved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(version)
    .bind(t.title)
    .bind(t.summary)
    .bind(t.body)
    .bind(t.source)
    .bind(t.fields)
    .bind(who)
    .bind(tx.now().timestamp())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn set_channels(tx: &mut Tx, id: i64, channels: &[i64]) -> Result<(), DomainError> {
    sqlx::query("DELETE FROM article_channels WHERE article_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for c in channels {
        sqlx::query("INSERT INTO article_channels (article_id, channel_id) VALUES ($1, $2)")
            .bind(id)
            .bind(c)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn event(
    tx: &mut Tx,
    id: i64,
    action: ArticleAction,
    stage: i64,
    version: i64,
    actor: &StaffSession,
    note: &str,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO article_events (article_id, action, stage, version, actor, note, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(action.slug())
    .bind(stage)
    .bind(version)
    .bind(&actor.user.username)
    .bind(note)
    .bind(tx.now().timestamp())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// 解读助手: a draft interpretation of a policy, written from its text
/// (summary and key points, `aids::draft`) into the policy site's
/// interpretation channel, for the editor to correct and send to review.
/// Returns the draft's id.
pub async fn draft_interpretation(
    db: &Db,
    actor: &StaffSession,
    policy: i64,
    model: &super::drafting::LlmSettings,
) -> Result<(i64, super::drafting::DraftSource), DomainError> {
    let p = reading::detail(db, actor, policy).await?;
    if p.kind != ArticleKind::Policy {
        return Err(Conflict::NotAllowed.into());
    }
    let channel = reading::channels(db)
        .await?
        .into_iter()
        .find(|c| c.site_id == p.site.id && c.kind == ArticleKind::Interpretation)
        .ok_or_else(|| {
            DomainError::Invalid(vec![FieldError::new(
                "channels",
                "no_interpretation_channel",
                p.site.name.clone(),
            )])
        })?;
    let (title, _) = super::aids::draft(&p.title, &p.body);
    let (body, source) = super::drafting::draft_body(model, &p.title, &p.body).await;
    let input = ArticleInput {
        site: p.site.code.clone(),
        kind: ArticleKind::Interpretation.slug().into(),
        channels: vec![channel.id],
        title: title.chars().take(super::TITLE_MAX).collect(),
        body,
        source: p.source.clone(),
        policy: policy.to_string(),
        ..ArticleInput::default()
    };
    Ok((create(db, actor, &input).await?, source))
}
