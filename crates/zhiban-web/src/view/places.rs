//! The place picker of request forms: districts (区县) with their streets.

use crate::error::AppError;
use crate::view::ctx::PageCtx;
use zhiban_domain::{Db, requests};

/// One choice: `d:<district id>` or `d:<district id>:<street>`.
#[derive(Debug, Clone)]
pub struct PlaceOption {
    pub value: String,
    pub label: String,
}

/// A district and its choices (the district as a whole first).
#[derive(Debug, Clone)]
pub struct PlaceGroup {
    pub district: String,
    pub options: Vec<PlaceOption>,
}

pub async fn place_groups(db: &Db, ctx: &PageCtx) -> Result<Vec<PlaceGroup>, AppError> {
    Ok(requests::places(db)
        .await?
        .into_iter()
        .map(|(id, name, streets)| {
            let mut options = vec![PlaceOption {
                value: format!("d:{id}"),
                label: format!("{name}（{}）", ctx.t("requests.any_street")),
            }];
            options.extend(streets.into_iter().map(|s| PlaceOption {
                value: format!("d:{id}:{s}"),
                label: format!("{name} {s}"),
            }));
            PlaceGroup {
                district: name,
                options,
            }
        })
        .collect())
}

/// A chosen place as (district id, street).
pub fn parse_place(place: &str) -> (Option<i64>, String) {
    let mut parts = place.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("d"), Some(id), street) => (id.parse().ok(), street.unwrap_or("").trim().to_string()),
        _ => (None, String::new()),
    }
}
