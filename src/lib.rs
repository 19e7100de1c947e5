//! trib: Redis Cluster administration. A map of the crate:
//!
//! - CLI: `cli` (clap syntax), `ops` (one file per subcommand), `output` (the one Reporter).
//! - Shared core: `slot`, `addr`, `exit`, `remote` (a live cluster seen from outside: connections,
//!   CLUSTER NODES, the view; not to be confused with `node::cluster`, the server side),
//!   `plan` (pure plans), `migrate` (the slot-move engine), `rdb` (RDB framing and primitives,
//!   shared with the node).
//! - Node: `node` (trib-node, the reference cluster server); it never imports `ops`, `plan` or `output`.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod addr;
pub mod cli;
pub mod exit;
pub mod migrate;
pub mod node;
pub mod ops;
pub mod output;
pub mod plan;
pub mod rdb;
pub mod remote;
pub mod slot;
pub mod tls;

/// The first argument that makes the `trib` binary run trib-node's server instead of the CLI.
pub const SERVE_NODE_WORD: &str = "serve-node";
