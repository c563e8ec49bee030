//! The contract directory: contracts, their users with a role per section, and the SLA
//! tier timeline. The API authorizes from it.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sablier_domain::contract::{ContractEvent, DeclaredUser, SectionRoles};

use crate::error::ProjectionError;
use crate::event::{DomainEvent, FeedEvent};
use crate::projection::{InMemoryBatch, Projection};
use crate::sql::{Param, ViewReader, ViewTx, instant_text};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Deserialize)]
pub struct ContractEntry {
    pub contract_id: String,
    pub name: String,
    pub offer: String,
    pub company: String,
    pub time_zone: String,
    pub referent: String,
    pub created_at: String,
    pub last_position: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Deserialize)]
pub struct UserEntry {
    pub contract_id: String,
    pub login: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub roles: String,
}

impl UserEntry {
    pub fn roles(&self) -> Result<SectionRoles, ProjectionError> {
        serde_json::from_str(&self.roles).map_err(|error| {
            ProjectionError::Malformed(format!("roles of {}: {error}", self.login))
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Deserialize)]
pub struct TierEntry {
    pub contract_id: String,
    pub effective_at: String,
    pub tier: String,
    pub change: String,
    pub decided_at: String,
    pub billing_effective_on: String,
    pub position: i64,
}

pub struct Directory;

impl Directory {
    pub const NAME: &'static str = "directory_v1";

    pub async fn contract(
        reader: &ViewReader,
        contract_id: &str,
    ) -> Result<Option<ContractEntry>, ProjectionError> {
        reader
            .fetch_optional(
                "SELECT * FROM directory_contracts WHERE contract_id = $1",
                &[contract_id.into()],
            )
            .await
    }

    pub async fn contracts(reader: &ViewReader) -> Result<Vec<ContractEntry>, ProjectionError> {
        reader
            .fetch_all(
                "SELECT * FROM directory_contracts ORDER BY contract_id",
                &[],
            )
            .await
    }

    pub async fn users(
        reader: &ViewReader,
        contract_id: &str,
    ) -> Result<Vec<UserEntry>, ProjectionError> {
        reader
            .fetch_all(
                "SELECT * FROM directory_users WHERE contract_id = $1 ORDER BY login",
                &[contract_id.into()],
            )
            .await
    }

    /// Every contract a login is declared on, with its roles there.
    pub async fn memberships(
        reader: &ViewReader,
        login: &str,
    ) -> Result<Vec<UserEntry>, ProjectionError> {
        reader
            .fetch_all(
                "SELECT * FROM directory_users WHERE login = $1 ORDER BY contract_id",
                &[login.into()],
            )
            .await
    }

    /// The tier timeline, in order of effect.
    pub async fn tiers(
        reader: &ViewReader,
        contract_id: &str,
    ) -> Result<Vec<TierEntry>, ProjectionError> {
        reader
            .fetch_all(
                "SELECT * FROM directory_tiers WHERE contract_id = $1 ORDER BY effective_at, position",
                &[contract_id.into()],
            )
            .await
    }
}

#[async_trait]
impl Projection for Directory {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn apply_batch(
        &self,
        tx: &mut ViewTx,
        events: &[FeedEvent],
    ) -> Result<(), ProjectionError> {
        Batch::apply_all(tx, events).await
    }

    fn tables(&self) -> &'static [&'static str] {
        &["directory_tiers", "directory_users", "directory_contracts"]
    }
}

/// One contract's directory entries as a batch leaves them.
#[derive(Default)]
struct ContractEntries {
    contract: Option<ContractEntry>,
    users: BTreeMap<String, UserEntry>,
    tiers: Vec<TierEntry>,
    /// Whether its users and tiers were stored before the batch (and must be replaced).
    stored: bool,
}

/// What a batch of events does to the directory: the entries of every contract it
/// touches are read once and written back once.
#[derive(Default)]
struct Batch {
    contracts: BTreeMap<String, ContractEntries>,
}

#[async_trait]
impl InMemoryBatch for Batch {
    async fn load(tx: &mut ViewTx, events: &[FeedEvent]) -> Result<Self, ProjectionError> {
        let keys: Vec<String> = events
            .iter()
            .filter(|event| {
                matches!(&event.event, DomainEvent::Contract(contract)
                    if !matches!(contract, ContractEvent::ContractCreated { .. }))
            })
            .map(|event| event.aggregate_id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut batch = Batch::default();
        if keys.is_empty() {
            return Ok(batch);
        }
        let contracts: Vec<ContractEntry> = tx
            .fetch_by_keys("SELECT * FROM directory_contracts WHERE contract_id", &keys)
            .await?;
        let users: Vec<UserEntry> = tx
            .fetch_by_keys("SELECT * FROM directory_users WHERE contract_id", &keys)
            .await?;
        let mut tiers: Vec<TierEntry> = tx
            .fetch_by_keys("SELECT * FROM directory_tiers WHERE contract_id", &keys)
            .await?;
        tiers.sort_by_key(|tier| tier.position);
        for key in keys {
            batch.contracts.insert(
                key,
                ContractEntries {
                    stored: true,
                    ..ContractEntries::default()
                },
            );
        }
        for contract in contracts {
            let contract_id = contract.contract_id.clone();
            batch.entries(&contract_id).contract = Some(contract);
        }
        for user in users {
            let contract_id = user.contract_id.clone();
            batch
                .entries(&contract_id)
                .users
                .insert(user.login.clone(), user);
        }
        for tier in tiers {
            let contract_id = tier.contract_id.clone();
            batch.entries(&contract_id).tiers.push(tier);
        }
        Ok(batch)
    }

    fn apply(&mut self, event: &FeedEvent) -> Result<(), ProjectionError> {
        let DomainEvent::Contract(contract) = &event.event else {
            return Ok(());
        };
        let entries = self.entries(&event.aggregate_id);
        match contract {
            ContractEvent::ContractCreated { .. } => entries.create(event, contract)?,
            ContractEvent::SupportTierUpgraded {
                to,
                sla_effective_at,
                billing_effective_on,
                ..
            } => {
                entries.drop_pending_tiers(event);
                entries.add_tier(
                    event,
                    *sla_effective_at,
                    to.to_string(),
                    "upgrade",
                    billing_effective_on.to_string(),
                );
            }
            ContractEvent::SupportTierDowngradeScheduled {
                to,
                effective_at,
                effective_on,
                ..
            } => {
                entries.drop_pending_tiers(event);
                entries.add_tier(
                    event,
                    *effective_at,
                    to.to_string(),
                    "downgrade",
                    effective_on.to_string(),
                );
            }
            ContractEvent::UserDeclared { user, roles, .. } => {
                entries.add_user(event, user, roles)?;
            }
            ContractEvent::UserRolesChanged { login, roles, .. } => {
                if let Some(user) = entries.users.get_mut(login.as_str()) {
                    user.roles = serde_json::to_string(roles).expect("roles serialize");
                }
            }
            ContractEvent::UserRemoved { login, .. } => {
                entries.users.remove(login.as_str());
            }
            ContractEvent::ExpertTimeLogged { .. } => {}
        }
        if let Some(contract) = &mut entries.contract {
            contract.last_position = event.position;
        }
        Ok(())
    }

    /// Replaces the users and tiers of the contracts the batch touched, and upserts the
    /// contracts.
    async fn write(self, tx: &mut ViewTx) -> Result<(), ProjectionError> {
        let stored: Vec<String> = self
            .contracts
            .iter()
            .filter(|(_, entries)| entries.stored)
            .map(|(contract_id, _)| contract_id.clone())
            .collect();
        for table in ["directory_users", "directory_tiers"] {
            tx.execute_by_keys(&format!("DELETE FROM {table} WHERE contract_id"), &stored)
                .await?;
        }
        let (mut contracts, mut users, mut tiers) = (Vec::new(), Vec::new(), Vec::new());
        for entries in self.contracts.into_values() {
            if let Some(contract) = entries.contract {
                contracts.extend([
                    contract.contract_id.into(),
                    contract.name.into(),
                    contract.offer.into(),
                    contract.company.into(),
                    contract.time_zone.into(),
                    contract.referent.into(),
                    contract.created_at.into(),
                    Param::Int(contract.last_position),
                ]);
            }
            for user in entries.users.into_values() {
                users.extend([
                    user.contract_id.into(),
                    user.login.into(),
                    user.email.into(),
                    user.first_name.into(),
                    user.last_name.into(),
                    user.roles.into(),
                ]);
            }
            for tier in entries.tiers {
                tiers.extend([
                    tier.contract_id.into(),
                    tier.effective_at.into(),
                    tier.tier.into(),
                    tier.change.into(),
                    tier.decided_at.into(),
                    tier.billing_effective_on.into(),
                    Param::Int(tier.position),
                ]);
            }
        }
        tx.execute_rows(
            "INSERT INTO directory_contracts (contract_id, name, offer, company, time_zone, referent, \
             created_at, last_position) VALUES",
            "ON CONFLICT (contract_id) DO UPDATE SET last_position = excluded.last_position",
            8,
            contracts,
        )
        .await?;
        tx.execute_rows(
            "INSERT INTO directory_users (contract_id, login, email, first_name, last_name, roles) VALUES",
            "",
            6,
            users,
        )
        .await?;
        tx.execute_rows(
            "INSERT INTO directory_tiers (contract_id, effective_at, tier, change, decided_at, \
             billing_effective_on, position) VALUES",
            "",
            7,
            tiers,
        )
        .await?;
        Ok(())
    }
}

impl Batch {
    fn entries(&mut self, contract_id: &str) -> &mut ContractEntries {
        self.contracts.entry(contract_id.to_owned()).or_default()
    }
}

impl ContractEntries {
    /// The contract's entry, its referent as a manager of every section, and its first tier.
    fn create(
        &mut self,
        event: &FeedEvent,
        created: &ContractEvent,
    ) -> Result<(), ProjectionError> {
        let ContractEvent::ContractCreated {
            at,
            name,
            offer,
            company,
            time_zone,
            tier,
            referent,
            ..
        } = created
        else {
            return Ok(());
        };
        if self.contract.is_some() {
            return Err(ProjectionError::Malformed(format!(
                "contract {} created twice (position {})",
                event.aggregate_id, event.position
            )));
        }
        self.contract = Some(ContractEntry {
            contract_id: event.aggregate_id.clone(),
            name: name.to_string(),
            offer: offer.as_str().to_owned(),
            company: company.to_string(),
            time_zone: time_zone.name().to_owned(),
            referent: referent.login.to_string(),
            created_at: instant_text(*at),
            last_position: event.position,
        });
        self.add_user(event, referent, &SectionRoles::all_managers())?;
        let created_on = at.with_timezone(time_zone).date_naive().to_string();
        self.add_tier(event, *at, tier.to_string(), "created", created_on);
        Ok(())
    }

    fn add_user(
        &mut self,
        event: &FeedEvent,
        user: &DeclaredUser,
        roles: &SectionRoles,
    ) -> Result<(), ProjectionError> {
        let login = user.login.to_string();
        if self.users.contains_key(&login) {
            return Err(ProjectionError::Malformed(format!(
                "user {login} declared twice on {} (position {})",
                event.aggregate_id, event.position
            )));
        }
        self.users.insert(
            login.clone(),
            UserEntry {
                contract_id: event.aggregate_id.clone(),
                login,
                email: user.email.to_string(),
                first_name: user.first_name.to_string(),
                last_name: user.last_name.to_string(),
                roles: serde_json::to_string(roles).expect("roles serialize"),
            },
        );
        Ok(())
    }

    fn add_tier(
        &mut self,
        event: &FeedEvent,
        effective_at: DateTime<Utc>,
        tier: String,
        change: &str,
        billing_effective_on: String,
    ) {
        self.tiers.push(TierEntry {
            contract_id: event.aggregate_id.clone(),
            effective_at: instant_text(effective_at),
            tier,
            change: change.to_owned(),
            decided_at: instant_text(event.at),
            billing_effective_on,
            position: event.position,
        });
    }

    /// A new decision replaces any change that had not taken effect yet.
    fn drop_pending_tiers(&mut self, event: &FeedEvent) {
        let now = instant_text(event.at);
        self.tiers.retain(|tier| tier.effective_at <= now);
    }
}

#[cfg(test)]
mod tests;
