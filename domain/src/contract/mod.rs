//! A customer contract: its support tier over time, its users and their rights per
//! section, and the expert time staff log against it.

mod aggregate;
mod command;
mod error;
mod event;
mod rights;

#[cfg(test)]
mod tests;

pub use aggregate::{Contract, ContractUser};
pub use command::{ContractCommand, DeclareUser};
pub use error::ContractError;
pub use event::{ContractEvent, DeclaredUser};
pub use rights::{Offer, Section, SectionRole, SectionRoles, UnknownOffer};
