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
fn raw_reply(r: redis::RedisResult<redis::Value>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!(
            "ERROR {} {}",
            e.code().unwrap_or("?"),
            e.detail().unwrap_or_default()
        ),
    }
}

fn reply_text(r: redis::RedisResult<redis::Value>, id: &str, port: u16, bus: u16) -> String {
    raw_reply(r)
        .replace(id, "<id>")
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

/// Routing (MOVED/ASK/TRYAGAIN/CROSSSLOT/ASKING) and every MIGRATE form, run on a 3-master
/// cluster of each backend; the replies must be identical (ports and ids normalized).
#[test]
fn routing_and_migrate_replies_match_real_redis() {
    if !require_redis() || !crate::harness::require_redis_cli() {
        return;
    }
    let closed_port = free_port();
    let run = |backend: Backend| -> Vec<String> {
        let c = crate::harness::Cluster::start(backend, 3);
        assert!(c.create_with_redis_cli(0));
        let ids: Vec<String> = c.nodes.iter().map(|n| n.myid()).collect();
        let (a, b) = (&c.nodes[0], &c.nodes[1]);
        let mut ca = a.client();
        let mut cb = b.client();
        let bport = b.port.to_string();
        let script: Vec<(char, String)> = vec![
            ('a', "SET key:4 val4".into()),
            ('a', "SET {key:4}:ttl v PX 100000".into()),
            ('a', "RPUSH {key:4}:list a b c".into()),
            ('a', "GET key:1".into()),
            ('a', "MGET key:1 key:2".into()),
            ('b', format!("CLUSTER SETSLOT 2724 IMPORTING {}", ids[0])),
            ('a', format!("CLUSTER SETSLOT 2724 MIGRATING {}", ids[1])),
            ('a', "GET {key:4}.missing".into()),
            ('a', "GET key:4".into()),
            ('a', "MGET key:4 {key:4}.missing".into()),
            ('b', "GET key:4".into()),
            ('b', "ASKING".into()),
            ('b', "GET key:4".into()),
            ('b', "GET key:4".into()),
            ('b', "ASKING".into()),
            ('b', "MGET {key:4}.new {key:4}.other".into()),
            ('a', format!("MIGRATE 127.0.0.1 {bport} {{key:4}}.none 0 5000")),
            ('a', format!("MIGRATE 127.0.0.1 {bport} \"\" 0 5000 KEYS {{key:4}}.none {{key:4}}.none2")),
            ('a', format!("MIGRATE 127.0.0.1 {bport} key:4 0 5000 COPY")),
            ('a', format!("MIGRATE 127.0.0.1 {bport} key:4 0 5000 COPY")),
            ('a', format!("MIGRATE 127.0.0.1 {bport} key:4 0 5000 COPY REPLACE")),
            ('a', format!("MIGRATE 127.0.0.1 {bport} key:4 0 5000 AUTH secret")),
            ('a', format!("MIGRATE 127.0.0.1 {bport} key:4 0 5000 AUTH2 bob secret")),
            ('a', format!("MIGRATE 127.0.0.1 {bport} key:4 1 5000 REPLACE")),
            ('a', format!("MIGRATE 127.0.0.1 {bport} key:4 0 5000 KEYS key:4")),
            ('a', format!("MIGRATE 127.0.0.1 {bport} key:4 0 5000 FOO")),
            ('a', format!("MIGRATE 127.0.0.1 {bport} key:4 x 5000")),
            ('a', format!("MIGRATE 127.0.0.1 {bport} key:4 0 5000 AUTH")),
            ('a', format!("MIGRATE 127.0.0.1 {closed_port} key:4 0 1000")),
            ('a', "GET key:4".into()),
            ('a', format!("MIGRATE 127.0.0.1 {bport} \"\" 0 5000 REPLACE KEYS key:4 {{key:4}}:ttl {{key:4}}:list")),
            ('a', "EXISTS key:4 {key:4}:ttl {key:4}:list".into()),
            ('a', "GET key:4".into()),
            ('b', "ASKING".into()),
            ('b', "LRANGE {key:4}:list 0 -1".into()),
            ('b', format!("CLUSTER SETSLOT 2724 NODE {}", ids[1])),
            ('a', format!("CLUSTER SETSLOT 2724 NODE {}", ids[1])),
            ('a', "GET key:4".into()),
            ('b', "GET key:4".into()),
            ('b', "MGET {key:4}:ttl key:4".into()),
            ('a', "CLUSTER COUNTKEYSINSLOT 2724".into()),
            ('b', "CLUSTER COUNTKEYSINSLOT 2724".into()),
        ];
        let mut out = Vec::new();
        for (who, line) in &script {
            let words: Vec<String> = line
                .split(' ')
                .map(|w| {
                    if w == "\"\"" {
                        String::new()
                    } else {
                        w.to_string()
                    }
                })
                .collect();
            let mut cmd = redis::cmd(&words[0]);
            for w in &words[1..] {
                cmd.arg(w.as_str());
            }
            let conn = if *who == 'a' { &mut ca } else { &mut cb };
            let r = cmd.query::<redis::Value>(conn);
            let mut text = format!("{who}: {line} => {}", raw_reply(r));
            for (i, n) in c.nodes.iter().enumerate() {
                text = text
                    .replace(&ids[i], &format!("<id{i}>"))
                    .replace(&n.port.to_string(), &format!("<port{i}>"));
            }
            out.push(text.replace(&closed_port.to_string(), "<closed>"));
        }
        // the TTL travelled with the key
        let pttl: i64 = redis::cmd("PTTL")
            .arg("{key:4}:ttl")
            .query(&mut cb)
            .unwrap();
        assert!(
            pttl > 90_000 && pttl <= 100_000,
            "{}: PTTL {pttl}\n{}",
            backend.name(),
            out.join("\n")
        );
        out
    };
    let ours = run(Backend::TribNode);
    let theirs = run(Backend::Redis);
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

/// Malformed and hostile bus input: each bad stream is dropped (link closed, logged) and the
/// node keeps serving clients and its bus.
#[test]
fn hostile_bus_input_closes_the_link_and_the_node_keeps_running() {
    use std::io::{Read, Write};
    let root = tempfile::tempdir().unwrap();
    let node = Node::start(Backend::TribNode, true, &[], root.path());
    let mut header = vec![0u8; 2256];
    header[0..4].copy_from_slice(b"RCmb");
    header[4..8].copy_from_slice(&2256u32.to_be_bytes());
    header[8..10].copy_from_slice(&1u16.to_be_bytes());
    header[12..14].copy_from_slice(&3u16.to_be_bytes()); // FAIL needs 2296 bytes
    let mut huge = b"RCmb".to_vec();
    huge.extend_from_slice(&u32::MAX.to_be_bytes());
    let mut noise = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..20000 {
        x = x.wrapping_mul(1103515245).wrapping_add(12345);
        noise.push((x >> 16) as u8);
    }
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("http", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("huge totlen", huge),
        ("wrong length for FAIL", header),
        ("noise", noise),
    ];
    for (what, bytes) in inputs {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", node.bus_port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = s.write_all(&bytes);
        let mut buf = [0u8; 64];
        let n = s
            .read(&mut buf)
            .unwrap_or_else(|e| panic!("{what}: link not closed: {e}"));
        assert_eq!(n, 0, "{what}: expected the link to be closed");
        assert_eq!(node.cmd_string(&["PING"]), "PONG", "after {what}");
    }
    let info = node.cmd_string(&["CLUSTER", "INFO"]);
    assert!(info.contains("cluster_known_nodes:1"), "{info}");
    let log = std::fs::read_to_string(node.log_path()).unwrap();
    assert!(
        log.contains("cluster bus:"),
        "no log line about the bad input:\n{log}"
    );
}

/// Two nodes can never share one nodes.conf: the second refuses to start, with Redis's message,
/// and the first keeps running.
#[test]
fn a_second_node_on_the_same_nodes_conf_refuses_to_start() {
    let root = tempfile::tempdir().unwrap();
    let first = Node::start(Backend::TribNode, true, &[], root.path());
    let out = std::process::Command::new(crate::harness::trib_node_bin())
        .args(["--port", &free_port().to_string(), "--bind", "127.0.0.1"])
        .args(["--cluster-port", &free_port().to_string()])
        .args([
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
        ])
        .arg("--dir")
        .arg(&first.dir)
        .args(["--logfile", "second.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log = std::fs::read_to_string(first.dir.join("second.log")).unwrap();
    assert!(
        log.contains("Sorry, the cluster configuration file nodes.conf is already used by a different Redis Cluster node."),
        "{log}"
    );
    assert_eq!(first.cmd_string(&["PING"]), "PONG");
}
