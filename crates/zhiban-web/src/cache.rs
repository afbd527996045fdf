//! A cache of rendered public pages. Public pages depend only on the catalog
//! snapshot, the URL and the display preferences, so a rendered page can be
//! served again until the catalog changes; every catalog reload empties it.
//! A render that raced with a reload is not stored (generation check).

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;

/// Total size past which the cache starts over, so it stays bounded.
const MAX_BYTES: usize = 64 * 1024 * 1024;

#[derive(Default)]
pub struct PageCache {
    generation: AtomicU64,
    pages: RwLock<Pages>,
}

#[derive(Default)]
struct Pages {
    map: HashMap<String, Bytes>,
    bytes: usize,
}

impl PageCache {
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn get(&self, key: &str) -> Option<Bytes> {
        self.pages.read().ok()?.map.get(key).cloned()
    }

    /// Stores a page rendered under `generation`, unless the cache was
    /// emptied since (the page may then show an outdated catalog).
    pub fn put(&self, key: String, page: Bytes, generation: u64) {
        let Ok(mut pages) = self.pages.write() else {
            return;
        };
        if self.generation() != generation {
            return;
        }
        if pages.bytes + page.len() > MAX_BYTES {
            pages.map.clear();
            pages.bytes = 0;
        }
        pages.bytes += page.len();
        if let Some(old) = pages.map.insert(key, page) {
            pages.bytes -= old.len();
        }
    }

    pub fn clear(&self) {
        if let Ok(mut pages) = self.pages.write() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            pages.map.clear();
            pages.bytes = 0;
        }
    }

    pub fn len(&self) -> usize {
        self.pages.read().map(|p| p.map.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_rendered_before_a_reload_is_not_kept() {
        let cache = PageCache::default();
        let gen_before = cache.generation();
        cache.clear();
        cache.put("k".into(), Bytes::from_static(b"old"), gen_before);
        assert!(cache.get("k").is_none());
        cache.put("k".into(), Bytes::from_static(b"new"), cache.generation());
        assert_eq!(cache.get("k").as_deref(), Some(&b"new"[..]));
        assert_eq!(cache.len(), 1);
    }
}
