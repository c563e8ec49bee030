//! Running a command from a handler: execute it on its aggregate's bus, count it, let
//! reads of this server wait for it, and answer with what was written.
//!
//! A command runs only for an [`Authorized`] caller. On an existing object, [`act_on`]
//! applies the route's right inside the bus, to the aggregate as the bus loads it for the
//! decision (`CommandBus::execute_on`): one load per command. The bus records the
//! caller's context before it loads, so the [`Authorized`] caller `prepare` answers with
//! must be that caller, authorized on the loaded object's contract ([`OfContract`]);
//! anything else is a route wired wrong (500, logged), never a command recorded under
//! the wrong caller or contract.
//!
//! What `prepare` does, it does while the bus holds the aggregate's lock (commands on one
//! object queue there) and again after each conflict. Most routes only compare the
//! caller's roles with the object's contract there. A change draft costs more: its
//! visibility needs its author, read from the request list after waiting (up to 5 s) for
//! it to show this server's writes, and a draft's new form has its attachments looked up
//! for the change's contract. Both need the object the bus loads; doing them first would
//! load the change twice, so they stay inside, and only commands on that one change wait
//! for them.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cqrs_es::{Aggregate, DomainEvent};
use sablier_domain::change::Change;
use sablier_domain::incident::Incident;
use sablier_domain::order::Order;
use sablier_domain::{Authored, ContractId, Creating};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::auth::{Authorized, Caller};
use crate::http::problem::Problem;
use crate::http::refusal::Refusal;
use crate::http::state::AppState;
use crate::http::views::ChangeBilling;
use sablier_store::{CommandBus, CommandError, Committed};

/// What a command wrote.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CommandAnswer {
    /// The id of the object the command acted on.
    pub id: String,
    /// The events written, in order (none when the command changed nothing).
    pub events: Vec<WrittenEvent>,
    /// Warnings the command produced (a change submitted on an asset with unfinished
    /// changes lists them here).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// A change submission: whether the change is billable, and at what price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<ChangeBilling>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct WrittenEvent {
    pub event_type: String,
    /// The event's global position in the log.
    pub position: i64,
}

/// An answer with its status (201 for a creation).
pub struct Answered {
    pub status: StatusCode,
    pub answer: CommandAnswer,
}

impl IntoResponse for Answered {
    fn into_response(self) -> Response {
        (self.status, Json(self.answer)).into_response()
    }
}

/// Executes `command` on `bus` for `caller`.
pub async fn execute<A>(
    state: &AppState,
    bus: &CommandBus<A>,
    caller: &Authorized,
    aggregate_id: &str,
    command: A::Command,
) -> Result<(CommandAnswer, Vec<A::Event>), Problem>
where
    A: Aggregate,
    A::Command: Clone + Creating,
    A::Error: Refusal + 'static,
{
    let executed = bus.execute(aggregate_id, command, &caller.context()).await;
    outcome::<A>(state, aggregate_id, executed)
}

/// An aggregate that belongs to one contract once it exists: the contract a right on it is
/// checked on.
pub trait OfContract {
    fn owning_contract(&self) -> Option<&ContractId>;
}

impl OfContract for Incident {
    fn owning_contract(&self) -> Option<&ContractId> {
        self.contract_id()
    }
}

impl OfContract for Change {
    fn owning_contract(&self) -> Option<&ContractId> {
        self.contract()
    }
}

impl OfContract for Order {
    fn owning_contract(&self) -> Option<&ContractId> {
        self.contract()
    }
}

/// Executes on the existing `aggregate_id` the command `prepare` makes from the aggregate
/// as `bus` loads it for the decision. `prepare` applies the caller's right to that state
/// (so it answers with an [`Authorized`] caller, or refuses, and nothing runs) and builds
/// the command; it runs again on each reload after a conflict. The events record
/// `caller`'s context, which the [`Authorized`] caller must carry unchanged, authorized on
/// the aggregate's own contract.
pub async fn act_on<A, F, Fut>(
    state: &AppState,
    bus: &CommandBus<A>,
    caller: &Caller,
    aggregate_id: &str,
    prepare: F,
) -> Result<(CommandAnswer, Vec<A::Event>), Problem>
where
    A: Aggregate + OfContract,
    A::Command: Clone + Creating,
    A::Error: Refusal + 'static,
    F: Fn(&A) -> Fut,
    Fut: Future<Output = Result<(Authorized, A::Command), Problem>>,
{
    let context = caller.context();
    let recorded = &context;
    let prepare = |aggregate: &A| {
        let contract = aggregate.owning_contract().cloned();
        let prepared = prepare(aggregate);
        async move {
            let (authorized, command) = prepared.await?;
            authorized.confirm(recorded, contract.as_ref().map(ContractId::as_str))?;
            Ok::<_, Problem>(command)
        }
    };
    let executed = match bus.execute_on(aggregate_id, prepare, recorded).await {
        Ok(prepared) => Ok(prepared?),
        Err(error) => Err(error),
    };
    outcome::<A>(state, aggregate_id, executed)
}

/// Runs `command` on the existing `aggregate_id` once the route's right holds on its
/// contract, as the bus loads it: 404 naming `what` when it does not exist or the caller
/// may not see it.
pub async fn act_on_contract<A, C>(
    state: &AppState,
    bus: &CommandBus<A>,
    caller: &Caller,
    aggregate_id: &str,
    what: &str,
    command: C,
) -> Result<Answered, Problem>
where
    A: Aggregate<Command = Authored<C>> + OfContract,
    A::Command: Clone + Creating,
    A::Error: Refusal + 'static,
    C: Clone,
{
    let prepare = |aggregate: &A| {
        let prepared = aggregate
            .owning_contract()
            .ok_or_else(|| Problem::not_found(what))
            .and_then(|contract| caller.authorize_on(contract.as_str(), what))
            .map(|authorized| {
                let command = Authored::new(caller.actor.clone(), command.clone());
                (authorized, command)
            });
        std::future::ready(prepared)
    };
    let (answer, _) = act_on(state, bus, caller, aggregate_id, prepare).await?;
    Ok(Answered {
        status: StatusCode::OK,
        answer,
    })
}

/// Counts a command's outcome; for a committed one, lets reads wait for what it wrote and
/// answers with it, else answers with the problem it met.
fn outcome<A>(
    state: &AppState,
    aggregate_id: &str,
    executed: Result<Committed<A::Event>, CommandError<A::Error>>,
) -> Result<(CommandAnswer, Vec<A::Event>), Problem>
where
    A: Aggregate,
    A::Error: Refusal + 'static,
{
    match executed {
        Ok(committed) => {
            state.metrics.record_command(A::TYPE, "committed");
            if committed.last_position().is_some() {
                state.storage.written();
            }
            state.committed(committed.last_position());
            let events = committed
                .events
                .iter()
                .zip(&committed.positions)
                .map(|(event, position)| WrittenEvent {
                    event_type: event.event_type(),
                    position: *position,
                })
                .collect();
            Ok((
                CommandAnswer {
                    id: aggregate_id.to_owned(),
                    events,
                    warnings: Vec::new(),
                    billing: None,
                },
                committed.events,
            ))
        }
        Err(error) => {
            let label = match &error {
                CommandError::Rejected(_) | CommandError::Unstorable { .. } => "rejected",
                CommandError::Conflict { .. } => "conflicted",
                CommandError::Store(_) => "failed",
            };
            state.metrics.record_command(A::TYPE, label);
            Err(error.into())
        }
    }
}

/// The same, answered as 200 OK.
pub async fn answer<A>(
    state: &AppState,
    bus: &CommandBus<A>,
    caller: &Authorized,
    aggregate_id: &str,
    command: A::Command,
) -> Result<Answered, Problem>
where
    A: Aggregate,
    A::Command: Clone + Creating,
    A::Error: Refusal + 'static,
{
    let (answer, _) = execute(state, bus, caller, aggregate_id, command).await?;
    Ok(Answered {
        status: StatusCode::OK,
        answer,
    })
}

/// Defines a `POST` route that turns a body into one command on an existing object and
/// runs it with the calling module's `act(state, caller, id, command)`, with its OpenAPI
/// description. The handler holds a [`Caller`], not an [`Authorized`] one: an `act` that
/// takes it must apply the route's right itself (through [`act_on`] or
/// [`act_on_contract`]), and one that takes
/// an [`Authorized`] caller does not compile here. For example:
/// `action_route!("incidents", "incident_id", IncidentCommand; /// doc
/// name, "/v1/incidents/{incident_id}/close", Empty, |_body| IncidentCommand::Close)`.
macro_rules! action_route {
    ($tag:literal, $id:literal, $command:ty;
     $(#[$doc:meta])* $name:ident, $path:literal, $body:ty, |$b:ident| $make:expr) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = $tag, request_body = $body,
            params(($id = String, Path)),
            responses((status = 200, body = $crate::http::command::CommandAnswer),
                (status = "4XX", body = $crate::http::problem::Problem, content_type = "application/problem+json")),
            security(("bearer" = [])))]
        pub async fn $name(
            axum::extract::State(state): axum::extract::State<$crate::http::state::AppState>,
            caller: $crate::http::auth::Caller,
            $crate::http::extract::Path(id): $crate::http::extract::Path<String>,
            $crate::http::extract::Body($b): $crate::http::extract::Body<$body>,
        ) -> Result<$crate::http::command::Answered, $crate::http::problem::Problem> {
            let command: $command = $make;
            act(&state, &caller, &id, command).await
        }
    };
}
pub(crate) use action_route;
