//! The HTTP API: one router over every command and view, with authentication, rights,
//! problem+json errors, idempotency keys, request ids, metrics and an OpenAPI document.
//!
//! Handlers only parse, authorize, build a command or a query, run it and map the result:
//! business rules stay in the aggregates, SQL in the store and the projections. Each
//! route's right is declared in the route table (`routes`) and applied through `auth`.

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
pub mod routes;
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

use crate::http::problem::Problem;
use crate::http::state::AppState;

/// Every route of the tables ([`routes`]), with its layers. Routes come only from the
/// tables: `issue_21_every_route_declares_the_right_it_needs` reads this router and fails
/// on any method and path no table declared.
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
    let uploads = routes::uploads()
        .into_router()
        .layer(DefaultBodyLimit::max(limits.max_attachment_bytes))
        .layer(idempotency(limits.max_attachment_bytes));
    let api = routes::authenticated()
        .into_router()
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
        .merge(routes::public().into_router())
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
