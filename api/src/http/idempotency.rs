//! `Idempotency-Key` on command routes: the first answer to a key is kept (per token), and
//! a retry with the same key and the same request gets it again without running the
//! command twice. The same key with another request is refused (422); a retry while the
//! first is still running gets 409. Server failures (5xx) are not kept, so they may be
//! retried.
//!
//! It runs behind authentication: a record belongs to the token's id, so one token never
//! replays another's answer, and nothing is read or written for a request whose token is
//! not known. Records expire and are bounded per token (`store::access::
//! IdempotencyRetention`, swept by the server every minute).

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sablier_store::access::Reservation;
use sha2::{Digest, Sha256};

use crate::http::auth::Authenticated;
use crate::http::problem::Problem;
use crate::http::state::AppState;

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";

fn is_command(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::DELETE | Method::PATCH
    )
}

/// The routes one layer covers, and the largest body they take (the body is read whole
/// to fingerprint the request).
#[derive(Clone)]
pub struct Scope {
    pub state: AppState,
    pub max_body_bytes: usize,
}

pub async fn layer(
    State(Scope {
        state,
        max_body_bytes,
    }): State<Scope>,
    request: Request,
    next: Next,
) -> Response {
    if !is_command(request.method()) {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(IDEMPOTENCY_KEY).cloned() else {
        return next.run(request).await;
    };
    let key = match key.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) && key.chars().all(|c| c.is_ascii_graphic()) => {
            key.to_owned()
        }
        _ => {
            return Problem::invalid_field(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )
            .into_response();
        }
    };
    // Keys belong to the token that sent them (its id), known by now.
    let Some(Authenticated(grant)) = request.extensions().get::<Authenticated>() else {
        return next.run(request).await;
    };
    let caller = grant.token_id.clone();
    let (parts, body) = request.into_parts();
    let limit = max_body_bytes;
    let Ok(bytes) = to_bytes(body, limit).await else {
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!("the body is larger than {limit} bytes"),
        )
        .into_response();
    };
    let mut digest = Sha256::new();
    digest.update(parts.method.as_str());
    digest.update(b" ");
    digest.update(parts.uri.to_string());
    digest.update(b"\n");
    digest.update(&bytes);
    let fingerprint = hex::encode(digest.finalize());

    match state
        .idempotency
        .reserve(&caller, &key, &fingerprint, state.now())
        .await
    {
        Err(error) => return Problem::from(error).into_response(),
        Ok(Reservation::InProgress) => {
            return Problem::conflict(
                "idempotency-key-in-use",
                "a request with this Idempotency-Key is still being processed; retry later",
            )
            .into_response();
        }
        Ok(Reservation::Mismatch) => {
            return Problem::invalid_field(
                "Idempotency-Key",
                "was already used for a different request",
            )
            .into_response();
        }
        Ok(Reservation::Answered { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let content_type = if status.is_success() {
                "application/json"
            } else {
                "application/problem+json"
            };
            let mut response = (status, body).into_response();
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            response
                .headers_mut()
                .insert(REPLAYED, HeaderValue::from_static("true"));
            return response;
        }
        Ok(Reservation::Reserved) => {}
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = response.status();
    if status.is_server_error() {
        if let Err(error) = state.idempotency.release(&caller, &key).await {
            tracing::warn!(error = %error, "could not release an idempotency key");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(error = %error, "could not read an answer to keep it");
            let _ = state.idempotency.release(&caller, &key).await;
            return Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the answer was lost",
            )
            .into_response();
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    if let Err(error) = state
        .idempotency
        .complete(&caller, &key, status.as_u16(), &text)
        .await
    {
        tracing::error!(error = %error, "could not keep the answer to an idempotency key");
    }
    Response::from_parts(parts, Body::from(bytes))
}
