//! The shared shape of every slot-moving plan: a list of transfers, each a (source, target)
//! pair with the slots it moves in order. Reshard, rebalance and fix plans produce it; the
//! migration engine consumes it. Data only: no I/O, no scheduling (see `schedule`).

use serde::Serialize;

use crate::slot::Slot;

/// Slots to move from one master to another, in the order they will be moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transfer {
    pub source: String,
    pub target: String,
    pub slots: Vec<Slot>,
}

/// A master as the planners see it: its id, what it owns, and how it is shown to people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanNode {
    pub id: String,
    /// `host:port`, for messages only.
    pub addr: String,
    /// Owned slots, ascending.
    pub slots: Vec<Slot>,
}

impl PlanNode {
    pub fn new(id: impl Into<String>, addr: impl Into<String>, mut slots: Vec<Slot>) -> PlanNode {
        slots.sort();
        slots.dedup();
        PlanNode {
            id: id.into(),
            addr: addr.into(),
            slots,
        }
    }
}

/// Total number of slots moved by a list of transfers.
pub fn slot_count(transfers: &[Transfer]) -> usize {
    transfers.iter().map(|t| t.slots.len()).sum()
}
