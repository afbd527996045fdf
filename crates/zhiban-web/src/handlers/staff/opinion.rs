//! 舆情监测 (`/admin/opinion`): staff holding `opinion.monitor` see what
//! people say across the portal and the configured feeds — the trend by
//! day, the loudest topics with their hot words, alerts — and open the
//! items behind any number (`/admin/opinion/items`). They keep the keyword
//! watch list and the alert rules here, and the feeds at
//! `/admin/opinion/feeds`.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::DomainError;
use zhiban_domain::opinion::feeds::{self, Feed};
use zhiban_domain::opinion::monitor::{self, Alert, Item, Rules, Watch};
use zhiban_domain::opinion::report::{self, Filter, Overview};
use zhiban_domain::opinion::topics::Topic;

use crate::error::AppError;
use crate::extract::{Csrf, NoFields, Staff};
use crate::state::AppState;
use crate::view::chart::DailyColumns;
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::{field_messages, render, render_form};

/// The periods the page offers, in days.
const PERIODS: &[i64] = &[7, 30, 90];

#[derive(Template)]
#[template(path = "staff/opinion/index.html")]
pub struct IndexPage {
    pub ctx: PageCtx,
    pub days: i64,
    pub periods: &'static [i64],
    pub overview: Overview,
    pub chart: DailyColumns,
    pub alerts: Vec<Alert>,
    pub watch: Vec<Watch>,
    pub rules: Rules,
    pub word: String,
    pub errors: Vec<(String, String)>,
    /// What 立即更新 just did.
    pub notice: Option<String>,
}

impl IndexPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }
    fn period_label(&self, days: &i64) -> String {
        self.ctx.tn("opinion.last_days", days)
    }
    fn alert_text(&self, a: &Alert) -> String {
        let subject = match a.topic() {
            Some(t) => self.ctx.term("opinion_topic", t.slug()),
            None => a.subject.clone(),
        };
        self.ctx.tf(
            &format!("opinion.alert_{}", a.kind),
            &[
                ("subject", &subject),
                ("n", &a.count),
                ("usual", &a.usual()),
            ],
        )
    }
    fn alert_link(&self, a: &Alert) -> String {
        let mut url = format!("/admin/opinion/items?from={}&to={}", a.day, a.day);
        match a.kind.as_str() {
            "watch" => url.push_str(&format!("&watched={}", urlencode(&a.subject))),
            "negative" => url.push_str(&format!("&topic={}&sentiment=negative", a.subject)),
            _ => url.push_str(&format!("&topic={}", a.subject)),
        }
        url
    }
    fn topic_link(&self, t: &Topic, sentiment: &str) -> String {
        let mut url = format!(
            "/admin/opinion/items?topic={}&from={}&to={}",
            t.slug(),
            self.overview.first,
            self.overview.last
        );
        if !sentiment.is_empty() {
            url.push_str(&format!("&sentiment={sentiment}"));
        }
        url
    }
    fn change(&self, pct: Option<i64>) -> String {
        match pct {
            Some(p) if p > 0 => format!("+{p}%"),
            Some(p) => format!("{p}%"),
            None => "—".into(),
        }
    }
    fn rule_fields(&self) -> Vec<(&'static str, i64)> {
        vec![
            ("baseline_days", self.rules.baseline_days),
            ("min_count", self.rules.min_count),
            ("ratio_pct", self.rules.ratio_pct),
            ("every_minutes", self.rules.every_minutes),
        ]
    }
    fn source_name(&self, s: &str) -> String {
        self.ctx.term("opinion_source", s)
    }
}

fn field_error<'a>(errors: &'a [(String, String)], field: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|(f, _)| f == field)
        .map(|(_, m)| m.as_str())
}

#[derive(Debug, Default, Deserialize)]
pub struct IndexQuery {
    #[serde(default)]
    pub days: Option<i64>,
    #[serde(default)]
    pub ran: Option<String>,
}

async fn index_page(
    state: &AppState,
    ctx: PageCtx,
    days: i64,
    word: String,
    errors: Vec<(String, String)>,
    rules: Option<Rules>,
    notice: Option<String>,
) -> Result<IndexPage, AppError> {
    let days = if PERIODS.contains(&days) { days } else { 30 };
    let today = zhiban_domain::time::local_date(state.db.now());
    let overview = report::overview(&state.db, today, days).await?;
    let chart = DailyColumns::new(
        &overview
            .days
            .iter()
            .map(|d| (d.day.clone(), d.total, d.negative))
            .collect::<Vec<_>>(),
    );
    Ok(IndexPage {
        days,
        periods: PERIODS,
        chart,
        overview,
        alerts: monitor::alerts(&state.db, 20).await?,
        watch: monitor::watch_words(&state.db).await?,
        rules: match rules {
            Some(r) => r,
            None => monitor::rules(&state.db).await?,
        },
        ctx,
        word,
        errors,
        notice,
    })
}

pub async fn index(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<IndexQuery>,
) -> Result<Response, AppError> {
    let notice = q.ran.map(|n| staff.ctx.tf("opinion.ran", &[("n", &n)]));
    render(
        &index_page(
            &state,
            staff.ctx,
            q.days.unwrap_or(30),
            String::new(),
            Vec::new(),
            None,
            notice,
        )
        .await?,
    )
}

/// 立即更新: one monitoring run now (the job runs it every few minutes).
pub async fn run_now(
    State(state): State<AppState>,
    _staff: Staff,
    Csrf(Form(_)): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    let outcome = monitor::run(&state.db).await?;
    Ok(Redirect::to(&format!("/admin/opinion?ran={}", outcome.collected)).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct WatchForm {
    #[serde(default)]
    pub word: String,
}

pub async fn add_watch(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(form)): Csrf<Form<WatchForm>>,
) -> Result<Response, AppError> {
    match monitor::add_watch(&state.db, &staff.session, &form.word).await {
        Ok(_) => Ok(Redirect::to("/admin/opinion#watch").into_response()),
        Err(DomainError::Invalid(errs)) => {
            let errors = field_messages(&staff.ctx, &errs);
            let page = index_page(&state, staff.ctx, 30, form.word, errors, None, None).await?;
            render_form(&page, true)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn remove_watch(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(_)): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    monitor::remove_watch(&state.db, &staff.session, id).await?;
    Ok(Redirect::to("/admin/opinion#watch").into_response())
}

pub async fn alert_seen(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(_)): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    monitor::mark_seen(&state.db, &staff.session, id).await?;
    Ok(Redirect::to("/admin/opinion#alerts").into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct RulesForm {
    #[serde(default)]
    pub baseline_days: String,
    #[serde(default)]
    pub min_count: String,
    #[serde(default)]
    pub ratio_pct: String,
    #[serde(default)]
    pub every_minutes: String,
}

pub async fn save_rules(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(form)): Csrf<Form<RulesForm>>,
) -> Result<Response, AppError> {
    // A number that does not read as one is out of every range.
    let num = |s: &str| s.trim().parse::<i64>().unwrap_or(-1);
    let rules = Rules {
        baseline_days: num(&form.baseline_days),
        min_count: num(&form.min_count),
        ratio_pct: num(&form.ratio_pct),
        every_minutes: num(&form.every_minutes),
    };
    match monitor::save_rules(&state.db, &staff.session, &rules).await {
        Ok(()) => Ok(Redirect::to("/admin/opinion#rules").into_response()),
        Err(DomainError::Invalid(errs)) => {
            let errors = field_messages(&staff.ctx, &errs);
            let page = index_page(
                &state,
                staff.ctx,
                30,
                String::new(),
                errors,
                Some(rules),
                None,
            )
            .await?;
            render_form(&page, true)
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- items

#[derive(Template)]
#[template(path = "staff/opinion/items.html")]
pub struct ItemsPage {
    pub ctx: PageCtx,
    pub items: Vec<Item>,
    pub total: i64,
    pub q: ItemsQuery,
    pub page: i64,
    pub pages: i64,
    pub topics: &'static [Topic],
    pub sources: &'static [&'static str],
    pub sentiments: &'static [&'static str],
}

impl ItemsPage {
    fn page_link(&self, page: i64) -> String {
        let q = &self.q;
        let pairs = [
            ("topic", q.topic.as_str()),
            ("sentiment", q.sentiment.as_str()),
            ("source", q.source.as_str()),
            ("watched", q.watched.as_str()),
            ("q", q.q.as_str()),
            ("from", q.from.as_str()),
            ("to", q.to.as_str()),
        ];
        let mut url = String::from("/admin/opinion/items?");
        for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
            url.push_str(&format!("{k}={}&", urlencode(v)));
        }
        url.push_str(&format!("page={page}"));
        url
    }
    fn topic_name(&self, i: &Item) -> String {
        self.ctx.term("opinion_topic", i.topic().slug())
    }
    fn when(&self, i: &Item) -> String {
        self.ctx.when(&i.said_at)
    }
    fn external(&self, i: &Item) -> bool {
        i.url.starts_with("http")
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ItemsQuery {
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub sentiment: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub watched: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub page: Option<i64>,
}

const PER_PAGE: i64 = 30;
const SENTIMENTS: &[&str] = &["negative", "neutral", "positive"];

pub async fn items(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ItemsQuery>,
) -> Result<Response, AppError> {
    let page = q.page.unwrap_or(1).max(1);
    let date = |s: &str| chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
    let sentiment = SENTIMENTS
        .contains(&q.sentiment.as_str())
        .then(|| q.sentiment.clone());
    let source = monitor::SOURCES
        .contains(&q.source.as_str())
        .then(|| q.source.clone());
    let filter = Filter {
        topic: Topic::from_slug(&q.topic),
        sentiment,
        source,
        watched: Some(q.watched.clone()),
        q: Some(q.q.chars().take(50).collect()),
        from: date(&q.from),
        to: date(&q.to),
        offset: (page - 1) * PER_PAGE,
        limit: PER_PAGE,
    };
    let (items, total) = report::items(&state.db, &filter).await?;
    render(&ItemsPage {
        ctx: staff.ctx,
        items,
        total,
        page,
        pages: (total + PER_PAGE - 1) / PER_PAGE,
        q,
        topics: Topic::ALL,
        sources: monitor::SOURCES,
        sentiments: SENTIMENTS,
    })
}

// ---------------------------------------------------------------- feeds

#[derive(Template)]
#[template(path = "staff/opinion/feeds.html")]
pub struct FeedsPage {
    pub ctx: PageCtx,
    pub feeds: Vec<(Feed, i64)>,
    pub name: String,
    pub url: String,
    pub errors: Vec<(String, String)>,
    pub notice: Option<String>,
}

impl FeedsPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }
    fn fetched(&self, f: &Feed) -> String {
        match f.fetched_at {
            Some(at) => self.ctx.when(&at),
            None => self.ctx.t("opinion.never"),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct FeedsQuery {
    #[serde(default)]
    pub fetched: Option<i64>,
}

pub async fn feeds_page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<FeedsQuery>,
) -> Result<Response, AppError> {
    render(&FeedsPage {
        notice: q.fetched.map(|n| staff.ctx.tn("opinion.feed_fetched", n)),
        feeds: feeds::list(&state.db).await?,
        ctx: staff.ctx,
        name: String::new(),
        url: String::new(),
        errors: Vec::new(),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct FeedForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub url: String,
}

pub async fn add_feed(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(form)): Csrf<Form<FeedForm>>,
) -> Result<Response, AppError> {
    match feeds::add(&state.db, &staff.session, &form.name, &form.url).await {
        Ok(_) => Ok(Redirect::to("/admin/opinion/feeds").into_response()),
        Err(DomainError::Invalid(errs)) => {
            let page = FeedsPage {
                errors: field_messages(&staff.ctx, &errs),
                feeds: feeds::list(&state.db).await?,
                ctx: staff.ctx,
                name: form.name,
                url: form.url,
                notice: None,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn fetch_feed(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(_)): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    // A failed fetch is shown on the feed's row (its last error).
    let kept = feeds::fetch_now(&state.db, &staff.session, id)
        .await?
        .unwrap_or(0);
    Ok(Redirect::to(&format!("/admin/opinion/feeds?fetched={kept}")).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    pub active: String,
}

pub async fn feed_active(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(form)): Csrf<Form<ActiveForm>>,
) -> Result<Response, AppError> {
    feeds::set_active(&state.db, &staff.session, id, form.active == "1").await?;
    Ok(Redirect::to("/admin/opinion/feeds").into_response())
}
