//! Feed events decoded once for every projection: the domain event and its audit metadata.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sablier_domain::change::ChangeEvent;
use sablier_domain::contract::ContractEvent;
use sablier_domain::incident::IncidentEvent;
use sablier_domain::order::OrderEvent;
use sablier_store::StoredEvent;

use crate::error::ProjectionError;

/// The domain event a stored event holds.
#[derive(Clone, Debug, PartialEq)]
pub enum DomainEvent {
    Contract(ContractEvent),
    Incident(IncidentEvent),
    Change(ChangeEvent),
    Order(OrderEvent),
}

impl DomainEvent {
    /// The type of the aggregate that emitted it, as the log stores it.
    pub fn aggregate_type(&self) -> &'static str {
        match self {
            DomainEvent::Contract(_) => "Contract",
            DomainEvent::Incident(_) => "Incident",
            DomainEvent::Change(_) => "Change",
            DomainEvent::Order(_) => "Order",
        }
    }

    /// Its event type, as the log stores it.
    pub fn event_type(&self) -> String {
        use cqrs_es::DomainEvent as _;
        match self {
            DomainEvent::Contract(event) => event.event_type(),
            DomainEvent::Incident(event) => event.event_type(),
            DomainEvent::Change(event) => event.event_type(),
            DomainEvent::Order(event) => event.event_type(),
        }
    }
}

/// Who did it, with which role, on whose behalf, through what, for which request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Audit {
    pub actor: String,
    pub actor_role: String,
    pub on_behalf_of: Option<String>,
    pub channel: String,
    pub request_id: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FeedEvent {
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub at: DateTime<Utc>,
    pub event: DomainEvent,
    pub audit: Audit,
}

impl FeedEvent {
    pub fn decode(stored: &StoredEvent) -> Result<Self, ProjectionError> {
        let damaged = |reason: String| ProjectionError::Damaged {
            position: stored.position,
            reason,
        };
        let event = match stored.aggregate_type.as_str() {
            "Contract" => DomainEvent::Contract(
                serde_json::from_str(&stored.payload).map_err(|e| damaged(e.to_string()))?,
            ),
            "Incident" => DomainEvent::Incident(
                serde_json::from_str(&stored.payload).map_err(|e| damaged(e.to_string()))?,
            ),
            "Change" => DomainEvent::Change(
                serde_json::from_str(&stored.payload).map_err(|e| damaged(e.to_string()))?,
            ),
            "Order" => DomainEvent::Order(
                serde_json::from_str(&stored.payload).map_err(|e| damaged(e.to_string()))?,
            ),
            other => return Err(damaged(format!("unknown aggregate type '{other}'"))),
        };
        let mut metadata: HashMap<String, String> = serde_json::from_str(&stored.metadata)
            .map_err(|e| damaged(format!("metadata: {e}")))?;
        let audit = Audit {
            actor: metadata.remove("actor").unwrap_or_default(),
            actor_role: metadata.remove("actor_role").unwrap_or_default(),
            on_behalf_of: metadata.remove("on_behalf_of"),
            channel: metadata.remove("channel").unwrap_or_default(),
            request_id: metadata.remove("request_id").unwrap_or_default(),
        };
        Ok(Self {
            position: stored.position,
            aggregate_type: stored.aggregate_type.clone(),
            aggregate_id: stored.aggregate_id.clone(),
            sequence: stored.sequence,
            event_type: stored.event_type.clone(),
            at: event.at(),
            event,
            audit,
        })
    }
}

impl DomainEvent {
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            DomainEvent::Contract(event) => event.at(),
            DomainEvent::Incident(event) => event.at(),
            DomainEvent::Change(event) => event.at(),
            DomainEvent::Order(event) => event.at(),
        }
    }
}
