//! The one integration-test binary. Each area has its own file; `harness` starts clusters of
//! trib-node or real redis-server on loopback.

mod harness;

mod cli_basics;
mod cli_check;
mod cli_create;
mod cli_local;
mod cli_nodes;
mod cli_support;
mod cli_view;
mod node_cluster;
