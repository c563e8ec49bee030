//! Money: whole euro cents excluding tax, never `f64`, bounded where it enters.

use serde::{Deserialize, Serialize};

use crate::text::InvalidField;

/// An amount in euro cents excluding tax, from 0 to [`Cents::MAX`].
///
/// The bound is what every layer can carry exactly: the views store amounts as signed
/// 64-bit integers and sum a month of them, and the API document states it. Stored events
/// keep their plain integer, so amounts written before the bound still read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct Cents(u64);

impl Cents {
    /// €1,000,000,000.00.
    pub const MAX: u64 = 100_000_000_000;

    /// `value` cents, reported under `field` when above [`Cents::MAX`].
    pub fn parse(field: &'static str, value: u64) -> Result<Self, InvalidField> {
        if value > Self::MAX {
            return Err(InvalidField::new(
                field,
                format!(
                    "must be at most {} cents (€1,000,000,000.00), got {value}",
                    Self::MAX
                ),
            ));
        }
        Ok(Self(value))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl TryFrom<u64> for Cents {
    type Error = InvalidField;

    fn try_from(value: u64) -> Result<Self, Self::Error> {
        Self::parse("amount_cents", value)
    }
}

impl From<Cents> for u64 {
    fn from(cents: Cents) -> Self {
        cents.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_20_amounts_above_the_maximum_are_refused_naming_the_field() {
        assert_eq!(
            Cents::parse("amount_cents", Cents::MAX).unwrap().get(),
            Cents::MAX
        );
        let refused = Cents::parse("amount_cents", 1 << 63).unwrap_err();
        assert_eq!(refused.field, "amount_cents");
        assert!(
            refused.rule.contains("at most 100000000000 cents"),
            "{}",
            refused.rule
        );
        assert!(serde_json::from_str::<Cents>("9223372036854775808").is_err());
    }
}
