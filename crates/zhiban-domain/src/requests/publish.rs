//! 公开选登: answered requests published with the citizen's agreement,
//! without personal data.

use serde::Serialize;

use super::lists::for_staff;
use super::repo::{Request, SELECT, dispatcher_sees, from_row, load, normalize_number};
use super::workflow::{RequestType, Satisfaction};
use crate::audit::{self, Entry};
use crate::identity::ids::mask_phone;
use crate::identity::staff::StaffSession;
use crate::{Conflict, Db, DomainError};

/// Publishes (or takes down) an answered request in 公开选登; only with
/// the citizen's agreement and once answered.
pub async fn set_published(
    db: &Db,
    staff: &StaffSession,
    number: &str,
    publish: bool,
) -> Result<Request, DomainError> {
    let r = for_staff(db, staff, number).await?;
    if !dispatcher_sees(staff, &r) {
        return Err(DomainError::Conflict(Conflict::NotAllowed));
    }
    if publish && (!r.publish_ok || r.answer.is_empty()) {
        return Err(DomainError::Conflict(Conflict::NotAllowed));
    }
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE requests SET published = $2, revision = revision + 1 WHERE id = $1")
        .bind(r.id)
        .bind(i64::from(publish))
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        &Entry::staff(
            &staff.user.username,
            if publish {
                "request.publish"
            } else {
                "request.unpublish"
            },
            &r.number,
        ),
    )
    .await?;
    tx.commit().await?;
    for_staff(db, staff, number).await
}

/// Personal data a citizen may have typed into a published text: mobile
/// numbers and 身份证号 are masked (the name and phone of the contact are
/// never shown at all).
pub fn scrub(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit() || chars[i] == 'X' || chars[i] == 'x')
            {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            let n = run.chars().count();
            if n == 11 && run.starts_with('1') {
                out.push_str(&mask_phone(&run));
            } else if n == 18 || n == 15 {
                out.push_str(&crate::identity::ids::mask_id_number(&run));
            } else {
                out.push_str(&run);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// A published request as the public reads it: no contact, no address.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub number: String,
    pub kind: RequestType,
    pub title: String,
    pub body: String,
    pub district_name: String,
    pub street: String,
    pub unit_name: String,
    pub answer: String,
    pub submitted_at: i64,
    pub answered_at: Option<i64>,
    pub satisfaction: Option<Satisfaction>,
}

impl From<Request> for Published {
    fn from(r: Request) -> Self {
        Published {
            title: scrub(&r.title),
            body: scrub(&r.body),
            answer: scrub(&r.answer),
            number: r.number,
            kind: r.kind,
            district_name: r.district_name,
            street: r.street,
            unit_name: r.unit_name,
            submitted_at: r.submitted_at,
            answered_at: r.answered_at,
            satisfaction: r.satisfaction,
        }
    }
}

/// 公开选登, newest answers first, optionally of one type.
pub async fn published(
    db: &Db,
    kind: Option<RequestType>,
    page: u32,
    per_page: i64,
) -> Result<(Vec<Published>, i64), DomainError> {
    let filter = if kind.is_some() {
        " AND r.kind = $1"
    } else {
        ""
    };
    let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM requests r WHERE r.published = 1 AND r.publish_ok = 1{filter}"
    )));
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE r.published = 1 AND r.publish_ok = 1{filter} \
         ORDER BY r.answered_at DESC, r.id DESC LIMIT {per_page} OFFSET {}",
        i64::from(page) * per_page
    )));
    if let Some(k) = kind {
        count = count.bind(k.slug());
        rows = rows.bind(k.slug());
    }
    let total = count.fetch_one(db.pool()).await?;
    let list = rows
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|row| from_row(db, row).map(Published::from))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((list, total))
}

/// One published request.
pub async fn published_one(db: &Db, number: &str) -> Result<Published, DomainError> {
    let mut conn = db.pool().acquire().await?;
    let r = load(db, &mut conn, &normalize_number(number)).await?;
    if r.published && r.publish_ok {
        Ok(r.into())
    } else {
        Err(DomainError::NotFound)
    }
}
