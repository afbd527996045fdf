//! Time limits and electronic supervision (电子监察): deadlines in working
//! days, clocks that stop while the applicant corrects (补正) or a special
//! procedure runs (特别程序), and the green / yellow / red light of a case.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::calendar::WorkCalendar;

/// Case-handling settings (`[cases]`); the defaults follow DOMAIN.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CaseSettings {
    /// Working days staff have to accept, refuse or ask for corrections
    /// (行政许可法 第三十二条: 五日内一次告知).
    pub intake_working_days: u32,
    /// A case turns yellow when this share of its time limit is left.
    pub yellow_percent: u32,
    /// The largest file an applicant may upload, in megabytes.
    pub max_file_mb: u64,
    /// Extra calendar lines (`date,kind,name`) for later years or local
    /// days off, added on top of the shipped national calendar.
    pub calendar_file: String,
    /// Prefix of case numbers.
    pub number_prefix: String,
    /// Working days a unit has to verify and fix a bad rating (差评整改).
    pub rectify_working_days: u32,
}

impl Default for CaseSettings {
    fn default() -> Self {
        CaseSettings {
            intake_working_days: 5,
            yellow_percent: 20,
            max_file_mb: 10,
            calendar_file: String::new(),
            number_prefix: "ZB".into(),
            rectify_working_days: 5,
        }
    }
}

impl CaseSettings {
    pub fn max_file_bytes(&self) -> usize {
        usize::try_from(self.max_file_mb.max(1) * 1024 * 1024).unwrap_or(usize::MAX)
    }
}

/// The dates a running clock is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// The promised limit (承诺时限), or the intake limit before acceptance.
    pub due_on: NaiveDate,
    /// The legal limit (法定时限).
    pub legal_due_on: NaiveDate,
    /// From this day the case shows yellow.
    pub yellow_on: NaiveDate,
}

impl Deadlines {
    /// Limits of `promised` and `legal` working days counted from `start`.
    pub fn new(
        cal: &WorkCalendar,
        start: NaiveDate,
        promised: u32,
        legal: u32,
        yellow_percent: u32,
    ) -> Self {
        let warn = if promised == 0 {
            0
        } else {
            (promised * yellow_percent).div_ceil(100).clamp(1, promised)
        };
        Deadlines {
            due_on: cal.add_working_days(start, promised),
            legal_due_on: cal.add_working_days(start, legal.max(promised)),
            yellow_on: cal.add_working_days(start, promised - warn),
        }
    }

    /// Moves every date by the working days a pause lasted.
    pub fn shifted(self, cal: &WorkCalendar, working_days: u32) -> Self {
        if working_days == 0 {
            return self;
        }
        Deadlines {
            due_on: cal.add_working_days(self.due_on, working_days),
            legal_due_on: cal.add_working_days(self.legal_due_on, working_days),
            yellow_on: cal.add_working_days(self.yellow_on, working_days),
        }
    }
}

/// 电子监察 light.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    Green,
    Yellow,
    Red,
    /// The clock is stopped (补正 or 特别程序).
    Paused,
    /// Finished or closed: no light.
    Off,
}

impl Light {
    pub fn slug(self) -> &'static str {
        match self {
            Light::Green => "green",
            Light::Yellow => "yellow",
            Light::Red => "red",
            Light::Paused => "paused",
            Light::Off => "off",
        }
    }

    pub fn from_slug(s: &str) -> Option<Self> {
        [
            Light::Green,
            Light::Yellow,
            Light::Red,
            Light::Paused,
            Light::Off,
        ]
        .into_iter()
        .find(|l| l.slug() == s)
    }

    /// Red for a running clock past its deadline, yellow inside the warning
    /// share, green before.
    pub fn of(
        running: bool,
        paused: bool,
        today: NaiveDate,
        due_on: NaiveDate,
        yellow_on: NaiveDate,
    ) -> Self {
        if paused {
            Light::Paused
        } else if !running {
            Light::Off
        } else if today > due_on {
            Light::Red
        } else if today >= yellow_on {
            Light::Yellow
        } else {
            Light::Green
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn a_ten_day_limit_skips_weekends_and_the_national_day_holiday() {
        let cal = WorkCalendar::national();
        // Accepted on Tuesday 29 September 2026; 1–7 October are holidays
        // and Saturday 10 October is a make-up working day.
        let d = Deadlines::new(&cal, day("2026-09-29"), 10, 20, 20);
        // Working days: 9-30, 10-8, 10-9, 10-10 (调休), then 10-12 to 10-16
        // and Monday 10-19.
        assert_eq!(d.due_on, day("2026-10-19"));
        // The last 20% (2 days) of the limit: 10-16 and 10-19.
        assert_eq!(d.yellow_on, day("2026-10-15"));
        assert!(d.legal_due_on > d.due_on);
    }

    #[test]
    fn lights_turn_yellow_inside_the_last_fifth_and_red_after_the_deadline() {
        let cal = WorkCalendar::national();
        let d = Deadlines::new(&cal, day("2026-03-02"), 10, 10, 20);
        let light = |t: &str| Light::of(true, false, day(t), d.due_on, d.yellow_on);
        assert_eq!(d.due_on, day("2026-03-16"));
        assert_eq!(light("2026-03-11"), Light::Green);
        assert_eq!(light("2026-03-12"), Light::Yellow);
        assert_eq!(light("2026-03-16"), Light::Yellow);
        assert_eq!(light("2026-03-17"), Light::Red);
        assert_eq!(
            Light::of(false, true, day("2026-04-30"), d.due_on, d.yellow_on),
            Light::Paused
        );
        assert_eq!(
            Light::of(false, false, day("2026-04-30"), d.due_on, d.yellow_on),
            Light::Off
        );
    }

    #[test]
    fn a_pause_moves_every_deadline_by_the_working_days_it_lasted() {
        let cal = WorkCalendar::national();
        let d = Deadlines::new(&cal, day("2026-03-02"), 10, 20, 20);
        // Paused Friday 6 March, resumed Tuesday 10 March: 9 and 10 March.
        let used = cal.working_days_between(day("2026-03-06"), day("2026-03-10"));
        assert_eq!(used, 2);
        let s = d.shifted(&cal, used);
        assert_eq!(s.due_on, day("2026-03-18"));
        assert_eq!(s.yellow_on, cal.add_working_days(d.yellow_on, 2));
        assert_eq!(d.shifted(&cal, 0), d);
    }

    #[test]
    fn an_immediate_item_is_due_the_day_it_is_accepted() {
        let cal = WorkCalendar::national();
        let d = Deadlines::new(&cal, day("2026-03-02"), 0, 0, 20);
        assert_eq!(d.due_on, day("2026-03-02"));
        assert_eq!(
            Light::of(true, false, day("2026-03-02"), d.due_on, d.yellow_on),
            Light::Yellow
        );
        assert_eq!(
            Light::of(true, false, day("2026-03-03"), d.due_on, d.yellow_on),
            Light::Red
        );
    }
}
