//! QR codes as `data:` URLs (SVG), for pages that show one.

use crate::error::AppError;
use crate::view::ctx::urlencode;

pub fn qr_data_url(text: &str) -> Result<String, AppError> {
    let code =
        qrcode::QrCode::new(text.as_bytes()).map_err(|e| AppError::Internal(format!("qr: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(format!("data:image/svg+xml;utf8,{}", urlencode(&svg)))
}
