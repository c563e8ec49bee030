//! Errors as RFC 9457 problem details (`application/problem+json`): a status, a stable
//! `type`, a human title and detail, and for bad input the `field` and the `rule` it broke.
//!
//! Every refusal of the API is a [`Problem`]. Unexpected failures are logged once, with
//! their cause chain, and answered with an opaque 500.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of every error answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`https://sablier.dev/problems/invalid-field`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The input field at fault, when there is one (`contact.email`, `attachments`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The rule that field broke.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Seconds to wait before retrying (also sent as `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
    /// A write was refused because the storage is full: the answer carries a
    /// [`StorageFullAnswer`] so the server reports not ready (`telemetry::observe`).
    #[serde(skip)]
    pub storage_full: bool,
}

/// Marks an answer that refused a write because the storage is full, whichever layer
/// produced it.
#[derive(Clone, Copy, Debug)]
pub struct StorageFullAnswer;

const TYPE_BASE: &str = "https://sablier.dev/problems/";

impl Problem {
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("{TYPE_BASE}{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            rule: None,
            retry_after: None,
            storage_full: false,
        }
    }

    /// 422: `field` breaks `rule`.
    pub fn invalid_field(field: impl Into<String>, rule: impl Into<String>) -> Self {
        let (field, rule) = (field.into(), rule.into());
        Self {
            field: Some(field.clone()),
            rule: Some(rule.clone()),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-field",
                format!("{field}: {rule}"),
            )
        }
    }

    /// 400: the body or query could not be read at all.
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed-request", detail)
    }

    /// 404, also for objects of a contract the caller is not declared on.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("{} not found", what.into()),
        )
    }

    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 409: the command does not fit the object's current state.
    pub fn conflict(kind: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, kind, detail)
    }

    /// 503 with `Retry-After`.
    pub fn unavailable(detail: impl Into<String>, retry_after: u32) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
        }
    }

    /// The same, with its own problem type.
    pub fn with_type(mut self, kind: &str) -> Self {
        self.kind = format!("{TYPE_BASE}{kind}");
        self
    }

    /// The storage is full: nothing was written (503 with `Retry-After`).
    pub fn storage_full() -> Self {
        tracing::error!("the database's storage is full: writes are refused until space is freed");
        Self::unavailable(
            "the server's storage is full: nothing was written; retry once space is freed",
            30,
        )
        .with_type("storage-full")
        .refusing_a_full_storage()
    }

    fn refusing_a_full_storage(mut self) -> Self {
        self.storage_full = true;
        self
    }

    /// The database cannot answer now (503 with `Retry-After`).
    pub fn database_unavailable(error: &(dyn std::error::Error + 'static)) -> Self {
        tracing::warn!(error = %error, cause = ?error.source().map(ToString::to_string), "the database is unavailable");
        Self::unavailable("the database is unavailable; retry later", 1)
    }

    /// A failure of the storage layer: 503 when it tells of the database's condition (full,
    /// unreachable, busy), else an opaque 500.
    pub fn storage(
        error: &(dyn std::error::Error + 'static),
        condition: Option<sablier_store::Condition>,
    ) -> Self {
        match condition {
            Some(sablier_store::Condition::StorageFull) => Self::storage_full(),
            Some(sablier_store::Condition::Unavailable) => Self::database_unavailable(error),
            None => Self::internal(error),
        }
    }

    /// An unexpected failure: logged here with its causes, answered without them.
    pub fn internal(error: &(dyn std::error::Error + 'static)) -> Self {
        let mut causes = Vec::new();
        let mut source = error.source();
        while let Some(cause) = source {
            causes.push(cause.to_string());
            source = cause.source();
        }
        tracing::error!(error = %error, causes = ?causes, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed to answer; the failure is logged",
        )
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let retry_after = self.retry_after;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.storage_full {
            response.extensions_mut().insert(StorageFullAnswer);
        }
        response
    }
}

impl From<sablier_domain::InvalidField> for Problem {
    fn from(error: sablier_domain::InvalidField) -> Self {
        Problem::invalid_field(error.field, error.rule)
    }
}

impl From<sablier_projections::ProjectionError> for Problem {
    fn from(error: sablier_projections::ProjectionError) -> Self {
        Problem::storage(&error, error.condition())
    }
}

impl From<sablier_store::StoreError> for Problem {
    fn from(error: sablier_store::StoreError) -> Self {
        Problem::storage(&error, error.condition())
    }
}
