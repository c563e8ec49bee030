//! What may be asked of a contract. Fields are already parsed newtypes.

use chrono::NaiveDate;
use chrono_tz::Tz;
use sablier_sla::Tier;

use crate::contract::{DeclaredUser, Offer, SectionRoles};
use crate::ids::ContractId;
use crate::text::{FreeText, Login, Name, Title};

#[derive(Clone, Debug, PartialEq)]
pub enum ContractCommand {
    /// Admin only.
    CreateContract {
        contract_id: ContractId,
        name: Title,
        offer: Offer,
        company: Name,
        time_zone: Tz,
        tier: Tier,
        referent: DeclaredUser,
    },
    /// Only to a higher tier; SLA-effective at once, billed from the first of next month.
    UpgradeSupportTier {
        to: Tier,
    },
    /// Staff only; effective for SLA and billing on the first of next month.
    DowngradeSupportTier {
        to: Tier,
    },
    /// Staff only.
    LogExpertTime {
        performed_on: NaiveDate,
        minutes: u32,
        note: Option<FreeText>,
    },
    DeclareUser(DeclareUser),
    ChangeUserRoles {
        login: Login,
        roles: SectionRoles,
    },
    RemoveUser {
        login: Login,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct DeclareUser {
    /// The login asked for; an email already known keeps its existing login instead.
    pub login: Login,
    pub email: crate::text::Email,
    pub first_name: Name,
    pub last_name: Name,
    pub roles: SectionRoles,
}
