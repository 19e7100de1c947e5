//! The one integration-test binary. Each area has its own file; `harness` starts clusters of
//! trib-node or real redis-server on loopback.

mod harness;

mod cli_basics;
mod cli_view;
mod migrate_engine;
mod migrate_interactive;
mod migrate_live;
mod migrate_reshard;
mod migrate_support;
