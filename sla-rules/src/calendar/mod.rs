//! Calendars say when an SLA clock counts: `24x7`, French business hours (with or without
//! Alsace-Moselle's two extra holidays) and custom calendars from configuration, each in
//! its own time zone. Every operation is exact to the second across DST changes. Cost:
//! explanations and additions walk one step per opening or closing crossed (`walk`);
//! totals are counted whole weeks at once (`sums`); never per minute or per second.
//!
//! ```
//! use chrono_tz::Europe;
//! use sablier_sla::Calendar;
//!
//! // Opened Friday 2026-03-27 at 17:30 in Paris with 4 business hours: 30 minutes on
//! // Friday, then Monday 09:00-12:30 (Paris has moved to summer time over the weekend).
//! let business_hours = Calendar::named("business-hours-fr", Europe::Paris).unwrap();
//! let opened = "2026-03-27T16:30:00Z".parse().unwrap();
//! let due = business_hours.add_open_seconds(opened, 4 * 3600);
//! assert_eq!(due.to_rfc3339(), "2026-03-30T10:30:00+00:00");
//! assert_eq!(business_hours.open_seconds_between(opened, due), 4 * 3600);
//! ```

mod cursor;
mod definition;
mod error;
mod holidays;
mod span;
mod sums;
mod walk;
mod week;
mod zone_offsets;

use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub use definition::{CustomCalendar, OpeningHours, WallClockTime, WeeklyHours};
pub use error::CalendarError;
pub use holidays::{Holiday, PublicHolidays, SUPPORTED_HOLIDAY_YEARS, easter_sunday};
pub use span::{CalendarSpan, CalendarStatus};

pub(crate) use cursor::CalendarCursor;
pub(crate) use walk::{Piece, PieceStatus};

use crate::seconds::{
    InstantConverter, LATEST_TIMESTAMP, SECONDS_PER_DAY, day_number_of, instant_at, timestamp_of,
};
use definition::OpenRange;
use week::RegularWeek;
use zone_offsets::ZoneTimeline;

/// Every second counts.
pub const TWENTY_FOUR_SEVEN: &str = "24x7";
/// Monday to Friday 09:00-18:00 local time, minus the 11 French public holidays.
pub const BUSINESS_HOURS_FR: &str = "business-hours-fr";
/// [`BUSINESS_HOURS_FR`] minus Good Friday and 26 December as well.
pub const BUSINESS_HOURS_FR_ALSACE: &str = "business-hours-fr-alsace";
/// The names [`Calendar::named`] knows.
pub const NAMED_CALENDARS: [&str; 3] = [
    TWENTY_FOUR_SEVEN,
    BUSINESS_HOURS_FR,
    BUSINESS_HOURS_FR_ALSACE,
];

/// Between the names of holidays that fall on one date, in [`Calendar::holidays`].
pub const HOLIDAY_NAMES_SEPARATOR: &str = " / ";

/// A calendar ready to count. Cheap to clone (the rules are shared).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    rules: Arc<CalendarRules>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CalendarRules {
    name: String,
    time_zone: Tz,
    /// Monday first; each day's ranges sorted, disjoint and not touching.
    week: [Box<[OpenRange]>; 7],
    /// The same week as the instants at which it opens and closes (see `week`).
    regular_week: RegularWeek,
    /// The opening seconds of each weekday (Monday first), and of the whole week.
    daily_open_seconds: [i64; 7],
    weekly_open_seconds: i64,
    always_open: bool,
    public_holidays: PublicHolidays,
    /// (day number, name), sorted by day.
    listed_holidays: Box<[(i64, String)]>,
    /// The zone's offset changes, shared by all calendars in the zone; `None` when
    /// always open (the zone does not matter then).
    zone_timeline: Option<Arc<ZoneTimeline>>,
}

impl Calendar {
    /// One of [`NAMED_CALENDARS`], evaluated in `time_zone` (the contract's). Each is
    /// built once per zone and shared (a projection asks for one per clock it settles).
    pub fn named(name: &str, time_zone: Tz) -> Result<Calendar, CalendarError> {
        type Built = std::collections::HashMap<(&'static str, Tz), Calendar>;
        static BUILT: std::sync::OnceLock<std::sync::Mutex<Built>> = std::sync::OnceLock::new();
        let Some(known) = NAMED_CALENDARS.iter().find(|known| **known == name) else {
            return Err(CalendarError::UnknownName {
                name: name.to_owned(),
            });
        };
        let mut built = BUILT
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(calendar) = built.get(&(*known, time_zone)) {
            return Ok(calendar.clone());
        }
        let calendar = Self::build_named(known, time_zone)?;
        built.insert((*known, time_zone), calendar.clone());
        Ok(calendar)
    }

    fn build_named(name: &str, time_zone: Tz) -> Result<Calendar, CalendarError> {
        let business_hours = || {
            let nine_to_six = OpeningHours::new(
                WallClockTime::new(9, 0, 0).expect("09:00 is a time of day"),
                WallClockTime::new(18, 0, 0).expect("18:00 is a time of day"),
            );
            WeeklyHours::weekdays(nine_to_six)
        };
        let (weekly_hours, public_holidays) = match name {
            TWENTY_FOUR_SEVEN => (
                WeeklyHours::every_day(OpeningHours::new(
                    WallClockTime::MIDNIGHT,
                    WallClockTime::END_OF_DAY,
                )),
                PublicHolidays::None,
            ),
            BUSINESS_HOURS_FR => (business_hours(), PublicHolidays::France),
            BUSINESS_HOURS_FR_ALSACE => (business_hours(), PublicHolidays::FranceAlsaceMoselle),
            _ => {
                return Err(CalendarError::UnknownName {
                    name: name.to_owned(),
                });
            }
        };
        Calendar::build(
            name.to_owned(),
            time_zone,
            &weekly_hours,
            public_holidays,
            &[],
        )
    }

    /// A calendar from configuration; refuses overlapping hours, a week with no opening
    /// hours at all (nothing could ever be added to it) and names of built-in calendars.
    pub fn custom(definition: CustomCalendar) -> Result<Calendar, CalendarError> {
        let name = definition.name.trim();
        if name.is_empty() {
            return Err(CalendarError::MissingName);
        }
        if NAMED_CALENDARS.contains(&name) {
            return Err(CalendarError::NameTaken {
                name: name.to_owned(),
            });
        }
        Calendar::build(
            name.to_owned(),
            definition.time_zone,
            &definition.weekly_hours,
            definition.public_holidays,
            &definition.holidays,
        )
    }

    fn build(
        name: String,
        time_zone: Tz,
        weekly_hours: &WeeklyHours,
        public_holidays: PublicHolidays,
        holidays: &[Holiday],
    ) -> Result<Calendar, CalendarError> {
        let week = weekly_hours.to_ranges()?;
        if week.iter().all(|day| day.is_empty()) {
            return Err(CalendarError::NeverOpen { name });
        }
        let open_all_day = OpenRange {
            opens: 0,
            closes: SECONDS_PER_DAY,
        };
        let mut listed_holidays: Vec<(i64, String)> = holidays
            .iter()
            .map(|holiday| (day_number_of(holiday.date), holiday.name.clone()))
            .collect();
        listed_holidays.sort_by_key(|(day, _)| *day);
        let always_open = public_holidays == PublicHolidays::None
            && listed_holidays.is_empty()
            && week.iter().all(|day| **day == [open_all_day]);
        let daily_open_seconds = week.each_ref().map(|ranges| {
            ranges
                .iter()
                .map(|range| range.closes - range.opens)
                .sum::<i64>()
        });
        Ok(Calendar {
            rules: Arc::new(CalendarRules {
                name,
                time_zone,
                regular_week: RegularWeek::new(&week),
                week,
                daily_open_seconds,
                weekly_open_seconds: daily_open_seconds.iter().sum(),
                always_open,
                public_holidays,
                listed_holidays: listed_holidays.into_boxed_slice(),
                zone_timeline: (!always_open).then(|| ZoneTimeline::of(time_zone)),
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.rules.name
    }

    pub fn time_zone(&self) -> Tz {
        self.rules.time_zone
    }

    /// Whether every second counts (then the time zone does not matter).
    pub fn is_always_open(&self) -> bool {
        self.rules.always_open
    }

    /// The open seconds in `[from, to)`; 0 when `to <= from`.
    pub fn open_seconds_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        self.open_seconds_between_timestamps(timestamp_of(from), timestamp_of(to))
    }

    pub(crate) fn open_seconds_between_timestamps(&self, from: i64, to: i64) -> i64 {
        self.cursor().open_seconds(from, to)
    }

    /// Counts and walks increasing spans, faster than one fresh question per span.
    pub(crate) fn cursor(&self) -> CalendarCursor<'_> {
        CalendarCursor::new(&self.rules)
    }

    /// The earliest instant at which `seconds` open seconds have passed since `from`: the
    /// end of the last open second, so 4 hours from Friday 14:00 is Friday 18:00, not
    /// Monday 09:00. Adding 0 (or less) returns `from` itself. Results past 9999-12-31
    /// saturate there.
    pub fn add_open_seconds(&self, from: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
        if seconds <= 0 {
            return from;
        }
        instant_at(self.add_open_seconds_to_timestamp(timestamp_of(from), seconds))
    }

    pub(crate) fn add_open_seconds_to_timestamp(&self, from: i64, seconds: i64) -> i64 {
        if seconds <= 0 {
            return from;
        }
        self.cursor().add_open_seconds(from, seconds)
    }

    /// `at` itself when the calendar is open then, otherwise the start of the next opening.
    pub fn next_open_instant(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let start = timestamp_of(at);
        let first_open = self.cursor().walk(start, LATEST_TIMESTAMP, &mut |piece| {
            if piece.status == PieceStatus::Open {
                ControlFlow::Break(piece.from)
            } else {
                ControlFlow::Continue(())
            }
        });
        match first_open {
            ControlFlow::Break(open) if open == start => at,
            ControlFlow::Break(open) => instant_at(open),
            ControlFlow::Continue(()) => instant_at(LATEST_TIMESTAMP),
        }
    }

    pub fn is_open_at(&self, at: DateTime<Utc>) -> bool {
        self.open_seconds_between_timestamps(timestamp_of(at), timestamp_of(at) + 1) == 1
    }

    /// The calendar's closed days of `year` (public and listed), in date order, one per
    /// date: holidays that fall on one date (Ascension on Labour Day in 2008) are one
    /// closed day, named by each holiday in turn ([`HOLIDAY_NAMES_SEPARATOR`]).
    pub fn holidays(&self, year: i32) -> Vec<Holiday> {
        let mut holidays = self.rules.public_holidays.of_year(year);
        holidays.extend(
            self.rules
                .listed_holidays
                .iter()
                .map(|(day, name)| Holiday {
                    date: crate::seconds::date_of_day_number(*day),
                    name: name.clone(),
                })
                .filter(|holiday| chrono::Datelike::year(&holiday.date) == year),
        );
        holidays.sort_by_key(|holiday| holiday.date);
        let mut days: Vec<Holiday> = Vec::with_capacity(holidays.len());
        for holiday in holidays {
            match days.last_mut() {
                Some(day) if day.date == holiday.date => {
                    if !day
                        .name
                        .split(HOLIDAY_NAMES_SEPARATOR)
                        .any(|name| name == holiday.name)
                    {
                        day.name.push_str(HOLIDAY_NAMES_SEPARATOR);
                        day.name.push_str(&holiday.name);
                    }
                }
                _ => days.push(holiday),
            }
        }
        days
    }

    /// `[from, to)` cut into maximal spans that are open, outside hours or on a holiday.
    pub fn spans_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<CalendarSpan> {
        let mut spans: Vec<CalendarSpan> = Vec::new();
        // Each piece ends where the next begins: its end is converted once, and becomes
        // the next span's start.
        let mut converter = InstantConverter::new();
        let _: ControlFlow<()> = self.walk(timestamp_of(from), timestamp_of(to), &mut |piece| {
            let piece_to = converter.instant_at(piece.to);
            match spans.last_mut() {
                Some(last) if last.status.matches(piece.status) => last.to = piece_to,
                Some(last) => {
                    let piece_from = last.to;
                    spans.push(CalendarSpan {
                        from: piece_from,
                        to: piece_to,
                        status: CalendarStatus::of(piece.status),
                    });
                }
                None => spans.push(CalendarSpan {
                    from: instant_at(piece.from),
                    to: piece_to,
                    status: CalendarStatus::of(piece.status),
                }),
            }
            ControlFlow::Continue(())
        });
        spans
    }

    pub(crate) fn walk<'calendar, B>(
        &'calendar self,
        from: i64,
        to: i64,
        visit: &mut impl FnMut(Piece<'calendar>) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        self.cursor().walk(from, to, visit)
    }
}
