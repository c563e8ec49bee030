//! Facts about an incident. Stored forever: only add optional fields, and bump
//! [`IncidentEvent::VERSION`] with an upcaster when a shape must change.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cqrs_es::DomainEvent;
use sablier_sla::{Priority, Tier};
use serde::{Deserialize, Serialize};

use crate::ids::{ContractId, IncidentId};
use crate::incident::{ClockChange, PauseReason};
use crate::text::{FreeText, IncidentComment, Title};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum IncidentEvent {
    IncidentOpened {
        at: DateTime<Utc>,
        incident_id: IncidentId,
        contract_id: ContractId,
        contract_name: Title,
        time_zone: Tz,
        priority: Priority,
        title: Title,
        description: FreeText,
        /// The contract's tier at `at`: the ticket's SLA is pinned to it.
        tier: Tier,
        /// The policy version in force at `at`: pinned likewise.
        policy_version: String,
        clocks: Vec<ClockChange>,
    },
    InterventionStarted {
        at: DateTime<Utc>,
        clocks: Vec<ClockChange>,
    },
    CustomerInputRequested {
        at: DateTime<Utc>,
        reason: PauseReason,
        clocks: Vec<ClockChange>,
    },
    CustomerResponded {
        at: DateTime<Utc>,
        clocks: Vec<ClockChange>,
    },
    DiagnosisShared {
        at: DateTime<Utc>,
        diagnosis: FreeText,
        first: bool,
        clocks: Vec<ClockChange>,
    },
    ServiceRestored {
        at: DateTime<Utc>,
        resolution: FreeText,
        clocks: Vec<ClockChange>,
    },
    IncidentClosed {
        at: DateTime<Utc>,
    },
    IncidentReopened {
        at: DateTime<Utc>,
        reason: FreeText,
        restored_at: DateTime<Utc>,
        clocks: Vec<ClockChange>,
    },
    PriorityChanged {
        at: DateTime<Utc>,
        from: Priority,
        to: Priority,
        reason: FreeText,
        clocks: Vec<ClockChange>,
    },
    CommentAdded {
        at: DateTime<Utc>,
        text: IncidentComment,
    },
}

impl IncidentEvent {
    pub const VERSION: &'static str = "1";

    pub fn at(&self) -> DateTime<Utc> {
        match self {
            IncidentEvent::IncidentOpened { at, .. }
            | IncidentEvent::InterventionStarted { at, .. }
            | IncidentEvent::CustomerInputRequested { at, .. }
            | IncidentEvent::CustomerResponded { at, .. }
            | IncidentEvent::DiagnosisShared { at, .. }
            | IncidentEvent::ServiceRestored { at, .. }
            | IncidentEvent::IncidentClosed { at }
            | IncidentEvent::IncidentReopened { at, .. }
            | IncidentEvent::PriorityChanged { at, .. }
            | IncidentEvent::CommentAdded { at, .. } => *at,
        }
    }

    /// The clock transitions this event carries (empty for events that touch no clock).
    pub fn clocks(&self) -> &[ClockChange] {
        match self {
            IncidentEvent::IncidentOpened { clocks, .. }
            | IncidentEvent::InterventionStarted { clocks, .. }
            | IncidentEvent::CustomerInputRequested { clocks, .. }
            | IncidentEvent::CustomerResponded { clocks, .. }
            | IncidentEvent::DiagnosisShared { clocks, .. }
            | IncidentEvent::ServiceRestored { clocks, .. }
            | IncidentEvent::IncidentReopened { clocks, .. }
            | IncidentEvent::PriorityChanged { clocks, .. } => clocks,
            IncidentEvent::IncidentClosed { .. } | IncidentEvent::CommentAdded { .. } => &[],
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            IncidentEvent::IncidentOpened { .. } => "IncidentOpened",
            IncidentEvent::InterventionStarted { .. } => "InterventionStarted",
            IncidentEvent::CustomerInputRequested { .. } => "CustomerInputRequested",
            IncidentEvent::CustomerResponded { .. } => "CustomerResponded",
            IncidentEvent::DiagnosisShared { .. } => "DiagnosisShared",
            IncidentEvent::ServiceRestored { .. } => "ServiceRestored",
            IncidentEvent::IncidentClosed { .. } => "IncidentClosed",
            IncidentEvent::IncidentReopened { .. } => "IncidentReopened",
            IncidentEvent::PriorityChanged { .. } => "PriorityChanged",
            IncidentEvent::CommentAdded { .. } => "CommentAdded",
        }
    }
}

impl DomainEvent for IncidentEvent {
    fn event_type(&self) -> String {
        self.name().to_owned()
    }

    fn event_version(&self) -> String {
        Self::VERSION.to_owned()
    }
}
