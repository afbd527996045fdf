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

use crate::handlers::citizen::{
    account, apply, auth, cases as my_cases, companies, licenses as wallet,
};
use crate::handlers::public::{
    catalog as browse, home, licenses as checks, police, prefs, progress, search,
};
use crate::handlers::staff::{
    account as staff_account, audit, cases, catalog, citizens, forms, home as staff_home, licenses,
    notify, oidc_clients, org, people, roles, search as insights, sign_in, sms, transfer,
};
use crate::handlers::{api, oidc};
use crate::middleware::{limit, log, staff_guard};
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
/// behind [`staff_guard::guard`]; the route-walk test reads the same list.
pub fn staff_routes() -> Vec<StaffRoute> {
    use Perm::*;
    vec![
        StaffRoute::new("/admin", None).get(staff_home::index),
        StaffRoute::new("/admin/services", CatalogView).get(catalog::list),
        StaffRoute::new("/admin/services/new", CatalogEdit)
            .get(catalog::new_form)
            .post(catalog::create),
        StaffRoute::new("/admin/services/{code}/edit", CatalogEdit)
            .get(catalog::edit_form)
            .post(catalog::update),
        StaffRoute::new("/admin/services/{code}/publish", CatalogPublish).post(catalog::publish),
        StaffRoute::new("/admin/services/{code}/unpublish", CatalogPublish)
            .post(catalog::unpublish),
        StaffRoute::new("/admin/services/{code}/history", CatalogView).get(catalog::history),
        StaffRoute::new("/admin/services/{code}/form", CatalogEdit)
            .get(forms::form_edit)
            .post(forms::form_save),
        StaffRoute::new("/admin/cases", CasesHandle).get(cases::cases_list),
        StaffRoute::new("/admin/cases/accept", CasesHandle).post(cases::batch_accept),
        StaffRoute::new("/admin/cases/{number}", CasesHandle).get(cases::case_detail),
        StaffRoute::new("/admin/cases/{number}/act", CasesHandle).post(cases::case_act),
        StaffRoute::new("/admin/cases/{number}/result", CasesHandle).post(cases::case_result),
        StaffRoute::new("/admin/cases/{number}/files/{id}", CasesHandle).get(cases::case_file),
        StaffRoute::new("/admin/licenses", LicensesManage).get(licenses::list),
        StaffRoute::new("/admin/licenses/new", LicensesManage)
            .get(licenses::new_form)
            .post(licenses::issue),
        StaffRoute::new("/admin/licenses/import", LicensesManage)
            .get(licenses::import_form)
            .post(licenses::import),
        StaffRoute::new("/admin/licenses/types", LicensesManage)
            .get(licenses::types)
            .post(licenses::configure_type),
        StaffRoute::new("/admin/licenses/{number}", LicensesManage).get(licenses::detail),
        StaffRoute::new("/admin/licenses/{number}/revoke", LicensesManage).post(licenses::revoke),
        StaffRoute::new("/admin/notify", CasesConfigure)
            .get(notify::notify_list)
            .post(notify::notify_save),
        StaffRoute::new("/admin/import", CatalogTransfer)
            .get(transfer::import_form)
            .post(transfer::import),
        StaffRoute::new("/admin/export", CatalogTransfer).get(transfer::export),
        StaffRoute::new("/admin/search", SearchManage).get(insights::search_insights),
        StaffRoute::new("/admin/search/synonyms", SearchManage).post(insights::save_synonym),
        StaffRoute::new("/admin/search/synonyms/{id}/delete", SearchManage)
            .post(insights::delete_synonym),
        StaffRoute::new("/admin/staff", StaffManage).get(people::staff_list),
        StaffRoute::new("/admin/staff/new", StaffManage)
            .get(people::staff_new)
            .post(people::staff_create),
        StaffRoute::new("/admin/staff/{id}", StaffManage)
            .get(people::staff_edit)
            .post(people::staff_update),
        StaffRoute::new("/admin/staff/{id}/reset-2fa", StaffManage).post(people::staff_reset_2fa),
        StaffRoute::new("/admin/org", StaffManage)
            .get(org::org_tree)
            .post(org::org_save),
        StaffRoute::new("/admin/roles", RolesManage).get(roles::role_list),
        StaffRoute::new("/admin/roles/new", RolesManage)
            .get(roles::role_new)
            .post(roles::role_create),
        StaffRoute::new("/admin/roles/{id}", RolesManage)
            .get(roles::role_edit)
            .post(roles::role_update),
        StaffRoute::new("/admin/audit", AuditView).get(audit::audit_search),
        StaffRoute::new("/admin/audit/verify", AuditView).post(audit::audit_verify),
        StaffRoute::new("/admin/account", None).get(staff_account::account),
        StaffRoute::new("/admin/passkeys/remove", None).post(staff_account::passkey_remove),
        StaffRoute::new("/admin/sms", SmsOutbox).get(sms::sms_outbox),
        StaffRoute::new("/admin/citizens", CitizensView).get(citizens::counter),
        StaffRoute::new("/admin/citizens/verify", CitizensView).post(citizens::counter_verify),
        StaffRoute::new("/admin/oidc", OidcClients)
            .get(oidc_clients::clients)
            .post(oidc_clients::register_client),
        StaffRoute::new("/admin/oidc/toggle", OidcClients).post(oidc_clients::toggle_client),
        StaffRoute::new("/admin/oidc/rotate", OidcClients).post(oidc_clients::rotate_keys),
    ]
}

pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let mut staff = Router::new();
    for r in staff_routes() {
        let guard = staff_guard::Guard {
            state: state.clone(),
            perm: r.perm,
        };
        staff = staff.route(
            r.path,
            r.router
                .route_layer(middleware::from_fn_with_state(guard, staff_guard::guard)),
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
    let limited = middleware::from_fn_with_state(state.clone(), limit::limit_sign_in);
    // A page of the application form may carry several materials at the
    // largest allowed size: room for ten of them plus the answers.
    // Public license checks and shared links: a per-address lookup limit.
    let lookups =
        middleware::from_fn_with_state(limit::Lookups::new(state.clone()), limit::limit_lookups);
    let uploads = axum::extract::DefaultBodyLimit::max(
        usize::try_from(state.config.cases.max_file_mb.max(1) * 10 + 2)
            .unwrap_or(usize::MAX / (1024 * 1024))
            .saturating_mul(1024 * 1024),
    );
    Router::new()
        .merge(staff)
        // Citizens
        .route("/", get(home::home))
        .route("/services", get(browse::services))
        .route("/services/{code}", get(browse::guide))
        .route("/departments", get(browse::departments))
        .route("/themes", get(browse::themes))
        .route("/police", get(police::police))
        .route("/search", get(search::search))
        .route("/search/go", get(search::search_go))
        .route("/prefs", get(prefs::prefs))
        .route("/accessibility", get(prefs::accessibility))
        // Applying online and following one's cases (一网通办)
        .route(
            "/apply/{code}",
            get(apply::apply_form).post(apply::apply_post).layer(uploads),
        )
        .route("/my/cases", get(my_cases::my_cases))
        .route("/my/cases/{number}", get(my_cases::my_case))
        .route("/my/cases/{number}/receipt", get(my_cases::receipt))
        .route("/my/cases/{number}/resubmit", post(my_cases::resubmit).layer(uploads))
        .route("/my/cases/{number}/withdraw", post(my_cases::withdraw))
        .route("/my/cases/{number}/files/{id}", get(my_cases::my_file))
        .route("/my/messages", get(my_cases::messages))
        .route("/progress", get(progress::progress_form).post(progress::progress).route_layer(limited.clone()))
        // Electronic licenses: the holder's wallet, public checks, shared links
        .route("/my/licenses", get(wallet::wallet))
        .route("/my/licenses/{number}", get(wallet::license))
        .route("/my/licenses/{number}/download", get(wallet::download))
        .route("/my/licenses/{number}/share", post(wallet::share))
        .route("/my/licenses/{number}/unshare", post(wallet::unshare))
        .route(
            "/licenses/verify",
            get(checks::verify_page)
                .route_layer(lookups.clone())
                .merge(post(checks::verify_upload).route_layer(limited.clone())),
        )
        .route("/licenses/verify/{number}", get(checks::verify_number).route_layer(lookups.clone()))
        .route("/licenses/shared/{token}", get(checks::shared).route_layer(lookups.clone()))
        // Citizens' accounts (统一身份认证)
        .route("/login", get(auth::login_form).post(auth::login).route_layer(limited.clone()))
        .route("/login/sms", post(auth::login_sms).route_layer(limited.clone()))
        .route("/login/code", post(auth::login_code).route_layer(limited.clone()))
        .route("/register", get(auth::register_form).post(auth::register).route_layer(limited.clone()))
        .route("/register/code", post(auth::register_code).route_layer(limited.clone()))
        .route("/login/qr", get(auth::qr_start))
        .route("/login/qr/status", get(auth::qr_status))
        .route("/login/qr/finish", post(auth::qr_finish).route_layer(limited.clone()))
        .route("/login/qr/scan", get(auth::qr_scan))
        .route("/login/qr/answer", post(auth::qr_answer))
        .route("/reset", get(auth::reset_form).post(auth::reset).route_layer(limited.clone()))
        .route("/reset/code", post(auth::reset_code).route_layer(limited.clone()))
        .route("/login/passkey/begin", post(auth::passkey_login_begin).route_layer(limited.clone()))
        .route("/login/passkey/finish", post(auth::passkey_login_finish).route_layer(limited.clone()))
        .route("/login/verify", get(auth::code_step_form).post(auth::code_step).route_layer(limited.clone()))
        .route("/account/totp", get(account::totp_form).post(account::totp_save))
        .route("/logout", post(auth::logout))
        .route("/account", get(account::account))
        .route("/account/realname", post(account::realname))
        .route("/account/password", post(account::password))
        .route("/account/email", post(account::email))
        .route("/account/logout-all", post(account::logout_all))
        .route("/account/data", get(account::download))
        .route("/account/delete", post(account::delete))
        .route("/account/passkeys/begin", post(account::passkey_register_begin))
        .route("/account/passkeys/finish", post(account::passkey_register_finish))
        .route("/account/passkeys/remove", post(account::passkey_remove))
        .route("/account/companies", get(companies::companies).post(companies::company_register))
        .route("/account/companies/agents", post(companies::company_agent_add))
        .route("/account/companies/agents/revoke", post(companies::company_agent_revoke))
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
            get(sign_in::login_form)
                .post(sign_in::login)
                .route_layer(limited.clone()),
        )
        .route(
            "/admin/login/verify",
            get(sign_in::verify_form)
                .post(sign_in::verify)
                .route_layer(limited.clone()),
        )
        .route(
            "/admin/account/password",
            get(sign_in::password_form).post(sign_in::change_password),
        )
        .route("/admin/login/verify/passkey/begin", post(sign_in::passkey_verify_begin).route_layer(limited.clone()))
        .route("/admin/login/verify/passkey/finish", post(sign_in::passkey_verify_finish).route_layer(limited.clone()))
        .route("/admin/passkeys/begin", post(sign_in::passkey_add_begin))
        .route("/admin/passkeys/finish", post(sign_in::passkey_add_finish))
        .route("/admin/logout", post(sign_in::logout))
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
                tracing::info_span!("request", method = %req.method(), path = %log::log_path(req.uri().path()), request_id = %id)
            },
        ))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}
