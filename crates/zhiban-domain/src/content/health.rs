//! Site health (DOMAIN.md, Publishing): the State Council's inspection
//! rules that make a government site fail, checked ahead of time so
//! editors hear of a rule *before* it is broken, with the date it will be:
//! - the home page (the newest article anywhere on the site) not updated
//!   for 14 days;
//! - five or more stale channels (news older than 14 days, notices and
//!   policies older than 180: each channel's `stale_days`), and each
//!   channel about to go stale;
//! - empty channels;
//! - links inside published articles to pages of this portal that do not
//!   exist (an article that was withdrawn, a guide taken down);
//! - service guides missing key elements.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use super::reading::{self, Text};
use super::{Channel, Site};
use crate::catalog::CatalogSnapshot;
use crate::{Db, DomainError};

/// Days without a new article before the home page counts as not updated.
pub const HOME_STALE_DAYS: i64 = 14;
/// Stale channels that fail a site.
pub const STALE_CHANNELS_FAIL: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Ok,
    /// Will fail within the warning window.
    Warning,
    Failing,
}

impl Status {
    pub fn slug(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Failing => "failing",
        }
    }
}

/// One dated rule: when it was last satisfied and when it will fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The newest article that counts (none: never).
    pub last: Option<NaiveDate>,
    /// The day the rule fails (today or earlier: failing now).
    pub fails_on: NaiveDate,
    pub status: Status,
}

/// How far ahead a rule with a period of `days` warns: a quarter of the
/// period, at least three days (4 days for news, 45 for notices).
pub fn warn_days(days: i64) -> i64 {
    (days / 4).max(3)
}

/// The check of a rule "something new at least every `days` days".
pub fn check(last: Option<NaiveDate>, days: i64, today: NaiveDate) -> Check {
    let fails_on = match last {
        Some(d) => d + chrono::Duration::days(days),
        None => today,
    };
    let status = if fails_on <= today {
        Status::Failing
    } else if fails_on <= today + chrono::Duration::days(warn_days(days)) {
        Status::Warning
    } else {
        Status::Ok
    };
    Check {
        last,
        fails_on,
        status,
    }
}

/// The day a site fails the stale-channels rule: when the fifth channel
/// goes stale (`None`: it has fewer channels than that).
pub fn stale_channels_fail_on(checks: &[&Check]) -> Option<NaiveDate> {
    let mut days: Vec<NaiveDate> = checks.iter().map(|c| c.fails_on).collect();
    days.sort();
    days.get(STALE_CHANNELS_FAIL - 1).copied()
}

/// A guide with key elements missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteGuide {
    pub code: String,
    pub name: String,
    /// Field keys (`conditions`, `materials` …), translated by the page.
    pub missing: Vec<&'static str>,
}

/// A link in a published article to a page of this portal that is not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub article: i64,
    pub title: String,
    pub href: String,
}

/// Everything the health page shows for one site.
#[derive(Debug, Clone)]
pub struct SiteHealth {
    pub site: Site,
    pub home: Check,
    pub channels: Vec<(Channel, Check)>,
    /// How many channels are stale today, and the day the fifth one is.
    pub stale_now: usize,
    pub stale_fail_on: Option<NaiveDate>,
    pub stale_status: Status,
    pub empty: Vec<Channel>,
    pub broken_links: Vec<BrokenLink>,
    pub incomplete_guides: Vec<IncompleteGuide>,
}

impl SiteHealth {
    /// The worst status of every rule.
    pub fn status(&self) -> Status {
        let mut s = self.home.status.max(self.stale_status);
        if !self.empty.is_empty()
            || !self.broken_links.is_empty()
            || !self.incomplete_guides.is_empty()
        {
            s = Status::Failing;
        }
        s
    }
}

/// The key elements of a guide (办事指南要素) it lacks.
pub fn missing_elements(s: &crate::catalog::ServiceItem) -> Vec<&'static str> {
    let mut missing = Vec::new();
    let blank = |t: &str| t.trim().is_empty();
    if s.conditions.iter().all(|c| blank(c)) {
        missing.push("conditions");
    }
    if s.materials.is_empty() {
        missing.push("materials");
    }
    if s.steps.is_empty() {
        missing.push("steps");
    }
    // Time limits are always numbers here, and 0 is a real value: 即办件
    // are done on the spot.
    if blank(&s.fees) {
        missing.push("fees");
    }
    if blank(&s.place) {
        missing.push("place");
    }
    if blank(&s.hours) {
        missing.push("hours");
    }
    if blank(&s.enquiry_phone) {
        missing.push("enquiry_phone");
    }
    if blank(&s.legal_basis) {
        missing.push("legal_basis");
    }
    missing
}

/// Links to pages of this portal (`href="/…"`) in an article body.
fn local_links(body: &str) -> Vec<String> {
    body.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|h| h.starts_with('/') && !h.starts_with("//"))
        .map(|h| h.split(['?', '#']).next().unwrap_or(h).to_string())
        .collect()
}

/// Whether a local path names a page that exists.
fn resolves(
    path: &str,
    live: &HashSet<i64>,
    catalog: &CatalogSnapshot,
    sites: &[Site],
    channels: &[Channel],
) -> bool {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    match parts.as_slice() {
        ["articles", id] => id.parse().is_ok_and(|id: i64| live.contains(&id)),
        ["services", code] => catalog.get(code).is_some(),
        ["sites", site] => sites.iter().any(|s| s.code == *site),
        ["sites", site, channel] => channels
            .iter()
            .any(|c| c.site_code == *site && c.code == *channel),
        // Other pages of the portal (/services, /police, /search …) are
        // fixed routes; only content that can disappear is checked.
        _ => true,
    }
}

/// The health of every site, as of `today` (Beijing).
pub async fn report(
    db: &Db,
    catalog: &CatalogSnapshot,
    today: NaiveDate,
) -> Result<Vec<SiteHealth>, DomainError> {
    let sites = reading::sites(db).await?;
    let channels = reading::channels(db).await?;
    let texts: Vec<Text> = reading::live_texts(db, None, None, i64::MAX).await?;
    let live: HashSet<i64> = texts.iter().map(|t| t.id).collect();
    // The newest live article of each channel.
    let newest: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT ac.channel_id, MAX(a.first_published_at) FROM article_channels ac \
         JOIN articles a ON a.id = ac.article_id \
         WHERE a.live_from <= $1 AND (a.live_until IS NULL OR a.live_until > $1) \
         GROUP BY ac.channel_id",
    )
    .bind(db.now().timestamp())
    .fetch_all(db.pool())
    .await?;

    let newest: HashMap<i64, NaiveDate> = newest
        .into_iter()
        .map(|(c, at)| (c, crate::time::local_day(at)))
        .collect();
    // Which site a guide belongs to: the nearest site whose unit is the
    // guide's department or above it.
    let site_of_unit: HashMap<i64, i64> = sites.iter().map(|s| (s.unit_id, s.id)).collect();
    let mut guides: HashMap<i64, Vec<IncompleteGuide>> = HashMap::new();
    for s in &catalog.services {
        let missing = missing_elements(s);
        if missing.is_empty() {
            continue;
        }
        let path = catalog.department_path(&s.department_code);
        if let Some(site) = path.iter().rev().find_map(|d| site_of_unit.get(&d.id)) {
            guides.entry(*site).or_default().push(IncompleteGuide {
                code: s.code.clone(),
                name: s.name.clone(),
                missing,
            });
        }
    }
    let mut out = Vec::new();
    for site in sites.iter().cloned() {
        let own: Vec<&Channel> = channels.iter().filter(|c| c.site_id == site.id).collect();
        let checks: Vec<(Channel, Check)> = own
            .iter()
            .map(|c| {
                (
                    (*c).clone(),
                    check(newest.get(&c.id).copied(), c.stale_days, today),
                )
            })
            .collect();
        let last_any = own.iter().filter_map(|c| newest.get(&c.id)).max().copied();
        let home = check(last_any, HOME_STALE_DAYS, today);
        let refs: Vec<&Check> = checks.iter().map(|(_, c)| c).collect();
        let stale_now = refs.iter().filter(|c| c.status == Status::Failing).count();
        let stale_fail_on = stale_channels_fail_on(&refs);
        let stale_status = match stale_fail_on {
            Some(d) if d <= today => Status::Failing,
            Some(d) if d <= today + chrono::Duration::days(warn_days(HOME_STALE_DAYS)) => {
                Status::Warning
            }
            _ => Status::Ok,
        };
        let empty = own
            .iter()
            .filter(|c| !newest.contains_key(&c.id))
            .map(|c| (*c).clone())
            .collect();
        let mut broken_links = Vec::new();
        for t in texts.iter().filter(|t| t.site_code == site.code) {
            for href in local_links(&t.body) {
                if !resolves(&href, &live, catalog, &sites, &channels) {
                    broken_links.push(BrokenLink {
                        article: t.id,
                        title: t.title.clone(),
                        href,
                    });
                }
            }
        }
        out.push(SiteHealth {
            incomplete_guides: guides.remove(&site.id).unwrap_or_default(),
            site,
            home,
            channels: checks,
            stale_now,
            stale_fail_on,
            stale_status,
            empty,
            broken_links,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default()
    }

    #[test]
    fn a_rule_warns_ahead_of_the_day_it_fails_and_names_that_day() {
        let today = day(12, 10);
        let fresh = check(Some(day(12, 1)), 14, today);
        assert_eq!((fresh.fails_on, fresh.status), (day(12, 15), Status::Ok));
        let soon = check(Some(day(11, 28)), 14, today);
        assert_eq!((soon.fails_on, soon.status), (day(12, 12), Status::Warning));
        let gone = check(Some(day(11, 26)), 14, today);
        assert_eq!((gone.fails_on, gone.status), (day(12, 10), Status::Failing));
        let never = check(None, 180, today);
        assert_eq!((never.fails_on, never.status), (today, Status::Failing));
        // Notices: warned 45 days ahead.
        assert_eq!(check(Some(day(7, 1)), 180, today).status, Status::Warning);
    }

    #[test]
    fn a_site_fails_the_stale_channels_rule_on_the_day_its_fifth_channel_goes_stale() {
        let today = day(12, 10);
        let checks: Vec<Check> = [20, 3, 30, 12, 15, 40]
            .iter()
            .map(|n| check(Some(day(12, 1)), *n, today))
            .collect();
        let refs: Vec<&Check> = checks.iter().collect();
        // Due on the 4th, 13th, 16th, 21st, 31st (Dec) and 10 Jan: the fifth is the 31st.
        assert_eq!(stale_channels_fail_on(&refs), Some(day(12, 31)));
        assert_eq!(stale_channels_fail_on(&refs[..4]), None);
    }

    #[test]
    fn only_local_links_to_content_that_can_disappear_are_checked() {
        let body = r#"<p><a href="/articles/7">旧通知</a> <a href="/services/X-1?x=1">指南</a> <a href="https://www.gov.cn/">国务院</a> <a href="//evil.example/">x</a> <a href="/search?q=a">搜</a></p>"#;
        assert_eq!(
            local_links(body),
            ["/articles/7", "/services/X-1", "/search"]
        );
    }
}
