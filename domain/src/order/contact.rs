//! The person to contact for carrying out an order, as the order form asks for them
//! (seed 003, figure 14): civility, names and email required, at least one phone.

use serde::{Deserialize, Serialize};

use crate::text::{Email, Name, PhoneNumber};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Civility {
    /// Madame.
    Ms,
    /// Monsieur.
    Mr,
}

impl Civility {
    pub const ALL: [Civility; 2] = [Civility::Ms, Civility::Mr];

    /// Its serialized spelling, the one the order form gives.
    pub fn as_str(self) -> &'static str {
        match self {
            Civility::Ms => "ms",
            Civility::Mr => "mr",
        }
    }
}

/// At least one of `landline` and `mobile` is required: the order aggregate checks it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderContact {
    pub civility: Civility,
    pub last_name: Name,
    pub first_name: Name,
    pub email: Email,
    pub landline: Option<PhoneNumber>,
    pub mobile: Option<PhoneNumber>,
}

impl OrderContact {
    pub fn has_phone(&self) -> bool {
        self.landline.is_some() || self.mobile.is_some()
    }
}
