//! Cluster mode wired into the server: startup (nodes.conf, bus listener, cron), the
//! `ClusterHook` the dispatcher calls (routing, INFO, role), and the `ClusterHost` the bus calls
//! back (deleting keys of lost slots, live settings). The glue between `state`/`bus` and
//! `node::state::Shared`; no cluster rules here.

use std::any::Any;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

use super::bus::{self, ClusterHost, SharedCluster};
use super::commands::Keys;
use super::migrate_conn::MigrateCache;
use super::nodes_conf;
use super::routing::{self, RouteRequest};
use super::state::ClusterConfig;
use crate::node::commands::flag;
use crate::node::keyspace::Keyspace;
use crate::node::reply::Reply;
use crate::node::router::{ClusterHook, RouteQuery};
use crate::node::session::Session;
use crate::node::state::Shared;
use crate::slot::Slot;

/// The installed cluster mode: the state plus MIGRATE's connection cache.
pub struct ClusterRuntime {
    pub state: SharedCluster,
    pub migrate: MigrateCache,
}

impl ClusterRuntime {
    /// The runtime installed in `shared`, if cluster mode is on.
    pub fn of(shared: &Shared) -> Option<&ClusterRuntime> {
        shared
            .cluster()
            .and_then(|h| h.as_any().downcast_ref::<ClusterRuntime>())
    }
}

/// Converts a cluster reply into the server's reply type.
pub fn to_server(r: super::reply::Reply) -> Reply {
    use super::reply::Reply as C;
    match r {
        C::Simple(s) => Reply::Simple(s),
        C::Error(s) => Reply::Error(s),
        C::Int(i) => Reply::Int(i),
        C::Bulk(b) => Reply::Bulk(b),
        C::Nil => Reply::Nil,
        C::Array(v) => Reply::Array(v.into_iter().map(to_server).collect()),
        C::Map(v) => Reply::Map(
            v.into_iter()
                .map(|(k, v)| (to_server(k), to_server(v)))
                .collect(),
        ),
        C::Verbatim(b) => Reply::Verbatim(b),
    }
}

/// The keyspace as CLUSTER subcommands see it.
pub struct DbKeys<'a>(pub &'a mut Keyspace);

impl Keys for DbKeys<'_> {
    fn count_in_slot(&self, slot: Slot) -> usize {
        self.0.count_in_slot(slot)
    }
    fn keys_in_slot(&self, slot: Slot, max: usize) -> Vec<bytes::Bytes> {
        self.0.keys_in_slot(slot, max)
    }
    fn dbsize(&self) -> usize {
        self.0.len()
    }
    fn flush_all(&mut self) {
        self.0.flush();
    }
}

impl ClusterHook for ClusterRuntime {
    fn route(&self, q: &RouteQuery<'_>, session: &Session, db: &Keyspace) -> Option<Reply> {
        let st = bus::lock(&self.state);
        let req = RouteRequest {
            keys: q.keys,
            is_write: q.is_write,
            is_migrate: q.spec.name == "migrate",
            asking: session.asking || q.spec.has(flag::ASKING),
            readonly: session.readonly,
        };
        let now = db.now_ms;
        let mut exists = |k: &[u8]| match db.peek(k) {
            Some(e) => e.expire_at.is_none_or(|t| t > now),
            None => false,
        };
        routing::route(&st, &req, &mut exists).map(to_server)
    }

    fn info_section(&self) -> String {
        "cluster_enabled:1\r\n".into()
    }

    /// A replica in the node table reports itself as one. Data replication is not built yet,
    /// so the link to the master is honestly `down` and the offsets stay 0.
    fn replication_section(&self) -> Option<String> {
        let st = bus::lock(&self.state);
        if !st.me().is_replica() {
            return None;
        }
        let master = st.my_master().and_then(|m| st.node(&m));
        let (host, port) = master.map_or((String::new(), 0), |m| (m.ip.clone(), m.port));
        let mut s = String::new();
        let fields: [(&str, String); 16] = [
            ("role", "slave".into()),
            ("master_host", host),
            ("master_port", port.to_string()),
            ("master_link_status", "down".into()),
            ("master_last_io_seconds_ago", "-1".into()),
            ("master_sync_in_progress", "0".into()),
            ("slave_read_repl_offset", "0".into()),
            ("slave_repl_offset", "0".into()),
            ("slave_priority", "100".into()),
            ("slave_read_only", "1".into()),
            ("replica_announced", "1".into()),
            ("connected_slaves", "0".into()),
            ("master_failover_state", "no-failover".into()),
            ("master_repl_offset", "0".into()),
            ("second_repl_offset", "-1".into()),
            ("repl_backlog_active", "0".into()),
        ];
        for (k, v) in fields {
            s.push_str(&format!("{k}:{v}\r\n"));
        }
        Some(s)
    }

    fn is_replica(&self) -> bool {
        bus::lock(&self.state).me().is_replica()
    }

    fn master_addr(&self) -> Option<(String, u16)> {
        let st = bus::lock(&self.state);
        let master = st.me().master.as_ref()?;
        st.nodes.get(master).map(|m| (m.ip.clone(), m.port))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The bus's view of the node.
struct Host(Weak<Shared>);

impl ClusterHost for Host {
    fn delete_keys_in_slots(&self, slots: Vec<Slot>) {
        let Some(shared) = self.0.upgrade() else {
            return;
        };
        tokio::spawn(async move {
            let mut db = shared.db.lock().await;
            for s in slots {
                let keys = db.keys_in_slot(s, usize::MAX);
                if !keys.is_empty() {
                    cnotice!(
                        "Deleting {} keys of slot {s}, now served elsewhere",
                        keys.len()
                    );
                }
                for k in keys {
                    db.remove(&k);
                }
            }
        });
    }

    fn refresh_config(&self, cfg: &mut ClusterConfig) {
        if let Some(shared) = self.0.upgrade() {
            let c = shared.config();
            cfg.node_timeout = c.get_i64("cluster-node-timeout").max(1) as u64;
            cfg.require_full_coverage = c.get_bool("cluster-require-full-coverage");
            cfg.allow_replica_migration = c.get_bool("cluster-allow-replica-migration");
            cfg.allow_reads_when_down = c.get_bool("cluster-allow-reads-when-down");
            cfg.preferred_endpoint = c.get("cluster-preferred-endpoint-type").to_string();
            failover_settings(&c, cfg);
        }
    }
}

/// The settings elections and replica migration read (live, like Redis).
fn failover_settings(c: &crate::node::config::Config, cfg: &mut ClusterConfig) {
    cfg.replica_no_failover = c.get_bool("cluster-replica-no-failover");
    cfg.migration_barrier = c.get_i64("cluster-migration-barrier").max(0) as u64;
    cfg.validity_factor = c.get_i64("cluster-replica-validity-factor").max(0) as u64;
    cfg.repl_ping_period = c.get_i64("repl-ping-replica-period").max(1) as u64;
}

fn cluster_config(shared: &Shared, port: u16) -> ClusterConfig {
    let c = shared.config();
    let bus_port = match c.get_i64("cluster-port") {
        0 => port.wrapping_add(10000),
        p => p as u16,
    };
    let mut cfg = ClusterConfig {
        port,
        bus_port,
        node_timeout: c.get_i64("cluster-node-timeout").max(1) as u64,
        announce_ip: c.get("cluster-announce-ip").to_string(),
        announce_port: c.get_i64("cluster-announce-port") as u16,
        announce_bus_port: c.get_i64("cluster-announce-bus-port") as u16,
        announce_hostname: c.get("cluster-announce-hostname").to_string(),
        require_full_coverage: c.get_bool("cluster-require-full-coverage"),
        allow_replica_migration: c.get_bool("cluster-allow-replica-migration"),
        allow_reads_when_down: c.get_bool("cluster-allow-reads-when-down"),
        preferred_endpoint: c.get("cluster-preferred-endpoint-type").to_string(),
        ..ClusterConfig::default()
    };
    failover_settings(&c, &mut cfg);
    cfg
}

/// Holds an exclusive lock for the process lifetime so that two nodes never share one
/// nodes.conf. The lock is on `<file>.lock` because nodes.conf itself is replaced by rename on
/// every save (a lock on the old inode would not stop a second process).
fn lock_config(path: &std::path::Path) -> Result<(), String> {
    let mut lock_name = path.as_os_str().to_owned();
    lock_name.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_name)
        .map_err(|e| {
            format!(
                "Can't open {} in order to acquire a lock: {e}",
                path.display()
            )
        })?;
    match file.try_lock() {
        Ok(()) => {
            // Deliberately leaked: the lock lasts as long as the process.
            std::mem::forget(file);
            Ok(())
        }
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "Sorry, the cluster configuration file {} is already used by a different Redis Cluster node. Please make sure that different nodes use different cluster configuration files.",
            path.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(format!("Impossible to lock {}: {e}", path.display()))
        }
    }
}

/// Turns cluster mode on: loads (or creates) nodes.conf, binds the bus port on `bind_host`,
/// installs the hook and starts the bus. Err: a message for the log, and startup fails.
pub async fn start(shared: &Arc<Shared>, bind_host: &str, port: u16) -> Result<(), String> {
    let cfg = cluster_config(shared, port);
    let path = PathBuf::from(shared.config().get("cluster-config-file").to_string());
    lock_config(&path)?;
    let mut st =
        nodes_conf::load(&path, cfg.clone()).map_err(|e| format!("Unrecoverable error: {e}"))?;
    st.conf_path = Some(path.clone());
    let fresh = st.save_needed;
    if fresh {
        cnotice!("No cluster configuration found, I'm {}", st.myself);
    } else {
        cnotice!("Node configuration loaded, I'm {}", st.myself);
    }
    st.save_now()
        .map_err(|e| format!("Can't write {}: {e}", path.display()))?;
    st.update_state();
    let addr = if bind_host.contains(':') {
        format!("[{bind_host}]:{}", cfg.bus_port)
    } else {
        format!("{bind_host}:{}", cfg.bus_port)
    };
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("Could not bind the cluster bus port {addr}: {e}"))?;
    let state: SharedCluster = Arc::new(Mutex::new(st));
    let runtime = Arc::new(ClusterRuntime {
        state: state.clone(),
        migrate: MigrateCache::default(),
    });
    shared.install_cluster(runtime);
    bus::start(listener, state, Arc::new(Host(Arc::downgrade(shared))));
    Ok(())
}
