//! The crate counts in whole UTC seconds since the Unix epoch (`i64`), inside a supported
//! range of instants, so that no arithmetic below can overflow or leave chrono's range.
//!
//! Sub-second parts of inputs are truncated: Sablier's instants have second precision.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};

pub(crate) const SECONDS_PER_DAY: i64 = 86_400;

/// 0001-01-01T00:00:00Z: earlier instants are treated as this one.
pub(crate) const EARLIEST_TIMESTAMP: i64 = -62_135_596_800;

/// 9999-12-31T23:59:59Z: later instants, and results that would pass it, saturate here.
pub(crate) const LATEST_TIMESTAMP: i64 = 253_402_300_799;

/// Days from 0001-01-01 (chrono's "day 1 of the common era" is that date) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

pub(crate) fn timestamp_of(instant: DateTime<Utc>) -> i64 {
    instant
        .timestamp()
        .clamp(EARLIEST_TIMESTAMP, LATEST_TIMESTAMP)
}

pub(crate) fn instant_at(timestamp: i64) -> DateTime<Utc> {
    let timestamp = timestamp.clamp(EARLIEST_TIMESTAMP, LATEST_TIMESTAMP);
    DateTime::from_timestamp(timestamp, 0).expect("the supported range lies inside chrono's")
}

/// Converts increasing timestamps to instants, computing each UTC date once: explanations
/// convert dozens of boundaries, most of them on the day already seen or the next one.
pub(crate) struct InstantConverter {
    /// The timestamp of `date`'s midnight.
    day_start: i64,
    date: NaiveDate,
}

impl InstantConverter {
    pub(crate) fn new() -> Self {
        InstantConverter {
            day_start: 0,
            date: NaiveDate::from_ymd_opt(1970, 1, 1).expect("the Unix epoch is a date"),
        }
    }

    /// `timestamp` must lie in the supported range (as every timestamp the crate computes
    /// from its inputs does).
    #[inline]
    pub(crate) fn instant_at(&mut self, timestamp: i64) -> DateTime<Utc> {
        debug_assert!((EARLIEST_TIMESTAMP..=LATEST_TIMESTAMP).contains(&timestamp));
        let mut seconds_of_day = timestamp - self.day_start;
        if !(0..SECONDS_PER_DAY).contains(&seconds_of_day) {
            let next_day = self.date.succ_opt();
            match next_day {
                Some(date) if (SECONDS_PER_DAY..2 * SECONDS_PER_DAY).contains(&seconds_of_day) => {
                    self.date = date;
                    self.day_start += SECONDS_PER_DAY;
                }
                _ => self.jump_to_day_of(timestamp),
            }
            seconds_of_day = timestamp - self.day_start;
        }
        let time = NaiveTime::from_num_seconds_from_midnight_opt(seconds_of_day as u32, 0)
            .expect("less than a day of seconds");
        self.date.and_time(time).and_utc()
    }

    /// Moves to the UTC day of `timestamp`: a few days ahead (a weekend, a pause) is
    /// counted from the date known, anything else computed afresh.
    #[inline(never)]
    fn jump_to_day_of(&mut self, timestamp: i64) {
        let day_start = timestamp - timestamp.rem_euclid(SECONDS_PER_DAY);
        let days_ahead = u64::try_from((day_start - self.day_start) / SECONDS_PER_DAY).ok();
        self.date = days_ahead
            .and_then(|days| self.date.checked_add_days(Days::new(days)))
            .unwrap_or_else(|| date_of_day_number(day_start / SECONDS_PER_DAY));
        self.day_start = day_start;
    }
}

/// Days since 1970-01-01 (a Thursday) of a local calendar date.
pub(crate) fn day_number_of(date: NaiveDate) -> i64 {
    i64::from(chrono::Datelike::num_days_from_ce(&date)) - UNIX_EPOCH_DAYS_FROM_CE
}

pub(crate) fn date_of_day_number(day_number: i64) -> NaiveDate {
    let days_from_ce = i32::try_from(day_number + UNIX_EPOCH_DAYS_FROM_CE)
        .expect("day numbers of supported instants fit in i32");
    NaiveDate::from_num_days_from_ce_opt(days_from_ce)
        .expect("day numbers of supported instants are valid dates")
}

/// Days since 1970-01-01 of the proleptic Gregorian date `year-month-day`, in integer
/// arithmetic only (Howard Hinnant's `days_from_civil`): the hot paths avoid chrono here.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The year of the date `day_number` days after 1970-01-01 (inverse of `days_from_civil`).
pub(crate) fn year_of_day_number(day_number: i64) -> i64 {
    let shifted = day_number + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_based_month = (5 * day_of_year + 2) / 153;
    let year = year_of_era + era * 400;
    if march_based_month >= 10 {
        year + 1
    } else {
        year
    }
}

/// Monday = 0 ... Sunday = 6.
pub(crate) fn weekday_index_of_day_number(day_number: i64) -> usize {
    // 1970-01-01 was a Thursday, index 3.
    (day_number + 3).rem_euclid(7) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    #[test]
    fn supported_range_matches_its_documented_bounds() {
        assert_eq!(
            instant_at(EARLIEST_TIMESTAMP).to_rfc3339(),
            "0001-01-01T00:00:00+00:00"
        );
        assert_eq!(
            instant_at(LATEST_TIMESTAMP).to_rfc3339(),
            "9999-12-31T23:59:59+00:00"
        );
    }

    #[test]
    fn day_numbers_count_from_the_unix_epoch() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        assert_eq!(day_number_of(epoch), 0);
        assert_eq!(
            date_of_day_number(-1),
            NaiveDate::from_ymd_opt(1969, 12, 31).unwrap()
        );
        // 1970-01-01 was a Thursday; 2026-03-30 is a Monday.
        assert_eq!(weekday_index_of_day_number(0), 3);
        let monday = NaiveDate::from_ymd_opt(2026, 3, 30).unwrap();
        assert_eq!(weekday_index_of_day_number(day_number_of(monday)), 0);
    }

    #[test]
    fn the_converter_agrees_with_chrono() {
        let mut converter = InstantConverter::new();
        for timestamp in [
            0,
            86_399,
            86_400,
            -1,
            -86_401,
            1_774_834_200,
            1_774_834_200,
            LATEST_TIMESTAMP,
        ] {
            assert_eq!(
                converter.instant_at(timestamp),
                instant_at(timestamp),
                "{timestamp}"
            );
        }
    }

    #[test]
    fn integer_civil_arithmetic_agrees_with_chrono() {
        let mut date = NaiveDate::from_ymd_opt(1899, 12, 1).unwrap();
        while date < NaiveDate::from_ymd_opt(2201, 2, 1).unwrap() {
            let day_number = day_number_of(date);
            let (year, month, day) = (date.year(), date.month(), date.day());
            assert_eq!(
                days_from_civil(i64::from(year), month, day),
                day_number,
                "{date}"
            );
            assert_eq!(year_of_day_number(day_number), i64::from(year), "{date}");
            date = date.succ_opt().unwrap();
        }
    }
}
