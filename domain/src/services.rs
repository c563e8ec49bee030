//! The ports through which a command handler learns facts another aggregate or the
//! configuration owns. Declared here, implemented by `sablier-store` (and by in-memory
//! fakes in `testing` (the `testing` feature)). One [`Services`] value serves every aggregate.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use sablier_sla::Tier;
use sablier_sla::policy::Policy;

use crate::change::{ChangeCatalogue, DEFAULT_FREE_CHANGES_PER_MONTH};
use crate::clock::Clock;
use crate::contract::Offer;
use crate::ids::{ChangeId, ContractId};
use crate::month::YearMonth;
use crate::order::ServiceCatalogue;
use crate::text::{AssetRef, Email, Login, Title};

/// A port could not answer: its storage failed, or what it stored no longer reads.
/// Retrying the command may succeed.
#[derive(Clone, Debug, thiserror::Error)]
#[error("the {port} port could not answer")]
pub struct PortError {
    pub port: Port,
    /// What failed underneath, kept whole for the log.
    #[source]
    pub cause: Arc<dyn std::error::Error + Send + Sync>,
}

impl PortError {
    pub fn new(port: Port, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            port,
            cause: Arc::new(cause),
        }
    }
}

/// Two port errors are the same when the same port failed for the same stated cause.
impl PartialEq for PortError {
    fn eq(&self, other: &Self) -> bool {
        self.port == other.port && self.cause.to_string() == other.cause.to_string()
    }
}

impl Eq for PortError {}

/// The ports a command handler reads through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Port {
    ContractFacts,
    IdentityDirectory,
    ChangesOnAsset,
    SubmittedChanges,
    OrderReferences,
}

impl std::fmt::Display for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Port::ContractFacts => "contract facts",
            Port::IdentityDirectory => "identity directory",
            Port::ChangesOnAsset => "changes on asset",
            Port::SubmittedChanges => "submitted changes",
            Port::OrderReferences => "order references",
        })
    }
}

/// What other aggregates need to know of a contract at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractAt {
    pub id: ContractId,
    pub name: Title,
    pub offer: Offer,
    pub time_zone: Tz,
    /// The tier in force for SLA at the instant asked.
    pub tier: Tier,
}

#[async_trait]
pub trait ContractFacts: Send + Sync {
    /// The contract as it stood at `at`; `None` if it does not exist.
    async fn contract_at(
        &self,
        id: &ContractId,
        at: DateTime<Utc>,
    ) -> Result<Option<ContractAt>, PortError>;
}

/// One identity per email, across every contract.
#[async_trait]
pub trait IdentityDirectory: Send + Sync {
    async fn login_for_email(&self, email: &Email) -> Result<Option<Login>, PortError>;
    async fn email_for_login(&self, login: &Login) -> Result<Option<Email>, PortError>;
}

/// Unfinished changes (submitted, quoted or in progress) on one asset of a contract.
#[async_trait]
pub trait ChangesOnAsset: Send + Sync {
    async fn unfinished_changes(
        &self,
        contract: &ContractId,
        asset: &AssetRef,
    ) -> Result<Vec<ChangeId>, PortError>;
}

/// Changes a contract submitted within a span of time.
#[async_trait]
pub trait SubmittedChanges: Send + Sync {
    /// How many changes of `contract` were submitted in `[from, until)`.
    async fn submitted_between(
        &self,
        contract: &ContractId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<u32, PortError>;
}

/// Allocates order reference sequence numbers: unique per contract and month.
#[async_trait]
pub trait OrderReferences: Send + Sync {
    async fn next_sequence(
        &self,
        contract: &ContractId,
        month: YearMonth,
    ) -> Result<u32, PortError>;
}

/// The versioned SLA policies: the one in force, and any earlier version by name.
pub trait PolicyBook: Send + Sync {
    fn in_force(&self) -> Arc<Policy>;
    fn version(&self, version: &str) -> Option<Arc<Policy>>;
}

/// A policy book holding fixed versions; the last one given is in force.
#[derive(Clone, Debug)]
pub struct StaticPolicyBook {
    versions: Vec<Arc<Policy>>,
}

impl StaticPolicyBook {
    pub fn new(versions: Vec<Policy>) -> Self {
        assert!(
            !versions.is_empty(),
            "a policy book holds at least one policy"
        );
        Self {
            versions: versions.into_iter().map(Arc::new).collect(),
        }
    }
}

impl Default for StaticPolicyBook {
    fn default() -> Self {
        Self::new(vec![Policy::default_2026()])
    }
}

impl PolicyBook for StaticPolicyBook {
    fn in_force(&self) -> Arc<Policy> {
        self.versions.last().cloned().expect("at least one policy")
    }

    fn version(&self, version: &str) -> Option<Arc<Policy>> {
        self.versions
            .iter()
            .find(|policy| policy.version() == version)
            .cloned()
    }
}

/// Rules docs/domain.md gives defaults for: configuration, not code ("Where the code
/// differs from the portal guides").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainSettings {
    /// How long after restoration a customer may reopen an incident (default 7 days).
    pub reopen_window: Duration,
    /// Largest attachment accepted with a change (default 10 MiB).
    pub max_attachment_bytes: u64,
    /// Changes per contract and calendar month that are free (default 5); the next ones
    /// are billable.
    pub free_changes_per_month: u32,
}

impl Default for DomainSettings {
    fn default() -> Self {
        Self {
            reopen_window: Duration::days(7),
            max_attachment_bytes: 10 * 1024 * 1024,
            free_changes_per_month: DEFAULT_FREE_CHANGES_PER_MONTH,
        }
    }
}

/// Everything a command handler may consult besides its own aggregate.
#[derive(Clone)]
pub struct Services {
    pub clock: Arc<dyn Clock>,
    pub contracts: Arc<dyn ContractFacts>,
    pub identities: Arc<dyn IdentityDirectory>,
    pub policies: Arc<dyn PolicyBook>,
    pub changes_on_asset: Arc<dyn ChangesOnAsset>,
    pub submitted_changes: Arc<dyn SubmittedChanges>,
    pub order_references: Arc<dyn OrderReferences>,
    pub change_catalogue: Arc<ChangeCatalogue>,
    pub service_catalogue: Arc<ServiceCatalogue>,
    pub settings: DomainSettings,
}

impl Services {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
