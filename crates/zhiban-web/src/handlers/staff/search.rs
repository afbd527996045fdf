//! Search insights and synonyms (`/admin/search…`).

use crate::error::AppError;
use crate::extract::Staff;
use crate::extract::{Csrf, NoFields};
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::{error_message, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::{DomainError, search_terms};

#[derive(Debug, Default, Deserialize)]
pub struct InsightsQuery {
    #[serde(default)]
    pub days: Option<i64>,
    #[serde(rename = "try", default)]
    pub try_query: String,
    #[serde(default)]
    pub saved: String,
}

#[derive(Template)]
#[template(path = "staff/search/search.html")]
pub struct SearchInsightsPage {
    pub ctx: PageCtx,
    pub days: i64,
    pub top: Vec<search_terms::QueryStat>,
    pub zero: Vec<search_terms::QueryStat>,
    pub synonyms: Vec<search_terms::Synonym>,
    pub builtin: usize,
    pub try_query: String,
    pub understood: Option<zhiban_search::Understood>,
    pub try_hits: Vec<String>,
    pub errors: Vec<String>,
    pub phrase: String,
    pub replacement: String,
    pub saved: bool,
    /// Synonyms are city-wide: whole-city accounts change them.
    pub editable: bool,
    /// 大家都在搜 candidates of the last 7 days and their decisions.
    pub hot: Vec<search_terms::HotCandidate>,
    /// Synonyms the search log suggests (last 30 days), for staff to accept.
    pub learned: Vec<search_terms::Learned>,
}

async fn insights_page(
    state: &AppState,
    staff: Staff,
    q: &InsightsQuery,
) -> Result<SearchInsightsPage, AppError> {
    let editable = staff.session.scope.is_whole();
    let ctx = staff.ctx;
    let days = q.days.unwrap_or(30).clamp(1, 366);
    let since = state.db.now() - chrono::Duration::days(days);
    let stats = search_terms::query_stats(&state.db, since, 200).await?;
    let top = stats.iter().take(30).cloned().collect();
    let zero = stats
        .iter()
        .filter(|s| s.zero > 0)
        .take(30)
        .cloned()
        .collect();
    let try_query: String = q.try_query.trim().chars().take(100).collect();
    let (understood, try_hits) = if try_query.is_empty() {
        (None, Vec::new())
    } else {
        let hits = state
            .search
            .search(&zhiban_search::SearchQuery {
                text: try_query.clone(),
                limit: 5,
                ..Default::default()
            })
            .map(|r| r.hits.iter().map(|h| h.doc.title.clone()).collect())
            .unwrap_or_default();
        (Some(state.search.understand(&try_query)), hits)
    };
    Ok(SearchInsightsPage {
        days,
        top,
        zero,
        synonyms: search_terms::synonyms(&state.db).await?,
        builtin: zhiban_search::understand::DEFAULT_SYNONYMS.len(),
        try_query,
        understood,
        try_hits,
        errors: Vec::new(),
        phrase: String::new(),
        replacement: String::new(),
        saved: !q.saved.is_empty(),
        editable,
        hot: search_terms::hot_candidates(&state.db, state.db.now() - chrono::Duration::days(7))
            .await?,
        learned: search_terms::learned_synonyms(
            &state.db,
            state.db.now() - chrono::Duration::days(30),
        )
        .await?,
        ctx,
    })
}

pub async fn search_insights(
    State(state): State<AppState>,
    staff_user: Staff,
    Query(q): Query<InsightsQuery>,
) -> Result<Response, AppError> {
    render(&insights_page(&state, staff_user, &q).await?)
}

#[derive(Debug, Deserialize)]
pub struct SynonymForm {
    #[serde(default)]
    pub phrase: String,
    #[serde(default)]
    pub replacement: String,
}

pub async fn save_synonym(
    State(state): State<AppState>,
    staff_user: Staff,
    Csrf(Form(form)): Csrf<Form<SynonymForm>>,
) -> Result<Response, AppError> {
    match search_terms::save_synonym(
        &state.db,
        &staff_user.session,
        &form.phrase,
        &form.replacement,
    )
    .await
    {
        Ok(()) => {
            state.refresh_catalog().await?;
            tracing::info!(user = %staff_user.session.user.username, phrase = %form.phrase, "search synonym saved");
            Ok(Redirect::to(&format!(
                "/admin/search?saved=1&try={}",
                urlencode(form.phrase.trim())
            ))
            .into_response())
        }
        Err(DomainError::Invalid(errs)) => {
            let ctx = staff_user.ctx.clone();
            let mut page = insights_page(&state, staff_user, &InsightsQuery::default()).await?;
            page.errors = errs.iter().map(|e| error_message(&ctx, e)).collect();
            page.phrase = form.phrase;
            page.replacement = form.replacement;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_synonym(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(_): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    search_terms::delete_synonym(&state.db, &staff.session, id).await?;
    state.refresh_catalog().await?;
    Ok(Redirect::to("/admin/search?saved=1").into_response())
}

#[derive(Debug, Deserialize)]
pub struct HotReviewForm {
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub decision: String,
}

/// Approves, blocks or reconsiders a query for 大家都在搜.
pub async fn review_hot(
    State(state): State<AppState>,
    staff_user: Staff,
    Csrf(Form(form)): Csrf<Form<HotReviewForm>>,
) -> Result<Response, AppError> {
    search_terms::review_hot(&state.db, &staff_user.session, &form.query, &form.decision).await?;
    // The public pages show the new list at once.
    if let Ok(mut guard) = state.hot_searches.write() {
        *guard = None;
    }
    Ok(Redirect::to("/admin/search?saved=hot#hot-title").into_response())
}

#[derive(Debug, Deserialize)]
pub struct LearnedForm {
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub decision: String,
}

/// Accepts (the query becomes a synonym of the item's name at once) or
/// turns down a synonym learned from the search log.
pub async fn review_learned(
    State(state): State<AppState>,
    staff_user: Staff,
    Csrf(Form(form)): Csrf<Form<LearnedForm>>,
) -> Result<Response, AppError> {
    let accept = form.decision == "accept";
    search_terms::review_learned(
        &state.db,
        &staff_user.session,
        &form.query,
        &form.target,
        accept,
    )
    .await?;
    if accept {
        state.refresh_catalog().await?;
        return Ok(Redirect::to(&format!(
            "/admin/search?saved=1&try={}",
            urlencode(form.query.trim())
        ))
        .into_response());
    }
    Ok(Redirect::to("/admin/search?saved=1#learned-title").into_response())
}
