//! Values the order tests share: actors, fixed ids and instants, the contact and the
//! events an order's history is built from.

use chrono::{DateTime, Utc};
use cqrs_es::test::TestFramework;

use crate::actor::{Actor, ActorRole, Authored};
use crate::ids::OrderId;
use crate::month::YearMonth;
use crate::order::{
    Civility, Order, OrderCommand, OrderContact, OrderEvent, OrderReference, PlaceOrder,
    ServiceCatalogue, ServiceItem, ServiceItemId,
};
use crate::testing::{TestServices, contract_id, utc};
use crate::text::{Email, FreeText, Login, Name, PhoneNumber};

/// Tuesday 2026-02-03 09:28 UTC, 10:28 in Paris (the seed's order, nine years on).
pub fn tuesday_morning() -> DateTime<Utc> {
    utc(2026, 2, 3, 9, 28, 0)
}

pub fn framework(services: &TestServices) -> TestFramework<Order> {
    TestFramework::with(services.services.clone())
}

pub fn actor(login: &str, role: ActorRole) -> Actor {
    Actor::new(Login::parse(login).unwrap(), role)
}

pub fn customer() -> Actor {
    actor("paul.dupont", ActorRole::Customer)
}

pub fn agent() -> Actor {
    actor("agent.martin", ActorRole::Agent)
}

pub fn admin() -> Actor {
    actor("admin.leroy", ActorRole::Admin)
}

pub fn analyst() -> Actor {
    actor("analyst.durand", ActorRole::Analyst)
}

pub fn by(actor: Actor, command: OrderCommand) -> Authored<OrderCommand> {
    Authored::new(actor, command)
}

pub fn order_id() -> OrderId {
    OrderId::parse("ORD0195d3a4b7c87e2a9f1d5b6c7d8e9f10").unwrap()
}

pub fn text(value: &str) -> FreeText {
    FreeText::parse(value).unwrap()
}

pub fn email(value: &str) -> Email {
    Email::parse(value).unwrap()
}

pub fn item_id(value: &str) -> ServiceItemId {
    ServiceItemId::parse(value).unwrap()
}

/// An item of the default catalogue.
pub fn item(id: &str) -> ServiceItem {
    ServiceCatalogue::default()
        .item(&item_id(id))
        .cloned()
        .unwrap()
}

/// `Pack Expert 4H`: 450 € excluding tax.
pub fn expert_pack() -> ServiceItem {
    item("pack-expert-4h")
}

/// `Prestation de migration`: sold on quote.
pub fn migration() -> ServiceItem {
    item("prestation-migration")
}

/// The contact of seed 003, figure 14.
pub fn contact() -> OrderContact {
    OrderContact {
        civility: Civility::Mr,
        last_name: Name::parse("Dupont").unwrap(),
        first_name: Name::parse("Paul").unwrap(),
        email: email("paul.dupont@orangecloud.com"),
        landline: Some(PhoneNumber::parse("0202020202").unwrap()),
        mobile: Some(PhoneNumber::parse("0606060606").unwrap()),
    }
}

pub fn place(item: &ServiceItem) -> OrderCommand {
    OrderCommand::PlaceOrder(PlaceOrder {
        order_id: order_id(),
        contract: contract_id(),
        item: item.id.clone(),
        contact: contact(),
        comments: Some(text("Intervention le matin de préférence.")),
    })
}

pub fn reference() -> OrderReference {
    OrderReference::new(
        crate::contract::Offer::FlexibleComputingAdvanced,
        &contract_id(),
        YearMonth::new(2026, 2).unwrap(),
        1,
    )
}

/// [`place`] on [`tuesday_morning`]: the first order of February 2026,
/// `FCA0124-2602-0001`.
pub fn placed(item: ServiceItem) -> OrderEvent {
    OrderEvent::OrderPlaced {
        at: tuesday_morning(),
        order_id: order_id(),
        contract: contract_id(),
        reference: reference(),
        reference_month: YearMonth::new(2026, 2).unwrap(),
        reference_sequence: 1,
        item,
        contact: contact(),
        comments: Some(text("Intervention le matin de préférence.")),
    }
}

pub fn confirmation(item: &ServiceItem) -> OrderEvent {
    OrderEvent::OrderConfirmationRecorded {
        at: tuesday_morning(),
        reference: reference(),
        recipients: vec![email("paul.dupont@orangecloud.com")],
        item_name: item.name.clone(),
    }
}

/// An order placed for `item`, confirmation included.
pub fn placed_history(item: ServiceItem) -> Vec<OrderEvent> {
    let confirmation = confirmation(&item);
    vec![placed(item), confirmation]
}

pub fn quoted() -> OrderEvent {
    OrderEvent::OrderQuoted {
        at: utc(2026, 2, 4, 9, 0, 0),
        reference: reference(),
        amount_cents: 480_000,
        note: Some(text("Migration de 12 VM, 6 jours.")),
    }
}

pub fn quote_accepted() -> OrderEvent {
    OrderEvent::OrderQuoteAccepted {
        at: utc(2026, 2, 5, 9, 0, 0),
        reference: reference(),
        amount_cents: 480_000,
    }
}

pub fn started() -> OrderEvent {
    OrderEvent::OrderStarted {
        at: utc(2026, 2, 6, 9, 0, 0),
        reference: reference(),
    }
}

pub fn completed(amount_cents: u64) -> OrderEvent {
    OrderEvent::OrderCompleted {
        at: utc(2026, 2, 10, 16, 0, 0),
        reference: reference(),
        amount_cents,
        note: None,
    }
}
