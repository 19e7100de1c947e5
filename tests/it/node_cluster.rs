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
    fn delete_keys_in_slots(&self, _: Vec<Slot>) {}
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

/// One reply, normalized for comparison between two nodes: errors as their full text, the
/// node's own id and ports replaced by placeholders.
fn reply_text(r: redis::RedisResult<redis::Value>, id: &str, port: u16, bus: u16) -> String {
    let raw = match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!(
            "ERROR {} {}",
            e.code().unwrap_or("?"),
            e.detail().unwrap_or_default()
        ),
    };
    raw.replace(id, "<id>")
        .replace(&bus.to_string(), "<bus>")
        .replace(&port.to_string(), "<port>")
}

/// Runs the same command list against a fresh trib-node and a fresh redis-server (both alone
/// in their cluster) on one connection each, and compares every reply exactly.
#[test]
fn cluster_subcommand_replies_match_real_redis() {
    if !require_redis() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let trib = Node::start(Backend::TribNode, true, &[], root.path());
    let real = Node::start(Backend::Redis, true, &[], root.path());
    let script: Vec<String> = [
        "CLUSTER",
        "CLUSTER FOO",
        "CLUSTER NODES x",
        "CLUSTER ADDSLOTS 16384",
        "CLUSTER ADDSLOTS x",
        "CLUSTER ADDSLOTS -1",
        "CLUSTER ADDSLOTS 1 1",
        "CLUSTER ADDSLOTSRANGE 1",
        "CLUSTER ADDSLOTSRANGE 1 2 3",
        "CLUSTER ADDSLOTSRANGE 5 2",
        "CLUSTER DELSLOTS 5",
        "CLUSTER DELSLOTSRANGE 5 6",
        "CLUSTER SETSLOT 5 MIGRATING 0000000000000000000000000000000000000000",
        "CLUSTER SETSLOT 5 IMPORTING aaaa",
        "CLUSTER SETSLOT 5 NODE aaaa",
        "CLUSTER SETSLOT 5 FOO",
        "CLUSTER SETSLOT 5",
        "CLUSTER SETSLOT 99999 STABLE",
        "CLUSTER SETSLOT 5 STABLE",
        "CLUSTER SET-CONFIG-EPOCH -1",
        "CLUSTER SET-CONFIG-EPOCH x",
        "CLUSTER FORGET abc",
        "CLUSTER FORGET $ME",
        "CLUSTER REPLICATE abc",
        "CLUSTER REPLICATE $ME",
        "CLUSTER COUNTKEYSINSLOT 16384",
        "CLUSTER COUNTKEYSINSLOT x",
        "CLUSTER COUNTKEYSINSLOT 5",
        "CLUSTER GETKEYSINSLOT 1 -1",
        "CLUSTER GETKEYSINSLOT x 1",
        "CLUSTER GETKEYSINSLOT 16384 1",
        "CLUSTER GETKEYSINSLOT 5 10",
        "CLUSTER KEYSLOT foo",
        "CLUSTER KEYSLOT {user1}.a",
        "CLUSTER MEET 127.0.0.1 x",
        "CLUSTER MEET 127.0.0.1 1 y",
        "CLUSTER MEET nohost 7000",
        "CLUSTER MEET 127.0.0.1 70000",
        "CLUSTER MEET 127.0.0.1",
        "CLUSTER RESET BAD",
        "CLUSTER FAILOVER",
        "CLUSTER FAILOVER BAD",
        "CLUSTER COUNT-FAILURE-REPORTS abc",
        "CLUSTER COUNT-FAILURE-REPORTS $ME",
        "CLUSTER REPLICAS abc",
        "CLUSTER REPLICAS $ME",
        "CLUSTER SLAVES $ME",
        "CLUSTER MYID",
        "CLUSTER NODES",
        "CLUSTER SLOTS",
        "CLUSTER SHARDS",
        "CLUSTER INFO",
        "SET foo bar",
        "GET foo",
        "CLUSTER BUMPEPOCH",
        "CLUSTER BUMPEPOCH",
        "CLUSTER SET-CONFIG-EPOCH 3",
        "CLUSTER ADDSLOTS 5 7 100",
        "CLUSTER ADDSLOTS 5",
        "CLUSTER ADDSLOTSRANGE 200 300 400 400",
        "CLUSTER SETSLOT 5 IMPORTING $ME",
        "CLUSTER SETSLOT 5 MIGRATING $ME",
        "CLUSTER NODES",
        "CLUSTER SLOTS",
        "CLUSTER SHARDS",
        "CLUSTER INFO",
        "CLUSTER DELSLOTSRANGE 250 260",
        "CLUSTER NODES",
        "MULTI",
        "CLUSTER DELSLOTS 5",
        "CLUSTER DELSLOTS 5",
        "CLUSTER ADDSLOTS 5",
        "CLUSTER SETSLOT 5 STABLE",
        "CLUSTER BUMPEPOCH",
        "EXEC",
        "CLUSTER NODES",
        "READONLY",
        "READWRITE",
        "ASKING",
        "CLUSTER FLUSHSLOTS",
        "CLUSTER NODES",
        "CLUSTER RESET SOFT",
        "CLUSTER INFO",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let run = |n: &Node| -> Vec<String> {
        let id = n.myid();
        let mut c = n.client();
        script
            .iter()
            .map(|line| {
                let line = line.replace("$ME", &id);
                let words: Vec<&str> = line.split(' ').collect();
                let mut cmd = redis::cmd(words[0]);
                for w in &words[1..] {
                    cmd.arg(*w);
                }
                let r = cmd.query::<redis::Value>(&mut c);
                format!("{line} => {}", reply_text(r, &id, n.port, n.bus_port)).replace(&id, "<id>")
            })
            .collect()
    };
    let ours = run(&trib);
    let theirs = run(&real);
    let mut diffs = Vec::new();
    for (a, b) in ours.iter().zip(&theirs) {
        if a != b {
            diffs.push(format!("trib-node:    {a}\nredis-server: {b}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n\n")
    );
}
