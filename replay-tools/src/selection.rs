//! Which events or requests a command looks at: `--contract`, `--request`, `--from`,
//! `--to`, shared by `export` and `what-if`.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use clap::Args;
use sablier_domain::change::ChangeEvent;
use sablier_domain::incident::IncidentEvent;
use sablier_domain::order::OrderEvent;
use sablier_projections::{DomainEvent, FeedEvent};

use crate::export_format::Selection;
use crate::instants::{format_instant, parse_instant};

#[derive(Debug, Clone, Args)]
pub struct SelectionArgs {
    /// Only this contract: its own events and those of its incidents, changes and orders.
    #[arg(long, value_name = "CONTRACT")]
    pub contract: Option<String>,
    /// Only this request (incident, change or order).
    #[arg(long, value_name = "REQUEST")]
    pub request: Option<String>,
    /// Only events at or after this instant (RFC 3339; the event's own `at`).
    #[arg(long, value_name = "T", value_parser = parse_instant)]
    pub from: Option<DateTime<Utc>>,
    /// Only events at or before this instant (RFC 3339; the event's own `at`).
    #[arg(long, value_name = "T", value_parser = parse_instant)]
    pub to: Option<DateTime<Utc>>,
}

impl SelectionArgs {
    pub fn describe(&self) -> Selection {
        Selection {
            contract: self.contract.clone(),
            request: self.request.clone(),
            from: self.from.map(format_instant),
            to: self.to.map(format_instant),
        }
    }

    pub fn is_everything(&self) -> bool {
        self.describe().is_everything()
    }

    /// Whether deciding needs the decoded event (its instant or its contract).
    pub fn needs_decoding(&self) -> bool {
        self.contract.is_some() || self.from.is_some() || self.to.is_some()
    }
}

/// Applies a selection to the feed in position order. Remembers which aggregates belong to
/// the selected contract (a request names its contract in its first event only), one id
/// per request of that contract.
pub struct EventFilter {
    selection: SelectionArgs,
    contract_aggregates: HashSet<String>,
}

impl EventFilter {
    pub fn new(selection: SelectionArgs) -> Self {
        Self {
            selection,
            contract_aggregates: HashSet::new(),
        }
    }

    /// Whether the selection keeps a stored event, before decoding it.
    pub fn keeps_id(&self, aggregate_id: &str) -> bool {
        self.selection
            .request
            .as_deref()
            .is_none_or(|request| request == aggregate_id)
    }

    /// Whether the selection keeps a decoded event (call in position order).
    pub fn keeps(&mut self, event: &FeedEvent) -> bool {
        if !self.keeps_id(&event.aggregate_id) {
            return false;
        }
        if let Some(contract) = &self.selection.contract {
            let belongs = if event.aggregate_type == "Contract" {
                event.aggregate_id == *contract
            } else if self.contract_aggregates.contains(&event.aggregate_id) {
                true
            } else if contract_of(&event.event) == Some(contract.as_str()) {
                self.contract_aggregates.insert(event.aggregate_id.clone());
                true
            } else {
                false
            };
            if !belongs {
                return false;
            }
        }
        self.selection.from.is_none_or(|from| event.at >= from)
            && self.selection.to.is_none_or(|to| event.at <= to)
    }
}

/// The contract a request's opening event names.
pub fn contract_of(event: &DomainEvent) -> Option<&str> {
    match event {
        DomainEvent::Incident(IncidentEvent::IncidentOpened { contract_id, .. }) => {
            Some(contract_id.as_str())
        }
        DomainEvent::Change(
            ChangeEvent::ChangeDraftSaved { contract, .. }
            | ChangeEvent::ChangeSubmitted { contract, .. },
        ) => Some(contract.as_str()),
        DomainEvent::Order(OrderEvent::OrderPlaced { contract, .. }) => Some(contract.as_str()),
        _ => None,
    }
}
