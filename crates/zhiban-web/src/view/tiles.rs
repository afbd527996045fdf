//! Tiles of the catalog by life event and by police domain (home page,
//! themes, police sub-site).

use std::sync::Arc;
use zhiban_domain::catalog::{CatalogSnapshot, Filter, LifeEvent, PoliceDomain, ServiceItem};

pub type Item = Arc<ServiceItem>;

/// A life event with how many published items it has.
pub struct EventTile {
    pub event: LifeEvent,
    pub count: usize,
    pub top: Vec<Item>,
}

pub struct PoliceTile {
    pub domain: PoliceDomain,
    pub count: usize,
    pub top: Vec<Item>,
}

pub fn event_tiles(cat: &CatalogSnapshot, personal: bool, top: usize) -> Vec<EventTile> {
    LifeEvent::ALL
        .iter()
        .filter(|e| e.is_personal() == personal)
        .map(|&event| {
            let page = cat.filter(
                &Filter {
                    life_event: Some(event),
                    ..Filter::default()
                },
                0,
                top,
            );
            EventTile {
                event,
                count: page.total,
                top: page.items,
            }
        })
        .collect()
}

pub fn police_tiles(cat: &CatalogSnapshot, top: usize) -> Vec<PoliceTile> {
    PoliceDomain::ALL
        .iter()
        .map(|&domain| {
            let page = cat.filter(
                &Filter {
                    police: Some(domain),
                    ..Filter::default()
                },
                0,
                top,
            );
            PoliceTile {
                domain,
                count: page.total,
                top: page.items,
            }
        })
        .filter(|t| t.count > 0)
        .collect()
}

/// Staple searches: shown on the (cached) home page, and used to top up the
/// hot searches from analytics on the search page.
pub const HOT_SEARCHES: &[&str] = &[
    "身份证补领",
    "公积金提取",
    "社保卡",
    "驾驶证换证",
    "出生登记",
    "护照",
];
