//! An order's customer-facing reference, `FCA0124-1702-0003`: the offer prefix, the
//! contract's short number, the year and month of the order (`YYMM`, contract time zone)
//! and a sequence unique per contract and month, zero-padded to four digits.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::contract::Offer;
use crate::ids::ContractId;
use crate::month::YearMonth;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderReference(String);

impl OrderReference {
    pub fn new(offer: Offer, contract: &ContractId, month: YearMonth, sequence: u32) -> Self {
        Self(format!(
            "{}{}-{:02}{:02}-{:04}",
            offer.reference_prefix(),
            contract.short_number(),
            month.year().rem_euclid(100),
            month.month(),
            sequence
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrderReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_reference() {
        let contract = ContractId::parse("OCB0000124").unwrap();
        let february_2017 = YearMonth::new(2017, 2).unwrap();
        let reference = OrderReference::new(
            Offer::FlexibleComputingAdvanced,
            &contract,
            february_2017,
            3,
        );
        assert_eq!(reference.as_str(), "FCA0124-1702-0003");
    }

    #[test]
    fn other_offers_and_long_sequences() {
        let contract = ContractId::parse("OCB0001627").unwrap();
        let month = YearMonth::new(2026, 12).unwrap();
        assert_eq!(
            OrderReference::new(Offer::FlexibleEngine, &contract, month, 12).as_str(),
            "FE1627-2612-0012"
        );
        assert_eq!(
            OrderReference::new(Offer::CloudAvenue, &contract, month, 12_345).as_str(),
            "CAV1627-2612-12345"
        );
    }
}
