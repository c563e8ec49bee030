//! An order for a service of the catalogue (seeds 002, 003): placed in one step, given a
//! reference and a confirmation, quoted first when the item is sold on quote, then
//! delivered by staff.

mod aggregate;
mod catalogue;
mod command;
mod contact;
mod error;
mod event;
mod reference;
mod status;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod stored_form;
#[cfg(test)]
mod tests;

pub use aggregate::Order;
pub use catalogue::{Price, ServiceCatalogue, ServiceCategory, ServiceItem, ServiceItemId};
pub use command::{OrderCommand, PlaceOrder};
pub use contact::{Civility, OrderContact};
pub use error::OrderError;
pub use event::OrderEvent;
pub use reference::OrderReference;
pub use status::OrderStatus;
