//! Static assets compiled into the binary.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::{Path, Query};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;
use serde::Deserialize;

use crate::error::AppError;

#[derive(RustEmbed)]
// Minified by build.rs; the readable sources are in `assets/`.
#[folder = "$OUT_DIR/assets/"]
struct Assets;

/// Each asset's version: the start of its SHA-256, known at build time.
static VERSIONS: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    Assets::iter()
        .filter_map(|name| {
            let file = Assets::get(&name)?;
            let hash = file.metadata.sha256_hash();
            let v: String = hash[..6].iter().map(|b| format!("{b:02x}")).collect();
            Some((name.into_owned(), v))
        })
        .collect()
});

/// The URL pages use for an asset: with its version, so a browser keeps it
/// for a year and fetches the new file the moment it changes.
pub fn url(name: &str) -> String {
    match VERSIONS.get(name) {
        Some(v) => format!("/assets/{name}?v={v}"),
        None => format!("/assets/{name}"),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AssetQuery {
    #[serde(default)]
    pub v: String,
}

pub async fn asset(
    Path(path): Path<String>,
    Query(q): Query<AssetQuery>,
) -> Result<Response, AppError> {
    let file = Assets::get(&path).ok_or(AppError::NotFound)?;
    let mime = mime_guess::from_path(&path).first_or_octet_stream();
    let mut res = file.data.into_owned().into_response();
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    // The current version's URL never changes content: a year, immutable.
    // Anything else (an old page's link, no version) a day.
    let current = VERSIONS.get(&path).is_some_and(|v| *v == q.v);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if current {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=86400"
        }),
    );
    Ok(res)
}
