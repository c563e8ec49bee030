//! Policies: the versioned tables that give each (tier, priority, metric) its target, the
//! calendar it counts in and whether pauses stop it. A ticket keeps the version it was
//! opened under; "what-if" replays may evaluate it under another.
//!
//! The file format is documented below (also in `sla-rules/docs/policy-format.md`); the
//! default `default-2026` is embedded and read by the same parser, so the format is used
//! by the crate itself.
#![doc = include_str!("../../docs/policy-format.md")]

mod error;
mod parse;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub use error::{CellProblem, PolicyError};

use crate::calendar::{Calendar, CalendarError};
use crate::risk::RiskRatio;
use crate::terms::{Metric, Priority, Tier};

/// The metrics a policy table has cells for (not `delivery`: see the format).
pub const POLICY_METRICS: [Metric; 3] = [Metric::Gti, Metric::Gtd, Metric::Gtr];

/// The text of the embedded default policy.
pub const DEFAULT_2026_TEXT: &str = include_str!("../../policies/default-2026.toml");

static DEFAULT_2026: LazyLock<Policy> = LazyLock::new(|| {
    Policy::parse(DEFAULT_2026_TEXT).expect("the embedded default-2026 policy parses (tested)")
});

/// A commitment: the metric must be met within `seconds` of `calendar` open time.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Target {
    pub seconds: i64,
    /// A name [`Calendar::named`] knows.
    pub calendar: String,
    /// Whether pauses (awaiting the customer) stop the clock; GTI's never do.
    pub pausable: bool,
}

impl Target {
    /// The target's calendar in the contract's time zone.
    pub fn calendar_in(&self, time_zone: Tz) -> Result<Calendar, CalendarError> {
        Calendar::named(&self.calendar, time_zone)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    version: String,
    at_risk_ratio: RiskRatio,
    /// Only the cells with a commitment.
    targets: BTreeMap<(Tier, Priority, Metric), Target>,
}

impl Policy {
    /// The embedded `default-2026` (docs/domain.md "Targets of `default-2026`").
    pub fn default_2026() -> Policy {
        DEFAULT_2026.clone()
    }

    /// Reads a policy file; every cell must be present, and an error names the first bad
    /// one, e.g. `Gold/P1/GTR: ...`.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        parse::parse_policy(text)
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// `None` = no commitment (e.g. any `Standard` cell, GTD P3, any `delivery`).
    pub fn target(&self, tier: Tier, priority: Priority, metric: Metric) -> Option<&Target> {
        self.targets.get(&(tier, priority, metric))
    }

    pub fn at_risk_ratio(&self) -> RiskRatio {
        self.at_risk_ratio
    }

    /// Every cell of the table, tier by tier, priority by priority, in metric order.
    pub fn cells(&self) -> impl Iterator<Item = (Tier, Priority, Metric, Option<&Target>)> {
        Tier::ALL.into_iter().flat_map(move |tier| {
            Priority::ALL.into_iter().flat_map(move |priority| {
                POLICY_METRICS.into_iter().map(move |metric| {
                    (tier, priority, metric, self.target(tier, priority, metric))
                })
            })
        })
    }
}
