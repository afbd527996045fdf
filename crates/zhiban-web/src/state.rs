//! Shared state handed to every handler.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use zhiban_domain::identity::SecurityPolicy;

use zhiban_domain::catalog::CatalogSnapshot;
use zhiban_domain::{Db, DomainError};
use zhiban_search::{SearchError, SearchIndex};

use zhiban_domain::cases::Desk;
use zhiban_domain::cases::calendar::WorkCalendar;
use zhiban_domain::requests::Hall;
use zhiban_domain::requests::routing::Routing;
use zhiban_store::files::FileStore;

use crate::cache::PageCache;
use crate::middleware::limit::{Limiter, limiter};

/// Web settings the binary passes in.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// How often to look for catalog edits made by other nodes.
    pub catalog_poll: Duration,
    /// Where the search index lives; in memory when `None`.
    pub index_dir: Option<PathBuf>,
    /// The 等保 level-3 rules for accounts and sessions.
    pub security: SecurityPolicy,
    /// Behind reverse proxies of our own: take the client address from
    /// X-Forwarded-For (see `trusted_proxies`).
    pub trust_proxy: bool,
    /// How many proxies of our own stand in front of the portal (the
    /// client's address is that many entries from the right of
    /// X-Forwarded-For).
    pub trusted_proxies: u32,
    /// Searches one client address may add to the analytics per minute
    /// (searching itself is never limited; only the logging stops).
    pub search_log_per_minute: u32,
    /// Days search analytics are kept.
    pub search_log_days: i64,
    /// The portal's public address (`https://zwfw.example.gov.cn`), used as
    /// the OpenID Connect issuer and in links sent to people. Unset: links
    /// use the request's Host, and the OpenID Connect provider is off.
    pub public_url: Option<String>,
    /// Development only: serve OpenID Connect without `public_url`, naming
    /// whatever Host a request carries as the issuer.
    pub oidc_issuer_from_host: bool,
    /// Case handling: intake days, yellow share, upload size, calendar.
    pub cases: zhiban_domain::cases::CaseSettings,
    /// Citizen requests: time limits per type.
    pub requests: zhiban_domain::requests::RequestSettings,
    /// Payments: how long an order can be paid, the development gateway.
    pub payments: zhiban_domain::payments::PaymentSettings,
    /// Police tips: which unit receives each category.
    pub tips: zhiban_domain::tips::TipSettings,
    /// The assistant: confidence threshold, conversation idle time.
    pub assistant: zhiban_domain::assistant::AssistantSettings,
    /// Publishing: the largest attachment, picture and video.
    pub content: zhiban_domain::content::files::ContentSettings,
    /// Where uploads are kept: a directory or `s3://bucket/prefix`. Unset:
    /// a fresh directory under the system temp dir (tests).
    pub storage_url: Option<String>,
    /// How often this node looks for due background jobs.
    pub job_poll: Duration,
    /// The SMTP server for email notifications (none when `host` is empty).
    pub smtp: zhiban_domain::notify::SmtpSettings,
    /// Caps on connections and the header-read (and idle) deadline.
    pub connections: crate::server::ConnectionLimits,
    /// The append-only file audit checkpoints are also written to.
    pub audit_anchors: Option<PathBuf>,
    /// Audit records older than this must be covered by a checkpoint (0: no rule).
    pub audit_max_unanchored_secs: i64,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            catalog_poll: Duration::from_secs(5),
            index_dir: None,
            security: SecurityPolicy::default(),
            trust_proxy: false,
            trusted_proxies: 1,
            public_url: None,
            oidc_issuer_from_host: false,
            search_log_per_minute: 30,
            search_log_days: 180,
            cases: zhiban_domain::cases::CaseSettings::default(),
            requests: zhiban_domain::requests::RequestSettings::default(),
            payments: zhiban_domain::payments::PaymentSettings::default(),
            tips: zhiban_domain::tips::TipSettings::default(),
            assistant: zhiban_domain::assistant::AssistantSettings::default(),
            content: zhiban_domain::content::files::ContentSettings::default(),
            storage_url: None,
            job_poll: Duration::from_secs(2),
            smtp: zhiban_domain::notify::SmtpSettings::default(),
            connections: crate::server::ConnectionLimits::default(),
            audit_anchors: None,
            audit_max_unanchored_secs: 600,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<WebConfig>,
    catalog: Arc<RwLock<Arc<CatalogSnapshot>>>,
    /// Rendered public pages of the current catalog.
    pub pages: Arc<PageCache>,
    /// Every published item, searchable.
    pub search: Arc<SearchIndex>,
    /// Hot searches and when they were computed (refreshed once a minute,
    /// not on every search page).
    pub hot_searches: Arc<RwLock<Option<HotSearches>>>,
    /// How far this node has followed the change log.
    follow: Arc<Mutex<Follow>>,
    /// When a scheduled article next goes online or offline: the indexed
    /// articles are refreshed then (the change log only says when someone
    /// wrote).
    articles_due: Arc<Mutex<Option<i64>>>,
    /// Sign-in attempts per client address (in memory, per node; the
    /// per-account lock-out in the database covers every node).
    pub sign_in_limiter: Arc<Limiter>,
    /// Search analytics writes per client address.
    pub search_log_limiter: Arc<Limiter>,
    /// Delivers SMS codes (the development outbox unless a provider is wired in).
    pub sms: Arc<dyn zhiban_domain::identity::sms::SmsGateway>,
    /// Collects fees (the development gateway unless a bank's is wired in).
    pub gateway: Arc<dyn zhiban_domain::payments::PaymentGateway>,
    /// Checks name + ID number for real-name level 2.
    pub id_verifier: Arc<dyn zhiban_domain::identity::citizen::IdVerifier>,
    /// Checks a company's credit code, name and legal representative.
    pub company_verifier: Arc<dyn zhiban_domain::identity::company::CompanyVerifier>,
    /// Uploaded materials and result documents.
    pub files: FileStore,
    /// Working days: the national calendar plus configured local days.
    pub calendar: Arc<WorkCalendar>,
    /// Sends email notifications, when an SMTP server is configured.
    pub mail: Option<Arc<dyn zhiban_domain::notify::Mailer>>,
    /// The staff menu, from the route table (set when the router is built).
    pub staff_menu: Arc<[crate::view::ctx::MenuEntry]>,
    /// The request router and when it was trained (retrained from the
    /// catalogue and the classified requests every few minutes).
    routing: Arc<tokio::sync::Mutex<Option<Trained>>>,
    /// Wakes this node's live streams (interviews) after a write.
    pub live: crate::live::Live,
    /// What the assistant answers from (catalog and knowledge base in
    /// force), and the day it was built for (entries start and end by date).
    assistant: Arc<RwLock<(chrono::NaiveDate, Arc<zhiban_domain::assistant::Brain>)>>,
    /// Questions to the assistant per client address.
    pub assistant_limiter: Arc<Limiter>,
}

/// A trained request router and when it was trained.
type Trained = (std::time::Instant, Arc<Routing>);

/// How long a trained request router is used before it learns again from
/// the dispatchers' latest confirmations and corrections.
const ROUTING_FRESH: Duration = Duration::from_secs(300);

/// Position in the change log. Ids of recent rows are remembered, because
/// on PostgreSQL a lower id can commit after a higher one: every poll looks
/// back [`LOOK_BACK`] ids and applies only the rows it has not seen.
#[derive(Debug, Default)]
struct Follow {
    last: i64,
    seen: BTreeSet<i64>,
}

const LOOK_BACK: i64 = 200;

/// When the hot searches were computed, and what they were.
pub type HotSearches = (std::time::Instant, Vec<String>);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error("file store: {0}")]
    Files(#[from] zhiban_store::files::FileError),
    #[error("calendar file {0}: {1}")]
    Calendar(String, String),
    #[error("smtp settings: {0}")]
    Smtp(String),
    #[error("assistant.agent_hours: {0}")]
    AgentHours(String),
}

impl AppState {
    /// 大家都在搜, the same on the home and the search page: queries staff
    /// approved among those many distinct people searched this week,
    /// topped up with the portal's staples; computed at most once a
    /// minute.
    pub async fn hot_searches(&self) -> Vec<String> {
        if let Ok(guard) = self.hot_searches.read()
            && let Some((at, hot)) = guard.as_ref()
            && at.elapsed() < Duration::from_secs(60)
        {
            return hot.clone();
        }
        let since = self.db.now() - chrono::Duration::days(7);
        let mut hot = zhiban_domain::search_terms::hot_queries(&self.db, since, 6)
            .await
            .unwrap_or_default();
        for h in crate::view::HOT_SEARCHES {
            if hot.len() >= 6 {
                break;
            }
            if !hot.iter().any(|x| x == h) {
                hot.push((*h).to_string());
            }
        }
        if let Ok(mut guard) = self.hot_searches.write() {
            *guard = Some((std::time::Instant::now(), hot.clone()));
        }
        hot
    }

    pub async fn new(db: Db, config: WebConfig) -> Result<Self, StartError> {
        // Read the log position first: whatever is logged after it will be
        // applied again by `catch_up`, which is harmless.
        let last = zhiban_domain::changes::latest_id(&db).await?;
        // Rows already committed are in the snapshot below; remember them
        // so the first poll does not apply them again.
        let seen: BTreeSet<i64> =
            zhiban_domain::changes::since(&db, (last - LOOK_BACK).max(0), LOOK_BACK)
                .await?
                .into_iter()
                .map(|c| c.id)
                .filter(|id| *id <= last)
                .collect();
        let snapshot = CatalogSnapshot::load(&db).await?;
        let files = match &config.storage_url {
            Some(url) => FileStore::open(url)?,
            None => FileStore::open(
                &std::env::temp_dir()
                    .join(format!("zhiban-files-{}", uuid::Uuid::new_v4().simple()))
                    .display()
                    .to_string(),
            )?,
        };
        let mut calendar = WorkCalendar::national();
        let extra = config.cases.calendar_file.trim();
        if !extra.is_empty() {
            let text = std::fs::read_to_string(extra)
                .map_err(|e| StartError::Calendar(extra.into(), e.to_string()))?;
            calendar
                .extend_from_csv(&text)
                .map_err(|e| StartError::Calendar(extra.into(), e.message_zh()))?;
        }
        zhiban_domain::assistant::handoff::parse_hours(&config.assistant.agent_hours)
            .map_err(StartError::AgentHours)?;
        if !matches!(config.assistant.agent_days.as_str(), "working" | "all") {
            return Err(StartError::AgentHours(format!(
                "agent_days = {:?}: expected \"working\" or \"all\"",
                config.assistant.agent_days
            )));
        }
        let mail: Option<Arc<dyn zhiban_domain::notify::Mailer>> = if config.smtp.host.is_empty() {
            None
        } else {
            Some(Arc::new(
                zhiban_domain::notify::SmtpMailer::new(&config.smtp).map_err(StartError::Smtp)?,
            ))
        };
        let search = SearchIndex::open(config.index_dir.as_deref())?;
        search.set_synonyms(zhiban_domain::search_terms::synonym_pairs(&db).await?);
        search.replace_kind(
            "service",
            zhiban_domain::search_docs::service_docs(&snapshot),
        )?;
        let (articles, articles_due) = zhiban_domain::search_docs::article_docs(&db).await?;
        search.replace_kind("article", articles)?;
        let snapshot = Arc::new(snapshot);
        let brain = zhiban_domain::assistant::Brain::new(
            Arc::clone(&snapshot),
            zhiban_domain::assistant::knowledge::in_force(&db).await?,
            &search,
        );
        let today = zhiban_domain::time::local_date(db.now());
        Ok(AppState {
            assistant: Arc::new(RwLock::new((today, Arc::new(brain)))),
            assistant_limiter: limiter(config.assistant.per_minute),
            db,
            catalog: Arc::new(RwLock::new(snapshot)),
            pages: Arc::new(PageCache::default()),
            search: Arc::new(search),
            hot_searches: Arc::new(RwLock::new(None)),
            follow: Arc::new(Mutex::new(Follow { last, seen })),
            articles_due: Arc::new(Mutex::new(articles_due)),
            sign_in_limiter: limiter(config.security.sign_in_per_minute),
            search_log_limiter: limiter(config.search_log_per_minute),
            gateway: Arc::new(zhiban_domain::payments::dev_gateway::DevGateway {
                settings: config.payments.clone(),
            }),
            config: Arc::new(config),
            sms: Arc::new(zhiban_domain::identity::sms::DevOutboxGateway),
            id_verifier: Arc::new(zhiban_domain::identity::citizen::DevIdVerifier),
            company_verifier: Arc::new(zhiban_domain::identity::company::DevCompanyVerifier),
            files,
            calendar: Arc::new(calendar),
            mail,
            staff_menu: Arc::new([]),
            routing: Arc::new(tokio::sync::Mutex::new(None)),
            live: crate::live::Live::default(),
        })
    }

    /// What case handling needs, borrowed from this state.
    pub fn desk<'a>(&'a self, public_url: &'a str) -> Desk<'a> {
        Desk {
            db: &self.db,
            files: &self.files,
            calendar: &self.calendar,
            settings: &self.config.cases,
            public_url,
        }
    }

    /// What payments need, borrowed from this state.
    pub fn payments<'a>(&'a self, public_url: &'a str) -> zhiban_domain::payments::Payments<'a> {
        zhiban_domain::payments::Payments {
            db: &self.db,
            gateway: self.gateway.as_ref(),
            settings: &self.config.payments,
            public_url,
        }
    }

    /// What request handling needs, borrowed from this state.
    pub fn hall<'a>(&'a self, public_url: &'a str) -> Hall<'a> {
        Hall {
            db: &self.db,
            calendar: &self.calendar,
            settings: &self.config.requests,
            yellow_percent: self.config.cases.yellow_percent,
            public_url,
        }
    }

    /// The request router, trained on first use and again when it is
    /// older than [`ROUTING_FRESH`] (one training at a time).
    pub async fn routing(&self) -> Result<Arc<Routing>, DomainError> {
        let mut guard = self.routing.lock().await;
        if let Some((at, r)) = guard.as_ref()
            && at.elapsed() < ROUTING_FRESH
        {
            return Ok(Arc::clone(r));
        }
        let trained = Arc::new(zhiban_domain::requests::training(&self.db, 20_000).await?);
        *guard = Some((std::time::Instant::now(), Arc::clone(&trained)));
        Ok(trained)
    }

    /// Forgets the trained router (the catalogue changed).
    pub async fn forget_routing(&self) {
        *self.routing.lock().await = None;
    }

    /// The background worker with this node's gateways.
    pub fn worker(&self) -> zhiban_domain::worker::Worker {
        zhiban_domain::worker::Worker {
            sms: Arc::clone(&self.sms),
            mail: self.mail.clone(),
            anchors: self.anchors(),
            payments: Some(Arc::clone(&self.gateway)),
        }
    }

    /// Where audit checkpoints are also written.
    pub fn anchors(&self) -> zhiban_domain::audit::Anchors {
        zhiban_domain::audit::Anchors {
            file: self.config.audit_anchors.clone(),
        }
    }

    /// Runs the background jobs that are due, once (the worker's loop does
    /// this every tick; tests call it directly).
    pub async fn run_jobs(&self) -> Result<usize, DomainError> {
        self.worker().run_due(&self.db).await
    }

    /// Runs due jobs in the background: SMS, email, reminders, escalations,
    /// daily housekeeping, and the audit checkpoint once a minute.
    pub fn spawn_job_runner(&self) {
        self.worker().spawn(self.db.clone(), self.config.job_poll);
    }

    /// The current public read model (cheap: one `Arc` clone).
    pub fn catalog(&self) -> Arc<CatalogSnapshot> {
        match self.catalog.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Brings this node up to date right after it wrote: the write is in
    /// the change log, so this is the same path other nodes follow.
    pub async fn refresh_catalog(&self) -> Result<(), DomainError> {
        self.catch_up().await.map(|_| ())
    }

    /// Re-indexes the live articles and notes when the live set next
    /// changes by itself.
    async fn refresh_articles(&self) -> Result<(), DomainError> {
        let (docs, due) = zhiban_domain::search_docs::article_docs(&self.db).await?;
        if let Err(e) = self.search.replace_kind("article", docs) {
            tracing::error!(error = %e, "article index update failed");
        }
        match self.articles_due.lock() {
            Ok(mut d) => *d = due,
            Err(p) => *p.into_inner() = due,
        }
        Ok(())
    }

    /// What the assistant answers from, rebuilt when the day changes
    /// (knowledge entries have validity dates).
    pub async fn assistant(&self) -> Arc<zhiban_domain::assistant::Brain> {
        let today = zhiban_domain::time::local_date(self.db.now());
        let current = match self.assistant.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        if current.0 == today {
            return current.1;
        }
        match self.refresh_assistant().await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "assistant knowledge reload failed");
                current.1
            }
        }
    }

    /// Rebuilds what the assistant knows from the current catalog and the
    /// knowledge base in force.
    pub async fn refresh_assistant(
        &self,
    ) -> Result<Arc<zhiban_domain::assistant::Brain>, DomainError> {
        let entries = zhiban_domain::assistant::knowledge::in_force(&self.db).await?;
        let brain = Arc::new(zhiban_domain::assistant::Brain::new(
            self.catalog(),
            entries,
            &self.search,
        ));
        let today = zhiban_domain::time::local_date(self.db.now());
        match self.assistant.write() {
            Ok(mut g) => *g = (today, Arc::clone(&brain)),
            Err(p) => *p.into_inner() = (today, Arc::clone(&brain)),
        }
        Ok(brain)
    }

    /// Loads the staff synonyms into the search index (takes effect at once).
    pub async fn refresh_synonyms(&self) -> Result<(), DomainError> {
        let pairs = zhiban_domain::search_terms::synonym_pairs(&self.db).await?;
        self.search.set_synonyms(pairs);
        Ok(())
    }

    /// Applies what other nodes (or this one) wrote since the last call:
    /// changed catalog items are re-read and re-indexed one by one, and
    /// synonym changes reload the dictionary. Returns how many log rows
    /// were applied.
    pub async fn catch_up(&self) -> Result<usize, DomainError> {
        let after = match self.follow.lock() {
            Ok(f) => f.last - LOOK_BACK,
            Err(p) => p.into_inner().last - LOOK_BACK,
        };
        let rows = zhiban_domain::changes::since(&self.db, after.max(0), 10_000).await?;
        let fresh: Vec<zhiban_domain::changes::Change> = match self.follow.lock() {
            Ok(f) => rows
                .into_iter()
                .filter(|c| !f.seen.contains(&c.id))
                .collect(),
            Err(p) => {
                let f = p.into_inner();
                rows.into_iter()
                    .filter(|c| !f.seen.contains(&c.id))
                    .collect()
            }
        };
        let now = self.db.now().timestamp();
        let articles_due = match self.articles_due.lock() {
            Ok(d) => d.is_some_and(|t| t <= now),
            Err(p) => p.into_inner().is_some_and(|t| t <= now),
        };
        if fresh.is_empty() && !articles_due {
            return Ok(0);
        }
        if articles_due
            || fresh
                .iter()
                .any(|c| c.topic == zhiban_domain::content::editing::CHANGE_TOPIC)
        {
            self.refresh_articles().await?;
            // Home, site, channel and article pages show published articles.
            self.pages.clear();
        }
        let codes: HashSet<String> = fresh
            .iter()
            .filter(|c| c.topic == zhiban_domain::changes::CATALOG_SERVICE)
            .map(|c| c.key.clone())
            .collect();
        let units_changed = fresh
            .iter()
            .any(|c| c.topic == zhiban_domain::changes::CATALOG_DEPARTMENT);
        if !codes.is_empty() || units_changed {
            let snapshot = Arc::new(CatalogSnapshot::load(&self.db).await?);
            if units_changed {
                // Department names are in every item's search document.
                if let Err(e) = self.search.replace_kind(
                    "service",
                    zhiban_domain::search_docs::service_docs(&snapshot),
                ) {
                    tracing::error!(error = %e, "search index rebuild failed");
                }
            }
            let docs = codes
                .iter()
                .filter_map(|c| snapshot.get(c))
                .map(|s| zhiban_domain::search_docs::service_doc(s))
                .collect();
            let removed: Vec<String> = codes
                .iter()
                .filter(|c| snapshot.get(c).is_none())
                .cloned()
                .collect();
            if let Err(e) = self.search.upsert("service", docs, &removed) {
                tracing::error!(error = %e, "search index update failed");
            }
            match self.catalog.write() {
                Ok(mut g) => *g = snapshot,
                Err(poisoned) => *poisoned.into_inner() = snapshot,
            }
            self.pages.clear();
        }
        let synonyms_changed = fresh
            .iter()
            .any(|c| c.topic == zhiban_domain::changes::SEARCH_SYNONYM);
        if synonyms_changed {
            self.refresh_synonyms().await?;
        }
        if synonyms_changed
            || !codes.is_empty()
            || units_changed
            || fresh
                .iter()
                .any(|c| c.topic == zhiban_domain::assistant::knowledge::CHANGE_TOPIC)
        {
            self.refresh_assistant().await?;
        }
        let mut f = match self.follow.lock() {
            Ok(f) => f,
            Err(p) => p.into_inner(),
        };
        for c in &fresh {
            f.seen.insert(c.id);
            f.last = f.last.max(c.id);
        }
        let floor = f.last - LOOK_BACK;
        f.seen.retain(|id| *id > floor);
        Ok(fresh.len())
    }

    /// Follows the change log, so edits made through another node sharing
    /// the database reach this node's catalog and search index.
    pub fn spawn_catalog_watcher(&self) {
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(state.config.catalog_poll);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = state.catch_up().await {
                    tracing::warn!(error = %e, "following the change log failed");
                }
            }
        });
    }
}
