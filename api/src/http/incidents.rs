//! Incident routes: open one, walk it through its lifecycle, read it with live timers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sablier_domain::incident::{IncidentCommand, PauseReason};
use sablier_domain::text::{FreeText, IncidentComment, Login, Title};
use sablier_domain::{Authored, ContractId, IncidentId};
use sablier_sla::Priority;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::auth::{Caller, Need};
use crate::http::bodies::Empty;
use crate::http::command::{self, Answered, CommandAnswer, action_route};
use crate::http::extract::{Body, Path, Query};
use crate::http::fields;
use crate::http::problem::Problem;
use crate::http::reads::{self, AsOf};
use crate::http::schema;
use crate::http::state::AppState;
use crate::http::views::RequestDetail;
use sablier_projections::request_list::RequestKind;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenIncident {
    #[schema(value_type = schema::ContractId)]
    pub contract_id: String,
    /// `P1` service down, `P2` degraded, `P3` minor, `P4` information request.
    #[schema(value_type = schema::Priority)]
    pub priority: String,
    #[schema(value_type = schema::Title)]
    pub title: String,
    #[schema(value_type = schema::FreeText)]
    pub description: String,
    /// Staff opening the ticket for a customer (by phone): the login of a user declared
    /// on the contract who may open incidents there (visitor or manager on Support).
    #[serde(default)]
    #[schema(value_type = Option<schema::Login>)]
    pub on_behalf_of: Option<String>,
}

/// Opens an incident. Its SLA clocks start now, pinned to the contract's tier and policy.
#[utoipa::path(post, path = "/v1/incidents", tag = "incidents", request_body = OpenIncident,
    responses((status = 201, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn open(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<OpenIncident>,
) -> Result<Answered, Problem> {
    let contract_id = fields::parse("contract_id", &body.contract_id, ContractId::parse)?;
    let mut caller = caller.authorize_on(contract_id.as_str(), "contract")?;
    let on_behalf_of =
        fields::parse_optional("on_behalf_of", body.on_behalf_of.as_deref(), Login::parse)?;
    if let Some(login) = on_behalf_of {
        caller.require_staff("open an incident on behalf of a customer")?;
        caller = caller
            .on_behalf_of(
                &state,
                login,
                contract_id.as_str(),
                Need::ActOnSupport,
                "on_behalf_of",
            )
            .await?;
    }
    let incident_id = IncidentId::generate();
    let command = IncidentCommand::Open {
        incident_id: incident_id.clone(),
        contract_id,
        priority: fields::term::<Priority>("priority", &body.priority)?,
        title: fields::parse("title", &body.title, Title::parse)?,
        description: fields::parse("description", &body.description, FreeText::parse)?,
    };
    let (answer, _) = command::execute(
        &state,
        &state.engine.incidents,
        &caller,
        incident_id.as_str(),
        Authored::new(caller.actor.clone(), command),
    )
    .await?;
    Ok(Answered {
        status: StatusCode::CREATED,
        answer,
    })
}

/// The incident with its GTI, GTD and GTR clocks as of now (or `as_of`).
#[utoipa::path(get, path = "/v1/incidents/{incident_id}", tag = "incidents",
    params(("incident_id" = String, Path), AsOf),
    responses((status = 200, body = RequestDetail), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(incident_id): Path<String>,
    Query(as_of): Query<AsOf>,
) -> Result<Json<RequestDetail>, Problem> {
    reads::detail(&state, &caller, &incident_id, RequestKind::Incident, as_of)
        .await
        .map(Json)
}

/// Runs `command` on the incident once the route's right holds on its contract, as the bus
/// loads it (404 if the caller may not see it).
async fn act(
    state: &AppState,
    caller: &Caller,
    incident_id: &str,
    command: IncidentCommand,
) -> Result<Answered, Problem> {
    let id = IncidentId::parse(incident_id).map_err(|_| Problem::not_found("incident"))?;
    command::act_on_contract(
        state,
        &state.engine.incidents,
        caller,
        id.as_str(),
        "incident",
        command,
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwaitCustomer {
    /// Why the clocks pause: a reason code (default `awaiting_customer`).
    #[serde(default)]
    #[schema(value_type = Option<schema::PauseReason>)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithText {
    #[schema(value_type = schema::FreeText)]
    pub text: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    #[schema(value_type = schema::IncidentComment)]
    pub text: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePriority {
    #[schema(value_type = schema::Priority)]
    pub to: String,
    #[schema(value_type = schema::FreeText)]
    pub reason: String,
}

action_route!(
    "incidents", "incident_id", IncidentCommand;
    /// Staff: the first intervention (stops GTI).
    start_intervention, "/v1/incidents/{incident_id}/start-intervention", Empty,
    |_body| IncidentCommand::StartIntervention
);
action_route!(
    "incidents", "incident_id", IncidentCommand;
    /// Staff: waits for the customer; GTD and GTR pause.
    await_customer, "/v1/incidents/{incident_id}/await-customer", AwaitCustomer,
    |body| IncidentCommand::AwaitCustomer {
        reason: match body.reason {
            Some(reason) => fields::parse("reason", &reason, PauseReason::parse)?,
            None => PauseReason::awaiting_customer(),
        },
    }
);
action_route!(
    "incidents", "incident_id", IncidentCommand;
    /// The customer answered: paused clocks resume.
    customer_response, "/v1/incidents/{incident_id}/customer-response", Empty,
    |_body| IncidentCommand::RecordCustomerResponse
);
action_route!(
    "incidents", "incident_id", IncidentCommand;
    /// Staff: shares the diagnosis (the first one stops GTD).
    share_diagnosis, "/v1/incidents/{incident_id}/diagnosis", WithText,
    |body| IncidentCommand::ShareDiagnosis { diagnosis: fields::parse("text", &body.text, FreeText::parse)? }
);
action_route!(
    "incidents", "incident_id", IncidentCommand;
    /// Staff: service restored (stops GTR).
    restore, "/v1/incidents/{incident_id}/restore", WithText,
    |body| IncidentCommand::Restore { resolution: fields::parse("text", &body.text, FreeText::parse)? }
);
action_route!(
    "incidents", "incident_id", IncidentCommand;
    /// Closes a restored incident.
    close, "/v1/incidents/{incident_id}/close", Empty,
    |_body| IncidentCommand::Close
);
action_route!(
    "incidents", "incident_id", IncidentCommand;
    /// Customer, within the reopen window: GTR runs again from the time already counted.
    reopen, "/v1/incidents/{incident_id}/reopen", WithText,
    |body| IncidentCommand::Reopen { reason: fields::parse("text", &body.text, FreeText::parse)? }
);
action_route!(
    "incidents", "incident_id", IncidentCommand;
    /// Staff, with a reason: the targets become the new priority's.
    change_priority, "/v1/incidents/{incident_id}/priority", ChangePriority,
    |body| IncidentCommand::ChangePriority {
        to: fields::term::<Priority>("to", &body.to)?,
        reason: fields::parse("reason", &body.reason, FreeText::parse)?,
    }
);
action_route!(
    "incidents", "incident_id", IncidentCommand;
    /// A comment: never empty, at most 4,000 characters.
    comment, "/v1/incidents/{incident_id}/comments", NewComment,
    |body| IncidentCommand::AddComment { text: fields::parse("text", &body.text, IncidentComment::parse)? }
);
