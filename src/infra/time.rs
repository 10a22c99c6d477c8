//! Local time (`SAMSKAP_TIMEZONE`, default Europe/Oslo). The database keeps UTC; people
//! see and type local times: a closing date typed as a day ends at 23:59:59 local time
//! that day, and pages and e-mails show times in the zone, with its abbreviation.
//!
//! The zone is one per process (a deployment serves one country), set once from the
//! settings when the server or a command starts.

use std::sync::OnceLock;

use chrono::{NaiveDate, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Tz;

/// The zone when none is configured.
pub const DEFAULT_ZONE: Tz = chrono_tz::Europe::Oslo;

static ZONE: OnceLock<Tz> = OnceLock::new();

/// Sets the process's zone; the first call wins (every caller passes the settings').
pub fn set_zone(zone: Tz) {
    let _ = ZONE.set(zone);
}

/// The process's zone.
pub fn zone() -> Tz {
    ZONE.get().copied().unwrap_or(DEFAULT_ZONE)
}

/// A zone by its IANA name (`Europe/Oslo`).
pub fn parse_zone(name: &str) -> Result<Tz, String> {
    name.trim()
        .parse::<Tz>()
        .map_err(|_| format!("expected an IANA time zone such as Europe/Oslo or UTC, got {name:?}"))
}

/// A stored UTC time in `zone`.
pub fn local_in(t: NaiveDateTime, zone: Tz) -> chrono::DateTime<Tz> {
    Utc.from_utc_datetime(&t).with_timezone(&zone)
}

/// A stored UTC time as people read it: `2026-12-03 09:30 CET`.
pub fn shown(t: NaiveDateTime) -> String {
    local_in(t, zone()).format("%Y-%m-%d %H:%M %Z").to_string()
}

/// The local day of a stored UTC time.
pub fn local_date(t: NaiveDateTime) -> NaiveDate {
    local_in(t, zone()).date_naive()
}

/// The last second of local day `date` in `zone`, in UTC (what a closing date typed as
/// a day means).
pub fn end_of_day_in(date: NaiveDate, zone: Tz) -> Option<NaiveDateTime> {
    let next = date.succ_opt()?.and_hms_opt(0, 0, 0)?;
    // Midnight exists on every day in every zone chrono-tz knows but a few historical
    // ones; the earliest instant of the next day, less a second.
    let start = zone.from_local_datetime(&next).earliest().or_else(|| {
        zone.from_local_datetime(&(next + chrono::Duration::hours(1)))
            .earliest()
    })?;
    Some(start.naive_utc() - chrono::Duration::seconds(1))
}

/// [`end_of_day_in`] the process's zone.
pub fn end_of_day(date: NaiveDate) -> Option<NaiveDateTime> {
    end_of_day_in(date, zone())
}

/// A closing date as typed (`YYYY-MM-DD`): the end of that local day, in UTC.
pub fn closing_date(typed: &str) -> Option<NaiveDateTime> {
    NaiveDate::parse_from_str(typed.trim(), "%Y-%m-%d")
        .ok()
        .and_then(end_of_day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn a_day_ends_at_local_midnight_in_summer_and_winter() {
        let oslo = chrono_tz::Europe::Oslo;
        // CEST (UTC+2) in June, CET (UTC+1) in December.
        assert_eq!(
            end_of_day_in(day("2026-06-15"), oslo)
                .map(|t| t.to_string())
                .as_deref(),
            Some("2026-06-15 21:59:59")
        );
        assert_eq!(
            end_of_day_in(day("2026-12-15"), oslo)
                .map(|t| t.to_string())
                .as_deref(),
            Some("2026-12-15 22:59:59")
        );
        // The day the clocks go back (25 hours long) still ends at local midnight.
        assert_eq!(
            end_of_day_in(day("2026-10-25"), oslo)
                .map(|t| t.to_string())
                .as_deref(),
            Some("2026-10-25 22:59:59")
        );
        assert_eq!(
            end_of_day_in(day("2026-12-15"), chrono_tz::UTC)
                .map(|t| t.to_string())
                .as_deref(),
            Some("2026-12-15 23:59:59")
        );
        // West of Greenwich the day ends on the next UTC day.
        assert_eq!(
            end_of_day_in(day("2026-12-15"), chrono_tz::America::New_York)
                .map(|t| t.to_string())
                .as_deref(),
            Some("2026-12-16 04:59:59")
        );
    }

    #[test]
    fn stored_times_show_in_the_zone_with_its_abbreviation() {
        let t = day("2026-07-01").and_hms_opt(10, 30, 0).expect("time");
        assert_eq!(
            local_in(t, chrono_tz::Europe::Oslo)
                .format("%Y-%m-%d %H:%M %Z")
                .to_string(),
            "2026-07-01 12:30 CEST"
        );
        assert!(parse_zone("Europe/Oslo").is_ok());
        assert!(parse_zone("Oslo").unwrap_err().contains("IANA time zone"));
    }
}
