//! Working days (工作日) for legal and promised time limits: weekends and
//! statutory holidays (法定节假日) do not count, and the make-up working days
//! (调休上班) on weekends do. The 2026 national calendar ships with the
//! portal (国务院办公厅关于2026年部分节假日安排的通知, 4 November 2025); a
//! deployment adds later years or local days in the same CSV form.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use crate::FieldError;

/// What a listed date is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayKind {
    /// A statutory holiday (or its bridging day off).
    Holiday(String),
    /// A weekend day worked instead (调休上班).
    Workday(String),
}

/// Weekends plus the listed exceptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    days: BTreeMap<NaiveDate, DayKind>,
}

/// The 2026 national calendar.
pub const CALENDAR_2026: &str = include_str!("calendar_2026.csv");

impl WorkCalendar {
    /// Reads `date,kind,name` lines (`kind` is `holiday` or `workday`).
    pub fn from_csv(text: &str) -> Result<Self, FieldError> {
        let mut days = BTreeMap::new();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for (i, row) in reader.records().enumerate() {
            let line = (i + 2).to_string();
            let row = row.map_err(|_| FieldError::new("calendar", "unreadable", line.clone()))?;
            let date = row
                .get(0)
                .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
                .ok_or_else(|| FieldError::new("calendar", "invalid_date", line.clone()))?;
            let name = row.get(2).unwrap_or("").trim().to_string();
            let kind = match row.get(1).map(str::trim) {
                Some("holiday") => DayKind::Holiday(name),
                Some("workday") => DayKind::Workday(name),
                _ => return Err(FieldError::new("calendar", "invalid_choice", line)),
            };
            days.insert(date, kind);
        }
        Ok(WorkCalendar { days })
    }

    /// Adds (or overrides) days from more `date,kind,name` lines: later
    /// years, or local days off.
    pub fn extend_from_csv(&mut self, text: &str) -> Result<(), FieldError> {
        let extra = Self::from_csv(text)?;
        self.days.extend(extra.days);
        Ok(())
    }

    /// The shipped national calendar.
    pub fn national() -> Self {
        // The embedded file is checked by the tests below.
        Self::from_csv(CALENDAR_2026).unwrap_or_default()
    }

    /// Whether the calendar knows `d`'s year (lists any day of it): a
    /// year without its published holidays counts only weekends.
    pub fn covers(&self, d: NaiveDate) -> bool {
        let year = d.year();
        self.days.keys().any(|k| k.year() == year)
    }

    /// The first year within the twelve months from `today` that the
    /// calendar does not know: operators are warned at start to add it.
    pub fn uncovered_year(&self, today: NaiveDate) -> Option<i32> {
        [today, today + Duration::days(365)]
            .into_iter()
            .find(|d| !self.covers(*d))
            .map(|d| d.year())
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        match self.days.get(&d) {
            Some(DayKind::Holiday(_)) => false,
            Some(DayKind::Workday(_)) => true,
            None => !matches!(d.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The holiday name of `d`, if it is one.
    pub fn holiday(&self, d: NaiveDate) -> Option<&str> {
        match self.days.get(&d) {
            Some(DayKind::Holiday(n)) => Some(n),
            _ => None,
        }
    }

    /// The deadline of a limit of `n` working days counted from the day
    /// after `start` (the day of acceptance does not count): the `n`-th
    /// working day after it. With `n` = 0 the deadline is `start` itself.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d += Duration::days(1);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days in (`from`, `to`]: how many of the limit are used up.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d += Duration::days(1);
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn a_year_without_its_holidays_is_named_for_the_operator() {
        let cal = WorkCalendar::national();
        assert!(cal.covers(day("2026-06-01")));
        assert!(!cal.covers(day("2027-01-01")));
        assert_eq!(cal.uncovered_year(day("2026-01-10")), Some(2027));
        assert_eq!(cal.uncovered_year(day("2025-12-01")), Some(2025));
        let mut more = cal.clone();
        more.extend_from_csv("date,kind,name\n2027-01-01,holiday,元旦\n")
            .expect("extended");
        assert_eq!(more.uncovered_year(day("2026-12-06")), None);
    }

    #[test]
    fn the_shipped_2026_calendar_reads_and_matches_the_state_council_notice() {
        let cal = WorkCalendar::from_csv(CALENDAR_2026);
        assert!(cal.is_ok(), "{cal:?}");
        let cal = WorkCalendar::national();
        // 春节: 2月15日至23日放假, 2月14日(周六)、2月28日(周六)上班.
        for d in 15..=23 {
            assert!(!cal.is_working_day(day(&format!("2026-02-{d}"))), "Feb {d}");
        }
        assert!(cal.is_working_day(day("2026-02-14")));
        assert!(cal.is_working_day(day("2026-02-28")));
        assert_eq!(cal.holiday(day("2026-10-05")), Some("国庆节"));
        // A plain Saturday and a plain Wednesday.
        assert!(!cal.is_working_day(day("2026-03-07")));
        assert!(cal.is_working_day(day("2026-03-04")));
        // The notice's holidays: 3 + 9 + 3 + 5 + 3 + 3 + 7 days.
        let holidays = (0..365)
            .map(|i| day("2026-01-01") + Duration::days(i))
            .filter(|d| cal.holiday(*d).is_some())
            .count();
        assert_eq!(holidays, 33);
    }

    #[test]
    fn limits_skip_weekends_and_holidays_and_count_make_up_days() {
        let cal = WorkCalendar::national();
        // Accepted on Wednesday 30 September, 5 working days: 1–7 October are
        // off, the 8th and 9th count, the 10th is a make-up Saturday, then
        // Monday 12th and Tuesday 13th.
        assert_eq!(
            cal.add_working_days(day("2026-09-30"), 5),
            day("2026-10-13")
        );
        // Accepted on Friday 13 February: Saturday 14th is a make-up day.
        assert_eq!(
            cal.add_working_days(day("2026-02-13"), 1),
            day("2026-02-14")
        );
        assert_eq!(
            cal.add_working_days(day("2026-02-13"), 2),
            day("2026-02-24")
        );
        assert_eq!(
            cal.add_working_days(day("2026-03-04"), 0),
            day("2026-03-04")
        );
        assert_eq!(
            cal.working_days_between(day("2026-09-30"), day("2026-10-13")),
            5
        );
    }

    #[test]
    fn a_bad_calendar_line_is_named() {
        let e = WorkCalendar::from_csv("date,kind,name\n2026-13-01,holiday,x\n");
        assert_eq!(e.map_err(|e| e.detail), Err("2".to_string()));
        let e = WorkCalendar::from_csv("date,kind,name\n2026-12-01,rest,x\n");
        assert!(e.is_err());
    }
}
