//! The license wallet (`/my/licenses…`, 我的证照): each license with its
//! data, QR code and download, time-limited shared links, and every use.

use crate::error::AppError;
use crate::extract::Csrf;
use crate::extract::{CitizenUser, DoneQuery, Issuer};
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::{labelled_fields, no_store, qr_data_url, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::licenses::{License, Status};
use zhiban_domain::{DomainError, licenses};

fn verify_link(base: &str, number: &str) -> String {
    format!(
        "{}/licenses/verify/{}",
        base.trim_end_matches('/'),
        urlencode(number)
    )
}

/// One license in the wallet list.
pub struct WalletRow {
    pub lic: License,
    pub status: Status,
}

#[derive(Template)]
#[template(path = "citizen/licenses/wallet.html")]
pub struct WalletPage {
    pub ctx: PageCtx,
    pub rows: Vec<WalletRow>,
    pub verified: bool,
}

pub async fn wallet(
    State(state): State<AppState>,
    user: CitizenUser,
) -> Result<Response, AppError> {
    let mut rows = Vec::new();
    for lic in licenses::wallet(&state.db, user.citizen()).await? {
        let status = licenses::status(&state.db, &lic).await?;
        rows.push(WalletRow { lic, status });
    }
    Ok(no_store(render(&WalletPage {
        verified: !user.citizen().id_number.is_empty(),
        ctx: user.ctx,
        rows,
    })?))
}

/// A live shared link as its owner sees it.
pub struct ShareView {
    pub token_hash: String,
    pub created: String,
    pub expires: String,
    pub views: i64,
}

/// One entry of the use record.
pub struct UseView {
    pub kind: String,
    pub case_number: String,
    pub material: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "citizen/licenses/license.html")]
pub struct LicensePage {
    pub ctx: PageCtx,
    pub lic: License,
    pub status: Status,
    pub fields: Vec<(String, String)>,
    pub qr: String,
    pub link: String,
    pub shares: Vec<ShareView>,
    pub uses: Vec<UseView>,
    /// The link just made: shown once, its token is not stored.
    pub new_link: Option<String>,
    pub new_hours: i64,
    pub errors: Vec<(String, String)>,
    pub notice: String,
}

impl LicensePage {
    fn hours_options(&self) -> Vec<(i64, String)> {
        licenses::SHARE_HOURS
            .iter()
            .map(|h| (*h, self.ctx.t(&format!("licenses.share_{h}h"))))
            .collect()
    }
    fn share_hint(&self) -> String {
        let period = self.ctx.t(&format!("licenses.share_{}h", self.new_hours));
        self.ctx.tn("licenses.share_link_hint", period)
    }
    fn revoked_at(&self) -> String {
        self.lic
            .revoked_at
            .map(zhiban_domain::time::local_time)
            .unwrap_or_default()
    }
}

async fn license_page(
    state: &AppState,
    user: &CitizenUser,
    base: &str,
    number: &str,
    new_link: Option<(String, i64)>,
    errors: Vec<(String, String)>,
    notice: String,
) -> Result<Response, AppError> {
    let lic = licenses::own(&state.db, user.citizen(), number).await?;
    let status = licenses::status(&state.db, &lic).await?;
    let link = verify_link(base, &lic.doc.number);
    let ctx = &user.ctx;
    let shares = licenses::shares(&state.db, lic.id)
        .await?
        .into_iter()
        .map(|s| ShareView {
            token_hash: s.token_hash,
            created: zhiban_domain::time::local_time(s.created_at),
            expires: zhiban_domain::time::local_time(s.expires_at),
            views: s.views,
        })
        .collect();
    let uses = licenses::uses(&state.db, lic.id)
        .await?
        .into_iter()
        .map(|u| UseView {
            kind: ctx.t(&format!("licenses.use_{}", u.kind)),
            case_number: u.case_number,
            material: u.material,
            at: zhiban_domain::time::local_time(u.at),
        })
        .collect();
    let code = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (new_link, new_hours) = match new_link {
        Some((l, h)) => (Some(l), h),
        None => (None, 0),
    };
    let page = LicensePage {
        fields: labelled_fields(state, &lic.doc).await?,
        qr: qr_data_url(&link)?,
        ctx: user.ctx.clone(),
        lic,
        status,
        link,
        shares,
        uses,
        new_link,
        new_hours,
        errors,
        notice,
    };
    Ok(no_store((code, render(&page)?).into_response()))
}

pub async fn license(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Path(number): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let notice = match q.done.as_str() {
        "unshared" => user.ctx.t("licenses.unshared"),
        _ => String::new(),
    };
    license_page(&state, &user, &base, &number, None, Vec::new(), notice).await
}

/// The signed license file (`{number}.json`) anyone can check, here or offline.
pub async fn download(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Path(number): Path<String>,
) -> Result<Response, AppError> {
    let lic = licenses::own(&state.db, user.citizen(), &number).await?;
    let file = licenses::export(&state.db, &lic, base.trim_end_matches('/')).await?;
    let body = serde_json::to_vec_pretty(&file)
        .map_err(|e| AppError::Internal(format!("license export: {e}")))?;
    let disposition = format!("attachment; filename=\"{}.json\"", lic.doc.number);
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(no_store(res))
}

#[derive(Debug, Default, Deserialize)]
pub struct ShareForm {
    #[serde(default)]
    pub hours: String,
    #[serde(default)]
    pub token_hash: String,
}

/// Makes a time-limited link and shows it once (only its hash is kept, so
/// the page answers the POST itself instead of redirecting).
pub async fn share(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Path(number): Path<String>,
    Csrf(Form(form)): Csrf<Form<ShareForm>>,
) -> Result<Response, AppError> {
    let hours: i64 = form.hours.trim().parse().unwrap_or(0);
    match licenses::share(&state.db, user.citizen(), &number, hours).await {
        Ok(token) => {
            let link = format!("{}/licenses/shared/{token}", base.trim_end_matches('/'));
            let notice = user.ctx.t("licenses.shared_done");
            license_page(
                &state,
                &user,
                &base,
                &number,
                Some((link, hours)),
                Vec::new(),
                notice,
            )
            .await
        }
        Err(DomainError::Invalid(errs)) => {
            let errors = errs
                .iter()
                .map(|e| {
                    let msg = user.ctx.t(&format!("errors.{}", e.code));
                    let label = user.ctx.t("licenses.share_for");
                    ("s-hours".to_string(), format!("{label}：{msg}"))
                })
                .collect();
            license_page(&state, &user, &base, &number, None, errors, String::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn unshare(
    State(state): State<AppState>,
    user: CitizenUser,
    Path(number): Path<String>,
    Csrf(Form(form)): Csrf<Form<ShareForm>>,
) -> Result<Response, AppError> {
    licenses::unshare(&state.db, user.citizen(), &number, &form.token_hash).await?;
    Ok(Redirect::to(&format!(
        "/my/licenses/{}?done=unshared#shares-title",
        urlencode(number.trim())
    ))
    .into_response())
}
