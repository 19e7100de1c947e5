//! One source→target transfer: slots are opened, drained and closed in chunks; within a chunk
//! several slots are drained at once so the source always has a command queued.

use futures_util::StreamExt;

use crate::plan::moves::Transfer;
use crate::remote::conn::NodeConn;
use crate::slot::Slot;

use super::keys::{drain_slot, Ends};
use super::setslot::{close, open};
use super::{Engine, Event, EventSink, FailedSlot, OPEN_CHUNK};

#[derive(Default)]
pub struct TransferOutcome {
    pub slots_moved: usize,
    pub keys_moved: u64,
    pub failed: Vec<FailedSlot>,
    /// Slots not started because the run was stopped.
    pub not_moved: usize,
}

pub async fn run(engine: &Engine, t: &Transfer, sink: &dyn EventSink) -> TransferOutcome {
    let source = &engine.node(&t.source).expect("checked by Engine::run").conn;
    let target = &engine.node(&t.target).expect("checked by Engine::run").conn;
    let others: Vec<&NodeConn> = engine
        .nodes
        .iter()
        .filter(|n| n.id != t.source && n.id != t.target)
        .map(|n| &n.conn)
        .collect();
    let (src_addr, dst_addr) = (source.addr.to_string(), target.addr.to_string());
    sink.emit(&Event::TransferStarted {
        source: src_addr.clone(),
        target: dst_addr.clone(),
        slots: t.slots.len(),
    });
    let mut outcome = TransferOutcome::default();
    let fail = |outcome: &mut TransferOutcome, slot: Slot, reason: String| {
        sink.emit(&Event::SlotFailed {
            source: src_addr.clone(),
            target: dst_addr.clone(),
            slot,
            reason: reason.clone(),
        });
        outcome.failed.push(FailedSlot {
            slot,
            source: t.source.clone(),
            target: t.target.clone(),
            reason,
        });
    };
    let ends = Ends { source, target };
    let opts = engine.options();
    for chunk in t.slots.chunks(OPEN_CHUNK) {
        // Stopping: the opened chunk is finished (clients may already have written new keys
        // to the target through ASK, so closing it early could strand them); no new chunk opens.
        if engine.stopping() {
            outcome.not_moved += chunk.len();
            continue;
        }
        let (opened, failed) = open(source, &t.source, target, &t.target, chunk).await;
        for (slot, reason) in failed {
            fail(&mut outcome, slot, reason);
        }
        let batch_keys = |n: u64| {
            sink.emit(&Event::KeysMoved {
                source: src_addr.clone(),
                target: dst_addr.clone(),
                keys: n,
            })
        };
        let drained: Vec<(Slot, Result<u64, String>)> = futures_util::stream::iter(opened)
            .map(|slot| {
                let ends = &ends;
                let batch_keys = &batch_keys;
                async move { (slot, drain_slot(ends, slot, opts, batch_keys).await) }
            })
            .buffer_unordered(opts.slot_window.max(1))
            .collect()
            .await;
        let mut empty = Vec::new();
        let mut per_slot = std::collections::HashMap::new();
        for (slot, r) in drained {
            match r {
                Ok(n) => {
                    per_slot.insert(slot, n);
                    empty.push(slot);
                }
                Err(reason) => fail(&mut outcome, slot, reason),
            }
        }
        empty.sort();
        let (closed, failed, warnings) =
            close(source, target, &t.target, &others, &engine.replicas, &empty).await;
        for message in warnings {
            sink.emit(&Event::Warning { message });
        }
        for (slot, reason) in failed {
            fail(&mut outcome, slot, reason);
        }
        for slot in &closed {
            let keys = per_slot.get(slot).copied().unwrap_or(0);
            outcome.slots_moved += 1;
            outcome.keys_moved += keys;
            sink.emit(&Event::SlotMoved {
                source: src_addr.clone(),
                target: dst_addr.clone(),
                slot: *slot,
                keys,
            });
        }
    }
    sink.emit(&Event::TransferDone {
        source: src_addr,
        target: dst_addr,
        slots_moved: outcome.slots_moved,
        slots_failed: outcome.failed.len(),
        keys: outcome.keys_moved,
    });
    outcome
}
