//! The domain's ports, answered from the event log.
//!
//! What a decision reads through them is recorded in its [`crate::read_set`], and its
//! append is conditioned on it. So [`LogContractFacts`] may keep contracts in memory
//! between commands (up to 50,000): opening an incident then costs one round trip, and a
//! stale copy costs one more decision, never a wrong answer ([`crate::commands`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::EventStore;
use cqrs_es::persist::PersistedEventStore;
use sablier_domain::change::{Change, ChangeCatalogue};
use sablier_domain::contract::Contract;
use sablier_domain::order::ServiceCatalogue;
use sablier_domain::services::{
    ChangesOnAsset, ContractAt, ContractFacts, DomainSettings, IdentityDirectory, OrderReferences,
    PolicyBook, Port, PortError, SubmittedChanges,
};
use sablier_domain::text::{AssetRef, Email, Login};
use sablier_domain::{ChangeId, Clock, ContractId, Services, YearMonth};

use crate::database::Database;
use crate::event_log::EventLog;
use crate::read_set::{self, StreamRead};

/// Turns what failed under `port` into its [`PortError`].
fn failed<E>(port: Port) -> impl Fn(E) -> PortError
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |cause| PortError::new(port, cause)
}

/// Contracts as their own event streams say they stood at an instant.
///
/// While a command decides, a contract read earlier is answered from memory: the
/// command's append is conditioned on the contract's stream not having grown since
/// ([`crate::read_set`]), so a stale copy costs one more decision, never a wrong answer.
/// Outside a command, and when the command asks for fresh reads, the stream is read.
pub struct LogContractFacts {
    contracts: PersistedEventStore<EventLog, Contract>,
    cache: Mutex<HashMap<ContractId, CachedContract>>,
}

/// A contract as its stream stood after `sequence` events.
#[derive(Clone)]
struct CachedContract {
    contract: Arc<Contract>,
    sequence: usize,
}

/// Contracts kept in memory at most; past it, the cache starts again empty (a contract
/// costs a few hundred bytes, and a miss one read of its stream).
const CACHED_CONTRACTS: usize = 50_000;

impl LogContractFacts {
    pub fn new(log: &EventLog) -> Self {
        Self {
            contracts: PersistedEventStore::new_event_store(log.clone()),
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<ContractId, CachedContract>> {
        self.cache
            .lock()
            .expect("the contract cache is never poisoned")
    }

    /// The contract from the cache when allowed, else from its stream (then cached).
    async fn contract(&self, id: &ContractId) -> Result<CachedContract, PortError> {
        let cached = if read_set::cache_allowed() {
            self.cache().get(id).cloned()
        } else {
            None
        };
        if let Some(cached) = cached {
            read_set::record(stream_read(id, cached.sequence), true);
            return Ok(cached);
        }
        let context = self
            .contracts
            .load_aggregate(id.as_str())
            .await
            .map_err(failed(Port::ContractFacts))?;
        let read = CachedContract {
            contract: Arc::new(context.aggregate),
            sequence: context.current_sequence,
        };
        read_set::record(stream_read(id, read.sequence), false);
        if read.sequence > 0 {
            let mut cache = self.cache();
            if cache.len() >= CACHED_CONTRACTS && !cache.contains_key(id) {
                cache.clear();
            }
            // A slower reader must not put back an older copy than a faster one's.
            let newer = cache
                .get(id)
                .is_none_or(|cached| cached.sequence <= read.sequence);
            if newer {
                cache.insert(id.clone(), read.clone());
            }
        }
        Ok(read)
    }
}

fn stream_read(id: &ContractId, sequence: usize) -> StreamRead {
    StreamRead {
        aggregate_type: <Contract as cqrs_es::Aggregate>::TYPE.to_owned(),
        aggregate_id: id.as_str().to_owned(),
        sequence: sequence as i64,
    }
}

#[async_trait]
impl ContractFacts for LogContractFacts {
    async fn contract_at(
        &self,
        id: &ContractId,
        at: DateTime<Utc>,
    ) -> Result<Option<ContractAt>, PortError> {
        let read = self.contract(id).await?;
        let contract = &read.contract;
        let (Some(name), Some(offer), Some(time_zone), Some(tier)) = (
            contract.name().cloned(),
            contract.offer(),
            contract.time_zone(),
            contract.tier_at(at),
        ) else {
            return Ok(None);
        };
        Ok(Some(ContractAt {
            id: id.clone(),
            name,
            offer,
            time_zone,
            tier,
        }))
    }
}

/// Identities (email ↔ login) declared on any contract.
pub struct LogIdentities {
    log: EventLog,
}

const IDENTITIES_SQLITE: &str = "
SELECT login, email FROM (
  SELECT json_extract(payload, '$.UserDeclared.user.login') AS login,
         json_extract(payload, '$.UserDeclared.user.email') AS email, position
    FROM events WHERE aggregate_type = 'Contract' AND event_type = 'UserDeclared'
  UNION ALL
  SELECT json_extract(payload, '$.ContractCreated.referent.login'),
         json_extract(payload, '$.ContractCreated.referent.email'), position
    FROM events WHERE aggregate_type = 'Contract' AND event_type = 'ContractCreated'
) WHERE {column} = ?1 ORDER BY position LIMIT 1";

const IDENTITIES_POSTGRES: &str = "
SELECT login, email FROM (
  SELECT payload->'UserDeclared'->'user'->>'login' AS login,
         payload->'UserDeclared'->'user'->>'email' AS email, position
    FROM events WHERE aggregate_type = 'Contract' AND event_type = 'UserDeclared'
  UNION ALL
  SELECT payload->'ContractCreated'->'referent'->>'login',
         payload->'ContractCreated'->'referent'->>'email', position
    FROM events WHERE aggregate_type = 'Contract' AND event_type = 'ContractCreated'
) AS identities WHERE {column} = $1 ORDER BY position LIMIT 1";

impl LogIdentities {
    pub fn new(log: &EventLog) -> Self {
        Self { log: log.clone() }
    }

    async fn find(&self, column: &str, value: &str) -> Result<Option<(String, String)>, PortError> {
        let found = match self.log.database() {
            Database::Sqlite(pool) => {
                sqlx::query_as(&IDENTITIES_SQLITE.replace("{column}", column))
                    .bind(value)
                    .fetch_optional(pool)
                    .await
            }
            Database::Postgres(pool) => {
                sqlx::query_as(&IDENTITIES_POSTGRES.replace("{column}", column))
                    .bind(value)
                    .fetch_optional(pool)
                    .await
            }
        };
        found.map_err(failed(Port::IdentityDirectory))
    }
}

#[async_trait]
impl IdentityDirectory for LogIdentities {
    async fn login_for_email(&self, email: &Email) -> Result<Option<Login>, PortError> {
        match self.find("email", email.as_str()).await? {
            Some((login, _)) => Login::parse(login)
                .map(Some)
                .map_err(failed(Port::IdentityDirectory)),
            None => Ok(None),
        }
    }

    async fn email_for_login(&self, login: &Login) -> Result<Option<Email>, PortError> {
        match self.find("login", login.as_str()).await? {
            Some((_, email)) => Email::parse(email)
                .map(Some)
                .map_err(failed(Port::IdentityDirectory)),
            None => Ok(None),
        }
    }
}

/// Order reference sequences from a counter table: unique, never reused.
pub struct CounterOrderReferences {
    log: EventLog,
}

impl CounterOrderReferences {
    pub fn new(log: &EventLog) -> Self {
        Self { log: log.clone() }
    }
}

const NEXT_ORDER_SEQUENCE: &str = "
INSERT INTO order_reference_counters (contract_id, month, last_sequence) VALUES ($1, $2, 1)
ON CONFLICT (contract_id, month)
DO UPDATE SET last_sequence = order_reference_counters.last_sequence + 1
RETURNING last_sequence";

#[async_trait]
impl OrderReferences for CounterOrderReferences {
    async fn next_sequence(
        &self,
        contract: &ContractId,
        month: YearMonth,
    ) -> Result<u32, PortError> {
        let sequence: Result<i64, sqlx::Error> = match self.log.database() {
            Database::Sqlite(pool) => {
                let _writer = self.log.sqlite_writer().lock().await;
                sqlx::query_scalar(NEXT_ORDER_SEQUENCE)
                    .bind(contract.as_str())
                    .bind(month.to_string())
                    .fetch_one(pool)
                    .await
            }
            Database::Postgres(pool) => {
                sqlx::query_scalar(NEXT_ORDER_SEQUENCE)
                    .bind(contract.as_str())
                    .bind(month.to_string())
                    .fetch_one(pool)
                    .await
            }
        };
        let sequence = sequence.map_err(failed(Port::OrderReferences))?;
        u32::try_from(sequence).map_err(failed(Port::OrderReferences))
    }
}

/// Unfinished changes on an asset: submitted, and not yet completed, cancelled or rejected.
pub struct LogChangesOnAsset {
    log: EventLog,
}

impl LogChangesOnAsset {
    pub fn new(log: &EventLog) -> Self {
        Self { log: log.clone() }
    }
}

#[async_trait]
impl ChangesOnAsset for LogChangesOnAsset {
    async fn unfinished_changes(
        &self,
        contract: &ContractId,
        asset: &AssetRef,
    ) -> Result<Vec<ChangeId>, PortError> {
        let ids: Result<Vec<String>, sqlx::Error> = match self.log.database() {
            Database::Sqlite(pool) => {
                sqlx::query_scalar(&unfinished_changes_sql(
                    "json_extract(s.payload, '$.ChangeSubmitted.contract')",
                    "json_extract(s.payload, '$.ChangeSubmitted.asset')",
                    "?1",
                    "?2",
                ))
                .bind(contract.as_str())
                .bind(asset.as_str())
                .fetch_all(pool)
                .await
            }
            Database::Postgres(pool) => {
                sqlx::query_scalar(&unfinished_changes_sql(
                    "s.payload->'ChangeSubmitted'->>'contract'",
                    "s.payload->'ChangeSubmitted'->>'asset'",
                    "$1",
                    "$2",
                ))
                .bind(contract.as_str())
                .bind(asset.as_str())
                .fetch_all(pool)
                .await
            }
        };
        ids.map_err(failed(Port::ChangesOnAsset))?
            .into_iter()
            .map(|id| ChangeId::parse(id).map_err(failed(Port::ChangesOnAsset)))
            .collect()
    }
}

/// Events after which a change is over: no more work will be done on its asset.
const FINISHED_CHANGE_EVENTS: [&str; 4] = [
    "ChangeCompleted",
    "ChangeCancelled",
    "ChangeRejected",
    "ChangeQuoteDeclined",
];

fn unfinished_changes_sql(contract: &str, asset: &str, first: &str, second: &str) -> String {
    let change = <Change as cqrs_es::Aggregate>::TYPE;
    let finished = FINISHED_CHANGE_EVENTS
        .iter()
        .map(|name| format!("'{name}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT DISTINCT s.aggregate_id FROM events s
          WHERE s.aggregate_type = '{change}' AND s.event_type = 'ChangeSubmitted'
            AND {contract} = {first} AND {asset} = {second}
            AND NOT EXISTS (SELECT 1 FROM events t
                             WHERE t.aggregate_type = s.aggregate_type
                               AND t.aggregate_id = s.aggregate_id
                               AND t.event_type IN ({finished}))
          ORDER BY s.aggregate_id"
    )
}

/// Changes a contract submitted in a span, counted in the log (what ranks a submission in
/// its month). Two submissions of one contract decided at the same moment may count the
/// same earlier ones, and so share a rank: the count is not part of a command's read set.
pub struct LogSubmittedChanges {
    log: EventLog,
}

impl LogSubmittedChanges {
    pub fn new(log: &EventLog) -> Self {
        Self { log: log.clone() }
    }
}

#[async_trait]
impl SubmittedChanges for LogSubmittedChanges {
    async fn submitted_between(
        &self,
        contract: &ContractId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<u32, PortError> {
        // Instants are stored RFC 3339 in UTC with whole seconds, which sorts as text.
        let text = |at: DateTime<Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let count: Result<i64, sqlx::Error> = match self.log.database() {
            Database::Sqlite(pool) => {
                sqlx::query_scalar(&submitted_between_sql(
                    "json_extract(payload, '$.ChangeSubmitted.contract')",
                    "json_extract(payload, '$.ChangeSubmitted.at')",
                    ["?1", "?2", "?3"],
                ))
                .bind(contract.as_str())
                .bind(text(from))
                .bind(text(until))
                .fetch_one(pool)
                .await
            }
            Database::Postgres(pool) => {
                sqlx::query_scalar(&submitted_between_sql(
                    "payload->'ChangeSubmitted'->>'contract'",
                    "payload->'ChangeSubmitted'->>'at'",
                    ["$1", "$2", "$3"],
                ))
                .bind(contract.as_str())
                .bind(text(from))
                .bind(text(until))
                .fetch_one(pool)
                .await
            }
        };
        u32::try_from(count.map_err(failed(Port::SubmittedChanges))?)
            .map_err(failed(Port::SubmittedChanges))
    }
}

fn submitted_between_sql(contract: &str, at: &str, [id, from, until]: [&str; 3]) -> String {
    let change = <Change as cqrs_es::Aggregate>::TYPE;
    format!(
        "SELECT count(*) FROM events
          WHERE aggregate_type = '{change}' AND event_type = 'ChangeSubmitted'
            AND {contract} = {id} AND {at} >= {from} AND {at} < {until}"
    )
}

/// The domain's services, every port answered from `log`.
pub fn services(
    log: &EventLog,
    clock: Arc<dyn Clock>,
    policies: Arc<dyn PolicyBook>,
    settings: DomainSettings,
) -> Services {
    Services {
        clock,
        contracts: Arc::new(LogContractFacts::new(log)),
        identities: Arc::new(LogIdentities::new(log)),
        policies,
        changes_on_asset: Arc::new(LogChangesOnAsset::new(log)),
        submitted_changes: Arc::new(LogSubmittedChanges::new(log)),
        order_references: Arc::new(CounterOrderReferences::new(log)),
        change_catalogue: Arc::new(ChangeCatalogue::default()),
        service_catalogue: Arc::new(ServiceCatalogue::default()),
        settings,
    }
}
