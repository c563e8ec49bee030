//! Shorthands shared by the cases and the laws.

use chrono::{DateTime, Utc};
use chrono_tz::Europe;
use sablier_sla::calendar::{
    CustomCalendar, OpeningHours, PublicHolidays, WallClockTime, WeeklyHours,
};
use sablier_sla::{Calendar, ClockEvaluation, ClockInput, Transition, evaluate};

pub const HOUR: i64 = 3600;
pub const MINUTE: i64 = 60;

pub fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("test instants are RFC 3339")
}

pub fn paris(name: &str) -> Calendar {
    Calendar::named(name, Europe::Paris).expect("a named calendar")
}

pub fn business_hours() -> Calendar {
    paris("business-hours-fr")
}

pub fn always() -> Calendar {
    paris("24x7")
}

pub fn time(text: &str) -> WallClockTime {
    text.parse().expect("test times are HH:MM")
}

/// A Paris calendar open only on Sundays, at the given hours.
pub fn sundays_only(opens: &str, closes: &str) -> Calendar {
    let weekly_hours = WeeklyHours {
        sunday: vec![OpeningHours::new(time(opens), time(closes))],
        ..WeeklyHours::default()
    };
    Calendar::custom(CustomCalendar {
        name: format!("sundays-{opens}-{closes}"),
        time_zone: Europe::Paris,
        weekly_hours,
        public_holidays: PublicHolidays::None,
        holidays: Vec::new(),
    })
    .expect("a valid custom calendar")
}

pub fn clock(
    calendar: Calendar,
    target_seconds: Option<i64>,
    transitions: Vec<Transition>,
    as_of: &str,
) -> ClockEvaluation {
    let input =
        ClockInput::new(calendar, transitions, utc(as_of)).with_target_seconds(target_seconds);
    evaluate(&input).expect("a possible list of transitions")
}
