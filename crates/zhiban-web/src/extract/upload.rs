//! Multipart forms with uploads (the application wizard, corrections,
//! result documents): every part read once, within the body limit.

use crate::error::AppError;
use axum::extract::Multipart;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use zhiban_domain::cases::{Draft, Upload};
use zhiban_domain::forms::{Answers, FormError};
use zhiban_domain::identity::citizen::Citizen;
use zhiban_domain::{DomainError, cases};

/// A posted multipart form: answers, uploads and the control fields.
#[derive(Default)]
pub struct Posted {
    pub answers: Answers,
    /// (field key, file name, body) of every non-empty upload.
    pub uploads: Vec<(String, String, Vec<u8>)>,
    pub csrf: Option<String>,
    pub go: String,
    pub page: usize,
    pub revision: Option<i64>,
    pub declared: bool,
}

/// Reads a multipart form. Control fields start with `_`; uploads are named
/// `file:KEY`.
pub async fn read_multipart(mut mp: Multipart) -> Result<Posted, AppError> {
    let mut out = Posted::default();
    while let Some(field) = mp.next_field().await.map_err(|e| {
        AppError::Reply(Box::new(
            (StatusCode::BAD_REQUEST, e.body_text()).into_response(),
        ))
    })? {
        let name = field.name().unwrap_or("").to_string();
        if let Some(key) = name.strip_prefix("file:") {
            let file_name = field.file_name().unwrap_or("").to_string();
            let body = field.bytes().await.map_err(|e| {
                AppError::Reply(Box::new(
                    (StatusCode::PAYLOAD_TOO_LARGE, e.body_text()).into_response(),
                ))
            })?;
            if !file_name.is_empty() || !body.is_empty() {
                out.uploads
                    .push((key.to_string(), file_name, body.to_vec()));
            }
            continue;
        }
        let text = field.text().await.unwrap_or_default();
        match name.as_str() {
            "_csrf" => out.csrf = Some(text),
            "_go" => out.go = text,
            "_page" => out.page = text.parse().unwrap_or(0),
            "_revision" => out.revision = text.parse().ok(),
            "_declare" => out.declared = text == "1",
            n if n.starts_with('_') => {}
            _ => {
                out.answers.insert(name, text);
            }
        }
    }
    Ok(out)
}

/// Where posted files go: a draft's materials, or a case being corrected.
pub enum UploadTo<'a> {
    Draft(&'a Draft),
    Case(&'a str),
}

/// Stores each posted file and collects the refusals to show beside their
/// fields. A file for a field that takes none here is ignored.
pub async fn store_uploads(
    desk: &cases::Desk<'_>,
    citizen: &Citizen,
    to: UploadTo<'_>,
    uploads: Vec<(String, String, Vec<u8>)>,
) -> Result<Vec<FormError>, AppError> {
    let mut errors = Vec::new();
    for (key, name, body) in uploads {
        let upload = Upload {
            field_key: &key,
            file_name: &name,
            body,
        };
        let stored = match to {
            UploadTo::Draft(d) => cases::add_draft_file(desk, citizen, d, upload).await,
            UploadTo::Case(n) => cases::replace_material(desk, citizen, n, upload).await,
        };
        match stored {
            Ok(_) | Err(DomainError::NotFound | DomainError::Conflict(_)) => {}
            Err(DomainError::Form(mut e)) => errors.append(&mut e),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(errors)
}
