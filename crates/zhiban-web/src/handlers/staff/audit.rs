//! The audit log (`/admin/audit`): search, and a check of the hash chain.

use crate::error::AppError;
use crate::extract::Staff;
use crate::extract::{Csrf, NoFields};
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::{Pager, render};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use zhiban_domain::audit;
use zhiban_domain::audit::Record;

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub target: String,
    /// yyyy-mm-dd, inclusive, China Standard Time.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub refused: String,
    #[serde(default)]
    pub page: Option<usize>,
}

#[derive(Template)]
#[template(path = "staff/audit/audit.html")]
pub struct AuditPage {
    pub ctx: PageCtx,
    pub q: AuditQuery,
    pub rows: Vec<Record>,
    pub pager: Pager,
    pub verification: Option<audit::Verification>,
    pub errors: Vec<String>,
}

impl AuditPage {
    fn action_label(&self, r: &Record) -> String {
        let key = format!("audit.action_{}", r.action.replace('.', "_"));
        let label = self.ctx.t(&key);
        if label == key || label.ends_with(&key) {
            r.action.clone()
        } else {
            label
        }
    }
}

/// Start of a Beijing day, or (for `end`) the last second of it.
fn day_bound(s: &str, end: bool) -> Result<Option<i64>, ()> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ())?;
    let start = zhiban_domain::time::day_start(d);
    Ok(Some(if end { start + 86_399 } else { start }))
}

const AUDIT_PER_PAGE: usize = 50;

async fn audit_page(
    state: &AppState,
    staff: Staff,
    q: AuditQuery,
    verification: Option<audit::Verification>,
) -> Result<AuditPage, AppError> {
    let mut errors = Vec::new();
    let from = day_bound(&q.from, false).unwrap_or_else(|_| {
        errors.push(staff.ctx.t("audit.bad_date"));
        None
    });
    let to = day_bound(&q.to, true).unwrap_or_else(|_| {
        errors.push(staff.ctx.t("audit.bad_date"));
        None
    });
    let filter = audit::Filter {
        actor: q.actor.clone(),
        action: q.action.clone(),
        target: q.target.clone(),
        from,
        to,
        refused_only: q.refused == "1",
    };
    let page_no = q.page.unwrap_or(1).max(1);
    let offset = (page_no - 1) * AUDIT_PER_PAGE;
    let (rows, total) =
        audit::search(&state.db, &filter, AUDIT_PER_PAGE as i64, offset as i64).await?;
    let base = format!(
        "/admin/audit?actor={}&action={}&target={}&from={}&to={}&refused={}",
        urlencode(&q.actor),
        urlencode(&q.action),
        urlencode(&q.target),
        urlencode(&q.from),
        urlencode(&q.to),
        urlencode(&q.refused)
    );
    let pager = Pager::new(
        &base,
        page_no,
        AUDIT_PER_PAGE,
        usize::try_from(total).unwrap_or(0),
    );
    Ok(AuditPage {
        ctx: staff.ctx,
        q,
        rows,
        pager,
        verification,
        errors,
    })
}

pub async fn audit_search(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    render(&audit_page(&state, staff, q, None).await?)
}

pub async fn audit_verify(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(_): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    let v = audit::verify_anchored(
        &state.db,
        &state.anchors(),
        state.config.audit_max_unanchored_secs,
    )
    .await?;
    audit::record(
        &state.db,
        audit::Entry::staff(&staff.session.user.username, "audit.verify", "audit_log").detail(
            match v.broken {
                Some((seq, why)) => format!("broken at {seq}: {why}"),
                None => format!("intact, {} records", v.records),
            },
        ),
    )
    .await?;
    render(&audit_page(&state, staff, AuditQuery::default(), Some(v)).await?)
}
