//! Order routes: place an order (manager on Services; definitive), quote and accept for
//! items sold on quote, start, complete, cancel, correct a quote (administrators); read it
//! with its status.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sablier_domain::order::{Civility, OrderCommand, OrderContact, PlaceOrder, ServiceItemId};
use sablier_domain::text::{Email, FreeText, Name, PhoneNumber};
use sablier_domain::{Authored, ContractId, OrderId};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::auth::Caller;
use crate::http::bodies::{Empty, OptionalNote, OptionalReason, Quote, QuoteCorrection, Reason};
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
pub struct Contact {
    /// `ms` or `mr`.
    #[schema(value_type = schema::Civility)]
    pub civility: String,
    #[schema(value_type = schema::Name)]
    pub last_name: String,
    #[schema(value_type = schema::Name)]
    pub first_name: String,
    #[schema(value_type = schema::Email)]
    pub email: String,
    /// A landline or a mobile number is required.
    #[serde(default)]
    #[schema(value_type = Option<schema::PhoneNumber>)]
    pub landline: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<schema::PhoneNumber>)]
    pub mobile: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    #[schema(value_type = schema::ContractId)]
    pub contract_id: String,
    /// A service catalogue item id.
    #[schema(value_type = schema::ServiceItemId)]
    pub item: String,
    pub contact: Contact,
    #[serde(default)]
    #[schema(value_type = Option<schema::FreeText>)]
    pub comments: Option<String>,
}

fn contact(body: &Contact) -> Result<OrderContact, Problem> {
    let civility = match body.civility.as_str() {
        "ms" => Civility::Ms,
        "mr" => Civility::Mr,
        _ => {
            return Err(Problem::invalid_field(
                "contact.civility",
                "must be ms or mr",
            ));
        }
    };
    Ok(OrderContact {
        civility,
        last_name: fields::parse("contact.last_name", &body.last_name, Name::parse)?,
        first_name: fields::parse("contact.first_name", &body.first_name, Name::parse)?,
        email: fields::parse("contact.email", &body.email, Email::parse)?,
        landline: fields::parse_optional(
            "contact.landline",
            body.landline.as_deref(),
            PhoneNumber::parse,
        )?,
        mobile: fields::parse_optional(
            "contact.mobile",
            body.mobile.as_deref(),
            PhoneNumber::parse,
        )?,
    })
}

/// Places an order (manager on Services). Definitive: there is no confirmation step.
#[utoipa::path(post, path = "/v1/orders", tag = "orders", request_body = NewOrder,
    responses((status = 201, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn place(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewOrder>,
) -> Result<Answered, Problem> {
    let contract = fields::parse("contract_id", &body.contract_id, ContractId::parse)?;
    let caller = caller.authorize_on(contract.as_str(), "contract")?;
    let order_id = OrderId::generate();
    let command = OrderCommand::PlaceOrder(PlaceOrder {
        order_id: order_id.clone(),
        contract,
        item: fields::parse("item", &body.item, ServiceItemId::parse)?,
        contact: contact(&body.contact)?,
        comments: fields::parse_optional("comments", body.comments.as_deref(), FreeText::parse)?,
    });
    let (answer, _) = command::execute(
        &state,
        &state.engine.orders,
        &caller,
        order_id.as_str(),
        Authored::new(caller.actor.clone(), command),
    )
    .await?;
    Ok(Answered {
        status: StatusCode::CREATED,
        answer,
    })
}

/// The order with its reference and status.
#[utoipa::path(get, path = "/v1/orders/{order_id}", tag = "orders",
    params(("order_id" = String, Path), AsOf),
    responses((status = 200, body = RequestDetail), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(order_id): Path<String>,
    Query(as_of): Query<AsOf>,
) -> Result<Json<RequestDetail>, Problem> {
    reads::detail(&state, &caller, &order_id, RequestKind::Order, as_of)
        .await
        .map(Json)
}

/// Runs `command` on the order once the route's right holds on its contract, as the bus
/// loads it (404 if the caller may not see it).
async fn act(
    state: &AppState,
    caller: &Caller,
    order_id: &str,
    command: OrderCommand,
) -> Result<Answered, Problem> {
    let id = OrderId::parse(order_id).map_err(|_| Problem::not_found("order"))?;
    command::act_on_contract(
        state,
        &state.engine.orders,
        caller,
        id.as_str(),
        "order",
        command,
    )
    .await
}

action_route!(
    "orders", "order_id", OrderCommand;
    /// Staff: the price of an item sold on quote.
    quote, "/v1/orders/{order_id}/quote", Quote, |body| OrderCommand::Quote {
        amount_cents: sablier_domain::Cents::parse("amount_cents", body.amount_cents)?,
        note: fields::parse_optional("note", body.note.as_deref(), FreeText::parse)?,
    }
);
action_route!(
    "orders", "order_id", OrderCommand;
    /// Customer: accepts the quote.
    accept_quote, "/v1/orders/{order_id}/accept-quote", Empty, |_body| OrderCommand::AcceptQuote
);
action_route!(
    "orders", "order_id", OrderCommand;
    /// Customer: declines the quote; the order closes without work.
    decline_quote, "/v1/orders/{order_id}/decline-quote", OptionalReason, |body| OrderCommand::DeclineQuote {
        reason: fields::parse_optional("reason", body.reason.as_deref(), FreeText::parse)?,
    }
);
action_route!(
    "orders", "order_id", OrderCommand;
    /// Staff: work begins.
    start, "/v1/orders/{order_id}/start", Empty, |_body| OrderCommand::Start
);
action_route!(
    "orders", "order_id", OrderCommand;
    /// Staff: the service is delivered.
    complete, "/v1/orders/{order_id}/complete", OptionalNote, |body| OrderCommand::Complete {
        note: fields::parse_optional("note", body.note.as_deref(), FreeText::parse)?,
    }
);
action_route!(
    "orders", "order_id", OrderCommand;
    /// Staff, with a reason.
    cancel, "/v1/orders/{order_id}/cancel", Reason, |body| OrderCommand::Cancel {
        reason: fields::parse("reason", &body.reason, FreeText::parse)?,
    }
);

/// Administrators: replaces the quote of an order that has one, in any status (a completed
/// order's bill included), with a reason kept in the audit trail.
#[utoipa::path(post, path = "/v1/orders/{order_id}/quote-correction", tag = "orders",
    request_body = QuoteCorrection, params(("order_id" = String, Path)),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn correct_quote(
    State(state): State<AppState>,
    caller: Caller,
    Path(order_id): Path<String>,
    Body(body): Body<QuoteCorrection>,
) -> Result<Answered, Problem> {
    caller.authorize()?;
    let command = OrderCommand::CorrectQuote {
        amount_cents: sablier_domain::Cents::parse("amount_cents", body.amount_cents)?,
        reason: fields::parse("reason", &body.reason, FreeText::parse)?,
    };
    act(&state, &caller, &order_id, command).await
}
