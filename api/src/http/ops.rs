//! Operations routes, without authentication: liveness, readiness (the database answers
//! and the views are within reach of the log), Prometheus metrics and the OpenAPI
//! document.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::problem::Problem;
use crate::http::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
    })
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    pub status: String,
    pub log_head: i64,
    pub views_reached: i64,
}

/// The database answers; reports how far the views are behind the log.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Problem, content_type = "application/problem+json")))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Readiness>, Problem> {
    let not_ready = |error: &dyn std::fmt::Display| {
        tracing::warn!(error = %error, "database not ready");
        Problem::unavailable("the database does not answer", 1)
    };
    let (log_head, _) = state
        .engine
        .log
        .head()
        .await
        .map_err(|error| not_ready(&error))?;
    let views_reached = state
        .views_position()
        .await
        .map_err(|error| not_ready(&error))?;
    Ok(Json(Readiness {
        status: "ready".to_owned(),
        log_head,
        views_reached,
    }))
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let log_head = state
        .engine
        .log
        .head()
        .await
        .map(|(position, _)| position)
        .unwrap_or(0);
    let views_reached = state.views_position().await.unwrap_or(0);
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(log_head, views_reached),
    )
}
