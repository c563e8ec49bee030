//! What an evaluation answers: the clock's state, figures and verdict as of an instant,
//! and the explanation a customer or an analyst can check second by second.
//!
//! The serialized names are the `sablier-replay clock` output format.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockEvaluation {
    pub state: ClockState,
    /// Open seconds of the calendar while running.
    pub counted_seconds: i64,
    /// The target in force at `as_of`.
    pub target_seconds: Option<i64>,
    /// Target minus counted, negative when over; `None` without a target.
    pub remaining_seconds: Option<i64>,
    /// While running and not breached: when the target will be reached if nothing changes.
    /// Once breached: the breach instant. Otherwise `None`.
    pub deadline: Option<DateTime<Utc>>,
    pub at_risk: bool,
    pub breached: bool,
    pub breached_at: Option<DateTime<Utc>>,
    pub verdict: Verdict,
    /// The name of the calendar the clock counts on at `as_of`: its own, or the one the
    /// last target transition that named a calendar moved it onto (a priority change).
    pub calendar: String,
    /// From the first start to `as_of`, contiguous; the counted ones sum to
    /// `counted_seconds`.
    pub intervals: Vec<ExplainedInterval>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    Running,
    Paused,
    Stopped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No target in force (and never breached).
    NoCommitment,
    /// Final, whatever happened afterwards.
    Breached,
    /// Stopped within the target.
    Met,
    Running,
    Paused,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainedInterval {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub kind: IntervalKind,
    /// A holiday's name or a pause's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Who paused the clock, for a pause whose transition names them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalKind {
    Counted,
    OutsideHours,
    Holiday,
    Paused,
    Stopped,
    Maintenance,
}

impl ExplainedInterval {
    pub fn seconds(&self) -> i64 {
        (self.to - self.from).num_seconds()
    }
}

impl ClockState {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockState::Running => "running",
            ClockState::Paused => "paused",
            ClockState::Stopped => "stopped",
        }
    }
}

impl Verdict {
    /// Its name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::NoCommitment => "no_commitment",
            Verdict::Breached => "breached",
            Verdict::Met => "met",
            Verdict::Running => "running",
            Verdict::Paused => "paused",
        }
    }
}

impl IntervalKind {
    /// Every kind, in the order the document lists them.
    pub const ALL: [IntervalKind; 6] = [
        IntervalKind::Counted,
        IntervalKind::OutsideHours,
        IntervalKind::Holiday,
        IntervalKind::Paused,
        IntervalKind::Stopped,
        IntervalKind::Maintenance,
    ];

    /// Its name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            IntervalKind::Counted => "counted",
            IntervalKind::OutsideHours => "outside_hours",
            IntervalKind::Holiday => "holiday",
            IntervalKind::Paused => "paused",
            IntervalKind::Stopped => "stopped",
            IntervalKind::Maintenance => "maintenance",
        }
    }
}

impl fmt::Display for ClockState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serialized_ones() {
        for verdict in [
            Verdict::NoCommitment,
            Verdict::Breached,
            Verdict::Met,
            Verdict::Running,
            Verdict::Paused,
        ] {
            assert_eq!(serde_json::to_value(verdict).unwrap(), verdict.as_str());
        }
        for kind in IntervalKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }
}
