//! The moderators' side of an interview (主持在线访谈): scheduling it,
//! showing or declining questions, posting the guests' answers (typed by
//! the studio's moderator, as real 在线访谈 are), the host's words and
//! photos, and starting and ending it. Interviews belong to a unit: a
//! moderator works on those of their data scope; any other reads as
//! missing, and the refusal is audited.

use sqlx::Row;

use super::{
    Interview, InterviewKind, InterviewState, Post, PostKind, PostState, check_text, get, log,
    parse_guests, posts,
};
use crate::audit::{self, Entry};
use crate::identity::scope::{chosen_unit, record_refusal};
use crate::identity::staff::StaffSession;
use crate::{Db, DomainError, FieldError};

/// The interviews of the moderator's data scope, newest first.
pub async fn mine(db: &Db, staff: &StaffSession) -> Result<Vec<Interview>, DomainError> {
    let mut all = super::list(db, None).await?;
    all.retain(|i| staff.scope.covers(i.unit_id));
    all.sort_by_key(|i| -i.starts_at);
    Ok(all)
}

/// One interview of the moderator's data scope.
pub async fn for_host(db: &Db, staff: &StaffSession, id: i64) -> Result<Interview, DomainError> {
    let interview = get(db, id).await?;
    if !staff.scope.covers(interview.unit_id) {
        record_refusal(db, staff, &format!("interview:{id}"), "out_of_scope").await?;
        return Err(DomainError::OutOfScope);
    }
    Ok(interview)
}

/// The moderation console: the interview, the questions waiting, what has
/// been shown, and where the live stream continues.
#[derive(Debug, Clone)]
pub struct Console {
    pub interview: Interview,
    pub pending: Vec<Post>,
    pub shown: Vec<Post>,
    pub last_event: i64,
}

pub async fn console(db: &Db, staff: &StaffSession, id: i64) -> Result<Console, DomainError> {
    let interview = for_host(db, staff, id).await?;
    Ok(Console {
        pending: posts(db, id, &[PostState::Pending]).await?,
        shown: posts(db, id, &[PostState::Shown]).await?,
        last_event: super::last_event(db, id).await?,
        interview,
    })
}

/// The scheduling form, as typed.
#[derive(Debug, Clone, Default)]
pub struct InterviewForm {
    pub kind: String,
    pub title: String,
    pub summary: String,
    pub guests: String,
    pub unit_id: Option<i64>,
    pub starts_at: String,
    pub ends_at: String,
}

struct Checked {
    kind: InterviewKind,
    title: String,
    summary: String,
    guests: String,
    unit_id: i64,
    starts_at: i64,
    ends_at: i64,
}

async fn check(
    db: &Db,
    staff: &StaffSession,
    form: &InterviewForm,
) -> Result<Checked, DomainError> {
    let mut errs = Vec::new();
    let kind = InterviewKind::from_slug(&form.kind);
    if kind.is_none() {
        errs.push(FieldError::new("interview_kind", "invalid_choice", ""));
    }
    let title = check_text(&form.title, "interview_title", 4, 80, &mut errs);
    let summary = check_text(&form.summary, "interview_summary", 10, 2000, &mut errs);
    let guests = parse_guests(&form.guests);
    if guests.is_empty() {
        errs.push(FieldError::new("interview_guests", "required", ""));
    } else if guests.len() > 10
        || guests
            .iter()
            .any(|g| g.name.chars().count() > 20 || g.title.chars().count() > 60)
    {
        errs.push(FieldError::new("interview_guests", "too_long", ""));
    }
    let period = crate::time::check_period(
        &form.starts_at,
        &form.ends_at,
        ("interview_starts", "interview_ends"),
        &mut errs,
    );
    let unit_id = chosen_unit(db, staff, form.unit_id, "interview_unit", &mut errs).await?;
    match (kind, unit_id, period) {
        (Some(kind), Some(unit_id), Some((starts_at, ends_at))) if errs.is_empty() => Ok(Checked {
            kind,
            title,
            summary,
            guests: form.guests.trim().replace("\r\n", "\n"),
            unit_id,
            starts_at,
            ends_at,
        }),
        _ => Err(DomainError::Invalid(errs)),
    }
}

/// Schedules an interview (预告); returns its id.
pub async fn create(
    db: &Db,
    staff: &StaffSession,
    form: &InterviewForm,
) -> Result<i64, DomainError> {
    let c = check(db, staff, form).await?;
    let row = sqlx::query(
        "INSERT INTO interviews (kind, title, summary, guests, unit_id, starts_at, ends_at, \
         state, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'scheduled', $8, $9) \
         RETURNING id",
    )
    .bind(c.kind.slug())
    .bind(&c.title)
    .bind(&c.summary)
    .bind(&c.guests)
    .bind(c.unit_id)
    .bind(c.starts_at)
    .bind(c.ends_at)
    .bind(&staff.user.username)
    .bind(db.now().timestamp())
    .fetch_one(db.pool())
    .await?;
    let id: i64 = row.try_get("id")?;
    audit::record(
        db,
        Entry::staff(&staff.user.username, "interview.create", id.to_string()),
    )
    .await?;
    Ok(id)
}

/// Changes what the announcement says (title, guests, times, unit).
pub async fn update(
    db: &Db,
    staff: &StaffSession,
    id: i64,
    form: &InterviewForm,
) -> Result<(), DomainError> {
    for_host(db, staff, id).await?;
    let c = check(db, staff, form).await?;
    sqlx::query(
        "UPDATE interviews SET kind = $1, title = $2, summary = $3, guests = $4, unit_id = $5, \
         starts_at = $6, ends_at = $7 WHERE id = $8",
    )
    .bind(c.kind.slug())
    .bind(&c.title)
    .bind(&c.summary)
    .bind(&c.guests)
    .bind(c.unit_id)
    .bind(c.starts_at)
    .bind(c.ends_at)
    .bind(id)
    .execute(db.pool())
    .await?;
    audit::record(
        db,
        Entry::staff(&staff.user.username, "interview.update", id.to_string()),
    )
    .await?;
    Ok(())
}

/// What a moderator does with a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moderation {
    /// A waiting question shows.
    Show,
    /// A waiting question is not used.
    Decline,
    /// Something shown is taken down (it stays in the record as declined).
    Withdraw,
}

pub async fn moderate(
    db: &Db,
    staff: &StaffSession,
    id: i64,
    post_id: i64,
    what: Moderation,
) -> Result<(), DomainError> {
    for_host(db, staff, id).await?;
    let post = super::post(db, id, post_id).await?;
    let (from, to, event) = match what {
        Moderation::Show => (PostState::Pending, PostState::Shown, Some("shown")),
        Moderation::Decline => (PostState::Pending, PostState::Rejected, None),
        Moderation::Withdraw => (PostState::Shown, PostState::Rejected, Some("hidden")),
    };
    if post.state != from {
        return Err(DomainError::Conflict(crate::Conflict::Stale));
    }
    let mut tx = db.begin().await?;
    let now = tx.now().timestamp();
    let done = sqlx::query(
        "UPDATE interview_posts SET state = $1, shown_at = CASE WHEN $1 = 'shown' THEN $2 \
         ELSE shown_at END WHERE id = $3 AND state = $4",
    )
    .bind(to.slug())
    .bind(now)
    .bind(post_id)
    .bind(from.slug())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(DomainError::Conflict(crate::Conflict::Stale));
    }
    if let Some(event) = event {
        log(&mut tx, id, event, Some(post_id), now).await?;
    }
    tx.commit().await?;
    let action = match what {
        Moderation::Show => "interview.show",
        Moderation::Decline => "interview.decline",
        Moderation::Withdraw => "interview.withdraw",
    };
    audit::record(
        db,
        Entry::staff(&staff.user.username, action, format!("{id}/{post_id}")),
    )
    .await?;
    Ok(())
}

/// Words said in the studio: a guest's (by name, answering a question or
/// not) or the host's (no guest).
#[derive(Debug, Clone, Default)]
pub struct Say {
    /// The guest speaking; empty: the host (主持人).
    pub guest: String,
    /// The question answered (shown with it; a waiting one shows first).
    pub reply_to: Option<i64>,
    pub text: String,
}

pub async fn say(db: &Db, staff: &StaffSession, id: i64, say: &Say) -> Result<i64, DomainError> {
    let interview = for_host(db, staff, id).await?;
    if interview.state == InterviewState::Ended {
        return Err(DomainError::Conflict(crate::Conflict::NotAllowed));
    }
    let mut errs = Vec::new();
    let text = check_text(&say.text, "interview_text", 2, 3000, &mut errs);
    let guest = say.guest.trim();
    let (kind, speaker) = if guest.is_empty() {
        (PostKind::Host, "主持人".to_string())
    } else if let Some(g) = interview.guests.iter().find(|g| g.name == guest) {
        let speaker = if g.title.is_empty() {
            g.name.clone()
        } else {
            format!("{}（{}）", g.name, g.title)
        };
        (PostKind::Answer, speaker)
    } else {
        errs.push(FieldError::new("interview_guest", "invalid_choice", ""));
        (PostKind::Host, String::new())
    };
    let question = match say.reply_to {
        Some(q) => {
            let p = super::post(db, id, q).await?;
            if p.kind != PostKind::Question || p.state == PostState::Rejected {
                errs.push(FieldError::new("interview_question", "invalid_choice", ""));
            }
            Some(p)
        }
        None => None,
    };
    if !errs.is_empty() {
        return Err(DomainError::Invalid(errs));
    }
    let mut tx = db.begin().await?;
    let now = tx.now().timestamp();
    if let Some(q) = question.as_ref().filter(|q| q.state == PostState::Pending) {
        sqlx::query("UPDATE interview_posts SET state = 'shown', shown_at = $1 WHERE id = $2")
            .bind(now)
            .bind(q.id)
            .execute(&mut *tx)
            .await?;
        log(&mut tx, id, "shown", Some(q.id), now).await?;
    }
    let post_id = insert_shown(&mut tx, id, kind, &speaker, &text, say.reply_to, None, now).await?;
    tx.commit().await?;
    audit::record(
        db,
        Entry::staff(
            &staff.user.username,
            "interview.say",
            format!("{id}/{post_id}"),
        ),
    )
    .await?;
    Ok(post_id)
}

#[allow(clippy::too_many_arguments)]
async fn insert_shown(
    tx: &mut crate::Tx,
    id: i64,
    kind: PostKind,
    speaker: &str,
    body: &str,
    reply_to: Option<i64>,
    file_key: Option<&str>,
    now: i64,
) -> Result<i64, DomainError> {
    let row = sqlx::query(
        "INSERT INTO interview_posts (interview_id, kind, speaker, body, reply_to, file_key, \
         state, created_at, shown_at) VALUES ($1, $2, $3, $4, $5, $6, 'shown', $7, $7) \
         RETURNING id",
    )
    .bind(id)
    .bind(kind.slug())
    .bind(speaker)
    .bind(body)
    .bind(reply_to)
    .bind(file_key)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    let post_id: i64 = row.try_get("id")?;
    log(tx, id, "shown", Some(post_id), now).await?;
    Ok(post_id)
}

/// Checks a photo's caption before the file is stored (it is the image's
/// text for people who cannot see it, so it is required).
pub fn check_caption(caption: &str) -> Result<String, DomainError> {
    let mut errs = Vec::new();
    let c = check_text(caption, "interview_caption", 2, 200, &mut errs);
    if errs.is_empty() {
        Ok(c)
    } else {
        Err(DomainError::Invalid(errs))
    }
}

/// Posts a photo already stored under `file_key`, with its caption.
pub async fn photo(
    db: &Db,
    staff: &StaffSession,
    id: i64,
    file_key: &str,
    caption: &str,
) -> Result<i64, DomainError> {
    for_host(db, staff, id).await?;
    let caption = check_caption(caption)?;
    let mut tx = db.begin().await?;
    let now = tx.now().timestamp();
    let post_id = insert_shown(
        &mut tx,
        id,
        PostKind::Photo,
        "主持人",
        &caption,
        None,
        Some(file_key),
        now,
    )
    .await?;
    tx.commit().await?;
    audit::record(
        db,
        Entry::staff(
            &staff.user.username,
            "interview.photo",
            format!("{id}/{post_id}"),
        ),
    )
    .await?;
    Ok(post_id)
}

/// Starts (预告 → 直播中) or ends (直播中 → 已结束) the interview.
pub async fn set_state(
    db: &Db,
    staff: &StaffSession,
    id: i64,
    to: InterviewState,
) -> Result<(), DomainError> {
    let interview = for_host(db, staff, id).await?;
    let from = match to {
        InterviewState::Live => InterviewState::Scheduled,
        InterviewState::Ended => InterviewState::Live,
        InterviewState::Scheduled => {
            return Err(DomainError::Conflict(crate::Conflict::NotAllowed));
        }
    };
    if interview.state != from {
        return Err(DomainError::Conflict(crate::Conflict::Stale));
    }
    let mut tx = db.begin().await?;
    let now = tx.now().timestamp();
    let done = sqlx::query("UPDATE interviews SET state = $1 WHERE id = $2 AND state = $3")
        .bind(to.slug())
        .bind(id)
        .bind(from.slug())
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() != 1 {
        return Err(DomainError::Conflict(crate::Conflict::Stale));
    }
    log(&mut tx, id, "state", None, now).await?;
    tx.commit().await?;
    audit::record(
        db,
        Entry::staff(
            &staff.user.username,
            if to == InterviewState::Live {
                "interview.start"
            } else {
                "interview.end"
            },
            id.to_string(),
        ),
    )
    .await?;
    Ok(())
}
