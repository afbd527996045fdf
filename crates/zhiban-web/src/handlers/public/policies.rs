//! The policy library (`/policies`): the city's policy documents with their
//! 文号, 发文机关, 成文日期, 主题分类 and 有效性, filtered by each. Repealed and
//! expired documents stay listed and marked.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use zhiban_domain::content::reading::{self, Item};
use zhiban_domain::content::{ArticleKind, Validity};

use crate::error::AppError;
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::{Cached, Pager, cache_lookup};

const PER_PAGE: usize = 20;

#[derive(Debug, Default, Deserialize)]
pub struct PolicyQuery {
    #[serde(default)]
    pub issuer: String,
    #[serde(default)]
    pub year: String,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub validity: String,
    #[serde(default)]
    pub page: Option<usize>,
}

/// One document in the list.
pub struct Row {
    pub id: i64,
    pub title: String,
    pub doc_number: String,
    pub issuer: String,
    pub written_on: String,
    pub validity: Option<Validity>,
}

#[derive(Template)]
#[template(path = "public/policies/policies.html")]
pub struct PoliciesPage {
    pub ctx: PageCtx,
    pub q: PolicyQuery,
    /// (value, count) of each filter, over every document.
    pub issuers: Vec<(String, usize)>,
    pub years: Vec<(String, usize)>,
    pub topics: Vec<(String, usize)>,
    pub rows: Vec<Row>,
    pub pager: Pager,
}

fn year_of(i: &Item) -> String {
    i.fields
        .written_on
        .map(|d| d.format("%Y").to_string())
        .unwrap_or_default()
}

fn counts(values: impl Iterator<Item = String>) -> Vec<(String, usize)> {
    let mut m: BTreeMap<String, usize> = BTreeMap::new();
    for v in values.filter(|v| !v.is_empty()) {
        *m.entry(v).or_default() += 1;
    }
    m.into_iter().collect()
}

pub async fn policies(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<PolicyQuery>,
) -> Result<Response, AppError> {
    let miss = match cache_lookup(&state, &ctx, "") {
        Cached::Hit(page) => return Ok(page),
        Cached::Miss(m) => m,
    };
    let all = reading::live_of_kind(&state.db, ArticleKind::Policy).await?;
    let issuers = counts(all.iter().map(|i| i.fields.issuer.clone()));
    let mut years = counts(all.iter().map(year_of));
    years.reverse();
    let topics = counts(all.iter().map(|i| i.fields.topic.clone()));
    let matching: Vec<&Item> = all
        .iter()
        .filter(|i| q.issuer.is_empty() || i.fields.issuer == q.issuer)
        .filter(|i| q.year.is_empty() || year_of(i) == q.year)
        .filter(|i| q.topic.is_empty() || i.fields.topic == q.topic)
        .filter(|i| q.validity.is_empty() || i.fields.validity == q.validity)
        .collect();
    let base = format!(
        "/policies?issuer={}&year={}&topic={}&validity={}",
        urlencode(&q.issuer),
        urlencode(&q.year),
        urlencode(&q.topic),
        urlencode(&q.validity)
    );
    let pager = Pager::new(&base, q.page.unwrap_or(1), PER_PAGE, matching.len());
    let rows = matching
        .into_iter()
        .skip(pager.offset(PER_PAGE))
        .take(PER_PAGE)
        .map(|i| Row {
            id: i.id,
            title: i.title.clone(),
            doc_number: i.fields.doc_number.clone(),
            issuer: i.fields.issuer.clone(),
            written_on: i
                .fields
                .written_on
                .map(|d| d.to_string())
                .unwrap_or_default(),
            validity: Validity::from_slug(&i.fields.validity),
        })
        .collect();
    miss.store(
        &state,
        &PoliciesPage {
            ctx,
            q,
            issuers,
            years,
            topics,
            rows,
            pager,
        },
    )
}
