//! Multipart forms with uploads (the application wizard, corrections,
//! result documents): every part read once, within the body limit.

use crate::error::AppError;
use axum::extract::Multipart;
use zhiban_domain::cases::{Draft, Upload};
use zhiban_domain::forms::{Answers, FormError};
use zhiban_domain::identity::citizen::Citizen;
use zhiban_domain::{DomainError, cases};

/// A multipart form read whole (within the route's body limit): its text
/// fields and its files. Read through `Csrf<MultipartForm>`.
#[derive(Debug, Default)]
pub struct MultipartForm {
    pub fields: Vec<(String, String)>,
    pub files: Vec<PostedFile>,
}

/// One file input's part.
#[derive(Debug)]
pub struct PostedFile {
    /// The input's name.
    pub input: String,
    /// The name the browser gave (untrusted: shown, never used as a path).
    pub file_name: String,
    /// Empty when the file was over the size limit.
    pub body: Vec<u8>,
    /// Over the size limit: counted while it streamed in, never kept whole.
    pub too_large: bool,
}

impl MultipartForm {
    /// Reads every part. A part with a file name, or named `file:…`, is a
    /// file, read chunk by chunk: one that grows past `max_file_bytes` is
    /// dropped as it streams (marked `too_large`), so an oversized upload
    /// never sits in memory whole.
    pub async fn read(mut mp: Multipart, max_file_bytes: usize) -> Result<Self, AppError> {
        let mut out = MultipartForm::default();
        while let Some(mut field) = mp.next_field().await.map_err(|_| AppError::BadRequest)? {
            let name = field.name().unwrap_or("").to_string();
            if field.file_name().is_some() || name.starts_with("file:") {
                let file_name = field.file_name().unwrap_or("").to_string();
                let mut body = Vec::new();
                let mut too_large = false;
                while let Some(chunk) =
                    field.chunk().await.map_err(|_| AppError::PayloadTooLarge)?
                {
                    if too_large {
                        continue;
                    }
                    if body.len() + chunk.len() > max_file_bytes {
                        too_large = true;
                        body = Vec::new();
                    } else {
                        body.extend_from_slice(&chunk);
                    }
                }
                out.files.push(PostedFile {
                    input: name,
                    file_name,
                    body,
                    too_large,
                });
            } else {
                let text = field.text().await.map_err(|_| AppError::BadRequest)?;
                out.fields.push((name, text));
            }
        }
        Ok(out)
    }

    /// The first value of a text field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The file posted in input `name`, unless it was left empty.
    pub fn file(&self, name: &str) -> Option<&PostedFile> {
        self.files.iter().find(|f| {
            f.input == name && (f.too_large || !(f.file_name.is_empty() && f.body.is_empty()))
        })
    }
}

/// A smart-form page as posted (the wizard, corrections): answers, uploads
/// (inputs named `file:KEY`) and the control fields, which start with `_`.
#[derive(Default)]
pub struct Posted {
    pub answers: Answers,
    /// (field key, file name, body) of every non-empty upload.
    pub uploads: Vec<(String, String, Vec<u8>)>,
    /// Field keys whose file was over the size limit (not kept).
    pub too_large: Vec<String>,
    pub go: String,
    pub page: usize,
    pub revision: Option<i64>,
    pub declared: bool,
}

impl From<MultipartForm> for Posted {
    fn from(form: MultipartForm) -> Self {
        let mut out = Posted::default();
        for f in form.files {
            let Some(key) = f.input.strip_prefix("file:") else {
                continue;
            };
            if f.too_large {
                out.too_large.push(key.to_string());
            } else if !f.file_name.is_empty() || !f.body.is_empty() {
                out.uploads.push((key.to_string(), f.file_name, f.body));
            }
        }
        for (name, text) in form.fields {
            match name.as_str() {
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
        out
    }
}

/// Where posted files go: a draft's materials, or a case being corrected.
pub enum UploadTo<'a> {
    Draft(&'a Draft),
    Case(&'a str),
}

/// The files that were over the limit (dropped while they streamed in),
/// as problems beside their fields.
pub fn oversize_errors(desk: &cases::Desk<'_>, posted: &mut Posted) -> Vec<FormError> {
    std::mem::take(&mut posted.too_large)
        .into_iter()
        .map(|key| FormError {
            key,
            code: "file_too_large",
            detail: desk.settings.max_file_mb.to_string(),
        })
        .collect()
}

/// Stores each posted file and collects the refusals to show beside their
/// fields. A file for a field that takes none here is ignored.
pub async fn store_uploads(
    desk: &cases::Desk<'_>,
    citizen: &Citizen,
    to: UploadTo<'_>,
    posted: &mut Posted,
) -> Result<Vec<FormError>, AppError> {
    let mut errors = oversize_errors(desk, posted);
    for (key, name, body) in std::mem::take(&mut posted.uploads) {
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

/// The files of a request form: those sent now checked and staged at once
/// (so a form that comes back keeps them), those staged before (`staged`
/// fields, `key|name`) taken back when they are `owner`'s; at most
/// [`zhiban_domain::requests::files::MAX_FILES`].
pub async fn request_files(
    state: &crate::state::AppState,
    owner: zhiban_domain::requests::files::Stager<'_>,
    mp: &MultipartForm,
) -> (
    Vec<zhiban_domain::requests::files::Attachment>,
    Vec<zhiban_domain::FieldError>,
) {
    use zhiban_domain::FieldError;
    use zhiban_domain::requests::files::{self, MAX_FILES};
    let mut staged = Vec::new();
    let mut problems = Vec::new();
    for v in mp
        .fields
        .iter()
        .filter(|(k, _)| k == "staged")
        .map(|(_, v)| v)
    {
        if let Some((key, name)) = v.split_once('|')
            && let Some(a) = files::restage(&state.files, owner, key, name).await
        {
            staged.push(a);
        }
    }
    let max = state.config.cases.max_file_bytes();
    for f in mp.files.iter().filter(|f| f.input == "files") {
        if f.file_name.is_empty() && f.body.is_empty() && !f.too_large {
            continue;
        }
        if f.too_large {
            problems.push(FieldError::new(
                "request_files",
                "attachment_too_large",
                state.config.cases.max_file_mb.to_string(),
            ));
            continue;
        }
        match files::stage(&state.files, owner, &f.file_name, f.body.clone(), max).await {
            Ok(a) => staged.push(a),
            Err(e) => problems.push(e),
        }
    }
    if staged.len() > MAX_FILES {
        problems.push(FieldError::new(
            "request_files",
            "too_many_files",
            MAX_FILES.to_string(),
        ));
    }
    (staged, problems)
}
