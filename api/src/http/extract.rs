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
///
/// The body is first read as JSON of any shape, so a body that is not JSON at all (cut
/// short, say) is answered 400 malformed, never 422 for whichever field the typed reading
/// happened to meet before the syntax error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(|error| {
        Problem::malformed(format!(
            "the body is not valid JSON: {}",
            strip_position(&error.to_string())
        ))
    })?;
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

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Text {
        text: String,
    }

    #[test]
    fn issue_20_a_body_cut_short_is_malformed_not_an_unknown_field() {
        for body in [
            &br#"{"oops": "#[..],
            br#"{"text": "a""#,
            br#"{"text": 1"#,
            b"{",
        ] {
            let problem = parse_json::<Text>(body).unwrap_err();
            assert_eq!(
                problem.status,
                400,
                "{}: {problem:?}",
                String::from_utf8_lossy(body)
            );
            assert!(problem.field.is_none(), "{problem:?}");
        }
    }

    #[test]
    fn a_whole_body_with_a_wrong_field_is_named() {
        let problem = parse_json::<Text>(br#"{"oops": 1}"#).unwrap_err();
        assert_eq!(problem.status, 422);
        assert!(
            problem.detail.contains("unknown field `oops`"),
            "{problem:?}"
        );
        let problem = parse_json::<Text>(br#"{"text": 1}"#).unwrap_err();
        assert_eq!(problem.field.as_deref(), Some("text"));
    }
}
