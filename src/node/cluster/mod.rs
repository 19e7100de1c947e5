//! trib-node's cluster mode: the cluster state (`state`), its persistence (`nodes_conf`), the
//! CLUSTER command family (`commands`, rendered by `render`), key routing (`routing`), epochs
//! (`epochs`), the bus wire format (`bus_msg`), the bus links and gossip rules (`bus`, `gossip`)
//! and MIGRATE (`migrate`).

pub mod bus;
pub mod bus_msg;
pub mod commands;
pub mod epochs;
pub mod gossip;
pub mod migrate_conn;
pub mod nodes_conf;
pub mod render;
pub mod reply;
pub mod routing;
pub mod state;
