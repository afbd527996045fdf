//! Electronic licenses (电子证照) for their holders and for everyone else:
//! the wallet (我的证照) with each license's data, QR code, download,
//! time-limited shared links and the record of every use; the public check
//! by number (the QR code's target), by uploaded file, and through a shared
//! link; and the per-address limit on those public lookups.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use zhiban_domain::licenses::{self, FileCheck, License, LicenseDoc, PublicView, Status};
use zhiban_domain::time::local_date;
use zhiban_domain::{DomainError, FieldError};

use super::citizen::{CitizenUser, check_form_token, form_token};
use super::oidc::Issuer;
use super::render;
use super::staff_auth::{ClientInfo, client_ip, qr_data_url};
use crate::ctx::{PageCtx, urlencode};
use crate::error::AppError;
use crate::form_view::LicenseChoice;
use crate::state::AppState;

/// Public lookups (verification, shared links) one client address may make
/// per minute: generous for people checking licenses at a counter, too few
/// to walk the number space.
pub const LOOKUPS_PER_MINUTE: u32 = 60;

/// Largest exported license file the verification page reads.
const MAX_FILE_BYTES: usize = 256 * 1024;

/// A license as a file field offers it, with its status in `ctx`'s language.
pub(crate) fn choice(ctx: &PageCtx, lic: &License, status: Status) -> LicenseChoice {
    LicenseChoice {
        type_name: lic.doc.type_name.clone(),
        number: lic.doc.number.clone(),
        status: ctx.license_status(&status),
    }
}

/// The path as it may be logged: a shared link's token is a secret.
pub fn log_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/licenses/shared/") {
        Some(rest) if !rest.is_empty() => "/licenses/shared/…".into(),
        _ => path.into(),
    }
}

/// The per-address limit on public lookups, with what it needs to know
/// the client's address.
#[derive(Clone)]
pub struct Lookups {
    pub state: AppState,
    pub limiter: Arc<governor::DefaultKeyedRateLimiter<String>>,
}

impl Lookups {
    pub fn new(state: AppState) -> Self {
        let quota = governor::Quota::per_minute(
            std::num::NonZeroU32::new(LOOKUPS_PER_MINUTE).unwrap_or(std::num::NonZeroU32::MIN),
        );
        Lookups {
            state,
            limiter: Arc::new(governor::RateLimiter::keyed(quota)),
        }
    }
}

/// Refuses a client that looks up licenses faster than
/// [`LOOKUPS_PER_MINUTE`] (every method: shared links are GETs).
pub async fn limit_lookups(State(l): State<Lookups>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    if l.limiter.check_key(&client_ip(&parts, &l.state)).is_err() {
        tracing::warn!(path = %log_path(parts.uri.path()), "license lookup rate limit");
        if parts.uri.path().starts_with("/api/") {
            return AppError::Api {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "too_many_requests",
                message: "too many lookups from this address, try again in a minute".into(),
            }
            .into_response();
        }
        return AppError::TooMany.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Pages with someone's license data are never stored by the browser or a proxy.
fn private(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

/// A license's fields as (label, value), in the order its type lists them.
async fn labelled_fields(
    state: &AppState,
    doc: &LicenseDoc,
) -> Result<Vec<(String, String)>, AppError> {
    let labels = match licenses::get_type(&state.db, &doc.type_code).await {
        Ok(t) => t.fields,
        Err(DomainError::NotFound) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let mut rest: BTreeMap<&String, &String> = doc.fields.iter().collect();
    let mut out = Vec::new();
    for f in &labels {
        if let Some(v) = rest.remove(&f.key) {
            out.push((f.label.clone(), v.clone()));
        }
    }
    out.extend(rest.into_iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(out)
}

fn verify_link(base: &str, number: &str) -> String {
    format!(
        "{}/licenses/verify/{}",
        base.trim_end_matches('/'),
        urlencode(number)
    )
}

// ---------------------------------------------------------------- the wallet

/// One license in the wallet list.
pub struct WalletRow {
    pub lic: License,
    pub status: Status,
}

#[derive(Template)]
#[template(path = "my_licenses.html")]
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
    Ok(private(render(&WalletPage {
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
#[template(path = "my_license.html")]
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
            .map(super::people::local_time)
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
            created: super::people::local_time(s.created_at),
            expires: super::people::local_time(s.expires_at),
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
            at: super::people::local_time(u.at),
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
    Ok(private((code, render(&page)?).into_response()))
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: String,
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
    Ok(private(res))
}

#[derive(Debug, Default, Deserialize)]
pub struct ShareForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: Option<String>,
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
    Form(form): Form<ShareForm>,
) -> Result<Response, AppError> {
    user.check_csrf(form.csrf.as_ref())?;
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
    Form(form): Form<ShareForm>,
) -> Result<Response, AppError> {
    user.check_csrf(form.csrf.as_ref())?;
    licenses::unshare(&state.db, user.citizen(), &number, &form.token_hash).await?;
    Ok(Redirect::to(&format!(
        "/my/licenses/{}?done=unshared#shares-title",
        urlencode(number.trim())
    ))
    .into_response())
}

/// A translated message for a license field problem: a license field's
/// problem names that field (its label is the detail).
pub fn license_error(ctx: &PageCtx, e: &FieldError) -> String {
    let msg = ctx.t(&format!("errors.{}", e.code));
    match e.field {
        "license_field" => format!("{}：{msg}", e.detail),
        _ => {
            let field = ctx.t(&format!("field.{}", e.field));
            if e.detail.is_empty() {
                format!("{field}：{msg}")
            } else {
                format!("{field}：{msg}（{}）", e.detail)
            }
        }
    }
}

// ---------------------------------------------------------------- public checks

#[derive(Template)]
#[template(path = "license_verify.html")]
pub struct VerifyPage {
    pub ctx: PageCtx,
    pub number: String,
    pub errors: Vec<(String, String)>,
    pub file: Option<FileCheck>,
}

#[derive(Debug, Default, Deserialize)]
pub struct VerifyQuery {
    /// Absent: the empty form. Present but blank: asked for.
    pub number: Option<String>,
}

fn verify_form(
    state: &AppState,
    mut ctx: PageCtx,
    jar: CookieJar,
    number: String,
    errors: Vec<(String, String)>,
    file: Option<FileCheck>,
) -> Result<Response, AppError> {
    let jar = form_token(state, &mut ctx, jar);
    let code = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = VerifyPage {
        ctx,
        number,
        errors,
        file,
    };
    Ok((code, jar, render(&page)?).into_response())
}

/// The verification page; with `?number=` it goes to that license's check.
pub async fn verify_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    jar: CookieJar,
    Query(q): Query<VerifyQuery>,
) -> Result<Response, AppError> {
    let Some(asked) = q.number else {
        return verify_form(&state, ctx, jar, String::new(), Vec::new(), None);
    };
    let number: String = asked.trim().to_uppercase().chars().take(40).collect();
    if !licenses::number_ok(&number) {
        let code = if number.is_empty() {
            "required"
        } else {
            "invalid_license_number"
        };
        let msg = license_error(&ctx, &FieldError::new("license_number", code, ""));
        return verify_form(
            &state,
            ctx,
            jar,
            number,
            vec![("v-number".into(), msg)],
            None,
        );
    }
    Ok(Redirect::to(&format!("/licenses/verify/{}", urlencode(&number))).into_response())
}

/// An uploaded license file (multipart, with the form token).
pub async fn verify_upload(
    State(state): State<AppState>,
    ctx: PageCtx,
    jar: CookieJar,
    mut mp: Multipart,
) -> Result<Response, AppError> {
    let mut csrf = String::new();
    let mut body: Option<Vec<u8>> = None;
    let mut too_big = false;
    while let Ok(Some(mut field)) = mp.next_field().await {
        match field.name() {
            Some("_csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("file") => {
                let mut bytes = Vec::new();
                while let Ok(Some(chunk)) = field.chunk().await {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > MAX_FILE_BYTES {
                        too_big = true;
                        break;
                    }
                }
                body = Some(bytes);
            }
            _ => {}
        }
    }
    check_form_token(&jar, &csrf)?;
    let error = |code: &'static str| {
        let msg = license_error(&ctx, &FieldError::new("license_file", code, ""));
        vec![("v-file".to_string(), msg)]
    };
    let errors = match &body {
        _ if too_big => error("file_too_large"),
        None => error("required"),
        Some(b) if b.is_empty() => error("required"),
        Some(_) => Vec::new(),
    };
    if !errors.is_empty() {
        return verify_form(&state, ctx.clone(), jar, String::new(), errors, None);
    }
    let text = String::from_utf8_lossy(body.as_deref().unwrap_or_default()).into_owned();
    match licenses::check_file(&state.db, &text, local_date(state.db.now())).await? {
        Ok(check) => verify_form(&state, ctx, jar, String::new(), Vec::new(), Some(check)),
        Err(_) => {
            let errors = error("not_a_license_file");
            verify_form(&state, ctx.clone(), jar, String::new(), errors, None)
        }
    }
}

#[derive(Template)]
#[template(path = "license_check.html")]
pub struct CheckPage {
    pub ctx: PageCtx,
    pub number: String,
    pub view: Option<PublicView>,
}

/// The QR code's target: the license's status and masked data, or a clear
/// "not found" (404).
pub async fn verify_number(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(number): Path<String>,
) -> Result<Response, AppError> {
    let number: String = number.trim().to_uppercase().chars().take(40).collect();
    let view = if licenses::number_ok(&number) {
        licenses::verify_public(&state.db, &number).await?
    } else {
        None
    };
    let code = if view.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let page = CheckPage { ctx, number, view };
    Ok((code, render(&page)?).into_response())
}

#[derive(Template)]
#[template(path = "license_shared.html")]
pub struct SharedPage {
    pub ctx: PageCtx,
    pub found: Option<(PublicView, LicenseDoc)>,
    pub fields: Vec<(String, String)>,
}

/// A holder's shared link: the check and the license (ID number masked);
/// a 404 page once it has expired or been stopped.
pub async fn shared(
    State(state): State<AppState>,
    ctx: PageCtx,
    ClientInfo(client): ClientInfo,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let found = if token.len() <= 128 {
        licenses::shared(&state.db, token.trim(), &client.ip).await?
    } else {
        None
    };
    let fields = match &found {
        Some((_, doc)) => labelled_fields(&state, doc).await?,
        None => Vec::new(),
    };
    let code = if found.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let page = SharedPage { ctx, found, fields };
    let mut res = private((code, render(&page)?).into_response());
    res.headers_mut()
        .insert("x-robots-tag", HeaderValue::from_static("noindex"));
    Ok(res)
}
