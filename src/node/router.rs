//! The cluster hook: the one seam between the single-node data plane and cluster mode.
//!
//! **For the cluster implementation (helper nodecluster):** implement `ClusterHook` and install
//! it with `Shared::install_cluster` (e.g. in `main_entry`, right after `Shared::new`, when
//! `config.cluster_enabled()`). Then:
//! - the dispatcher (`commands::dispatch`) calls `route` before executing every command that has
//!   keys (per the command table, movable keys included) and before EXEC (with the keys of all
//!   queued commands); a `Some(reply)` (MOVED/ASK/CLUSTERDOWN/CROSSSLOT/TRYAGAIN...) is sent
//!   instead of executing. While queuing in MULTI the reply also aborts the transaction.
//! - `info_section` fills INFO's `# Cluster` section (without the hook: `cluster_enabled:0`).
//! - `after_write` is called after every command that modified the keyspace (replication).
//! - `mode`/`role` feed HELLO and INFO; `as_any` lets CLUSTER command code get its state back.
//!
//! Without a hook installed everything runs locally.

use std::any::Any;

use bytes::Bytes;

use super::commands::CommandSpec;
use super::keyspace::Keyspace;
use super::reply::Reply;
use super::session::Session;

/// What the router is asked about one command (or a whole EXEC).
pub struct RouteQuery<'a> {
    pub spec: &'static CommandSpec,
    /// The full argument vector (command name first).
    pub args: &'a [Bytes],
    /// Every key of the command (for EXEC: of all queued commands, in order).
    pub keys: &'a [Bytes],
    /// The command (for EXEC: any queued command) writes.
    pub is_write: bool,
    pub is_exec: bool,
}

pub trait ClusterHook: Send + Sync + 'static {
    /// None: execute locally. Some: the redirect/error to send instead.
    fn route(&self, query: &RouteQuery<'_>, session: &Session, db: &Keyspace) -> Option<Reply>;
    /// The body of INFO's `# Cluster` section, `\r\n`-terminated lines.
    fn info_section(&self) -> String {
        "cluster_enabled:1\r\n".into()
    }
    /// The body of INFO's `# Replication` section; None keeps the standalone master text.
    fn replication_section(&self) -> Option<String> {
        None
    }
    /// Called after a command that changed the keyspace, with its arguments.
    fn after_write(&self, _args: &[Bytes]) {}
    /// "master" or "replica" (HELLO `role`, INFO `role:` uses master/slave).
    fn is_replica(&self) -> bool {
        false
    }
    fn as_any(&self) -> &dyn Any;
}
