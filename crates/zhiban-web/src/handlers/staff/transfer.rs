//! Catalog import and export (`/admin/import`, `/admin/export`): CSV and
//! XLSX, all rows or none.

use crate::error::AppError;
use crate::extract::{Csrf, MultipartForm, Staff};
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::{error_message, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use zhiban_domain::catalog::transfer::{Format, ImportError, RowError};
use zhiban_domain::catalog::{ImportSummary, ServiceItem, transfer};
use zhiban_domain::{audit, catalog};

#[derive(Template)]
#[template(path = "staff/transfer/import.html")]
pub struct ImportPage {
    pub ctx: PageCtx,
    pub summary: Option<ImportSummary>,
    pub file_error: Option<String>,
    /// (row, message)
    pub row_errors: Vec<(usize, String)>,
    pub bad_rows: usize,
}

pub async fn import_form(staff_user: Staff) -> Result<Response, AppError> {
    render(&ImportPage {
        ctx: staff_user.ctx,
        summary: None,
        file_error: None,
        row_errors: Vec::new(),
        bad_rows: 0,
    })
}

pub async fn import(
    State(state): State<AppState>,
    staff_user: Staff,
    Csrf(form): Csrf<MultipartForm>,
) -> Result<Response, AppError> {
    let file = form
        .file("file")
        .map(|f| (f.file_name.clone(), f.body.clone()));
    // An import may touch any department: only the city level may run it.
    staff_user.require_city(&state, "catalog:import").await?;
    let ctx = staff_user.ctx.clone();
    let mut page = ImportPage {
        ctx: staff_user.ctx.clone(),
        summary: None,
        file_error: None,
        row_errors: Vec::new(),
        bad_rows: 0,
    };
    if form.file("file").is_some_and(|f| f.too_large) {
        let mb = state.config.cases.max_file_mb;
        page.file_error = Some(ctx.tn("import.too_large", mb));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        page.file_error = Some(ctx.t("import.no_file"));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    };
    let Some(format) = Format::from_filename(&name) else {
        page.file_error = Some(ctx.t("import.bad_type"));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    };
    match transfer::import(&state.db, &bytes, format, &staff_user.actor()).await {
        Ok(summary) => {
            state.refresh_catalog().await?;
            tracing::info!(file = %name, created = summary.created, updated = summary.updated, "catalog imported");
            page.summary = Some(summary);
            render(&page)
        }
        Err(ImportError::Rows(rows)) => {
            page.bad_rows = rows.len();
            page.row_errors = flatten_row_errors(&ctx, &rows, 500);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(ImportError::Domain(e)) => Err(e.into()),
    }
}

fn flatten_row_errors(ctx: &PageCtx, rows: &[RowError], max: usize) -> Vec<(usize, String)> {
    rows.iter()
        .flat_map(|r| r.errors.iter().map(move |e| (r.row, error_message(ctx, e))))
        .take(max)
        .collect()
}

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    pub format: String,
}

pub async fn export(
    State(state): State<AppState>,
    staff_user: Staff,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let items: Vec<ServiceItem> = catalog::list_services(&state.db, None)
        .await?
        .into_iter()
        .filter(|s| staff_user.covers_department(&state, &s.department_code))
        .collect();
    let (bytes, mime, ext) = if q.format == "xlsx" {
        (
            transfer::export_xlsx(&items)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )
    } else {
        (
            transfer::export_csv(&items)?,
            "text/csv; charset=utf-8",
            "csv",
        )
    };
    audit::record(
        &state.db,
        audit::Entry::staff(
            &staff_user.session.user.username,
            "catalog.export",
            "services",
        )
        .detail(format!("{} rows, {ext}", items.len())),
    )
    .await?;
    let disposition = format!(
        "attachment; filename=\"catalog.{ext}\"; filename*=UTF-8''{}.{ext}",
        urlencode("事项目录")
    );
    let mut res = bytes.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
