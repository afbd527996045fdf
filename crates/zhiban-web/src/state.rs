//! Shared state handed to every handler.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use zhiban_domain::Db;
use zhiban_domain::catalog::CatalogSnapshot;

use crate::cache::PageCache;

/// Web settings the binary passes in.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// How often to look for catalog edits made by other nodes.
    pub catalog_poll: Duration,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            catalog_poll: Duration::from_secs(5),
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
}

impl AppState {
    pub async fn new(db: Db, config: WebConfig) -> Result<Self, zhiban_domain::DomainError> {
        let snapshot = CatalogSnapshot::load(&db).await?;
        Ok(AppState {
            db,
            config: Arc::new(config),
            catalog: Arc::new(RwLock::new(Arc::new(snapshot))),
            pages: Arc::new(PageCache::default()),
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
        match self.catalog.write() {
            Ok(mut g) => *g = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
        self.pages.clear();
        Ok(())
    }

    /// Picks up edits made through another node sharing the database.
    pub fn spawn_catalog_watcher(&self) {
        let state = self.clone();
        tokio::spawn(async move {
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
            }
        });
    }
}
