//! Given / when / then: every order command, accepted and refused.

use crate::money::Cents;
use std::sync::Arc;

use async_trait::async_trait;

use crate::actor::ActorRole;
use crate::contract::Offer;
use crate::ids::ContractId;
use crate::month::YearMonth;
use crate::order::fixtures::*;
use crate::order::{
    OrderCommand, OrderContact, OrderError, OrderEvent, OrderReference, OrderStatus, PlaceOrder,
    Price, ServiceCatalogue,
};
use crate::services::{OrderReferences, Port, PortError};
use crate::testing::{TestServices, contract_id, utc};
use crate::text::{Login, PhoneNumber};

fn services() -> TestServices {
    TestServices::at(tuesday_morning())
}

fn wrong_status(status: OrderStatus, action: &'static str) -> OrderError {
    OrderError::WrongStatus { status, action }
}

fn not_permitted(role: ActorRole, action: &'static str) -> OrderError {
    OrderError::NotPermitted { role, action }
}

fn place_with(change: impl FnOnce(&mut PlaceOrder)) -> OrderCommand {
    let OrderCommand::PlaceOrder(mut order) = place(&expert_pack()) else {
        unreachable!("place builds a PlaceOrder");
    };
    change(&mut order);
    OrderCommand::PlaceOrder(order)
}

/// The reference the fixture contract gets for `sequence` in `year`-`month`.
fn reference_for(year: i32, month: u32, sequence: u32) -> OrderReference {
    OrderReference::new(
        Offer::FlexibleComputingAdvanced,
        &contract_id(),
        YearMonth::new(year, month).unwrap(),
        sequence,
    )
}

// --- PlaceOrder --------------------------------------------------------------------------

#[test]
fn a_customer_places_an_order_which_is_confirmed_at_once() {
    framework(&services())
        .given_no_previous_events()
        .when(by(customer(), place(&expert_pack())))
        .then_expect_events(placed_history(expert_pack()));
}

#[test]
fn the_order_keeps_a_copy_of_the_item_with_its_price() {
    let events = framework(&services())
        .given_no_previous_events()
        .when(by(customer(), place(&expert_pack())))
        .inspect_result()
        .unwrap();
    let OrderEvent::OrderPlaced { item, .. } = &events[0] else {
        panic!("the first event is OrderPlaced, got {events:?}");
    };
    assert_eq!(item.name.as_str(), "Pack Expert 4H");
    assert_eq!(item.category.as_str(), "EXPERTISE");
    assert_eq!(
        item.price,
        Price::Fixed {
            cents_excl_tax: 45_000
        }
    );
}

#[test]
fn staff_place_an_order_sold_on_quote() {
    framework(&services())
        .given_no_previous_events()
        .when(by(agent(), place(&migration())))
        .then_expect_events(placed_history(migration()));
}

#[test]
fn the_confirmation_also_goes_to_the_customer_who_ordered_for_another_contact() {
    let services = services();
    services.identities.insert(
        email("paul.dupont@orangecloud.com"),
        Login::parse("paul.dupont").unwrap(),
    );
    let command = place_with(|order| order.contact.email = email("julie.dupont@orangecloud.com"));
    let events = framework(&services)
        .given_no_previous_events()
        .when(by(customer(), command))
        .inspect_result()
        .unwrap();
    assert_eq!(
        events[1],
        OrderEvent::OrderConfirmationRecorded {
            at: tuesday_morning(),
            reference: reference(),
            recipients: vec![
                email("julie.dupont@orangecloud.com"),
                email("paul.dupont@orangecloud.com"),
            ],
            item_name: expert_pack().name,
        }
    );
}

#[test]
fn references_count_up_within_a_contract_month() {
    let services = services();
    for sequence in 1..=3 {
        let events = framework(&services)
            .given_no_previous_events()
            .when(by(customer(), place(&expert_pack())))
            .inspect_result()
            .unwrap();
        let OrderEvent::OrderPlaced { reference, .. } = &events[0] else {
            panic!("the first event is OrderPlaced, got {events:?}");
        };
        assert_eq!(reference, &reference_for(2026, 2, sequence));
    }
    assert_eq!(reference_for(2026, 2, 3).as_str(), "FCA0124-2602-0003");
}

/// 2026-01-31 23:30 UTC is 2026-02-01 00:30 in Paris (UTC+1): a February order.
#[test]
fn the_reference_month_is_read_in_the_contract_time_zone() {
    let services = TestServices::at(utc(2026, 1, 31, 23, 30, 0));
    let events = framework(&services)
        .given_no_previous_events()
        .when(by(customer(), place(&expert_pack())))
        .inspect_result()
        .unwrap();
    let OrderEvent::OrderPlaced {
        reference,
        reference_month,
        reference_sequence,
        ..
    } = &events[0]
    else {
        panic!("the first event is OrderPlaced, got {events:?}");
    };
    assert_eq!(reference.as_str(), "FCA0124-2602-0001");
    assert_eq!(reference_month.to_string(), "2026-02");
    assert_eq!(*reference_sequence, 1);
}

#[test]
fn a_refused_order_never_consumes_a_reference() {
    let services = services();
    let refused = [
        (
            by(
                customer(),
                place_with(|order| order.item = item_id("pack-inconnu")),
            ),
            OrderError::UnknownItem(item_id("pack-inconnu")),
        ),
        (
            by(
                customer(),
                place_with(|order| order.contract = ContractId::parse("OCB0009999").unwrap()),
            ),
            OrderError::UnknownContract(ContractId::parse("OCB0009999").unwrap()),
        ),
        (
            by(
                customer(),
                place_with(|order| {
                    order.contact.landline = None;
                    order.contact.mobile = None;
                }),
            ),
            OrderError::MissingPhone,
        ),
        (
            by(analyst(), place(&expert_pack())),
            not_permitted(
                ActorRole::Analyst,
                "change an order (analysts are read-only)",
            ),
        ),
    ];
    for (command, error) in refused {
        framework(&services)
            .given_no_previous_events()
            .when(command)
            .then_expect_error(error);
    }
    framework(&services)
        .given_no_previous_events()
        .when(by(customer(), place(&expert_pack())))
        .then_expect_events(placed_history(expert_pack()));
}

#[test]
fn an_order_is_placed_once() {
    framework(&services())
        .given(placed_history(expert_pack()))
        .when(by(customer(), place(&expert_pack())))
        .then_expect_error(OrderError::AlreadyExists);
}

#[test]
fn the_item_must_be_in_the_catalogue() {
    let mut services = services();
    services.services.service_catalogue = Arc::new(ServiceCatalogue::new(vec![migration()]));
    framework(&services)
        .given_no_previous_events()
        .when(by(customer(), place(&expert_pack())))
        .then_expect_error(OrderError::UnknownItem(expert_pack().id));
}

#[test]
fn one_phone_number_is_enough() {
    let mobile_only = OrderContact {
        landline: None,
        ..contact()
    };
    let landline_only = OrderContact {
        mobile: None,
        landline: Some(PhoneNumber::parse("+33 1 23 45 67 89").unwrap()),
        ..contact()
    };
    for phones in [mobile_only, landline_only] {
        let events = framework(&services())
            .given_no_previous_events()
            .when(by(
                customer(),
                place_with(|order| order.contact = phones.clone()),
            ))
            .inspect_result()
            .unwrap();
        assert!(
            matches!(&events[0], OrderEvent::OrderPlaced { contact, .. } if contact == &phones)
        );
    }
}

struct ReferencesDown;

#[async_trait]
impl OrderReferences for ReferencesDown {
    async fn next_sequence(
        &self,
        _contract: &ContractId,
        _month: YearMonth,
    ) -> Result<u32, PortError> {
        Err(port_down(Port::OrderReferences))
    }
}

#[test]
fn a_port_failure_refuses_the_order_and_may_be_retried() {
    let mut services = services();
    services.services.order_references = Arc::new(ReferencesDown);
    framework(&services)
        .given_no_previous_events()
        .when(by(customer(), place(&expert_pack())))
        .then_expect_error(OrderError::Unavailable(port_down(Port::OrderReferences)));
}

// --- Quote, AcceptQuote, DeclineQuote ----------------------------------------------------

#[test]
fn staff_quote_an_item_sold_on_quote() {
    framework(&services())
        .given(placed_history(migration()))
        .when(by(
            agent(),
            OrderCommand::Quote {
                amount_cents: Cents::parse("amount_cents", 480_000).unwrap(),
                note: Some(text("Migration de 12 VM, 6 jours.")),
            },
        ))
        .then_expect_events(vec![OrderEvent::OrderQuoted {
            at: tuesday_morning(),
            reference: reference(),
            amount_cents: 480_000,
            note: Some(text("Migration de 12 VM, 6 jours.")),
        }]);
}

#[test]
fn an_item_with_a_catalogue_price_is_not_quoted() {
    framework(&services())
        .given(placed_history(expert_pack()))
        .when(by(
            agent(),
            OrderCommand::Quote {
                amount_cents: Cents::parse("amount_cents", 1).unwrap(),
                note: None,
            },
        ))
        .then_expect_error(OrderError::NotOnQuote);
}

#[test]
fn only_staff_quote() {
    framework(&services())
        .given(placed_history(migration()))
        .when(by(
            customer(),
            OrderCommand::Quote {
                amount_cents: Cents::parse("amount_cents", 1).unwrap(),
                note: None,
            },
        ))
        .then_expect_error(not_permitted(ActorRole::Customer, "quote an order"));
}

#[test]
fn only_a_transmitted_order_is_quoted() {
    let quote = || OrderCommand::Quote {
        amount_cents: Cents::parse("amount_cents", 1).unwrap(),
        note: None,
    };
    framework(&services())
        .given_no_previous_events()
        .when(by(agent(), quote()))
        .then_expect_error(OrderError::NotFound);
    let mut history = placed_history(migration());
    history.push(quoted());
    framework(&services())
        .given(history)
        .when(by(agent(), quote()))
        .then_expect_error(wrong_status(OrderStatus::Quoted, "quote"));
}

fn quoted_history() -> Vec<OrderEvent> {
    let mut history = placed_history(migration());
    history.push(quoted());
    history
}

fn accepted_history() -> Vec<OrderEvent> {
    let mut history = quoted_history();
    history.push(quote_accepted());
    history
}

#[test]
fn the_customer_accepts_the_quote() {
    framework(&services())
        .given(quoted_history())
        .when(by(customer(), OrderCommand::AcceptQuote))
        .then_expect_events(vec![OrderEvent::OrderQuoteAccepted {
            at: tuesday_morning(),
            reference: reference(),
            amount_cents: 480_000,
        }]);
}

#[test]
fn staff_do_not_accept_a_quote() {
    framework(&services())
        .given(quoted_history())
        .when(by(agent(), OrderCommand::AcceptQuote))
        .then_expect_error(not_permitted(
            ActorRole::Agent,
            "accept a quote (the customer does)",
        ));
}

#[test]
fn only_a_pending_quote_is_accepted() {
    framework(&services())
        .given(placed_history(migration()))
        .when(by(customer(), OrderCommand::AcceptQuote))
        .then_expect_error(wrong_status(
            OrderStatus::Transmitted,
            "accept the quote of",
        ));
}

#[test]
fn the_customer_declines_the_quote_which_closes_the_order() {
    let declined = OrderEvent::OrderQuoteDeclined {
        at: tuesday_morning(),
        reference: reference(),
        amount_cents: 480_000,
        reason: Some(text("Budget refusé.")),
    };
    framework(&services())
        .given(quoted_history())
        .when(by(
            customer(),
            OrderCommand::DeclineQuote {
                reason: Some(text("Budget refusé.")),
            },
        ))
        .then_expect_events(vec![declined.clone()]);
    let mut history = quoted_history();
    history.push(declined);
    framework(&services())
        .given(history)
        .when(by(agent(), OrderCommand::Start))
        .then_expect_error(wrong_status(OrderStatus::QuoteDeclined, "start"));
}

#[test]
fn staff_do_not_decline_a_quote() {
    framework(&services())
        .given(quoted_history())
        .when(by(agent(), OrderCommand::DeclineQuote { reason: None }))
        .then_expect_error(not_permitted(
            ActorRole::Agent,
            "decline a quote (the customer does)",
        ));
}

#[test]
fn only_a_pending_quote_is_declined() {
    framework(&services())
        .given(accepted_history())
        .when(by(customer(), OrderCommand::DeclineQuote { reason: None }))
        .then_expect_error(wrong_status(
            OrderStatus::QuoteAccepted,
            "decline the quote of",
        ));
}

// --- Start, Complete ---------------------------------------------------------------------

#[test]
fn staff_start_an_order_with_a_catalogue_price_at_once() {
    framework(&services())
        .given(placed_history(expert_pack()))
        .when(by(agent(), OrderCommand::Start))
        .then_expect_events(vec![OrderEvent::OrderStarted {
            at: tuesday_morning(),
            reference: reference(),
        }]);
}

#[test]
fn an_order_sold_on_quote_starts_once_the_quote_is_accepted() {
    framework(&services())
        .given(placed_history(migration()))
        .when(by(agent(), OrderCommand::Start))
        .then_expect_error(OrderError::QuoteRequired);
    framework(&services())
        .given(quoted_history())
        .when(by(agent(), OrderCommand::Start))
        .then_expect_error(wrong_status(OrderStatus::Quoted, "start"));
    framework(&services())
        .given(accepted_history())
        .when(by(agent(), OrderCommand::Start))
        .then_expect_events(vec![OrderEvent::OrderStarted {
            at: tuesday_morning(),
            reference: reference(),
        }]);
}

#[test]
fn only_staff_start_an_order() {
    framework(&services())
        .given(placed_history(expert_pack()))
        .when(by(customer(), OrderCommand::Start))
        .then_expect_error(not_permitted(ActorRole::Customer, "start an order"));
}

#[test]
fn a_started_order_is_not_started_again() {
    let mut history = placed_history(expert_pack());
    history.push(started());
    framework(&services())
        .given(history)
        .when(by(agent(), OrderCommand::Start))
        .then_expect_error(wrong_status(OrderStatus::InProgress, "start"));
}

#[test]
fn a_completed_order_carries_its_catalogue_price() {
    let mut history = placed_history(expert_pack());
    history.push(started());
    framework(&services())
        .given(history)
        .when(by(
            agent(),
            OrderCommand::Complete {
                note: Some(text("4 h d'expertise réalisées.")),
            },
        ))
        .then_expect_events(vec![OrderEvent::OrderCompleted {
            at: tuesday_morning(),
            reference: reference(),
            amount_cents: 45_000,
            note: Some(text("4 h d'expertise réalisées.")),
        }]);
}

#[test]
fn a_completed_order_sold_on_quote_carries_its_accepted_quote() {
    let mut history = accepted_history();
    history.push(started());
    framework(&services())
        .given(history)
        .when(by(agent(), OrderCommand::Complete { note: None }))
        .then_expect_events(vec![OrderEvent::OrderCompleted {
            at: tuesday_morning(),
            reference: reference(),
            amount_cents: 480_000,
            note: None,
        }]);
}

#[test]
fn only_staff_complete_an_order() {
    let mut history = placed_history(expert_pack());
    history.push(started());
    framework(&services())
        .given(history)
        .when(by(customer(), OrderCommand::Complete { note: None }))
        .then_expect_error(not_permitted(ActorRole::Customer, "complete an order"));
}

#[test]
fn only_a_started_order_is_completed() {
    framework(&services())
        .given(placed_history(expert_pack()))
        .when(by(agent(), OrderCommand::Complete { note: None }))
        .then_expect_error(wrong_status(OrderStatus::Transmitted, "complete"));
}

// --- Cancel ------------------------------------------------------------------------------

#[test]
fn staff_cancel_an_unfinished_order_with_a_reason() {
    let mut in_progress = accepted_history();
    in_progress.push(started());
    let histories = [
        (placed_history(expert_pack()), OrderStatus::Transmitted),
        (quoted_history(), OrderStatus::Quoted),
        (accepted_history(), OrderStatus::QuoteAccepted),
        (in_progress, OrderStatus::InProgress),
    ];
    for (history, previous_status) in histories {
        framework(&services())
            .given(history)
            .when(by(
                agent(),
                OrderCommand::Cancel {
                    reason: text("Demande du client par téléphone."),
                },
            ))
            .then_expect_events(vec![OrderEvent::OrderCancelled {
                at: tuesday_morning(),
                reference: reference(),
                previous_status,
                reason: text("Demande du client par téléphone."),
            }]);
    }
}

#[test]
fn customers_ask_support_to_cancel() {
    framework(&services())
        .given(placed_history(expert_pack()))
        .when(by(
            customer(),
            OrderCommand::Cancel {
                reason: text("Plus besoin."),
            },
        ))
        .then_expect_error(not_permitted(
            ActorRole::Customer,
            "cancel an order (ask Support)",
        ));
}

#[test]
fn a_finished_order_is_not_cancelled() {
    let cancel = || OrderCommand::Cancel {
        reason: text("Trop tard."),
    };
    let mut completed_history = placed_history(expert_pack());
    completed_history.extend([started(), completed(45_000)]);
    let mut cancelled_history = placed_history(expert_pack());
    cancelled_history.push(OrderEvent::OrderCancelled {
        at: tuesday_morning(),
        reference: reference(),
        previous_status: OrderStatus::Transmitted,
        reason: text("Doublon."),
    });
    for (history, status) in [
        (completed_history, OrderStatus::Completed),
        (cancelled_history, OrderStatus::Cancelled),
    ] {
        framework(&services())
            .given(history)
            .when(by(agent(), cancel()))
            .then_expect_error(wrong_status(status, "cancel"));
    }
    framework(&services())
        .given_no_previous_events()
        .when(by(agent(), cancel()))
        .then_expect_error(OrderError::NotFound);
}

// --- Analysts ----------------------------------------------------------------------------

#[test]
fn analysts_are_read_only() {
    let commands = [
        place(&migration()),
        OrderCommand::Quote {
            amount_cents: Cents::parse("amount_cents", 1).unwrap(),
            note: None,
        },
        OrderCommand::AcceptQuote,
        OrderCommand::DeclineQuote { reason: None },
        OrderCommand::Start,
        OrderCommand::Complete { note: None },
        OrderCommand::Cancel {
            reason: text("Non."),
        },
    ];
    for command in commands {
        framework(&services())
            .given(quoted_history())
            .when(by(analyst(), command))
            .then_expect_error(not_permitted(
                ActorRole::Analyst,
                "change an order (analysts are read-only)",
            ));
    }
}

// --- The default catalogue ---------------------------------------------------------------

#[test]
fn the_default_catalogue_holds_the_seed_items_and_prices() {
    let catalogue = ServiceCatalogue::default();
    let price_of = |id: &str| catalogue.item(&item_id(id)).unwrap().price;
    assert_eq!(
        price_of("pack-formation-vcloud-director"),
        Price::euros(600)
    );
    assert_eq!(price_of("prestation-migration"), Price::OnQuote);
    assert_eq!(price_of("pack-expert-4h"), Price::euros(450));
    assert_eq!(price_of("pack-expert-8h"), Price::euros(800));
    assert_eq!(price_of("pack-logiciel-wamp"), Price::euros(300));
    assert_eq!(catalogue.items().len(), 12);
    let mut ids: Vec<_> = catalogue.items().iter().map(|item| &item.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12, "item ids are unique");
}

// --- CorrectQuote (issue 20) ---------------------------------------------------------------

fn correction(amount_cents: u64) -> OrderCommand {
    OrderCommand::CorrectQuote {
        amount_cents: Cents::parse("amount_cents", amount_cents).unwrap(),
        reason: text("Devis saisi avant le plafonnement des montants."),
    }
}

/// A quote of 2^63 cents, as a server written before amounts were bounded stored it,
/// accepted and completed.
fn completed_before_bounds_history() -> Vec<OrderEvent> {
    let huge = 1_u64 << 63;
    let mut history = placed_history(migration());
    history.extend([
        OrderEvent::OrderQuoted {
            at: utc(2026, 2, 4, 9, 0, 0),
            reference: reference(),
            amount_cents: huge,
            note: None,
        },
        OrderEvent::OrderQuoteAccepted {
            at: utc(2026, 2, 5, 9, 0, 0),
            reference: reference(),
            amount_cents: huge,
        },
        started(),
        completed(huge),
    ]);
    history
}

#[test]
fn issue_20_an_administrator_corrects_the_quote_of_a_completed_order_written_before_bounds() {
    framework(&services())
        .given(completed_before_bounds_history())
        .when(by(admin(), correction(480_000)))
        .then_expect_events(vec![OrderEvent::OrderQuoteCorrected {
            at: tuesday_morning(),
            reference: reference(),
            amount_cents: 480_000,
            previous_amount_cents: 1 << 63,
            reason: text("Devis saisi avant le plafonnement des montants."),
            status: OrderStatus::Completed,
        }]);
}

#[test]
fn issue_20_an_order_completes_at_its_corrected_quote() {
    let mut history = quoted_history();
    history.push(OrderEvent::OrderQuoteCorrected {
        at: utc(2026, 2, 4, 10, 0, 0),
        reference: reference(),
        amount_cents: 450_000,
        previous_amount_cents: 480_000,
        reason: text("Remise accordée."),
        status: OrderStatus::Quoted,
    });
    history.push(OrderEvent::OrderQuoteAccepted {
        at: utc(2026, 2, 5, 9, 0, 0),
        reference: reference(),
        amount_cents: 450_000,
    });
    history.push(started());
    framework(&services())
        .given(history)
        .when(by(agent(), OrderCommand::Complete { note: None }))
        .then_expect_events(vec![OrderEvent::OrderCompleted {
            at: tuesday_morning(),
            reference: reference(),
            amount_cents: 450_000,
            note: None,
        }]);
}

#[test]
fn issue_20_only_an_administrator_corrects_a_quote() {
    for actor in [agent(), customer()] {
        let role = actor.role;
        framework(&services())
            .given(completed_before_bounds_history())
            .when(by(actor, correction(480_000)))
            .then_expect_error(not_permitted(
                role,
                "correct a quote (an administrator does)",
            ));
    }
    framework(&services())
        .given(completed_before_bounds_history())
        .when(by(analyst(), correction(480_000)))
        .then_expect_error(not_permitted(
            ActorRole::Analyst,
            "change an order (analysts are read-only)",
        ));
}

#[test]
fn issue_20_a_quote_is_corrected_only_once_there_is_one_and_to_another_amount() {
    framework(&services())
        .given_no_previous_events()
        .when(by(admin(), correction(480_000)))
        .then_expect_error(OrderError::NotFound);
    // A fixed price, and an item on quote not quoted yet: no quote to correct.
    framework(&services())
        .given(placed_history(expert_pack()))
        .when(by(admin(), correction(480_000)))
        .then_expect_error(OrderError::NoQuoteToCorrect);
    framework(&services())
        .given(placed_history(migration()))
        .when(by(admin(), correction(480_000)))
        .then_expect_error(OrderError::NoQuoteToCorrect);
    framework(&services())
        .given(quoted_history())
        .when(by(admin(), correction(480_000)))
        .then_expect_error(OrderError::QuoteUnchanged(480_000));
    // The corrected amount is bounded like a quote.
    let refused = Cents::parse("amount_cents", Cents::MAX + 1).unwrap_err();
    assert_eq!(refused.field, "amount_cents");
}

fn port_down(port: Port) -> PortError {
    PortError::new(port, std::io::Error::other("order references unavailable"))
}
