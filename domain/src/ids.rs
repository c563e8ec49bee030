//! Identifiers of contracts and requests. A contract id is the provider's own
//! (`OCB0000124`); request ids are minted by Sablier with a kind prefix so that a bare id
//! read on the phone says what it is.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::text::InvalidField;

/// A contract number: `OCB` followed by seven digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContractId(String);

impl ContractId {
    /// The rule [`ContractId::parse`] checks, as a JSON-Schema pattern.
    pub const PATTERN: &'static str = "^OCB[0-9]{7}$";

    pub fn parse(value: impl AsRef<str>) -> Result<Self, InvalidField> {
        let value = value.as_ref().trim();
        let digits = value.strip_prefix("OCB").unwrap_or("");
        if digits.len() != 7 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(InvalidField::new(
                "contract_id",
                format!("must be 'OCB' followed by 7 digits, like OCB0000124 (got '{value}')"),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four digits, as order references show them (`OCB0000124` → `0124`).
    pub fn short_number(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }
}

impl fmt::Display for ContractId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! request_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh id: the prefix and a time-ordered UUID (v7).
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, Uuid::now_v7().simple()))
            }

            pub fn parse(value: impl AsRef<str>) -> Result<Self, InvalidField> {
                let value = value.as_ref().trim();
                let valid = value
                    .strip_prefix($prefix)
                    .is_some_and(|rest| rest.len() == 32 && rest.chars().all(|c| c.is_ascii_hexdigit()));
                if !valid {
                    return Err(InvalidField::new(
                        $field,
                        format!("must be '{}' followed by 32 hexadecimal digits (got '{value}')", $prefix),
                    ));
                }
                Ok(Self(format!("{}{}", $prefix, value[$prefix.len()..].to_ascii_lowercase())))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

request_id!(
    /// An incident: `INC` and 32 hex digits.
    IncidentId, "INC", "incident_id"
);
request_id!(
    /// A change request: `CHG` and 32 hex digits.
    ChangeId, "CHG", "change_id"
);
request_id!(
    /// An order: `ORD` and 32 hex digits (its customer-facing reference is separate).
    OrderId, "ORD", "order_id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_ids() {
        let id = ContractId::parse("OCB0000124").unwrap();
        assert_eq!(id.short_number(), "0124");
        assert!(ContractId::parse("OCB124").is_err());
        assert!(ContractId::parse("XYZ0000124").is_err());
    }

    #[test]
    fn request_ids_round_trip() {
        let id = IncidentId::generate();
        assert_eq!(IncidentId::parse(id.as_str()).unwrap(), id);
        assert!(IncidentId::parse(ChangeId::generate().as_str()).is_err());
        assert!(OrderId::parse("ORD123").is_err());
    }
}
