//! The HTTP API: one router over every command and view, with authentication, rights,
//! problem+json errors, idempotency keys, request ids, metrics and an OpenAPI document.
//!
//! Handlers only parse, authorize, build a command or a query, run it and map the result:
//! business rules stay in the aggregates, SQL in the store and the projections.

pub mod auth;
pub mod bare_refusals;
pub mod bodies;
pub mod changes;
pub mod command;
pub mod contracts;
pub mod extract;
pub mod fields;
pub mod idempotency;
pub mod incidents;
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod orders;
pub mod problem;
pub mod reads;
pub mod reference;
pub mod refusal;
pub mod schema;
pub mod state;
pub mod telemetry;
pub mod throttle;
pub mod token_cache;
pub mod tokens;
pub mod views;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::middleware;
use axum::routing::{delete, get, post, put};

use crate::http::problem::Problem;
use crate::http::state::AppState;

/// Every route, with its layers.
pub fn router(state: AppState) -> Router {
    let limits = state.limits;
    let idempotency = |max_body_bytes| {
        middleware::from_fn_with_state(
            idempotency::Scope {
                state: state.clone(),
                max_body_bytes,
            },
            idempotency::layer,
        )
    };
    let uploads = Router::new()
        .route("/v1/attachments", post(changes::upload))
        .layer(DefaultBodyLimit::max(limits.max_attachment_bytes))
        .layer(idempotency(limits.max_attachment_bytes));
    let api = Router::new()
        .route(
            "/v1/contracts",
            post(contracts::create).get(contracts::list),
        )
        .route("/v1/contracts/{contract_id}", get(contracts::detail))
        .route(
            "/v1/contracts/{contract_id}/upgrade",
            post(contracts::upgrade),
        )
        .route(
            "/v1/contracts/{contract_id}/downgrade",
            post(contracts::downgrade),
        )
        .route(
            "/v1/contracts/{contract_id}/expert-time",
            post(contracts::expert_time),
        )
        .route(
            "/v1/contracts/{contract_id}/users",
            get(contracts::users).post(contracts::declare_user),
        )
        .route(
            "/v1/contracts/{contract_id}/users/{login}/roles",
            put(contracts::change_roles),
        )
        .route(
            "/v1/contracts/{contract_id}/users/{login}",
            delete(contracts::remove_user),
        )
        .route(
            "/v1/contracts/{contract_id}/billing/{month}",
            get(contracts::billing),
        )
        .route("/v1/incidents", post(incidents::open))
        .route("/v1/incidents/{incident_id}", get(incidents::detail))
        .route(
            "/v1/incidents/{incident_id}/start-intervention",
            post(incidents::start_intervention),
        )
        .route(
            "/v1/incidents/{incident_id}/await-customer",
            post(incidents::await_customer),
        )
        .route(
            "/v1/incidents/{incident_id}/customer-response",
            post(incidents::customer_response),
        )
        .route(
            "/v1/incidents/{incident_id}/diagnosis",
            post(incidents::share_diagnosis),
        )
        .route(
            "/v1/incidents/{incident_id}/restore",
            post(incidents::restore),
        )
        .route("/v1/incidents/{incident_id}/close", post(incidents::close))
        .route(
            "/v1/incidents/{incident_id}/reopen",
            post(incidents::reopen),
        )
        .route(
            "/v1/incidents/{incident_id}/priority",
            post(incidents::change_priority),
        )
        .route(
            "/v1/incidents/{incident_id}/comments",
            post(incidents::comment),
        )
        .route("/v1/changes", post(changes::create))
        .route("/v1/changes/{change_id}", get(changes::detail))
        .route("/v1/changes/{change_id}/draft", put(changes::edit_draft))
        .route("/v1/changes/{change_id}/submit", post(changes::submit))
        .route("/v1/changes/{change_id}/quote", post(changes::quote))
        .route(
            "/v1/changes/{change_id}/accept-quote",
            post(changes::accept_quote),
        )
        .route(
            "/v1/changes/{change_id}/decline-quote",
            post(changes::decline_quote),
        )
        .route("/v1/changes/{change_id}/start", post(changes::start))
        .route("/v1/changes/{change_id}/complete", post(changes::complete))
        .route("/v1/changes/{change_id}/cancel", post(changes::cancel))
        .route("/v1/changes/{change_id}/reject", post(changes::reject))
        .route(
            "/v1/changes/{change_id}/quote-correction",
            post(changes::correct_quote),
        )
        .route(
            "/v1/changes/{change_id}/attachments/{sha256}",
            get(changes::download),
        )
        .route("/v1/orders", post(orders::place))
        .route("/v1/orders/{order_id}", get(orders::detail))
        .route("/v1/orders/{order_id}/quote", post(orders::quote))
        .route(
            "/v1/orders/{order_id}/accept-quote",
            post(orders::accept_quote),
        )
        .route(
            "/v1/orders/{order_id}/decline-quote",
            post(orders::decline_quote),
        )
        .route("/v1/orders/{order_id}/start", post(orders::start))
        .route("/v1/orders/{order_id}/complete", post(orders::complete))
        .route("/v1/orders/{order_id}/cancel", post(orders::cancel))
        .route(
            "/v1/orders/{order_id}/quote-correction",
            post(orders::correct_quote),
        )
        .route("/v1/requests", get(reads::list))
        .route("/v1/requests/{request_id}/history", get(reads::history))
        .route(
            "/v1/requests/{request_id}/clocks/{metric}",
            get(reads::explain),
        )
        .route("/v1/breach-watch", get(reads::breach_watch))
        .route("/v1/catalogues/changes", get(reference::changes))
        .route("/v1/catalogues/services", get(reference::services))
        .route("/v1/maintenance-windows", get(reference::maintenance))
        .route("/v1/tokens", post(tokens::create).get(tokens::list))
        .route("/v1/tokens/{token_id}", delete(tokens::revoke))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(idempotency(limits.max_body_bytes))
        .merge(uploads)
        // Outermost: the token is checked before anything else is done for a request.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    Router::new()
        .merge(api)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(openapi::document))
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            telemetry::observe,
        ))
        .layer(middleware::map_response(bare_refusals::problem_bodies))
        .with_state(state)
}

async fn unknown_route(uri: Uri) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "unknown-route",
        format!("no route {}", uri.path()),
    )
}

async fn wrong_method(method: Method, uri: Uri) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!(
            "{} {} is not a route (see /openapi.json)",
            method,
            uri.path()
        ),
    )
}
