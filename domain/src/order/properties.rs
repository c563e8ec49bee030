//! Property: whatever commands arrive, in whatever order and from whomever, the order
//! never panics, a refused command changes nothing and consumes no reference, and the
//! lifecycle holds.

use crate::money::Cents;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use chrono::Duration;
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use proptest::prelude::*;

use crate::actor::ActorRole;
use crate::ids::ContractId;
use crate::month::YearMonth;
use crate::order::fixtures::*;
use crate::order::{Order, OrderCommand, OrderEvent, OrderStatus, PlaceOrder, Price};
use crate::services::{OrderReferences, PortError};
use crate::testing::TestServices;

const ROLES: [ActorRole; 5] = [
    ActorRole::Customer,
    ActorRole::Agent,
    ActorRole::Analyst,
    ActorRole::Admin,
    ActorRole::System,
];

/// Counts the sequences handed out.
#[derive(Default)]
struct CountingReferences {
    taken: AtomicU32,
}

#[async_trait]
impl OrderReferences for CountingReferences {
    async fn next_sequence(
        &self,
        _contract: &ContractId,
        _month: YearMonth,
    ) -> Result<u32, PortError> {
        Ok(self.taken.fetch_add(1, Ordering::SeqCst) + 1)
    }
}

/// Valid and invalid orders alike, valid ones more often.
fn place_variant(index: usize) -> OrderCommand {
    let OrderCommand::PlaceOrder(mut order) = place(&expert_pack()) else {
        unreachable!("place builds a PlaceOrder");
    };
    match index {
        2 => order.item = item_id("pack-inconnu"),
        3 => {
            order.contact.landline = None;
            order.contact.mobile = None;
        }
        odd if odd % 2 == 1 => order.item = migration().id,
        _ => {}
    }
    OrderCommand::PlaceOrder(PlaceOrder { ..order })
}

fn command(kind: usize, variant: usize, amount_cents: u64) -> OrderCommand {
    match kind {
        0 => place_variant(variant),
        1 => OrderCommand::Quote {
            amount_cents: Cents::parse("amount_cents", amount_cents.min(Cents::MAX)).unwrap(),
            note: None,
        },
        2 => OrderCommand::AcceptQuote,
        3 => OrderCommand::DeclineQuote { reason: None },
        4 => OrderCommand::Start,
        5 => OrderCommand::Complete { note: None },
        _ => OrderCommand::Cancel {
            reason: text("Annulée."),
        },
    }
}

/// The role a command is meant for: the customer's own, or staff's.
fn natural_role(kind: usize) -> ActorRole {
    match kind {
        0 | 2 | 3 => ActorRole::Customer,
        _ => ActorRole::Agent,
    }
}

/// (role, command, variant, amount, minutes later). A role index past [`ROLES`] picks the
/// command's natural role, so that sequences reach the later statuses often.
fn step() -> impl Strategy<Value = (usize, usize, usize, u64, i64)> {
    (
        0..ROLES.len() * 3,
        0..7usize,
        0..6usize,
        0..10_000_000u64,
        0..5_000i64,
    )
}

fn check_invariants(order: &Order) {
    let Some(status) = order.status() else {
        assert_eq!(
            order,
            &Order::default(),
            "nothing recorded before the order"
        );
        return;
    };
    assert!(
        order.reference().is_some(),
        "a placed order has its reference"
    );
    assert!(order.confirmation_recorded(), "a placed order is confirmed");
    let on_quote = order.price() == Some(Price::OnQuote);
    if matches!(status, OrderStatus::InProgress | OrderStatus::Completed) {
        assert!(order.started_at().is_some(), "in progress means started");
        if on_quote {
            assert!(
                order.quote_accepted(),
                "an order on quote starts after its quote"
            );
        }
    }
    if order.quote_cents().is_some() {
        assert!(on_quote, "only orders on quote are quoted");
    }
    if status == OrderStatus::Completed {
        assert!(order.started_at() <= order.completed_at());
    } else {
        assert!(order.completed_at().is_none());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_command_sequences_keep_the_lifecycle(steps in prop::collection::vec(step(), 1..32)) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let mut services = TestServices::at(tuesday_morning());
        let references = Arc::new(CountingReferences::default());
        services.services.order_references = references.clone();
        let mut order = Order::default();
        let mut history = Vec::new();
        let mut placements = 0;
        for (role, kind, variant, amount_cents, minutes) in steps {
            services.clock.advance(Duration::minutes(minutes));
            let role = ROLES.get(role).copied().unwrap_or_else(|| natural_role(kind));
            let before = order.clone();
            let sink = EventSink::default();
            let result = runtime.block_on(order.handle(
                by(actor("someone.acting", role), command(kind, variant, amount_cents)),
                &services.services,
                &sink,
            ));
            let events = runtime.block_on(sink.collect());
            match result {
                Err(_) => {
                    prop_assert!(events.is_empty(), "a refused command emits nothing");
                    prop_assert_eq!(&order, &before, "a refused command changes nothing");
                }
                Ok(()) => {
                    prop_assert_ne!(role, ActorRole::Analyst, "analysts are read-only");
                    match before.status() {
                        None => {
                            placements += 1;
                            prop_assert_eq!(events.len(), 2);
                            prop_assert!(
                                matches!(events[0], OrderEvent::OrderPlaced { .. }),
                                "an order starts placed"
                            );
                            prop_assert!(
                                matches!(events[1], OrderEvent::OrderConfirmationRecorded { .. }),
                                "and confirmed"
                            );
                        }
                        Some(status) => {
                            prop_assert_eq!(events.len(), 1);
                            let next = events[0].status_after().expect("a status change");
                            prop_assert!(status.may_become(next), "{} to {}", status, next);
                        }
                    }
                    history.extend(events);
                }
            }
            check_invariants(&order);
        }
        prop_assert_eq!(
            references.taken.load(Ordering::SeqCst), placements,
            "only placed orders take a reference"
        );
        let mut replayed = Order::default();
        for event in history {
            replayed.apply(event);
        }
        prop_assert_eq!(replayed, order, "replaying the log rebuilds the same order");
    }
}
