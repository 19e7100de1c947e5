//! trib-node cluster mode: the bus against real redis-server 7.0, CLUSTER subcommands with
//! exact replies, routing, nodes.conf restarts, MIGRATE.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use trib::node::cluster::bus::{self, ClusterHost, SharedCluster};
use trib::node::cluster::state::{ClusterConfig, ClusterState};
use trib::slot::Slot;

use crate::harness::{free_port, require_redis, Backend, Node};

struct NoKeys;
impl ClusterHost for NoKeys {
    fn delete_keys_in_slot(&self, _: Slot) {}
}

/// A bus-only trib-node cluster member running in this process (no client port needed).
fn start_bus_member(rt: &tokio::runtime::Runtime) -> (SharedCluster, u16) {
    let port = free_port();
    let bus_port = free_port();
    let st = ClusterState::new(ClusterConfig {
        port,
        bus_port,
        node_timeout: 5000,
        ..Default::default()
    });
    let shared: SharedCluster = Arc::new(Mutex::new(st));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", bus_port)))
        .unwrap();
    let s = shared.clone();
    rt.block_on(async move { bus::start(listener, s, Arc::new(NoKeys)) });
    (shared, port)
}

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A real redis-server meets an in-process trib-node bus; both list each other as connected
/// masters, a slot claim with a higher epoch is accepted by the real node, and a stale claim
/// gets corrected by the real node's UPDATE.
#[test]
fn bus_handshake_and_slot_claims_with_real_redis() {
    if !require_redis() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let redis = Node::start(Backend::Redis, true, &[], root.path());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (shared, port) = start_bus_member(&rt);
    let my_bus = bus::lock(&shared).config.bus_port;
    let me = bus::lock(&shared).myself.to_string();
    redis
        .cmd(&[
            "CLUSTER",
            "MEET",
            "127.0.0.1",
            &port.to_string(),
            &my_bus.to_string(),
        ])
        .unwrap();
    let redis_id = redis.myid();
    wait_until(
        "the real node to list us as a connected master",
        Duration::from_secs(10),
        || {
            let nodes = redis.cmd_string(&["CLUSTER", "NODES"]);
            nodes.lines().any(|l| {
                l.starts_with(&me)
                    && l.contains(" master ")
                    && l.ends_with("connected")
                    && !l.contains("disconnected")
            })
        },
    );
    wait_until(
        "us to know the real node by name",
        Duration::from_secs(10),
        || {
            let st = bus::lock(&shared);
            let text = trib::node::cluster::render::nodes_text(&st, true);
            text.lines().any(|l| {
                l.starts_with(&redis_id) && l.contains(" master - ") && l.contains(" connected")
            }) && st.me().ip == "127.0.0.1"
        },
    );
    // Claim slots 0-99 with a higher epoch: the real node must accept the claim.
    {
        let mut st = bus::lock(&shared);
        let mine = st.myself;
        for s in 0..100 {
            st.add_slot(Slot::new(s).unwrap(), mine);
        }
        st.current_epoch = 5;
        st.me_mut().config_epoch = 5;
        st.broadcast_pong_needed = true;
    }
    wait_until(
        "the real node to see our slots",
        Duration::from_secs(10),
        || {
            redis
                .cmd_string(&["CLUSTER", "NODES"])
                .lines()
                .any(|l| l.starts_with(&me) && l.ends_with(" 0-99") && l.contains(" 5 connected"))
        },
    );
    // The real node takes slot 200 with a higher epoch; we claim it with a stale one and must
    // be corrected through gossip or UPDATE.
    redis.cmd(&["CLUSTER", "ADDSLOTS", "200"]).unwrap();
    redis.cmd(&["CLUSTER", "BUMPEPOCH"]).unwrap();
    {
        let mut st = bus::lock(&shared);
        let mine = st.myself;
        st.add_slot(Slot::new(200).unwrap(), mine);
    }
    wait_until(
        "our table to give slot 200 back to the real node",
        Duration::from_secs(10),
        || {
            let st = bus::lock(&shared);
            st.owner(Slot::new(200).unwrap()).map(|n| n.to_string()) == Some(redis_id.clone())
        },
    );
    let info = redis.cmd_string(&["CLUSTER", "INFO"]);
    assert!(info.contains("cluster_known_nodes:2"), "{info}");
    drop(rt);
}
