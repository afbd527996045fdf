//! Shared state handed to every handler.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use zhiban_domain::catalog::CatalogSnapshot;
use zhiban_domain::{Db, DomainError};
use zhiban_search::{SearchError, SearchIndex};

use crate::cache::PageCache;

/// Web settings the binary passes in.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// How often to look for catalog edits made by other nodes.
    pub catalog_poll: Duration,
    /// Where the search index lives; in memory when `None`.
    pub index_dir: Option<PathBuf>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            catalog_poll: Duration::from_secs(5),
            index_dir: None,
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
}

/// When the hot searches were computed, and what they were.
pub type HotSearches = (std::time::Instant, Vec<String>);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Search(#[from] SearchError),
}

impl AppState {
    pub async fn new(db: Db, config: WebConfig) -> Result<Self, StartError> {
        let snapshot = CatalogSnapshot::load(&db).await?;
        let search = SearchIndex::open(config.index_dir.as_deref())?;
        search.set_synonyms(zhiban_domain::search_terms::synonym_pairs(&db).await?);
        search.replace_kind(
            "service",
            zhiban_domain::search_docs::service_docs(&snapshot),
        )?;
        Ok(AppState {
            db,
            config: Arc::new(config),
            catalog: Arc::new(RwLock::new(Arc::new(snapshot))),
            pages: Arc::new(PageCache::default()),
            search: Arc::new(search),
            hot_searches: Arc::new(RwLock::new(None)),
        })
    }

    /// The current public read model (cheap: one `Arc` clone).
    pub fn catalog(&self) -> Arc<CatalogSnapshot> {
        match self.catalog.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Rebuilds the read model after a write.
    pub async fn refresh_catalog(&self) -> Result<(), zhiban_domain::DomainError> {
        let snapshot = Arc::new(CatalogSnapshot::load(&self.db).await?);
        // The save already committed; a failed index update must not undo
        // it, so it is logged loudly instead (a restart or `zhiban reindex`
        // rebuilds the index).
        if let Err(e) = self.search.replace_kind(
            "service",
            zhiban_domain::search_docs::service_docs(&snapshot),
        ) {
            tracing::error!(error = %e, "search index update failed");
        }
        match self.catalog.write() {
            Ok(mut g) => *g = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
        self.pages.clear();
        Ok(())
    }

    /// Loads the staff synonyms into the search index (takes effect at once).
    pub async fn refresh_synonyms(&self) -> Result<(), DomainError> {
        let pairs = zhiban_domain::search_terms::synonym_pairs(&self.db).await?;
        self.search.set_synonyms(pairs);
        Ok(())
    }

    /// Picks up edits made through another node sharing the database.
    pub fn spawn_catalog_watcher(&self) {
        let state = self.clone();
        tokio::spawn(async move {
            let mut synonyms_seen = zhiban_domain::search_terms::synonyms_stamp(&state.db)
                .await
                .ok();
            let mut tick = tokio::time::interval(state.config.catalog_poll);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match zhiban_domain::catalog::catalog_stamp(&state.db).await {
                    Ok(stamp) if stamp != state.catalog().stamp => {
                        if let Err(e) = state.refresh_catalog().await {
                            tracing::warn!(error = %e, "catalog reload failed");
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "catalog stamp check failed"),
                }
                match zhiban_domain::search_terms::synonyms_stamp(&state.db).await {
                    Ok(stamp) if Some(&stamp) != synonyms_seen.as_ref() => {
                        if state.refresh_synonyms().await.is_ok() {
                            synonyms_seen = Some(stamp);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "synonym stamp check failed"),
                }
            }
        });
    }
}
