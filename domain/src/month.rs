//! Calendar months in a contract's time zone: billing and downgrades take effect on the
//! first day of a month, at local midnight.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A calendar month, serialized `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct YearMonth {
    year: i32,
    month: u32,
}

impl YearMonth {
    /// `YYYY-MM`, the form `Display` writes and `FromStr` reads, as a JSON-Schema pattern.
    pub const PATTERN: &'static str = "^[0-9]{4}-(0[1-9]|1[0-2])$";

    pub fn new(year: i32, month: u32) -> Option<Self> {
        (1..=12).contains(&month).then_some(Self { year, month })
    }

    pub fn of(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            month: date.month(),
        }
    }

    /// The month an instant falls in, read in `time_zone`.
    pub fn containing(at: DateTime<Utc>, time_zone: Tz) -> Self {
        Self::of(at.with_timezone(&time_zone).date_naive())
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a valid month")
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().expect("a valid date")
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The instant the month starts in `time_zone` (local midnight of its first day, or
    /// the first instant after it where a zone skips midnight).
    pub fn starts_at(self, time_zone: Tz) -> DateTime<Utc> {
        start_of_day(self.first_day(), time_zone)
    }
}

/// The first instant of `date` in `time_zone`.
pub fn start_of_day(date: NaiveDate, time_zone: Tz) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    (0..=24 * 60)
        .find_map(|minutes| {
            time_zone
                .from_local_datetime(&(midnight + chrono::Duration::minutes(minutes)))
                .earliest()
        })
        .expect("every day has an instant")
        .with_timezone(&Utc)
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// A text that is not a month `YYYY-MM`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a month (expected YYYY-MM)")]
pub struct NotAMonth {
    pub value: String,
}

impl FromStr for YearMonth {
    type Err = NotAMonth;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let bad = || NotAMonth {
            value: value.to_owned(),
        };
        let (year, month) = value.split_once('-').ok_or_else(bad)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(bad());
        }
        let year = year.parse().map_err(|_| bad())?;
        let month = month.parse().map_err(|_| bad())?;
        Self::new(year, month).ok_or_else(bad)
    }
}

/// How a stored month reads: as `YYYY-MM`, and also in the forms written before dates
/// were bounded at the edge (issue 20), when a year outside 0000-9999 was written as it
/// came (`-001-12`, `99999-01`). Such events stay in the append-only log; reading them back
/// keeps the aggregates and views that hold them going. Input from outside goes through
/// the strict [`FromStr`].
impl TryFrom<String> for YearMonth {
    type Error = NotAMonth;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse().or_else(|strict: NotAMonth| {
            let (year, month) = value.rsplit_once('-').ok_or_else(|| strict.clone())?;
            let unpadded = year.len() > 4 || year.starts_with('-');
            match (unpadded, year.parse::<i32>(), month.parse::<u32>()) {
                (true, Ok(year), Ok(month)) => Self::new(year, month).ok_or(strict),
                _ => Err(strict),
            }
        })
    }
}

impl From<YearMonth> for String {
    fn from(month: YearMonth) -> Self {
        month.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Paris;

    #[test]
    fn month_containing_reads_the_local_date() {
        // 2026-11-30T23:30Z is 2026-12-01 00:30 in Paris (UTC+1).
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 23, 30, 0).unwrap();
        assert_eq!(YearMonth::containing(at, Paris).to_string(), "2026-12");
        assert_eq!(
            YearMonth::containing(at, chrono_tz::UTC).to_string(),
            "2026-11"
        );
    }

    #[test]
    fn december_rolls_into_january() {
        let december: YearMonth = "2026-12".parse().unwrap();
        assert_eq!(december.next().to_string(), "2027-01");
        // Paris is UTC+1 in January: local midnight is 23:00Z the day before.
        assert_eq!(
            december.next().starts_at(Paris),
            Utc.with_ymd_and_hms(2026, 12, 31, 23, 0, 0).unwrap()
        );
        assert_eq!(
            december.last_day(),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
    }

    #[test]
    fn summer_months_start_at_22_utc_in_paris() {
        let july: YearMonth = "2026-07".parse().unwrap();
        assert_eq!(
            july.starts_at(Paris),
            Utc.with_ymd_and_hms(2026, 6, 30, 22, 0, 0).unwrap()
        );
    }

    /// Issue 20: months of years outside 0000-9999 were written unpadded before dates were
    /// bounded; the log keeps them, so they must read.
    #[test]
    fn issue_20_stored_months_of_unbounded_years_still_read() {
        let before_year_one: YearMonth = serde_json::from_str("\"-001-12\"").unwrap();
        assert_eq!((before_year_one.year(), before_year_one.month()), (-1, 12));
        assert_eq!(before_year_one.to_string(), "-001-12");
        let far: YearMonth = serde_json::from_str("\"99999-01\"").unwrap();
        assert_eq!((far.year(), far.month()), (99999, 1));
        assert!(serde_json::from_str::<YearMonth>("\"-001-13\"").is_err());
        // What comes from outside stays strict.
        assert!("-001-12".parse::<YearMonth>().is_err());
    }

    #[test]
    fn bad_months_are_named() {
        assert_eq!(
            "2026-13".parse::<YearMonth>().unwrap_err().to_string(),
            "'2026-13' is not a month (expected YYYY-MM)"
        );
        assert!("26-01".parse::<YearMonth>().is_err());
    }
}
