//! The node side of replication's background work: `link::Host` for the node (load a
//! master's snapshot, apply its stream under the keyspace lock), starting to follow a master
//! (REPLICAOF, the `replicaof` directive, the cluster table), and the once-a-second cron
//! (PING to replicas every `repl-ping-replica-period`, backlog size, cluster role changes).

use std::sync::Arc;
use std::time::Duration;

use crate::node::commands::dispatch::{execute_locked, resolve};
use crate::node::commands::Handler;
use crate::node::keyspace::unix_ms;
use crate::node::log;
use crate::node::rdb::file::Snapshot;
use crate::node::replication::link::{BoxFuture, Settings, Streamed};
use crate::node::replication::{self as repl, Host, Replication};
use crate::node::session::{ClientInfo, Session};
use crate::node::state::Shared;

/// The node as the replica link sees it.
struct Node(Arc<Shared>);

impl Host for Node {
    fn replication(&self) -> &Replication {
        &self.0.replication
    }

    fn load<'a>(&'a self, snapshot: Snapshot, replid: &'a str, offset: u64) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let mut db = self.0.db.lock().await;
            db.flush();
            db.now_ms = unix_ms();
            let mut n = 0usize;
            for e in snapshot.entries.into_iter().filter(|e| e.db == 0) {
                db.set(e.key.clone(), e.value);
                if let Some(at) = e.expire_at_ms {
                    db.set_expire(&e.key, Some(at.max(0) as u64));
                }
                n += 1;
            }
            db.expired.clear();
            self.0.replication.synced_from(replid, offset);
            log::notice(&format!(
                "MASTER <-> REPLICA sync: Loading DB in memory: {n} keys"
            ));
        })
    }

    fn apply(&self, commands: Vec<Streamed>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let shared = &self.0;
            let info = Arc::new(ClientInfo::new(
                0,
                "master".into(),
                String::new(),
                unix_ms(),
            ));
            let mut session = Session::new(info, false);
            let mut db = shared.db.lock().await;
            db.now_ms = unix_ms();
            for c in commands {
                let name = c.args[0].to_ascii_lowercase();
                // A master's MULTI/EXEC wraps commands we apply in order under one lock anyway.
                let skip = matches!(&name[..], b"multi" | b"exec" | b"discard");
                if !skip {
                    if let Ok(spec) = resolve(&c.args) {
                        if !matches!(spec.handler, Handler::Container) {
                            execute_locked(shared, &mut session, &mut db, spec, &c.args);
                        }
                    }
                }
                db.expired.clear();
                shared.replication.feed_raw(&c.raw);
            }
        })
    }

    fn settings(&self) -> Settings {
        let c = self.0.config();
        let port = match c.get_i64("replica-announce-port") {
            0 => self.0.tcp_port.load(std::sync::atomic::Ordering::Relaxed) as u16,
            p => p as u16,
        };
        Settings {
            masterauth: c.get("masterauth").to_string(),
            masteruser: c.get("masteruser").to_string(),
            listening_port: port,
            announce_ip: c.get("replica-announce-ip").to_string(),
            timeout_secs: c.get_i64("repl-timeout").max(1) as u64,
        }
    }
}

/// Starts following `host:port` (a no-op when already following it).
pub fn follow(shared: &Arc<Shared>, host: &str, port: u16) {
    repl::repoint(Arc::new(Node(shared.clone())), host, port);
}

/// The `replicaof <host> <port>` directive (standalone mode only, as Redis).
pub fn start_from_config(shared: &Arc<Shared>) {
    let directive = shared.config().get("replicaof").to_string();
    let mut words = directive.split_whitespace();
    if let (Some(host), Some(port)) = (words.next(), words.next()) {
        if shared.config().cluster_enabled() {
            log::warning("replicaof directive not allowed in cluster mode");
            return;
        }
        if let Ok(port) = port.parse() {
            follow(shared, host, port);
        }
    }
}

/// Makes replication follow the cluster table: a replica of a known master follows it, a
/// node the table calls master stops following.
pub fn reconcile(shared: &Arc<Shared>) {
    let Some(cluster) = shared.cluster() else {
        return;
    };
    if cluster.is_replica() {
        if let Some((ip, port)) = cluster.master_addr() {
            if port != 0 && !ip.is_empty() {
                follow(shared, &ip, port);
            }
        }
    } else if shared.replication.is_replica() {
        repl::promote(&shared.replication);
    }
}

/// Once a second until the process ends.
pub async fn cron(shared: Arc<Shared>) {
    start_from_config(&shared);
    super::port::install(&shared);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let (period, backlog) = {
            let c = shared.config();
            (
                c.get_i64("repl-ping-replica-period").max(1) as u64,
                c.get_i64("repl-backlog-size").max(1) as usize,
            )
        };
        let r = &shared.replication;
        r.set_backlog_size(backlog);
        let ping_due = {
            let mut inner = r.lock();
            let due = !inner.replicas.is_empty()
                && inner.link.is_none()
                && inner.last_ping.elapsed() >= Duration::from_secs(period);
            if due {
                inner.last_ping = std::time::Instant::now();
            }
            due
        };
        if ping_due {
            // Under the keyspace lock, like every other write to the stream.
            let _db = shared.db.lock().await;
            r.feed_command(&[b"PING"]);
        }
        reconcile(&shared);
    }
}
