//! What may be asked of an incident. Fields are already parsed newtypes.

use sablier_sla::Priority;

use crate::ids::{ContractId, IncidentId};
use crate::incident::PauseReason;
use crate::text::{FreeText, IncidentComment, Title};

#[derive(Clone, Debug, PartialEq)]
pub enum IncidentCommand {
    Open {
        incident_id: IncidentId,
        contract_id: ContractId,
        priority: Priority,
        title: Title,
        description: FreeText,
    },
    /// Staff: the first intervention (stops GTI).
    StartIntervention,
    /// Staff: pauses the pausable clocks.
    AwaitCustomer {
        reason: PauseReason,
    },
    /// The customer answered: paused clocks resume.
    RecordCustomerResponse,
    /// Staff: the first one stops GTD.
    ShareDiagnosis {
        diagnosis: FreeText,
    },
    /// Staff: stops GTR (and GTD if no diagnosis was shared).
    Restore {
        resolution: FreeText,
    },
    Close,
    /// Customer, within the reopen window after restoration: GTR runs again.
    Reopen {
        reason: FreeText,
    },
    /// Staff, with a reason: targets become the new priority's under the pinned policy.
    ChangePriority {
        to: Priority,
        reason: FreeText,
    },
    AddComment {
        text: IncidentComment,
    },
}
