//! In-memory implementations of the ports, for tests of this crate and of the crates above
//! it. Nothing here touches storage or the wall clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use sablier_sla::Tier;

use crate::change::ChangeCatalogue;
use crate::clock::FixedClock;
use crate::contract::Offer;
use crate::ids::{ChangeId, ContractId};
use crate::month::YearMonth;
use crate::order::ServiceCatalogue;
use crate::services::{
    ChangesOnAsset, ContractAt, ContractFacts, DomainSettings, IdentityDirectory, OrderReferences,
    PortError, Services, StaticPolicyBook, SubmittedChanges,
};
use crate::text::{AssetRef, Email, Login, Title};

/// From each instant on, the tier in force.
type TierTimeline = Vec<(DateTime<Utc>, Tier)>;

/// Contracts known to the fakes, with their tier timeline.
#[derive(Default)]
pub struct InMemoryContracts {
    contracts: Mutex<HashMap<ContractId, (ContractAt, TierTimeline)>>,
}

impl InMemoryContracts {
    pub fn insert(&self, contract: ContractAt) {
        let tier = contract.tier;
        self.contracts.lock().unwrap().insert(
            contract.id.clone(),
            (contract, vec![(DateTime::<Utc>::MIN_UTC, tier)]),
        );
    }

    /// From `from` on, the contract's SLA tier is `tier`.
    pub fn set_tier_from(&self, id: &ContractId, from: DateTime<Utc>, tier: Tier) {
        let mut contracts = self.contracts.lock().unwrap();
        let (_, timeline) = contracts.get_mut(id).expect("a known contract");
        timeline.push((from, tier));
        timeline.sort_by_key(|(from, _)| *from);
    }
}

#[async_trait]
impl ContractFacts for InMemoryContracts {
    async fn contract_at(
        &self,
        id: &ContractId,
        at: DateTime<Utc>,
    ) -> Result<Option<ContractAt>, PortError> {
        let contracts = self.contracts.lock().unwrap();
        Ok(contracts.get(id).map(|(contract, timeline)| {
            let tier = timeline
                .iter()
                .rev()
                .find(|(from, _)| *from <= at)
                .map(|(_, tier)| *tier)
                .unwrap_or(contract.tier);
            ContractAt {
                tier,
                ..contract.clone()
            }
        }))
    }
}

#[derive(Default)]
pub struct InMemoryIdentities {
    by_email: Mutex<HashMap<Email, Login>>,
}

impl InMemoryIdentities {
    pub fn insert(&self, email: Email, login: Login) {
        self.by_email.lock().unwrap().insert(email, login);
    }
}

#[async_trait]
impl IdentityDirectory for InMemoryIdentities {
    async fn login_for_email(&self, email: &Email) -> Result<Option<Login>, PortError> {
        Ok(self.by_email.lock().unwrap().get(email).cloned())
    }

    async fn email_for_login(&self, login: &Login) -> Result<Option<Email>, PortError> {
        Ok(self
            .by_email
            .lock()
            .unwrap()
            .iter()
            .find(|(_, known)| *known == login)
            .map(|(email, _)| email.clone()))
    }
}

#[derive(Default)]
pub struct InMemoryChangesOnAsset {
    unfinished: Mutex<Vec<(ContractId, AssetRef, ChangeId)>>,
}

impl InMemoryChangesOnAsset {
    pub fn insert(&self, contract: ContractId, asset: AssetRef, change: ChangeId) {
        self.unfinished
            .lock()
            .unwrap()
            .push((contract, asset, change));
    }
}

#[async_trait]
impl ChangesOnAsset for InMemoryChangesOnAsset {
    async fn unfinished_changes(
        &self,
        contract: &ContractId,
        asset: &AssetRef,
    ) -> Result<Vec<ChangeId>, PortError> {
        Ok(self
            .unfinished
            .lock()
            .unwrap()
            .iter()
            .filter(|(c, a, _)| c == contract && a == asset)
            .map(|(_, _, id)| id.clone())
            .collect())
    }
}

/// Submissions the fakes know of: (contract, instant).
#[derive(Default)]
pub struct InMemorySubmittedChanges {
    submitted: Mutex<Vec<(ContractId, DateTime<Utc>)>>,
}

impl InMemorySubmittedChanges {
    pub fn record(&self, contract: &ContractId, at: DateTime<Utc>) {
        self.submitted.lock().unwrap().push((contract.clone(), at));
    }
}

#[async_trait]
impl SubmittedChanges for InMemorySubmittedChanges {
    async fn submitted_between(
        &self,
        contract: &ContractId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<u32, PortError> {
        let submitted = self.submitted.lock().unwrap();
        let count = submitted
            .iter()
            .filter(|(c, at)| c == contract && (from..until).contains(at))
            .count();
        Ok(u32::try_from(count).expect("fewer than 2^32 submissions"))
    }
}

#[derive(Default)]
pub struct InMemoryOrderReferences {
    last: Mutex<HashMap<(ContractId, YearMonth), u32>>,
}

#[async_trait]
impl OrderReferences for InMemoryOrderReferences {
    async fn next_sequence(
        &self,
        contract: &ContractId,
        month: YearMonth,
    ) -> Result<u32, PortError> {
        let mut last = self.last.lock().unwrap();
        let sequence = last.entry((contract.clone(), month)).or_insert(0);
        *sequence += 1;
        Ok(*sequence)
    }
}

/// Services backed by the in-memory fakes, with handles to arrange them.
pub struct TestServices {
    pub services: Services,
    pub clock: FixedClock,
    pub contracts: Arc<InMemoryContracts>,
    pub identities: Arc<InMemoryIdentities>,
    pub changes_on_asset: Arc<InMemoryChangesOnAsset>,
    pub submitted_changes: Arc<InMemorySubmittedChanges>,
}

impl TestServices {
    /// Fakes holding one Gold contract [`contract_id`] in Europe/Paris, with the clock at `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        let clock = FixedClock::at(now);
        let contracts = Arc::new(InMemoryContracts::default());
        contracts.insert(gold_contract());
        let identities = Arc::new(InMemoryIdentities::default());
        let changes_on_asset = Arc::new(InMemoryChangesOnAsset::default());
        let submitted_changes = Arc::new(InMemorySubmittedChanges::default());
        let services = Services {
            clock: Arc::new(clock.clone()),
            contracts: contracts.clone(),
            identities: identities.clone(),
            policies: Arc::new(StaticPolicyBook::default()),
            changes_on_asset: changes_on_asset.clone(),
            submitted_changes: submitted_changes.clone(),
            order_references: Arc::new(InMemoryOrderReferences::default()),
            change_catalogue: Arc::new(ChangeCatalogue::default()),
            service_catalogue: Arc::new(ServiceCatalogue::default()),
            settings: DomainSettings::default(),
        };
        Self {
            services,
            clock,
            contracts,
            identities,
            changes_on_asset,
            submitted_changes,
        }
    }
}

/// The contract the fakes know: `OCB0000124`, "SI_Prod", Gold, Europe/Paris.
pub fn contract_id() -> ContractId {
    ContractId::parse("OCB0000124").unwrap()
}

pub fn gold_contract() -> ContractAt {
    ContractAt {
        id: contract_id(),
        name: Title::parse("SI_Prod").unwrap(),
        offer: Offer::FlexibleComputingAdvanced,
        time_zone: Paris,
        tier: Tier::Gold,
    }
}

/// `Utc.with_ymd_and_hms(...)` without the noise.
pub fn utc(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, minute, second)
        .unwrap()
}
