//! One command bus per aggregate over one event log: what the binaries drive.

use sablier_domain::Services;
use sablier_domain::change::Change;
use sablier_domain::contract::Contract;
use sablier_domain::incident::Incident;
use sablier_domain::order::Order;

use crate::commands::CommandBus;
use crate::event_log::EventLog;

pub struct Engine {
    pub log: EventLog,
    pub contracts: CommandBus<Contract>,
    pub incidents: CommandBus<Incident>,
    pub changes: CommandBus<Change>,
    pub orders: CommandBus<Order>,
}

impl Engine {
    pub fn new(log: EventLog, services: Services) -> Self {
        Self {
            contracts: CommandBus::new(log.clone(), services.clone()),
            incidents: CommandBus::new(log.clone(), services.clone()),
            changes: CommandBus::new(log.clone(), services.clone()),
            orders: CommandBus::new(log.clone(), services),
            log,
        }
    }
}
