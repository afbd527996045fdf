//! The query a page is redirected to after a successful form (post, then
//! redirect, then get): which confirmation to show.

use serde::Deserialize;

/// `?done=<step>`: the step that just succeeded.
#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: String,
}

/// `?saved=<what>`: what was just saved.
#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    pub saved: String,
}

/// `?after=<event id>`: where a page's live stream starts.
#[derive(Debug, Default, Deserialize)]
pub struct AfterQuery {
    pub after: Option<i64>,
}
