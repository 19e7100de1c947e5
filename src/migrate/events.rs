//! What the migration engine tells the world while it works: one `Event` per step, delivered
//! to an `EventSink`. The engine never prints; `output::progress` turns events into bars,
//! plain lines or NDJSON.

use serde::Serialize;

use crate::slot::Slot;

/// One step of a migration. Nodes are named by address (what operators read).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The whole run: how many transfers and slots are planned.
    Started { transfers: usize, slots: usize },
    /// A source→target transfer began.
    TransferStarted {
        source: String,
        target: String,
        slots: usize,
    },
    /// A batch of keys reached the target.
    KeysMoved {
        source: String,
        target: String,
        keys: u64,
    },
    /// A slot now belongs to the target.
    SlotMoved {
        source: String,
        target: String,
        slot: Slot,
        keys: u64,
    },
    /// A slot was given up; it stays MIGRATING/IMPORTING for `trib fix`.
    SlotFailed {
        source: String,
        target: String,
        slot: Slot,
        reason: String,
    },
    /// Something worth knowing that did not stop the slot.
    Warning { message: String },
    /// A transfer ended (some of its slots may have failed).
    TransferDone {
        source: String,
        target: String,
        slots_moved: usize,
        slots_failed: usize,
        keys: u64,
    },
}

/// Receives events; called from several tasks at once.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: &Event);
}

/// Discards events (tests, dry runs).
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _event: &Event) {}
}
