//! The contract directory: contracts, their users with a role per section, and the SLA
//! tier timeline. The API authorizes from it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sablier_domain::contract::{ContractEvent, DeclaredUser, SectionRoles};

use crate::error::ProjectionError;
use crate::event::{DomainEvent, FeedEvent};
use crate::projection::Projection;
use crate::sql::{Param, ViewReader, ViewTx, instant_text};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
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

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
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

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
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

    async fn add_tier(
        tx: &mut ViewTx,
        event: &FeedEvent,
        effective_at: DateTime<Utc>,
        tier: String,
        change: &str,
        billing_effective_on: String,
    ) -> Result<(), ProjectionError> {
        tx.execute(
            "INSERT INTO directory_tiers (contract_id, effective_at, tier, change, decided_at, billing_effective_on, position) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                event.aggregate_id.clone().into(),
                instant_text(effective_at).into(),
                tier.into(),
                change.into(),
                instant_text(event.at).into(),
                billing_effective_on.into(),
                Param::Int(event.position),
            ],
        )
        .await
        .map(drop)
    }

    async fn add_user(
        tx: &mut ViewTx,
        event: &FeedEvent,
        user: &DeclaredUser,
        roles: &SectionRoles,
    ) -> Result<(), ProjectionError> {
        tx.execute(
            "INSERT INTO directory_users (contract_id, login, email, first_name, last_name, roles) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                event.aggregate_id.clone().into(),
                user.login.to_string().into(),
                user.email.to_string().into(),
                user.first_name.to_string().into(),
                user.last_name.to_string().into(),
                serde_json::to_string(roles)
                    .expect("roles serialize")
                    .into(),
            ],
        )
        .await
        .map(drop)
    }

    /// A new decision replaces any change that had not taken effect yet.
    async fn drop_pending_tiers(tx: &mut ViewTx, event: &FeedEvent) -> Result<(), ProjectionError> {
        tx.execute(
            "DELETE FROM directory_tiers WHERE contract_id = $1 AND effective_at > $2",
            &[
                event.aggregate_id.clone().into(),
                instant_text(event.at).into(),
            ],
        )
        .await
        .map(drop)
    }
}

#[async_trait]
impl Projection for Directory {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn apply(&self, tx: &mut ViewTx, event: &FeedEvent) -> Result<(), ProjectionError> {
        let DomainEvent::Contract(contract) = &event.event else {
            return Ok(());
        };
        let contract_id: Param = event.aggregate_id.clone().into();
        match contract {
            ContractEvent::ContractCreated {
                at,
                name,
                offer,
                company,
                time_zone,
                tier,
                referent,
                ..
            } => {
                tx.execute(
                    "INSERT INTO directory_contracts (contract_id, name, offer, company, time_zone, referent, created_at, last_position) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        contract_id.clone(),
                        name.to_string().into(),
                        offer.as_str().into(),
                        company.to_string().into(),
                        time_zone.name().into(),
                        referent.login.to_string().into(),
                        instant_text(*at).into(),
                        Param::Int(event.position),
                    ],
                )
                .await?;
                Self::add_user(tx, event, referent, &SectionRoles::all_managers()).await?;
                let created_on = at.with_timezone(time_zone).date_naive().to_string();
                Self::add_tier(tx, event, *at, tier.to_string(), "created", created_on).await?;
            }
            ContractEvent::SupportTierUpgraded {
                to,
                sla_effective_at,
                billing_effective_on,
                ..
            } => {
                Self::drop_pending_tiers(tx, event).await?;
                Self::add_tier(
                    tx,
                    event,
                    *sla_effective_at,
                    to.to_string(),
                    "upgrade",
                    billing_effective_on.to_string(),
                )
                .await?;
            }
            ContractEvent::SupportTierDowngradeScheduled {
                to,
                effective_at,
                effective_on,
                ..
            } => {
                Self::drop_pending_tiers(tx, event).await?;
                Self::add_tier(
                    tx,
                    event,
                    *effective_at,
                    to.to_string(),
                    "downgrade",
                    effective_on.to_string(),
                )
                .await?;
            }
            ContractEvent::UserDeclared { user, roles, .. } => {
                Self::add_user(tx, event, user, roles).await?;
            }
            ContractEvent::UserRolesChanged { login, roles, .. } => {
                tx.execute(
                    "UPDATE directory_users SET roles = $1 WHERE contract_id = $2 AND login = $3",
                    &[
                        serde_json::to_string(roles)
                            .expect("roles serialize")
                            .into(),
                        contract_id,
                        login.to_string().into(),
                    ],
                )
                .await?;
            }
            ContractEvent::UserRemoved { login, .. } => {
                tx.execute(
                    "DELETE FROM directory_users WHERE contract_id = $1 AND login = $2",
                    &[contract_id, login.to_string().into()],
                )
                .await?;
            }
            ContractEvent::ExpertTimeLogged { .. } => {}
        }
        tx.execute(
            "UPDATE directory_contracts SET last_position = $1 WHERE contract_id = $2",
            &[
                Param::Int(event.position),
                event.aggregate_id.clone().into(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn reset(&self, tx: &mut ViewTx) -> Result<(), ProjectionError> {
        for table in ["directory_tiers", "directory_users", "directory_contracts"] {
            tx.execute(&format!("DELETE FROM {table}"), &[]).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
