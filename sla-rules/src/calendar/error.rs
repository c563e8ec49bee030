//! Why a calendar could not be built: an unknown name or a custom definition that does
//! not describe a usable week.

use super::definition::WallClockTime;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error(
        "unknown calendar '{name}' (expected one of: 24x7, business-hours-fr, business-hours-fr-alsace)"
    )]
    UnknownName { name: String },
    #[error("a custom calendar needs a name")]
    MissingName,
    #[error("the custom calendar name '{name}' is taken by a built-in calendar")]
    NameTaken { name: String },
    #[error("'{text}' is not a time of day between 00:00 and 24:00 (HH:MM or HH:MM:SS)")]
    BadTimeOfDay { text: String },
    #[error("{weekday}: opening hours {opens}-{closes} close before they open")]
    EmptyOpeningHours {
        weekday: &'static str,
        opens: WallClockTime,
        closes: WallClockTime,
    },
    #[error("{weekday}: opening hours overlap")]
    OverlappingOpeningHours { weekday: &'static str },
    #[error("the calendar '{name}' is never open: give at least one weekday opening hours")]
    NeverOpen { name: String },
}
