//! Turning the strings of a body into the domain's newtypes, naming the field at fault.

use std::fmt::Display;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use sablier_domain::InvalidField;

use crate::http::problem::Problem;

/// Parses `value` with a domain parser, reporting its refusal under `field`.
pub fn parse<'a, T>(
    field: &str,
    value: &'a str,
    parser: impl FnOnce(&'a str) -> Result<T, InvalidField>,
) -> Result<T, Problem> {
    parser(value).map_err(|error| Problem::invalid_field(field, error.rule))
}

/// The same for an optional value.
pub fn parse_optional<'a, T>(
    field: &str,
    value: Option<&'a str>,
    parser: impl FnOnce(&'a str) -> Result<T, InvalidField>,
) -> Result<Option<T>, Problem> {
    value.map(|value| parse(field, value, parser)).transpose()
}

/// A term (`P1`, `Gold`, `GTR`) read with its `FromStr`.
pub fn term<T>(field: &str, value: &str) -> Result<T, Problem>
where
    T: FromStr,
    T::Err: Display,
{
    value
        .parse()
        .map_err(|error: T::Err| Problem::invalid_field(field, error.to_string()))
}

/// An RFC 3339 instant (`2026-03-27T16:30:00Z`) in the span where calendar answers are
/// exact ([`sablier_sla::range`]).
pub fn instant(field: &str, value: &str) -> Result<DateTime<Utc>, Problem> {
    let at = DateTime::parse_from_rfc3339(value)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|error| {
            Problem::invalid_field(
                field,
                format!("must be an RFC 3339 instant such as 2026-03-27T16:30:00Z ({error})"),
            )
        })?;
    sablier_sla::range::instant(at)
        .map_err(|error| Problem::invalid_field(field, error.to_string()))
}

/// A date (`2026-03-27`) in the span where calendar answers are exact
/// ([`sablier_sla::range`]).
pub fn date(field: &str, value: &str) -> Result<NaiveDate, Problem> {
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| Problem::invalid_field(field, "must be a date such as 2026-03-27"))?;
    sablier_sla::range::date(date).map_err(|error| Problem::invalid_field(field, error.to_string()))
}
