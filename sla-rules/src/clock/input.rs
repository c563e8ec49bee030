//! Everything a clock evaluation depends on, passed in by the caller: the crate never
//! reads the wall clock, so `as_of` is the "now" of the evaluation.

use chrono::{DateTime, Utc};

use super::transition::Transition;
use crate::calendar::Calendar;
use crate::risk::RiskRatio;

/// The largest target accepted: 100 years of seconds, far beyond any SLA, small enough
/// that no sum of targets and counted seconds can overflow.
pub const LARGEST_TARGET_SECONDS: i64 = 100 * 366 * 86_400;

#[derive(Clone, Debug)]
pub struct ClockInput {
    /// The calendar whose open time counts, until a `target` transition names another
    /// (whose name is then looked up in this calendar's time zone).
    pub calendar: Calendar,
    /// The target in force at the start; `None` = no commitment (e.g. `Standard`).
    pub target_seconds: Option<i64>,
    pub at_risk_ratio: RiskRatio,
    /// In time order (checked over the whole list); equal instants apply in list order.
    /// A target whose pauses do not stop it (GTI, see `policy::Target::pausable`) gets no
    /// pause or resume transitions from its caller.
    pub transitions: Vec<Transition>,
    /// The instant of the evaluation; later transitions are ignored.
    pub as_of: DateTime<Utc>,
    /// When true, the platform maintenance windows do not count (tagged `maintenance`).
    pub exclude_maintenance_windows: bool,
}

impl ClockInput {
    /// A clock with no commitment, the default at-risk ratio and maintenance counted.
    pub fn new(calendar: Calendar, transitions: Vec<Transition>, as_of: DateTime<Utc>) -> Self {
        ClockInput {
            calendar,
            target_seconds: None,
            at_risk_ratio: RiskRatio::default(),
            transitions,
            as_of,
            exclude_maintenance_windows: false,
        }
    }

    pub fn with_target_seconds(mut self, target_seconds: Option<i64>) -> Self {
        self.target_seconds = target_seconds;
        self
    }
}
