//! Working days: when a tip's answer is due.
//!
//! A tip is due an answer by the end of the N-th working day after the day it arrived
//! (N = `review.answer_working_days`, 5 by default), counted in the configured time zone
//! (UTC+8 by default). Working days are Monday to Friday, minus the configured public holidays,
//! plus the configured make-up working days: China moves working days around its public
//! holidays (a Saturday or Sunday becomes a working day), so a plain weekday rule is wrong
//! several times a year.
//!
//! ```
//! use fraudshield_server::calendar::Calendar;
//! use fraudshield_server::config::ReviewConfig;
//! // Golden week: Oct 1-2 and 5-7 off, Saturday Oct 10 a make-up working day (illustrative).
//! let cal = Calendar::from_config(&ReviewConfig {
//!     holidays: ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"]
//!         .map(String::from).to_vec(),
//!     workdays: vec!["2026-10-10".into()],
//!     ..ReviewConfig::default()
//! }).unwrap();
//! // A tip on Wednesday 2026-09-30 09:00 +08:00 is due on Tuesday Oct 13, 23:59:59 +08:00
//! // (working days after it: Oct 8, 9, 10, 12, 13).
//! assert_eq!(cal.due_at(1_790_730_000), 1_791_907_199);
//! ```

use crate::config::ReviewConfig;
use std::collections::BTreeSet;
use time::{Date, Duration, OffsetDateTime, UtcOffset, Weekday, format_description::FormatItem};

const DATE_FORMAT: &[FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// A calendar date could not be read.
#[derive(Debug, thiserror::Error)]
#[error("calendar: {0} is not a YYYY-MM-DD date")]
pub struct CalendarError(String);

/// The working-day calendar (see the module docs).
#[derive(Debug, Clone)]
pub struct Calendar {
    offset: UtcOffset,
    holidays: BTreeSet<Date>,
    workdays: BTreeSet<Date>,
    working_days: u32,
}

fn parse_dates(list: &[String]) -> Result<BTreeSet<Date>, CalendarError> {
    list.iter()
        .map(|s| Date::parse(s.trim(), DATE_FORMAT).map_err(|_| CalendarError(format!("{s:?}"))))
        .collect()
}

impl Calendar {
    /// Builds the calendar from the `[review]` settings.
    pub fn from_config(c: &ReviewConfig) -> Result<Calendar, CalendarError> {
        let offset = UtcOffset::from_hms(c.utc_offset_hours, 0, 0)
            .map_err(|_| CalendarError("the UTC offset".into()))?;
        Ok(Calendar {
            offset,
            holidays: parse_dates(&c.holidays)?,
            workdays: parse_dates(&c.workdays)?,
            working_days: c.answer_working_days,
        })
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: Date) -> bool {
        if self.workdays.contains(&date) {
            return true;
        }
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
            && !self.holidays.contains(&date)
    }

    /// The local date of a Unix time.
    pub fn local_date(&self, unix: i64) -> Date {
        OffsetDateTime::from_unix_timestamp(unix)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(self.offset)
            .date()
    }

    /// When the answer to a tip received at `received_at` is due: the last second of the N-th
    /// working day after the day it arrived (local time), as Unix seconds.
    pub fn due_at(&self, received_at: i64) -> i64 {
        let mut date = self.local_date(received_at);
        let mut left = self.working_days;
        // Bounded: at most a few hundred days even with a calendar full of holidays.
        let mut guard = 0;
        while left > 0 && guard < 3660 {
            date = date.next_day().unwrap_or(date);
            if self.is_working_day(date) {
                left -= 1;
            }
            guard += 1;
        }
        let end = date
            .with_hms(23, 59, 59)
            .map(|dt| dt.assume_offset(self.offset))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        end.unix_timestamp()
    }

    /// Formats Unix seconds as RFC 3339 in UTC (for JSON and CSV).
    pub fn rfc3339(unix: i64) -> String {
        OffsetDateTime::from_unix_timestamp(unix)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    }
}

/// Parses an RFC 3339 time or Unix seconds.
pub fn parse_time(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// One day, for callers that add days to Unix times.
pub const DAY_SECS: i64 = Duration::DAY.whole_seconds();

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::datetime;

    fn cal(holidays: &[&str], workdays: &[&str]) -> Calendar {
        Calendar::from_config(&ReviewConfig {
            holidays: holidays.iter().map(|s| s.to_string()).collect(),
            workdays: workdays.iter().map(|s| s.to_string()).collect(),
            ..ReviewConfig::default()
        })
        .unwrap()
    }

    fn unix(dt: time::OffsetDateTime) -> i64 {
        dt.unix_timestamp()
    }

    #[test]
    fn five_working_days_skip_the_weekend() {
        let c = cal(&[], &[]);
        // Monday 2026-03-02 10:00 +8 → due Monday 2026-03-09 23:59:59 +8.
        let due = c.due_at(unix(datetime!(2026-03-02 10:00 +8)));
        assert_eq!(due, unix(datetime!(2026-03-09 23:59:59 +8)));
        // Friday evening → the next Friday.
        let due = c.due_at(unix(datetime!(2026-03-06 22:00 +8)));
        assert_eq!(due, unix(datetime!(2026-03-13 23:59:59 +8)));
    }

    #[test]
    fn local_day_not_utc_day_counts() {
        let c = cal(&[], &[]);
        // Sunday 20:00 UTC is Monday 04:00 in UTC+8: counting starts from Monday.
        let due = c.due_at(unix(datetime!(2026-03-01 20:00 UTC)));
        assert_eq!(due, unix(datetime!(2026-03-09 23:59:59 +8)));
    }

    #[test]
    fn national_day_holidays_and_make_up_saturday() {
        // Golden week 2026 (illustrative): Oct 1-7 off, Saturday Oct 10 worked.
        let c = cal(
            &[
                "2026-10-01",
                "2026-10-02",
                "2026-10-05",
                "2026-10-06",
                "2026-10-07",
            ],
            &["2026-10-10"],
        );
        // Wednesday Sep 30: working days after it: Oct 8 (Thu), 9 (Fri), 10 (Sat, make-up),
        // 12 (Mon), 13 (Tue).
        let due = c.due_at(unix(datetime!(2026-09-30 09:00 +8)));
        assert_eq!(due, unix(datetime!(2026-10-13 23:59:59 +8)));
        assert!(c.is_working_day(time::macros::date!(2026 - 10 - 10)));
        assert!(!c.is_working_day(time::macros::date!(2026 - 10 - 01)));
    }

    #[test]
    fn bad_dates_are_refused() {
        assert!(
            Calendar::from_config(&ReviewConfig {
                holidays: vec!["2026-13-01".into()],
                ..ReviewConfig::default()
            })
            .is_err()
        );
    }
}
