//! Per-request telemetry: a request id (the caller's `X-Request-Id` when it is a sane one,
//! a fresh UUID otherwise) carried into a tracing span, the answer's headers and every
//! event's metadata; and the request metrics, labelled by route template.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::http::state::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the request being served.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn caller_request_id(request: &Request) -> Option<String> {
    let value = request.headers().get(REQUEST_ID_HEADER)?.to_str().ok()?;
    let sane = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    sane.then(|| value.to_owned())
}

pub async fn observe(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id =
        caller_request_id(&request).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    if response
        .extensions()
        .get::<crate::http::problem::StorageFullAnswer>()
        .is_some()
    {
        // Whichever layer the write was refused in: not ready until a write succeeds.
        state.storage.full();
    }
    let elapsed = started.elapsed();
    state
        .metrics
        .record_request(&method, &route, status, elapsed);
    span.in_scope(|| {
        let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::warn!(status, elapsed_ms, "answered with a server error");
        } else {
            tracing::debug!(status, elapsed_ms, "answered");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}
