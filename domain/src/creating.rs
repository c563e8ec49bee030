//! Which commands create their aggregate: a hint the command bus uses to skip reading a
//! stream that should not exist yet.

use crate::actor::Authored;
use crate::change::ChangeCommand;
use crate::contract::ContractCommand;
use crate::incident::IncidentCommand;
use crate::order::OrderCommand;

/// A command that is meant for an aggregate with no event yet (open an incident, create a
/// contract, save a change's draft, place an order).
///
/// A hint, not a rule: the bus decides such a command against the empty aggregate and
/// appends at sequence 1, which the log refuses if the stream exists; then the command is
/// decided again against the stream as stored, and rejected there as usual. A wrong hint
/// costs one extra decision, never a wrong event.
pub trait Creating {
    fn creates(&self) -> bool;
}

impl<C: Creating> Creating for Authored<C> {
    fn creates(&self) -> bool {
        self.command.creates()
    }
}

impl Creating for ContractCommand {
    fn creates(&self) -> bool {
        matches!(self, ContractCommand::CreateContract { .. })
    }
}

impl Creating for IncidentCommand {
    fn creates(&self) -> bool {
        matches!(self, IncidentCommand::Open { .. })
    }
}

/// `Submit` is not a hint: it may submit a saved draft or create the change at once.
impl Creating for ChangeCommand {
    fn creates(&self) -> bool {
        matches!(self, ChangeCommand::SaveDraft { .. })
    }
}

impl Creating for OrderCommand {
    fn creates(&self) -> bool {
        matches!(self, OrderCommand::PlaceOrder(_))
    }
}
