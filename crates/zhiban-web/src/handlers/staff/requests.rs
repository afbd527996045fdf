//! Requests for staff (`/admin/requests…`): the dispatcher's desk (受理,
//! 分类 and 派单 with the router's suggestions and possible duplicates,
//! extensions, 回访, 公开选登), the unit's desk (签收, 退单, 延期, 答复),
//! the dispatch catalogue and the departments' monthly figures.

use crate::error::AppError;
use crate::extract::{Csrf, Issuer, Staff, UnitOption, unit_options};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::map::DistrictMap;
use crate::view::{field_messages, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use zhiban_domain::DomainError;
use zhiban_domain::requests::stats::{self, UnitMonth};
use zhiban_domain::requests::{
    self, Actor, Category, Request, RequestAction, RequestEvent, RequestRow, Satisfaction, Step,
    Tab, Who,
};
use zhiban_domain::time::local_date;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub tab: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub page: Option<u32>,
}

#[derive(Template)]
#[template(path = "staff/requests/list.html")]
pub struct ListPage {
    pub ctx: PageCtx,
    /// The desk's path: `/admin/requests` or `/admin/requests/desk`.
    pub path: &'static str,
    pub title_key: &'static str,
    pub tabs: Vec<Tab>,
    pub tab: Tab,
    pub q: String,
    pub page: u32,
    pub rows: Vec<RequestRow>,
}

impl ListPage {
    fn has_next(&self) -> bool {
        self.rows.len() as i64 == requests::PAGE_SIZE
    }
}

async fn desk(
    state: &AppState,
    staff: Staff,
    q: ListQuery,
    path: &'static str,
    title_key: &'static str,
    tabs: &[Tab],
) -> Result<Response, AppError> {
    let tab = tabs
        .iter()
        .copied()
        .find(|t| t.slug() == q.tab)
        .unwrap_or(tabs[0]);
    let page = q.page.unwrap_or(0);
    let today = local_date(state.db.now());
    let rows = requests::list(&state.db, &staff.session, tab, &q.q, page, today).await?;
    render(&ListPage {
        path,
        title_key,
        tabs: tabs.to_vec(),
        tab,
        q: q.q,
        page,
        rows,
        ctx: staff.ctx,
    })
}

/// 派单台: new and returned requests, extensions, 回访.
pub async fn dispatch_desk(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    desk(
        &state,
        staff,
        q,
        "/admin/requests",
        "requests.dispatch_desk",
        &Tab::DISPATCHER,
    )
    .await
}

/// 承办台: orders to sign and to answer.
pub async fn unit_desk(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    desk(
        &state,
        staff,
        q,
        "/admin/requests/desk",
        "requests.unit_desk",
        &Tab::UNIT,
    )
    .await
}

/// A category the router proposes, with its unit and confidence.
pub struct Proposal {
    pub category: String,
    pub unit: String,
    pub percent: u32,
}

#[derive(Template)]
#[template(path = "staff/requests/request.html")]
pub struct RequestPage {
    pub ctx: PageCtx,
    pub r: Request,
    pub files: Vec<zhiban_domain::requests::files::RequestFile>,
    pub light: zhiban_domain::cases::Light,
    pub events: Vec<RequestEvent>,
    pub actions: Vec<RequestAction>,
    pub proposals: Vec<Proposal>,
    pub duplicates: Vec<Request>,
    pub categories: Vec<Category>,
    pub units: Vec<UnitOption>,
    pub satisfactions: &'static [Satisfaction],
    pub dispatcher: bool,
    pub errors: Vec<(String, String)>,
    pub notice: String,
    /// The step that failed (its form opens with the text kept).
    pub kept: Option<(RequestAction, String)>,
    pub max_extension: u32,
    /// The point the writer gave, on the district map.
    pub map: Option<DistrictMap>,
    pub map_pick: Option<&'static str>,
}

impl RequestPage {
    fn is(&self, a: &RequestAction, slug: &str) -> bool {
        a.slug() == slug
    }
    fn opens(&self, a: &RequestAction, first: &bool) -> bool {
        match &self.kept {
            Some((k, _)) => k == a,
            None => *first,
        }
    }
    fn kept_text(&self, a: &RequestAction) -> &str {
        match &self.kept {
            Some((k, t)) if k == a => t,
            _ => "",
        }
    }
    fn preselected(&self, id: &i64) -> bool {
        self.r
            .category_id
            .or(self.r.suggested_category_id)
            .is_some_and(|c| c == *id)
    }
    fn needs_text(&self, a: &RequestAction) -> bool {
        a.needs_reason()
    }
}

/// The steps this person may take on the request now, in the order of
/// the loop.
fn actions_for(staff: &Staff, r: &Request) -> Vec<RequestAction> {
    use RequestAction as A;
    let mut out = Vec::new();
    let as_dispatcher = requests::dispatcher_sees(&staff.session, r);
    let as_unit = requests::unit_sees(&staff.session, r);
    for a in [
        A::Dispatch,
        A::Merge,
        A::Reject,
        A::ApproveExtension,
        A::RefuseExtension,
        A::Visit,
        A::Sign,
        A::Answer,
        A::AskExtension,
        A::Return,
    ] {
        let allowed = match a.who() {
            Who::Dispatcher if as_dispatcher => {
                r.allows(a, Who::Dispatcher)
                    || (a == A::Dispatch && r.allows(A::Accept, Who::Dispatcher))
            }
            Who::Unit if as_unit => r.allows(a, Who::Unit),
            _ => false,
        };
        if allowed {
            out.push(a);
        }
    }
    out
}

async fn request_page(
    state: &AppState,
    staff: Staff,
    number: &str,
    errors: Vec<(String, String)>,
    notice: String,
    kept: Option<(RequestAction, String)>,
) -> Result<Response, AppError> {
    let r = requests::for_staff(&state.db, &staff.session, number).await?;
    let today = local_date(state.db.now());
    let dispatcher = requests::dispatcher_sees(&staff.session, &r);
    let actions = actions_for(&staff, &r);
    let categories = requests::categories(&state.db).await?;
    let open_for_dispatch = dispatcher && r.state.clock_running() && r.unit_id.is_none();
    let proposals = if open_for_dispatch {
        let routing = state.routing().await?;
        routing
            .categories(&format!("{} {}", r.title, r.body), 3)
            .into_iter()
            .filter_map(|s| {
                let c = categories.iter().find(|c| c.name == s.unit)?;
                Some(Proposal {
                    category: c.name.clone(),
                    unit: c.unit_name.clone(),
                    percent: (s.confidence * 100.0).round() as u32,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let duplicates = if open_for_dispatch {
        requests::duplicates(&state.db, &r, 30).await?
    } else {
        Vec::new()
    };
    let map = match r.point {
        Some(p) => DistrictMap::load(&state.db, Some(p)).await?,
        None => None,
    };
    render(&RequestPage {
        map,
        map_pick: None,
        light: r.light(today),
        events: requests::events(&state.db, r.id).await?,
        files: requests::files::list(&state.db, r.id).await?,
        actions,
        proposals,
        duplicates,
        categories,
        units: unit_options(state, &staff),
        satisfactions: Satisfaction::ALL,
        dispatcher,
        errors,
        notice,
        kept,
        max_extension: state.config.requests.max_extension_days,
        r,
        ctx: staff.ctx,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    #[serde(default)]
    pub done: String,
}

pub async fn detail(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, AppError> {
    let notice = match RequestAction::from_slug(&q.done) {
        Some(a) => format!(
            "{}：{}",
            staff.ctx.t("requests.done"),
            staff.ctx.t(&format!("requests.action_{}", a.slug()))
        ),
        None if q.done == "publish" => staff.ctx.t("requests.published_done"),
        None if q.done == "unpublish" => staff.ctx.t("requests.unpublished_done"),
        None => String::new(),
    };
    request_page(&state, staff, &number, Vec::new(), notice, None).await
}

#[derive(Debug, Default, Deserialize)]
pub struct ActForm {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub category: Option<i64>,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub days: String,
    #[serde(default)]
    pub satisfaction: String,
    #[serde(default)]
    pub into: String,
    #[serde(default)]
    pub revision: Option<i64>,
}

pub async fn act(
    State(state): State<AppState>,
    staff: Staff,
    Issuer(base): Issuer,
    Path(number): Path<String>,
    Csrf(Form(form)): Csrf<Form<ActForm>>,
) -> Result<Response, AppError> {
    let Some(action) = RequestAction::from_slug(&form.action) else {
        return Err(AppError::NotFound);
    };
    let days = form.days.trim();
    let step = Step {
        reason: form.reason.clone(),
        category_id: form.category,
        unit_id: form.unit.trim().parse().ok(),
        days: if days.is_empty() {
            None
        } else {
            Some(days.parse().unwrap_or(0))
        },
        satisfaction: Satisfaction::from_slug(&form.satisfaction),
        into: form.into.clone(),
        revision: form.revision,
    };
    let result = requests::act(
        &state.hall(&base),
        Actor::Staff(&staff.session),
        &number,
        action,
        step,
    )
    .await;
    match result {
        Ok(r) if requests::staff_sees(&staff.session, &r) => Ok(Redirect::to(&format!(
            "/admin/requests/{}?done={}",
            r.number,
            action.slug()
        ))
        .into_response()),
        // Returned or dispatched out of this person's scope.
        Ok(_) => Ok(Redirect::to("/admin/requests/desk").into_response()),
        Err(DomainError::Invalid(errs)) => {
            // The summary links to the input of the step that failed.
            let errors = field_messages(&staff.ctx, &errs)
                .into_iter()
                .map(|(field, msg)| (input_of(&field, action), msg))
                .collect();
            request_page(
                &state,
                staff,
                &number,
                errors,
                String::new(),
                Some((action, form.reason)),
            )
            .await
        }
        Err(DomainError::Conflict(c)) => {
            let notice = staff.ctx.t(&format!("cases.conflict_{}", c.code()));
            request_page(&state, staff, &number, Vec::new(), notice, None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The id of the input on the request page that holds `field` for `action`.
fn input_of(field: &str, action: RequestAction) -> String {
    match field {
        "request_category" => "a-category".into(),
        "request_unit" => "a-unit".into(),
        "merge_into" => "a-into".into(),
        "extension_days" => "a-days".into(),
        "satisfaction" => "v-satisfied".into(),
        _ => format!("a-reason-{}", action.slug()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PublishForm {
    #[serde(default)]
    pub publish: String,
}

/// 公开选登: publish an answered request (the citizen agreed) or take it down.
pub async fn publish(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
    Csrf(Form(form)): Csrf<Form<PublishForm>>,
) -> Result<Response, AppError> {
    let on = form.publish == "1";
    match requests::set_published(&state.db, &staff.session, &number, on).await {
        Ok(r) => Ok(Redirect::to(&format!(
            "/admin/requests/{}?done={}",
            r.number,
            if on { "publish" } else { "unpublish" }
        ))
        .into_response()),
        Err(DomainError::Conflict(c)) => {
            let notice = staff.ctx.t(&format!("cases.conflict_{}", c.code()));
            request_page(&state, staff, &number, Vec::new(), notice, None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff/requests/categories.html")]
pub struct CategoriesPage {
    pub ctx: PageCtx,
    pub categories: Vec<Category>,
    pub units: Vec<UnitOption>,
    pub errors: Vec<(String, String)>,
    pub saved: bool,
    pub city_level: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    pub saved: String,
}

async fn categories_page(
    state: &AppState,
    staff: Staff,
    errors: Vec<(String, String)>,
    saved: bool,
) -> Result<Response, AppError> {
    render(&CategoriesPage {
        categories: requests::categories(&state.db).await?,
        units: unit_options(state, &staff),
        city_level: matches!(staff.session.scope, zhiban_domain::identity::Scope::All),
        errors,
        saved,
        ctx: staff.ctx,
    })
}

/// 派单目录: every category and the unit it goes to.
pub async fn categories(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<SavedQuery>,
) -> Result<Response, AppError> {
    categories_page(&state, staff, Vec::new(), q.saved == "1").await
}

#[derive(Debug, Default, Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub description: String,
}

pub async fn save_category(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(form)): Csrf<Form<CategoryForm>>,
) -> Result<Response, AppError> {
    let unit = form.unit.trim().parse().ok();
    match requests::save_category(
        &state.db,
        &staff.session,
        &form.name,
        unit,
        &form.description,
    )
    .await
    {
        Ok(()) => {
            state.forget_routing().await;
            Ok(Redirect::to("/admin/requests/categories?saved=1").into_response())
        }
        Err(DomainError::Invalid(errs)) => {
            let errors = field_messages(&staff.ctx, &errs);
            categories_page(&state, staff, errors, false).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff/requests/stats.html")]
pub struct StatsPage {
    pub ctx: PageCtx,
    pub month: String,
    pub months: Vec<String>,
    pub rows: Vec<UnitMonth>,
}

impl StatsPage {
    fn rate(&self, v: Option<f64>) -> String {
        crate::view::rating::rate(v)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct StatsQuery {
    #[serde(default)]
    pub month: String,
}

/// 部门考核: response, on-time, resolution and satisfaction per unit.
pub async fn stats_page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<StatsQuery>,
) -> Result<Response, AppError> {
    let today = local_date(state.db.now());
    let this_month = today.with_day(1).unwrap_or(today);
    let first = NaiveDate::parse_from_str(&format!("{}-01", q.month.trim()), "%Y-%m-%d")
        .unwrap_or(this_month);
    let months = crate::view::rating::recent_months(today, 12);
    let rows = stats::by_unit(&state.db, &staff.session.scope, first).await?;
    render(&StatsPage {
        month: first.format("%Y-%m").to_string(),
        months,
        rows,
        ctx: staff.ctx,
    })
}

/// A file the writer sent (for staff who may see the request).
pub async fn file(
    State(state): State<AppState>,
    staff: Staff,
    Path((number, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let r = requests::for_staff(&state.db, &staff.session, &number).await?;
    let (f, body) = requests::files::body(&state.db, &state.files, r.id, id).await?;
    Ok(crate::view::send_private(
        &f.file_name,
        &f.content_type,
        body,
    ))
}
