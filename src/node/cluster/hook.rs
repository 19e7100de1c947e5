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

    fn is_replica(&self) -> bool {
        bus::lock(&self.state).me().is_replica()
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
        }
    }
}

fn cluster_config(shared: &Shared, port: u16) -> ClusterConfig {
    let c = shared.config();
    let bus_port = match c.get_i64("cluster-port") {
        0 => port.wrapping_add(10000),
        p => p as u16,
    };
    ClusterConfig {
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
    }
}

/// Turns cluster mode on: loads (or creates) nodes.conf, binds the bus port on `bind_host`,
/// installs the hook and starts the bus. Err: a message for the log, and startup fails.
pub async fn start(shared: &Arc<Shared>, bind_host: &str, port: u16) -> Result<(), String> {
    let cfg = cluster_config(shared, port);
    let path = PathBuf::from(shared.config().get("cluster-config-file").to_string());
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
