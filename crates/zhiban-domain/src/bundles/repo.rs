//! Storing bundles: saved by city-level catalog editors (a bundle crosses
//! departments), published and taken down like items, every change audited.

use sqlx::Row;

use super::{Bundle, BundleInput, Parsed};
use crate::audit::{self, Entry};
use crate::catalog::{self, Audience, ServiceItem, Status};
use crate::identity::staff::StaffSession;
use crate::identity::{Perm, Scope};
use crate::{Db, DomainError, FieldError};

const SELECT: &str = "SELECT id, code, name, summary, audience, questions, items, status, \
    position, updated_by, updated_at FROM bundles";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Bundle, DomainError> {
    let bad = |col: &str| sqlx::Error::ColumnDecode {
        index: col.to_string(),
        source: "unreadable value".into(),
    };
    let text = |col: &str| r.try_get::<String, _>(col);
    Ok(Bundle {
        id: r.try_get("id")?,
        code: text("code")?,
        name: text("name")?,
        summary: text("summary")?,
        audience: Audience::from_slug(&text("audience")?).ok_or_else(|| bad("audience"))?,
        questions: serde_json::from_str(&text("questions")?).map_err(|_| bad("questions"))?,
        items: serde_json::from_str(&text("items")?).map_err(|_| bad("items"))?,
        status: Status::from_slug(&text("status")?).ok_or_else(|| bad("status"))?,
        position: r.try_get("position")?,
        updated_by: text("updated_by")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Every bundle (or only the published ones), in the order staff set.
pub async fn list(db: &Db, published_only: bool) -> Result<Vec<Bundle>, DomainError> {
    let sql = if published_only {
        format!("{SELECT} WHERE status = 'published' ORDER BY position, id")
    } else {
        format!("{SELECT} ORDER BY position, id")
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(db: &Db, code: &str) -> Result<Bundle, DomainError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE code = $1")))
        .bind(code)
        .fetch_optional(db.pool())
        .await?
        .ok_or(DomainError::NotFound)?;
    from_row(&row)
}

/// A published bundle, as citizens see it.
pub async fn published(db: &Db, code: &str) -> Result<Bundle, DomainError> {
    match get(db, code).await {
        Ok(b) if b.status == Status::Published => Ok(b),
        Ok(_) => Err(DomainError::NotFound),
        Err(e) => Err(e),
    }
}

/// The published bundles an item belongs to (its guide points to them).
pub async fn containing(db: &Db, item_code: &str) -> Result<Vec<Bundle>, DomainError> {
    Ok(list(db, true)
        .await?
        .into_iter()
        .filter(|b| b.items.iter().any(|i| i.code == item_code))
        .collect())
}

/// The bundle's items as the catalog has them now, in its order; an item
/// taken down since is left out.
pub async fn items_of(db: &Db, b: &Bundle) -> Result<Vec<ServiceItem>, DomainError> {
    let mut out = Vec::new();
    for i in &b.items {
        match catalog::get_service(db, &i.code).await {
            Ok(s) if s.status == Status::Published && s.online => out.push(s),
            Ok(_) | Err(DomainError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

fn city_editor(staff: &StaffSession, perm: Perm) -> bool {
    staff.can(perm) && matches!(staff.scope, Scope::All)
}

/// Checks that every item is a published online item.
async fn check_items(db: &Db, p: &Parsed) -> Result<(), DomainError> {
    let mut errs = Vec::new();
    for i in &p.items {
        match catalog::get_service(db, &i.code).await {
            Ok(s) if s.status == Status::Published && s.online => {}
            Ok(_) | Err(DomainError::NotFound) => errs.push(FieldError::new(
                "bundle_items",
                "bundle_unknown_item",
                i.code.clone(),
            )),
            Err(e) => return Err(e),
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Invalid(errs))
    }
}

/// Writes a checked definition (new or replacing `original`).
pub(super) async fn store(
    db: &Db,
    actor: &str,
    original: Option<&str>,
    p: &Parsed,
    status: Status,
) -> Result<Bundle, DomainError> {
    check_items(db, p).await?;
    let taken: Option<String> = sqlx::query_scalar("SELECT code FROM bundles WHERE code = $1")
        .bind(&p.code)
        .fetch_optional(db.pool())
        .await?;
    if taken.is_some() && original != Some(p.code.as_str()) {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "bundle_code",
            "bundle_code_taken",
            p.code.clone(),
        )]));
    }
    let questions =
        serde_json::to_string(&p.questions).map_err(|_| DomainError::Internal("json"))?;
    let items = serde_json::to_string(&p.items).map_err(|_| DomainError::Internal("json"))?;
    let now = db.now().timestamp();
    match original {
        Some(code) => {
            let n = sqlx::query(
                "UPDATE bundles SET code = $2, name = $3, summary = $4, audience = $5, \
                 questions = $6, items = $7, position = $8, updated_by = $9, updated_at = $10 \
                 WHERE code = $1",
            )
            .bind(code)
            .bind(&p.code)
            .bind(&p.name)
            .bind(&p.summary)
            .bind(p.audience.slug())
            .bind(&questions)
            .bind(&items)
            .bind(p.position)
            .bind(actor)
            .bind(now)
            .execute(db.pool())
            .await?;
            if n.rows_affected() == 0 {
                return Err(DomainError::NotFound);
            }
        }
        None => {
            sqlx::query(
                "INSERT INTO bundles (code, name, summary, audience, questions, items, status, \
                 position, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&p.code)
            .bind(&p.name)
            .bind(&p.summary)
            .bind(p.audience.slug())
            .bind(&questions)
            .bind(&items)
            .bind(status.slug())
            .bind(p.position)
            .bind(actor)
            .bind(now)
            .execute(db.pool())
            .await?;
        }
    }
    get(db, &p.code).await
}

/// Saves a bundle from the staff form: a new one starts as a draft.
pub async fn save(
    db: &Db,
    staff: &StaffSession,
    original: Option<&str>,
    input: &BundleInput,
) -> Result<Bundle, DomainError> {
    if !city_editor(staff, Perm::CatalogEdit) {
        crate::identity::scope::record_refusal(db, staff, "bundles", "city_level").await?;
        return Err(DomainError::CityLevel);
    }
    let parsed = input.parse().map_err(DomainError::Invalid)?;
    let b = store(db, &staff.user.username, original, &parsed, Status::Draft).await?;
    audit::record(
        db,
        Entry::staff(&staff.user.username, "bundle.save", &b.code),
    )
    .await?;
    Ok(b)
}

/// Publishes or takes down a bundle; publishing checks the items again.
pub async fn set_status(
    db: &Db,
    staff: &StaffSession,
    code: &str,
    status: Status,
) -> Result<Bundle, DomainError> {
    if !city_editor(staff, Perm::CatalogPublish) {
        crate::identity::scope::record_refusal(db, staff, "bundles", "city_level").await?;
        return Err(DomainError::CityLevel);
    }
    let b = get(db, code).await?;
    if status == Status::Published {
        let p = Parsed {
            code: b.code.clone(),
            name: b.name.clone(),
            summary: b.summary.clone(),
            audience: b.audience,
            questions: b.questions.clone(),
            items: b.items.clone(),
            position: b.position,
        };
        check_items(db, &p).await?;
    }
    sqlx::query("UPDATE bundles SET status = $2, updated_by = $3, updated_at = $4 WHERE code = $1")
        .bind(code)
        .bind(status.slug())
        .bind(&staff.user.username)
        .bind(db.now().timestamp())
        .execute(db.pool())
        .await?;
    audit::record(
        db,
        Entry::staff(&staff.user.username, "bundle.status", code).detail(status.slug()),
    )
    .await?;
    get(db, code).await
}
