//! Messages for people: domain errors in the visitor's language, for
//! forms (next to the field) and for the script-driven endpoints (JSON).

use crate::error::AppError;
use crate::view::ctx::PageCtx;
use axum::response::{IntoResponse, Response};
use zhiban_domain::FieldError;
use zhiban_domain::forms::FormError;

/// A JSON error for the script-driven endpoints (passkeys): `{"error": "…"}`.
pub fn json_error(status: axum::http::StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

/// Field problems from the domain as one translated JSON error; anything
/// else is a real failure.
pub fn json_invalid(ctx: &PageCtx, e: zhiban_domain::DomainError) -> Result<Response, AppError> {
    match e {
        zhiban_domain::DomainError::Invalid(errs) => Ok(json_error(
            axum::http::StatusCode::BAD_REQUEST,
            &errs
                .iter()
                .map(|e| ctx.t(&format!("errors.{}", e.code)))
                .collect::<Vec<_>>()
                .join("；"),
        )),
        e => Err(e.into()),
    }
}

/// Translated message of a field error, e.g. "承诺时限：不能大于法定时限（70 > 60）".
pub fn error_message(ctx: &PageCtx, e: &FieldError) -> String {
    let field = ctx.t(&format!("field.{}", e.field));
    let msg = ctx.t(&format!("errors.{}", e.code));
    if e.detail.is_empty() {
        format!("{field}：{msg}")
    } else if msg.contains("%{n}") {
        format!("{field}：{}", msg.replace("%{n}", &e.detail))
    } else {
        format!("{field}：{msg}（{}）", e.detail)
    }
}

pub fn field_messages(ctx: &PageCtx, errors: &[FieldError]) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|e| (e.field.to_string(), error_message(ctx, e)))
        .collect()
}

/// A form's problems for the summary at the top: each names its field
/// ("户口簿：请上传此项材料"), and links to it.
pub fn error_list(
    ctx: &PageCtx,
    schema: &zhiban_domain::forms::FormSchema,
    errors: &[FormError],
) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|e| {
            let text = crate::view::form::error_text(ctx, e);
            let top = e.key.split('.').next().unwrap_or(&e.key);
            let text = match schema.fields().find(|f| f.key == top) {
                Some(f) if !f.label.is_empty() => format!("{}：{text}", f.label),
                _ => text,
            };
            (format!("f-{}", e.key.replace('.', "-")), text)
        })
        .collect()
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

/// The answer to a passkey ceremony's first step: its id and the options
/// for the browser's WebAuthn call, or the domain's refusal as JSON.
pub fn ceremony_json<T: serde::Serialize>(
    ctx: &PageCtx,
    started: Result<(String, T), zhiban_domain::DomainError>,
) -> Result<Response, AppError> {
    match started {
        Ok((ceremony, options)) => Ok(axum::Json(
            serde_json::json!({ "ceremony": ceremony, "options": options }),
        )
        .into_response()),
        Err(e) => json_invalid(ctx, e),
    }
}

/// A new password typed twice must be the same both times (checked before
/// the domain sees it); the problem is shown beside the second field.
pub fn typed_twice(password: &str, again: &str) -> Result<(), zhiban_domain::DomainError> {
    if password == again {
        Ok(())
    } else {
        Err(zhiban_domain::DomainError::Invalid(vec![FieldError::new(
            "password_again",
            "password_mismatch",
            "",
        )]))
    }
}
