//! The route table: every path the portal answers, in one place.

use axum::Router;
use axum::handler::Handler;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware;
use axum::routing::{MethodRouter, get, post};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use zhiban_domain::identity::Perm;

use crate::handlers::citizen::{
    account, apply, auth, bundles as my_bundles, cases as my_cases, companies, licenses as wallet,
    payments as my_payments, ratings as my_ratings, requests as my_requests,
};
use crate::handlers::public::{
    assistant as ask_us, bundles as one_thing, catalog as browse, consultations as consult,
    content as published, feeds, home, interviews as studio, licenses as checks,
    payments as paying, police, policies, prefs, progress, ratings as good_bad,
    requests as interaction, search, tips as tip_reports,
};
use crate::handlers::staff::{
    account as staff_account, assistant as knowledge, audit, bundles, cases, catalog,
    chats as agent_desk, citizens, consultations, content, counter, forms, home as staff_home,
    interviews, licenses, notify, oidc_clients, open311 as api_keys, opinion, org, payments,
    people, ratings, recommend, requests, roles, search as insights, sign_in, sms, tips, transfer,
};
use crate::handlers::{api, oidc as provider_h, open311 as georeport};
use crate::middleware::{limit, log, oidc, private, staff_guard};
use crate::state::AppState;
use crate::view::ctx::MenuEntry;
use crate::{assets, error, openapi};

pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
    script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
    frame-ancestors 'none'";

/// One staff page or action: the permission it needs, its handlers and,
/// for the areas' entry pages, its place in the staff menu.
pub struct StaffRoute {
    pub path: &'static str,
    /// `None`: any staff member past both sign-in factors.
    pub perm: Option<Perm>,
    pub methods: Vec<Method>,
    /// (position, label key) in the staff menu.
    pub menu: Option<(u8, &'static str)>,
    router: MethodRouter<AppState>,
}

impl StaffRoute {
    fn new(path: &'static str, perm: impl Into<Option<Perm>>) -> Self {
        StaffRoute {
            path,
            perm: perm.into(),
            methods: Vec::new(),
            menu: None,
            router: MethodRouter::new(),
        }
    }

    /// Lists the page in the staff menu at `position`, labelled `label`
    /// (a translation key); people see it when they hold the route's permission.
    fn menu(mut self, position: u8, label: &'static str) -> Self {
        self.menu = Some((position, label));
        self
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

    /// Wraps every method of the route (a body limit of its own). The
    /// staff guard still runs first.
    fn with(mut self, f: impl FnOnce(MethodRouter<AppState>) -> MethodRouter<AppState>) -> Self {
        self.router = f(self.router);
        self
    }
}

/// The article editor takes files: an oversized one streams through (and
/// is dropped) so the editor comes back with a clear message and nothing
/// typed lost, up to this much in one save.
const EDITOR_BODY_LIMIT: usize = 512 * 1024 * 1024;

fn editor_uploads(r: MethodRouter<AppState>) -> MethodRouter<AppState> {
    r.layer(axum::extract::DefaultBodyLimit::max(EDITOR_BODY_LIMIT))
}

/// Every staff route and the permission it needs. The router puts each
/// behind [`staff_guard::guard`]; the route-walk test reads the same list.
pub fn staff_routes() -> Vec<StaffRoute> {
    use Perm::*;
    vec![
        StaffRoute::new("/admin", None).get(staff_home::index),
        StaffRoute::new("/admin/services", CatalogView)
            .get(catalog::list)
            .menu(2, "admin.catalog"),
        StaffRoute::new("/admin/services/new", CatalogEdit)
            .get(catalog::new_form)
            .post(catalog::create)
            .menu(3, "admin.new"),
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
        StaffRoute::new("/admin/bundles", CatalogView)
            .get(bundles::list)
            .menu(3, "bundles.admin_title"),
        StaffRoute::new("/admin/bundles/new", CatalogEdit)
            .get(bundles::new_form)
            .post(bundles::create),
        StaffRoute::new("/admin/bundles/{code}/edit", CatalogEdit)
            .get(bundles::edit_form)
            .post(bundles::update),
        StaffRoute::new("/admin/bundles/{code}/publish", CatalogPublish).post(bundles::publish),
        StaffRoute::new("/admin/bundles/{code}/unpublish", CatalogPublish).post(bundles::unpublish),
        StaffRoute::new("/admin/recommend", CatalogEdit)
            .get(recommend::rules)
            .post(recommend::save)
            .menu(3, "recommend.admin_title"),
        StaffRoute::new("/admin/assistant", AssistantManage)
            .get(knowledge::list)
            .menu(9, "assistant.menu"),
        StaffRoute::new("/admin/assistant/new", AssistantManage)
            .get(knowledge::new_form)
            .post(knowledge::create),
        StaffRoute::new("/admin/assistant/{id}", AssistantManage)
            .get(knowledge::edit_form)
            .post(knowledge::update),
        StaffRoute::new("/admin/assistant/{id}/active", AssistantManage)
            .post(knowledge::set_active),
        StaffRoute::new("/admin/assistant/unanswered/{id}/dismiss", AssistantManage)
            .post(knowledge::dismiss),
        StaffRoute::new("/admin/chats", CallsAnswer)
            .get(agent_desk::queue)
            .menu(9, "chats.menu"),
        StaffRoute::new("/admin/chats/live", CallsAnswer).get(agent_desk::queue_live),
        StaffRoute::new("/admin/chats/canned", CallsAnswer)
            .get(agent_desk::canned)
            .post(agent_desk::add_canned),
        StaffRoute::new("/admin/chats/canned/{id}/remove", CallsAnswer)
            .post(agent_desk::remove_canned),
        StaffRoute::new("/admin/chats/{id}", CallsAnswer).get(agent_desk::show),
        StaffRoute::new("/admin/chats/{id}/live", CallsAnswer).get(agent_desk::live),
        StaffRoute::new("/admin/chats/{id}/accept", CallsAnswer).post(agent_desk::accept),
        StaffRoute::new("/admin/chats/{id}/reply", CallsAnswer).post(agent_desk::reply),
        StaffRoute::new("/admin/chats/{id}/transfer", CallsAnswer).post(agent_desk::transfer),
        StaffRoute::new("/admin/chats/{id}/close", CallsAnswer).post(agent_desk::close),
        StaffRoute::new("/admin/opinion", OpinionMonitor)
            .get(opinion::index)
            .menu(9, "opinion.menu"),
        StaffRoute::new("/admin/opinion/run", OpinionMonitor).post(opinion::run_now),
        StaffRoute::new("/admin/opinion/items", OpinionMonitor).get(opinion::items),
        StaffRoute::new("/admin/opinion/watch", OpinionMonitor).post(opinion::add_watch),
        StaffRoute::new("/admin/opinion/watch/{id}/remove", OpinionMonitor)
            .post(opinion::remove_watch),
        StaffRoute::new("/admin/opinion/alerts/{id}/seen", OpinionMonitor)
            .post(opinion::alert_seen),
        StaffRoute::new("/admin/opinion/rules", OpinionMonitor).post(opinion::save_rules),
        StaffRoute::new("/admin/opinion/feeds", OpinionMonitor)
            .get(opinion::feeds_page)
            .post(opinion::add_feed),
        StaffRoute::new("/admin/opinion/feeds/{id}/fetch", OpinionMonitor)
            .post(opinion::fetch_feed),
        StaffRoute::new("/admin/opinion/feeds/{id}/active", OpinionMonitor)
            .post(opinion::feed_active),
        StaffRoute::new("/admin/cases", CasesHandle)
            .get(cases::cases_list)
            .menu(1, "wb.title"),
        StaffRoute::new("/admin/cases/accept", CasesHandle).post(cases::batch_accept),
        StaffRoute::new("/admin/counter", CasesHandle)
            .get(counter::counter_home)
            .post(counter::counter_start)
            .menu(1, "intake.title"),
        StaffRoute::new("/admin/counter/{id}", CasesHandle)
            .get(counter::counter_form)
            .post(counter::counter_post)
            .with(editor_uploads),
        StaffRoute::new("/admin/cases/{number}", CasesHandle).get(cases::case_detail),
        StaffRoute::new("/admin/cases/{number}/act", CasesHandle).post(cases::case_act),
        StaffRoute::new("/admin/cases/{number}/result", CasesHandle).post(cases::case_result),
        StaffRoute::new("/admin/cases/{number}/fee", CasesHandle).post(cases::case_fee),
        StaffRoute::new("/admin/cases/{number}/files/{id}", CasesHandle).get(cases::case_file),
        StaffRoute::new("/admin/requests", RequestsDispatch)
            .get(requests::dispatch_desk)
            .menu(1, "requests.dispatch_desk"),
        StaffRoute::new("/admin/requests/desk", RequestsHandle)
            .get(requests::unit_desk)
            .menu(1, "requests.unit_desk"),
        StaffRoute::new("/admin/requests/categories", RequestsDispatch)
            .get(requests::categories)
            .post(requests::save_category),
        StaffRoute::new("/admin/requests/stats", None).get(requests::stats_page),
        // Either desk: the domain checks the desk and the data scope.
        StaffRoute::new("/admin/requests/{number}", None).get(requests::detail),
        StaffRoute::new("/admin/requests/{number}/act", None).post(requests::act),
        StaffRoute::new("/admin/requests/{number}/files/{id}", None).get(requests::file),
        StaffRoute::new("/admin/requests/{number}/publish", RequestsDispatch)
            .post(requests::publish),
        StaffRoute::new("/admin/payments", PaymentsFinance)
            .get(payments::desk)
            .menu(11, "pay.admin_title"),
        StaffRoute::new("/admin/payments/reconcile", PaymentsFinance).post(payments::run_reconcile),
        StaffRoute::new("/admin/payments/statement", PaymentsFinance).get(payments::statement),
        StaffRoute::new("/admin/payments/reconcile/items/{id}", PaymentsFinance)
            .post(payments::resolve),
        StaffRoute::new("/admin/payments/{number}", PaymentsFinance).get(payments::order),
        StaffRoute::new("/admin/payments/{number}/refund", PaymentsFinance)
            .post(payments::request_refund),
        StaffRoute::new("/admin/payments/{number}/refunds/{refund}", PaymentsFinance)
            .post(payments::decide_refund),
        StaffRoute::new("/admin/ratings", RatingsHandle)
            .get(ratings::desk)
            .menu(1, "ratings.admin_title"),
        StaffRoute::new("/admin/ratings/report.csv", RatingsHandle).get(ratings::report_csv),
        StaffRoute::new("/admin/ratings/invite", CasesHandle)
            .get(ratings::invite_form)
            .post(ratings::invite),
        StaffRoute::new("/admin/ratings/{id}", RatingsHandle).get(ratings::detail),
        StaffRoute::new("/admin/ratings/{id}/act", RatingsHandle).post(ratings::act),
        StaffRoute::new("/admin/tips", TipsHandle)
            .get(tips::list)
            .menu(1, "tips.admin_title"),
        StaffRoute::new("/admin/tips/keys", TipsHandle).post(tips::grant),
        StaffRoute::new("/admin/tips/{receipt}", TipsHandle).get(tips::detail),
        StaffRoute::new("/admin/tips/{receipt}/message", TipsHandle).post(tips::message),
        StaffRoute::new("/admin/tips/{receipt}/files/{id}", TipsHandle).get(tips::file),
        StaffRoute::new("/admin/interviews", InterviewsHost)
            .get(interviews::list)
            .menu(5, "interviews.admin_title"),
        StaffRoute::new("/admin/interviews/new", InterviewsHost)
            .get(interviews::new_form)
            .post(interviews::create),
        StaffRoute::new("/admin/interviews/{id}", InterviewsHost).get(interviews::console),
        StaffRoute::new("/admin/interviews/{id}/edit", InterviewsHost)
            .get(interviews::edit_form)
            .post(interviews::update),
        StaffRoute::new("/admin/interviews/{id}/moderate", InterviewsHost)
            .post(interviews::moderate),
        StaffRoute::new("/admin/interviews/{id}/say", InterviewsHost).post(interviews::say),
        StaffRoute::new("/admin/interviews/{id}/photo", InterviewsHost).post(interviews::photo),
        StaffRoute::new("/admin/interviews/{id}/state", InterviewsHost).post(interviews::set_state),
        StaffRoute::new("/admin/interviews/{id}/live", InterviewsHost).get(interviews::live),
        StaffRoute::new("/admin/consultations", ConsultationsManage)
            .get(consultations::list)
            .menu(5, "consult.admin_title"),
        StaffRoute::new("/admin/consultations/new", ConsultationsManage)
            .get(consultations::new_form)
            .post(consultations::create),
        StaffRoute::new("/admin/consultations/{id}", ConsultationsManage)
            .get(consultations::detail),
        StaffRoute::new("/admin/consultations/{id}/edit", ConsultationsManage)
            .get(consultations::edit_form)
            .post(consultations::update),
        StaffRoute::new("/admin/consultations/{id}/comments", ConsultationsManage)
            .post(consultations::moderate),
        StaffRoute::new("/admin/consultations/{id}/feedback", ConsultationsManage)
            .post(consultations::feedback),
        StaffRoute::new("/admin/consultations/{id}/answers.csv", ConsultationsManage)
            .get(consultations::answers_csv),
        StaffRoute::new("/admin/content", ContentEdit)
            .get(content::list)
            .menu(5, "content.admin_title"),
        StaffRoute::new("/admin/content/health", ContentEdit).get(content::health_report),
        StaffRoute::new("/admin/content/sites", ContentReview)
            .get(content::sites)
            .post(content::save_stages),
        StaffRoute::new("/admin/content/sites/channels", ContentReview).post(content::save_channel),
        StaffRoute::new("/admin/content/sites/new", ContentReview).post(content::create_site),
        StaffRoute::new("/admin/content/new", ContentEdit)
            .get(content::new_form)
            .post(content::create)
            .with(editor_uploads),
        StaffRoute::new("/admin/content/{id}", ContentEdit)
            .get(content::detail)
            .post(content::update)
            .with(editor_uploads),
        StaffRoute::new("/admin/content/{id}/files/{file}", ContentEdit).get(content::file),
        StaffRoute::new("/admin/content/{id}/diff", ContentEdit).get(content::diff),
        StaffRoute::new("/admin/content/{id}/graphic.svg", ContentEdit).get(content::graphic),
        StaffRoute::new("/admin/content/{id}/preview", ContentEdit).get(content::preview),
        StaffRoute::new("/admin/content/{id}/submit", ContentEdit).post(content::submit),
        StaffRoute::new("/admin/content/{id}/recall", ContentEdit).post(content::recall),
        StaffRoute::new("/admin/content/{id}/restore", ContentEdit).post(content::restore),
        StaffRoute::new("/admin/content/{id}/interpret", ContentEdit).post(content::interpret),
        StaffRoute::new("/admin/content/{id}/review", ContentReview).post(content::review),
        StaffRoute::new("/admin/content/{id}/withdraw", ContentReview).post(content::withdraw),
        StaffRoute::new("/admin/licenses", LicensesManage)
            .get(licenses::list)
            .menu(11, "licenses.admin_title"),
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
            .post(notify::notify_save)
            .menu(13, "wb.notify_title"),
        StaffRoute::new("/admin/import", CatalogTransfer)
            .get(transfer::import_form)
            .post(transfer::import)
            .menu(4, "admin.import"),
        StaffRoute::new("/admin/export", CatalogTransfer).get(transfer::export),
        StaffRoute::new("/admin/search", SearchManage)
            .get(insights::search_insights)
            .menu(5, "admin.search"),
        StaffRoute::new("/admin/search/synonyms", SearchManage).post(insights::save_synonym),
        StaffRoute::new("/admin/search/hot", SearchManage).post(insights::review_hot),
        StaffRoute::new("/admin/search/learned", SearchManage).post(insights::review_learned),
        StaffRoute::new("/admin/search/synonyms/{id}/delete", SearchManage)
            .post(insights::delete_synonym),
        StaffRoute::new("/admin/staff", StaffManage)
            .get(people::staff_list)
            .menu(6, "people.staff"),
        StaffRoute::new("/admin/staff/new", StaffManage)
            .get(people::staff_new)
            .post(people::staff_create),
        StaffRoute::new("/admin/staff/{id}", StaffManage)
            .get(people::staff_edit)
            .post(people::staff_update),
        StaffRoute::new("/admin/staff/{id}/reset-2fa", StaffManage).post(people::staff_reset_2fa),
        StaffRoute::new("/admin/org", StaffManage)
            .get(org::org_tree)
            .post(org::org_save)
            .menu(7, "org.title"),
        StaffRoute::new("/admin/roles", RolesManage)
            .get(roles::role_list)
            .menu(8, "people.roles"),
        StaffRoute::new("/admin/roles/new", RolesManage)
            .get(roles::role_new)
            .post(roles::role_create),
        StaffRoute::new("/admin/roles/{id}", RolesManage)
            .get(roles::role_edit)
            .post(roles::role_update),
        StaffRoute::new("/admin/audit", AuditView)
            .get(audit::audit_search)
            .menu(9, "audit.title"),
        StaffRoute::new("/admin/audit/verify", AuditView).post(audit::audit_verify),
        StaffRoute::new("/admin/account", None)
            .get(staff_account::account)
            .menu(15, "people.my_account"),
        StaffRoute::new("/admin/passkeys/remove", None).post(staff_account::passkey_remove),
        StaffRoute::new("/admin/sms", SmsOutbox)
            .get(sms::sms_outbox)
            .menu(14, "user.outbox"),
        StaffRoute::new("/admin/citizens", CitizensView)
            .get(citizens::counter)
            .menu(12, "counter.title"),
        StaffRoute::new("/admin/citizens/verify", CitizensView).post(citizens::counter_verify),
        StaffRoute::new("/admin/oidc", OidcClients)
            .get(oidc_clients::clients)
            .post(oidc_clients::register_client)
            .menu(10, "oidc.admin_title"),
        StaffRoute::new("/admin/oidc/toggle", OidcClients).post(oidc_clients::toggle_client),
        StaffRoute::new("/admin/open311", OidcClients)
            .get(api_keys::keys)
            .post(api_keys::issue)
            .menu(10, "open311.title"),
        StaffRoute::new("/admin/open311/revoke", OidcClients).post(api_keys::revoke),
        StaffRoute::new("/admin/oidc/rotate", OidcClients).post(oidc_clients::rotate_keys),
    ]
}

/// One route outside the staff table: its path, methods and handlers, and
/// why a POST to it needs no form token, when it does not.
pub struct SiteRoute {
    pub path: &'static str,
    pub methods: Vec<Method>,
    /// `Some(reason)`: POSTs here are not browser forms acting for a
    /// signed-in person (another system's client authentication, a bearer
    /// token, a lookup that changes nothing). Every other POST handler
    /// reads its body through `Csrf`, and the route-walk test checks it.
    pub csrf_exempt: Option<&'static str>,
    router: MethodRouter<AppState>,
}

impl SiteRoute {
    fn new(path: &'static str) -> Self {
        SiteRoute {
            path,
            methods: Vec::new(),
            csrf_exempt: None,
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

    /// Wraps every method of the route (rate limits, body limits).
    fn with(mut self, f: impl FnOnce(MethodRouter<AppState>) -> MethodRouter<AppState>) -> Self {
        self.router = f(self.router);
        self
    }

    fn csrf_exempt(mut self, why: &'static str) -> Self {
        self.csrf_exempt = Some(why);
        self
    }
}

/// Every route outside the staff table, grouped by area. The layers they
/// need (rate limits, the upload body limit) come from `state`'s settings.
pub fn site_routes(state: &AppState) -> Vec<SiteRoute> {
    // Sign-in, code sending and registration: a per-address attempt limit.
    let sign_in = middleware::from_fn_with_state(limit::RateLimit::sign_in(state), limit::limit);
    // Public license checks and shared links: a per-address lookup limit.
    let lookups = middleware::from_fn_with_state(limit::RateLimit::lookups(state), limit::limit);
    // A page of the application form may carry several materials at the
    // largest allowed size: room for ten of them plus the answers.
    let uploads = axum::extract::DefaultBodyLimit::max(
        usize::try_from(state.config.cases.max_file_mb.max(1) * 10 + 2)
            .unwrap_or(usize::MAX / (1024 * 1024))
            .saturating_mul(1024 * 1024),
    );
    let limited = |r: MethodRouter<AppState>| r.route_layer(sign_in.clone());
    let looked_up = |r: MethodRouter<AppState>| r.route_layer(lookups.clone());
    let upload = |r: MethodRouter<AppState>| r.layer(uploads);
    // The OpenID Connect provider runs only with a known public address.
    let issuer = middleware::from_fn_with_state(state.clone(), oidc::require_issuer);
    let provider = |r: MethodRouter<AppState>| r.route_layer(issuer.clone());
    vec![
        // Anyone: the catalog, search, preferences, progress lookup
        SiteRoute::new("/").get(home::home),
        SiteRoute::new("/services").get(browse::services),
        SiteRoute::new("/services/{code}").get(browse::guide),
        SiteRoute::new("/departments").get(browse::departments),
        SiteRoute::new("/themes").get(browse::themes),
        SiteRoute::new("/bundles").get(one_thing::list),
        SiteRoute::new("/bundles/{code}").get(one_thing::guide),
        SiteRoute::new("/police").get(police::police),
        // Anyone: 政务公开 (published articles, site homes, channels)
        SiteRoute::new("/articles/{id}").get(published::article),
        SiteRoute::new("/articles/{id}/files/{file}").get(published::article_file),
        SiteRoute::new("/articles/{id}/graphic.svg").get(published::graphic),
        SiteRoute::new("/policies").get(policies::policies),
        SiteRoute::new("/sites/{site}").get(published::site),
        SiteRoute::new("/sites/{site}/{channel}").get(published::channel),
        SiteRoute::new("/sites/{site}/rss.xml").get(feeds::site_rss),
        SiteRoute::new("/sites/{site}/atom.xml").get(feeds::site_atom),
        SiteRoute::new("/sites/{site}/{channel}/rss.xml").get(feeds::channel_rss),
        SiteRoute::new("/sites/{site}/{channel}/atom.xml").get(feeds::channel_atom),
        SiteRoute::new("/sitemap.xml").get(feeds::sitemap),
        SiteRoute::new("/robots.txt").get(feeds::robots),
        SiteRoute::new("/sitemap/{file}").get(feeds::sitemap_page),
        SiteRoute::new("/search").get(search::search),
        SiteRoute::new("/search/go").get(search::search_go),
        SiteRoute::new("/prefs").get(prefs::prefs),
        SiteRoute::new("/accessibility").get(prefs::accessibility),
        SiteRoute::new("/privacy").get(prefs::privacy),
        SiteRoute::new("/progress")
            .get(progress::progress_form)
            .post(progress::progress)
            .with(limited)
            .csrf_exempt("a lookup that changes nothing; POST keeps the phone number out of URLs"),
        // Anyone: 智能客服 (asking is a public write, limited per address
        // inside the handler so the page can say so)
        SiteRoute::new("/assistant")
            .get(ask_us::show)
            .post(ask_us::ask),
        SiteRoute::new("/assistant/restart").post(ask_us::restart),
        SiteRoute::new("/assistant/agent").post(ask_us::agent),
        SiteRoute::new("/assistant/agent/end").post(ask_us::end_agent),
        SiteRoute::new("/assistant/live").get(ask_us::live),
        SiteRoute::new("/assistant/faq/{id}").get(ask_us::faq),
        // Anyone: 政民互动 (what to write about, 公开选登)
        SiteRoute::new("/requests").get(interaction::hall),
        SiteRoute::new("/requests/emergency").get(my_requests::emergency_check),
        // 匿名反映 (举报, 建议) without an account, and following one with
        // its number and secret: public writes and lookups, limited per address
        SiteRoute {
            path: "/requests/anonymous",
            methods: vec![Method::GET, Method::POST],
            csrf_exempt: None,
            router: get(interaction::anonymous_form).merge(
                post(interaction::anonymous_file)
                    .route_layer(sign_in.clone())
                    .layer(uploads),
            ),
        },
        SiteRoute {
            path: "/requests/follow",
            methods: vec![Method::GET, Method::POST],
            csrf_exempt: None,
            router: get(interaction::follow_form)
                .merge(post(interaction::follow).route_layer(sign_in.clone())),
        },
        SiteRoute::new("/requests/{number}").get(interaction::published),
        // Anyone: 在线访谈 / 警方在线 (asking is a public write, limited per address)
        SiteRoute::new("/interviews").get(studio::list),
        SiteRoute::new("/interviews/{id}").get(studio::page),
        SiteRoute::new("/interviews/{id}/questions")
            .post(studio::ask)
            .with(limited),
        SiteRoute::new("/interviews/{id}/live").get(studio::live),
        SiteRoute::new("/interviews/{id}/photos/{post}").get(studio::photo),
        // Anyone: 征集调查 (commenting needs an account; answering a survey
        // may not; both are public writes, limited per address)
        SiteRoute::new("/consultations").get(consult::list),
        SiteRoute::new("/consultations/{id}").get(consult::page),
        SiteRoute::new("/consultations/{id}/comments")
            .post(consult::comment)
            .with(limited),
        SiteRoute::new("/consultations/{id}/answers")
            .post(consult::answer)
            .with(limited),
        // Payments: the gateway's signed callback, checking a receipt, and
        // the development gateway's cashier (a stand-in for a bank's)
        SiteRoute::new("/pay/notify")
            .post(paying::notify)
            .csrf_exempt("called by the payment gateway's server; authenticated by its signature"),
        SiteRoute::new("/fines")
            .get(paying::fines_form)
            .post(paying::fines)
            .with(limited)
            .csrf_exempt("a lookup that changes nothing; POST keeps the plate out of URLs"),
        SiteRoute::new("/fines/pay").post(my_payments::pay_fine),
        SiteRoute::new("/receipts/verify")
            .get(paying::verify)
            .with(looked_up),
        SiteRoute::new("/dev-gateway/pay/{trade}")
            .get(paying::cashier)
            .post(paying::cashier_post),
        // Anyone: 好差评 statistics, and rating a counter visit from the
        // link texted to the visitor (a public write, limited per address)
        SiteRoute::new("/ratings").get(good_bad::stats_page),
        SiteRoute {
            path: "/rate/{token}",
            methods: vec![Method::GET, Method::POST],
            csrf_exempt: None,
            router: get(good_bad::visit_form)
                .route_layer(lookups.clone())
                .merge(post(good_bad::rate_visit).route_layer(sign_in.clone())),
        },
        SiteRoute::new("/rate/{token}/appeal")
            .post(good_bad::appeal_visit)
            .with(limited),
        // Anyone: 线索举报 (police tips; the pages that answer a code and a
        // secret are limited per address like sign-in)
        SiteRoute {
            path: "/tips",
            methods: vec![Method::GET, Method::POST],
            csrf_exempt: None,
            router: get(tip_reports::new_form).merge(
                post(tip_reports::file)
                    .route_layer(sign_in.clone())
                    .layer(uploads),
            ),
        },
        SiteRoute {
            path: "/tips/follow",
            methods: vec![Method::GET, Method::POST],
            csrf_exempt: None,
            router: get(tip_reports::follow_form)
                .merge(post(tip_reports::follow).route_layer(sign_in.clone())),
        },
        // Anyone: license checks and shared links
        SiteRoute {
            path: "/licenses/verify",
            methods: vec![Method::GET, Method::POST],
            csrf_exempt: None,
            router: get(checks::verify_page)
                .route_layer(lookups.clone())
                .merge(post(checks::verify_upload).route_layer(sign_in.clone())),
        },
        SiteRoute::new("/licenses/verify/{number}")
            .get(checks::verify_number)
            .with(looked_up),
        SiteRoute::new("/licenses/shared/{token}")
            .get(checks::shared)
            .with(looked_up),
        // Citizens signing in (统一身份认证)
        SiteRoute::new("/login")
            .get(auth::login_form)
            .post(auth::login)
            .with(limited),
        SiteRoute::new("/login/sms")
            .post(auth::login_sms)
            .with(limited),
        SiteRoute::new("/login/code")
            .post(auth::login_code)
            .with(limited),
        SiteRoute::new("/login/verify")
            .get(auth::code_step_form)
            .post(auth::code_step)
            .with(limited),
        SiteRoute::new("/login/passkey/begin")
            .post(auth::passkey_login_begin)
            .with(limited),
        SiteRoute::new("/login/passkey/finish")
            .post(auth::passkey_login_finish)
            .with(limited),
        SiteRoute::new("/login/qr").get(auth::qr_start),
        SiteRoute::new("/login/qr/status").get(auth::qr_status),
        SiteRoute::new("/login/qr/finish")
            .post(auth::qr_finish)
            .with(limited),
        SiteRoute::new("/login/qr/scan").get(auth::qr_scan),
        SiteRoute::new("/login/qr/answer").post(auth::qr_answer),
        SiteRoute::new("/register")
            .get(auth::register_form)
            .post(auth::register)
            .with(limited),
        SiteRoute::new("/register/code")
            .post(auth::register_code)
            .with(limited),
        SiteRoute::new("/reset")
            .get(auth::reset_form)
            .post(auth::reset)
            .with(limited),
        SiteRoute::new("/reset/code")
            .post(auth::reset_code)
            .with(limited),
        SiteRoute::new("/logout").post(auth::logout),
        // A citizen's account centre and companies
        SiteRoute::new("/account").get(account::account),
        SiteRoute::new("/account/realname").post(account::realname),
        SiteRoute::new("/account/password").post(account::password),
        SiteRoute::new("/account/email").post(account::email),
        SiteRoute::new("/account/recommendations").post(account::recommendations),
        SiteRoute::new("/account/totp")
            .get(account::totp_form)
            .post(account::totp_save),
        SiteRoute::new("/account/logout-all").post(account::logout_all),
        SiteRoute::new("/account/data").get(account::download),
        SiteRoute::new("/account/delete").post(account::delete),
        SiteRoute::new("/account/passkeys/begin").post(account::passkey_register_begin),
        SiteRoute::new("/account/passkeys/finish").post(account::passkey_register_finish),
        SiteRoute::new("/account/passkeys/remove").post(account::passkey_remove),
        SiteRoute::new("/account/companies")
            .get(companies::companies)
            .post(companies::company_register),
        SiteRoute::new("/account/companies/agents").post(companies::company_agent_add),
        SiteRoute::new("/account/companies/act").post(companies::company_act),
        SiteRoute::new("/account/companies/agents/revoke").post(companies::company_agent_revoke),
        // Applying online and following one's cases (一网通办)
        SiteRoute::new("/apply/{code}")
            .get(apply::apply_form)
            .post(apply::apply_post)
            .with(upload),
        SiteRoute::new("/bundles/{code}/apply")
            .get(my_bundles::apply_form)
            .post(my_bundles::apply_post)
            .with(upload),
        SiteRoute::new("/my/bundles/{number}").get(my_bundles::my_bundle),
        SiteRoute::new("/my/cases").get(my_cases::my_cases),
        SiteRoute::new("/my/cases/{number}").get(my_cases::my_case),
        SiteRoute::new("/my/cases/{number}/receipt").get(my_cases::receipt),
        SiteRoute::new("/my/cases/{number}/resubmit")
            .post(my_cases::resubmit)
            .with(upload),
        SiteRoute::new("/my/cases/{number}/withdraw").post(my_cases::withdraw),
        SiteRoute::new("/my/cases/{number}/rate")
            .get(my_ratings::rate_form)
            .post(my_ratings::rate),
        SiteRoute::new("/my/cases/{number}/appeal").post(my_ratings::appeal),
        SiteRoute::new("/my/payments").get(my_payments::list),
        SiteRoute::new("/my/payments/{number}").get(my_payments::order),
        SiteRoute::new("/my/payments/{number}/pay").post(my_payments::pay),
        SiteRoute::new("/my/payments/{number}/receipt").get(my_payments::receipt),
        SiteRoute::new("/my/payments/{number}/receipt.json").get(my_payments::receipt_json),
        SiteRoute::new("/my/cases/{number}/files/{id}").get(my_cases::my_file),
        SiteRoute::new("/my/messages").get(my_cases::messages),
        // Writing a request (我要写信) and following one's requests
        SiteRoute {
            path: "/requests/new",
            methods: vec![Method::GET, Method::POST],
            csrf_exempt: None,
            // Filing is a public write: a per-address limit on top of the account.
            router: get(my_requests::new_form).merge(
                post(my_requests::file)
                    .route_layer(sign_in.clone())
                    .layer(uploads),
            ),
        },
        SiteRoute::new("/my/requests").get(my_requests::my_requests),
        SiteRoute::new("/my/requests/{number}").get(my_requests::my_request),
        SiteRoute::new("/my/requests/{number}/rate").post(my_requests::rate),
        SiteRoute::new("/my/requests/{number}/files/{id}").get(my_requests::my_file),
        // A citizen's license wallet
        SiteRoute::new("/my/licenses").get(wallet::wallet),
        SiteRoute::new("/my/licenses/{number}").get(wallet::license),
        SiteRoute::new("/my/licenses/{number}/download").get(wallet::download),
        SiteRoute::new("/my/licenses/{number}/share").post(wallet::share),
        SiteRoute::new("/my/licenses/{number}/unshare").post(wallet::unshare),
        // Single sign-on for other systems (OpenID Connect provider)
        SiteRoute::new("/.well-known/openid-configuration")
            .get(provider_h::discovery)
            .with(provider),
        SiteRoute::new("/oidc/jwks")
            .get(provider_h::jwks)
            .with(provider),
        SiteRoute::new("/oidc/authorize")
            .get(provider_h::authorize)
            .post(provider_h::authorize_decision)
            .with(provider),
        SiteRoute::new("/oidc/token")
            .post(provider_h::token)
            .with(provider)
            .csrf_exempt("called by the relying party's server, which authenticates as a client"),
        SiteRoute::new("/oidc/userinfo")
            .get(provider_h::userinfo)
            .post(provider_h::userinfo)
            .with(provider)
            .csrf_exempt("authorised by a bearer access token, not by cookies"),
        SiteRoute::new("/oidc/logout")
            .get(provider_h::logout)
            .with(provider),
        // Staff signing in (the rest of /admin is in `staff_routes`)
        SiteRoute::new("/admin/login")
            .get(sign_in::login_form)
            .post(sign_in::login)
            .with(limited),
        SiteRoute::new("/admin/login/verify")
            .get(sign_in::verify_form)
            .post(sign_in::verify)
            .with(limited),
        SiteRoute::new("/admin/login/verify/passkey/begin")
            .post(sign_in::passkey_verify_begin)
            .with(limited),
        SiteRoute::new("/admin/login/verify/passkey/finish")
            .post(sign_in::passkey_verify_finish)
            .with(limited),
        SiteRoute::new("/admin/account/password")
            .get(sign_in::password_form)
            .post(sign_in::change_password),
        SiteRoute::new("/admin/passkeys/begin").post(sign_in::passkey_add_begin),
        SiteRoute::new("/admin/passkeys/finish").post(sign_in::passkey_add_finish),
        SiteRoute::new("/admin/logout").post(sign_in::logout),
        // Other systems
        SiteRoute::new("/api/v1/services").get(api::list_services),
        SiteRoute::new("/api/v1/services/{code}").get(api::get_service),
        SiteRoute::new("/api/v1/bundles").get(api::list_bundles),
        SiteRoute::new("/api/v1/ratings/summary").get(api::ratings_summary),
        SiteRoute::new("/api/v1/search").get(api::search),
        SiteRoute::new("/api/v1/assistant").get(api::assistant),
        SiteRoute::new("/api/v1/suggest").get(api::suggest),
        SiteRoute::new("/api/v1/licenses/verify")
            .post(api::verify_license_file)
            .with(looked_up)
            .csrf_exempt("an API for other systems: no cookies, no session, changes nothing"),
        SiteRoute::new("/api/v1/licenses/{number}/verify")
            .get(api::verify_license)
            .with(looked_up),
        // Open311 GeoReport v2: services and requests for other systems
        SiteRoute::new("/open311/v2/services.json").get(georeport::services_json),
        SiteRoute::new("/open311/v2/services.xml").get(georeport::services_xml),
        SiteRoute::new("/open311/v2/services/{file}").get(georeport::service_definition),
        SiteRoute::new("/open311/v2/requests.json")
            .get(georeport::requests_json)
            .post(georeport::post_json)
            .with(looked_up)
            .csrf_exempt("other systems post with an API key; no cookies, no session"),
        SiteRoute::new("/open311/v2/requests.xml")
            .get(georeport::requests_xml)
            .post(georeport::post_xml)
            .with(looked_up)
            .csrf_exempt("other systems post with an API key; no cookies, no session"),
        SiteRoute::new("/open311/v2/requests/{file}")
            .get(georeport::request_one)
            .with(looked_up),
        SiteRoute::new("/api/openapi.json").get(openapi::spec),
        SiteRoute::new("/healthz").get(api::healthz),
        SiteRoute::new("/readyz").get(api::readyz),
        SiteRoute::new("/assets/{*path}").get(assets::asset),
    ]
}

/// The staff menu, from the route table: each area's entry page and the
/// permission it needs, in menu order.
pub fn staff_menu() -> Vec<MenuEntry> {
    let mut menu: Vec<(u8, MenuEntry)> = staff_routes()
        .into_iter()
        .filter_map(|r| {
            r.menu.map(|(n, label)| {
                (
                    n,
                    MenuEntry {
                        path: r.path,
                        label,
                        perm: r.perm,
                    },
                )
            })
        })
        .collect();
    menu.sort_by_key(|(n, _)| *n);
    menu.into_iter().map(|(_, e)| e).collect()
}

pub fn router(mut state: AppState) -> Router {
    state.staff_menu = staff_menu().into();
    let request_id = HeaderName::from_static("x-request-id");
    let mut app = Router::new();
    for r in staff_routes() {
        let guard = staff_guard::Guard {
            state: state.clone(),
            perm: r.perm,
        };
        app = app.route(
            r.path,
            r.router
                .route_layer(middleware::from_fn_with_state(guard, staff_guard::guard)),
        );
    }
    for r in site_routes(&state) {
        app = app.route(r.path, r.router);
    }
    // Served over HTTPS (secure cookies): browsers must never fall back to HTTP.
    let hsts = state.config.secure_cookies.then(|| {
        SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    app.fallback(error::not_found)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            error::panic_response,
        ))
        .layer(middleware::from_fn(error::error_pages))
        .layer(middleware::from_fn(private::no_store_when_signed_in))
        // Outside `no_store_when_signed_in`: it sees that header.
        .layer(crate::middleware::compress::layer())
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
        .layer(log::trace_layer())
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}
