//! trib-node's cluster mode: the cluster state (`state`), its persistence (`nodes_conf`), the
//! CLUSTER command family (`commands`, rendered by `render`), key routing (`routing`), epochs
//! (`epochs`), the bus wire format (`bus_msg`), the bus links (`bus`), received messages
//! (`gossip`), sent messages (`gossip_out`), failure detection (`failure`), failover
//! (`election` on the replica, `voting` on the masters, `manual_failover`, `replica_migration`,
//! and `replication_port`, the seam to data replication) and MIGRATE (`migrate`).

/// Cluster log lines go through trib-node's logger (redis-server style lines).
macro_rules! cnotice {
    ($($t:tt)*) => { $crate::node::log::notice(&format!($($t)*)) }
}
macro_rules! cwarn {
    ($($t:tt)*) => { $crate::node::log::warning(&format!($($t)*)) }
}
macro_rules! cdebug {
    ($($t:tt)*) => { $crate::node::log::log($crate::node::log::Level::Debug, &format!($($t)*)) }
}

pub mod bus;
pub mod bus_msg;
pub mod command_table;
pub mod commands;
pub mod epochs;
pub mod failover;
pub mod gossip;
pub mod gossip_out;
pub mod hook;
pub mod migrate;
pub mod migrate_conn;
pub mod nodes_conf;
pub mod render;
pub mod reply;
pub mod routing;
pub mod state;
