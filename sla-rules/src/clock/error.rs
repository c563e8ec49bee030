//! Why a list of transitions cannot be evaluated: each error names the offending
//! transition by its index in the list (0 = first) and its instant.

use chrono::{DateTime, SecondsFormat, Utc};

use super::evaluation::ClockState;
use super::input::LARGEST_TARGET_SECONDS;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("no transitions: a clock begins with a start")]
    NoTransitions,
    #[error(
        "transition {index} ({kind} at {}) is earlier than transition {} at {}: transitions must be in time order",
        rfc3339(at), index - 1, rfc3339(previous_at)
    )]
    OutOfOrder {
        index: usize,
        kind: &'static str,
        at: DateTime<Utc>,
        previous_at: DateTime<Utc>,
    },
    #[error(
        "transition {index} ({kind} at {}) comes before the start: a clock begins with a start",
        rfc3339(at)
    )]
    BeforeStart {
        index: usize,
        kind: &'static str,
        at: DateTime<Utc>,
    },
    #[error(
        "transition {index} (start at {}) starts the clock again: it started once already (after a stop, use reopen)",
        rfc3339(at)
    )]
    StartedTwice { index: usize, at: DateTime<Utc> },
    #[error(
        "transition {index} ({kind} at {}) is impossible while the clock is {state}",
        rfc3339(at)
    )]
    Impossible {
        index: usize,
        kind: &'static str,
        at: DateTime<Utc>,
        state: ClockState,
    },
    #[error(
        "transition {index} (target at {}): {seconds} seconds is not a target between 0 and {LARGEST_TARGET_SECONDS}",
        rfc3339(at)
    )]
    TransitionTargetOutOfRange {
        index: usize,
        at: DateTime<Utc>,
        seconds: i64,
    },
    #[error(
        "transition {index} (target at {}): unknown calendar '{name}' (expected the clock's own calendar or one of: 24x7, business-hours-fr, business-hours-fr-alsace)",
        rfc3339(at)
    )]
    UnknownTransitionCalendar {
        index: usize,
        at: DateTime<Utc>,
        name: String,
    },
    #[error("target_seconds: {seconds} is not a target between 0 and {LARGEST_TARGET_SECONDS}")]
    TargetOutOfRange { seconds: i64 },
    #[error(
        "as_of {} is before the clock's start at {}",
        rfc3339(as_of),
        rfc3339(start)
    )]
    AsOfBeforeStart {
        as_of: DateTime<Utc>,
        start: DateTime<Utc>,
    },
}

fn rfc3339(instant: &DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}
