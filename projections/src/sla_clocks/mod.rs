//! The SLA clocks of incidents (GTI, GTD, GTR) and changes (delivery), and the breach
//! watch built on them.
//!
//! The view stores each clock's transitions as the events stated them, with its pinned
//! tier, policy version, calendar and target. Verdicts are not stored: `ClockRow::evaluate`
//! asks sablier-sla for any instant. What the breach watch sorts on (deadline, when the
//! at-risk threshold is crossed, breach instant) is computed at each transition and holds
//! until the next one, since nothing else moves a clock.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sablier_domain::change::ChangeEvent;
use sablier_domain::incident::{ClockChange, ClockChangeKind, IncidentEvent};
use sablier_sla::clock::evaluate_without_explanation;
use sablier_sla::{
    Calendar, ClockEvaluation, ClockInput, ClockState, Metric, RiskRatio, Transition, evaluate,
};

use crate::error::ProjectionError;
use crate::event::{DomainEvent, FeedEvent};
use crate::projection::Projection;
use crate::sql::{Param, ViewReader, ViewTx, instant_text};

/// Why a change's delivery clock pauses while a quote waits for the customer.
pub const AWAITING_QUOTE_ACCEPTANCE: &str = "awaiting_quote_acceptance";

/// One clock as stored.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ClockRow {
    pub request_id: String,
    pub metric: String,
    pub request_kind: String,
    pub contract_id: String,
    pub tier: Option<String>,
    pub policy_version: Option<String>,
    pub priority: Option<String>,
    pub calendar: String,
    pub time_zone: String,
    pub pausable: i64,
    pub initial_target_seconds: Option<i64>,
    pub target_seconds: Option<i64>,
    pub transitions: String,
    pub state: String,
    pub deadline: Option<String>,
    pub at_risk_from: Option<String>,
    pub breached_at: Option<String>,
    pub last_position: i64,
}

impl ClockRow {
    pub fn transitions(&self) -> Result<Vec<Transition>, ProjectionError> {
        serde_json::from_str(&self.transitions).map_err(|error| {
            ProjectionError::Malformed(format!("{} {}: {error}", self.request_id, self.metric))
        })
    }

    pub fn calendar(&self) -> Result<Calendar, ProjectionError> {
        let time_zone: Tz = self.time_zone.parse().map_err(|error| {
            ProjectionError::Malformed(format!("time zone {}: {error}", self.time_zone))
        })?;
        Calendar::named(&self.calendar, time_zone).map_err(|error| {
            ProjectionError::Malformed(format!("calendar {}: {error}", self.calendar))
        })
    }

    pub fn input(&self, as_of: DateTime<Utc>) -> Result<ClockInput, ProjectionError> {
        Ok(
            ClockInput::new(self.calendar()?, self.transitions()?, as_of)
                .with_target_seconds(self.initial_target_seconds),
        )
    }

    /// The clock as of `as_of`, with the interval-by-interval explanation.
    pub fn evaluate(&self, as_of: DateTime<Utc>) -> Result<ClockEvaluation, ProjectionError> {
        evaluate(&self.input(as_of)?).map_err(|error| {
            ProjectionError::Malformed(format!("{} {}: {error}", self.request_id, self.metric))
        })
    }
}

fn transition(at: DateTime<Utc>, change: &ClockChangeKind) -> Transition {
    match change {
        ClockChangeKind::Start { .. } => Transition::start(at),
        ClockChangeKind::Pause { reason } => Transition::pause(at, reason.as_str()),
        ClockChangeKind::Resume => Transition::resume(at),
        ClockChangeKind::Stop => Transition::stop(at),
        ClockChangeKind::Reopen => Transition::reopen(at),
        ClockChangeKind::Target { target_seconds } => Transition::target(at, *target_seconds),
    }
}

/// What the breach watch needs, as of the clock's last transition.
struct Watch {
    state: &'static str,
    deadline: Option<String>,
    at_risk_from: Option<String>,
    breached_at: Option<String>,
}

fn watch(row: &ClockRow, as_of: DateTime<Utc>) -> Result<Watch, ProjectionError> {
    let input = row.input(as_of)?;
    let evaluation = evaluate_without_explanation(&input).map_err(|error| {
        ProjectionError::Malformed(format!("{} {}: {error}", row.request_id, row.metric))
    })?;
    let state = match evaluation.state {
        ClockState::Running => "running",
        ClockState::Paused => "paused",
        ClockState::Stopped => "stopped",
    };
    let running = evaluation.state == ClockState::Running;
    let at_risk_from = match (running, evaluation.breached, evaluation.target_seconds) {
        (true, false, Some(target)) => {
            let threshold = risk_threshold_seconds(input.at_risk_ratio, target);
            let missing = (threshold - evaluation.counted_seconds).max(0);
            Some(instant_text(
                input.calendar.add_open_seconds(as_of, missing),
            ))
        }
        _ => None,
    };
    Ok(Watch {
        state,
        deadline: evaluation.deadline.filter(|_| running).map(instant_text),
        at_risk_from,
        breached_at: evaluation.breached_at.map(instant_text),
    })
}

/// The counted seconds at which a clock is at risk: ⌈target × ratio⌉.
fn risk_threshold_seconds(ratio: RiskRatio, target: i64) -> i64 {
    let (numerator, denominator) = (i64::from(ratio.numerator()), i64::from(ratio.denominator()));
    (target * numerator + denominator - 1) / denominator
}

pub struct SlaClocks;

impl SlaClocks {
    pub const NAME: &'static str = "sla_clocks_v1";

    async fn load(
        tx: &mut ViewTx,
        request_id: &str,
        metric: &str,
    ) -> Result<Option<ClockRow>, ProjectionError> {
        tx.fetch_optional(
            "SELECT * FROM sla_clocks WHERE request_id = $1 AND metric = $2",
            &[request_id.into(), metric.into()],
        )
        .await
    }

    async fn save(
        tx: &mut ViewTx,
        row: &ClockRow,
        at: DateTime<Utc>,
    ) -> Result<(), ProjectionError> {
        let watch = watch(row, at)?;
        tx.execute(
            "INSERT INTO sla_clocks (request_id, metric, request_kind, contract_id, tier, policy_version, priority, \
             calendar, time_zone, pausable, initial_target_seconds, target_seconds, transitions, state, deadline, \
             at_risk_from, breached_at, last_position) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
             ON CONFLICT (request_id, metric) DO UPDATE SET priority = $7, target_seconds = $12, transitions = $13, \
             state = $14, deadline = $15, at_risk_from = $16, breached_at = $17, last_position = $18",
            &[
                row.request_id.clone().into(),
                row.metric.clone().into(),
                row.request_kind.clone().into(),
                row.contract_id.clone().into(),
                row.tier.clone().into(),
                row.policy_version.clone().into(),
                row.priority.clone().into(),
                row.calendar.clone().into(),
                row.time_zone.clone().into(),
                Param::Int(row.pausable),
                row.initial_target_seconds.into(),
                row.target_seconds.into(),
                row.transitions.clone().into(),
                watch.state.into(),
                watch.deadline.into(),
                watch.at_risk_from.into(),
                watch.breached_at.into(),
                Param::Int(row.last_position),
            ],
        )
        .await?;
        Ok(())
    }

    /// Appends `changes` to the clocks of `request_id`; `opened` describes new clocks.
    async fn apply_changes(
        tx: &mut ViewTx,
        event: &FeedEvent,
        changes: &[ClockChange],
        opened: Option<&Opened>,
    ) -> Result<(), ProjectionError> {
        let mut touched: Vec<ClockRow> = Vec::new();
        for change in changes {
            let metric = change.metric.as_str();
            let existing = match touched.iter().position(|row| row.metric == metric) {
                Some(index) => Some(touched.remove(index)),
                None => Self::load(tx, &event.aggregate_id, metric).await?,
            };
            let mut row = match (existing, &change.kind, opened) {
                (Some(row), _, _) => row,
                (
                    None,
                    ClockChangeKind::Start {
                        target_seconds,
                        calendar,
                        pausable,
                    },
                    Some(opened),
                ) => ClockRow {
                    request_id: event.aggregate_id.clone(),
                    metric: metric.to_owned(),
                    request_kind: opened.kind.to_owned(),
                    contract_id: opened.contract_id.clone(),
                    tier: opened.tier.clone(),
                    policy_version: opened.policy_version.clone(),
                    priority: opened.priority.clone(),
                    calendar: calendar.clone(),
                    time_zone: opened.time_zone.clone(),
                    pausable: i64::from(*pausable),
                    initial_target_seconds: *target_seconds,
                    target_seconds: *target_seconds,
                    transitions: "[]".to_owned(),
                    state: "running".to_owned(),
                    deadline: None,
                    at_risk_from: None,
                    breached_at: None,
                    last_position: event.position,
                },
                (None, _, _) => {
                    return Err(ProjectionError::Malformed(format!(
                        "{} {metric}: a clock change before the clock started (position {})",
                        event.aggregate_id, event.position
                    )));
                }
            };
            let mut transitions = row.transitions()?;
            transitions.push(transition(event.at, &change.kind));
            if let ClockChangeKind::Target { target_seconds } = &change.kind {
                row.target_seconds = *target_seconds;
            }
            row.transitions = serde_json::to_string(&transitions).expect("transitions serialize");
            row.last_position = event.position;
            touched.push(row);
        }
        for row in &mut touched {
            if let Some(priority) = opened.and_then(|opened| opened.priority.clone()) {
                row.priority = Some(priority);
            }
            Self::save(tx, row, event.at).await?;
        }
        Ok(())
    }

    /// The clocks of one request, by metric.
    pub async fn for_request(
        reader: &ViewReader,
        request_id: &str,
    ) -> Result<Vec<ClockRow>, ProjectionError> {
        reader
            .fetch_all(
                "SELECT * FROM sla_clocks WHERE request_id = $1 ORDER BY metric",
                &[request_id.into()],
            )
            .await
    }

    /// The breach watch as of `now`: running clocks by deadline (overdue first), and those
    /// past their at-risk threshold but not yet breached. `contracts`: `None` for all.
    pub async fn breach_watch(
        reader: &ViewReader,
        now: DateTime<Utc>,
        contracts: Option<&[String]>,
        limit: i64,
    ) -> Result<BreachWatch, ProjectionError> {
        let (filter, mut params) = contract_filter(contracts, 3);
        params.insert(0, Param::Int(limit));
        params.insert(1, instant_text(now).into());
        let next_breaches = reader
            .fetch_all(
                &format!(
                    "SELECT * FROM sla_clocks WHERE deadline IS NOT NULL AND $2 = $2 {filter} \
                     ORDER BY deadline, request_id, metric LIMIT $1"
                ),
                &params,
            )
            .await?;
        let at_risk = reader
            .fetch_all(
                &format!(
                    "SELECT * FROM sla_clocks WHERE deadline IS NOT NULL AND deadline > $2 \
                     AND at_risk_from IS NOT NULL AND at_risk_from <= $2 {filter} \
                     ORDER BY deadline, request_id, metric LIMIT $1"
                ),
                &params,
            )
            .await?;
        Ok(BreachWatch {
            next_breaches,
            at_risk,
        })
    }
}

/// Running clocks ordered by deadline, and those at risk.
#[derive(Clone, Debug, PartialEq)]
pub struct BreachWatch {
    pub next_breaches: Vec<ClockRow>,
    pub at_risk: Vec<ClockRow>,
}

fn contract_filter(contracts: Option<&[String]>, first_placeholder: usize) -> (String, Vec<Param>) {
    match contracts {
        None => (String::new(), Vec::new()),
        Some([]) => ("AND 1 = 0".to_owned(), Vec::new()),
        Some(contracts) => {
            let placeholders: Vec<String> = (0..contracts.len())
                .map(|i| format!("${}", i + first_placeholder))
                .collect();
            (
                format!("AND contract_id IN ({})", placeholders.join(", ")),
                contracts.iter().map(|c| Param::Text(c.clone())).collect(),
            )
        }
    }
}

/// The pinned facts of new clocks.
struct Opened {
    kind: &'static str,
    contract_id: String,
    tier: Option<String>,
    policy_version: Option<String>,
    priority: Option<String>,
    time_zone: String,
}

fn delivery(kind: ClockChangeKind) -> Vec<ClockChange> {
    vec![ClockChange::new(Metric::Delivery, kind)]
}

#[async_trait]
impl Projection for SlaClocks {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn apply(&self, tx: &mut ViewTx, event: &FeedEvent) -> Result<(), ProjectionError> {
        match &event.event {
            DomainEvent::Incident(incident) => {
                let opened = match incident {
                    IncidentEvent::IncidentOpened {
                        contract_id,
                        tier,
                        policy_version,
                        priority,
                        time_zone,
                        ..
                    } => Some(Opened {
                        kind: "incident",
                        contract_id: contract_id.to_string(),
                        tier: Some(tier.to_string()),
                        policy_version: Some(policy_version.clone()),
                        priority: Some(priority.to_string()),
                        time_zone: time_zone.name().to_owned(),
                    }),
                    _ => None,
                };
                if let IncidentEvent::PriorityChanged { to, .. } = incident {
                    tx.execute(
                        "UPDATE sla_clocks SET priority = $1 WHERE request_id = $2",
                        &[to.to_string().into(), event.aggregate_id.clone().into()],
                    )
                    .await?;
                }
                Self::apply_changes(tx, event, incident.clocks(), opened.as_ref()).await
            }
            DomainEvent::Change(change) => match change {
                ChangeEvent::ChangeSubmitted {
                    contract,
                    delivery_calendar,
                    delivery_time_zone,
                    delivery_target_seconds,
                    ..
                } => {
                    let opened = Opened {
                        kind: "change",
                        contract_id: contract.to_string(),
                        tier: None,
                        policy_version: None,
                        priority: None,
                        time_zone: delivery_time_zone.name().to_owned(),
                    };
                    let start = delivery(ClockChangeKind::Start {
                        target_seconds: Some(*delivery_target_seconds),
                        calendar: delivery_calendar.clone(),
                        pausable: true,
                    });
                    Self::apply_changes(tx, event, &start, Some(&opened)).await
                }
                ChangeEvent::ChangeQuoted { .. } => {
                    let reason =
                        sablier_domain::incident::PauseReason::parse(AWAITING_QUOTE_ACCEPTANCE)
                            .expect("a valid reason code");
                    self.change_clock(tx, event, delivery(ClockChangeKind::Pause { reason }))
                        .await
                }
                ChangeEvent::ChangeQuoteAccepted { .. } => {
                    self.change_clock(tx, event, delivery(ClockChangeKind::Resume))
                        .await
                }
                ChangeEvent::ChangeCompleted { .. }
                | ChangeEvent::ChangeCancelled { .. }
                | ChangeEvent::ChangeRejected { .. }
                | ChangeEvent::ChangeQuoteDeclined { .. } => self.stop_delivery(tx, event).await,
                _ => Ok(()),
            },
            DomainEvent::Contract(_) | DomainEvent::Order(_) => Ok(()),
        }
    }

    async fn reset(&self, tx: &mut ViewTx) -> Result<(), ProjectionError> {
        tx.execute("DELETE FROM sla_clocks", &[]).await.map(drop)
    }
}

impl SlaClocks {
    async fn change_clock(
        &self,
        tx: &mut ViewTx,
        event: &FeedEvent,
        changes: Vec<ClockChange>,
    ) -> Result<(), ProjectionError> {
        if Self::load(tx, &event.aggregate_id, Metric::Delivery.as_str())
            .await?
            .is_none()
        {
            return Ok(());
        }
        Self::apply_changes(tx, event, &changes, None).await
    }

    /// A finished change stops its delivery clock (a paused one resumes and stops at once).
    async fn stop_delivery(
        &self,
        tx: &mut ViewTx,
        event: &FeedEvent,
    ) -> Result<(), ProjectionError> {
        let Some(row) = Self::load(tx, &event.aggregate_id, Metric::Delivery.as_str()).await?
        else {
            return Ok(());
        };
        let changes = match row.state.as_str() {
            "running" => delivery(ClockChangeKind::Stop),
            "paused" => vec![
                ClockChange::new(Metric::Delivery, ClockChangeKind::Resume),
                ClockChange::new(Metric::Delivery, ClockChangeKind::Stop),
            ],
            _ => return Ok(()),
        };
        Self::apply_changes(tx, event, &changes, None).await
    }
}

#[cfg(test)]
mod tests;
