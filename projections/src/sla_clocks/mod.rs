//! The SLA clocks of incidents (GTI, GTD, GTR) and changes (delivery), and the breach
//! watch built on them.
//!
//! The view stores each clock's transitions as the events stated them (a pause with the
//! actor the event's metadata names), with its pinned tier, policy version, at-risk
//! ratio, calendar and target. Verdicts are not stored: `ClockRow::evaluate` asks
//! sablier-sla for any instant. What the breach watch sorts on
//! (deadline, when the at-risk threshold is crossed, breach instant) is computed at each
//! transition and holds until the next one, since nothing else moves a clock.
//!
//! An incident clock's at-risk ratio is its pinned policy version's, looked up in the
//! policies Sablier ships (those the command side decides with); a change's delivery
//! clock, which pauses while a quote awaits the customer, takes the engine's default.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sablier_domain::change::ChangeEvent;
use sablier_domain::incident::{ClockChange, ClockChangeKind, IncidentEvent};
use sablier_domain::services::{PolicyBook, StaticPolicyBook};
use sablier_sla::clock::evaluate_without_explanation;
use sablier_sla::{
    Calendar, ClockEvaluation, ClockInput, ClockState, Metric, RiskRatio, Transition,
    TransitionKind, evaluate,
};

use crate::error::ProjectionError;
use crate::event::{DomainEvent, FeedEvent};
use crate::projection::{InMemoryBatch, Projection};
use crate::request_list::{RequestKind, VisibleContract};
use crate::sql::{Param, ViewReader, ViewTx, instant_text};

/// Why a change's delivery clock pauses while a quote waits for the customer.
pub const AWAITING_QUOTE_ACCEPTANCE: &str = "awaiting_quote_acceptance";

/// One clock as stored.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow, serde::Deserialize)]
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
    /// The at-risk ratio of the pinned policy (the engine's default for a change's
    /// delivery clock), as the fraction [`ClockRow::at_risk_ratio`] reads.
    pub at_risk_numerator: i64,
    pub at_risk_denominator: i64,
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

    /// The calendar the clock started on.
    pub fn calendar(&self) -> Result<Calendar, ProjectionError> {
        Calendar::named(&self.calendar, self.time_zone()?).map_err(|error| {
            ProjectionError::Malformed(format!("calendar {}: {error}", self.calendar))
        })
    }

    /// The calendar the clock counts on at `as_of`: `started_on` (the calendar it started
    /// on), or the one named by the last target change onto another calendar (a priority
    /// change).
    fn calendar_in_force(
        &self,
        started_on: &Calendar,
        transitions: &[Transition],
        as_of: DateTime<Utc>,
    ) -> Result<Calendar, ProjectionError> {
        let moved_to = transitions
            .iter()
            .rev()
            .filter(|transition| transition.at <= as_of)
            .find_map(|transition| match &transition.kind {
                TransitionKind::Target {
                    calendar: Some(calendar),
                    ..
                } => Some(calendar.as_str()),
                _ => None,
            });
        match moved_to {
            None => Ok(started_on.clone()),
            Some(name) => Calendar::named(name, self.time_zone()?)
                .map_err(|error| ProjectionError::Malformed(format!("calendar {name}: {error}"))),
        }
    }

    /// The time zone the clock's calendar is read in.
    pub fn time_zone(&self) -> Result<Tz, ProjectionError> {
        self.time_zone.parse().map_err(|error| {
            ProjectionError::Malformed(format!("time zone {}: {error}", self.time_zone))
        })
    }

    /// The share of its target after which the clock is at risk, pinned when it started.
    pub fn at_risk_ratio(&self) -> Result<RiskRatio, ProjectionError> {
        let term = |value: i64| u32::try_from(value).ok();
        term(self.at_risk_numerator)
            .zip(term(self.at_risk_denominator))
            .and_then(|(numerator, denominator)| RiskRatio::new(numerator, denominator).ok())
            .ok_or_else(|| {
                ProjectionError::Malformed(format!(
                    "{} {}: at-risk ratio {}/{}",
                    self.request_id, self.metric, self.at_risk_numerator, self.at_risk_denominator
                ))
            })
    }

    pub fn input(&self, as_of: DateTime<Utc>) -> Result<ClockInput, ProjectionError> {
        self.input_with(self.transitions()?, as_of)
    }

    fn input_with(
        &self,
        transitions: Vec<Transition>,
        as_of: DateTime<Utc>,
    ) -> Result<ClockInput, ProjectionError> {
        let mut input = ClockInput::new(self.calendar()?, transitions, as_of)
            .with_target_seconds(self.initial_target_seconds);
        input.at_risk_ratio = self.at_risk_ratio()?;
        Ok(input)
    }

    /// The clock's figures as of `as_of`, without the explanation (cheaper); `None` when
    /// the clock had not started yet at `as_of`.
    pub fn figures(
        &self,
        as_of: DateTime<Utc>,
    ) -> Result<Option<ClockEvaluation>, ProjectionError> {
        self.figures_with(self.transitions()?, as_of)
    }

    /// [`ClockRow::figures`] with the transitions given instead of the stored ones.
    fn figures_with(
        &self,
        transitions: Vec<Transition>,
        as_of: DateTime<Utc>,
    ) -> Result<Option<ClockEvaluation>, ProjectionError> {
        if transitions.first().is_none_or(|start| start.at > as_of) {
            return Ok(None);
        }
        evaluate_without_explanation(&self.input_with(transitions, as_of)?)
            .map(Some)
            .map_err(|error| {
                ProjectionError::Malformed(format!("{} {}: {error}", self.request_id, self.metric))
            })
    }

    /// When the clock started (its first transition), if it has.
    pub fn started_at(&self) -> Result<Option<DateTime<Utc>>, ProjectionError> {
        Ok(self.transitions()?.first().map(|start| start.at))
    }

    /// The clock as of `as_of`, with the interval-by-interval explanation.
    pub fn evaluate(&self, as_of: DateTime<Utc>) -> Result<ClockEvaluation, ProjectionError> {
        evaluate(&self.input(as_of)?).map_err(|error| {
            ProjectionError::Malformed(format!("{} {}: {error}", self.request_id, self.metric))
        })
    }
}

/// The transition a clock change states; a pause names its actor, from the event's
/// metadata (`actor`, empty when the metadata had none).
/// The row of a clock that `change` starts; a change to a clock that never started is
/// malformed.
fn started_clock(
    event: &FeedEvent,
    change: &ClockChange,
    opened: Option<&Opened>,
) -> Result<ClockRow, ProjectionError> {
    let (
        ClockChangeKind::Start {
            target_seconds,
            calendar,
            pausable,
        },
        Some(opened),
    ) = (&change.kind, opened)
    else {
        return Err(ProjectionError::Malformed(format!(
            "{} {}: a clock change before the clock started (position {})",
            event.aggregate_id,
            change.metric.as_str(),
            event.position
        )));
    };
    Ok(ClockRow {
        request_id: event.aggregate_id.clone(),
        metric: change.metric.as_str().to_owned(),
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
        at_risk_numerator: i64::from(opened.at_risk_ratio.numerator()),
        at_risk_denominator: i64::from(opened.at_risk_ratio.denominator()),
        transitions: "[]".to_owned(),
        state: "running".to_owned(),
        deadline: None,
        at_risk_from: None,
        breached_at: None,
        last_position: event.position,
    })
}

fn transition(at: DateTime<Utc>, change: &ClockChangeKind, actor: &str) -> Transition {
    match change {
        ClockChangeKind::Start { .. } => Transition::start(at),
        ClockChangeKind::Pause { reason } if actor.is_empty() => {
            Transition::pause(at, reason.as_str())
        }
        ClockChangeKind::Pause { reason } => Transition::pause_by(at, reason.as_str(), actor),
        ClockChangeKind::Resume => Transition::resume(at),
        ClockChangeKind::Stop => Transition::stop(at),
        ClockChangeKind::Reopen => Transition::reopen(at),
        ClockChangeKind::Target {
            target_seconds,
            calendar: None,
        } => Transition::target(at, *target_seconds),
        ClockChangeKind::Target {
            target_seconds,
            calendar: Some(calendar),
        } => Transition::target_on(at, *target_seconds, calendar.clone()),
    }
}

/// What the breach watch needs, as of the clock's last transition.
struct Watch {
    state: &'static str,
    deadline: Option<String>,
    at_risk_from: Option<String>,
    breached_at: Option<String>,
}

fn watch(
    row: &ClockRow,
    transitions: &[Transition],
    as_of: DateTime<Utc>,
) -> Result<Watch, ProjectionError> {
    let input = row.input_with(transitions.to_vec(), as_of)?;
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
            let calendar = row.calendar_in_force(&input.calendar, transitions, as_of)?;
            Some(instant_text(calendar.add_open_seconds(as_of, missing)))
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

/// The clocks view. An incident's clocks take the at-risk ratio of the policy version the
/// incident pinned, looked up in the policies Sablier ships ([`StaticPolicyBook::default`],
/// the book the command side decides with), as the incident aggregate looks it up.
pub struct SlaClocks;

impl SlaClocks {
    /// `_v2`: the clocks keep their policy's at-risk ratio. `_v3`: a pause names its
    /// actor (rebuilt from the log, so that pauses stated before name theirs too).
    pub const NAME: &'static str = "sla_clocks_v3";

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

    /// The incident clocks of one contract, by request and metric.
    pub async fn of_contract_incidents(
        reader: &ViewReader,
        contract_id: &str,
    ) -> Result<Vec<ClockRow>, ProjectionError> {
        reader
            .fetch_all(
                "SELECT * FROM sla_clocks WHERE contract_id = $1 AND request_kind = 'incident' \
                 ORDER BY request_id, metric",
                &[contract_id.into()],
            )
            .await
    }

    /// At most `limit` incident clocks after `after` (request, metric) in that order, of
    /// one contract and of one request when named: a walk through the whole view that
    /// never loads it whole.
    pub async fn incident_clocks_after(
        reader: &ViewReader,
        after: (&str, &str),
        contract_id: Option<&str>,
        request_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ClockRow>, ProjectionError> {
        let mut params = vec![after.0.into(), after.1.into(), Param::Int(limit)];
        let mut filter = String::new();
        for (column, value) in [("contract_id", contract_id), ("request_id", request_id)] {
            if let Some(value) = value {
                params.push(value.into());
                filter.push_str(&format!(" AND {column} = ${}", params.len()));
            }
        }
        reader
            .fetch_all(
                &format!(
                    "SELECT * FROM sla_clocks WHERE (request_id > $1 OR (request_id = $1 AND metric > $2)) \
                     AND request_kind = 'incident'{filter} ORDER BY request_id, metric LIMIT $3"
                ),
                &params,
            )
            .await
    }

    /// The breach watch as of `now`: running clocks by deadline (overdue first), and those
    /// past their at-risk threshold but not yet breached. `contracts`: `None` for every
    /// clock; otherwise only the clocks of these contracts' requests of the kinds each
    /// lists (an incident's clocks, a change's delivery clock).
    pub async fn breach_watch(
        reader: &ViewReader,
        now: DateTime<Utc>,
        contracts: Option<&[VisibleContract]>,
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

/// The SQL condition (and its parameters, numbered from `first_placeholder`) that keeps
/// the clocks of `contracts`' requests of the kinds each lists: per kind, the contracts
/// where it may be read.
fn contract_filter(
    contracts: Option<&[VisibleContract]>,
    first_placeholder: usize,
) -> (String, Vec<Param>) {
    let Some(contracts) = contracts else {
        return (String::new(), Vec::new());
    };
    let mut params = Vec::new();
    let mut placeholder = |param: Param| {
        params.push(param);
        format!("${}", first_placeholder + params.len() - 1)
    };
    let mut alternatives = Vec::new();
    for kind in RequestKind::ALL {
        let ids: Vec<String> = contracts
            .iter()
            .filter(|visible| visible.kinds.contains(&kind))
            .map(|visible| placeholder(visible.contract.as_str().into()))
            .collect();
        if !ids.is_empty() {
            alternatives.push(format!(
                "(request_kind = {} AND contract_id IN ({}))",
                placeholder(kind.as_str().into()),
                ids.join(", ")
            ));
        }
    }
    if alternatives.is_empty() {
        return ("AND 1 = 0".to_owned(), Vec::new());
    }
    (format!("AND ({})", alternatives.join(" OR ")), params)
}

/// The pinned facts of new clocks.
struct Opened {
    kind: &'static str,
    contract_id: String,
    tier: Option<String>,
    policy_version: Option<String>,
    priority: Option<String>,
    time_zone: String,
    at_risk_ratio: RiskRatio,
}

/// The policies Sablier ships: the versions incidents pin.
fn shipped_policies() -> Arc<dyn PolicyBook> {
    static SHIPPED: LazyLock<Arc<dyn PolicyBook>> =
        LazyLock::new(|| Arc::new(StaticPolicyBook::default()));
    SHIPPED.clone()
}

fn delivery(kind: ClockChangeKind) -> Vec<ClockChange> {
    vec![ClockChange::new(Metric::Delivery, kind)]
}

#[async_trait]
impl Projection for SlaClocks {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn apply_batch(
        &self,
        tx: &mut ViewTx,
        events: &[FeedEvent],
    ) -> Result<(), ProjectionError> {
        Clocks::apply_under(tx, events, shipped_policies()).await
    }

    fn tables(&self) -> &'static [&'static str] {
        &["sla_clocks"]
    }
}

/// A clock as a batch leaves it, its transitions parsed.
struct Clock {
    row: ClockRow,
    transitions: Vec<Transition>,
    changed: bool,
    /// The instant of the last event that changed the clock in this batch, while its
    /// breach-watch columns have not been brought to it ([`Clock::settle`]).
    unsettled_since: Option<DateTime<Utc>>,
}

impl Clock {
    /// Brings the breach-watch columns (state, deadline, at-risk and breach instants) to
    /// the clock as of its last change: one evaluation per clock and batch, however many
    /// events of the batch changed it.
    fn settle(&mut self) -> Result<(), ProjectionError> {
        if let Some(at) = self.unsettled_since.take() {
            let watch = watch(&self.row, &self.transitions, at)?;
            self.row.state = watch.state.to_owned();
            self.row.deadline = watch.deadline;
            self.row.at_risk_from = watch.at_risk_from;
            self.row.breached_at = watch.breached_at;
        }
        Ok(())
    }
}

/// What a batch of events does to the clocks, in memory: the clocks of the requests it
/// touches are read once ([`Clocks::load`]) and each changed one written once
/// ([`Clocks::write`]).
struct Clocks {
    clocks: HashMap<(String, Metric), Clock>,
    /// Where the at-risk ratio of an incident's pinned policy version is looked up.
    policies: Arc<dyn PolicyBook>,
}

impl Default for Clocks {
    fn default() -> Self {
        Clocks {
            clocks: HashMap::new(),
            policies: shipped_policies(),
        }
    }
}

#[async_trait]
impl InMemoryBatch for Clocks {
    async fn load(tx: &mut ViewTx, events: &[FeedEvent]) -> Result<Self, ProjectionError> {
        let request_ids: BTreeSet<String> = events
            .iter()
            .filter(|event| match &event.event {
                DomainEvent::Incident(IncidentEvent::IncidentOpened { .. })
                | DomainEvent::Change(ChangeEvent::ChangeSubmitted { .. }) => false,
                DomainEvent::Incident(_) | DomainEvent::Change(_) => true,
                DomainEvent::Contract(_) | DomainEvent::Order(_) => false,
            })
            .map(|event| event.aggregate_id.clone())
            .collect();
        let mut clocks = Clocks::default();
        if request_ids.is_empty() {
            return Ok(clocks);
        }
        let keys: Vec<String> = request_ids.into_iter().collect();
        let rows: Vec<ClockRow> = tx
            .fetch_by_keys("SELECT * FROM sla_clocks WHERE request_id", &keys)
            .await?;
        for row in rows {
            let metric = parse_metric(&row)?;
            let transitions = row.transitions()?;
            clocks.clocks.insert(
                (row.request_id.clone(), metric),
                Clock {
                    row,
                    transitions,
                    changed: false,
                    unsettled_since: None,
                },
            );
        }
        Ok(clocks)
    }

    fn apply(&mut self, event: &FeedEvent) -> Result<(), ProjectionError> {
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
                        at_risk_ratio: self.at_risk_ratio_of(policy_version, event)?,
                    }),
                    _ => None,
                };
                if let IncidentEvent::PriorityChanged { to, .. } = incident {
                    for metric in METRICS {
                        if let Some(clock) =
                            self.clocks.get_mut(&(event.aggregate_id.clone(), metric))
                        {
                            clock.row.priority = Some(to.to_string());
                            clock.changed = true;
                        }
                    }
                }
                self.apply_changes(event, incident.clocks(), opened.as_ref())
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
                        // A delivery clock answers to no policy: the engine's default.
                        at_risk_ratio: RiskRatio::default(),
                    };
                    let start = delivery(ClockChangeKind::Start {
                        target_seconds: Some(*delivery_target_seconds),
                        calendar: delivery_calendar.clone(),
                        pausable: true,
                    });
                    self.apply_changes(event, &start, Some(&opened))
                }
                ChangeEvent::ChangeQuoted { .. } => {
                    let reason =
                        sablier_domain::incident::PauseReason::parse(AWAITING_QUOTE_ACCEPTANCE)
                            .expect("a valid reason code");
                    self.change_delivery(event, delivery(ClockChangeKind::Pause { reason }))
                }
                ChangeEvent::ChangeQuoteAccepted { .. } => {
                    self.change_delivery(event, delivery(ClockChangeKind::Resume))
                }
                ChangeEvent::ChangeCompleted { .. }
                | ChangeEvent::ChangeCancelled { .. }
                | ChangeEvent::ChangeRejected { .. }
                | ChangeEvent::ChangeQuoteDeclined { .. } => self.stop_delivery(event),
                _ => Ok(()),
            },
            DomainEvent::Contract(_) | DomainEvent::Order(_) => Ok(()),
        }
    }

    /// Writes every changed clock in multi-row upserts.
    async fn write(self, tx: &mut ViewTx) -> Result<(), ProjectionError> {
        let mut values = Vec::new();
        let mut changed: Vec<((String, Metric), Clock)> = self
            .clocks
            .into_iter()
            .filter(|(_, clock)| clock.changed)
            .collect();
        changed.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        for (_, mut clock) in changed {
            clock.settle()?;
            let row = clock.row;
            let transitions =
                serde_json::to_string(&clock.transitions).expect("transitions serialize");
            values.extend([
                row.request_id.into(),
                row.metric.into(),
                row.request_kind.into(),
                row.contract_id.into(),
                row.tier.into(),
                row.policy_version.into(),
                row.priority.into(),
                row.calendar.into(),
                row.time_zone.into(),
                Param::Int(row.pausable),
                row.initial_target_seconds.into(),
                row.target_seconds.into(),
                Param::Int(row.at_risk_numerator),
                Param::Int(row.at_risk_denominator),
                transitions.into(),
                row.state.into(),
                row.deadline.into(),
                row.at_risk_from.into(),
                row.breached_at.into(),
                Param::Int(row.last_position),
            ]);
        }
        if values.is_empty() {
            return Ok(());
        }
        tx.execute_rows(
            "INSERT INTO sla_clocks (request_id, metric, request_kind, contract_id, tier, policy_version, priority, \
             calendar, time_zone, pausable, initial_target_seconds, target_seconds, at_risk_numerator, \
             at_risk_denominator, transitions, state, deadline, at_risk_from, breached_at, last_position) VALUES",
            "ON CONFLICT (request_id, metric) DO UPDATE SET priority = excluded.priority, \
             target_seconds = excluded.target_seconds, transitions = excluded.transitions, \
             state = excluded.state, deadline = excluded.deadline, at_risk_from = excluded.at_risk_from, \
             breached_at = excluded.breached_at, last_position = excluded.last_position",
            20,
            values,
        )
        .await?;
        Ok(())
    }
}

impl Clocks {
    /// Applies a batch as [`InMemoryBatch::apply_all`] does, looking up the at-risk ratios
    /// of the incidents' pinned policy versions in `policies`.
    async fn apply_under(
        tx: &mut ViewTx,
        events: &[FeedEvent],
        policies: Arc<dyn PolicyBook>,
    ) -> Result<(), ProjectionError> {
        let mut clocks = Clocks::load(tx, events).await?;
        clocks.policies = policies;
        clocks.apply_loaded(tx, events).await
    }

    /// The at-risk ratio of the policy version the event's incident pinned.
    fn at_risk_ratio_of(
        &self,
        policy_version: &str,
        event: &FeedEvent,
    ) -> Result<RiskRatio, ProjectionError> {
        let policy = self.policies.version(policy_version).ok_or_else(|| {
            ProjectionError::Malformed(format!(
                "{}: unknown policy version '{policy_version}' (position {})",
                event.aggregate_id, event.position
            ))
        })?;
        Ok(policy.at_risk_ratio())
    }

    /// Appends `changes` to the clocks of the event's request; `opened` describes new
    /// clocks. Each clock it touches gets its breach-watch columns as of the event.
    fn apply_changes(
        &mut self,
        event: &FeedEvent,
        changes: &[ClockChange],
        opened: Option<&Opened>,
    ) -> Result<(), ProjectionError> {
        let mut touched: Vec<Metric> = Vec::new();
        for change in changes {
            let key = (event.aggregate_id.clone(), change.metric);
            if !self.clocks.contains_key(&key) {
                let row = started_clock(event, change, opened)?;
                self.clocks.insert(
                    key.clone(),
                    Clock {
                        row,
                        transitions: Vec::new(),
                        changed: true,
                        unsettled_since: None,
                    },
                );
            }
            let clock = self.clocks.get_mut(&key).expect("inserted above");
            clock
                .transitions
                .push(transition(event.at, &change.kind, &event.audit.actor));
            if let ClockChangeKind::Target { target_seconds, .. } = &change.kind {
                clock.row.target_seconds = *target_seconds;
            }
            clock.row.last_position = event.position;
            if !touched.contains(&change.metric) {
                touched.push(change.metric);
            }
        }
        for metric in touched {
            let clock = self
                .clocks
                .get_mut(&(event.aggregate_id.clone(), metric))
                .expect("touched above");
            if let Some(priority) = opened.and_then(|opened| opened.priority.clone()) {
                clock.row.priority = Some(priority);
            }
            clock.unsettled_since = Some(event.at);
            clock.changed = true;
        }
        Ok(())
    }

    /// Pauses or resumes a change's delivery clock, if it has one.
    fn change_delivery(
        &mut self,
        event: &FeedEvent,
        changes: Vec<ClockChange>,
    ) -> Result<(), ProjectionError> {
        if !self
            .clocks
            .contains_key(&(event.aggregate_id.clone(), Metric::Delivery))
        {
            return Ok(());
        }
        self.apply_changes(event, &changes, None)
    }

    /// A finished change stops its delivery clock (a paused one resumes and stops at once).
    fn stop_delivery(&mut self, event: &FeedEvent) -> Result<(), ProjectionError> {
        let Some(clock) = self
            .clocks
            .get_mut(&(event.aggregate_id.clone(), Metric::Delivery))
        else {
            return Ok(());
        };
        clock.settle()?;
        let changes = match clock.row.state.as_str() {
            "running" => delivery(ClockChangeKind::Stop),
            "paused" => vec![
                ClockChange::new(Metric::Delivery, ClockChangeKind::Resume),
                ClockChange::new(Metric::Delivery, ClockChangeKind::Stop),
            ],
            _ => return Ok(()),
        };
        self.apply_changes(event, &changes, None)
    }
}

/// One request's clocks rebuilt in memory from its own events, one event at a time, by
/// the rules the view is built with: what the clocks were right after each event, even
/// when several events share a second (the view keeps instants, not which event stated a
/// transition).
#[derive(Default)]
pub struct ClocksAfterEach {
    clocks: Clocks,
}

impl ClocksAfterEach {
    /// Applies the request's next event.
    pub fn apply(&mut self, event: &FeedEvent) -> Result<(), ProjectionError> {
        self.clocks.apply(event)
    }

    /// Each clock started by `as_of`, by metric (as [`SlaClocks::for_request`] orders
    /// them), evaluated as of `as_of` with the transitions of the events applied so far.
    pub fn figures(
        &self,
        as_of: DateTime<Utc>,
    ) -> Result<Vec<(Metric, ClockEvaluation)>, ProjectionError> {
        let mut figures = Vec::with_capacity(self.clocks.clocks.len());
        for ((_, metric), clock) in &self.clocks.clocks {
            if let Some(evaluation) = clock.row.figures_with(clock.transitions.clone(), as_of)? {
                figures.push((*metric, evaluation));
            }
        }
        figures.sort_unstable_by_key(|(metric, _)| metric.as_str());
        Ok(figures)
    }

    /// The clocks as the events applied so far leave them, as the view stores them.
    #[cfg(test)]
    fn rows(&mut self) -> Result<Vec<ClockRow>, ProjectionError> {
        let mut rows = Vec::with_capacity(self.clocks.clocks.len());
        for clock in self.clocks.clocks.values_mut() {
            clock.settle()?;
            let mut row = clock.row.clone();
            row.transitions =
                serde_json::to_string(&clock.transitions).expect("transitions serialize");
            rows.push(row);
        }
        rows.sort_unstable_by(|a, b| a.metric.cmp(&b.metric));
        Ok(rows)
    }
}

/// Every metric a request may have a clock for.
const METRICS: [Metric; 4] = [Metric::Gti, Metric::Gtd, Metric::Gtr, Metric::Delivery];

fn parse_metric(row: &ClockRow) -> Result<Metric, ProjectionError> {
    METRICS
        .into_iter()
        .find(|metric| metric.as_str() == row.metric)
        .ok_or_else(|| {
            ProjectionError::Malformed(format!(
                "{}: unknown metric '{}'",
                row.request_id, row.metric
            ))
        })
}

#[cfg(test)]
mod tests;
