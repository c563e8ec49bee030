//! The span of time in which every answer of this crate is exact: from
//! 1970-01-01T00:00:00Z to 2099-12-31T23:59:59Z.
//!
//! Calendars read local wall clocks through the bundled time-zone tables, which hold each
//! zone's offset changes up to 2099: past it a zone keeps its last standard offset and no
//! summer time, so open seconds after 2099 would be silently wrong (Paris counts no open
//! second at 07:00Z on a July morning of 2150, an hour it is open). Before 1970 the tables
//! hold what little the time-zone database knows. Every instant and date that enters
//! Sablier (a command's date, an `as_of`, a calendar question) is checked against this
//! span at the edge, and answers that would leave it are refused.

use chrono::{DateTime, NaiveDate, Utc};

/// The first instant with exact answers.
pub const FIRST_INSTANT: DateTime<Utc> = DateTime::from_timestamp_nanos(0);

/// The last instant with exact answers: 2099-12-31T23:59:59Z.
pub const LAST_INSTANT: DateTime<Utc> = DateTime::from_timestamp_nanos(4_102_444_799_000_000_000);

/// An instant or date outside the span of exact answers.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "must be between 1970-01-01T00:00:00Z and 2099-12-31T23:59:59Z (1970-01-01 and 2099-12-31 for a date), the span in which calendar answers are exact"
)]
pub struct OutOfRange;

/// `at`, if it lies in the span of exact answers.
pub fn instant(at: DateTime<Utc>) -> Result<DateTime<Utc>, OutOfRange> {
    if (FIRST_INSTANT..=LAST_INSTANT).contains(&at) {
        Ok(at)
    } else {
        Err(OutOfRange)
    }
}

/// `date`, if every instant of it (in any zone) lies in the span of exact answers, give
/// or take the zone's offset: 1970-01-01 to 2099-12-31.
pub fn date(date: NaiveDate) -> Result<NaiveDate, OutOfRange> {
    if (FIRST_INSTANT.date_naive()..=LAST_INSTANT.date_naive()).contains(&date) {
        Ok(date)
    } else {
        Err(OutOfRange)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_span_runs_from_1970_to_the_end_of_2099() {
        assert_eq!(
            FIRST_INSTANT,
            Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            LAST_INSTANT,
            Utc.with_ymd_and_hms(2099, 12, 31, 23, 59, 59).unwrap()
        );
        assert!(instant(LAST_INSTANT).is_ok());
        assert_eq!(
            instant(LAST_INSTANT + chrono::Duration::seconds(1)),
            Err(OutOfRange)
        );
        assert_eq!(
            instant(FIRST_INSTANT - chrono::Duration::seconds(1)),
            Err(OutOfRange)
        );
        assert!(date(NaiveDate::from_ymd_opt(2099, 12, 31).unwrap()).is_ok());
        assert_eq!(
            date(NaiveDate::from_ymd_opt(-1, 12, 31).unwrap()),
            Err(OutOfRange)
        );
        assert_eq!(
            date(NaiveDate::from_ymd_opt(2100, 1, 1).unwrap()),
            Err(OutOfRange)
        );
    }

    /// The last summer of the span still has summer time in Paris: the tables cover it.
    #[test]
    fn issue_20_paris_keeps_summer_time_up_to_the_end_of_the_span() {
        use chrono::Offset;
        let paris = chrono_tz::Europe::Paris;
        let summer = Utc.with_ymd_and_hms(2099, 7, 6, 7, 0, 0).unwrap();
        assert_eq!(
            summer
                .with_timezone(&paris)
                .offset()
                .fix()
                .local_minus_utc(),
            2 * 3600
        );
    }
}
