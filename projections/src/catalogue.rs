//! Every projection Sablier maintains, in the order the projector applies them.

use std::sync::Arc;

use crate::audit_trail::AuditTrail;
use crate::billing::Billing;
use crate::directory::Directory;
use crate::projection::Projection;
use crate::request_list::RequestList;
use crate::sla_clocks::SlaClocks;

pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(Directory),
        Arc::new(SlaClocks),
        Arc::new(Billing::default()),
        Arc::new(RequestList),
        Arc::new(AuditTrail),
    ]
}

/// The names of [`all`], for waiting on every view.
pub fn names() -> Vec<&'static str> {
    all().iter().map(|projection| projection.name()).collect()
}
