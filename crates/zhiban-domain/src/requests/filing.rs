//! Filing a request: the checks (type, text, place, contact), a title
//! from the first sentence, the router's category, the number, the answer
//! clock and its supervision, and the citizen's message.

use sqlx::AnyConnection;

use super::repo::{
    Hall, MAILBOXES, Request, clip, day_text, load, next_number, record_event,
    schedule_supervision, tell,
};
use super::routing::Routing;
use super::workflow::{RequestAction, RequestState, RequestType};
use crate::cases::Deadlines;
use crate::identity::citizen::Citizen;
use crate::identity::ids::{Phone, mask_name};
use crate::time::local_date;
use crate::{Db, DomainError, FieldError, pii};

/// What a citizen (or a hotline operator for them) files.
#[derive(Debug, Clone, Default)]
pub struct NewRequest {
    pub kind: Option<RequestType>,
    pub mailbox: String,
    pub title: String,
    pub body: String,
    pub district_id: Option<i64>,
    pub street: String,
    pub address: String,
    pub contact_name: String,
    pub contact_phone: String,
    /// The citizen agrees that the answer may be published without their
    /// personal data (公开选登).
    pub publish_ok: bool,
    /// Filed through the Open311 interface with this API key.
    pub api_key_id: Option<i64>,
    /// Where it is, as latitude and longitude (WGS-84), when known.
    pub point: Option<(f64, f64)>,
    /// The category the writer chose (an Open311 service), proposed to
    /// the dispatcher instead of the router's guess.
    pub chosen_category: Option<i64>,
    /// Photos and PDFs already staged in the file store.
    pub attachments: Vec<super::files::Attachment>,
    /// Sent without an account (see [`super::anonymous`]): no contact.
    pub anonymous: bool,
    /// The argon2 hash of an anonymous writer's secret.
    pub secret_hash: String,
}

/// A title as a call-taker writes it: the first sentence, cut at 28
/// characters with an ellipsis.
pub fn title_of(body: &str) -> String {
    let first = body
        .split(['。', '！', '？', '\n', '!', '?', '；'])
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or("");
    let first = first.trim_end_matches(['，', ',', '、', ' ']);
    if first.chars().count() > 28 {
        let cut: String = first.chars().take(27).collect();
        format!("{}…", cut.trim_end_matches(['，', ',', '、', ' ']))
    } else {
        first.to_string()
    }
}

/// Types that are about a place: the district is required.
fn needs_place(t: RequestType) -> bool {
    matches!(
        t,
        RequestType::Help | RequestType::Complaint | RequestType::Report
    )
}

/// Checks a new request; returns the cleaned copy.
async fn check_new(db: &Db, new: &NewRequest) -> Result<NewRequest, DomainError> {
    let mut errs = Vec::new();
    let mut clean = new.clone();
    clean.title = clip(&new.title, 80);
    clean.body = new.body.trim().to_string();
    clean.street = clip(&new.street, 40);
    clean.address = clip(&new.address, 120);
    clean.contact_name = clip(&new.contact_name, 40);
    let Some(kind) = new.kind else {
        errs.push(FieldError::new("request_kind", "required", ""));
        return Err(DomainError::Invalid(errs));
    };
    let body_len = clean.body.chars().count();
    if body_len == 0 {
        errs.push(FieldError::new("request_body", "required", ""));
    } else if body_len < 10 {
        errs.push(FieldError::new("request_body", "too_short", "10"));
    } else if body_len > 3000 {
        errs.push(FieldError::new("request_body", "too_long", "3000"));
    }
    if clean.title.is_empty() {
        clean.title = title_of(&clean.body);
    }
    if !MAILBOXES.iter().any(|(k, _)| *k == clean.mailbox) {
        errs.push(FieldError::new("mailbox", "invalid_choice", ""));
    }
    // A point picked on the map, with no district chosen, says which.
    if clean.district_id.is_none()
        && let Some(p) = clean.point.filter(|(a, b)| a.is_finite() && b.is_finite())
    {
        clean.district_id = crate::geo::district_at(db, p).await?;
    }
    match clean.district_id {
        Some(d) => {
            let level: Option<String> =
                sqlx::query_scalar("SELECT level FROM departments WHERE id = $1")
                    .bind(d)
                    .fetch_optional(db.pool())
                    .await?;
            if level.as_deref() != Some("区县") {
                errs.push(FieldError::new("request_place", "invalid_choice", ""));
            }
        }
        None if needs_place(kind) => errs.push(FieldError::new("request_place", "required", "")),
        None => {}
    }
    if new.anonymous {
        clean.contact_name = String::new();
        clean.contact_phone = String::new();
        return if errs.is_empty() {
            Ok(clean)
        } else {
            Err(DomainError::Invalid(errs))
        };
    }
    match Phone::parse(&clean.contact_phone) {
        Ok(p) => clean.contact_phone = p.as_str().to_string(),
        Err(_) if clean.contact_phone.trim().is_empty() => {
            errs.push(FieldError::new("contact_phone", "required", ""))
        }
        Err(_) => errs.push(FieldError::new("contact_phone", "invalid_phone", "")),
    }
    if clean.contact_name.is_empty() {
        errs.push(FieldError::new("contact_name", "required", ""));
    }
    if let Some((lat, lon)) = clean.point
        && !(lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0)
    {
        errs.push(FieldError::new("request_point", "invalid", ""));
    }
    if let Some(c) = clean.chosen_category {
        let known: Option<i64> =
            sqlx::query_scalar("SELECT id FROM request_categories WHERE id = $1")
                .bind(c)
                .fetch_optional(db.pool())
                .await?;
        if known.is_none() {
            errs.push(FieldError::new("request_category", "invalid_choice", ""));
        }
    }
    if errs.is_empty() {
        Ok(clean)
    } else {
        Err(DomainError::Invalid(errs))
    }
}

/// The category id of a name in the catalogue.
async fn category_id(conn: &mut AnyConnection, name: &str) -> Result<Option<i64>, DomainError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM request_categories WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// Files a request: checked, numbered, classified by the router (the
/// dispatcher confirms), its answer clock started, the citizen told.
pub async fn file(
    hall: &Hall<'_>,
    routing: &Routing,
    citizen: Option<&Citizen>,
    new: &NewRequest,
) -> Result<Request, DomainError> {
    let db = hall.db;
    let new = check_new(db, new).await?;
    let kind = new.kind.ok_or(DomainError::Internal("checked"))?;
    let today = local_date(db.now());
    let limit = hall.settings.limit(kind);
    let d = Deadlines::new(hall.calendar, today, limit, limit, hall.yellow_percent);
    let suggested = routing
        .categories(&format!("{} {}", new.title, new.body), 1)
        .into_iter()
        .next();
    let mut tx = db.begin().await?;
    let suggested_id = match (new.chosen_category, &suggested) {
        (Some(c), _) => Some(c),
        (None, Some(s)) => category_id(&mut tx, &s.unit).await?,
        (None, None) => None,
    };
    let number = next_number(&mut tx, today).await?;
    let now = db.now().timestamp();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO requests (number, kind, mailbox, title, body, district_id, street, address, \
         citizen_id, contact_name, contact_phone, publish_ok, state, suggested_category_id, \
         submitted_at, due_on, yellow_on, updated_at, desk, running, api_key_id, lat, lon, \
         anonymous, secret_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $15, \
         'dispatcher', 1, $18, $19, $20, $21, $22) RETURNING id",
    )
    .bind(&number)
    .bind(kind.slug())
    .bind(&new.mailbox)
    .bind(&new.title)
    .bind(&new.body)
    .bind(new.district_id)
    .bind(&new.street)
    .bind(&new.address)
    .bind(citizen.map(|c| c.id))
    .bind(&new.contact_name)
    .bind(pii::seal(db, pii::ctx::REQUEST_PHONE, &new.contact_phone)?)
    .bind(i64::from(new.publish_ok))
    .bind(RequestState::Submitted.slug())
    .bind(suggested_id)
    .bind(now)
    .bind(day_text(d.due_on))
    .bind(day_text(d.yellow_on))
    .bind(new.api_key_id)
    .bind(new.point.map(|p| p.0))
    .bind(new.point.map(|p| p.1))
    .bind(i64::from(new.anonymous))
    .bind(&new.secret_hash)
    .fetch_one(&mut *tx)
    .await?;
    let (actor, label) = match citizen {
        Some(c) => (c.label(), c.masked_name()),
        None if new.anonymous => ("anonymous".to_string(), "匿名".to_string()),
        None => ("anonymous".to_string(), mask_name(&new.contact_name)),
    };
    record_event(
        &mut tx,
        id,
        &actor,
        &label,
        RequestAction::Submit,
        RequestState::Submitted,
        RequestState::Submitted,
        "",
    )
    .await?;
    super::files::attach(&mut tx, id, &new.attachments, now).await?;
    schedule_supervision(&mut tx, id, d.due_on, d.yellow_on).await?;
    tell(
        hall,
        &mut tx,
        "request-submit",
        citizen.map(|c| c.id),
        &new.contact_phone,
        &number,
        kind,
        &format!("{}个工作日内答复", limit),
    )
    .await?;
    tx.commit().await?;
    let mut conn = db.pool().acquire().await?;
    load(db, &mut conn, &number).await
}
