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
//! Rules docs/domain.md ("Billing effective dates") leaves open, decided here:
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
//!   decides once and for all whether the change is billable. The submission says so
//!   itself (`ChangeSubmitted::billing`, decided by the change aggregate): this view takes
//!   its word, and ranks here only the submissions stored before they said it. Cancelling
//!   a change does not give its free slot back (that would make an already billable change
//!   free).
//! - A billable change's line is effective on its completion date (contract time zone),
//!   like an order's: it is billed in the completion month, which may follow the
//!   submission month. A billable change cancelled, rejected or whose quote is declined
//!   never gets a line, and still used up its rank in the quota.
//! - A billable change costs its `catalogue_price_cents`; an article without a catalogue
//!   price (sold on study) costs the quote accepted for it. A billable change with neither
//!   gets no line (logged as a warning). A free change is never billed, quoted or not.
//! - An order's line is effective on its completion date (contract time zone) for its
//!   `amount_cents`. A cancelled order never completes, so it never has a line.
//! - An amount above `Cents::MAX` (a quote written before amounts were bounded) is not
//!   billed and never stops the view: its line keeps no amount, only the amount as
//!   written (`LineAmount::Refused`), until an administrator's quote correction
//!   (`OrderQuoteCorrected`, `ChangeQuoteCorrected`) gives it the corrected one. A
//!   correction applies to the line whenever it comes, after completion included; a
//!   change billed its catalogue price is not billed its quote, so a correction leaves
//!   its line as it is.
//! - An event naming a contract (or a change, an order) this view never saw is an error:
//!   the log always creates a contract before anything refers to it.
//! - The free quota is a constructor parameter, for the submissions that do not say
//!   whether they are billable: a view built under one quota is not rewritten when the
//!   quota changes. Rebuild it (reset, or a new [`Projection::name`]).

mod batch;
mod schedule;
#[cfg(test)]
mod tests;

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sablier_domain::month::YearMonth;
use sablier_domain::{Cents, ContractId};
use sablier_sla::Tier;
use serde::Serialize;

use crate::error::ProjectionError;
use crate::event::FeedEvent;
use crate::projection::Projection;
use crate::sql::{Param, ViewReader, ViewTx};

use batch::Batch;
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
    /// Euro cents excluding tax; `None` when the amount the log holds cannot be billed
    /// (see `refused_amount_cents`).
    pub amount_cents: Option<u64>,
    /// The amount as the log wrote it when it is above [`Cents::MAX`] and so not billed:
    /// a quote written before amounts were bounded, awaiting an administrator's
    /// correction. `None` when the line is billed.
    pub refused_amount_cents: Option<u64>,
    pub effective_on: NaiveDate,
}

impl BillingLine {
    /// Why the line has no amount, in a sentence; `None` when it is billed.
    pub fn amount_refused(&self) -> Option<String> {
        self.refused_amount_cents.map(|written| {
            format!(
                "the quoted {written} cents exceed the maximum of {} cents; an \
                 administrator's quote correction is awaited",
                Cents::MAX
            )
        })
    }
}

/// What a line is billed, as the view stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LineAmount {
    /// Euro cents excluding tax, within [`Cents::MAX`].
    Billed(i64),
    /// An amount above [`Cents::MAX`], as written: not billed.
    Refused(u64),
}

impl LineAmount {
    /// `cents` as a line amount: billed within [`Cents::MAX`], refused above.
    pub(crate) fn of(cents: u64) -> Self {
        match i64::try_from(cents) {
            Ok(billed) if cents <= Cents::MAX => LineAmount::Billed(billed),
            _ => LineAmount::Refused(cents),
        }
    }

    /// The `amount_cents` and `refused_amount_cents` columns: one of them is NULL.
    pub(crate) fn columns(self) -> (Param, Param) {
        match self {
            LineAmount::Billed(cents) => (Some(cents).into(), Param::NullText),
            LineAmount::Refused(written) => (Param::NullInt, Some(written.to_string()).into()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
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

    /// The default quota of free changes per calendar month (docs/domain.md "Submission"),
    /// used to rank the submissions stored before they said whether they are billable.
    pub const DEFAULT_FREE_CHANGES_PER_MONTH: u32 =
        sablier_domain::change::DEFAULT_FREE_CHANGES_PER_MONTH;

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
                "SELECT kind, source_id, reference, label, amount_cents, refused_amount_cents, \
                 effective_on FROM billing_lines WHERE contract_id = $1 AND month = $2 \
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
}

/// A submitted change as billing sees it: whether it is billable and what it costs.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Deserialize)]
pub struct BilledChange {
    /// The submission's month, `YYYY-MM` in the contract's time zone.
    pub submitted_month: String,
    /// Its rank among the contract's submissions of that month, from 1.
    pub rank_in_month: i64,
    pub billable: bool,
    /// The catalogue price in euro cents excluding tax; `None` for an article sold on
    /// study (it costs the quote accepted for it).
    pub catalogue_price_cents: Option<i64>,
}

impl Billing {
    /// Whether the submitted change `change_id` is billable; `None` when this view has not
    /// seen it submitted.
    pub async fn change(
        reader: &ViewReader,
        change_id: &str,
    ) -> Result<Option<BilledChange>, ProjectionError> {
        reader
            .fetch_optional(
                "SELECT submitted_month, rank_in_month, billable, catalogue_price_cents                  FROM billing_changes WHERE change_id = $1",
                &[change_id.into()],
            )
            .await
    }
}

impl Default for Billing {
    fn default() -> Self {
        Self::new(Self::DEFAULT_FREE_CHANGES_PER_MONTH)
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
        let mut batch = Batch::load(tx, events, self.free_changes_per_month).await?;
        for event in events {
            batch.apply(event)?;
        }
        batch.write(tx).await
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
    change_id: String,
    contract_id: String,
    billable: bool,
    catalogue_price_cents: Option<i64>,
    label: String,
    customer_reference: Option<String>,
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct OrderRow {
    order_id: String,
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
    amount_cents: Option<i64>,
    refused_amount_cents: Option<String>,
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
            amount_cents: self
                .amount_cents
                .map(|cents| u64::try_from(cents).map_err(|_| malformed(format!("{cents} cents"))))
                .transpose()?,
            refused_amount_cents: self
                .refused_amount_cents
                .map(|written| {
                    written
                        .parse::<u64>()
                        .map_err(|_| malformed(format!("refused amount '{written}'")))
                })
                .transpose()?,
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
