//! The seam between cluster failover and data replication: what an election needs to know
//! (my replication offset, how long my master has been silent) and what a role change must set
//! in motion (promote, follow another master). The cluster state holds one port; the default
//! keeps roles only, so elections work before (and without) data replication. It does not
//! replicate anything itself. Install the real one with `ClusterState::set_replication`
//! (through `hook::ClusterRuntime::of(shared).state`), which starts following at once when the
//! node is already a replica.

use crate::node::cluster::bus_msg::NodeName;

/// Replication as the cluster sees it. Calls are made while the cluster state is locked: an
/// implementation must return at once (spawn its work) and never lock the cluster state.
pub trait ReplicationPort: Send + Sync {
    /// My replication offset: `master_repl_offset` as a master, the processed offset as a
    /// replica. Goes in every bus header, ranks replicas, and gates manual failover.
    fn offset(&self) -> u64;
    /// Milliseconds since the last interaction with my master (or since the link went down),
    /// for the data-age check of an automatic failover; `None` skips that check.
    fn master_silence_ms(&self) -> Option<u64> {
        None
    }
    /// I became a master: stop replicating, keep the data (a new replication history starts).
    fn promote(&self);
    /// I am (now) a replica of `master`, reachable at `ip:port`: replicate from it. Called
    /// again when its address changes.
    fn follow(&self, master: NodeName, ip: &str, port: u16);
    /// A manual failover paused this master's client writes until `until_ms` (Unix ms), or
    /// resumed them (`0`).
    fn pause_writes(&self, _until_ms: u64) {}
}

/// Roles only: offset 0, nothing to promote or follow.
#[derive(Debug, Default)]
pub struct NoReplication;

impl ReplicationPort for NoReplication {
    fn offset(&self) -> u64 {
        0
    }
    fn promote(&self) {}
    fn follow(&self, _master: NodeName, _ip: &str, _port: u16) {}
}
