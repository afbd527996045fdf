//! How a license is shown: in a form's 免证办 choice and as labelled fields.

use crate::error::AppError;
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::form::LicenseChoice;
use std::collections::BTreeMap;
use zhiban_domain::licenses::{License, LicenseDoc, Status};
use zhiban_domain::{DomainError, licenses};

/// A license as a file field offers it, with its status in `ctx`'s language.
pub fn license_choice(ctx: &PageCtx, lic: &License, status: Status) -> LicenseChoice {
    LicenseChoice {
        type_name: lic.doc.type_name.clone(),
        number: lic.doc.number.clone(),
        status: ctx.license_status(&status),
    }
}

/// A license's fields as (label, value), in the order its type lists them.
pub async fn labelled_fields(
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
