//! The stored form of every order event is a contract: these snapshots must only ever
//! gain optional fields. A failing snapshot means stored events would no longer read back.

use cqrs_es::DomainEvent;

use crate::order::fixtures::*;
use crate::order::{OrderEvent, OrderStatus};
use crate::testing::utc;

/// One event of each variant, with fixed instants and ids.
fn one_of_each() -> Vec<OrderEvent> {
    vec![
        placed(migration()),
        confirmation(&migration()),
        quoted(),
        quote_accepted(),
        OrderEvent::OrderQuoteDeclined {
            at: utc(2026, 2, 5, 9, 0, 0),
            reference: reference(),
            amount_cents: 480_000,
            reason: Some(text("Budget refusé.")),
        },
        started(),
        OrderEvent::OrderCompleted {
            at: utc(2026, 2, 10, 16, 0, 0),
            reference: reference(),
            amount_cents: 480_000,
            note: Some(text("12 VM migrées.")),
        },
        OrderEvent::OrderCancelled {
            at: utc(2026, 2, 4, 11, 0, 0),
            reference: reference(),
            previous_status: OrderStatus::Transmitted,
            reason: text("Demande du client par téléphone."),
        },
        OrderEvent::OrderQuoteCorrected {
            at: utc(2026, 2, 11, 9, 0, 0),
            reference: reference(),
            amount_cents: 480_000,
            previous_amount_cents: 9_223_372_036_854_775_808,
            reason: text("Devis saisi avant le plafonnement des montants."),
            status: OrderStatus::Completed,
        },
    ]
}

#[test]
fn every_event_variant_keeps_its_stored_form() {
    let events = one_of_each();
    assert_eq!(events.len(), 9, "one event of each variant");
    for event in events {
        insta::assert_json_snapshot!(event.event_type(), event);
    }
}

/// A fixed price serializes differently from "on quote": keep both shapes.
#[test]
fn an_order_placed_at_a_fixed_price_keeps_its_stored_form() {
    insta::assert_json_snapshot!("OrderPlaced_fixed_price", placed(expert_pack()));
}

#[test]
fn stored_events_read_back_and_name_their_type() {
    for event in one_of_each() {
        let stored = serde_json::to_value(&event).unwrap();
        let type_name = stored.as_object().unwrap().keys().next().unwrap().clone();
        assert_eq!(type_name, event.event_type());
        assert_eq!(event.event_version(), "1");
        let read_back: OrderEvent = serde_json::from_value(stored).unwrap();
        assert_eq!(read_back, event);
    }
}
