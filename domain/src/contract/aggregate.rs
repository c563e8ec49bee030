//! The contract aggregate: decides tier changes, user declarations and expert time.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use sablier_sla::Tier;
use serde::{Deserialize, Serialize};

use crate::actor::{ActorRole, Authored};
use crate::contract::{
    ContractCommand, ContractError, ContractEvent, DeclareUser, DeclaredUser, Offer, SectionRoles,
};
use crate::ids::ContractId;
use crate::month::YearMonth;
use crate::services::Services;
use crate::text::{Email, InvalidField, Login, Title};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContractUser {
    pub email: Email,
    pub roles: SectionRoles,
}

/// One entry of the SLA tier timeline: `tier` applies from `from` on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct TierPeriod {
    from: DateTime<Utc>,
    tier: Tier,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    id: Option<ContractId>,
    name: Option<Title>,
    offer: Option<Offer>,
    time_zone: Option<Tz>,
    /// Ordered by `from`; a scheduled downgrade is a period starting in the future.
    tiers: Vec<TierPeriod>,
    referent: Option<Login>,
    users: BTreeMap<Login, ContractUser>,
}

impl Contract {
    pub fn id(&self) -> Option<&ContractId> {
        self.id.as_ref()
    }

    pub fn name(&self) -> Option<&Title> {
        self.name.as_ref()
    }

    pub fn offer(&self) -> Option<Offer> {
        self.offer
    }

    pub fn time_zone(&self) -> Option<Tz> {
        self.time_zone
    }

    pub fn referent(&self) -> Option<&Login> {
        self.referent.as_ref()
    }

    pub fn users(&self) -> &BTreeMap<Login, ContractUser> {
        &self.users
    }

    /// The tier in force for SLA at `at` (`None` before the contract exists).
    pub fn tier_at(&self, at: DateTime<Utc>) -> Option<Tier> {
        self.tiers
            .iter()
            .rev()
            .find(|period| period.from <= at)
            .map(|period| period.tier)
    }

    /// The tier in force at `at`, or the initial tier if `at` is before the contract's
    /// creation (a clock slightly behind the one that created it).
    fn current_tier(&self, at: DateTime<Utc>) -> Result<Tier, ContractError> {
        self.tier_at(at)
            .or_else(|| self.tiers.first().map(|period| period.tier))
            .ok_or(ContractError::NotFound)
    }

    /// A downgrade that has been scheduled and has not yet taken effect at `at`.
    pub fn pending_downgrade(&self, at: DateTime<Utc>) -> Option<(Tier, DateTime<Utc>)> {
        self.tiers
            .last()
            .filter(|period| period.from > at)
            .map(|period| (period.tier, period.from))
    }

    fn require_existing(&self) -> Result<Tz, ContractError> {
        self.time_zone.ok_or(ContractError::NotFound)
    }

    async fn declare_user(
        &self,
        request: DeclareUser,
        services: &Services,
        at: DateTime<Utc>,
    ) -> Result<ContractEvent, ContractError> {
        let declared_here = self
            .users
            .iter()
            .find(|(_, user)| user.email == request.email)
            .map(|(login, _)| login.clone());
        let existing_login = match declared_here {
            Some(login) => Some(login),
            None => services.identities.login_for_email(&request.email).await?,
        };
        let login = existing_login
            .clone()
            .unwrap_or_else(|| request.login.clone());
        if self.users.contains_key(&login) {
            return Err(ContractError::UserAlreadyDeclared(login));
        }
        if existing_login.is_none()
            && let Some(other_email) = services.identities.email_for_login(&login).await?
            && other_email != request.email
        {
            return Err(ContractError::LoginTaken {
                login,
                email_hint: "another email address".to_owned(),
            });
        }
        let requested_login = (login != request.login).then_some(request.login);
        Ok(ContractEvent::UserDeclared {
            at,
            user: DeclaredUser {
                login,
                email: request.email,
                first_name: request.first_name,
                last_name: request.last_name,
            },
            roles: request.roles,
            requested_login,
        })
    }

    async fn decide(
        &self,
        Authored { by, command }: Authored<ContractCommand>,
        services: &Services,
    ) -> Result<Vec<ContractEvent>, ContractError> {
        let at = services.now();
        let forbid = |action: &'static str| ContractError::NotPermitted {
            role: by.role,
            action,
        };
        by.role
            .refuse_analyst("change a contract (analysts are read-only)")?;
        let event = match command {
            ContractCommand::CreateContract {
                contract_id,
                name,
                offer,
                company,
                time_zone,
                tier,
                referent,
            } => {
                if !matches!(by.role, ActorRole::Admin | ActorRole::System) {
                    return Err(forbid("create a contract"));
                }
                if self.id.is_some() {
                    return Err(ContractError::AlreadyExists);
                }
                if let Some(login) = services.identities.login_for_email(&referent.email).await?
                    && login != referent.login
                {
                    return Err(ContractError::LoginTaken {
                        login: referent.login,
                        email_hint: format!("the email is already known as {login}"),
                    });
                }
                if let Some(email) = services.identities.email_for_login(&referent.login).await?
                    && email != referent.email
                {
                    return Err(ContractError::LoginTaken {
                        login: referent.login,
                        email_hint: "another email address".to_owned(),
                    });
                }
                ContractEvent::ContractCreated {
                    at,
                    contract_id,
                    name,
                    offer,
                    company,
                    time_zone,
                    tier,
                    referent,
                }
            }
            ContractCommand::UpgradeSupportTier { to } => {
                let time_zone = self.require_existing()?;
                if matches!(by.role, ActorRole::Agent) {
                    return Err(forbid(
                        "upgrade a support tier (the customer or an admin does)",
                    ));
                }
                let current = self.current_tier(at)?;
                if to <= current {
                    return Err(ContractError::NotAnUpgrade { current, to });
                }
                let billing_month = YearMonth::containing(at, time_zone).next();
                ContractEvent::SupportTierUpgraded {
                    at,
                    from: current,
                    to,
                    sla_effective_at: at,
                    billing_effective_on: billing_month.first_day(),
                    billing_effective_at: billing_month.starts_at(time_zone),
                    cancelled_downgrade: self.pending_downgrade(at).map(|(tier, _)| tier),
                }
            }
            ContractCommand::DowngradeSupportTier { to } => {
                let time_zone = self.require_existing()?;
                by.role
                    .staff_only("downgrade a support tier (ask Support)")?;
                let current = self.current_tier(at)?;
                if to >= current {
                    return Err(ContractError::NotADowngrade { current, to });
                }
                let month = YearMonth::containing(at, time_zone).next();
                ContractEvent::SupportTierDowngradeScheduled {
                    at,
                    from: current,
                    to,
                    effective_on: month.first_day(),
                    effective_at: month.starts_at(time_zone),
                    replaced_downgrade: self.pending_downgrade(at).map(|(tier, _)| tier),
                }
            }
            ContractCommand::LogExpertTime {
                performed_on,
                minutes,
                note,
            } => {
                self.require_existing()?;
                by.role.staff_only("log expert time")?;
                if !(1..=24 * 60).contains(&minutes) {
                    return Err(ContractError::InvalidMinutes(minutes));
                }
                sablier_sla::range::date(performed_on).map_err(|out_of_range| {
                    InvalidField::new("performed_on", out_of_range.to_string())
                })?;
                ContractEvent::ExpertTimeLogged {
                    at,
                    expert: by.login,
                    performed_on,
                    billing_month: YearMonth::of(performed_on),
                    minutes,
                    note,
                }
            }
            ContractCommand::DeclareUser(request) => {
                self.require_existing()?;
                self.declare_user(request, services, at).await?
            }
            ContractCommand::ChangeUserRoles { login, roles } => {
                self.require_existing()?;
                if self.referent.as_ref() == Some(&login) {
                    return Err(ContractError::ReferentIsPermanent(login));
                }
                let user = self
                    .users
                    .get(&login)
                    .ok_or_else(|| ContractError::UnknownUser(login.clone()))?;
                if user.roles == roles {
                    return Ok(Vec::new());
                }
                ContractEvent::UserRolesChanged {
                    at,
                    login,
                    previous: user.roles,
                    roles,
                }
            }
            ContractCommand::RemoveUser { login } => {
                self.require_existing()?;
                if self.referent.as_ref() == Some(&login) {
                    return Err(ContractError::ReferentIsPermanent(login));
                }
                if !self.users.contains_key(&login) {
                    return Err(ContractError::UnknownUser(login));
                }
                ContractEvent::UserRemoved { at, login }
            }
        };
        Ok(vec![event])
    }
}

impl Aggregate for Contract {
    const TYPE: &'static str = "Contract";
    type Command = Authored<ContractCommand>;
    type Event = ContractEvent;
    type Error = ContractError;
    type Services = Services;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command, services).await? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            ContractEvent::ContractCreated {
                at,
                contract_id,
                name,
                offer,
                time_zone,
                tier,
                referent,
                ..
            } => {
                self.id = Some(contract_id);
                self.name = Some(name);
                self.offer = Some(offer);
                self.time_zone = Some(time_zone);
                self.tiers = vec![TierPeriod { from: at, tier }];
                self.referent = Some(referent.login.clone());
                self.users.insert(
                    referent.login,
                    ContractUser {
                        email: referent.email,
                        roles: SectionRoles::all_managers(),
                    },
                );
            }
            ContractEvent::SupportTierUpgraded {
                sla_effective_at,
                to,
                ..
            } => {
                self.tiers.retain(|period| period.from <= sla_effective_at);
                self.tiers.push(TierPeriod {
                    from: sla_effective_at,
                    tier: to,
                });
            }
            ContractEvent::SupportTierDowngradeScheduled {
                at,
                to,
                effective_at,
                ..
            } => {
                self.tiers.retain(|period| period.from <= at);
                self.tiers.push(TierPeriod {
                    from: effective_at,
                    tier: to,
                });
            }
            ContractEvent::ExpertTimeLogged { .. } => {}
            ContractEvent::UserDeclared { user, roles, .. } => {
                self.users.insert(
                    user.login,
                    ContractUser {
                        email: user.email,
                        roles,
                    },
                );
            }
            ContractEvent::UserRolesChanged { login, roles, .. } => {
                if let Some(user) = self.users.get_mut(&login) {
                    user.roles = roles;
                }
            }
            ContractEvent::UserRemoved { login, .. } => {
                self.users.remove(&login);
            }
        }
    }
}
