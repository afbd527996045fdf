//! What case handling needs besides the database.

use zhiban_store::files::FileStore;

use super::calendar::WorkCalendar;
use super::clock::CaseSettings;
use crate::Db;

/// What case handling needs besides the database.
pub struct Desk<'a> {
    pub db: &'a Db,
    pub files: &'a FileStore,
    pub calendar: &'a WorkCalendar,
    pub settings: &'a CaseSettings,
    /// The portal's public address, for links in messages.
    pub public_url: &'a str,
}

impl Desk<'_> {
    /// Where applicants look up progress, for links in messages.
    pub fn progress_link(&self) -> String {
        format!("{}/progress", self.public_url.trim_end_matches('/'))
    }
}
