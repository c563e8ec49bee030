//! The incident aggregate: decides lifecycle steps and what each does to the SLA clocks.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use sablier_sla::policy::Policy;
use sablier_sla::{Metric, Priority, Tier};
use serde::{Deserialize, Serialize};

use crate::actor::Authored;
use crate::ids::{ContractId, IncidentId};
use crate::incident::{
    ClockChange, ClockChangeKind, IncidentCommand, IncidentError, IncidentEvent, PauseReason,
};
use crate::services::Services;

/// The metrics every incident measures.
const INCIDENT_METRICS: [Metric; 3] = [Metric::Gti, Metric::Gtd, Metric::Gtr];

/// The calendar a metric without commitment counts on.
const NO_COMMITMENT_CALENDAR: &str = "24x7";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Opened,
    InProgress,
    AwaitingCustomer,
    Restored,
    Closed,
}

impl IncidentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Opened => "opened",
            IncidentStatus::InProgress => "in_progress",
            IncidentStatus::AwaitingCustomer => "awaiting_customer",
            IncidentStatus::Restored => "restored",
            IncidentStatus::Closed => "closed",
        }
    }
}

impl fmt::Display for IncidentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Run {
    Running,
    Paused,
    Stopped,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct MetricClock {
    run: Run,
    target_seconds: Option<i64>,
    /// The calendar the clock counts on now.
    calendar: String,
    pausable: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    id: Option<IncidentId>,
    contract_id: Option<ContractId>,
    status: Option<IncidentStatus>,
    priority: Option<Priority>,
    tier: Option<Tier>,
    policy_version: Option<String>,
    clocks: BTreeMap<Metric, MetricClock>,
    restored_at: Option<DateTime<Utc>>,
    diagnosis_shared: bool,
}

impl Incident {
    pub fn id(&self) -> Option<&IncidentId> {
        self.id.as_ref()
    }

    pub fn contract_id(&self) -> Option<&ContractId> {
        self.contract_id.as_ref()
    }

    pub fn status(&self) -> Option<IncidentStatus> {
        self.status
    }

    pub fn priority(&self) -> Option<Priority> {
        self.priority
    }

    pub fn tier(&self) -> Option<Tier> {
        self.tier
    }

    pub fn policy_version(&self) -> Option<&str> {
        self.policy_version.as_deref()
    }

    /// Whether a metric's clock is counting right now (not paused, not stopped).
    pub fn is_running(&self, metric: Metric) -> bool {
        self.clocks
            .get(&metric)
            .is_some_and(|clock| clock.run == Run::Running)
    }

    fn pinned_policy(&self, services: &Services) -> Result<std::sync::Arc<Policy>, IncidentError> {
        let version = self.policy_version.clone().unwrap_or_default();
        services
            .policies
            .version(&version)
            .ok_or(IncidentError::UnknownPolicyVersion(version))
    }

    fn clocks_where(&self, run: Run) -> impl Iterator<Item = (Metric, &MetricClock)> {
        self.clocks
            .iter()
            .filter(move |(_, clock)| clock.run == run)
            .map(|(metric, clock)| (*metric, clock))
    }

    fn pause_pausable(&self, reason: &PauseReason) -> Vec<ClockChange> {
        self.clocks_where(Run::Running)
            .filter(|(_, clock)| clock.pausable)
            .map(|(metric, _)| {
                ClockChange::new(
                    metric,
                    ClockChangeKind::Pause {
                        reason: reason.clone(),
                    },
                )
            })
            .collect()
    }

    fn resume_paused(&self) -> Vec<ClockChange> {
        self.clocks_where(Run::Paused)
            .map(|(metric, _)| ClockChange::new(metric, ClockChangeKind::Resume))
            .collect()
    }

    /// Stops a metric; a paused clock resumes and stops at the same instant, so the
    /// transition list stays one the SLA engine accepts.
    fn stop(&self, metric: Metric) -> Vec<ClockChange> {
        match self.clocks.get(&metric).map(|clock| clock.run) {
            Some(Run::Running) => vec![ClockChange::new(metric, ClockChangeKind::Stop)],
            Some(Run::Paused) => vec![
                ClockChange::new(metric, ClockChangeKind::Resume),
                ClockChange::new(metric, ClockChangeKind::Stop),
            ],
            Some(Run::Stopped) | None => Vec::new(),
        }
    }

    /// The change that gives `metric`'s clock the target of `priority`, if it differs from
    /// the clock's: the new target, and the new calendar when the cell counts on another
    /// one (a cell without commitment keeps the clock's calendar).
    fn retarget(&self, policy: &Policy, priority: Priority, metric: Metric) -> Option<ClockChange> {
        let tier = self.tier.expect("an opened incident has a tier");
        let clock = self.clocks.get(&metric)?;
        let target = policy.target(tier, priority, metric);
        let target_seconds = target.map(|target| target.seconds);
        let calendar = target
            .map(|target| target.calendar.clone())
            .filter(|calendar| *calendar != clock.calendar);
        (clock.target_seconds != target_seconds || calendar.is_some()).then(|| {
            ClockChange::new(
                metric,
                ClockChangeKind::Target {
                    target_seconds,
                    calendar,
                },
            )
        })
    }

    fn require(
        &self,
        action: &'static str,
        allowed: &[IncidentStatus],
    ) -> Result<(), IncidentError> {
        let status = self.status.ok_or(IncidentError::NotFound)?;
        if allowed.contains(&status) {
            Ok(())
        } else {
            Err(IncidentError::InvalidTransition { action, status })
        }
    }

    async fn decide(
        &self,
        Authored { by, command }: Authored<IncidentCommand>,
        services: &Services,
    ) -> Result<Vec<IncidentEvent>, IncidentError> {
        use IncidentStatus::*;
        let at = services.now();
        by.role
            .refuse_analyst("act on an incident (analysts are read-only)")?;
        let event = match command {
            IncidentCommand::Open {
                incident_id,
                contract_id,
                priority,
                title,
                description,
            } => {
                if self.status.is_some() {
                    return Err(IncidentError::AlreadyExists);
                }
                let contract = services
                    .contracts
                    .contract_at(&contract_id, at)
                    .await?
                    .ok_or(IncidentError::UnknownContract)?;
                let policy = services.policies.in_force();
                let clocks = INCIDENT_METRICS
                    .into_iter()
                    .map(|metric| {
                        let kind = match policy.target(contract.tier, priority, metric) {
                            Some(target) => ClockChangeKind::Start {
                                target_seconds: Some(target.seconds),
                                calendar: target.calendar.clone(),
                                pausable: target.pausable,
                            },
                            None => ClockChangeKind::Start {
                                target_seconds: None,
                                calendar: NO_COMMITMENT_CALENDAR.to_owned(),
                                pausable: metric != Metric::Gti,
                            },
                        };
                        ClockChange::new(metric, kind)
                    })
                    .collect();
                IncidentEvent::IncidentOpened {
                    at,
                    incident_id,
                    contract_id,
                    contract_name: contract.name,
                    time_zone: contract.time_zone,
                    priority,
                    title,
                    description,
                    tier: contract.tier,
                    policy_version: policy.version().to_owned(),
                    clocks,
                }
            }
            IncidentCommand::StartIntervention => {
                by.role.staff_only("start work on an incident")?;
                self.require("start work on", &[Opened])?;
                IncidentEvent::InterventionStarted {
                    at,
                    clocks: self.stop(Metric::Gti),
                }
            }
            IncidentCommand::AwaitCustomer { reason } => {
                by.role.staff_only("put an incident on hold")?;
                self.require("await the customer on", &[InProgress])?;
                IncidentEvent::CustomerInputRequested {
                    at,
                    clocks: self.pause_pausable(&reason),
                    reason,
                }
            }
            IncidentCommand::RecordCustomerResponse => {
                self.require("record a customer response on", &[AwaitingCustomer])?;
                IncidentEvent::CustomerResponded {
                    at,
                    clocks: self.resume_paused(),
                }
            }
            IncidentCommand::ShareDiagnosis { diagnosis } => {
                by.role.staff_only("share a diagnosis")?;
                self.require("share a diagnosis on", &[InProgress, AwaitingCustomer])?;
                let first = !self.diagnosis_shared;
                IncidentEvent::DiagnosisShared {
                    at,
                    diagnosis,
                    first,
                    clocks: if first {
                        self.stop(Metric::Gtd)
                    } else {
                        Vec::new()
                    },
                }
            }
            IncidentCommand::Restore { resolution } => {
                by.role.staff_only("restore service")?;
                self.require("restore", &[InProgress, AwaitingCustomer])?;
                let mut clocks = self.stop(Metric::Gtd);
                clocks.extend(self.stop(Metric::Gtr));
                IncidentEvent::ServiceRestored {
                    at,
                    resolution,
                    clocks,
                }
            }
            IncidentCommand::Close => {
                self.require("close", &[Restored])?;
                IncidentEvent::IncidentClosed { at }
            }
            IncidentCommand::Reopen { reason } => {
                self.require("reopen", &[Restored])?;
                let restored_at = self.restored_at.expect("a restored incident knows when");
                let closed_at = restored_at + services.settings.reopen_window;
                if at > closed_at {
                    return Err(IncidentError::ReopenWindowClosed {
                        closed_at,
                        window_days: services.settings.reopen_window.num_days(),
                    });
                }
                let mut clocks = vec![ClockChange::new(Metric::Gtr, ClockChangeKind::Reopen)];
                let policy = self.pinned_policy(services)?;
                let priority = self.priority.expect("an opened incident has a priority");
                clocks.extend(self.retarget(&policy, priority, Metric::Gtr));
                IncidentEvent::IncidentReopened {
                    at,
                    reason,
                    restored_at,
                    clocks,
                }
            }
            IncidentCommand::ChangePriority { to, reason } => {
                by.role.staff_only("change an incident's priority")?;
                self.require(
                    "change the priority of",
                    &[Opened, InProgress, AwaitingCustomer, Restored],
                )?;
                let from = self.priority.expect("an opened incident has a priority");
                if from == to {
                    return Err(IncidentError::SamePriority(to));
                }
                let policy = self.pinned_policy(services)?;
                let clocks = self
                    .clocks
                    .iter()
                    .filter(|(_, clock)| clock.run != Run::Stopped)
                    .filter_map(|(metric, _)| self.retarget(&policy, to, *metric))
                    .collect();
                IncidentEvent::PriorityChanged {
                    at,
                    from,
                    to,
                    reason,
                    clocks,
                }
            }
            IncidentCommand::AddComment { text } => {
                self.require(
                    "comment on",
                    &[Opened, InProgress, AwaitingCustomer, Restored],
                )?;
                IncidentEvent::CommentAdded { at, text }
            }
        };
        Ok(vec![event])
    }

    fn apply_clock_changes(&mut self, changes: &[ClockChange]) {
        for change in changes {
            match &change.kind {
                ClockChangeKind::Start {
                    target_seconds,
                    calendar,
                    pausable,
                } => {
                    self.clocks.insert(
                        change.metric,
                        MetricClock {
                            run: Run::Running,
                            target_seconds: *target_seconds,
                            calendar: calendar.clone(),
                            pausable: *pausable,
                        },
                    );
                }
                kind => {
                    if let Some(clock) = self.clocks.get_mut(&change.metric) {
                        match kind {
                            ClockChangeKind::Pause { .. } => clock.run = Run::Paused,
                            ClockChangeKind::Resume | ClockChangeKind::Reopen => {
                                clock.run = Run::Running
                            }
                            ClockChangeKind::Stop => clock.run = Run::Stopped,
                            ClockChangeKind::Target {
                                target_seconds,
                                calendar,
                            } => {
                                clock.target_seconds = *target_seconds;
                                if let Some(calendar) = calendar {
                                    clock.calendar = calendar.clone();
                                }
                            }
                            ClockChangeKind::Start { .. } => unreachable!("handled above"),
                        }
                    }
                }
            }
        }
    }
}

impl Aggregate for Incident {
    const TYPE: &'static str = "Incident";
    type Command = Authored<IncidentCommand>;
    type Event = IncidentEvent;
    type Error = IncidentError;
    type Services = Services;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command, services).await? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.apply_clock_changes(event.clocks());
        match event {
            IncidentEvent::IncidentOpened {
                incident_id,
                contract_id,
                priority,
                tier,
                policy_version,
                ..
            } => {
                self.id = Some(incident_id);
                self.contract_id = Some(contract_id);
                self.status = Some(IncidentStatus::Opened);
                self.priority = Some(priority);
                self.tier = Some(tier);
                self.policy_version = Some(policy_version);
            }
            IncidentEvent::InterventionStarted { .. }
            | IncidentEvent::CustomerResponded { .. }
            | IncidentEvent::IncidentReopened { .. } => {
                self.status = Some(IncidentStatus::InProgress);
            }
            IncidentEvent::CustomerInputRequested { .. } => {
                self.status = Some(IncidentStatus::AwaitingCustomer);
            }
            IncidentEvent::DiagnosisShared { .. } => self.diagnosis_shared = true,
            IncidentEvent::ServiceRestored { at, .. } => {
                self.status = Some(IncidentStatus::Restored);
                self.restored_at = Some(at);
            }
            IncidentEvent::IncidentClosed { .. } => self.status = Some(IncidentStatus::Closed),
            IncidentEvent::PriorityChanged { to, .. } => self.priority = Some(to),
            IncidentEvent::CommentAdded { .. } => {}
        }
    }
}
