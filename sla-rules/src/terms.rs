//! The vocabulary every layer shares: support tiers, incident priorities and SLA metrics.
//!
//! Their serialized spelling is part of the stored event format: never rename a variant.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A contract's support tier, lowest first (the derived order is the upgrade order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    Standard,
    Bronze,
    Silver,
    Gold,
}

/// An incident's priority: `P1` service down ... `P4` information request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
}

/// The measured SLA metrics of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Metric {
    /// Guaranteed time to intervene.
    #[serde(rename = "GTI")]
    Gti,
    /// Guaranteed time to diagnose.
    #[serde(rename = "GTD")]
    Gtd,
    /// Guaranteed time to restore.
    #[serde(rename = "GTR")]
    Gtr,
    /// A change request's delivery clock (due date).
    #[serde(rename = "delivery")]
    Delivery,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::Standard, Tier::Bronze, Tier::Silver, Tier::Gold];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Standard => "Standard",
            Tier::Bronze => "Bronze",
            Tier::Silver => "Silver",
            Tier::Gold => "Gold",
        }
    }
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::P1, Priority::P2, Priority::P3, Priority::P4];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
            Priority::P4 => "P4",
        }
    }
}

impl Metric {
    pub const ALL: [Metric; 4] = [Metric::Gti, Metric::Gtd, Metric::Gtr, Metric::Delivery];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Gti => "GTI",
            Metric::Gtd => "GTD",
            Metric::Gtr => "GTR",
            Metric::Delivery => "delivery",
        }
    }
}

/// A tier, priority or metric name that is not one of the known spellings.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{value}' (expected one of: {expected})")]
pub struct UnknownTerm {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// `Display` as `as_str()`, and `FromStr` that takes any case of one of `ALL`'s names (`gold`
/// is `Gold`), refusing anything else with an [`UnknownTerm`].
macro_rules! display_and_parse_any_case {
    ($ty:ty, $what:literal, $expected:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownTerm;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|term| term.as_str().eq_ignore_ascii_case(value))
                    .ok_or_else(|| UnknownTerm {
                        what: $what,
                        value: value.to_owned(),
                        expected: $expected,
                    })
            }
        }
    };
}

display_and_parse_any_case!(Tier, "tier", "Standard, Bronze, Silver, Gold");
display_and_parse_any_case!(Priority, "priority", "P1, P2, P3, P4");
display_and_parse_any_case!(Metric, "metric", "GTI, GTD, GTR, delivery");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_are_ordered_from_lowest_to_highest() {
        assert!(Tier::Standard < Tier::Bronze);
        assert!(Tier::Bronze < Tier::Silver);
        assert!(Tier::Silver < Tier::Gold);
    }

    #[test]
    fn serialized_spelling_is_stable() {
        assert_eq!(serde_json::to_string(&Tier::Gold).unwrap(), r#""Gold""#);
        assert_eq!(serde_json::to_string(&Priority::P3).unwrap(), r#""P3""#);
        assert_eq!(serde_json::to_string(&Metric::Gtr).unwrap(), r#""GTR""#);
        assert_eq!(
            serde_json::to_string(&Metric::Delivery).unwrap(),
            r#""delivery""#
        );
    }

    #[test]
    fn parsing_names_the_bad_value() {
        let error = "Platinum".parse::<Tier>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown tier 'Platinum' (expected one of: Standard, Bronze, Silver, Gold)"
        );
        assert_eq!("gti".parse::<Metric>().unwrap(), Metric::Gti);
    }
}
