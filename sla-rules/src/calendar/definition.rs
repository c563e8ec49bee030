//! What a configured (custom) calendar says: opening hours for each weekday in local
//! wall-clock time, the public holidays it observes, its own closed days and its time zone.
//! This is the shape read from configuration; [`super::Calendar::custom`] checks it.

use std::fmt;
use std::str::FromStr;

use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::CalendarError;
use super::holidays::{Holiday, PublicHolidays};
use crate::seconds::SECONDS_PER_DAY;

/// A calendar from configuration, e.g. in JSON:
/// `{"name": "acme-extended", "time_zone": "Europe/Paris", "weekly_hours": {"monday":
/// [{"opens": "08:00", "closes": "20:00"}]}, "public_holidays": "france", "holidays":
/// [{"date": "2026-12-24", "name": "Christmas Eve"}]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomCalendar {
    pub name: String,
    pub time_zone: Tz,
    pub weekly_hours: WeeklyHours,
    #[serde(default)]
    pub public_holidays: PublicHolidays,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
}

/// Opening hours per weekday; a day without entries is closed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WeeklyHours {
    pub monday: Vec<OpeningHours>,
    pub tuesday: Vec<OpeningHours>,
    pub wednesday: Vec<OpeningHours>,
    pub thursday: Vec<OpeningHours>,
    pub friday: Vec<OpeningHours>,
    pub saturday: Vec<OpeningHours>,
    pub sunday: Vec<OpeningHours>,
}

impl WeeklyHours {
    pub const WEEKDAY_NAMES: [&'static str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];

    /// The same hours from Monday to Friday, closed at weekends.
    pub fn weekdays(hours: OpeningHours) -> WeeklyHours {
        let day = vec![hours];
        WeeklyHours {
            monday: day.clone(),
            tuesday: day.clone(),
            wednesday: day.clone(),
            thursday: day.clone(),
            friday: day,
            saturday: Vec::new(),
            sunday: Vec::new(),
        }
    }

    /// The same hours every day of the week.
    pub fn every_day(hours: OpeningHours) -> WeeklyHours {
        WeeklyHours {
            saturday: vec![hours],
            sunday: vec![hours],
            ..WeeklyHours::weekdays(hours)
        }
    }

    /// Monday first.
    pub fn days(&self) -> [&[OpeningHours]; 7] {
        [
            &self.monday,
            &self.tuesday,
            &self.wednesday,
            &self.thursday,
            &self.friday,
            &self.saturday,
            &self.sunday,
        ]
    }

    /// Each weekday's opening ranges in seconds after local midnight, sorted, with touching
    /// ranges merged; overlapping or empty ranges are errors.
    pub(crate) fn to_ranges(&self) -> Result<[Box<[OpenRange]>; 7], CalendarError> {
        let mut week: [Box<[OpenRange]>; 7] = Default::default();
        for (index, hours) in self.days().into_iter().enumerate() {
            let weekday = WeeklyHours::WEEKDAY_NAMES[index];
            let mut ranges: Vec<OpenRange> = Vec::with_capacity(hours.len());
            let mut sorted = hours.to_vec();
            sorted.sort_by_key(|hours| hours.opens);
            for hours in sorted {
                if hours.opens >= hours.closes {
                    return Err(CalendarError::EmptyOpeningHours {
                        weekday,
                        opens: hours.opens,
                        closes: hours.closes,
                    });
                }
                let range = OpenRange {
                    opens: i64::from(hours.opens.seconds_after_midnight()),
                    closes: i64::from(hours.closes.seconds_after_midnight()),
                };
                match ranges.last_mut() {
                    Some(last) if range.opens < last.closes => {
                        return Err(CalendarError::OverlappingOpeningHours { weekday });
                    }
                    Some(last) if range.opens == last.closes => last.closes = range.closes,
                    _ => ranges.push(range),
                }
            }
            week[index] = ranges.into_boxed_slice();
        }
        Ok(week)
    }
}

/// One opening range of a day, `[opens, closes)` in local wall-clock time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    pub opens: WallClockTime,
    pub closes: WallClockTime,
}

impl OpeningHours {
    pub fn new(opens: WallClockTime, closes: WallClockTime) -> OpeningHours {
        OpeningHours { opens, closes }
    }
}

/// `[opens, closes)` in seconds after local midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OpenRange {
    pub(crate) opens: i64,
    pub(crate) closes: i64,
}

/// A local time of day from 00:00 to 24:00 inclusive (24:00 closes a day that is open
/// until midnight), written `HH:MM` or `HH:MM:SS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WallClockTime {
    seconds_after_midnight: u32,
}

impl WallClockTime {
    pub const MIDNIGHT: WallClockTime = WallClockTime {
        seconds_after_midnight: 0,
    };
    pub const END_OF_DAY: WallClockTime = WallClockTime {
        seconds_after_midnight: SECONDS_PER_DAY as u32,
    };

    pub fn new(hour: u32, minute: u32, second: u32) -> Result<WallClockTime, CalendarError> {
        let seconds_after_midnight = hour * 3600 + minute * 60 + second;
        if minute >= 60 || second >= 60 || seconds_after_midnight > SECONDS_PER_DAY as u32 {
            return Err(CalendarError::BadTimeOfDay {
                text: format!("{hour:02}:{minute:02}:{second:02}"),
            });
        }
        Ok(WallClockTime {
            seconds_after_midnight,
        })
    }

    pub fn seconds_after_midnight(self) -> u32 {
        self.seconds_after_midnight
    }
}

impl FromStr for WallClockTime {
    type Err = CalendarError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || CalendarError::BadTimeOfDay {
            text: text.to_owned(),
        };
        let parts: Vec<&str> = text.split(':').collect();
        if !(2..=3).contains(&parts.len())
            || parts
                .iter()
                .any(|part| part.len() != 2 || !part.bytes().all(|byte| byte.is_ascii_digit()))
        {
            return Err(bad());
        }
        let number = |index: usize| parts.get(index).map_or(Ok(0), |part| part.parse::<u32>());
        let (Ok(hour), Ok(minute), Ok(second)) = (number(0), number(1), number(2)) else {
            return Err(bad());
        };
        WallClockTime::new(hour, minute, second).map_err(|_| bad())
    }
}

impl fmt::Display for WallClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.seconds_after_midnight;
        write!(f, "{:02}:{:02}", seconds / 3600, seconds % 3600 / 60)?;
        if !seconds.is_multiple_of(60) {
            write!(f, ":{:02}", seconds % 60)?;
        }
        Ok(())
    }
}

impl Serialize for WallClockTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for WallClockTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(text: &str) -> WallClockTime {
        text.parse().unwrap()
    }

    #[test]
    fn times_of_day_read_and_print_back() {
        assert_eq!(time("09:00").seconds_after_midnight(), 32_400);
        assert_eq!(time("24:00"), WallClockTime::END_OF_DAY);
        assert_eq!(time("17:30:15").to_string(), "17:30:15");
        assert_eq!(time("18:00").to_string(), "18:00");
        for bad in ["9:00", "24:01", "12:60", "noon", "12", "12:00:00:00"] {
            assert_eq!(
                bad.parse::<WallClockTime>(),
                Err(CalendarError::BadTimeOfDay { text: bad.into() })
            );
        }
    }

    #[test]
    fn touching_ranges_merge_and_overlapping_ones_are_refused() {
        let mut week = WeeklyHours {
            monday: vec![
                OpeningHours::new(time("14:00"), time("18:00")),
                OpeningHours::new(time("09:00"), time("14:00")),
            ],
            ..WeeklyHours::default()
        };
        let ranges = week.to_ranges().unwrap();
        assert_eq!(
            &*ranges[0],
            &[OpenRange {
                opens: 32_400,
                closes: 64_800
            }]
        );
        week.tuesday = vec![
            OpeningHours::new(time("09:00"), time("12:00")),
            OpeningHours::new(time("11:00"), time("13:00")),
        ];
        assert_eq!(
            week.to_ranges(),
            Err(CalendarError::OverlappingOpeningHours { weekday: "tuesday" })
        );
    }

    #[test]
    fn custom_calendars_read_from_json() {
        let json = r#"{"name": "acme", "time_zone": "Europe/Paris",
            "weekly_hours": {"saturday": [{"opens": "10:00", "closes": "12:00"}]},
            "public_holidays": "france-alsace-moselle",
            "holidays": [{"date": "2026-12-24", "name": "Christmas Eve"}]}"#;
        let calendar: CustomCalendar = serde_json::from_str(json).unwrap();
        assert_eq!(calendar.time_zone, chrono_tz::Europe::Paris);
        assert_eq!(
            calendar.public_holidays,
            PublicHolidays::FranceAlsaceMoselle
        );
        assert_eq!(calendar.weekly_hours.saturday.len(), 1);
        assert!(calendar.weekly_hours.monday.is_empty());
        assert_eq!(calendar.holidays[0].name, "Christmas Eve");
    }
}
