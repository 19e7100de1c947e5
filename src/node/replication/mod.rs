//! Replication, both sides. The state (`core::Replication`: replication ids, offset, backlog,
//! attached replicas, the link to our master) is one value in `Shared`; master side: full
//! snapshots (`snapshot`, `master`), the stream fed by the command layer, partial resync from
//! the `backlog`; replica side: the `link` task. Reads the keyspace only through
//! `snapshot::Source` and `link::Host`, never the command families.
//!
//! **For cluster code (failover, elections, gossip)** — three calls, all cheap and safe from
//! any thread inside the runtime:
//! - [`offset`]`(&shared.replication)`: the current replication offset (master: produced;
//!   replica: processed), for the bus header's `offset` field and replica ranking.
//! - [`promote`]`(&shared.replication)`: become a master, keeping the data; a new replication
//!   id, the old one kept as `master_replid2` up to `second_repl_offset`, so former siblings
//!   can PSYNC partially. A no-op on a master.
//! - [`repoint`]`(host, ip, port)`: follow another master (`host` is the node, as
//!   `Arc<Shared>`); a no-op when already following that address. The dataset is replaced by
//!   the new master's at its first full sync, as Redis does.
//!
//! The command layer also reconciles roles once a second from the cluster table (a replica
//! whose master is known follows it; a node the table calls master stops following), so
//! cluster code may simply change the table and let that catch up.

pub mod backlog;
pub mod core;
pub mod link;
pub mod master;
pub mod snapshot;
pub mod wire;

use std::sync::Arc;
use std::time::Instant;

use self::core::Link;
pub use self::core::{new_replid, LinkState, Replication, NO_REPLID};
pub use self::link::Host;
use crate::node::log;

/// What a connection declared with REPLCONF before SYNC/PSYNC (kept in its session).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// `REPLCONF listening-port <port>`.
    pub listening_port: Option<u16>,
    /// `REPLCONF ip-address <ip>`.
    pub ip_address: Option<String>,
    /// `REPLCONF capa eof`: it could take a `$EOF:<mark>` (diskless) transfer.
    pub capa_eof: bool,
    /// `REPLCONF capa psync2`.
    pub capa_psync2: bool,
    /// `REPLCONF rdb-only 1`: it wants the snapshot only; the connection closes after it.
    pub rdb_only: bool,
    /// It has received a full snapshot (it is a replica of this node from then on).
    pub synced: bool,
}

/// The current replication offset.
pub fn offset(repl: &Replication) -> u64 {
    repl.offset()
}

/// Stops following a master, keeping the data, and starts a new replication history.
pub fn promote(repl: &Replication) {
    let mut inner = repl.lock();
    let Some(link) = inner.link.take() else {
        return;
    };
    if let Some(task) = link.task {
        task.abort();
    }
    inner.replid2 = std::mem::replace(&mut inner.replid, new_replid());
    inner.second_offset = inner.offset as i64 + 1;
    inner.db_selected = false;
    if inner.backlog.is_none() {
        let (size, next) = (inner.backlog_size, inner.offset + 1);
        inner.backlog = Some(backlog::Backlog::new(size, next));
    }
    repl.sync_flags(&inner);
    log::notice("MASTER MODE enabled: replication stopped, data kept, new replication ID");
}

/// Follows the master at `ip:port` (restarting the link unless it already follows it).
pub fn repoint(host: Arc<dyn Host>, ip: &str, port: u16) {
    let repl = host.replication();
    let mut inner = repl.lock();
    if let Some(link) = inner.link.as_ref() {
        if link.host == ip && link.port == port {
            return;
        }
    }
    if let Some(task) = inner.link.take().and_then(|l| l.task) {
        task.abort();
    }
    // Our own replicas must resync from our new history.
    inner.replicas.clear();
    let task = tokio::spawn(link::run(host.clone(), ip.to_string(), port));
    inner.link = Some(Link {
        host: ip.to_string(),
        port,
        state: LinkState::Connect,
        last_io: Instant::now(),
        task: Some(task.abort_handle()),
    });
    repl.sync_flags(&inner);
}
