//! The billing view, fed events and compared, bill by bill, with bills written by hand, on
//! SQLite and (when `SABLIER_TEST_POSTGRES_URL` is set) PostgreSQL.
//!
//! Europe/Paris is UTC+1 until 2026-03-29 01:00Z, UTC+2 until 2026-10-25 01:00Z, then
//! UTC+1 again: local midnight on the first of a month is 23:00Z the day before from
//! November to March and 22:00Z the day before from April to October.
//!
//! The contract events are built as `Contract::decide` builds them: a tier decision taken
//! at `at` takes effect on the first day of the month after the one `at` falls in, read in
//! the contract's time zone.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sablier_domain::change::{ArticleRef, ChangeEvent, ChangeStatus, LeadTime, SubmissionBilling};
use sablier_domain::contract::{ContractEvent, DeclaredUser, Offer};
use sablier_domain::month::YearMonth;
use sablier_domain::order::{
    Civility, OrderContact, OrderEvent, OrderReference, OrderStatus, ServiceCatalogue,
    ServiceItemId,
};
use sablier_domain::text::{AssetRef, Email, FreeText, Login, Name, Title};
use sablier_domain::{ChangeId, ContractId, OrderId};
use sablier_sla::Tier;
use sablier_store::testing::TestDatabase;

use super::*;
use crate::event::DomainEvent;
use crate::sql::begin;
use crate::testing;

const PARIS: Tz = chrono_tz::Europe::Paris;

// ---------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------

type Fed = (String, DomainEvent);

fn at(value: &str) -> DateTime<Utc> {
    value.parse().expect("an RFC 3339 instant")
}

fn date(value: &str) -> NaiveDate {
    value.parse().expect("a YYYY-MM-DD date")
}

fn month(value: &str) -> YearMonth {
    value.parse().expect("a YYYY-MM month")
}

/// A contract in `time_zone`, and the events about it.
struct Contract {
    id: ContractId,
    time_zone: Tz,
}

impl Contract {
    fn paris(number: u32) -> Self {
        Self::in_zone(number, PARIS)
    }

    fn in_zone(number: u32, time_zone: Tz) -> Self {
        Self {
            id: ContractId::parse(format!("OCB{number:07}")).unwrap(),
            time_zone,
        }
    }

    fn event(&self, event: ContractEvent) -> Fed {
        (self.id.to_string(), DomainEvent::Contract(event))
    }

    fn created(&self, instant: &str, tier: Tier) -> Fed {
        self.event(ContractEvent::ContractCreated {
            at: at(instant),
            contract_id: self.id.clone(),
            name: Title::parse("SI_Prod").unwrap(),
            offer: Offer::FlexibleComputingAdvanced,
            company: Name::parse("Orange Cloud Demo").unwrap(),
            time_zone: self.time_zone,
            tier,
            referent: DeclaredUser {
                login: Login::parse("jean.dupont").unwrap(),
                email: Email::parse("jean.dupont@example.com").unwrap(),
                first_name: Name::parse("Jean").unwrap(),
                last_name: Name::parse("Dupont").unwrap(),
            },
        })
    }

    /// The month a decision taken at `instant` takes effect in.
    fn month_after(&self, instant: &str) -> YearMonth {
        YearMonth::containing(at(instant), self.time_zone).next()
    }

    fn upgraded(&self, instant: &str, from: Tier, to: Tier) -> Fed {
        self.upgraded_cancelling(instant, from, to, None)
    }

    fn upgraded_cancelling(
        &self,
        instant: &str,
        from: Tier,
        to: Tier,
        cancelled_downgrade: Option<Tier>,
    ) -> Fed {
        let billed_from = self.month_after(instant);
        self.event(ContractEvent::SupportTierUpgraded {
            at: at(instant),
            from,
            to,
            sla_effective_at: at(instant),
            billing_effective_on: billed_from.first_day(),
            billing_effective_at: billed_from.starts_at(self.time_zone),
            cancelled_downgrade,
        })
    }

    fn downgrade_scheduled(
        &self,
        instant: &str,
        from: Tier,
        to: Tier,
        replaced_downgrade: Option<Tier>,
    ) -> Fed {
        let effective = self.month_after(instant);
        self.event(ContractEvent::SupportTierDowngradeScheduled {
            at: at(instant),
            from,
            to,
            effective_on: effective.first_day(),
            effective_at: effective.starts_at(self.time_zone),
            replaced_downgrade,
        })
    }

    fn expert_time(&self, instant: &str, performed_on: &str, minutes: u32) -> Fed {
        self.event(ContractEvent::ExpertTimeLogged {
            at: at(instant),
            expert: Login::parse("expert.martin").unwrap(),
            performed_on: date(performed_on),
            billing_month: YearMonth::of(date(performed_on)),
            minutes,
            note: None,
        })
    }

    /// Change `number` submitted at `instant` for `Modifier mes quotas`.
    fn change_submitted(&self, number: u32, instant: &str, price_cents: Option<u64>) -> Fed {
        let article = ArticleRef {
            catalogue: Title::parse("Catalogue de Changement Standard").unwrap(),
            category: Title::parse("Quotas").unwrap(),
            article: Title::parse("Modifier mes quotas").unwrap(),
        };
        self.submitted(number, instant, article, false, price_cents)
    }

    /// Change `number` submitted at `instant` for an article sold on study (no price).
    fn study_submitted(&self, number: u32, instant: &str) -> Fed {
        let article = ArticleRef {
            catalogue: Title::parse("OCB - FE: Autres Demandes").unwrap(),
            category: Title::parse("Autres Demandes").unwrap(),
            article: Title::parse("Faire une demande sur étude").unwrap(),
        };
        self.submitted(number, instant, article, true, None)
    }

    fn submitted(
        &self,
        number: u32,
        instant: &str,
        article: ArticleRef,
        requires_study: bool,
        catalogue_price_cents: Option<u64>,
    ) -> Fed {
        let submitted_at = at(instant);
        change(
            number,
            ChangeEvent::ChangeSubmitted {
                at: submitted_at,
                change_id: change_id(number),
                contract: self.id.clone(),
                asset: AssetRef::parse("Service Flexible Engine").unwrap(),
                article,
                requires_study,
                lead_time: LeadTime::Standard,
                lead_time_business_days: 5,
                delivery_calendar: "business-hours-fr".to_owned(),
                delivery_time_zone: self.time_zone,
                delivery_target_seconds: 5 * 9 * 3600,
                due_at: submitted_at + chrono::Duration::days(7),
                catalogue_price_cents,
                customer_reference: None,
                additional_information: None,
                attachments: Vec::new(),
                comment: None,
                unfinished_changes_on_asset: Vec::new(),
                // As stored before a submission said whether it is billable.
                billing: None,
            },
        )
    }

    fn order_reference(&self, reference_month: &str, sequence: u32) -> OrderReference {
        OrderReference::new(
            Offer::FlexibleComputingAdvanced,
            &self.id,
            month(reference_month),
            sequence,
        )
    }

    /// Order `number` for `Pack Expert 4H` (450 €), the `sequence`th of `reference_month`.
    fn order_placed(&self, number: u32, instant: &str, reference: &OrderReference) -> Fed {
        let item = ServiceCatalogue::default()
            .item(&ServiceItemId::parse("pack-expert-4h").unwrap())
            .cloned()
            .expect("the default catalogue sells Pack Expert 4H");
        let reference_month = YearMonth::containing(at(instant), self.time_zone);
        order(
            number,
            OrderEvent::OrderPlaced {
                at: at(instant),
                order_id: order_id(number),
                contract: self.id.clone(),
                reference: reference.clone(),
                reference_month,
                reference_sequence: 1,
                item,
                contact: OrderContact {
                    civility: Civility::Mr,
                    last_name: Name::parse("Dupont").unwrap(),
                    first_name: Name::parse("Paul").unwrap(),
                    email: Email::parse("paul.dupont@example.com").unwrap(),
                    landline: None,
                    mobile: Some(sablier_domain::text::PhoneNumber::parse("0606060606").unwrap()),
                },
                comments: None,
            },
        )
    }
}

fn change_id(number: u32) -> ChangeId {
    ChangeId::parse(format!("CHG{number:032x}")).unwrap()
}

fn order_id(number: u32) -> OrderId {
    OrderId::parse(format!("ORD{number:032x}")).unwrap()
}

fn change(number: u32, event: ChangeEvent) -> Fed {
    (change_id(number).to_string(), DomainEvent::Change(event))
}

fn order(number: u32, event: OrderEvent) -> Fed {
    (order_id(number).to_string(), DomainEvent::Order(event))
}

fn change_completed(number: u32, instant: &str, accepted_quote_cents: Option<u64>) -> Fed {
    change(
        number,
        ChangeEvent::ChangeCompleted {
            at: at(instant),
            note: None,
            accepted_quote_cents,
        },
    )
}

fn change_cancelled(number: u32, instant: &str) -> Fed {
    change(
        number,
        ChangeEvent::ChangeCancelled {
            at: at(instant),
            previous_status: ChangeStatus::Submitted,
            reason: None,
        },
    )
}

fn change_rejected(number: u32, instant: &str) -> Fed {
    change(
        number,
        ChangeEvent::ChangeRejected {
            at: at(instant),
            previous_status: ChangeStatus::Submitted,
            reason: FreeText::parse("Hors périmètre du contrat.").unwrap(),
        },
    )
}

fn order_completed(
    number: u32,
    instant: &str,
    reference: &OrderReference,
    amount_cents: u64,
) -> Fed {
    order(
        number,
        OrderEvent::OrderCompleted {
            at: at(instant),
            reference: reference.clone(),
            amount_cents,
            note: None,
        },
    )
}

fn order_cancelled(number: u32, instant: &str, reference: &OrderReference) -> Fed {
    order(
        number,
        OrderEvent::OrderCancelled {
            at: at(instant),
            reference: reference.clone(),
            previous_status: OrderStatus::Transmitted,
            reason: FreeText::parse("Doublon de la commande précédente.").unwrap(),
        },
    )
}

// ---------------------------------------------------------------------------------------
// Expected bills
// ---------------------------------------------------------------------------------------

/// A query and the answer expected for it.
type Expected = (ContractId, YearMonth, Option<MonthlyBill>);

fn bill(
    contract: &Contract,
    billed_month: &str,
    tiers: Vec<BilledTier>,
    expert_minutes: ExpertMinutes,
    lines: Vec<BillingLine>,
) -> Expected {
    (
        contract.id.clone(),
        month(billed_month),
        Some(MonthlyBill {
            contract: contract.id.clone(),
            month: month(billed_month),
            time_zone: contract.time_zone,
            tiers,
            expert_minutes,
            lines,
        }),
    )
}

fn no_bill(contract: &Contract, billed_month: &str) -> Expected {
    (contract.id.clone(), month(billed_month), None)
}

fn billed(tier: Tier, from: &str, to: &str) -> BilledTier {
    BilledTier {
        tier,
        from: date(from),
        to: date(to),
    }
}

fn minutes(included: u32, used: u32, remaining: u32, overage: u32) -> ExpertMinutes {
    ExpertMinutes {
        included,
        used,
        remaining,
        overage,
    }
}

fn change_line(number: u32, label: &str, amount_cents: u64, effective_on: &str) -> BillingLine {
    BillingLine {
        kind: LineKind::Change,
        id: change_id(number).to_string(),
        reference: None,
        label: label.to_owned(),
        amount_cents: Some(amount_cents),
        refused_amount_cents: None,
        effective_on: date(effective_on),
    }
}

fn order_line(
    number: u32,
    reference: &str,
    label: &str,
    amount_cents: u64,
    effective_on: &str,
) -> BillingLine {
    BillingLine {
        kind: LineKind::Order,
        id: order_id(number).to_string(),
        reference: Some(reference.to_owned()),
        label: label.to_owned(),
        amount_cents: Some(amount_cents),
        refused_amount_cents: None,
        effective_on: date(effective_on),
    }
}

// ---------------------------------------------------------------------------------------
// Running a scenario on every backend
// ---------------------------------------------------------------------------------------

async fn read_bills(
    reader: &ViewReader,
    queries: &[(ContractId, YearMonth)],
) -> Result<Vec<Option<MonthlyBill>>, ProjectionError> {
    let mut bills = Vec::with_capacity(queries.len());
    for (contract, billed_month) in queries {
        bills.push(Billing::month(reader, contract, *billed_month).await?);
    }
    Ok(bills)
}

/// Feeds `events` to `billing` on SQLite (and PostgreSQL when enabled) and checks every
/// expected bill, whole.
async fn assert_bills(billing: &Billing, events: Vec<Fed>, expected: Vec<Expected>) {
    let queries: Vec<(ContractId, YearMonth)> = expected
        .iter()
        .map(|(contract, billed_month, _)| (contract.clone(), *billed_month))
        .collect();

    let (sqlite, reader) = testing::feed(billing, events.clone())
        .await
        .expect("the events apply on SQLite");
    let on_sqlite = read_bills(&reader, &queries).await;
    sqlite.cleanup().await;
    let mut results = vec![("sqlite", on_sqlite)];

    if let Some(postgres) = TestDatabase::postgres().await {
        let on_postgres = match testing::feed_into(&postgres, billing, events).await {
            Ok(()) => read_bills(&ViewReader::new(postgres.database.clone()), &queries).await,
            Err(error) => Err(error),
        };
        postgres.cleanup().await;
        results.push(("postgres", on_postgres));
    }

    for (backend, bills) in results {
        let bills = bills.unwrap_or_else(|error| panic!("{backend}: {error:?}"));
        for ((contract, billed_month, expected), actual) in expected.iter().zip(bills) {
            assert_eq!(
                &actual, expected,
                "{backend}: the bill of {contract} for {billed_month}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Tier changes
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn an_upgrade_on_the_last_paris_day_of_a_month_is_billed_from_the_next_month() {
    // 23:30 in Paris on 31 January: UTC reads the same day.
    let late_evening = Contract::paris(1);
    // 00:30 in Paris on 31 January: UTC still reads 30 January.
    let just_after_midnight = Contract::paris(2);
    // 23:59:59 in Paris on 30 June (summer time): UTC reads 21:59:59 the same day.
    let last_summer_second = Contract::paris(3);
    let events = vec![
        late_evening.created("2026-01-05T09:00:00Z", Tier::Silver),
        just_after_midnight.created("2026-01-05T09:00:00Z", Tier::Silver),
        last_summer_second.created("2026-06-02T09:00:00Z", Tier::Silver),
        late_evening.upgraded("2026-01-31T22:30:00Z", Tier::Silver, Tier::Gold),
        just_after_midnight.upgraded("2026-01-30T23:30:00Z", Tier::Silver, Tier::Gold),
        last_summer_second.upgraded("2026-06-30T21:59:59Z", Tier::Silver, Tier::Gold),
    ];
    let expected = vec![
        bill(
            &late_evening,
            "2026-01",
            vec![billed(Tier::Silver, "2026-01-05", "2026-01-31")],
            minutes(120, 0, 120, 0),
            vec![],
        ),
        bill(
            &late_evening,
            "2026-02",
            vec![billed(Tier::Gold, "2026-02-01", "2026-02-28")],
            minutes(240, 0, 240, 0),
            vec![],
        ),
        bill(
            &just_after_midnight,
            "2026-01",
            vec![billed(Tier::Silver, "2026-01-05", "2026-01-31")],
            minutes(120, 0, 120, 0),
            vec![],
        ),
        bill(
            &just_after_midnight,
            "2026-02",
            vec![billed(Tier::Gold, "2026-02-01", "2026-02-28")],
            minutes(240, 0, 240, 0),
            vec![],
        ),
        bill(
            &last_summer_second,
            "2026-06",
            vec![billed(Tier::Silver, "2026-06-02", "2026-06-30")],
            minutes(120, 0, 120, 0),
            vec![],
        ),
        bill(
            &last_summer_second,
            "2026-07",
            vec![billed(Tier::Gold, "2026-07-01", "2026-07-31")],
            minutes(240, 0, 240, 0),
            vec![],
        ),
    ];
    assert_bills(&Billing::default(), events, expected).await;
}

#[tokio::test]
async fn an_upgrade_just_after_paris_midnight_on_the_first_belongs_to_the_new_month() {
    // 31 January 23:30Z is already 1 February 00:30 in Paris: UTC still reads the last
    // day of January, so February is billed at the old tier and March at the new one.
    let winter = Contract::paris(1);
    // 30 June 22:00:00Z is 1 July 00:00:00 in Paris (summer time).
    let summer = Contract::paris(2);
    let events = vec![
        winter.created("2026-01-05T09:00:00Z", Tier::Silver),
        summer.created("2026-06-02T09:00:00Z", Tier::Silver),
        winter.upgraded("2026-01-31T23:30:00Z", Tier::Silver, Tier::Gold),
        summer.upgraded("2026-06-30T22:00:00Z", Tier::Silver, Tier::Gold),
    ];
    let expected = vec![
        bill(
            &winter,
            "2026-01",
            vec![billed(Tier::Silver, "2026-01-05", "2026-01-31")],
            minutes(120, 0, 120, 0),
            vec![],
        ),
        bill(
            &winter,
            "2026-02",
            vec![billed(Tier::Silver, "2026-02-01", "2026-02-28")],
            minutes(120, 0, 120, 0),
            vec![],
        ),
        bill(
            &winter,
            "2026-03",
            vec![billed(Tier::Gold, "2026-03-01", "2026-03-31")],
            minutes(240, 0, 240, 0),
            vec![],
        ),
        bill(
            &summer,
            "2026-07",
            vec![billed(Tier::Silver, "2026-07-01", "2026-07-31")],
            minutes(120, 0, 120, 0),
            vec![],
        ),
        bill(
            &summer,
            "2026-08",
            vec![billed(Tier::Gold, "2026-08-01", "2026-08-31")],
            minutes(240, 0, 240, 0),
            vec![],
        ),
    ];
    assert_bills(&Billing::default(), events, expected).await;
}

#[tokio::test]
async fn an_upgrade_late_on_the_last_day_in_new_york_where_utc_is_already_the_next_day() {
    // 1 February 02:00Z is still 31 January 21:00 in New York.
    let new_york = Contract::in_zone(1, chrono_tz::America::New_York);
    let events = vec![
        new_york.created("2026-01-05T15:00:00Z", Tier::Standard),
        new_york.upgraded("2026-02-01T02:00:00Z", Tier::Standard, Tier::Silver),
    ];
    let expected = vec![
        bill(
            &new_york,
            "2026-01",
            vec![billed(Tier::Standard, "2026-01-05", "2026-01-31")],
            minutes(0, 0, 0, 0),
            vec![],
        ),
        bill(
            &new_york,
            "2026-02",
            vec![billed(Tier::Silver, "2026-02-01", "2026-02-28")],
            minutes(120, 0, 120, 0),
            vec![],
        ),
    ];
    assert_bills(&Billing::default(), events, expected).await;
}

#[tokio::test]
async fn an_upgrade_on_the_first_day_of_a_month_bills_the_old_tier_that_whole_month() {
    let contract = Contract::paris(1);
    let events = vec![
        contract.created("2026-02-10T09:00:00Z", Tier::Standard),
        // 1 April 00:00:00 in Paris, the first second of the month.
        contract.upgraded("2026-03-31T22:00:00Z", Tier::Standard, Tier::Gold),
    ];
    let expected = vec![
        bill(
            &contract,
            "2026-03",
            vec![billed(Tier::Standard, "2026-03-01", "2026-03-31")],
            minutes(0, 0, 0, 0),
            vec![],
        ),
        bill(
            &contract,
            "2026-04",
            vec![billed(Tier::Standard, "2026-04-01", "2026-04-30")],
            minutes(0, 0, 0, 0),
            vec![],
        ),
        bill(
            &contract,
            "2026-05",
            vec![billed(Tier::Gold, "2026-05-01", "2026-05-31")],
            minutes(240, 0, 240, 0),
            vec![],
        ),
    ];
    assert_bills(&Billing::default(), events, expected).await;
}

#[tokio::test]
async fn several_tier_decisions_in_one_month_bill_the_last_one_next_month() {
    // Upgrade, then a downgrade in the same month: the downgrade is billed next month.
    let upgrade_then_downgrade = Contract::paris(1);
    // A scheduled downgrade cancelled by an upgrade: the upgrade is billed.
    let downgrade_then_upgrade = Contract::paris(2);
    // A scheduled downgrade replaced by a lower one: the lower one is billed.
    let downgrade_replaced = Contract::paris(3);
    let events = vec![
        upgrade_then_downgrade.created("2026-01-10T09:00:00Z", Tier::Silver),
        downgrade_then_upgrade.created("2026-01-10T09:00:00Z", Tier::Silver),
        downgrade_replaced.created("2026-01-10T09:00:00Z", Tier::Gold),
        upgrade_then_downgrade.upgraded("2026-03-10T09:00:00Z", Tier::Silver, Tier::Gold),
        upgrade_then_downgrade.downgrade_scheduled(
            "2026-03-20T09:00:00Z",
            Tier::Gold,
            Tier::Standard,
            None,
        ),
        downgrade_then_upgrade.downgrade_scheduled(
            "2026-03-05T09:00:00Z",
            Tier::Silver,
            Tier::Standard,
            None,
        ),
        downgrade_then_upgrade.upgraded_cancelling(
            "2026-03-25T09:00:00Z",
            Tier::Silver,
            Tier::Gold,
            Some(Tier::Standard),
        ),
        downgrade_replaced.downgrade_scheduled(
            "2026-03-05T09:00:00Z",
            Tier::Gold,
            Tier::Silver,
            None,
        ),
        downgrade_replaced.downgrade_scheduled(
            "2026-03-20T09:00:00Z",
            Tier::Gold,
            Tier::Standard,
            Some(Tier::Silver),
        ),
    ];
    let expected = vec![
        bill(
            &upgrade_then_downgrade,
            "2026-03",
            vec![billed(Tier::Silver, "2026-03-01", "2026-03-31")],
            minutes(120, 0, 120, 0),
            vec![],
        ),
        bill(
            &upgrade_then_downgrade,
            "2026-04",
            vec![billed(Tier::Standard, "2026-04-01", "2026-04-30")],
            minutes(0, 0, 0, 0),
            vec![],
        ),
        bill(
            &downgrade_then_upgrade,
            "2026-03",
            vec![billed(Tier::Silver, "2026-03-01", "2026-03-31")],
            minutes(120, 0, 120, 0),
            vec![],
        ),
        bill(
            &downgrade_then_upgrade,
            "2026-04",
            vec![billed(Tier::Gold, "2026-04-01", "2026-04-30")],
            minutes(240, 0, 240, 0),
            vec![],
        ),
        bill(
            &downgrade_replaced,
            "2026-03",
            vec![billed(Tier::Gold, "2026-03-01", "2026-03-31")],
            minutes(240, 0, 240, 0),
            vec![],
        ),
        bill(
            &downgrade_replaced,
            "2026-04",
            vec![billed(Tier::Standard, "2026-04-01", "2026-04-30")],
            minutes(0, 0, 0, 0),
            vec![],
        ),
    ];
    assert_bills(&Billing::default(), events, expected).await;
}

#[tokio::test]
async fn december_decisions_take_effect_in_the_next_year() {
    let contract = Contract::paris(1);
    let events = vec![
        contract.created("2026-11-03T09:00:00Z", Tier::Silver),
        // 31 December 23:59:59 in Paris: billed from 1 January 2027.
        contract.upgraded("2026-12-31T22:59:59Z", Tier::Silver, Tier::Gold),
        // 1 January 2027 00:00:00 in Paris: effective 1 February 2027.
        contract.downgrade_scheduled("2026-12-31T23:00:00Z", Tier::Gold, Tier::Bronze, None),
    ];
    let expected = vec![
        bill(
            &contract,
            "2026-12",
            vec![billed(Tier::Silver, "2026-12-01", "2026-12-31")],
            minutes(120, 0, 120, 0),
            vec![],
        ),
        bill(
            &contract,
            "2027-01",
            vec![billed(Tier::Gold, "2027-01-01", "2027-01-31")],
            minutes(240, 0, 240, 0),
            vec![],
        ),
        bill(
            &contract,
            "2027-02",
            vec![billed(Tier::Bronze, "2027-02-01", "2027-02-28")],
            minutes(120, 0, 120, 0),
            vec![],
        ),
    ];
    assert_bills(&Billing::default(), events, expected).await;
}

#[tokio::test]
async fn no_bill_before_the_creation_month_and_the_tier_carries_forward_after_the_last_event() {
    // Created 1 March 00:30 in Paris, 28 February 23:30Z: nothing is billed in February.
    let contract = Contract::paris(1);
    let never_created = Contract::paris(2);
    let events = vec![
        contract.created("2026-02-28T23:30:00Z", Tier::Gold),
        contract.expert_time("2026-03-02T10:00:00Z", "2026-02-27", 60),
    ];
    let expected = vec![
        no_bill(&contract, "2026-02"),
        bill(
            &contract,
            "2026-03",
            vec![billed(Tier::Gold, "2026-03-01", "2026-03-31")],
            minutes(240, 0, 240, 0),
            vec![],
        ),
        bill(
            &contract,
            "2028-02",
            vec![billed(Tier::Gold, "2028-02-01", "2028-02-29")],
            minutes(240, 0, 240, 0),
            vec![],
        ),
        no_bill(&never_created, "2026-03"),
    ];
    assert_bills(&Billing::default(), events, expected).await;
}

// ---------------------------------------------------------------------------------------
// Expert time
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn bronze_includes_two_hours_in_its_first_three_months_then_none() {
    let contract = Contract::paris(1);
    let events = vec![
        contract.created("2026-01-20T09:00:00Z", Tier::Bronze),
        contract.expert_time("2026-01-22T16:00:00Z", "2026-01-22", 30),
        contract.expert_time("2026-03-12T16:00:00Z", "2026-03-12", 150),
        contract.expert_time("2026-04-08T16:00:00Z", "2026-04-08", 90),
    ];
    let expected = vec![
        bill(
            &contract,
            "2026-01",
            vec![billed(Tier::Bronze, "2026-01-20", "2026-01-31")],
            minutes(120, 30, 90, 0),
            vec![],
        ),
        bill(
            &contract,
            "2026-02",
            vec![billed(Tier::Bronze, "2026-02-01", "2026-02-28")],
            minutes(120, 0, 120, 0),
            vec![],
        ),
        bill(
            &contract,
            "2026-03",
            vec![billed(Tier::Bronze, "2026-03-01", "2026-03-31")],
            minutes(120, 150, 0, 30),
            vec![],
        ),
        bill(
            &contract,
            "2026-04",
            vec![billed(Tier::Bronze, "2026-04-01", "2026-04-30")],
            minutes(0, 90, 0, 90),
            vec![],
        ),
        bill(
            &contract,
            "2026-05",
            vec![billed(Tier::Bronze, "2026-05-01", "2026-05-31")],
            minutes(0, 0, 0, 0),
            vec![],
        ),
    ];
    assert_bills(&Billing::default(), events, expected).await;
}

#[tokio::test]
async fn bronze_left_and_reentered_does_not_renew_its_three_months() {
    let contract = Contract::paris(1);
    let events = vec![
        contract.created("2026-01-20T09:00:00Z", Tier::Bronze),
        // Bronze in January and February, Silver in March and April.
        contract.upgraded("2026-02-10T09:00:00Z", Tier::Bronze, Tier::Silver),
        contract.downgrade_scheduled("2026-04-10T09:00:00Z", Tier::Silver, Tier::Bronze, None),
    ];
    let expected = vec![
        bill(
            &contract,
            "2026-04",
            vec![billed(Tier::Silver, "2026-04-01", "2026-04-30")],
            minutes(120, 0, 120, 0),
            vec![],
        ),
        // Bronze's third billed month.
        bill(
            &contract,
            "2026-05",
            vec![billed(Tier::Bronze, "2026-05-01", "2026-05-31")],
            minutes(120, 0, 120, 0),
            vec![],
        ),
        // Its fourth.
        bill(
            &contract,
            "2026-06",
            vec![billed(Tier::Bronze, "2026-06-01", "2026-06-30")],
            minutes(0, 0, 0, 0),
            vec![],
        ),
    ];
    assert_bills(&Billing::default(), events, expected).await;
}

#[tokio::test]
async fn expert_time_beyond_the_included_hours_is_overage_counted_in_its_billing_month() {
    let contract = Contract::paris(1);
    let events = vec![
        contract.created("2026-01-05T09:00:00Z", Tier::Gold),
        contract.expert_time("2026-03-03T10:00:00Z", "2026-03-03", 200),
        // Performed on 31 March, logged in April: it counts in March.
        contract.expert_time("2026-04-02T10:00:00Z", "2026-03-31", 100),
        contract.expert_time("2026-04-02T11:00:00Z", "2026-04-01", 45),
    ];
    let expected = vec![
        bill(
            &contract,
            "2026-03",
            vec![billed(Tier::Gold, "2026-03-01", "2026-03-31")],
            minutes(240, 300, 0, 60),
            vec![],
        ),
        bill(
            &contract,
            "2026-04",
            vec![billed(Tier::Gold, "2026-04-01", "2026-04-30")],
            minutes(240, 45, 195, 0),
            vec![],
        ),
    ];
    assert_bills(&Billing::default(), events, expected).await;
}

// ---------------------------------------------------------------------------------------
// One-off lines
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_sixth_change_of_a_paris_month_is_billable_and_the_next_paris_month_starts_free() {
    let contract = Contract::paris(1);
    let mut events = vec![contract.created("2026-02-02T09:00:00Z", Tier::Silver)];
    // Five free changes in March.
    for number in 1..=5 {
        events.push(contract.change_submitted(
            number,
            &format!("2026-03-{:02}T09:00:00Z", number + 1),
            Some(9_000),
        ));
    }
    // The sixth: 31 March 23:59:59 in Paris (summer time), billable.
    events.push(contract.change_submitted(6, "2026-03-31T21:59:59Z", Some(9_000)));
    // The seventh: 1 April 00:00:00 in Paris, the first of April, free.
    events.push(contract.change_submitted(7, "2026-03-31T22:00:00Z", Some(9_000)));
    for number in 1..=7 {
        events.push(change_completed(number, "2026-04-02T14:00:00Z", None));
    }
    let expected = vec![
        bill(
            &contract,
            "2026-03",
            vec![billed(Tier::Silver, "2026-03-01", "2026-03-31")],
            minutes(120, 0, 120, 0),
            vec![],
        ),
        // Billed on its completion date, not its submission date.
        bill(
            &contract,
            "2026-04",
            vec![billed(Tier::Silver, "2026-04-01", "2026-04-30")],
            minutes(120, 0, 120, 0),
            vec![change_line(6, "Modifier mes quotas", 9_000, "2026-04-02")],
        ),
    ];
    assert_bills(&Billing::default(), events, expected).await;
}

#[tokio::test]
async fn cancelled_and_rejected_changes_keep_their_rank_and_only_completed_billable_ones_bill() {
    let contract = Contract::paris(1);
    let mut events = vec![contract.created("2026-04-01T09:00:00Z", Tier::Gold)];
    for number in 1..=6 {
        events.push(contract.change_submitted(
            number,
            &format!("2026-05-{:02}T09:00:00Z", number + 3),
            Some(9_000),
        ));
    }
    events.extend([
        // A free change cancelled: its slot is not given back.
        change_cancelled(2, "2026-05-12T09:00:00Z"),
        // The sixth, billable, rejected: no line.
        change_rejected(6, "2026-05-13T09:00:00Z"),
        // The seventh, billable, on study: billed at the accepted quote.
        contract.study_submitted(7, "2026-05-14T09:00:00Z"),
        // The eighth, billable, completed on 1 June 00:30 in Paris (31 May 22:30Z).
        contract.change_submitted(8, "2026-05-15T09:00:00Z", Some(25_000)),
        change(
            7,
            ChangeEvent::ChangeQuoted {
                at: at("2026-05-18T09:00:00Z"),
                amount_cents: 120_000,
                note: None,
            },
        ),
        change(
            7,
            ChangeEvent::ChangeQuoteAccepted {
                at: at("2026-05-19T09:00:00Z"),
                amount_cents: 120_000,
            },
        ),
        change_completed(1, "2026-05-20T09:00:00Z", None),
        change_completed(7, "2026-05-28T09:00:00Z", Some(120_000)),
        change_completed(8, "2026-05-31T22:30:00Z", None),
    ]);
    let expected = vec![
        bill(
            &contract,
            "2026-05",
            vec![billed(Tier::Gold, "2026-05-01", "2026-05-31")],
            minutes(240, 0, 240, 0),
            vec![change_line(
                7,
                "Faire une demande sur étude",
                120_000,
                "2026-05-28",
            )],
        ),
        bill(
            &contract,
            "2026-06",
            vec![billed(Tier::Gold, "2026-06-01", "2026-06-30")],
            minutes(240, 0, 240, 0),
            vec![change_line(8, "Modifier mes quotas", 25_000, "2026-06-01")],
        ),
    ];
    assert_bills(&Billing::default(), events, expected).await;
}

/// A submission that says whether it is billable is taken at its word: the view does not
/// rank it again (here the command side's quota was 1: the second is billable, although
/// the view's quota of 5 would make it free). Submissions stored before it said so are
/// still ranked by the view.
#[tokio::test]
async fn issue_20_billing_takes_a_submission_s_word_on_whether_it_is_billable() {
    let contract = Contract::paris(1);
    let said = |fed: Fed, rank_in_month: u32| -> Fed {
        let (id, mut event) = fed;
        if let DomainEvent::Change(ChangeEvent::ChangeSubmitted { billing, .. }) = &mut event {
            *billing = Some(SubmissionBilling::decide(
                month("2026-05"),
                rank_in_month,
                1,
            ));
        }
        (id, event)
    };
    let events = vec![
        contract.created("2026-04-01T09:00:00Z", Tier::Standard),
        said(
            contract.change_submitted(1, "2026-05-04T09:00:00Z", Some(9_000)),
            1,
        ),
        said(
            contract.change_submitted(2, "2026-05-05T09:00:00Z", Some(7_000)),
            2,
        ),
        change_completed(1, "2026-05-06T09:00:00Z", None),
        change_completed(2, "2026-05-07T09:00:00Z", None),
    ];
    let expected = vec![bill(
        &contract,
        "2026-05",
        vec![billed(Tier::Standard, "2026-05-01", "2026-05-31")],
        minutes(0, 0, 0, 0),
        vec![change_line(2, "Modifier mes quotas", 7_000, "2026-05-07")],
    )];
    assert_bills(&Billing::default(), events.clone(), expected).await;

    let (db, reader) = testing::feed(&Billing::default(), events).await.unwrap();
    let second = Billing::change(&reader, change_id(2).as_str())
        .await
        .unwrap()
        .expect("the second change is known");
    assert_eq!(
        second,
        BilledChange {
            submitted_month: "2026-05".to_owned(),
            rank_in_month: 2,
            billable: true,
            catalogue_price_cents: Some(7_000),
        }
    );
    db.cleanup().await;
}

#[tokio::test]
async fn the_free_quota_is_a_parameter_of_the_projection() {
    let contract = Contract::paris(1);
    let events = vec![
        contract.created("2026-04-01T09:00:00Z", Tier::Standard),
        contract.change_submitted(1, "2026-05-04T09:00:00Z", Some(9_000)),
        contract.change_submitted(2, "2026-05-05T09:00:00Z", Some(9_000)),
        change_completed(1, "2026-05-06T09:00:00Z", None),
        change_completed(2, "2026-05-07T09:00:00Z", None),
    ];
    let expected = vec![bill(
        &contract,
        "2026-05",
        vec![billed(Tier::Standard, "2026-05-01", "2026-05-31")],
        minutes(0, 0, 0, 0),
        vec![change_line(2, "Modifier mes quotas", 9_000, "2026-05-07")],
    )];
    assert_bills(&Billing::new(1), events, expected).await;
}

#[tokio::test]
async fn a_completed_order_is_billed_on_its_paris_completion_date_and_a_cancelled_one_never() {
    let contract = Contract::paris(124);
    let completed = contract.order_reference("2026-03", 1);
    let cancelled = contract.order_reference("2026-03", 2);
    let events = vec![
        contract.created("2026-01-05T09:00:00Z", Tier::Silver),
        contract.order_placed(1, "2026-03-20T09:00:00Z", &completed),
        contract.order_placed(2, "2026-03-21T09:00:00Z", &cancelled),
        order_cancelled(2, "2026-03-23T09:00:00Z", &cancelled),
        // 1 April 00:30 in Paris.
        order_completed(1, "2026-03-31T22:30:00Z", &completed, 45_000),
    ];
    let expected = vec![
        bill(
            &contract,
            "2026-03",
            vec![billed(Tier::Silver, "2026-03-01", "2026-03-31")],
            minutes(120, 0, 120, 0),
            vec![],
        ),
        bill(
            &contract,
            "2026-04",
            vec![billed(Tier::Silver, "2026-04-01", "2026-04-30")],
            minutes(120, 0, 120, 0),
            vec![order_line(
                1,
                "FCA0124-2603-0001",
                "Pack Expert 4H",
                45_000,
                "2026-04-01",
            )],
        ),
    ];
    assert_bills(&Billing::default(), events, expected).await;
}

/// An order placed and completed in one batch, on a contract created in an earlier one:
/// its contract's time zone is read with the batch (`testing::feed` applies these events
/// in batches of 2 and 3, so the last two come together).
#[tokio::test]
async fn an_order_placed_and_completed_in_one_batch_after_its_contract_is_billed() {
    let contract = Contract::paris(124);
    let other = Contract::paris(125);
    let reference = contract.order_reference("2026-03", 1);
    let events = vec![
        contract.created("2026-01-05T09:00:00Z", Tier::Silver),
        other.created("2026-01-06T09:00:00Z", Tier::Gold),
        contract.order_placed(1, "2026-03-20T09:00:00Z", &reference),
        order_completed(1, "2026-03-24T09:00:00Z", &reference, 45_000),
    ];
    let expected = vec![bill(
        &contract,
        "2026-03",
        vec![billed(Tier::Silver, "2026-03-01", "2026-03-31")],
        minutes(120, 0, 120, 0),
        vec![order_line(
            1,
            "FCA0124-2603-0001",
            "Pack Expert 4H",
            45_000,
            "2026-03-24",
        )],
    )];
    assert_bills(&Billing::default(), events, expected).await;
}

fn order_quote_corrected(
    number: u32,
    instant: &str,
    reference: &OrderReference,
    previous_amount_cents: u64,
    amount_cents: u64,
) -> Fed {
    order(
        number,
        OrderEvent::OrderQuoteCorrected {
            at: at(instant),
            reference: reference.clone(),
            amount_cents,
            previous_amount_cents,
            reason: FreeText::parse("Devis saisi avant le plafonnement des montants.").unwrap(),
            status: OrderStatus::Completed,
        },
    )
}

fn change_quote_corrected(
    number: u32,
    instant: &str,
    previous_amount_cents: u64,
    amount_cents: u64,
) -> Fed {
    change(
        number,
        ChangeEvent::ChangeQuoteCorrected {
            at: at(instant),
            amount_cents,
            previous_amount_cents,
            reason: FreeText::parse("Devis saisi avant le plafonnement des montants.").unwrap(),
            status: ChangeStatus::Completed,
        },
    )
}

/// Issue 20: an amount above `Cents::MAX` (2^63 cents, written before amounts were
/// bounded) never stops billing. Its line keeps no amount, only the amount as written,
/// until an administrator's correction, after completion, gives it the corrected one;
/// the last correction wins; a change billed its catalogue price keeps it. `assert_bills`
/// also applies these events in one batch and in batches of 2 and 3, so corrections land
/// both in the batch that wrote the line and in later ones.
#[tokio::test]
async fn issue_20_a_quote_above_the_maximum_is_not_billed_until_an_administrator_corrects_it() {
    let huge = 1_u64 << 63;
    let contract = Contract::paris(124);
    let references: Vec<OrderReference> = (1..=3)
        .map(|sequence| contract.order_reference("2026-03", sequence))
        .collect();
    let mut events = vec![contract.created("2026-01-05T09:00:00Z", Tier::Silver)];
    for (number, reference) in (1..=3).zip(&references) {
        events.push(contract.order_placed(number, "2026-03-20T09:00:00Z", reference));
    }
    events.extend([
        contract.study_submitted(7, "2026-03-20T10:00:00Z"),
        contract.change_submitted(8, "2026-03-20T11:00:00Z", Some(9_000)),
        order_completed(1, "2026-03-24T09:00:00Z", &references[0], huge),
        order_completed(2, "2026-03-25T09:00:00Z", &references[1], Cents::MAX + 1),
        order_completed(3, "2026-03-26T09:00:00Z", &references[2], huge),
        change_completed(7, "2026-03-27T09:00:00Z", Some(huge)),
        change_completed(8, "2026-03-27T10:00:00Z", None),
        order_quote_corrected(1, "2026-04-02T09:00:00Z", &references[0], huge, 480_000),
        order_quote_corrected(
            2,
            "2026-04-02T09:05:00Z",
            &references[1],
            Cents::MAX + 1,
            50_000,
        ),
        order_quote_corrected(2, "2026-04-02T09:10:00Z", &references[1], 50_000, 60_000),
        change_quote_corrected(7, "2026-04-02T09:15:00Z", huge, 120_000),
        change_quote_corrected(8, "2026-04-02T09:20:00Z", 9_000, 1),
    ]);
    let mut refused = order_line(3, "FCA0124-2603-0003", "Pack Expert 4H", 0, "2026-03-26");
    refused.amount_cents = None;
    refused.refused_amount_cents = Some(huge);
    assert_eq!(
        refused.amount_refused().as_deref(),
        Some(
            "the quoted 9223372036854775808 cents exceed the maximum of 100000000000 cents; \
             an administrator's quote correction is awaited"
        )
    );
    let expected = vec![bill(
        &contract,
        "2026-03",
        vec![billed(Tier::Silver, "2026-03-01", "2026-03-31")],
        minutes(120, 0, 120, 0),
        vec![
            order_line(
                1,
                "FCA0124-2603-0001",
                "Pack Expert 4H",
                480_000,
                "2026-03-24",
            ),
            order_line(
                2,
                "FCA0124-2603-0002",
                "Pack Expert 4H",
                60_000,
                "2026-03-25",
            ),
            refused,
            change_line(7, "Faire une demande sur étude", 120_000, "2026-03-27"),
            change_line(8, "Modifier mes quotas", 9_000, "2026-03-27"),
        ],
    )];
    assert_bills(&Billing::new(0), events, expected).await;
}

#[tokio::test]
async fn a_change_for_a_contract_the_log_never_created_is_an_error() {
    let contract = Contract::paris(1);
    let error = testing::feed(
        &Billing::default(),
        vec![contract.change_submitted(1, "2026-05-04T09:00:00Z", Some(9_000))],
    )
    .await
    .err()
    .expect("an unknown contract is refused");
    assert!(
        matches!(&error, ProjectionError::Malformed(reason) if reason.contains("OCB0000001")),
        "{error:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Reset
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn reset_empties_every_billing_table() {
    let contract = Contract::paris(124);
    let reference = contract.order_reference("2026-03", 1);
    let mut events = vec![
        contract.created("2026-01-05T09:00:00Z", Tier::Silver),
        contract.upgraded("2026-02-10T09:00:00Z", Tier::Silver, Tier::Gold),
        contract.expert_time("2026-03-03T10:00:00Z", "2026-03-03", 30),
        contract.order_placed(1, "2026-03-20T09:00:00Z", &reference),
        order_completed(1, "2026-03-25T09:00:00Z", &reference, 45_000),
    ];
    for number in 1..=6 {
        events.push(contract.change_submitted(
            number,
            &format!("2026-03-{:02}T09:00:00Z", number + 1),
            Some(9_000),
        ));
    }
    events.push(change_completed(6, "2026-03-27T09:00:00Z", None));

    let billing = Billing::default();
    for database in TestDatabase::all().await {
        let backend = database.backend_name();
        let counts = async {
            testing::feed_into(&database, &billing, events.clone()).await?;
            let reader = ViewReader::new(database.database.clone());
            let before = row_counts(&reader).await?;
            let mut tx = begin(&database.database).await?;
            billing.reset(&mut tx).await?;
            tx.commit().await?;
            let after = row_counts(&reader).await?;
            let bill = Billing::month(&reader, &contract.id, month("2026-03")).await?;
            Ok::<_, ProjectionError>((before, after, bill))
        }
        .await;
        database.cleanup().await;
        let (before, after, bill) = counts.unwrap_or_else(|error| panic!("{backend}: {error:?}"));
        assert_eq!(
            before,
            vec![1, 2, 1, 6, 1, 2],
            "{backend}: rows before the reset"
        );
        assert_eq!(
            after,
            vec![0; TABLES.len()],
            "{backend}: rows after the reset"
        );
        assert_eq!(bill, None, "{backend}");
    }
}

async fn row_counts(reader: &ViewReader) -> Result<Vec<i64>, ProjectionError> {
    let mut counts = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let (count,) = reader
            .fetch_optional::<(i64,)>(&format!("SELECT COUNT(*) FROM {table}"), &[])
            .await?
            .unwrap_or((0,));
        counts.push(count);
    }
    Ok(counts)
}
