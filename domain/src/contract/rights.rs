//! Offers, portal sections and the role a user holds in each (docs/domain.md "Users and
//! roles").

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The cloud offer a contract subscribes to. Its prefix starts order references.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Offer {
    #[serde(rename = "Flexible Computing Advanced")]
    FlexibleComputingAdvanced,
    #[serde(rename = "Flexible Engine")]
    FlexibleEngine,
    #[serde(rename = "Cloud Avenue")]
    CloudAvenue,
}

impl Offer {
    pub const ALL: [Offer; 3] = [
        Offer::FlexibleComputingAdvanced,
        Offer::FlexibleEngine,
        Offer::CloudAvenue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Offer::FlexibleComputingAdvanced => "Flexible Computing Advanced",
            Offer::FlexibleEngine => "Flexible Engine",
            Offer::CloudAvenue => "Cloud Avenue",
        }
    }

    /// The order reference prefix (`FCA0124-1702-0003`).
    pub fn reference_prefix(self) -> &'static str {
        match self {
            Offer::FlexibleComputingAdvanced => "FCA",
            Offer::FlexibleEngine => "FE",
            Offer::CloudAvenue => "CAV",
        }
    }
}

/// A text that names none of the offers.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown offer '{value}' (expected Flexible Computing Advanced, Flexible Engine or Cloud Avenue)"
)]
pub struct UnknownOffer {
    pub value: String,
}

impl FromStr for Offer {
    type Err = UnknownOffer;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|offer| offer.as_str().eq_ignore_ascii_case(value.trim()))
            .ok_or_else(|| UnknownOffer {
                value: value.to_owned(),
            })
    }
}

/// A section of the portal, each with its own role per user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Contract,
    Dashboard,
    Services,
    Invoices,
    Support,
    Users,
}

impl Section {
    pub const ALL: [Section; 6] = [
        Section::Contract,
        Section::Dashboard,
        Section::Services,
        Section::Invoices,
        Section::Support,
        Section::Users,
    ];
}

/// `visitor` reads; `manager` acts.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SectionRole {
    #[default]
    None,
    Visitor,
    Manager,
}

impl SectionRole {
    pub const ALL: [SectionRole; 3] = [
        SectionRole::None,
        SectionRole::Visitor,
        SectionRole::Manager,
    ];

    /// Its serialized spelling, the one a body gives.
    pub fn as_str(self) -> &'static str {
        match self {
            SectionRole::None => "none",
            SectionRole::Visitor => "visitor",
            SectionRole::Manager => "manager",
        }
    }
}

/// One role per section.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionRoles {
    #[serde(default)]
    pub contract: SectionRole,
    #[serde(default)]
    pub dashboard: SectionRole,
    #[serde(default)]
    pub services: SectionRole,
    #[serde(default)]
    pub invoices: SectionRole,
    #[serde(default)]
    pub support: SectionRole,
    #[serde(default)]
    pub users: SectionRole,
}

impl SectionRoles {
    /// Every section as manager: the referent user's rights.
    pub fn all_managers() -> Self {
        Self::uniform(SectionRole::Manager)
    }

    pub fn uniform(role: SectionRole) -> Self {
        Self {
            contract: role,
            dashboard: role,
            services: role,
            invoices: role,
            support: role,
            users: role,
        }
    }

    pub fn role_in(&self, section: Section) -> SectionRole {
        match section {
            Section::Contract => self.contract,
            Section::Dashboard => self.dashboard,
            Section::Services => self.services,
            Section::Invoices => self.invoices,
            Section::Support => self.support,
            Section::Users => self.users,
        }
    }
}

impl fmt::Display for SectionRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SectionRole::None => "none",
            SectionRole::Visitor => "visitor",
            SectionRole::Manager => "manager",
        })
    }
}
