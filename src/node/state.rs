//! The state every connection shares: configuration, the keyspace (one async mutex, taken per
//! command or per pipelined batch, never across socket I/O), the client registry, ACL users,
//! server statistics, the shutdown signal and the optional cluster hook (`router`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use tokio::sync::Notify;

use super::acl::Acl;
use super::config::Config;
use super::keyspace::{unix_ms, Keyspace};
use super::replication::{new_replid, Replication};
use super::router::ClusterHook;
use super::session::ClientInfo;

/// Server-wide counters for INFO.
#[derive(Debug, Default)]
pub struct Stats {
    pub connections_received: AtomicU64,
    pub commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    /// Error replies by error code (INFO errorstats), e.g. "ERR" -> 3.
    pub errors: Mutex<BTreeMap<String, u64>>,
    pub total_error_replies: AtomicU64,
}

impl Stats {
    pub fn reset(&self) {
        self.connections_received.store(0, Ordering::Relaxed);
        self.commands_processed.store(0, Ordering::Relaxed);
        self.rejected_connections.store(0, Ordering::Relaxed);
        self.net_input_bytes.store(0, Ordering::Relaxed);
        self.net_output_bytes.store(0, Ordering::Relaxed);
        self.total_error_replies.store(0, Ordering::Relaxed);
        lock(&self.errors).clear();
    }
}

/// How SHUTDOWN asked the server to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownKind {
    Normal,
}

pub struct Shared {
    pub config: RwLock<Config>,
    pub db: tokio::sync::Mutex<Keyspace>,
    pub clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    pub acl: RwLock<Acl>,
    pub stats: Stats,
    pub started: Instant,
    pub started_unix_ms: u64,
    pub run_id: String,
    pub next_client_id: AtomicU64,
    pub lastsave_unix: AtomicU64,
    shutdown_requested: AtomicBool,
    pub shutdown: Notify,
    cluster: OnceLock<Arc<dyn ClusterHook>>,
    /// False while the only ACL user is an unrestricted `default`: permission checks are skipped.
    acl_restricted: AtomicBool,
    /// The port actually bound (for INFO tcp_port when `port 0` was asked).
    pub tcp_port: AtomicU64,
    /// Replication ids, offset, backlog, replicas, the link to our master.
    pub replication: Replication,
}

/// Locks a std mutex, ignoring poisoning (a panicked holder cannot leave these maps invalid).
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn random_hex40() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..40)
        .map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)]))
        .collect()
}

impl Shared {
    pub fn new(config: Config) -> Arc<Shared> {
        let acl = Acl::new(config.requirepass());
        let port = u64::from(config.port());
        let now = unix_ms();
        let backlog = config.get_i64("repl-backlog-size").max(1) as usize;
        Arc::new(Shared {
            config: RwLock::new(config),
            db: tokio::sync::Mutex::new(Keyspace::new()),
            clients: Mutex::new(BTreeMap::new()),
            acl: RwLock::new(acl),
            stats: Stats::default(),
            started: Instant::now(),
            started_unix_ms: now,
            run_id: random_hex40(),
            next_client_id: AtomicU64::new(1),
            lastsave_unix: AtomicU64::new(now / 1000),
            shutdown_requested: AtomicBool::new(false),
            shutdown: Notify::new(),
            cluster: OnceLock::new(),
            tcp_port: AtomicU64::new(port),
            acl_restricted: AtomicBool::new(false),
            replication: Replication::new(new_replid(), backlog),
        })
    }

    pub fn config(&self) -> std::sync::RwLockReadGuard<'_, Config> {
        self.config.read().unwrap_or_else(|e| e.into_inner())
    }
    pub fn config_mut(&self) -> std::sync::RwLockWriteGuard<'_, Config> {
        self.config.write().unwrap_or_else(|e| e.into_inner())
    }
    pub fn acl(&self) -> std::sync::RwLockReadGuard<'_, Acl> {
        self.acl.read().unwrap_or_else(|e| e.into_inner())
    }
    pub fn acl_mut(&self) -> std::sync::RwLockWriteGuard<'_, Acl> {
        self.acl.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Recomputes whether permission checks are needed (call after changing ACL users).
    pub fn refresh_acl(&self) {
        let acl = self.acl();
        let simple = acl.users.len() == 1
            && acl
                .users
                .get("default")
                .map(|u| u.all_commands && u.denied.is_empty())
                .unwrap_or(false);
        self.acl_restricted.store(!simple, Ordering::Relaxed);
    }
    pub fn acl_restricted(&self) -> bool {
        self.acl_restricted.load(Ordering::Relaxed)
    }

    /// Installs cluster mode (once). See `router` for the contract.
    pub fn install_cluster(&self, hook: Arc<dyn ClusterHook>) -> bool {
        self.cluster.set(hook).is_ok()
    }
    pub fn cluster(&self) -> Option<&Arc<dyn ClusterHook>> {
        self.cluster.get()
    }

    pub fn request_shutdown(&self) {
        self.shutdown_requested.store(true, Ordering::SeqCst);
        self.shutdown.notify_waiters();
    }
    pub fn shutting_down(&self) -> bool {
        self.shutdown_requested.load(Ordering::SeqCst)
    }

    pub fn count_error(&self, reply_text: &str) {
        let code = reply_text.split(' ').next().unwrap_or("ERR").to_string();
        self.stats
            .total_error_replies
            .fetch_add(1, Ordering::Relaxed);
        *lock(&self.stats.errors).entry(code).or_insert(0) += 1;
    }
}
