//! 好差评 in public: the monthly statistics (`/ratings`) by unit and item —
//! ratings, satisfaction, bad ratings and how many were rectified — and
//! the counter-visit link (`/rate/{token}`, 一次一评) a visitor opens from
//! the text they were sent: rate once, see how a bad rating was dealt
//! with, appeal once.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use zhiban_domain::identity::Scope;
use zhiban_domain::ratings::stats::{self, Summary};
use zhiban_domain::ratings::{self, Visit};
use zhiban_domain::time::local_date;

use crate::error::AppError;
use crate::extract::{Csrf, Issuer, form_token};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::rating::{RatingForm, Shown, rate, recent_months};
use crate::view::{render_public, shown_once};

/// Rows of the by-item table on the public page.
const TOP_ITEMS: usize = 20;

#[derive(Template)]
#[template(path = "public/ratings/stats.html")]
pub struct StatsPage {
    pub ctx: PageCtx,
    pub months: Vec<String>,
    pub s: Summary,
}

impl StatsPage {
    fn rate(&self, v: Option<f64>) -> String {
        rate(v)
    }
    /// The two tables: (id, caption key, first column key, rows, names link
    /// to the guide).
    fn tables(
        &self,
    ) -> [(
        &'static str,
        &'static str,
        &'static str,
        &[stats::Tally],
        bool,
    ); 2] {
        let items = &self.s.items[..self.s.items.len().min(TOP_ITEMS)];
        [
            (
                "by-unit",
                "ratings.by_unit",
                "ratings.unit",
                &self.s.units,
                false,
            ),
            ("by-item", "ratings.by_item", "ratings.item", items, true),
        ]
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct MonthQuery {
    #[serde(default)]
    pub month: String,
}

/// The month asked for, or this one.
fn month_of(state: &AppState, q: &MonthQuery) -> chrono::NaiveDate {
    let today = local_date(state.db.now());
    stats::parse_month(&q.month).unwrap_or(today)
}

pub async fn stats_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    let first = month_of(&state, &q);
    let s = stats::month(&state.db, &Scope::All, first).await?;
    render_public(
        ctx.lang,
        &StatsPage {
            months: recent_months(local_date(state.db.now()), 12),
            s,
            ctx,
        },
    )
}

#[derive(Template)]
#[template(path = "public/ratings/visit.html")]
pub struct VisitPage {
    pub ctx: PageCtx,
    pub token: String,
    pub visit: Visit,
    pub expired: bool,
    pub form: RatingForm,
    pub appeal_errors: Vec<(String, String)>,
    pub notice: String,
}

async fn visit_page(
    state: &AppState,
    base: &str,
    ctx: PageCtx,
    token: &str,
    shown: Shown,
) -> Result<Response, AppError> {
    let visit = ratings::visit(&state.desk(base), token).await?;
    let status = shown.status();
    let page = VisitPage {
        expired: state.db.now().timestamp() >= visit.expires_at,
        token: token.to_string(),
        visit,
        form: shown.form,
        appeal_errors: shown.appeal_errors,
        notice: shown.notice,
        ctx,
    };
    Ok((status, shown_once(crate::view::render(&page))?).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: String,
}

pub async fn visit_form(
    State(state): State<AppState>,
    Issuer(base): Issuer,
    mut ctx: PageCtx,
    jar: CookieJar,
    Path(token): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let jar = form_token(&state, &mut ctx, jar);
    let notice = match q.done.as_str() {
        "rated" | "appealed" => ctx.t(&format!("ratings.done_{}", q.done)),
        _ => String::new(),
    };
    let page = visit_page(&state, &base, ctx, &token, Shown::notice(notice)).await?;
    Ok((jar, page).into_response())
}

pub async fn rate_visit(
    State(state): State<AppState>,
    Issuer(base): Issuer,
    mut ctx: PageCtx,
    Path(token): Path<String>,
    Csrf(Form(fields)): Csrf<Form<Vec<(String, String)>>>,
) -> Result<Response, AppError> {
    ctx.csrf = fields
        .iter()
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let form = RatingForm::from_fields(&fields);
    match ratings::rate_visit(&state.desk(&base), &token, &form.input()).await {
        Ok(_) => Ok(Redirect::to(&format!("/rate/{token}?done=rated")).into_response()),
        Err(e) => {
            let shown = Shown::refused(&ctx, e, Some(form))?;
            visit_page(&state, &base, ctx, &token, shown).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AppealForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
    #[serde(default)]
    pub appeal: String,
}

pub async fn appeal_visit(
    State(state): State<AppState>,
    Issuer(base): Issuer,
    mut ctx: PageCtx,
    Path(token): Path<String>,
    Csrf(Form(form)): Csrf<Form<AppealForm>>,
) -> Result<Response, AppError> {
    ctx.csrf = form.csrf.clone();
    match ratings::appeal_visit(&state.desk(&base), &token, &form.appeal).await {
        Ok(_) => Ok(Redirect::to(&format!("/rate/{token}?done=appealed")).into_response()),
        Err(e) => {
            let shown = Shown::refused(&ctx, e, None)?;
            visit_page(&state, &base, ctx, &token, shown).await
        }
    }
}
