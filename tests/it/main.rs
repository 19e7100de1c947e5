//! The one integration-test binary. Each area has its own file; `harness` starts clusters of
//! trib-node or real redis-server on loopback.

mod harness;

mod cli_basics;
mod node_basics;
mod node_dump;
mod node_oracle;
mod node_oracle_types;
