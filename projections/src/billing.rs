//! Billing effective dates: per contract and month (contract time zone), the tier billed
//! with its first and last billed days, the included, used, remaining and overage expert
//! minutes, and the one-off lines (completed orders, completed billable changes), each
//! with its effective date. Nothing is billed before it is effective, and a tier change
//! never bills two tiers for the same day.
//!
//! The tables (`store/migrations/*/0004_billing.sql`) hold facts, not finished bills: the
//! tier schedule, expert minutes per month, the changes and orders of each contract and
//! their lines. [`Billing::month`] assembles a month from them, so a month after the last
//! event still answers, with the tier in force carried forward.
//!
//! Rules DOMAIN.md leaves open, decided here:
//! - Tier schedule: each decision's first billed day comes from the event
//!   (`billing_effective_on`, `effective_on`); a decision replaces any decision for that
//!   day or later (the last decision for next month wins). Tier periods are inclusive
//!   local dates; the creation month starts on the creation date (contract time zone).
//! - Included minutes follow the tier billed on the month's last day; they are never
//!   prorated (a creation month starting on the 20th still includes the whole allowance).
//! - Bronze includes 2 h in the first 3 months Bronze is billed on the contract, counted
//!   over the contract's whole life: leaving Bronze and coming back does not start a new
//!   count (a downgrade-upgrade cycle must not renew a welcome allowance).
//! - Expert minutes count in the `billing_month` their event names; minutes for a month
//!   before the contract's creation month are kept but never shown (that month has no bill).
//! - Changes: the quota counts every submission of the calendar month (contract time
//!   zone), whatever happens to the change afterwards; the rank reached at submission
//!   decides once and for all whether the change is billable. Cancelling a change does not
//!   give its free slot back (that would make an already billable change free).
//! - A billable change's line is effective on its completion date (contract time zone),
//!   like an order's: it is billed in the completion month, which may follow the
//!   submission month. A billable change cancelled, rejected or whose quote is declined
//!   never gets a line, and still used up its rank in the quota.
//! - A billable change costs its `catalogue_price_cents`; an article without a catalogue
//!   price (sold on study) costs the quote accepted for it. A billable change with neither
//!   gets no line (logged as a warning). A free change is never billed, quoted or not.
//! - An order's line is effective on its completion date (contract time zone) for its
//!   `amount_cents`. A cancelled order never completes, so it never has a line.
//! - An event naming a contract (or a change, an order) this view never saw is an error:
//!   the log always creates a contract before anything refers to it.
//! - The free quota is a constructor parameter: a view built under one quota is not
//!   rewritten when the quota changes. Rebuild it (reset, or a new [`Projection::name`]).

mod schedule;
#[cfg(test)]
mod tests;

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sablier_domain::ContractId;
use sablier_domain::change::ChangeEvent;
use sablier_domain::contract::ContractEvent;
use sablier_domain::month::YearMonth;
use sablier_domain::order::OrderEvent;
use sablier_sla::Tier;
use serde::Serialize;

use crate::error::ProjectionError;
use crate::event::{DomainEvent, FeedEvent};
use crate::projection::Projection;
use crate::sql::{Param, ViewReader, ViewTx};

use schedule::TierSchedule;

/// One contract's bill for one month, every date in the contract's time zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MonthlyBill {
    pub contract: ContractId,
    pub month: YearMonth,
    pub time_zone: Tz,
    /// The tiers billed this month, in date order, never overlapping.
    pub tiers: Vec<BilledTier>,
    pub expert_minutes: ExpertMinutes,
    /// Ordered by effective date, then by the order their events were written.
    pub lines: Vec<BillingLine>,
}

/// A tier billed from `from` through `to`, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BilledTier {
    pub tier: Tier,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Expert time of a billing month, in minutes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExpertMinutes {
    pub included: u32,
    pub used: u32,
    /// `included - used`, never below zero: unused minutes do not roll over.
    pub remaining: u32,
    /// `used - included`, never below zero.
    pub overage: u32,
}

impl ExpertMinutes {
    pub fn new(included: u32, used: u32) -> Self {
        Self {
            included,
            used,
            remaining: included.saturating_sub(used),
            overage: used.saturating_sub(included),
        }
    }
}

/// A one-off line of a monthly bill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BillingLine {
    pub kind: LineKind,
    /// The order's or change's id (`ORD…`, `CHG…`).
    pub id: String,
    /// The order's reference (`FCA0124-2603-0001`), or the customer's own reference of a
    /// change when they gave one.
    pub reference: Option<String>,
    /// The ordered item's name, or the changed article's name.
    pub label: String,
    /// Euro cents excluding tax.
    pub amount_cents: u64,
    pub effective_on: NaiveDate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Order,
    Change,
}

impl LineKind {
    fn as_str(self) -> &'static str {
        match self {
            LineKind::Order => "order",
            LineKind::Change => "change",
        }
    }
}

/// The billing projection. `free_changes_per_month` changes are free per contract and
/// calendar month; those submitted beyond are billable.
#[derive(Clone, Debug)]
pub struct Billing {
    free_changes_per_month: u32,
}

impl Billing {
    pub const NAME: &'static str = "billing_effective_dates";

    /// DOMAIN.md's default quota of free changes per calendar month.
    pub const DEFAULT_FREE_CHANGES_PER_MONTH: u32 = 5;

    pub fn new(free_changes_per_month: u32) -> Self {
        Self {
            free_changes_per_month,
        }
    }

    /// The bill of `contract` for `month`; `None` for an unknown contract or a month
    /// before the contract's creation month.
    pub async fn month(
        reader: &ViewReader,
        contract: &ContractId,
        month: YearMonth,
    ) -> Result<Option<MonthlyBill>, ProjectionError> {
        let contract_param = || Param::from(contract.as_str());
        let Some(row) = reader
            .fetch_optional::<ContractRow>(
                "SELECT time_zone, created_on FROM billing_contracts WHERE contract_id = $1",
                &[contract_param()],
            )
            .await?
        else {
            return Ok(None);
        };
        let time_zone = parse_time_zone(&row.time_zone)?;
        let created_on = parse_date(&row.created_on)?;
        if month < YearMonth::of(created_on) {
            return Ok(None);
        }

        let decisions = reader
            .fetch_all::<ScheduleRow>(
                "SELECT effective_on, tier FROM billing_tier_schedule \
                 WHERE contract_id = $1 ORDER BY effective_on",
                &[contract_param()],
            )
            .await?
            .into_iter()
            .map(|row| Ok((parse_date(&row.effective_on)?, parse_tier(&row.tier)?)))
            .collect::<Result<Vec<_>, ProjectionError>>()?;
        let schedule = TierSchedule::new(created_on, decisions);

        let used = reader
            .fetch_optional::<(i64,)>(
                "SELECT used_minutes FROM billing_expert_minutes \
                 WHERE contract_id = $1 AND month = $2",
                &[contract_param(), month.to_string().into()],
            )
            .await?
            .map_or(Ok(0), |(minutes,)| {
                u32::try_from(minutes).map_err(|_| malformed(format!("{minutes} expert minutes")))
            })?;

        let lines = reader
            .fetch_all::<LineRow>(
                "SELECT kind, source_id, reference, label, amount_cents, effective_on \
                 FROM billing_lines WHERE contract_id = $1 AND month = $2 \
                 ORDER BY effective_on, position",
                &[contract_param(), month.to_string().into()],
            )
            .await?
            .into_iter()
            .map(LineRow::into_line)
            .collect::<Result<Vec<_>, _>>()?;

        Ok(Some(MonthlyBill {
            contract: contract.clone(),
            month,
            time_zone,
            tiers: schedule.periods_in(month),
            expert_minutes: ExpertMinutes::new(schedule.included_minutes(month), used),
            lines,
        }))
    }

    async fn apply_contract(
        &self,
        tx: &mut ViewTx,
        contract_id: &str,
        event: &ContractEvent,
    ) -> Result<(), ProjectionError> {
        match event {
            ContractEvent::ContractCreated {
                at,
                contract_id,
                time_zone,
                tier,
                ..
            } => {
                let created_on = local_date(*at, *time_zone);
                tx.execute(
                    "INSERT INTO billing_contracts (contract_id, time_zone, created_on) \
                     VALUES ($1, $2, $3)",
                    &[
                        contract_id.as_str().into(),
                        time_zone.name().into(),
                        created_on.to_string().into(),
                    ],
                )
                .await?;
                schedule_tier(tx, contract_id.as_str(), created_on, *tier).await
            }
            ContractEvent::SupportTierUpgraded {
                to,
                billing_effective_on,
                ..
            } => schedule_tier(tx, contract_id, *billing_effective_on, *to).await,
            ContractEvent::SupportTierDowngradeScheduled {
                to, effective_on, ..
            } => schedule_tier(tx, contract_id, *effective_on, *to).await,
            ContractEvent::ExpertTimeLogged {
                billing_month,
                minutes,
                ..
            } => {
                tx.execute(
                    "INSERT INTO billing_expert_minutes (contract_id, month, used_minutes) \
                     VALUES ($1, $2, $3) \
                     ON CONFLICT (contract_id, month) DO UPDATE \
                     SET used_minutes = \
                     billing_expert_minutes.used_minutes + excluded.used_minutes",
                    &[
                        contract_id.into(),
                        billing_month.to_string().into(),
                        i64::from(*minutes).into(),
                    ],
                )
                .await?;
                Ok(())
            }
            ContractEvent::UserDeclared { .. }
            | ContractEvent::UserRolesChanged { .. }
            | ContractEvent::UserRemoved { .. } => Ok(()),
        }
    }

    async fn apply_change(
        &self,
        tx: &mut ViewTx,
        feed_event: &FeedEvent,
        event: &ChangeEvent,
    ) -> Result<(), ProjectionError> {
        match event {
            ChangeEvent::ChangeSubmitted {
                at,
                change_id,
                contract,
                article,
                catalogue_price_cents,
                customer_reference,
                ..
            } => {
                let time_zone = contract_time_zone(tx, contract.as_str(), feed_event).await?;
                let month = YearMonth::containing(*at, time_zone).to_string();
                let (submitted_before,) = tx
                    .fetch_optional::<(i64,)>(
                        "SELECT COUNT(*) FROM billing_changes \
                         WHERE contract_id = $1 AND submitted_month = $2",
                        &[contract.as_str().into(), month.clone().into()],
                    )
                    .await?
                    .unwrap_or((0,));
                let rank = submitted_before + 1;
                let billable = rank > i64::from(self.free_changes_per_month);
                let price = catalogue_price_cents.map(cents_to_i64).transpose()?;
                tx.execute(
                    "INSERT INTO billing_changes (change_id, contract_id, submitted_month, \
                     rank_in_month, billable, catalogue_price_cents, label, customer_reference) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        change_id.as_str().into(),
                        contract.as_str().into(),
                        month.into(),
                        rank.into(),
                        billable.into(),
                        price.into(),
                        article.article.as_str().into(),
                        customer_reference
                            .as_ref()
                            .map(|reference| reference.as_str().to_owned())
                            .into(),
                    ],
                )
                .await?;
                Ok(())
            }
            ChangeEvent::ChangeCompleted {
                at,
                accepted_quote_cents,
                ..
            } => {
                let change = tx
                    .fetch_optional::<ChangeRow>(
                        "SELECT contract_id, billable, catalogue_price_cents, label, \
                         customer_reference FROM billing_changes WHERE change_id = $1",
                        &[feed_event.aggregate_id.as_str().into()],
                    )
                    .await?
                    .ok_or_else(|| unknown("change", &feed_event.aggregate_id, feed_event))?;
                if !change.billable {
                    return Ok(());
                }
                let quote = accepted_quote_cents.map(cents_to_i64).transpose()?;
                let Some(amount_cents) = change.catalogue_price_cents.or(quote) else {
                    tracing::warn!(
                        change_id = %feed_event.aggregate_id,
                        position = feed_event.position,
                        "a billable change completed with neither a catalogue price nor an \
                         accepted quote: no line"
                    );
                    return Ok(());
                };
                let time_zone = contract_time_zone(tx, &change.contract_id, feed_event).await?;
                let line = NewLine {
                    kind: LineKind::Change,
                    source_id: &feed_event.aggregate_id,
                    contract_id: &change.contract_id,
                    effective_on: local_date(*at, time_zone),
                    reference: change.customer_reference,
                    label: change.label,
                    amount_cents,
                    position: feed_event.position,
                };
                line.insert(tx).await
            }
            ChangeEvent::ChangeDraftSaved { .. }
            | ChangeEvent::ChangeDraftEdited { .. }
            | ChangeEvent::ChangeQuoted { .. }
            | ChangeEvent::ChangeQuoteAccepted { .. }
            | ChangeEvent::ChangeQuoteDeclined { .. }
            | ChangeEvent::ChangeStarted { .. }
            | ChangeEvent::ChangeCancelled { .. }
            | ChangeEvent::ChangeRejected { .. } => Ok(()),
        }
    }

    async fn apply_order(
        &self,
        tx: &mut ViewTx,
        feed_event: &FeedEvent,
        event: &OrderEvent,
    ) -> Result<(), ProjectionError> {
        match event {
            OrderEvent::OrderPlaced {
                order_id,
                contract,
                reference,
                item,
                ..
            } => {
                tx.execute(
                    "INSERT INTO billing_orders (order_id, contract_id, reference, label) \
                     VALUES ($1, $2, $3, $4)",
                    &[
                        order_id.as_str().into(),
                        contract.as_str().into(),
                        reference.as_str().into(),
                        item.name.as_str().into(),
                    ],
                )
                .await?;
                Ok(())
            }
            OrderEvent::OrderCompleted {
                at, amount_cents, ..
            } => {
                let order = tx
                    .fetch_optional::<OrderRow>(
                        "SELECT contract_id, reference, label FROM billing_orders \
                         WHERE order_id = $1",
                        &[feed_event.aggregate_id.as_str().into()],
                    )
                    .await?
                    .ok_or_else(|| unknown("order", &feed_event.aggregate_id, feed_event))?;
                let time_zone = contract_time_zone(tx, &order.contract_id, feed_event).await?;
                let line = NewLine {
                    kind: LineKind::Order,
                    source_id: &feed_event.aggregate_id,
                    contract_id: &order.contract_id,
                    effective_on: local_date(*at, time_zone),
                    reference: Some(order.reference),
                    label: order.label,
                    amount_cents: cents_to_i64(*amount_cents)?,
                    position: feed_event.position,
                };
                line.insert(tx).await
            }
            OrderEvent::OrderConfirmationRecorded { .. }
            | OrderEvent::OrderQuoted { .. }
            | OrderEvent::OrderQuoteAccepted { .. }
            | OrderEvent::OrderQuoteDeclined { .. }
            | OrderEvent::OrderStarted { .. }
            | OrderEvent::OrderCancelled { .. } => Ok(()),
        }
    }
}

impl Default for Billing {
    fn default() -> Self {
        Self::new(Self::DEFAULT_FREE_CHANGES_PER_MONTH)
    }
}

impl Billing {
    /// Applies one event (this view writes little per event: no batching needed).
    async fn apply_event(&self, tx: &mut ViewTx, event: &FeedEvent) -> Result<(), ProjectionError> {
        match &event.event {
            DomainEvent::Contract(contract_event) => {
                self.apply_contract(tx, &event.aggregate_id, contract_event)
                    .await
            }
            DomainEvent::Change(change_event) => self.apply_change(tx, event, change_event).await,
            DomainEvent::Order(order_event) => self.apply_order(tx, event, order_event).await,
            DomainEvent::Incident(_) => Ok(()),
        }
    }
}

#[async_trait]
impl Projection for Billing {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn apply_batch(
        &self,
        tx: &mut ViewTx,
        events: &[FeedEvent],
    ) -> Result<(), ProjectionError> {
        for event in events {
            self.apply_event(tx, event).await?;
        }
        Ok(())
    }

    fn tables(&self) -> &'static [&'static str] {
        &TABLES
    }
}

/// Every table this view owns.
const TABLES: [&str; 6] = [
    "billing_contracts",
    "billing_tier_schedule",
    "billing_expert_minutes",
    "billing_changes",
    "billing_orders",
    "billing_lines",
];

/// From `effective_on` on, `tier` is billed: this decision replaces any earlier decision
/// for that day or later.
async fn schedule_tier(
    tx: &mut ViewTx,
    contract_id: &str,
    effective_on: NaiveDate,
    tier: Tier,
) -> Result<(), ProjectionError> {
    tx.execute(
        "DELETE FROM billing_tier_schedule WHERE contract_id = $1 AND effective_on >= $2",
        &[contract_id.into(), effective_on.to_string().into()],
    )
    .await?;
    tx.execute(
        "INSERT INTO billing_tier_schedule (contract_id, effective_on, tier) VALUES ($1, $2, $3)",
        &[
            contract_id.into(),
            effective_on.to_string().into(),
            tier.as_str().into(),
        ],
    )
    .await?;
    Ok(())
}

async fn contract_time_zone(
    tx: &mut ViewTx,
    contract_id: &str,
    feed_event: &FeedEvent,
) -> Result<Tz, ProjectionError> {
    let (time_zone,) = tx
        .fetch_optional::<(String,)>(
            "SELECT time_zone FROM billing_contracts WHERE contract_id = $1",
            &[contract_id.into()],
        )
        .await?
        .ok_or_else(|| unknown("contract", contract_id, feed_event))?;
    parse_time_zone(&time_zone)
}

/// A line about to be written.
struct NewLine<'a> {
    kind: LineKind,
    source_id: &'a str,
    contract_id: &'a str,
    effective_on: NaiveDate,
    reference: Option<String>,
    label: String,
    amount_cents: i64,
    position: i64,
}

impl NewLine<'_> {
    async fn insert(self, tx: &mut ViewTx) -> Result<(), ProjectionError> {
        tx.execute(
            "INSERT INTO billing_lines (kind, source_id, contract_id, month, effective_on, \
             reference, label, amount_cents, position) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                self.kind.as_str().into(),
                self.source_id.into(),
                self.contract_id.into(),
                YearMonth::of(self.effective_on).to_string().into(),
                self.effective_on.to_string().into(),
                self.reference.into(),
                self.label.into(),
                self.amount_cents.into(),
                self.position.into(),
            ],
        )
        .await?;
        Ok(())
    }
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct ContractRow {
    time_zone: String,
    created_on: String,
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct ScheduleRow {
    effective_on: String,
    tier: String,
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct ChangeRow {
    contract_id: String,
    billable: bool,
    catalogue_price_cents: Option<i64>,
    label: String,
    customer_reference: Option<String>,
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct OrderRow {
    contract_id: String,
    reference: String,
    label: String,
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct LineRow {
    kind: String,
    source_id: String,
    reference: Option<String>,
    label: String,
    amount_cents: i64,
    effective_on: String,
}

impl LineRow {
    fn into_line(self) -> Result<BillingLine, ProjectionError> {
        let kind = match self.kind.as_str() {
            "order" => LineKind::Order,
            "change" => LineKind::Change,
            other => return Err(malformed(format!("line kind '{other}'"))),
        };
        Ok(BillingLine {
            kind,
            id: self.source_id,
            reference: self.reference,
            label: self.label,
            amount_cents: u64::try_from(self.amount_cents)
                .map_err(|_| malformed(format!("{} cents", self.amount_cents)))?,
            effective_on: parse_date(&self.effective_on)?,
        })
    }
}

fn local_date(at: DateTime<Utc>, time_zone: Tz) -> NaiveDate {
    at.with_timezone(&time_zone).date_naive()
}

fn cents_to_i64(cents: u64) -> Result<i64, ProjectionError> {
    i64::try_from(cents).map_err(|_| malformed(format!("{cents} cents does not fit a BIGINT")))
}

fn parse_date(value: &str) -> Result<NaiveDate, ProjectionError> {
    NaiveDate::from_str(value).map_err(|_| malformed(format!("date '{value}'")))
}

fn parse_time_zone(value: &str) -> Result<Tz, ProjectionError> {
    Tz::from_str(value).map_err(|_| malformed(format!("time zone '{value}'")))
}

fn parse_tier(value: &str) -> Result<Tier, ProjectionError> {
    Tier::ALL
        .into_iter()
        .find(|tier| tier.as_str() == value)
        .ok_or_else(|| malformed(format!("tier '{value}'")))
}

fn malformed(what: String) -> ProjectionError {
    ProjectionError::Malformed(format!("billing view: {what}"))
}

fn unknown(kind: &str, id: &str, feed_event: &FeedEvent) -> ProjectionError {
    ProjectionError::Malformed(format!(
        "billing view: event {} at position {} refers to {kind} {id}, which the log never \
         introduced",
        feed_event.event_type, feed_event.position
    ))
}
