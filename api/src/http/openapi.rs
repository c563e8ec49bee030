//! The OpenAPI 3.1 document, generated from the handlers' annotations and the body types.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::throttle::DocumentThrottling;
use crate::http::{changes, contracts, incidents, ops, orders, reads, reference, tokens};

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
        changes::cancel, changes::reject, changes::upload, changes::download,
        orders::place, orders::detail, orders::quote, orders::accept_quote,
        orders::decline_quote, orders::start, orders::complete, orders::cancel,
        reads::list, reads::history, reads::explain, reads::breach_watch,
        reference::changes, reference::services, reference::maintenance,
        tokens::create, tokens::list, tokens::revoke,
        ops::healthz, ops::readyz, ops::metrics,
    ),
    modifiers(&BearerAuth, &DocumentThrottling),
)]
pub struct ApiDoc;

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

/// `GET /openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
