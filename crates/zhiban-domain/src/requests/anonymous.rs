//! 匿名反映: a 举报 or a 建议 sent without an account. Nothing about the
//! writer is kept — no name, phone, account, address or device — and the
//! request is followed with its number and a secret shown once (only the
//! secret's argon2 hash is kept). There is no call-back: the dispatcher
//! records the 回访 step as not possible.

use super::filing::{NewRequest, file};
use super::repo::{Hall, Request, load, normalize_number};
use super::routing::Routing;
use super::workflow::RequestType;
use crate::identity::staff::{dummy_hash, hash_password, verify_password};
use crate::tips::{normalize, random_code};
use crate::{Db, DomainError, FieldError};

/// The types that may be sent without an account.
pub const KINDS: &[RequestType] = &[RequestType::Report, RequestType::Suggestion];

/// Files an anonymous request; returns it with its secret (shown once).
pub async fn file_anonymous(
    hall: &Hall<'_>,
    routing: &Routing,
    new: &NewRequest,
) -> Result<(Request, String), DomainError> {
    if new.kind.is_some_and(|k| !KINDS.contains(&k)) {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "request_kind",
            "anonymous_kinds",
            "",
        )]));
    }
    let secret = random_code(12);
    let new = NewRequest {
        anonymous: true,
        secret_hash: hash_password(&secret)?,
        contact_name: String::new(),
        contact_phone: String::new(),
        api_key_id: None,
        ..new.clone()
    };
    let r = file(hall, routing, None, &new).await?;
    Ok((r, secret))
}

/// An anonymous request, by its number and secret. A wrong pair is
/// answered like a missing one, after the same hashing work.
pub async fn follow(db: &Db, number: &str, secret: &str) -> Result<Request, DomainError> {
    let number = normalize_number(number);
    let hash: Option<String> =
        sqlx::query_scalar("SELECT secret_hash FROM requests WHERE number = $1 AND anonymous = 1")
            .bind(&number)
            .fetch_optional(db.pool())
            .await?;
    match hash {
        Some(h) if verify_password(&normalize(secret), &h) => {
            let mut conn = db.pool().acquire().await?;
            load(db, &mut conn, &number).await
        }
        Some(_) => Err(DomainError::NotFound),
        None => {
            let _ = verify_password(secret, dummy_hash());
            Err(DomainError::NotFound)
        }
    }
}
