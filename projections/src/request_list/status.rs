//! Each aggregate's own status, and the portal status a customer sees for it.
//!
//! | kind | `draft` | `transmitted` | `in_progress` | `completed` |
//! |---|---|---|---|---|
//! | incident | | opened | in_progress, awaiting_customer | restored, closed |
//! | change | draft | submitted, quoted, quote_accepted | in_progress | completed, quote_declined, cancelled, rejected |
//! | order | | transmitted, quoted, quote_accepted | in_progress | completed, quote_declined, cancelled |
//!
//! - Transmitted means "nobody has started the work": a quote waiting for the customer is
//!   still before work (the order status docs say so for orders; changes follow suit).
//! - Every final status is `completed` ("terminée"): the request needs nothing more from
//!   anyone. Whether it ended well is the detailed status's business (`cancelled`…).
//! - A restored incident is `completed` for the customer (service is back); a reopening
//!   moves it back to `in_progress`.
//! - A change draft is not transmitted yet: its portal status is `draft`. Only its author
//!   and the Services managers of its contract see it (the list keeps it apart, see
//!   [`crate::request_list`]); a draft cancelled before submission leaves the list.
//!
//! The same detailed status word always maps to the same portal status whatever the kind
//! (tested), so a detailed-status filter implies its portal status.

use sablier_domain::change::ChangeStatus;
use sablier_domain::incident::{IncidentEvent, IncidentStatus};
use sablier_domain::order::OrderStatus;

use crate::request_list::query::{PortalStatus, RequestKind};

pub(crate) const INCIDENT_STATUSES: [IncidentStatus; 5] = [
    IncidentStatus::Opened,
    IncidentStatus::InProgress,
    IncidentStatus::AwaitingCustomer,
    IncidentStatus::Restored,
    IncidentStatus::Closed,
];

pub fn incident_portal_status(status: IncidentStatus) -> PortalStatus {
    match status {
        IncidentStatus::Opened => PortalStatus::Transmitted,
        IncidentStatus::InProgress | IncidentStatus::AwaitingCustomer => PortalStatus::InProgress,
        IncidentStatus::Restored | IncidentStatus::Closed => PortalStatus::Completed,
    }
}

pub fn change_portal_status(status: ChangeStatus) -> PortalStatus {
    match status {
        ChangeStatus::Draft => PortalStatus::Draft,
        ChangeStatus::Submitted | ChangeStatus::Quoted | ChangeStatus::QuoteAccepted => {
            PortalStatus::Transmitted
        }
        ChangeStatus::InProgress => PortalStatus::InProgress,
        ChangeStatus::Completed
        | ChangeStatus::QuoteDeclined
        | ChangeStatus::Cancelled
        | ChangeStatus::Rejected => PortalStatus::Completed,
    }
}

pub fn order_portal_status(status: OrderStatus) -> PortalStatus {
    match status {
        OrderStatus::Transmitted | OrderStatus::Quoted | OrderStatus::QuoteAccepted => {
            PortalStatus::Transmitted
        }
        OrderStatus::InProgress => PortalStatus::InProgress,
        OrderStatus::Completed | OrderStatus::QuoteDeclined | OrderStatus::Cancelled => {
            PortalStatus::Completed
        }
    }
}

/// The detailed statuses a request of `kind` may be listed with, and their portal status.
pub(crate) fn listed_statuses(kind: RequestKind) -> Vec<(&'static str, PortalStatus)> {
    match kind {
        RequestKind::Incident => INCIDENT_STATUSES
            .into_iter()
            .map(|status| (status.as_str(), incident_portal_status(status)))
            .collect(),
        RequestKind::Change => ChangeStatus::ALL
            .into_iter()
            .map(|status| (status.as_str(), change_portal_status(status)))
            .collect(),
        RequestKind::Order => OrderStatus::ALL
            .into_iter()
            .map(|status| (status.as_str(), order_portal_status(status)))
            .collect(),
    }
}

/// Every detailed status a listed request may have, of any kind, sorted.
pub fn detailed_statuses() -> Vec<&'static str> {
    let mut statuses: Vec<&'static str> = RequestKind::ALL
        .into_iter()
        .flat_map(listed_statuses)
        .map(|(status, _)| status)
        .collect();
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

/// The portal status of a detailed status word of any kind (`None`: no kind has it).
pub fn portal_status_of(detailed_status: &str) -> Option<PortalStatus> {
    RequestKind::ALL
        .into_iter()
        .flat_map(listed_statuses)
        .find(|(status, _)| *status == detailed_status)
        .map(|(_, portal)| portal)
}

/// The incident's status once `event` applies (`None`: unchanged). Mirrors the incident
/// aggregate's `apply`, which keeps its status private to its decisions.
pub(crate) fn incident_status_after(event: &IncidentEvent) -> Option<IncidentStatus> {
    match event {
        IncidentEvent::IncidentOpened { .. } => Some(IncidentStatus::Opened),
        IncidentEvent::InterventionStarted { .. }
        | IncidentEvent::CustomerResponded { .. }
        | IncidentEvent::IncidentReopened { .. } => Some(IncidentStatus::InProgress),
        IncidentEvent::CustomerInputRequested { .. } => Some(IncidentStatus::AwaitingCustomer),
        IncidentEvent::ServiceRestored { .. } => Some(IncidentStatus::Restored),
        IncidentEvent::IncidentClosed { .. } => Some(IncidentStatus::Closed),
        IncidentEvent::DiagnosisShared { .. }
        | IncidentEvent::PriorityChanged { .. }
        | IncidentEvent::CommentAdded { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detailed_status_word_means_one_portal_status_whatever_the_kind() {
        for status in INCIDENT_STATUSES {
            assert_eq!(
                portal_status_of(status.as_str()),
                Some(incident_portal_status(status))
            );
        }
        for status in ChangeStatus::ALL {
            assert_eq!(
                portal_status_of(status.as_str()),
                Some(change_portal_status(status)),
                "{status}"
            );
        }
        for status in OrderStatus::ALL {
            assert_eq!(
                portal_status_of(status.as_str()),
                Some(order_portal_status(status)),
                "{status}"
            );
        }
        assert_eq!(portal_status_of("draft"), Some(PortalStatus::Draft));
        assert_eq!(portal_status_of("lost"), None);
    }

    #[test]
    fn the_mapping_table() {
        use PortalStatus::*;
        let incident: Vec<_> = INCIDENT_STATUSES
            .into_iter()
            .map(incident_portal_status)
            .collect();
        assert_eq!(
            incident,
            [Transmitted, InProgress, InProgress, Completed, Completed]
        );
        let change: Vec<_> = ChangeStatus::ALL
            .into_iter()
            .map(change_portal_status)
            .collect();
        assert_eq!(
            change,
            [
                Draft,       // draft
                Transmitted, // submitted
                Transmitted, // quoted
                Transmitted, // quote_accepted
                Completed,   // quote_declined
                InProgress,  // in_progress
                Completed,   // completed
                Completed,   // cancelled
                Completed,   // rejected
            ]
        );
        let order: Vec<_> = OrderStatus::ALL
            .into_iter()
            .map(order_portal_status)
            .collect();
        assert_eq!(
            order,
            [
                Transmitted,
                Transmitted,
                Transmitted,
                Completed,
                InProgress,
                Completed,
                Completed
            ]
        );
    }
}
