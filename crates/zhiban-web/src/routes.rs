//! The route table: every path the portal answers, in one place.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware;
use axum::routing::{get, post};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::handlers::{admin, api, public};
use crate::state::AppState;
use crate::{assets, error, openapi};

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
    script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
    frame-ancestors 'none'";

pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        // Citizens
        .route("/", get(public::home))
        .route("/services", get(public::services))
        .route("/services/{code}", get(public::guide))
        .route("/departments", get(public::departments))
        .route("/themes", get(public::themes))
        .route("/police", get(public::police))
        .route("/search", get(public::search))
        .route("/search/go", get(public::search_go))
        .route("/prefs", get(public::prefs))
        .route("/accessibility", get(public::accessibility))
        // Staff
        .route("/admin", get(admin::index))
        .route("/admin/login", get(admin::login_form).post(admin::login))
        .route("/admin/logout", post(admin::logout))
        .route("/admin/services", get(admin::list))
        .route("/admin/services/new", get(admin::new_form).post(admin::create))
        .route("/admin/services/{code}/edit", get(admin::edit_form).post(admin::update))
        .route("/admin/services/{code}/publish", post(admin::publish))
        .route("/admin/services/{code}/unpublish", post(admin::unpublish))
        .route("/admin/services/{code}/history", get(admin::history))
        .route("/admin/import", get(admin::import_form).post(admin::import))
        .route("/admin/search", get(admin::search_insights))
        .route("/admin/search/synonyms", post(admin::save_synonym))
        .route("/admin/search/synonyms/{id}/delete", post(admin::delete_synonym))
        .route("/admin/export", get(admin::export))
        // Other systems
        .route("/api/v1/services", get(api::list_services))
        .route("/api/v1/services/{code}", get(api::get_service))
        .route("/api/v1/search", get(api::search))
        .route("/api/v1/suggest", get(api::suggest))
        .route("/api/openapi.json", get(openapi::spec))
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/assets/{*path}", get(assets::asset))
        .fallback(error::not_found)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(error::panic_response))
        .layer(middleware::from_fn(error::error_pages))
        .layer(axum::extract::DefaultBodyLimit::max(20 * 1024 * 1024))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO)).make_span_with(
            |req: &axum::http::Request<axum::body::Body>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            },
        ))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}
