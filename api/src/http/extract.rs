//! Extractors whose refusals are problems: a JSON body (400 when it is not JSON, 415 when
//! it is not declared as JSON, 422 naming the field for a missing, unknown or mistyped
//! one), query strings and path parameters.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::http::problem::Problem;

/// A JSON body of type `T`.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let is_json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| {
                let media = value.split(';').next().unwrap_or("").trim();
                media.eq_ignore_ascii_case("application/json")
                    || (media.starts_with("application/") && media.ends_with("+json"))
            });
        if !is_json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "the body must be JSON, sent with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                let status = rejection.status();
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    Problem::new(status, "body-too-large", rejection.body_text())
                } else {
                    Problem::malformed(rejection.body_text())
                }
            })?;
        parse_json(&bytes).map(Body)
    }
}

/// Parses JSON, naming the path of the field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(&mut deserializer) {
        Ok(value) => {
            deserializer.end().map_err(|error| {
                Problem::malformed(format!("the body is not valid JSON: {error}"))
            })?;
            Ok(value)
        }
        Err(error) => {
            let path = error.path().to_string();
            let inner = error.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                return Err(Problem::malformed(format!(
                    "the body is not valid JSON: {inner}"
                )));
            }
            let rule = strip_position(&inner.to_string());
            let field = match (path.as_str(), missing_field(&rule)) {
                (".", missing) => missing,
                (parent, Some(missing)) => Some(format!("{parent}.{missing}")),
                (path, None) => Some(path.to_owned()),
            };
            Err(match field {
                Some(field) => Problem::invalid_field(field, rule),
                None => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-body", rule),
            })
        }
    }
}

/// serde's "missing field `x`" names the field only in its message.
fn missing_field(rule: &str) -> Option<String> {
    let rest = rule.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// A query string of type `T`.
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection| {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-query",
                    rejection.body_text(),
                )
            })
    }
}

/// Path parameters of type `T`.
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection| {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-path",
                    rejection.body_text(),
                )
            })
    }
}
