//! The one integration-test binary. Each area has its own file; `harness` starts clusters of
//! trib-node or real redis-server on loopback.

mod harness;

mod cli_backup;
mod cli_basics;
mod cli_check;
mod cli_compat;
mod cli_compat_corpus;
mod cli_create;
mod cli_failover;
mod cli_import;
mod cli_local;
mod cli_nodes;
mod cli_pty;
mod cli_readme;
mod cli_support;
mod cli_view;
mod client_redirects;
mod migrate_engine;
mod migrate_fix;
mod migrate_fix_owners;
mod migrate_fix_states;
mod migrate_interactive;
mod migrate_interrupt;
mod migrate_kill;
mod migrate_kill_stress;
mod migrate_live;
mod migrate_reshard;
mod migrate_support;
mod node_basics;
mod node_cluster;
mod node_cluster_redis_cli;
mod node_dump;
mod node_failover;
mod node_oracle;
mod node_oracle_types;
mod node_replication;
mod tls;
mod tls_support;
