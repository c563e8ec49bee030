//! Operations routes, without authentication: liveness, readiness (the database answers
//! and the views are within reach of the log), Prometheus metrics and the OpenAPI
//! document. Readiness and metrics read the views' position from the checkpoints, so a
//! server whose projector stands by reports it right too.

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
    /// Each view's checkpoint.
    pub views: Vec<ViewReadiness>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ViewReadiness {
    pub view: String,
    /// The last position it applied.
    pub position: i64,
}

/// The database answers and takes writes, and no view is stalled; reports how far the
/// views are behind the log. 503 names what is wrong: the database does not answer, its
/// storage is full (until a write succeeds again), or a view is stalled (which view, its
/// position, and the event it cannot apply).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Problem, content_type = "application/problem+json")))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Readiness>, Problem> {
    let not_ready = |error: &dyn std::fmt::Display| {
        tracing::warn!(error = %error, "database not ready");
        Problem::unavailable("the database does not answer", 1)
    };
    if state.storage.is_full() {
        match state.engine.log.probe_write().await {
            Ok(()) => state.storage.written(),
            Err(error) if error.condition() == Some(sablier_store::Condition::StorageFull) => {
                return Err(Problem::storage_full());
            }
            Err(error) => return Err(not_ready(&error)),
        }
    }
    let checkpoints = sablier_projections::Checkpoints::read(&state.reader)
        .await
        .map_err(|error| not_ready(&error))?;
    let stalls: Vec<String> = checkpoints.stalls().map(ToString::to_string).collect();
    if !stalls.is_empty() {
        return Err(Problem::unavailable(stalls.join("; "), 60).with_type("view-stalled"));
    }
    let (log_head, _) = state
        .engine
        .log
        .head()
        .await
        .map_err(|error| not_ready(&error))?;
    let views_reached = checkpoints.lowest(state.view_names());
    Ok(Json(Readiness {
        status: "ready".to_owned(),
        log_head,
        views_reached,
        views: checkpoints
            .iter()
            .map(|checkpoint| ViewReadiness {
                view: checkpoint.view.clone(),
                position: checkpoint.position,
            })
            .collect(),
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
    let checkpoints = sablier_projections::Checkpoints::read(&state.reader)
        .await
        .unwrap_or_default();
    let views_reached = checkpoints.lowest(state.view_names());
    let views = checkpoints
        .iter()
        .map(|checkpoint| {
            (
                checkpoint.view.clone(),
                checkpoint.position,
                checkpoint.stall.is_some(),
            )
        })
        .collect::<Vec<_>>();
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(log_head, views_reached, &views),
    )
}
