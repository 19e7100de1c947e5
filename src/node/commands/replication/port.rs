//! Wires data replication into cluster failover: the `ReplicationPort` the cluster state calls
//! for the offset (bus header, replica rank, manual failover) and on role changes (promote,
//! follow another master). The cluster calls it with its state locked, so role changes are
//! spawned, never run inline; it holds the node weakly (the node owns the cluster state).

use std::sync::{Arc, Weak};

use crate::node::cluster::bus::lock;
use crate::node::cluster::bus_msg::NodeName;
use crate::node::cluster::failover::replication_port::ReplicationPort;
use crate::node::cluster::hook::ClusterRuntime;
use crate::node::replication as repl;
use crate::node::state::Shared;

struct Port(Weak<Shared>);

impl ReplicationPort for Port {
    fn offset(&self) -> u64 {
        self.0.upgrade().map_or(0, |s| repl::offset(&s.replication))
    }

    fn promote(&self) {
        if let Some(shared) = self.0.upgrade() {
            tokio::spawn(async move { repl::promote(&shared.replication) });
        }
    }

    fn follow(&self, _master: NodeName, ip: &str, port: u16) {
        if port == 0 || ip.is_empty() {
            return;
        }
        if let Some(shared) = self.0.upgrade() {
            let ip = ip.to_string();
            tokio::spawn(async move { super::host::follow(&shared, &ip, port) });
        }
    }
}

/// Installs the port in cluster mode (a no-op otherwise).
pub fn install(shared: &Arc<Shared>) {
    if let Some(rt) = ClusterRuntime::of(shared) {
        lock(&rt.state).set_replication(Arc::new(Port(Arc::downgrade(shared))));
    }
}
