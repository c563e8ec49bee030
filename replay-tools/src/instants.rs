//! Instants on the command line: read as RFC 3339 with any offset, printed in UTC with a
//! `Z` and second precision (`2026-03-30T10:30:00Z`), like the JSON the tools write.

use chrono::{DateTime, SecondsFormat, Utc};

/// An instant given on the command line, in the span where calendar answers are exact
/// ([`sablier_sla::range`]).
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    let instant = DateTime::parse_from_rfc3339(text)
        .map(|instant| instant.with_timezone(&Utc))
        .map_err(|error| {
            format!("{error}: expected an RFC 3339 instant such as 2026-03-27T16:30:00Z")
        })?;
    sablier_sla::range::instant(instant).map_err(|error| error.to_string())
}

pub fn format_instant(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Secs, true)
}
