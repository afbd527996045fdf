//! 一次一评: after serving someone at a counter, the staff member sends
//! them a text with a link to rate the visit. The link's token is random
//! and kept only as a hash; it rates once, stays readable (to see how a
//! bad rating was dealt with and to appeal) and expires after a week.

use serde::Serialize;

use super::repo::{NewRating, RectActor, Rectification, act, insert_rating, with_rectification};
use super::{Channel, Rating, RatingInput, RectAction};
use crate::audit::{self, Entry};
use crate::cases::Desk;
use crate::identity::Perm;
use crate::identity::ids::Phone;
use crate::identity::staff::{StaffSession, random_token, token_hash};
use crate::{Conflict, DomainError, FieldError, jobs, pii};

/// How long a rating link works.
pub const VISIT_DAYS: i64 = 7;

/// A counter visit as its link shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Visit {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub service_code: String,
    pub service_name: String,
    pub staff_label: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub rating: Option<Rating>,
    pub rectification: Option<Rectification>,
}

/// The item the visit was about, when the staff member named one.
pub struct VisitItem<'a> {
    pub code: &'a str,
    pub name: &'a str,
}

/// Records a visit to `staff`'s counter and texts the visitor the link
/// to rate it. Returns the link's token (shown to nobody; for tests).
pub async fn invite(
    desk: &Desk<'_>,
    staff: &StaffSession,
    phone: &str,
    item: Option<VisitItem<'_>>,
) -> Result<String, DomainError> {
    let db = desk.db;
    if !staff.can(Perm::CasesHandle) {
        return Err(Conflict::NotAllowed.into());
    }
    let Some(unit) = staff.user.unit_id else {
        return Err(Conflict::NotAllowed.into());
    };
    let phone = Phone::parse(phone).map_err(|e| DomainError::Invalid(vec![e]))?;
    let unit_name: String = sqlx::query_scalar("SELECT name FROM departments WHERE id = $1")
        .bind(unit)
        .fetch_one(db.pool())
        .await?;
    let token = random_token();
    let now = db.now().timestamp();
    let (code, name) = item.map_or(("", ""), |i| (i.code, i.name));
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO rating_visits (token_hash, unit_id, service_code, service_name, staff, \
         staff_label, phone, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(token_hash(&token))
    .bind(unit)
    .bind(code)
    .bind(name)
    .bind(&staff.user.username)
    .bind(&staff.user.display_name)
    .bind(pii::seal(db, pii::ctx::VISIT_PHONE, phone.as_str())?)
    .bind(now)
    .bind(now + VISIT_DAYS * 86_400)
    .fetch_one(&mut *tx)
    .await?;
    let what = if name.is_empty() {
        String::new()
    } else {
        format!("“{name}”")
    };
    let body = format!(
        "您刚在{unit_name}办理了{what}业务，请为本次服务评价（{VISIT_DAYS}日内有效）：{}/rate/{token}",
        desk.public_url.trim_end_matches('/'),
    );
    let payload = serde_json::json!({
        "phone": phone.as_str(),
        "body": crate::identity::sms::signed(&body),
    });
    jobs::enqueue_sealed(&mut tx, db, "sms", &payload, now).await?;
    audit::append(
        &mut tx,
        &Entry::staff(&staff.user.username, "rating.invite", id.to_string()),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// id, unit, unit name, item code and name, staff label, sent, expires.
type VisitRow = (i64, i64, String, String, String, String, i64, i64);

/// The visit a link's token names, rated or not (an unknown token: not found).
pub async fn visit(desk: &Desk<'_>, token: &str) -> Result<Visit, DomainError> {
    let db = desk.db;
    let row: Option<VisitRow> = sqlx::query_as(
        "SELECT v.id, v.unit_id, d.name, v.service_code, v.service_name, v.staff_label, \
         v.created_at, v.expires_at FROM rating_visits v JOIN departments d ON d.id = v.unit_id \
         WHERE v.token_hash = $1",
    )
    .bind(token_hash(token.trim()))
    .fetch_optional(db.pool())
    .await?;
    let Some((
        id,
        unit_id,
        unit_name,
        service_code,
        service_name,
        staff_label,
        created_at,
        expires_at,
    )) = row
    else {
        return Err(DomainError::NotFound);
    };
    let sql = format!(
        "SELECT {} FROM {} WHERE r.visit_id = $1",
        super::repo::RATING_COLS,
        super::repo::RATING_FROM
    );
    let rated = with_rectification(db, &sql, id).await?;
    let (rating, rectification) = match rated {
        Some((r, x)) => (Some(r), x),
        None => (None, None),
    };
    Ok(Visit {
        id,
        unit_id,
        unit_name,
        service_code,
        service_name,
        staff_label,
        created_at,
        expires_at,
        rating,
        rectification,
    })
}

/// Rates the visit a link names, once and before the link expires.
pub async fn rate_visit(
    desk: &Desk<'_>,
    token: &str,
    input: &RatingInput,
) -> Result<Visit, DomainError> {
    let db = desk.db;
    let v = visit(desk, token).await?;
    if v.rating.is_some() {
        return Err(Conflict::AlreadyRated.into());
    }
    if db.now().timestamp() >= v.expires_at {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "visit", "expired", "",
        )]));
    }
    let checked = input.check().map_err(DomainError::Invalid)?;
    let staff: (String, String) =
        sqlx::query_as("SELECT staff, staff_label FROM rating_visits WHERE id = $1")
            .bind(v.id)
            .fetch_one(db.pool())
            .await?;
    let service_name = if v.service_name.is_empty() {
        format!("{}窗口服务", v.unit_name)
    } else {
        v.service_name.clone()
    };
    let mut tx = db.begin().await?;
    let saved = insert_rating(
        &mut tx,
        desk,
        NewRating {
            channel: Channel::Counter,
            case_id: None,
            visit_id: Some(v.id),
            citizen_id: None,
            service_code: &v.service_code,
            service_name: &service_name,
            unit_id: v.unit_id,
            staff,
            checked,
            actor: format!("visit:{}", v.id),
            target: format!("visit:{}", v.id),
        },
    )
    .await;
    let committed = match saved {
        Ok(_) => tx.commit().await.map_err(DomainError::from),
        Err(e) => Err(e),
    };
    let after = visit(desk, token).await?;
    match committed {
        Ok(()) => Ok(after),
        Err(_) if after.rating.is_some() => Err(Conflict::AlreadyRated.into()),
        Err(e) => Err(e),
    }
}

/// The visitor appeals the outcome of their bad rating, once.
pub async fn appeal_visit(
    desk: &Desk<'_>,
    token: &str,
    text: &str,
) -> Result<Rectification, DomainError> {
    let v = visit(desk, token).await?;
    let x = v.rectification.ok_or(DomainError::NotFound)?;
    act(
        desk,
        RectActor::Rater(format!("visit:{}", v.id)),
        x.id,
        RectAction::Appeal,
        text,
        None,
    )
    .await
}
