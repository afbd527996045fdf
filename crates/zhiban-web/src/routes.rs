//! The route table: every path the portal answers, in one place.

use axum::Router;
use axum::handler::Handler;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware;
use axum::routing::{MethodRouter, get, post};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use zhiban_domain::identity::Perm;

use crate::handlers::{
    admin, api, apply, citizen, license_desk, licenses, oidc, people, public, staff_auth, workbench,
};
use crate::state::AppState;
use crate::{assets, error, openapi};

pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
    script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
    frame-ancestors 'none'";

/// One staff page or action: the permission it needs and its handlers.
pub struct StaffRoute {
    pub path: &'static str,
    /// `None`: any staff member past both sign-in factors.
    pub perm: Option<Perm>,
    pub methods: Vec<Method>,
    router: MethodRouter<AppState>,
}

impl StaffRoute {
    fn new(path: &'static str, perm: impl Into<Option<Perm>>) -> Self {
        StaffRoute {
            path,
            perm: perm.into(),
            methods: Vec::new(),
            router: MethodRouter::new(),
        }
    }

    fn get<H: Handler<T, AppState>, T: 'static>(mut self, h: H) -> Self {
        self.methods.push(Method::GET);
        self.router = self.router.get(h);
        self
    }

    fn post<H: Handler<T, AppState>, T: 'static>(mut self, h: H) -> Self {
        self.methods.push(Method::POST);
        self.router = self.router.post(h);
        self
    }
}

/// Every staff route and the permission it needs. The router puts each
/// behind [`staff_auth::guard`]; the route-walk test reads the same list.
pub fn staff_routes() -> Vec<StaffRoute> {
    use Perm::*;
    vec![
        StaffRoute::new("/admin", None).get(admin::index),
        StaffRoute::new("/admin/services", CatalogView).get(admin::list),
        StaffRoute::new("/admin/services/new", CatalogEdit)
            .get(admin::new_form)
            .post(admin::create),
        StaffRoute::new("/admin/services/{code}/edit", CatalogEdit)
            .get(admin::edit_form)
            .post(admin::update),
        StaffRoute::new("/admin/services/{code}/publish", CatalogPublish).post(admin::publish),
        StaffRoute::new("/admin/services/{code}/unpublish", CatalogPublish).post(admin::unpublish),
        StaffRoute::new("/admin/services/{code}/history", CatalogView).get(admin::history),
        StaffRoute::new("/admin/services/{code}/form", CatalogEdit)
            .get(workbench::form_edit)
            .post(workbench::form_save),
        StaffRoute::new("/admin/cases", CasesHandle).get(workbench::cases_list),
        StaffRoute::new("/admin/cases/accept", CasesHandle).post(workbench::batch_accept),
        StaffRoute::new("/admin/cases/{number}", CasesHandle).get(workbench::case_detail),
        StaffRoute::new("/admin/cases/{number}/act", CasesHandle).post(workbench::case_act),
        StaffRoute::new("/admin/cases/{number}/result", CasesHandle).post(workbench::case_result),
        StaffRoute::new("/admin/cases/{number}/files/{id}", CasesHandle).get(workbench::case_file),
        StaffRoute::new("/admin/licenses", LicensesManage).get(license_desk::list),
        StaffRoute::new("/admin/licenses/new", LicensesManage)
            .get(license_desk::new_form)
            .post(license_desk::issue),
        StaffRoute::new("/admin/licenses/import", LicensesManage)
            .get(license_desk::import_form)
            .post(license_desk::import),
        StaffRoute::new("/admin/licenses/types", LicensesManage)
            .get(license_desk::types)
            .post(license_desk::configure_type),
        StaffRoute::new("/admin/licenses/{number}", LicensesManage).get(license_desk::detail),
        StaffRoute::new("/admin/licenses/{number}/revoke", LicensesManage)
            .post(license_desk::revoke),
        StaffRoute::new("/admin/notify", CasesConfigure)
            .get(workbench::notify_list)
            .post(workbench::notify_save),
        StaffRoute::new("/admin/import", CatalogTransfer)
            .get(admin::import_form)
            .post(admin::import),
        StaffRoute::new("/admin/export", CatalogTransfer).get(admin::export),
        StaffRoute::new("/admin/search", SearchManage).get(admin::search_insights),
        StaffRoute::new("/admin/search/synonyms", SearchManage).post(admin::save_synonym),
        StaffRoute::new("/admin/search/synonyms/{id}/delete", SearchManage)
            .post(admin::delete_synonym),
        StaffRoute::new("/admin/staff", StaffManage).get(people::staff_list),
        StaffRoute::new("/admin/staff/new", StaffManage)
            .get(people::staff_new)
            .post(people::staff_create),
        StaffRoute::new("/admin/staff/{id}", StaffManage)
            .get(people::staff_edit)
            .post(people::staff_update),
        StaffRoute::new("/admin/staff/{id}/reset-2fa", StaffManage).post(people::staff_reset_2fa),
        StaffRoute::new("/admin/org", StaffManage)
            .get(people::org_tree)
            .post(people::org_save),
        StaffRoute::new("/admin/roles", RolesManage).get(people::role_list),
        StaffRoute::new("/admin/roles/new", RolesManage)
            .get(people::role_new)
            .post(people::role_create),
        StaffRoute::new("/admin/roles/{id}", RolesManage)
            .get(people::role_edit)
            .post(people::role_update),
        StaffRoute::new("/admin/audit", AuditView).get(people::audit_search),
        StaffRoute::new("/admin/audit/verify", AuditView).post(people::audit_verify),
        StaffRoute::new("/admin/account", None).get(people::account),
        StaffRoute::new("/admin/passkeys/remove", None).post(people::passkey_remove),
        StaffRoute::new("/admin/sms", SmsOutbox).get(citizen::sms_outbox),
        StaffRoute::new("/admin/citizens", CitizensView).get(citizen::counter),
        StaffRoute::new("/admin/citizens/verify", CitizensView).post(citizen::counter_verify),
        StaffRoute::new("/admin/oidc", OidcClients)
            .get(oidc::clients)
            .post(oidc::register_client),
        StaffRoute::new("/admin/oidc/toggle", OidcClients).post(oidc::toggle_client),
        StaffRoute::new("/admin/oidc/rotate", OidcClients).post(oidc::rotate_keys),
    ]
}

pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let mut staff = Router::new();
    for r in staff_routes() {
        let guard = staff_auth::Guard {
            state: state.clone(),
            perm: r.perm,
        };
        staff = staff.route(
            r.path,
            r.router
                .route_layer(middleware::from_fn_with_state(guard, staff_auth::guard)),
        );
    }
    // Served over HTTPS (secure cookies): browsers must never fall back to HTTP.
    let hsts = state.config.secure_cookies.then(|| {
        SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    // Sign-in, code sending and registration: a per-address attempt limit.
    let limited = middleware::from_fn_with_state(state.clone(), staff_auth::limit_sign_in);
    // A page of the application form may carry several materials at the
    // largest allowed size: room for ten of them plus the answers.
    // Public license checks and shared links: a per-address lookup limit.
    let lookups = middleware::from_fn_with_state(
        licenses::Lookups::new(state.clone()),
        licenses::limit_lookups,
    );
    let uploads = axum::extract::DefaultBodyLimit::max(
        usize::try_from(state.config.cases.max_file_mb.max(1) * 10 + 2)
            .unwrap_or(usize::MAX / (1024 * 1024))
            .saturating_mul(1024 * 1024),
    );
    Router::new()
        .merge(staff)
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
        // Applying online and following one's cases (一网通办)
        .route(
            "/apply/{code}",
            get(apply::apply_form).post(apply::apply_post).layer(uploads),
        )
        .route("/my/cases", get(apply::my_cases))
        .route("/my/cases/{number}", get(apply::my_case))
        .route("/my/cases/{number}/receipt", get(apply::receipt))
        .route("/my/cases/{number}/resubmit", post(apply::resubmit).layer(uploads))
        .route("/my/cases/{number}/withdraw", post(apply::withdraw))
        .route("/my/cases/{number}/files/{id}", get(apply::my_file))
        .route("/my/messages", get(apply::messages))
        .route("/progress", get(apply::progress_form).post(apply::progress).route_layer(limited.clone()))
        // Electronic licenses: the holder's wallet, public checks, shared links
        .route("/my/licenses", get(licenses::wallet))
        .route("/my/licenses/{number}", get(licenses::license))
        .route("/my/licenses/{number}/download", get(licenses::download))
        .route("/my/licenses/{number}/share", post(licenses::share))
        .route("/my/licenses/{number}/unshare", post(licenses::unshare))
        .route(
            "/licenses/verify",
            get(licenses::verify_page)
                .route_layer(lookups.clone())
                .merge(post(licenses::verify_upload).route_layer(limited.clone())),
        )
        .route("/licenses/verify/{number}", get(licenses::verify_number).route_layer(lookups.clone()))
        .route("/licenses/shared/{token}", get(licenses::shared).route_layer(lookups.clone()))
        // Citizens' accounts (统一身份认证)
        .route("/login", get(citizen::login_form).post(citizen::login).route_layer(limited.clone()))
        .route("/login/sms", post(citizen::login_sms).route_layer(limited.clone()))
        .route("/login/code", post(citizen::login_code).route_layer(limited.clone()))
        .route("/register", get(citizen::register_form).post(citizen::register).route_layer(limited.clone()))
        .route("/register/code", post(citizen::register_code).route_layer(limited.clone()))
        .route("/login/qr", get(citizen::qr_start))
        .route("/login/qr/status", get(citizen::qr_status))
        .route("/login/qr/finish", post(citizen::qr_finish).route_layer(limited.clone()))
        .route("/login/qr/scan", get(citizen::qr_scan))
        .route("/login/qr/answer", post(citizen::qr_answer))
        .route("/reset", get(citizen::reset_form).post(citizen::reset).route_layer(limited.clone()))
        .route("/reset/code", post(citizen::reset_code).route_layer(limited.clone()))
        .route("/login/passkey/begin", post(citizen::passkey_login_begin).route_layer(limited.clone()))
        .route("/login/passkey/finish", post(citizen::passkey_login_finish).route_layer(limited.clone()))
        .route("/login/verify", get(citizen::code_step_form).post(citizen::code_step).route_layer(limited.clone()))
        .route("/account/totp", get(citizen::totp_form).post(citizen::totp_save))
        .route("/logout", post(citizen::logout))
        .route("/account", get(citizen::account))
        .route("/account/realname", post(citizen::realname))
        .route("/account/password", post(citizen::password))
        .route("/account/email", post(citizen::email))
        .route("/account/logout-all", post(citizen::logout_all))
        .route("/account/data", get(citizen::download))
        .route("/account/delete", post(citizen::delete))
        .route("/account/passkeys/begin", post(citizen::passkey_register_begin))
        .route("/account/passkeys/finish", post(citizen::passkey_register_finish))
        .route("/account/passkeys/remove", post(citizen::passkey_remove))
        .route("/account/companies", get(citizen::companies).post(citizen::company_register))
        .route("/account/companies/agents", post(citizen::company_agent_add))
        .route("/account/companies/agents/revoke", post(citizen::company_agent_revoke))
        // Single sign-on for other systems (OpenID Connect provider)
        .route("/.well-known/openid-configuration", get(oidc::discovery))
        .route("/oidc/jwks", get(oidc::jwks))
        .route("/oidc/authorize", get(oidc::authorize).post(oidc::authorize_decision))
        .route("/oidc/token", post(oidc::token))
        .route("/oidc/userinfo", get(oidc::userinfo).post(oidc::userinfo))
        .route("/oidc/logout", get(oidc::logout))
        // Staff: signing in (the rest is in `staff_routes`)
        .route(
            "/admin/login",
            get(staff_auth::login_form)
                .post(staff_auth::login)
                .route_layer(limited.clone()),
        )
        .route(
            "/admin/login/verify",
            get(staff_auth::verify_form)
                .post(staff_auth::verify)
                .route_layer(limited.clone()),
        )
        .route(
            "/admin/account/password",
            get(staff_auth::password_form).post(staff_auth::change_password),
        )
        .route("/admin/login/verify/passkey/begin", post(staff_auth::passkey_verify_begin).route_layer(limited.clone()))
        .route("/admin/login/verify/passkey/finish", post(staff_auth::passkey_verify_finish).route_layer(limited.clone()))
        .route("/admin/passkeys/begin", post(staff_auth::passkey_add_begin))
        .route("/admin/passkeys/finish", post(staff_auth::passkey_add_finish))
        .route("/admin/logout", post(staff_auth::logout))
        // Other systems
        .route("/api/v1/services", get(api::list_services))
        .route("/api/v1/services/{code}", get(api::get_service))
        .route("/api/v1/search", get(api::search))
        .route("/api/v1/suggest", get(api::suggest))
        .route("/api/v1/licenses/verify", post(api::verify_license_file).route_layer(lookups.clone()))
        .route("/api/v1/licenses/{number}/verify", get(api::verify_license).route_layer(lookups))
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
        .layer(tower::util::option_layer(hsts))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO)).make_span_with(
            |req: &axum::http::Request<axum::body::Body>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!("request", method = %req.method(), path = %licenses::log_path(req.uri().path()), request_id = %id)
            },
        ))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}
