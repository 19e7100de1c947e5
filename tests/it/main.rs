//! The one integration-test binary. Each area has its own file; `harness` starts clusters of
//! trib-node or real redis-server on loopback.

mod harness;

mod cli_basics;
mod node_cluster;
mod node_cluster_redis_cli;
mod node_dump;
mod node_oracle_types;
