//! Executing a command against an aggregate: load its stream, let it decide, append what it
//! decided. An optimistic-lock conflict (another command appended first) is retried from
//! the reload, a bounded number of times with jittered backoff; a command that still
//! conflicts fails with [`CommandError::Conflict`], which callers may retry later.
//!
//! A command that creates its aggregate ([`Creating`]) skips the load: its stream should
//! be empty, and the append at sequence 1 conflicts if it is not. Only an accepted
//! decision is kept from that guess: a refusal, or a decision with no event, is made again
//! on the stored stream, so the answer is always the stored stream's.
//!
//! Nothing is appended whose stored form does not read back as the same event
//! ([`CommandError::Unstorable`], naming the field): what the log could not give back is
//! never acknowledged.
//!
//! What the decision read of other aggregates through the ports (its [`read_set`]) is
//! checked by the append: the ports may answer from their caches, and a stale answer
//! costs one more decision, on facts read afresh; so does a refusal or a decision with no
//! event made on cached facts, so no answer rests on a cache.
//!
//! [`CommandBus::execute_on`] lets the caller make the command from the aggregate as it
//! is loaded for the decision, or refuse: the API checks a caller's right there, on the
//! state the command is decided on, so a command loads its aggregate once.
//!
//! Within one process, commands on the same aggregate queue on a per-aggregate lock rather
//! than race: a hot aggregate then costs one load per command instead of one per lost
//! race. Conflicts still come from other processes and are retried as above.
//!
//! cqrs-es's `CqrsFramework` is not used: it cannot report the global positions written,
//! and its in-process query dispatch loses updates when the process dies after a commit.
//! Projections read the global feed instead.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{PersistedEventStore, SerializedEvent};
use cqrs_es::{Aggregate, AggregateError, DomainEvent, EventStore};
use rand::Rng;
use sablier_domain::{CommandContext, Creating};
use tracing::{Instrument, debug, info_span};

use crate::error::StoreError;
use crate::event_log::EventLog;
use crate::read_set;

/// How hard to try before giving a conflict back to the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Each round of contending commands lets at least one through, so 64 attempts cover
    /// 64 simultaneous commands on one aggregate even in the worst interleaving.
    fn default() -> Self {
        Self {
            max_attempts: 64,
            first_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(50),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .first_backoff
            .saturating_mul(1 << attempt.min(16))
            .min(self.max_backoff);
        let millis = ceiling.as_micros().max(1) as u64;
        Duration::from_micros(rand::thread_rng().gen_range(0..=millis))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error> {
    /// The aggregate refused the command: nothing was written.
    #[error(transparent)]
    Rejected(E),
    /// Other commands kept winning the race for this aggregate: nothing was written.
    #[error(
        "{aggregate_type} {aggregate_id} is busy: the command conflicted {attempts} times; retry later"
    )]
    Conflict {
        aggregate_type: &'static str,
        aggregate_id: String,
        attempts: u32,
    },
    /// An event decided holds a value its stored form does not give back (a date or an
    /// amount the stored form cannot carry): nothing was written. `field` is the event's
    /// field at fault, as a path in its stored form.
    #[error("{event_type} cannot be stored as decided: {field}: {reason}")]
    Unstorable {
        event_type: String,
        field: String,
        reason: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a successful command wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Committed<E> {
    pub events: Vec<E>,
    /// The global position of each event, in order.
    pub positions: Vec<i64>,
}

impl<E> Committed<E> {
    /// The position of the last event written (`None` if the command changed nothing).
    pub fn last_position(&self) -> Option<i64> {
        self.positions.last().copied()
    }
}

/// Checks that `event`'s stored form reads back as the same event, so that nothing is
/// acknowledged that the log could not give back (to the aggregate, the projections, the
/// tools): a value its serialized form cannot carry is refused here, whatever field it
/// comes in.
fn reads_back<E: DomainEvent, R: std::error::Error>(event: &E) -> Result<(), CommandError<R>> {
    let unstorable = |field: String, reason: String| CommandError::Unstorable {
        event_type: event.event_type(),
        field,
        reason,
    };
    let stored = serde_json::to_string(event)
        .map_err(|error| unstorable(String::new(), format!("it cannot be serialized: {error}")))?;
    let mut deserializer = serde_json::Deserializer::from_str(&stored);
    match serde_path_to_error::deserialize::<_, E>(&mut deserializer) {
        Ok(read) if read == *event => Ok(()),
        Ok(_) => Err(unstorable(
            String::new(),
            "its stored form reads back as another event".to_owned(),
        )),
        Err(error) => {
            let field = error
                .path()
                .iter()
                .skip(1)
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(".");
            Err(unstorable(field, error.into_inner().to_string()))
        }
    }
}

/// One async lock per aggregate id with commands in flight; entries go when unused.
#[derive(Default)]
struct AggregateLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl AggregateLocks {
    fn lock_for(&self, aggregate_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().expect("aggregate locks poisoned");
        locks.entry(aggregate_id.to_owned()).or_default().clone()
    }

    fn release(&self, aggregate_id: &str, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut locks = self.locks.lock().expect("aggregate locks poisoned");
        drop(lock);
        if locks
            .get(aggregate_id)
            .is_some_and(|held| Arc::strong_count(held) == 1)
        {
            locks.remove(aggregate_id);
        }
    }
}

/// Executes the commands of one aggregate type against the event log.
pub struct CommandBus<A: Aggregate> {
    log: EventLog,
    store: PersistedEventStore<EventLog, A>,
    services: A::Services,
    retry: RetryPolicy,
    in_flight: AggregateLocks,
}

impl<A> CommandBus<A>
where
    A: Aggregate,
    A::Command: Clone + Creating,
{
    pub fn new(log: EventLog, services: A::Services) -> Self {
        Self {
            store: PersistedEventStore::new_event_store(log.clone()),
            log,
            services,
            retry: RetryPolicy::default(),
            in_flight: AggregateLocks::default(),
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Loads the aggregate as the log has it now.
    pub async fn load(&self, aggregate_id: &str) -> Result<(A, usize), StoreError> {
        let context = self
            .store
            .load_aggregate(aggregate_id)
            .await
            .map_err(load_error)?;
        Ok((context.aggregate, context.current_sequence))
    }

    pub async fn execute(
        &self,
        aggregate_id: &str,
        command: A::Command,
        context: &CommandContext,
    ) -> Result<Committed<A::Event>, CommandError<A::Error>> {
        let creates = command.creates();
        let prepare = |_: &A| std::future::ready(Ok::<_, Infallible>(command.clone()));
        let work = self.execute_with_retries(aggregate_id, creates, prepare, context);
        let executed = self.queued(aggregate_id, context, work).await?;
        Ok(executed.unwrap_or_else(|never| match never {}))
    }

    /// Executes the command `prepare` makes from the aggregate as loaded for this decision,
    /// or writes nothing and answers `Ok(Err(refusal))` when `prepare` refuses. The caller
    /// checks what it must on the very state the command is decided on (its right, say),
    /// without a load of its own; `prepare` runs again on each reload after a conflict.
    pub async fn execute_on<F, Fut, R>(
        &self,
        aggregate_id: &str,
        prepare: F,
        context: &CommandContext,
    ) -> Result<Result<Committed<A::Event>, R>, CommandError<A::Error>>
    where
        F: Fn(&A) -> Fut,
        Fut: Future<Output = Result<A::Command, R>>,
    {
        let work = self.execute_with_retries(aggregate_id, false, prepare, context);
        self.queued(aggregate_id, context, work).await
    }

    /// Runs `work`, one command on `aggregate_id`, queued behind the others on it in this
    /// process and within the command's span.
    async fn queued<T>(
        &self,
        aggregate_id: &str,
        context: &CommandContext,
        work: impl Future<Output = T>,
    ) -> T {
        let span = info_span!(
            "command",
            aggregate = A::TYPE,
            aggregate_id,
            request_id = %context.request_id,
            actor = %context.actor.login,
        );
        let lock = self.in_flight.lock_for(aggregate_id);
        let result = {
            let _turn = lock.lock().await;
            work.instrument(span).await
        };
        self.in_flight.release(aggregate_id, lock);
        result
    }

    async fn execute_with_retries<F, Fut, R>(
        &self,
        aggregate_id: &str,
        creates: bool,
        prepare: F,
        context: &CommandContext,
    ) -> Result<Result<Committed<A::Event>, R>, CommandError<A::Error>>
    where
        F: Fn(&A) -> Fut,
        Fut: Future<Output = Result<A::Command, R>>,
    {
        let metadata = serde_json::to_value(context.to_metadata()).map_err(StoreError::from)?;
        let mut attempt = Attempt {
            guess_empty: creates,
            fresh_reads: false,
            number: 1,
        };
        loop {
            let decision = match self.decide(aggregate_id, &prepare, &attempt).await? {
                Ok(decision) => decision,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let guessed = attempt.guess_empty || decision.read_set.from_cache;
            if guessed && (decision.decided.is_err() || decision.events.is_empty()) {
                attempt.guess_empty = false;
                attempt.fresh_reads = true;
                continue;
            }
            decision.decided.map_err(CommandError::Rejected)?;
            let events = decision.events;
            if events.is_empty() {
                return Ok(Ok(Committed {
                    events,
                    positions: Vec::new(),
                }));
            }
            for event in &events {
                reads_back(event)?;
            }
            let serialized =
                serialized::<A>(aggregate_id, decision.current_sequence, &events, &metadata)?;
            match self
                .log
                .append_checked(&serialized, &decision.read_set.reads)
                .await
            {
                Ok(positions) => return Ok(Ok(Committed { events, positions })),
                Err(error) => self.lost_race(aggregate_id, error, &mut attempt).await?,
            }
        }
    }

    /// Lets the aggregate decide on the command `prepare` makes from it (or refuses):
    /// against the empty aggregate when the attempt guesses its stream is empty, otherwise
    /// on the stream loaded now.
    async fn decide<F, Fut, R>(
        &self,
        aggregate_id: &str,
        prepare: &F,
        attempt: &Attempt,
    ) -> Result<Result<Decision<A>, R>, CommandError<A::Error>>
    where
        F: Fn(&A) -> Fut,
        Fut: Future<Output = Result<A::Command, R>>,
    {
        let (mut aggregate, current_sequence) = if attempt.guess_empty {
            (A::default(), 0)
        } else {
            self.load(aggregate_id).await?
        };
        let command = match prepare(&aggregate).await {
            Ok(command) => command,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let sink = EventSink::<A>::default();
        let (decided, read_set) = read_set::recording(
            attempt.fresh_reads,
            aggregate.handle(command, &self.services, &sink),
        )
        .await;
        Ok(Ok(Decision {
            decided,
            events: sink.collect().await,
            read_set,
            current_sequence,
        }))
    }

    /// After an append that was not written: `Ok` to decide again (after a backoff when
    /// another command won the race), or the error to give the caller.
    async fn lost_race(
        &self,
        aggregate_id: &str,
        error: StoreError,
        attempt: &mut Attempt,
    ) -> Result<(), CommandError<A::Error>> {
        match error {
            StoreError::Stale { .. } if !attempt.fresh_reads => {
                debug!("a stream the decision read has grown; deciding on it read afresh");
                attempt.fresh_reads = true;
            }
            error if error.is_conflict() && attempt.guess_empty => {
                debug!("the stream of a creating command exists; deciding on it");
                attempt.guess_empty = false;
            }
            error if error.is_conflict() => {
                debug!(
                    attempt = attempt.number,
                    "optimistic lock conflict; reloading"
                );
                if attempt.number == self.retry.max_attempts {
                    return Err(CommandError::Conflict {
                        aggregate_type: A::TYPE,
                        aggregate_id: aggregate_id.to_owned(),
                        attempts: self.retry.max_attempts,
                    });
                }
                tokio::time::sleep(self.retry.backoff(attempt.number)).await;
                attempt.number += 1;
            }
            error => return Err(error.into()),
        }
        Ok(())
    }
}

/// Where the retries of one command stand.
struct Attempt {
    /// A creating command is first decided against the empty aggregate, without reading
    /// its stream, which should not exist yet. Only an accepted decision appended at
    /// sequence 1 is kept from that guess: if the stream exists the append conflicts, and
    /// a rejection or a decision with no event is made again on the stored stream, so the
    /// answer is always the one the stored stream gives.
    guess_empty: bool,
    /// Likewise, the ports may answer from their caches; the append checks what they
    /// answered, and a refusal or a decision with no event is made again on facts read
    /// afresh, so no answer rests on a cache.
    fresh_reads: bool,
    /// Counts the optimistic-lock conflicts, from 1.
    number: u32,
}

/// What one decision gave: the aggregate's answer, the events it decided, what it read
/// through the ports, and the sequence of the stream it decided on.
struct Decision<A: Aggregate> {
    decided: Result<(), A::Error>,
    events: Vec<A::Event>,
    read_set: read_set::ReadSet,
    current_sequence: usize,
}

/// `events` in their stored form, numbered from `current_sequence + 1`.
fn serialized<A: Aggregate>(
    aggregate_id: &str,
    current_sequence: usize,
    events: &[A::Event],
    metadata: &serde_json::Value,
) -> Result<Vec<SerializedEvent>, StoreError> {
    events
        .iter()
        .enumerate()
        .map(|(offset, event)| {
            Ok(SerializedEvent::new(
                aggregate_id.to_owned(),
                current_sequence + offset + 1,
                A::TYPE.to_owned(),
                event.event_type(),
                event.event_version(),
                serde_json::to_value(event)?,
                metadata.clone(),
            ))
        })
        .collect::<Result<Vec<_>, serde_json::Error>>()
        .map_err(StoreError::from)
}

fn load_error<E: std::error::Error>(error: AggregateError<E>) -> StoreError {
    let source = match error {
        AggregateError::DatabaseConnectionError(source)
        | AggregateError::DeserializationError(source)
        | AggregateError::UnexpectedError(source) => Some(source),
        AggregateError::AggregateConflict | AggregateError::UserError(_) => None,
    };
    StoreError::LoadFailed { source }
}
