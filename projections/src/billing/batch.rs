//! How a batch of events changes the billing tables: what it needs of them is read in a
//! few keyed reads, changed in memory event by event, and written back in one multi-row
//! statement per table. A batch then costs the same handful of statements whatever its
//! size; one statement per event (a time zone, a count, an insert) made billing the
//! slowest view to rebuild on PostgreSQL, where each statement is a round trip.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sablier_domain::change::{ChangeEvent, SubmissionBilling};
use sablier_domain::contract::ContractEvent;
use sablier_domain::month::YearMonth;
use sablier_domain::order::OrderEvent;
use sablier_sla::Tier;

use super::{
    ChangeRow, LineAmount, LineKind, OrderRow, cents_to_i64, local_date, parse_date, parse_tier,
    parse_time_zone, unknown,
};
use crate::error::ProjectionError;
use crate::event::{DomainEvent, FeedEvent};
use crate::sql::{Param, ViewTx};

/// The billing rows a batch reads and writes.
#[derive(Default)]
pub(super) struct Batch {
    free_changes_per_month: u32,
    /// The time zone of every contract known so far: read, or created earlier in the batch.
    time_zones: HashMap<String, Tz>,
    /// Changes submitted per contract and month (contract time zone), so far.
    submitted: HashMap<(String, String), i64>,
    /// Changes known so far: read (those the batch completes) or submitted in the batch.
    changes: HashMap<String, ChangeRow>,
    /// Orders known so far, likewise.
    orders: HashMap<String, OrderRow>,
    /// The whole tier schedule of each contract created or deciding a tier in the batch.
    schedules: BTreeMap<String, BTreeMap<NaiveDate, Tier>>,
    /// Expert minutes logged in the batch, per contract and billing month.
    expert_minutes: BTreeMap<(String, String), i64>,
    /// Rows to insert, row after row.
    new_contracts: Vec<Param>,
    new_changes: Vec<Param>,
    new_orders: Vec<Param>,
    new_lines: Vec<Line>,
    /// The amounts quote corrections give lines written by earlier batches, by line key;
    /// the last correction of a line wins.
    corrected_lines: BTreeMap<(LineKind, String), LineAmount>,
}

impl Batch {
    /// Reads what applying `events` needs ([`ReadKeys`]): the changes and orders they
    /// complete, the time zones of the contracts they name or those changes and orders
    /// name, the months of the changes already submitted by the contracts that submit, and
    /// the tier schedules of the deciding contracts.
    pub(super) async fn load(
        tx: &mut ViewTx,
        events: &[FeedEvent],
        free_changes_per_month: u32,
    ) -> Result<Self, ProjectionError> {
        let ReadKeys {
            completed_changes,
            completed_orders,
            submitting,
            mut named,
            deciding,
        } = ReadKeys::of(events);
        let changes: Vec<ChangeRow> = fetch(
            tx,
            "SELECT change_id, contract_id, billable, catalogue_price_cents, label, \
             customer_reference FROM billing_changes WHERE change_id",
            completed_changes,
        )
        .await?;
        let orders: Vec<OrderRow> = fetch(
            tx,
            "SELECT order_id, contract_id, reference, label FROM billing_orders WHERE order_id",
            completed_orders,
        )
        .await?;
        named.extend(submitting.iter().cloned());
        named.extend(changes.iter().map(|change| change.contract_id.clone()));
        named.extend(orders.iter().map(|order| order.contract_id.clone()));
        let time_zones: Vec<TimeZoneRow> = fetch(
            tx,
            "SELECT contract_id, time_zone FROM billing_contracts WHERE contract_id",
            named,
        )
        .await?;
        let submissions: Vec<SubmissionRow> = fetch(
            tx,
            "SELECT contract_id, submitted_month FROM billing_changes WHERE contract_id",
            submitting,
        )
        .await?;
        let decisions: Vec<DecisionRow> = fetch(
            tx,
            "SELECT contract_id, effective_on, tier FROM billing_tier_schedule WHERE contract_id",
            deciding.iter().cloned().collect(),
        )
        .await?;
        let stored = Stored {
            changes,
            orders,
            time_zones,
            submissions,
            decisions,
        };
        Batch::of_stored(free_changes_per_month, deciding, stored)
    }

    /// The batch before its first event: the rows read, in memory, and a schedule for
    /// each deciding contract (empty when it has none stored: a creation starts it).
    fn of_stored(
        free_changes_per_month: u32,
        deciding: BTreeSet<String>,
        stored: Stored,
    ) -> Result<Self, ProjectionError> {
        let mut batch = Batch {
            free_changes_per_month,
            time_zones: HashMap::with_capacity(stored.time_zones.len()),
            changes: stored
                .changes
                .into_iter()
                .map(|change| (change.change_id.clone(), change))
                .collect(),
            orders: stored
                .orders
                .into_iter()
                .map(|order| (order.order_id.clone(), order))
                .collect(),
            schedules: deciding
                .into_iter()
                .map(|contract_id| (contract_id, BTreeMap::new()))
                .collect(),
            ..Batch::default()
        };
        for row in stored.time_zones {
            batch
                .time_zones
                .insert(row.contract_id, parse_time_zone(&row.time_zone)?);
        }
        for row in stored.submissions {
            *batch
                .submitted
                .entry((row.contract_id, row.submitted_month))
                .or_default() += 1;
        }
        for row in stored.decisions {
            let schedule = batch.schedules.entry(row.contract_id).or_default();
            schedule.insert(parse_date(&row.effective_on)?, parse_tier(&row.tier)?);
        }
        Ok(batch)
    }

    /// Applies one event to the rows in memory.
    pub(super) fn apply(&mut self, event: &FeedEvent) -> Result<(), ProjectionError> {
        match &event.event {
            DomainEvent::Contract(contract_event) => {
                self.apply_contract(&event.aggregate_id, contract_event);
                Ok(())
            }
            DomainEvent::Change(change_event) => self.apply_change(event, change_event),
            DomainEvent::Order(order_event) => self.apply_order(event, order_event),
            DomainEvent::Incident(_) => Ok(()),
        }
    }

    fn apply_contract(&mut self, contract_id: &str, event: &ContractEvent) {
        match event {
            ContractEvent::ContractCreated {
                at,
                contract_id,
                time_zone,
                tier,
                ..
            } => {
                let created_on = local_date(*at, *time_zone);
                self.new_contracts.extend([
                    contract_id.as_str().into(),
                    time_zone.name().into(),
                    created_on.to_string().into(),
                ]);
                self.time_zones
                    .insert(contract_id.as_str().to_owned(), *time_zone);
                self.schedule_tier(contract_id.as_str(), created_on, *tier);
            }
            ContractEvent::SupportTierUpgraded {
                to,
                billing_effective_on,
                ..
            } => self.schedule_tier(contract_id, *billing_effective_on, *to),
            ContractEvent::SupportTierDowngradeScheduled {
                to, effective_on, ..
            } => self.schedule_tier(contract_id, *effective_on, *to),
            ContractEvent::ExpertTimeLogged {
                billing_month,
                minutes,
                ..
            } => {
                *self
                    .expert_minutes
                    .entry((contract_id.to_owned(), billing_month.to_string()))
                    .or_default() += i64::from(*minutes);
            }
            ContractEvent::UserDeclared { .. }
            | ContractEvent::UserRolesChanged { .. }
            | ContractEvent::UserRemoved { .. } => {}
        }
    }

    /// From `effective_on` on, `tier` is billed: this decision replaces any earlier
    /// decision for that day or later.
    fn schedule_tier(&mut self, contract_id: &str, effective_on: NaiveDate, tier: Tier) {
        let schedule = self.schedules.entry(contract_id.to_owned()).or_default();
        schedule.split_off(&effective_on);
        schedule.insert(effective_on, tier);
    }

    fn apply_change(
        &mut self,
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
                billing,
                ..
            } => {
                let time_zone = time_zone(&self.time_zones, contract.as_str(), feed_event)?;
                let month = YearMonth::containing(*at, time_zone).to_string();
                let (rank, billable) =
                    self.rank_submission(contract.as_str(), &month, billing.as_ref());
                let change = ChangeRow {
                    change_id: change_id.as_str().to_owned(),
                    contract_id: contract.as_str().to_owned(),
                    billable,
                    catalogue_price_cents: catalogue_price_cents.map(cents_to_i64).transpose()?,
                    label: article.article.as_str().to_owned(),
                    customer_reference: customer_reference
                        .as_ref()
                        .map(|reference| reference.as_str().to_owned()),
                };
                self.record_submission(change, month, rank);
                Ok(())
            }
            ChangeEvent::ChangeCompleted {
                at,
                accepted_quote_cents,
                ..
            } => self.complete_change(feed_event, *at, *accepted_quote_cents),
            ChangeEvent::ChangeQuoteCorrected { amount_cents, .. } => {
                let change = self.known_change(feed_event)?;
                // Only a billable change without a catalogue price is billed its quote.
                if change.billable && change.catalogue_price_cents.is_none() {
                    self.correct_line(LineKind::Change, feed_event, *amount_cents);
                }
                Ok(())
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

    /// Counts a submission among its contract's of `month` and returns its rank there and
    /// whether it is billable. The submission says so; one stored before it said so is
    /// ranked here.
    fn rank_submission(
        &mut self,
        contract_id: &str,
        month: &str,
        billing: Option<&SubmissionBilling>,
    ) -> (i64, bool) {
        let submitted = self
            .submitted
            .entry((contract_id.to_owned(), month.to_owned()))
            .or_default();
        *submitted += 1;
        match billing {
            Some(billing) => (i64::from(billing.rank_in_month), billing.billable),
            None => (
                *submitted,
                *submitted > i64::from(self.free_changes_per_month),
            ),
        }
    }

    /// A change submitted: a row to insert, and known to the events after it.
    fn record_submission(&mut self, change: ChangeRow, month: String, rank: i64) {
        self.new_changes.extend([
            change.change_id.as_str().into(),
            change.contract_id.as_str().into(),
            month.into(),
            rank.into(),
            change.billable.into(),
            change.catalogue_price_cents.into(),
            change.label.as_str().into(),
            change.customer_reference.clone().into(),
        ]);
        self.changes.insert(change.change_id.clone(), change);
    }

    /// A billable change completed makes a line, billed its catalogue price or else its
    /// accepted quote (none, with a warning, when it has neither).
    fn complete_change(
        &mut self,
        feed_event: &FeedEvent,
        at: DateTime<Utc>,
        accepted_quote_cents: Option<u64>,
    ) -> Result<(), ProjectionError> {
        let change = self.known_change(feed_event)?;
        if !change.billable {
            return Ok(());
        }
        let quote = accepted_quote_cents.map(LineAmount::of);
        let catalogue_price = change.catalogue_price_cents.map(LineAmount::Billed);
        let Some(amount) = catalogue_price.or(quote) else {
            tracing::warn!(
                change_id = %feed_event.aggregate_id,
                position = feed_event.position,
                "a billable change completed with neither a catalogue price nor an \
                 accepted quote: no line"
            );
            return Ok(());
        };
        let line = Line::new(
            LineKind::Change,
            &change.contract_id,
            change.customer_reference.clone(),
            &change.label,
            amount,
            &self.time_zones,
            feed_event,
            at,
        )?;
        self.new_lines.push(line);
        Ok(())
    }

    /// The change of `feed_event`, known so far; an error naming the event otherwise.
    fn known_change(&self, feed_event: &FeedEvent) -> Result<&ChangeRow, ProjectionError> {
        self.changes
            .get(&feed_event.aggregate_id)
            .ok_or_else(|| unknown("change", &feed_event.aggregate_id, feed_event))
    }

    fn apply_order(
        &mut self,
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
                let order = OrderRow {
                    order_id: order_id.as_str().to_owned(),
                    contract_id: contract.as_str().to_owned(),
                    reference: reference.as_str().to_owned(),
                    label: item.name.as_str().to_owned(),
                };
                self.new_orders.extend([
                    order.order_id.as_str().into(),
                    order.contract_id.as_str().into(),
                    order.reference.as_str().into(),
                    order.label.as_str().into(),
                ]);
                self.orders.insert(order.order_id.clone(), order);
                Ok(())
            }
            OrderEvent::OrderCompleted {
                at, amount_cents, ..
            } => {
                let order = self
                    .orders
                    .get(&feed_event.aggregate_id)
                    .ok_or_else(|| unknown("order", &feed_event.aggregate_id, feed_event))?;
                let line = Line::new(
                    LineKind::Order,
                    &order.contract_id,
                    Some(order.reference.clone()),
                    &order.label,
                    LineAmount::of(*amount_cents),
                    &self.time_zones,
                    feed_event,
                    *at,
                )?;
                self.new_lines.push(line);
                Ok(())
            }
            OrderEvent::OrderQuoteCorrected { amount_cents, .. } => {
                // An order sold on quote is billed its quote: a completed order's line
                // takes the correction; one completed later carries the corrected amount.
                self.correct_line(LineKind::Order, feed_event, *amount_cents);
                Ok(())
            }
            OrderEvent::OrderConfirmationRecorded { .. }
            | OrderEvent::OrderQuoted { .. }
            | OrderEvent::OrderQuoteAccepted { .. }
            | OrderEvent::OrderQuoteDeclined { .. }
            | OrderEvent::OrderStarted { .. }
            | OrderEvent::OrderCancelled { .. } => Ok(()),
        }
    }

    /// The line of `feed_event`'s order or change, if it has one, is billed `amount_cents`
    /// from now on: changed in place when this batch wrote it, else remembered for the
    /// stored line (none when the order or change has not completed: its completion
    /// carries the corrected amount).
    fn correct_line(&mut self, kind: LineKind, feed_event: &FeedEvent, amount_cents: u64) {
        let amount = LineAmount::of(amount_cents);
        let source_id = &feed_event.aggregate_id;
        match self
            .new_lines
            .iter_mut()
            .find(|line| line.kind == kind && &line.source_id == source_id)
        {
            Some(line) => line.amount = amount,
            None => {
                self.corrected_lines
                    .insert((kind, source_id.clone()), amount);
            }
        }
    }

    /// Writes what changed: new rows, expert minutes added to the stored ones, and the
    /// tier schedule of each deciding contract in place of the stored one.
    pub(super) async fn write(self, tx: &mut ViewTx) -> Result<(), ProjectionError> {
        tx.execute_rows(
            "INSERT INTO billing_contracts (contract_id, time_zone, created_on) VALUES",
            "",
            3,
            self.new_contracts,
        )
        .await?;
        replace_schedules(tx, self.schedules).await?;
        let minutes = self
            .expert_minutes
            .into_iter()
            .flat_map(|((contract_id, month), minutes)| {
                [contract_id.into(), month.into(), minutes.into()]
            })
            .collect();
        tx.execute_rows(
            "INSERT INTO billing_expert_minutes (contract_id, month, used_minutes) VALUES",
            "ON CONFLICT (contract_id, month) DO UPDATE \
             SET used_minutes = billing_expert_minutes.used_minutes + excluded.used_minutes",
            3,
            minutes,
        )
        .await?;
        tx.execute_rows(
            "INSERT INTO billing_changes (change_id, contract_id, submitted_month, \
             rank_in_month, billable, catalogue_price_cents, label, customer_reference) VALUES",
            "",
            8,
            self.new_changes,
        )
        .await?;
        tx.execute_rows(
            "INSERT INTO billing_orders (order_id, contract_id, reference, label) VALUES",
            "",
            4,
            self.new_orders,
        )
        .await?;
        let lines = self
            .new_lines
            .into_iter()
            .flat_map(Line::into_row)
            .collect();
        tx.execute_rows(
            "INSERT INTO billing_lines (kind, source_id, contract_id, month, effective_on, \
             reference, label, amount_cents, refused_amount_cents, position) VALUES",
            "",
            10,
            lines,
        )
        .await?;
        correct_stored_lines(tx, self.corrected_lines).await
    }
}

/// The keys of the rows a batch reads, by what its events do.
#[derive(Default)]
struct ReadKeys {
    /// Changes completed or whose quote is corrected: their stored rows.
    completed_changes: BTreeSet<String>,
    /// Orders completed.
    completed_orders: BTreeSet<String>,
    /// Contracts submitting a change: the months of their stored changes.
    submitting: BTreeSet<String>,
    /// Contracts whose time zone is needed (placing an order, here).
    named: BTreeSet<String>,
    /// Contracts created or deciding a tier (a creation schedules its first tier).
    deciding: BTreeSet<String>,
}

impl ReadKeys {
    fn of(events: &[FeedEvent]) -> Self {
        let mut keys = ReadKeys::default();
        for event in events {
            match &event.event {
                DomainEvent::Contract(
                    ContractEvent::ContractCreated { .. }
                    | ContractEvent::SupportTierUpgraded { .. }
                    | ContractEvent::SupportTierDowngradeScheduled { .. },
                ) => {
                    keys.deciding.insert(event.aggregate_id.clone());
                }
                DomainEvent::Change(ChangeEvent::ChangeSubmitted { contract, .. }) => {
                    keys.submitting.insert(contract.as_str().to_owned());
                }
                DomainEvent::Order(OrderEvent::OrderPlaced { contract, .. }) => {
                    keys.named.insert(contract.as_str().to_owned());
                }
                DomainEvent::Change(
                    ChangeEvent::ChangeCompleted { .. } | ChangeEvent::ChangeQuoteCorrected { .. },
                ) => {
                    keys.completed_changes.insert(event.aggregate_id.clone());
                }
                DomainEvent::Order(OrderEvent::OrderCompleted { .. }) => {
                    keys.completed_orders.insert(event.aggregate_id.clone());
                }
                _ => {}
            }
        }
        keys
    }
}

/// The rows [`Batch::load`] read.
struct Stored {
    changes: Vec<ChangeRow>,
    orders: Vec<OrderRow>,
    time_zones: Vec<TimeZoneRow>,
    submissions: Vec<SubmissionRow>,
    decisions: Vec<DecisionRow>,
}

/// A one-off line made by an event of this batch, about to be written.
struct Line {
    kind: LineKind,
    /// The order's or change's id.
    source_id: String,
    contract_id: String,
    month: String,
    effective_on: String,
    reference: Option<String>,
    label: String,
    amount: LineAmount,
    /// The feed position of the event that made the line.
    position: i64,
}

impl Line {
    /// The line of `feed_event`'s aggregate, effective on the date of `at` in its
    /// contract's time zone.
    #[allow(
        clippy::too_many_arguments,
        reason = "one line's facts, each from a different place; a struct would only repeat them"
    )]
    fn new(
        kind: LineKind,
        contract_id: &str,
        reference: Option<String>,
        label: &str,
        amount: LineAmount,
        time_zones: &HashMap<String, Tz>,
        feed_event: &FeedEvent,
        at: DateTime<Utc>,
    ) -> Result<Self, ProjectionError> {
        let effective_on = local_date(at, time_zone(time_zones, contract_id, feed_event)?);
        Ok(Self {
            kind,
            source_id: feed_event.aggregate_id.clone(),
            contract_id: contract_id.to_owned(),
            month: YearMonth::of(effective_on).to_string(),
            effective_on: effective_on.to_string(),
            reference,
            label: label.to_owned(),
            amount,
            position: feed_event.position,
        })
    }

    /// Its row of `billing_lines`, in the insert's column order.
    fn into_row(self) -> [Param; 10] {
        let (amount_cents, refused_amount_cents) = self.amount.columns();
        [
            self.kind.as_str().into(),
            self.source_id.into(),
            self.contract_id.into(),
            self.month.into(),
            self.effective_on.into(),
            self.reference.into(),
            self.label.into(),
            amount_cents,
            refused_amount_cents,
            self.position.into(),
        ]
    }
}

/// The tier schedule of each deciding contract, in place of the stored one.
async fn replace_schedules(
    tx: &mut ViewTx,
    schedules: BTreeMap<String, BTreeMap<NaiveDate, Tier>>,
) -> Result<(), ProjectionError> {
    let deciding: Vec<String> = schedules.keys().cloned().collect();
    tx.execute_by_keys(
        "DELETE FROM billing_tier_schedule WHERE contract_id",
        &deciding,
    )
    .await?;
    let mut decisions = Vec::new();
    for (contract_id, schedule) in schedules {
        for (effective_on, tier) in schedule {
            decisions.extend([
                contract_id.as_str().into(),
                effective_on.to_string().into(),
                tier.as_str().into(),
            ]);
        }
    }
    tx.execute_rows(
        "INSERT INTO billing_tier_schedule (contract_id, effective_on, tier) VALUES",
        "",
        3,
        decisions,
    )
    .await?;
    Ok(())
}

/// The amounts quote corrections give lines written by earlier batches: one update per
/// line.
async fn correct_stored_lines(
    tx: &mut ViewTx,
    corrected_lines: BTreeMap<(LineKind, String), LineAmount>,
) -> Result<(), ProjectionError> {
    for ((kind, source_id), amount) in corrected_lines {
        let (amount_cents, refused_amount_cents) = amount.columns();
        tx.execute(
            "UPDATE billing_lines SET amount_cents = $1, refused_amount_cents = $2 \
             WHERE kind = $3 AND source_id = $4",
            &[
                amount_cents,
                refused_amount_cents,
                kind.as_str().into(),
                source_id.into(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// The time zone of a contract known so far; an error naming `feed_event` otherwise.
fn time_zone(
    time_zones: &HashMap<String, Tz>,
    contract_id: &str,
    feed_event: &FeedEvent,
) -> Result<Tz, ProjectionError> {
    time_zones
        .get(contract_id)
        .copied()
        .ok_or_else(|| unknown("contract", contract_id, feed_event))
}

/// The rows of `select` whose key (the column `select` ends with) is one of `keys`; no
/// statement when there is none.
async fn fetch<T: crate::sql::AnyRow>(
    tx: &mut ViewTx,
    select: &str,
    keys: BTreeSet<String>,
) -> Result<Vec<T>, ProjectionError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = keys.into_iter().collect();
    tx.fetch_by_keys(select, &keys).await
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct TimeZoneRow {
    contract_id: String,
    time_zone: String,
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct SubmissionRow {
    contract_id: String,
    submitted_month: String,
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct DecisionRow {
    contract_id: String,
    effective_on: String,
    tier: String,
}
