//! Pages seen by a signed-in person carry their personal data (the full
//! 身份证号 on an application, a case file, the audit log), so no response
//! to a request with a session cookie may be kept by the browser or a
//! proxy: `Cache-Control: no-store` unless the handler said otherwise
//! (assets keep their own caching).

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::CookieJar;

use crate::extract::{SESSION_COOKIE, USER_COOKIE};

pub async fn no_store_when_signed_in(req: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(req.headers());
    let signed_in = jar.get(SESSION_COOKIE).is_some() || jar.get(USER_COOKIE).is_some();
    let mut res = next.run(req).await;
    if signed_in && !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
