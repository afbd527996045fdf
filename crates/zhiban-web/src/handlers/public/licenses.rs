//! Public license checks: by number (`/licenses/verify/{number}`, the QR
//! code's target), by uploaded file (`/licenses/verify`), and a holder's
//! shared link (`/licenses/shared/{token}`).

use crate::error::AppError;
use crate::extract::{ClientInfo, Csrf, MultipartForm, form_token};
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::{labelled_fields, license_error, no_store, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use zhiban_domain::licenses::{FileCheck, LicenseDoc, PublicView};
use zhiban_domain::time::local_date;
use zhiban_domain::{FieldError, licenses};

/// Largest exported license file the verification page reads.
const MAX_FILE_BYTES: usize = 256 * 1024;

#[derive(Template)]
#[template(path = "public/licenses/verify.html")]
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
    Csrf(form): Csrf<MultipartForm>,
) -> Result<Response, AppError> {
    let file = form.file("file");
    let too_big = file.is_some_and(|f| f.too_large || f.body.len() > MAX_FILE_BYTES);
    let body = file.map(|f| f.body.as_slice());
    let error = |code: &'static str| {
        let msg = license_error(&ctx, &FieldError::new("license_file", code, ""));
        vec![("v-file".to_string(), msg)]
    };
    let errors = match body {
        _ if too_big => error("file_too_large"),
        None => error("required"),
        Some([]) => error("required"),
        Some(_) => Vec::new(),
    };
    if !errors.is_empty() {
        return verify_form(&state, ctx.clone(), jar, String::new(), errors, None);
    }
    let text = String::from_utf8_lossy(body.unwrap_or_default()).into_owned();
    match licenses::check_file(&state.db, &text, local_date(state.db.now())).await? {
        Ok(check) => verify_form(&state, ctx, jar, String::new(), Vec::new(), Some(check)),
        Err(_) => {
            let errors = error("not_a_license_file");
            verify_form(&state, ctx.clone(), jar, String::new(), errors, None)
        }
    }
}

#[derive(Template)]
#[template(path = "public/licenses/check.html")]
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
#[template(path = "public/licenses/shared.html")]
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
    let mut res = no_store((code, render(&page)?).into_response());
    res.headers_mut()
        .insert("x-robots-tag", HeaderValue::from_static("noindex"));
    Ok(res)
}
