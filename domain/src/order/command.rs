//! What may be asked of an order. Fields are already parsed newtypes; rules that depend on
//! configuration or on other aggregates (catalogue, contract) are checked by the aggregate.

use crate::ids::{ContractId, OrderId};
use crate::money::Cents;
use crate::order::{OrderContact, ServiceItemId};
use crate::text::FreeText;

#[derive(Clone, Debug, PartialEq)]
pub enum OrderCommand {
    /// Customer or staff. Definitive: there is no confirmation step.
    PlaceOrder(PlaceOrder),
    /// Staff, for an item sold on quote: the price in euro cents excluding tax.
    Quote {
        amount_cents: Cents,
        note: Option<FreeText>,
    },
    /// Customer.
    AcceptQuote,
    /// Customer. Closes the order: no work is done.
    DeclineQuote { reason: Option<FreeText> },
    /// Staff: work begins (after an accepted quote for an item sold on quote).
    Start,
    /// Staff: the service is delivered.
    Complete { note: Option<FreeText> },
    /// Staff, with a reason, at any status that is not final.
    Cancel { reason: FreeText },
    /// Administrators: replaces the quote of an order that has one, in any status
    /// (a completed order's bill included), with a reason. The audited way to amend an
    /// amount, such as one written before amounts were bounded.
    CorrectQuote {
        amount_cents: Cents,
        reason: FreeText,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlaceOrder {
    pub order_id: OrderId,
    pub contract: ContractId,
    pub item: ServiceItemId,
    pub contact: OrderContact,
    pub comments: Option<FreeText>,
}
