//! Facts about a contract. Stored forever: only add optional fields, and bump
//! [`ContractEvent::VERSION`] with an upcaster when a shape must change.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use cqrs_es::DomainEvent;
use sablier_sla::Tier;
use serde::{Deserialize, Serialize};

use crate::contract::{Offer, SectionRoles};
use crate::ids::ContractId;
use crate::month::YearMonth;
use crate::text::{Email, FreeText, Login, Name, Title};

/// A user as declared on a contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredUser {
    pub login: Login,
    pub email: Email,
    pub first_name: Name,
    pub last_name: Name,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ContractEvent {
    ContractCreated {
        at: DateTime<Utc>,
        contract_id: ContractId,
        name: Title,
        offer: Offer,
        company: Name,
        time_zone: Tz,
        tier: Tier,
        referent: DeclaredUser,
    },
    SupportTierUpgraded {
        at: DateTime<Utc>,
        from: Tier,
        to: Tier,
        /// The new tier applies to tickets opened from this instant.
        sla_effective_at: DateTime<Utc>,
        /// The first billed day of the new tier (first of next month, contract time zone).
        billing_effective_on: NaiveDate,
        billing_effective_at: DateTime<Utc>,
        /// A downgrade scheduled earlier that this upgrade cancels.
        cancelled_downgrade: Option<Tier>,
    },
    SupportTierDowngradeScheduled {
        at: DateTime<Utc>,
        from: Tier,
        to: Tier,
        /// SLA and billing alike (first of next month, contract time zone).
        effective_on: NaiveDate,
        effective_at: DateTime<Utc>,
        /// A downgrade scheduled earlier that this one replaces.
        replaced_downgrade: Option<Tier>,
    },
    ExpertTimeLogged {
        at: DateTime<Utc>,
        expert: Login,
        performed_on: NaiveDate,
        billing_month: YearMonth,
        minutes: u32,
        note: Option<FreeText>,
    },
    UserDeclared {
        at: DateTime<Utc>,
        user: DeclaredUser,
        roles: SectionRoles,
        /// Set when the email was already known under another login, which it keeps.
        requested_login: Option<Login>,
    },
    UserRolesChanged {
        at: DateTime<Utc>,
        login: Login,
        previous: SectionRoles,
        roles: SectionRoles,
    },
    UserRemoved {
        at: DateTime<Utc>,
        login: Login,
    },
}

impl ContractEvent {
    pub const VERSION: &'static str = "1";

    pub fn at(&self) -> DateTime<Utc> {
        match self {
            ContractEvent::ContractCreated { at, .. }
            | ContractEvent::SupportTierUpgraded { at, .. }
            | ContractEvent::SupportTierDowngradeScheduled { at, .. }
            | ContractEvent::ExpertTimeLogged { at, .. }
            | ContractEvent::UserDeclared { at, .. }
            | ContractEvent::UserRolesChanged { at, .. }
            | ContractEvent::UserRemoved { at, .. } => *at,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            ContractEvent::ContractCreated { .. } => "ContractCreated",
            ContractEvent::SupportTierUpgraded { .. } => "SupportTierUpgraded",
            ContractEvent::SupportTierDowngradeScheduled { .. } => "SupportTierDowngradeScheduled",
            ContractEvent::ExpertTimeLogged { .. } => "ExpertTimeLogged",
            ContractEvent::UserDeclared { .. } => "UserDeclared",
            ContractEvent::UserRolesChanged { .. } => "UserRolesChanged",
            ContractEvent::UserRemoved { .. } => "UserRemoved",
        }
    }
}

impl DomainEvent for ContractEvent {
    fn event_type(&self) -> String {
        self.name().to_owned()
    }

    fn event_version(&self) -> String {
        Self::VERSION.to_owned()
    }
}
