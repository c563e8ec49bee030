//! The OpenAPI 3.1 document, generated from the handlers' annotations and the body types.

use axum::Json;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::http::throttle::DocumentThrottling;
use crate::http::{changes, contracts, incidents, ops, orders, reads, reference, schema, tokens};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sablier",
        description = "Event-sourced ticketing and SLA engine: incidents, changes, orders, \
            support tiers, SLA timers and billing. Errors are RFC 9457 problem details. \
            Every command route accepts an Idempotency-Key header (a retry with the same \
            key gets the first answer and writes nothing), Sablier-Channel (portal, phone or \
            api, the default) and X-Request-Id (recorded in every event the request writes). \
            Every authenticated route accepts Sablier-Read-After: a position a command \
            answered with (here or through another server on the same database); the request \
            waits until the views show it, at most 5 s, else 503 with Retry-After.",
    ),
    paths(
        contracts::create, contracts::list, contracts::detail, contracts::upgrade,
        contracts::downgrade, contracts::expert_time, contracts::users, contracts::declare_user,
        contracts::change_roles, contracts::remove_user, contracts::billing,
        incidents::open, incidents::detail, incidents::start_intervention,
        incidents::await_customer, incidents::customer_response, incidents::share_diagnosis,
        incidents::restore, incidents::close, incidents::reopen, incidents::change_priority,
        incidents::comment,
        changes::create, changes::detail, changes::edit_draft, changes::submit, changes::quote,
        changes::accept_quote, changes::decline_quote, changes::start, changes::complete,
        changes::cancel, changes::reject, changes::correct_quote, changes::upload,
        changes::download,
        orders::place, orders::detail, orders::quote, orders::accept_quote,
        orders::decline_quote, orders::start, orders::complete, orders::cancel,
        orders::correct_quote,
        reads::list, reads::history, reads::explain, reads::breach_watch,
        reference::changes, reference::services, reference::maintenance,
        tokens::create, tokens::list, tokens::revoke,
        ops::healthz, ops::readyz, ops::metrics,
    ),
    // Named by parameters only: bodies bring their own schemas in, parameters do not.
    components(schemas(
        schema::Metric, schema::RequestKind, schema::PortalStatus, schema::SortOrder,
        schema::SearchText, schema::YearMonth,
    )),
    modifiers(&BearerAuth, &DocumentThrottling, &QualifiedOperationIds, &EveryRefusal),
)]
pub struct ApiDoc;

/// Operation ids are `<tag>_<handler>` (`contracts_create`, `orders_accept_quote`):
/// handlers of different resources share names (`create`, `detail`, `accept_quote`), and
/// OpenAPI wants every id unique (client generators name their methods after them).
struct QualifiedOperationIds;

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

impl Modify for QualifiedOperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let tag = operation
                    .tags
                    .as_ref()
                    .and_then(|tags| tags.first())
                    .expect("every operation has a tag");
                let handler = operation
                    .operation_id
                    .as_deref()
                    .expect("every operation has an id");
                operation.operation_id = Some(format!("{tag}_{handler}"));
            }
        }
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every operation may be refused with a problem: a 4xx (hyper's own refusals of a
/// request it cannot read, 400, 414 and 431, reach every route) and a 5xx (503 with
/// Retry-After when the views have not reached a position in time or a write conflict
/// outlived its retries; an opaque 500).
struct EveryRefusal;

impl Modify for EveryRefusal {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        let refused = problem("Refused: the problem says why");
        let failed = problem("A server error (503 with Retry-After when retrying may succeed)");
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let responses = &mut operation.responses.responses;
                responses
                    .entry("4XX".to_owned())
                    .or_insert_with(|| refused.clone().into());
                responses
                    .entry("5XX".to_owned())
                    .or_insert_with(|| failed.clone().into());
            }
        }
    }
}

/// `GET /openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
