//! The slot migration engine (the hot path). Given transfers from a plan and a connection per
//! master, it moves slots: SETSLOT IMPORTING/MIGRATING pipelined for a chunk of slots, keys
//! drained with GETKEYSINSLOT + MIGRATE on several slots at once (so the next GETKEYSINSLOT is
//! always queued behind the current MIGRATE), ownership handed over with SETSLOT NODE (target,
//! every other master, then the source once the replicas know), and several transfers at once under the `plan::schedule`
//! rule. It does not load the cluster view or print: ops hand it connections, events go to a
//! sink.

pub mod conflict;
pub mod converge;
pub mod events;
pub mod keys;
pub mod setslot;
pub mod transfer;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::plan::moves::Transfer;
use crate::plan::schedule::{next_startable, Busy};
use crate::remote::conn::{Credentials, NodeConn};
use crate::slot::Slot;

pub use events::{Event, EventSink, NoEvents};

/// Keys per GETKEYSINSLOT/MIGRATE batch when the operator does not say (`--pipeline`).
pub const DEFAULT_BATCH_KEYS: usize = 256;
/// Transfers a node may take part in at once when the operator does not say (`--parallel`).
/// Measured (benches/rebalance_vs_redis_cli.sh, 1M keys, 3 masters + 1 new): 4 against 2
/// took the fill of the new master from 4.2 s to 3.5 s and the drain from 6.4 s to 3.5 s.
pub const DEFAULT_PARALLEL: usize = 4;
/// Slots of one transfer whose keys are drained at the same time. MIGRATE blocks the source
/// for one round trip to the target, so with distant nodes only many slots in flight keep the
/// source busy: 1 ms reply delay, 1M keys, 4096 slots: window 4 took 24 s, 32 or more ~10 s;
/// without delay 32 is as fast as 4 or faster.
pub const DEFAULT_SLOT_WINDOW: usize = 32;
/// Slots opened (IMPORTING/MIGRATING) and closed (NODE) per pipelined round.
pub const OPEN_CHUNK: usize = 256;

/// How slots are moved.
#[derive(Clone, Debug)]
pub struct MigrateOptions {
    /// MIGRATE timeout (ms), as `--timeout`.
    pub timeout_ms: u64,
    /// Most keys per MIGRATE, as `--pipeline`.
    pub batch_keys: usize,
    /// Overwrite keys that exist on the target (`--replace`).
    pub replace: bool,
    /// Transfers per node at once (`--parallel`).
    pub parallel: usize,
    /// Slots drained at once within one transfer.
    pub slot_window: usize,
    /// Passed to MIGRATE (AUTH / AUTH2) so the source can log in to the target.
    pub credentials: Credentials,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            timeout_ms: 60_000,
            batch_keys: DEFAULT_BATCH_KEYS,
            replace: false,
            parallel: DEFAULT_PARALLEL,
            slot_window: DEFAULT_SLOT_WINDOW,
            credentials: Credentials::default(),
        }
    }
}

/// A master the engine may talk to.
#[derive(Clone)]
pub struct EngineNode {
    pub id: String,
    pub conn: NodeConn,
}

/// A slot given up: left MIGRATING on its source and IMPORTING on its target.
#[derive(Debug, Clone, Serialize)]
pub struct FailedSlot {
    pub slot: Slot,
    pub source: String,
    pub target: String,
    pub reason: String,
}

/// What a run achieved.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MigrateReport {
    pub slots_moved: usize,
    pub keys_moved: u64,
    pub failed: Vec<FailedSlot>,
    /// Slots left where they were because the run was stopped.
    pub not_moved: usize,
    pub interrupted: bool,
    pub elapsed_ms: u128,
}

impl MigrateReport {
    /// Every planned slot moved: nothing failed and the run was not interrupted.
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && !self.interrupted
    }
}

/// The engine: the masters (view order: SETSLOT NODE goes to them in this order), the replicas
/// whose view a close waits for, and options.
pub struct Engine {
    nodes: Vec<EngineNode>,
    replicas: converge::Replicas,
    opts: MigrateOptions,
    stop: Arc<AtomicBool>,
}

impl Engine {
    pub fn new(nodes: Vec<EngineNode>, opts: MigrateOptions) -> Engine {
        Engine {
            nodes,
            replicas: converge::Replicas::default(),
            opts,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Replicas to keep in step: each close tells the source only once these show the target
    /// as the slots' owner (bounded), so that no client reading its map from one of them is
    /// sent back and forth (issue 15). Without them, a close does not wait.
    pub fn with_replicas(mut self, conns: Vec<NodeConn>) -> Engine {
        self.replicas = converge::Replicas::new(conns);
        self
    }

    /// A flag that, once set (e.g. on Ctrl-C), makes the engine finish the slots it has opened
    /// and open no more, so an interrupted run leaves no open slot behind.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    pub fn options(&self) -> &MigrateOptions {
        &self.opts
    }

    fn node(&self, id: &str) -> Option<&EngineNode> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Runs every transfer, several at once where the schedule allows, and reports.
    pub async fn run(&self, transfers: &[Transfer], sink: Arc<dyn EventSink>) -> MigrateReport {
        let started = Instant::now();
        sink.emit(&Event::Started {
            transfers: transfers.len(),
            slots: transfers.iter().map(|t| t.slots.len()).sum(),
        });
        let mut report = MigrateReport::default();
        let mut pending: Vec<Transfer> = Vec::new();
        for t in transfers {
            match (self.node(&t.source), self.node(&t.target)) {
                (Some(_), Some(_)) if !t.slots.is_empty() => pending.push(t.clone()),
                (Some(_), Some(_)) => {}
                _ => report.failed.extend(t.slots.iter().map(|&slot| FailedSlot {
                    slot,
                    source: t.source.clone(),
                    target: t.target.clone(),
                    reason: "node not connected".into(),
                })),
            }
        }
        let per_node = self.opts.parallel.max(1);
        let mut busy = Busy::default();
        let mut running = futures_util::stream::FuturesUnordered::new();
        loop {
            while let Some(i) = next_startable(&pending, &busy, per_node) {
                if self.stopping() {
                    break;
                }
                let t = pending.remove(i);
                busy.start(&t);
                let sink = sink.clone();
                running.push(async move {
                    let outcome = transfer::run(self, &t, sink.as_ref()).await;
                    (t, outcome)
                });
            }
            use futures_util::StreamExt;
            match running.next().await {
                Some((t, outcome)) => {
                    busy.finish(&t);
                    report.slots_moved += outcome.slots_moved;
                    report.keys_moved += outcome.keys_moved;
                    report.failed.extend(outcome.failed);
                    report.not_moved += outcome.not_moved;
                }
                None => break,
            }
        }
        report.interrupted = self.stopping();
        report.not_moved += pending.iter().map(|t| t.slots.len()).sum::<usize>();
        report.elapsed_ms = started.elapsed().as_millis();
        report
    }
}

/// A MIGRATE timeout (ms) for a retry of one big key: ten times the normal one, at least 60 s.
fn big_key_timeout(timeout_ms: u64) -> u64 {
    timeout_ms.saturating_mul(10).max(60_000)
}

/// How long the client side waits for a reply to a MIGRATE with `timeout_ms`.
pub fn response_timeout_for(timeout_ms: u64) -> Duration {
    Duration::from_millis(big_key_timeout(timeout_ms).saturating_add(10_000))
}
