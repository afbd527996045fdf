//! Open311 GeoReport v2 (<https://wiki.open311.org/GeoReport_v2>): the
//! dispatch catalogue as services, and requests filed and read by other
//! systems (city apps, 12345 call-centre software). Filing needs an API
//! key; reading is public but shows only what the public may see — the
//! requests published as 公开选登, scrubbed of personal data — plus, for a
//! key, the requests that key filed (its client relays the answers).
//!
//! Keys are issued by staff who manage connected applications (shown
//! once; only a SHA-256 hash is kept) and can be revoked.

use sqlx::Row;

use super::filing::{NewRequest, file};
use super::publish::scrub;
use super::repo::Hall;
use super::routing::Routing;
use super::workflow::{RequestState, RequestType};
use crate::audit::{self, Entry};
use crate::identity::staff::{StaffSession, random_token, token_hash};
use crate::{Db, DomainError, FieldError};

/// An issued key (its secret is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

fn key_of(r: &sqlx::any::AnyRow) -> Result<ApiKey, DomainError> {
    Ok(ApiKey {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

const KEY_SELECT: &str =
    "SELECT id, name, prefix, created_by, created_at, last_used_at, revoked_at FROM api_keys";

/// Issues a key for a named client as a whole-city staff member; returns
/// it with the secret, shown once.
pub async fn issue_key_by(
    db: &Db,
    staff: &StaffSession,
    name: &str,
) -> Result<(ApiKey, String), DomainError> {
    crate::identity::scope::require_city(db, staff, "open311.keys").await?;
    issue_key(db, &staff.user.username, name).await
}

/// Issues a key for a named client (`actor` is who asked, for the audit
/// log: a staff member or the command line); returns it with the secret,
/// shown once.
pub async fn issue_key(db: &Db, actor: &str, name: &str) -> Result<(ApiKey, String), DomainError> {
    let name = name.trim();
    let n = name.chars().count();
    if !(2..=60).contains(&n) {
        let code = match n {
            0 => "required",
            1 => "too_short",
            _ => "too_long",
        };
        return Err(DomainError::Invalid(vec![FieldError::new(
            "api_key_name",
            code,
            if n == 1 { "2" } else { "" },
        )]));
    }
    let secret = format!("zb311_{}", random_token());
    let prefix: String = secret.chars().take(12).collect();
    let row = sqlx::query(
        "INSERT INTO api_keys (name, key_hash, prefix, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(name)
    .bind(token_hash(&secret))
    .bind(&prefix)
    .bind(actor)
    .bind(db.now().timestamp())
    .fetch_one(db.pool())
    .await?;
    let id: i64 = row.try_get("id")?;
    audit::record(
        db,
        Entry::staff(actor, "open311.key_issue", &prefix).detail(name),
    )
    .await?;
    let key = keys(db)
        .await?
        .into_iter()
        .find(|k| k.id == id)
        .ok_or(DomainError::NotFound)?;
    Ok((key, secret))
}

/// Every key, newest first.
pub async fn keys(db: &Db) -> Result<Vec<ApiKey>, DomainError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "{KEY_SELECT} ORDER BY id DESC"
    )))
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(key_of)
    .collect()
}

/// Stops a key at once.
pub async fn revoke_key(db: &Db, staff: &StaffSession, id: i64) -> Result<(), DomainError> {
    crate::identity::scope::require_city(db, staff, "open311.keys").await?;
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(db.now().timestamp())
            .bind(id)
            .execute(db.pool())
            .await?;
    if done.rows_affected() == 0 {
        return Err(DomainError::NotFound);
    }
    audit::record(
        db,
        Entry::staff(&staff.user.username, "open311.key_revoke", id.to_string()),
    )
    .await?;
    Ok(())
}

/// The live key with this secret (its last use noted), or none.
pub async fn key_for(db: &Db, secret: &str) -> Result<Option<ApiKey>, DomainError> {
    let secret = secret.trim();
    if secret.is_empty() {
        return Ok(None);
    }
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{KEY_SELECT} WHERE key_hash = $1 AND revoked_at IS NULL"
    )))
    .bind(token_hash(secret))
    .fetch_optional(db.pool())
    .await?;
    let Some(key) = row.as_ref().map(key_of).transpose()? else {
        return Ok(None);
    };
    sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
        .bind(db.now().timestamp())
        .bind(key.id)
        .execute(db.pool())
        .await?;
    Ok(Some(key))
}

/// A service: one category of the dispatch catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub code: String,
    pub name: String,
    pub description: String,
    /// The responsible unit (Open311's `group`).
    pub group: String,
}

pub async fn services(db: &Db) -> Result<Vec<Service>, DomainError> {
    Ok(super::catalogue::categories(db)
        .await?
        .into_iter()
        .map(|c| Service {
            code: c.id.to_string(),
            name: c.name,
            description: c.description,
            group: c.unit_name,
        })
        .collect())
}

/// The types a request may have, as the `request_type` attribute of every
/// service definition: (value, label).
pub fn request_types() -> Vec<(&'static str, &'static str)> {
    RequestType::ALL
        .iter()
        .map(|t| (t.slug(), t.label()))
        .collect()
}

/// A request as Open311 shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRequest {
    pub id: String,
    /// `open` or `closed`.
    pub status: &'static str,
    pub status_notes: String,
    pub service_name: String,
    pub service_code: String,
    pub description: String,
    pub agency_responsible: String,
    pub requested_at: i64,
    pub updated_at: i64,
    /// The answer deadline (Beijing end of day), while open.
    pub expected_at: Option<i64>,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// Which requests to read (GeoReport's GET parameters).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub ids: Vec<String>,
    pub service_code: Option<i64>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    /// `open` or `closed`.
    pub status: Option<String>,
}

fn status_of(state: RequestState) -> &'static str {
    if state.clock_running() {
        "open"
    } else {
        "closed"
    }
}

/// Requests visible to `key` (or to anyone), newest first: the published
/// ones and the key's own. Without ids or dates, the last 90 days; at most
/// 1,000 (the spec's defaults).
pub async fn find(
    db: &Db,
    key: Option<&ApiKey>,
    f: &Filter,
) -> Result<Vec<ServiceRequest>, DomainError> {
    let now = db.now().timestamp();
    let (start, end) = if f.ids.is_empty() {
        let end = f.end.unwrap_or(now);
        (f.start.unwrap_or(end - 90 * 86_400), end)
    } else {
        (f.start.unwrap_or(0), f.end.unwrap_or(i64::MAX / 2))
    };
    let ids: Vec<String> = f
        .ids
        .iter()
        .map(|s| super::repo::normalize_number(s))
        .filter(|s| !s.is_empty())
        .take(100)
        .collect();
    let rows = sqlx::query(
        "SELECT r.id, r.number, r.state, r.title, r.body, r.answer, r.street, r.address, \
         r.submitted_at, r.updated_at, r.due_on, r.lat, r.lon, r.published, r.publish_ok, \
         r.api_key_id, COALESCE(r.category_id, r.suggested_category_id) AS category, \
         COALESCE(c.name, '') AS category_name, COALESCE(u.name, '') AS unit_name, \
         COALESCE(dd.name, '') AS district_name FROM requests r \
         LEFT JOIN request_categories c ON c.id = COALESCE(r.category_id, r.suggested_category_id) \
         LEFT JOIN departments u ON u.id = r.unit_id \
         LEFT JOIN departments dd ON dd.id = r.district_id \
         WHERE ((r.published = 1 AND r.publish_ok = 1) OR r.api_key_id = $1) \
         AND r.submitted_at >= $2 AND r.submitted_at <= $3 \
         AND ($4 = 0 OR COALESCE(r.category_id, r.suggested_category_id) = $4) \
         ORDER BY r.submitted_at DESC, r.id DESC LIMIT 1000",
    )
    .bind(key.map(|k| k.id).unwrap_or(-1))
    .bind(start)
    .bind(end)
    .bind(f.service_code.unwrap_or(0))
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let number: String = r.try_get("number")?;
        if !ids.is_empty() && !ids.contains(&number) {
            continue;
        }
        let state = RequestState::from_slug(&r.try_get::<String, _>("state")?)
            .ok_or(DomainError::Internal("unreadable request"))?;
        let status = status_of(state);
        if f.status.as_deref().is_some_and(|s| s != status) {
            continue;
        }
        let own = key.is_some() && r.try_get::<Option<i64>, _>("api_key_id")? == key.map(|k| k.id);
        // The public sees the published text with personal data masked;
        // the client that filed it sees what it sent.
        let shown = |s: String| if own { s } else { scrub(&s) };
        let district: String = r.try_get("district_name")?;
        let street: String = r.try_get("street")?;
        let mut address = format!("{district}{street}");
        if own {
            address.push_str(&r.try_get::<String, _>("address")?);
        }
        let answer: String = r.try_get("answer")?;
        let status_notes = match state {
            RequestState::Rejected => "不予受理".to_string(),
            RequestState::Merged => "已与同一事项合并办理".to_string(),
            _ if !answer.is_empty() => shown(answer),
            s => s.label().to_string(),
        };
        let due: String = r.try_get("due_on")?;
        let expected_at = (status == "open")
            .then(|| super::repo::date(&due))
            .flatten()
            .map(|d| crate::time::at_local(d, 23, 59));
        let category: Option<i64> = r.try_get("category")?;
        out.push(ServiceRequest {
            id: number,
            status,
            status_notes,
            service_name: r.try_get("category_name")?,
            service_code: category.map(|c| c.to_string()).unwrap_or_default(),
            description: shown(r.try_get("body")?),
            agency_responsible: r.try_get("unit_name")?,
            requested_at: r.try_get("submitted_at")?,
            updated_at: r.try_get("updated_at")?,
            expected_at,
            address,
            lat: if own { r.try_get("lat")? } else { None },
            lon: if own { r.try_get("lon")? } else { None },
        });
    }
    Ok(out)
}

/// A request as another system posts it.
#[derive(Debug, Clone, Default)]
pub struct Posted {
    pub service_code: String,
    pub description: String,
    pub lat: Option<String>,
    pub lon: Option<String>,
    pub address: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    /// `attribute[request_type]`: consult, help, complaint (default),
    /// report, suggestion or praise.
    pub request_type: String,
    /// `attribute[district]`: the district's name or code; else found in
    /// the address.
    pub district: String,
    /// `attribute[publish]`: `true` when the writer agrees to 公开选登.
    pub publish: bool,
}

/// Files a request for the client holding `key`; returns its number.
pub async fn post(
    hall: &Hall<'_>,
    routing: &Routing,
    key: &ApiKey,
    p: &Posted,
) -> Result<String, DomainError> {
    let db = hall.db;
    let mut errs = Vec::new();
    let chosen_category = match p.service_code.trim() {
        "" => {
            errs.push(FieldError::new("service_code", "required", ""));
            None
        }
        code => match code.parse::<i64>() {
            Ok(c) => Some(c),
            Err(_) => {
                errs.push(FieldError::new("service_code", "invalid_choice", ""));
                None
            }
        },
    };
    let kind = match p.request_type.trim() {
        "" => Some(RequestType::Complaint),
        t => RequestType::from_slug(t).or_else(|| RequestType::from_label(t)),
    };
    if kind.is_none() {
        errs.push(FieldError::new("request_type", "invalid_choice", ""));
    }
    let number = |s: &Option<String>| -> Result<Option<f64>, ()> {
        match s.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => v.parse::<f64>().map(Some).map_err(|_| ()),
        }
    };
    let point = match (number(&p.lat), number(&p.lon)) {
        (Ok(Some(lat)), Ok(Some(lon))) => Some((lat, lon)),
        (Ok(None), Ok(None)) => None,
        _ => {
            errs.push(FieldError::new("request_point", "invalid", ""));
            None
        }
    };
    if !errs.is_empty() {
        return Err(DomainError::Invalid(errs));
    }
    let district_id = district_of(db, &p.district, &p.address).await?;
    let new = NewRequest {
        kind,
        mailbox: String::new(),
        title: String::new(),
        body: p.description.clone(),
        district_id,
        street: String::new(),
        address: p.address.clone(),
        contact_name: format!("{}{}", p.last_name.trim(), p.first_name.trim()),
        contact_phone: p.phone.clone(),
        publish_ok: p.publish,
        api_key_id: Some(key.id),
        point,
        chosen_category,
        ..NewRequest::default()
    };
    let r = file(hall, routing, None, &new).await?;
    audit::record(
        db,
        Entry::staff(&format!("api:{}", key.prefix), "open311.post", &r.number)
            .kind(audit::ActorKind::System),
    )
    .await?;
    Ok(r.number)
}

/// The district (区县) named by code or name, or else the first whose
/// name the address contains (渝北区龙溪街道… → 渝北区).
async fn district_of(db: &Db, given: &str, address: &str) -> Result<Option<i64>, DomainError> {
    let districts: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, code, name FROM departments WHERE level = '区县'")
            .fetch_all(db.pool())
            .await?;
    let given = given.trim();
    if !given.is_empty() {
        return Ok(districts
            .iter()
            .find(|(_, code, name)| code == given || name == given)
            .map(|(id, _, _)| *id));
    }
    Ok(districts
        .iter()
        .find(|(_, _, name)| {
            let short = name.trim_start_matches("渝州市");
            address.contains(short)
        })
        .map(|(id, _, _)| *id))
}
