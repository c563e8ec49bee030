//! What an event does to a request's SLA clocks, stated in the event itself so that
//! projections and replays never re-derive which clock a lifecycle step touches.

use std::fmt;

use sablier_sla::Metric;
use serde::{Deserialize, Serialize};

use crate::text::InvalidField;

/// Why a clock is paused: a short snake_case code (default `awaiting_customer`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PauseReason(String);

impl PauseReason {
    /// The rule [`PauseReason::parse`] checks, as a JSON-Schema pattern: a code, not prose.
    pub const PATTERN: &'static str = "^[a-z0-9_]{1,64}$";

    pub fn parse(value: impl AsRef<str>) -> Result<Self, InvalidField> {
        let value = value.as_ref().trim();
        let valid = (1..=64).contains(&value.len())
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(InvalidField::new(
                "reason",
                "must be a code of 1 to 64 lowercase letters, digits or '_' (e.g. awaiting_customer)",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn awaiting_customer() -> Self {
        Self("awaiting_customer".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for PauseReason {
    fn default() -> Self {
        Self::awaiting_customer()
    }
}

impl fmt::Display for PauseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One transition of one metric's clock, at the instant of the event carrying it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockChange {
    pub metric: Metric,
    #[serde(flatten)]
    pub kind: ClockChangeKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClockChangeKind {
    /// The clock starts with its pinned target (`None`: no commitment) and calendar.
    Start {
        target_seconds: Option<i64>,
        calendar: String,
        pausable: bool,
    },
    Pause {
        reason: PauseReason,
    },
    Resume,
    Stop,
    /// Runs again after a stop, keeping the time counted.
    Reopen,
    /// The target in force changes (priority change). `calendar` is set when the new
    /// target counts on another calendar than the clock did: the clock counts on it from
    /// this instant on, keeping the time already counted.
    Target {
        target_seconds: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        calendar: Option<String>,
    },
}

impl ClockChange {
    pub fn new(metric: Metric, kind: ClockChangeKind) -> Self {
        Self { metric, kind }
    }
}
