//! The clock every domain rule reads. It rides on [`crate::Db`], the handle
//! every domain function already receives, so a test that moves it moves it
//! for the whole application at once (web handlers included): deadlines,
//! lights, expiry and reminders are tested by setting the time, not by
//! back-dating rows or waiting.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};

/// The system clock, or a time set by a test. Clones share the setting.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None`: the system clock. `Some(t)`: stopped at `t` until moved.
    fixed: Arc<RwLock<Option<DateTime<Utc>>>>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self.fixed.read() {
            Ok(g) => g.unwrap_or_else(Utc::now),
            Err(p) => p.into_inner().unwrap_or_else(Utc::now),
        }
    }

    /// Stops the clock at `at` (tests).
    pub fn set(&self, at: DateTime<Utc>) {
        match self.fixed.write() {
            Ok(mut g) => *g = Some(at),
            Err(p) => *p.into_inner() = Some(at),
        }
    }

    /// Moves the clock forward by `by`, stopping it there (tests).
    pub fn advance(&self, by: Duration) {
        self.set(self.now() + by);
    }

    /// Back to the system clock.
    pub fn resume(&self) {
        match self.fixed.write() {
            Ok(mut g) => *g = None,
            Err(p) => *p.into_inner() = None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_clock_is_shared_by_clones_and_moves_only_when_told() {
        let clock = Clock::default();
        let other = clock.clone();
        let at = DateTime::parse_from_rfc3339("2020-03-02T01:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        clock.set(at);
        assert_eq!(other.now(), at);
        other.advance(Duration::days(3));
        assert_eq!(clock.now(), at + Duration::days(3));
        clock.resume();
        assert!(other.now() > at + Duration::days(300));
    }
}
