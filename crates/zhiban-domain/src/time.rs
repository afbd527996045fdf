//! Beijing time, for the whole portal. Government offices keep it: dates
//! of deadlines, the day a license expires, the hour jobs run and the time
//! shown on every page are Beijing dates and times, whatever the server's
//! zone. Instants stay UTC (`DateTime<Utc>`, Unix seconds) everywhere else.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Offset, Utc};

/// UTC+8 (China has one zone and no daylight saving).
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// The Beijing date of an instant.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&beijing()).date_naive()
}

/// The Beijing date of an instant in Unix seconds (1970-01-01 when out
/// of range).
pub fn local_day(at: i64) -> NaiveDate {
    local_date(DateTime::<Utc>::from_timestamp(at, 0).unwrap_or_default())
}

/// An instant shown to people: `2026-03-02 09:30:00`, Beijing time.
/// Empty for a timestamp out of range.
pub fn local_time(at: i64) -> String {
    DateTime::<Utc>::from_timestamp(at, 0)
        .map(|t| {
            t.with_timezone(&beijing())
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

/// The instant a Beijing wall-clock time on `day` happens, in Unix seconds
/// (e.g. 09:00 for reminders, 03:00 for housekeeping).
pub fn at_local(day: NaiveDate, hour: u32, minute: u32) -> i64 {
    let time = NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN);
    day.and_time(time)
        .and_local_timezone(beijing())
        .single()
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

/// A Beijing wall-clock minute as typed ("2026-12-20 09:00", or the
/// "2026-12-20T09:00" of a `datetime-local` input), in Unix seconds.
pub fn parse_local_minute(s: &str) -> Option<i64> {
    let t = chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M"))
        .ok()?;
    Some(at_local(
        t.date(),
        chrono::Timelike::hour(&t),
        chrono::Timelike::minute(&t),
    ))
}

/// A period typed as two wall-clock minutes (start, end): each required
/// and well-formed, the end after the start; problems named by the fields.
pub fn check_period(
    start: &str,
    end: &str,
    fields: (&'static str, &'static str),
    errs: &mut Vec<crate::FieldError>,
) -> Option<(i64, i64)> {
    let mut when = |s: &str, field: &'static str| {
        let t = parse_local_minute(s);
        if t.is_none() {
            let code = if s.trim().is_empty() {
                "required"
            } else {
                "invalid_time"
            };
            errs.push(crate::FieldError::new(field, code, ""));
        }
        t
    };
    let (s, e) = (when(start, fields.0), when(end, fields.1));
    let (s, e) = (s?, e?);
    if e <= s {
        errs.push(crate::FieldError::new(fields.1, "ends_before_start", ""));
        return None;
    }
    Some((s, e))
}

/// The first second of a Beijing day, in Unix seconds.
pub fn day_start(day: NaiveDate) -> i64 {
    at_local(day, 0, 0)
}

/// The first day of the month after the one `first` starts.
pub fn next_month(first: NaiveDate) -> NaiveDate {
    use chrono::Datelike;
    let (y, m) = if first.month() == 12 {
        (first.year() + 1, 1)
    } else {
        (first.year(), first.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn dates_follow_beijing_time() {
        assert_eq!(local_date(utc("2026-03-01T17:30:00Z")), day("2026-03-02"));
        assert_eq!(local_date(utc("2026-03-01T15:59:59Z")), day("2026-03-01"));
    }

    #[test]
    fn times_are_shown_in_beijing_time() {
        assert_eq!(
            local_time(utc("2026-03-01T17:30:00Z").timestamp()),
            "2026-03-02 01:30:00"
        );
    }

    #[test]
    fn wall_clock_times_on_a_beijing_day_are_instants_eight_hours_earlier_in_utc() {
        assert_eq!(
            at_local(day("2026-03-02"), 9, 0),
            utc("2026-03-02T01:00:00Z").timestamp()
        );
        assert_eq!(
            day_start(day("2026-03-02")),
            utc("2026-03-01T16:00:00Z").timestamp()
        );
    }
}
