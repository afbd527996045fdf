//! Applying for a 一件事 (`/bundles/{code}/apply`, the shared wizard with
//! the bundle's merged form) and following one (`/my/bundles/{number}`):
//! one status, the date the slowest item sets, every item with its own
//! case, and one timeline.

use crate::error::AppError;
use crate::extract::{CitizenUser, Csrf, Issuer, MultipartForm};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::render;
use crate::view::wizard::{self, Applying};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use zhiban_domain::bundles;
use zhiban_domain::cases::bundled::{self, BundleCase, Expected};
use zhiban_domain::cases::{CaseEvent, Light};
use zhiban_domain::time::local_date;

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub page: Option<usize>,
    #[serde(default)]
    pub saved: String,
    #[serde(default)]
    pub new: String,
}

async fn published(state: &AppState, code: &str) -> Result<Applying, AppError> {
    Ok(Applying::Bundle(bundles::published(&state.db, code).await?))
}

pub async fn apply_form(
    State(state): State<AppState>,
    user: CitizenUser,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let applying = published(&state, &code).await?;
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
    let applying = published(&state, &code).await?;
    let citizen = user.citizen().clone();
    wizard::post(&state, user.ctx, &applying, &citizen, &base, form).await
}

#[derive(Template)]
#[template(path = "citizen/bundles/bundle.html")]
pub struct BundlePage {
    pub ctx: PageCtx,
    pub b: BundleCase,
    pub fresh: bool,
    /// Each open item's expected date, and the bundle's (its slowest).
    pub expected: Vec<Expected>,
    pub slowest: Option<Expected>,
    pub lights: Vec<Light>,
    /// (item, event), oldest first.
    pub timeline: Vec<(String, CaseEvent)>,
}

impl BundlePage {
    fn expected_for(&self, number: &str) -> Option<&Expected> {
        self.expected.iter().find(|e| e.number == number)
    }
    fn light_of(&self, i: &usize) -> String {
        self.lights
            .get(*i)
            .map(|l| l.slug())
            .unwrap_or("")
            .to_string()
    }
}

pub async fn my_bundle(
    State(state): State<AppState>,
    user: CitizenUser,
    Path(number): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let b = bundled::bundle_for_citizen(&state.db, user.citizen().id, &number).await?;
    let today = local_date(state.db.now());
    let (expected, slowest) = bundled::expected(
        &b.children,
        &state.calendar,
        state.config.cases.intake_working_days,
        today,
    );
    render(&BundlePage {
        timeline: bundled::timeline(&state.db, &b).await?,
        lights: b.children.iter().map(|c| c.light(today)).collect(),
        expected,
        slowest,
        fresh: q.new == "1",
        ctx: user.ctx,
        b,
    })
}
