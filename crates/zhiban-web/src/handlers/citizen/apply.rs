//! Applying online for one item (`/apply/{code}`): the smart-form wizard
//! (`view::wizard`) for a published online item.

use crate::error::AppError;
use crate::extract::{CitizenUser, Csrf, Issuer, MultipartForm};
use crate::state::AppState;
use crate::view::wizard::{self, Applying};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use zhiban_domain::catalog::ServiceItem;

fn published_item(state: &AppState, code: &str) -> Result<Applying, AppError> {
    state
        .catalog()
        .get(code)
        .filter(|s| s.online)
        .map(|s| Applying::Item(Box::new(ServiceItem::clone(s))))
        .ok_or(AppError::NotFound)
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub page: Option<usize>,
    #[serde(default)]
    pub saved: String,
}

pub async fn apply_form(
    State(state): State<AppState>,
    user: CitizenUser,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let applying = published_item(&state, &code)?;
    let citizen = user.citizen().clone();
    wizard::show(
        &state,
        user.ctx,
        &applying,
        &citizen,
        q.page,
        q.saved == "1",
    )
    .await
}

pub async fn apply_post(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Path(code): Path<String>,
    Csrf(form): Csrf<MultipartForm>,
) -> Result<Response, AppError> {
    let applying = published_item(&state, &code)?;
    let citizen = user.citizen().clone();
    wizard::post(&state, user.ctx, &applying, &citizen, &base, form).await
}
