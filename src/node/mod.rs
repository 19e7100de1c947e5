//! trib-node: a Redis-Cluster-compatible server. Config, RESP codec, server, sessions, command
//! table, keyspace with a per-slot key index, DUMP/RESTORE, routing, cluster state and bus.
//! Never imports `ops`, `plan` or `output`.

pub mod rdb;
pub mod value;
pub mod zset;

/// Entry point of the `trib-node` binary: parses redis-server style arguments and serves.
#[allow(clippy::print_stderr)]
pub fn main_entry(args: Vec<String>) -> i32 {
    let _ = args;
    eprintln!("trib-node: not implemented yet");
    2
}
pub mod cluster;
