//! 好差评 at work (`/admin/ratings…`): the rectifications of bad ratings
//! in one's data scope (待核实, 整改中, 待回访, overdue), each step with a
//! note; the month's report by unit, item and staff member (also as CSV);
//! and inviting a counter visitor to rate the visit (一次一评).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::catalog::Filter;
use zhiban_domain::ratings::stats::{self, Summary};
use zhiban_domain::ratings::{self, RectAction, RectActor, RectEvent, RectTab, Rectification};
use zhiban_domain::time::local_date;
use zhiban_domain::{Conflict, DomainError};

use crate::error::AppError;
use crate::extract::{Csrf, Issuer, Staff};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::rating::{rate, recent_months};
use crate::view::{field_messages, render};

#[derive(Template)]
#[template(path = "staff/ratings/desk.html")]
pub struct DeskPage {
    pub ctx: PageCtx,
    pub tab: RectTab,
    pub rows: Vec<Rectification>,
    pub today: chrono::NaiveDate,
    pub months: Vec<String>,
    pub s: Summary,
}

impl DeskPage {
    fn rate(&self, v: Option<f64>) -> String {
        rate(v)
    }
    fn tabs(&self) -> [RectTab; 4] {
        RectTab::ALL
    }
    /// The report's tables: (caption key, rows).
    fn groups(&self) -> [(&'static str, &[stats::Tally]); 3] {
        [
            ("ratings.by_unit", &self.s.units),
            ("ratings.by_item", &self.s.items),
            ("ratings.by_staff", &self.s.staff),
        ]
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DeskQuery {
    #[serde(default)]
    pub tab: String,
    #[serde(default)]
    pub month: String,
}

pub async fn desk(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<DeskQuery>,
) -> Result<Response, AppError> {
    let today = local_date(state.db.now());
    let tab = RectTab::from_slug(&q.tab);
    let first = stats::parse_month(&q.month).unwrap_or(today);
    render(&DeskPage {
        rows: ratings::rectifications(&state.db, &staff.session, tab).await?,
        s: stats::month(&state.db, &staff.session.scope, first).await?,
        months: recent_months(today, 12),
        today,
        tab,
        ctx: staff.ctx,
    })
}

/// The month's report for one's scope as CSV.
pub async fn report_csv(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<DeskQuery>,
) -> Result<Response, AppError> {
    let today = local_date(state.db.now());
    let first = stats::parse_month(&q.month).unwrap_or(today);
    let s = stats::month(&state.db, &staff.session.scope, first).await?;
    let body = stats::report_csv(&s)?;
    let name = format!("好差评统计-{}.csv", s.month);
    Ok(crate::view::send_csv(&name, body))
}

#[derive(Template)]
#[template(path = "staff/ratings/rectification.html")]
pub struct RectPage {
    pub ctx: PageCtx,
    pub x: Rectification,
    pub events: Vec<RectEvent>,
    pub today: chrono::NaiveDate,
    pub errors: Vec<(String, String)>,
    /// What was typed, kept when a step is refused.
    pub note: String,
    pub notice: String,
}

impl RectPage {
    fn action_hint(&self, a: &RectAction) -> String {
        self.ctx.t(&format!("ratings.hint_{}", a.slug()))
    }
}

async fn rect_page(
    state: &AppState,
    staff: Staff,
    id: i64,
    errors: Vec<(String, String)>,
    note: String,
    notice: String,
) -> Result<Response, AppError> {
    let x = ratings::rectification_for_staff(&state.db, &staff.session, id).await?;
    let refused = !errors.is_empty();
    let page = RectPage {
        events: ratings::rect_events(&state.db, x.id).await?,
        today: local_date(state.db.now()),
        x,
        errors,
        note,
        notice,
        ctx: staff.ctx,
    };
    let status = if refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, render(&page)?).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: String,
}

pub async fn detail(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let notice = match RectAction::from_slug(&q.done) {
        Some(a) => staff.ctx.t(&format!("ratings.done_{}", a.slug())),
        None => String::new(),
    };
    rect_page(&state, staff, id, Vec::new(), String::new(), notice).await
}

#[derive(Debug, Default, Deserialize)]
pub struct ActForm {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub revision: Option<i64>,
}

pub async fn act(
    State(state): State<AppState>,
    staff: Staff,
    Issuer(base): Issuer,
    Path(id): Path<i64>,
    Csrf(Form(form)): Csrf<Form<ActForm>>,
) -> Result<Response, AppError> {
    let Some(action) = RectAction::from_slug(&form.action).filter(|a| !a.by_rater()) else {
        return Err(DomainError::Conflict(Conflict::NotAllowed).into());
    };
    let r = ratings::act(
        &state.desk(&base),
        RectActor::Staff(&staff.session),
        id,
        action,
        &form.note,
        form.revision,
    )
    .await;
    match r {
        Ok(_) => Ok(
            Redirect::to(&format!("/admin/ratings/{id}?done={}", action.slug())).into_response(),
        ),
        Err(DomainError::Invalid(errs)) => {
            let errors = field_messages(&staff.ctx, &errs);
            rect_page(&state, staff, id, errors, form.note, String::new()).await
        }
        Err(DomainError::Conflict(c @ (Conflict::Stale | Conflict::NotAllowed))) => {
            let notice = staff.ctx.t(&format!("conflict.{}", c.code()));
            rect_page(&state, staff, id, Vec::new(), form.note, notice).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff/ratings/invite.html")]
pub struct InvitePage {
    pub ctx: PageCtx,
    /// The unit's published items: (code, name).
    pub items: Vec<(String, String)>,
    pub phone: String,
    pub item: String,
    pub errors: Vec<(String, String)>,
    pub sent: bool,
    /// Only someone who serves at a unit's counter invites ratings.
    pub has_unit: bool,
}

impl InvitePage {
    fn error_for(&self, field: &str) -> Option<&String> {
        self.errors.iter().find(|(k, _)| k == field).map(|(_, m)| m)
    }
}

/// The published items a counter of the staff member's unit serves: those
/// of the unit, or else of the nearest unit above it that has some.
fn unit_items(state: &AppState, staff: &Staff) -> Vec<(String, String)> {
    let catalog = state.catalog();
    let find = |id: i64| catalog.departments.iter().find(|d| d.id == id);
    let mut dept = staff.session.user.unit_id.and_then(find);
    while let Some(d) = dept {
        let filter = Filter {
            department: Some(d.code.clone()),
            ..Filter::default()
        };
        let page = catalog.filter(&filter, 0, 500);
        if !page.items.is_empty() {
            return page
                .items
                .iter()
                .map(|s| (s.code.clone(), s.name.clone()))
                .collect();
        }
        dept = d.parent_id.and_then(find);
    }
    Vec::new()
}

#[derive(Debug, Default, Deserialize)]
pub struct InviteQuery {
    #[serde(default)]
    pub sent: String,
}

pub async fn invite_form(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<InviteQuery>,
) -> Result<Response, AppError> {
    render(&InvitePage {
        items: unit_items(&state, &staff),
        phone: String::new(),
        item: String::new(),
        errors: Vec::new(),
        sent: q.sent == "1",
        has_unit: staff.session.user.unit_id.is_some(),
        ctx: staff.ctx,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub item: String,
}

pub async fn invite(
    State(state): State<AppState>,
    staff: Staff,
    Issuer(base): Issuer,
    Csrf(Form(form)): Csrf<Form<InviteForm>>,
) -> Result<Response, AppError> {
    let items = unit_items(&state, &staff);
    let item = items
        .iter()
        .find(|(c, _)| *c == form.item)
        .map(|(code, name)| ratings::VisitItem { code, name });
    match ratings::invite(&state.desk(&base), &staff.session, &form.phone, item).await {
        Ok(_) => Ok(Redirect::to("/admin/ratings/invite?sent=1").into_response()),
        Err(DomainError::Invalid(errs)) => {
            let page = InvitePage {
                errors: field_messages(&staff.ctx, &errs),
                items,
                phone: form.phone,
                item: form.item,
                sent: false,
                has_unit: true,
                ctx: staff.ctx,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
