//! Domain events for the request-list and audit-trail tests, built from a few readable
//! arguments. Instants are in November 2026 (UTC).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use sablier_domain::change::{ArticleRef, ChangeEvent, LeadTime};
use sablier_domain::contract::{ContractEvent, DeclaredUser, Offer};
use sablier_domain::incident::{ClockChange, ClockChangeKind, IncidentEvent};
use sablier_domain::order::{
    Civility, OrderContact, OrderEvent, OrderReference, Price, ServiceCategory, ServiceItem,
    ServiceItemId,
};
use sablier_domain::text::{
    AssetRef, CustomerReference, Email, FreeText, Login, Name, PhoneNumber, Title,
};
use sablier_domain::{ContractId, YearMonth};
use sablier_sla::{Metric, Priority, Tier};

use crate::event::DomainEvent;

pub(crate) type Fed = (String, DomainEvent);

/// 2026-11-`day` `hour`:`minute`:00 UTC.
pub(crate) fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, minute, 0)
        .unwrap()
}

pub(crate) fn contract_id(id: &str) -> ContractId {
    ContractId::parse(id).unwrap()
}

/// Contracts a customer reads every kind of request on.
pub(crate) fn every_kind_on(ids: &[&str]) -> Vec<crate::request_list::VisibleContract> {
    ids.iter()
        .map(|id| crate::request_list::VisibleContract::every_kind(contract_id(id)))
        .collect()
}

/// `INC`, `CHG` or `ORD` and `n` as 32 hex digits.
pub(crate) fn request_id(prefix: &str, n: u32) -> String {
    format!("{prefix}{n:032x}")
}

pub(crate) fn title(text: &str) -> Title {
    Title::parse(text).unwrap()
}

pub(crate) fn text(text: &str) -> FreeText {
    FreeText::parse(text).unwrap()
}

pub(crate) fn login(text: &str) -> Login {
    Login::parse(text).unwrap()
}

pub(crate) fn email(text: &str) -> Email {
    Email::parse(text).unwrap()
}

pub(crate) fn user(login_text: &str) -> DeclaredUser {
    DeclaredUser {
        login: login(login_text),
        email: email(&format!("{login_text}@example.com")),
        first_name: Name::parse("Jean").unwrap(),
        last_name: Name::parse("Dupont").unwrap(),
    }
}

pub(crate) fn contract_created(id: &str, name: &str, when: DateTime<Utc>) -> Fed {
    (
        id.to_owned(),
        DomainEvent::Contract(ContractEvent::ContractCreated {
            at: when,
            contract_id: contract_id(id),
            name: title(name),
            offer: Offer::FlexibleComputingAdvanced,
            company: Name::parse("ACME").unwrap(),
            time_zone: Paris,
            tier: Tier::Silver,
            referent: user("jean.dupont"),
        }),
    )
}

pub(crate) fn contract(id: &str, event: ContractEvent) -> Fed {
    (id.to_owned(), DomainEvent::Contract(event))
}

pub(crate) fn start(metric: Metric, target_seconds: Option<i64>) -> ClockChange {
    ClockChange::new(
        metric,
        ClockChangeKind::Start {
            target_seconds,
            calendar: "24x7".to_owned(),
            pausable: metric != Metric::Gti,
        },
    )
}

pub(crate) fn incident_opened(
    id: &str,
    contract: &str,
    contract_name: &str,
    name: &str,
    when: DateTime<Utc>,
) -> Fed {
    incident(
        id,
        IncidentEvent::IncidentOpened {
            at: when,
            incident_id: sablier_domain::IncidentId::parse(id).unwrap(),
            contract_id: contract_id(contract),
            contract_name: title(contract_name),
            time_zone: Paris,
            priority: Priority::P2,
            title: title(name),
            description: text("The web site answers 502."),
            tier: Tier::Silver,
            policy_version: "default-2026".to_owned(),
            clocks: vec![
                start(Metric::Gti, Some(3600)),
                start(Metric::Gtd, Some(8 * 3600)),
                start(Metric::Gtr, Some(16 * 3600)),
            ],
        },
    )
}

pub(crate) fn incident(id: &str, event: IncidentEvent) -> Fed {
    (id.to_owned(), DomainEvent::Incident(event))
}

pub(crate) fn article(name: &str) -> ArticleRef {
    ArticleRef {
        catalogue: title("Catalogue de Changement Standard"),
        category: title("Quotas"),
        article: title(name),
    }
}

pub(crate) fn change_submitted(
    id: &str,
    contract: &str,
    article_name: &str,
    reference: Option<&str>,
    when: DateTime<Utc>,
) -> Fed {
    change(
        id,
        ChangeEvent::ChangeSubmitted {
            at: when,
            change_id: sablier_domain::ChangeId::parse(id).unwrap(),
            contract: contract_id(contract),
            asset: AssetRef::parse("vm-prod-01").unwrap(),
            article: article(article_name),
            requires_study: false,
            lead_time: LeadTime::Standard,
            lead_time_business_days: 5,
            delivery_calendar: "business-hours-fr".to_owned(),
            delivery_time_zone: Paris,
            delivery_target_seconds: 5 * 9 * 3600,
            due_at: when + chrono::Duration::days(7),
            catalogue_price_cents: Some(15_000),
            customer_reference: reference
                .map(|reference| CustomerReference::parse(reference).unwrap()),
            additional_information: None,
            attachments: Vec::new(),
            comment: None,
            unfinished_changes_on_asset: Vec::new(),
            billing: None,
        },
    )
}

pub(crate) fn change(id: &str, event: ChangeEvent) -> Fed {
    (id.to_owned(), DomainEvent::Change(event))
}

/// `FCA0124-2611-000<sequence>` on contract `OCB0000124`-like ids.
pub(crate) fn order_reference(contract: &str, sequence: u32) -> OrderReference {
    OrderReference::new(
        Offer::FlexibleComputingAdvanced,
        &contract_id(contract),
        YearMonth::new(2026, 11).unwrap(),
        sequence,
    )
}

pub(crate) fn service_item(name: &str, price: Price) -> ServiceItem {
    ServiceItem {
        id: ServiceItemId::parse("pack-expert-4h").unwrap(),
        name: title(name),
        category: ServiceCategory::parse("EXPERTISE").unwrap(),
        description: text("Four hours of an expert's time."),
        price,
    }
}

pub(crate) fn order_placed(
    id: &str,
    contract: &str,
    sequence: u32,
    item_name: &str,
    when: DateTime<Utc>,
) -> Fed {
    order(
        id,
        OrderEvent::OrderPlaced {
            at: when,
            order_id: sablier_domain::OrderId::parse(id).unwrap(),
            contract: contract_id(contract),
            reference: order_reference(contract, sequence),
            reference_month: YearMonth::new(2026, 11).unwrap(),
            reference_sequence: sequence,
            item: service_item(item_name, Price::euros(450)),
            contact: OrderContact {
                civility: Civility::Mr,
                last_name: Name::parse("Dupont").unwrap(),
                first_name: Name::parse("Paul").unwrap(),
                email: email("paul.dupont@example.com"),
                landline: Some(PhoneNumber::parse("0101010101").unwrap()),
                mobile: None,
            },
            comments: None,
        },
    )
}

pub(crate) fn order(id: &str, event: OrderEvent) -> Fed {
    (id.to_owned(), DomainEvent::Order(event))
}

pub(crate) fn date(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, day).unwrap()
}
