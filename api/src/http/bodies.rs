//! Small command bodies several routes share.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::schema;

/// No fields: `{}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Quote {
    /// Euro cents excluding tax, at most `Cents::MAX` (€1,000,000,000.00).
    #[schema(maximum = 100_000_000_000_u64)]
    pub amount_cents: u64,
    #[serde(default)]
    #[schema(value_type = Option<schema::FreeText>)]
    pub note: Option<String>,
}

/// An administrator's correction of a quote: the amount it should have been, and why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteCorrection {
    /// The corrected quote: euro cents excluding tax, at most `Cents::MAX`
    /// (€1,000,000,000.00).
    #[schema(maximum = 100_000_000_000_u64)]
    pub amount_cents: u64,
    /// Why the quote is corrected (kept in the audit trail).
    #[schema(value_type = schema::FreeText)]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionalReason {
    #[serde(default)]
    #[schema(value_type = Option<schema::FreeText>)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionalNote {
    #[serde(default)]
    #[schema(value_type = Option<schema::FreeText>)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    #[schema(value_type = schema::FreeText)]
    pub reason: String,
}
