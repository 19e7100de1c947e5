//! The oracle: the REAL `redis-cli --cluster` (7.0) driving clusters of trib-node processes, and
//! mixed clusters of trib-node and redis-server. Every scenario checks that the same key set
//! with the same values survives.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::harness::{require_redis_cli, run_program, Backend, Cluster, Node, Run};

fn redis_cli(args: &[&str]) -> Run {
    run_program("redis-cli", args, None, &[])
}

fn cli_ok(args: &[&str]) -> Run {
    let r = redis_cli(args);
    assert_eq!(r.code, 0, "redis-cli {args:?} failed: {r:?}");
    r
}

/// Follows MOVED from any node until the owner answers.
fn get(nodes: &[Node], key: &str) -> Option<String> {
    let mut port = nodes[0].port;
    for _ in 0..5 {
        let node = nodes
            .iter()
            .find(|n| n.port == port)
            .expect("redirect to a known node");
        match node.cmd(&["GET", key]) {
            Ok(v) => return redis::from_redis_value::<Option<String>>(&v).unwrap(),
            Err(e) if e.code() == Some("MOVED") => {
                let detail = e.detail().unwrap_or_default().to_string();
                let addr = detail.split(' ').nth(1).unwrap();
                port = addr.rsplit(':').next().unwrap().parse().unwrap();
            }
            Err(e) => panic!("GET {key} on {}: {e}", node.addr()),
        }
    }
    panic!("too many redirects for {key}");
}

fn set(nodes: &[Node], key: &str, value: &str) {
    let mut port = nodes[0].port;
    for _ in 0..5 {
        let node = nodes.iter().find(|n| n.port == port).unwrap();
        match node.cmd(&["SET", key, value]) {
            Ok(_) => return,
            Err(e) if e.code() == Some("MOVED") => {
                let detail = e.detail().unwrap_or_default().to_string();
                port = detail.rsplit(':').next().unwrap().parse().unwrap();
            }
            Err(e) => panic!("SET {key}: {e}"),
        }
    }
    panic!("too many redirects for {key}");
}

/// Writes `n` keys spread over all slots, and returns them with their values.
fn fill(nodes: &[Node], n: usize) -> BTreeMap<String, String> {
    let mut data = BTreeMap::new();
    for i in 0..n {
        let (k, v) = (
            format!("key:{i}"),
            format!("value-{i}-{}", "x".repeat(i % 7)),
        );
        set(nodes, &k, &v);
        data.insert(k, v);
    }
    data
}

fn assert_same_data(nodes: &[Node], data: &BTreeMap<String, String>) {
    for (k, v) in data {
        assert_eq!(get(nodes, k).as_deref(), Some(v.as_str()), "key {k}");
    }
}

fn master_ids(node: &Node) -> Vec<(String, u16, String)> {
    // (id, port, slots-text) of masters, as the node sees them
    node.cmd_string(&["CLUSTER", "NODES"])
        .lines()
        .filter(|l| l.split(' ').nth(2).is_some_and(|f| f.contains("master")))
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let port = f[1]
                .split('@')
                .next()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            (f[0].to_string(), port, f[8..].join(" "))
        })
        .collect()
}

fn check(addr: &str) -> Run {
    let r = redis_cli(&["--cluster", "check", addr]);
    assert_eq!(r.code, 0, "check failed: {r:?}");
    assert!(
        r.stdout
            .contains("[OK] All nodes agree about slots configuration."),
        "{r:?}"
    );
    assert!(r.stdout.contains("[OK] All 16384 slots covered."), "{r:?}");
    r
}

/// Polls `check` until it passes (create/fix return before every node agrees).
fn wait_check(addr: &str) -> Run {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = redis_cli(&["--cluster", "check", addr]);
        if r.code == 0
            && r.stdout.contains("[OK] All nodes agree")
            && !r.stdout.contains("[WARNING]")
        {
            return r;
        }
        assert!(Instant::now() < deadline, "check never passed: {r:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn redis_cli_create_check_info_call_set_timeout_on_six_trib_nodes() {
    if !require_redis_cli() {
        return;
    }
    let c = Cluster::start(Backend::TribNode, 6);
    assert!(c.create_with_redis_cli(1));
    let addr = c.nodes[0].addr();
    let r = check(&addr);
    assert_eq!(r.stdout.matches("M: ").count(), 3, "{r:?}");
    assert_eq!(r.stdout.matches("S: ").count(), 3, "{r:?}");
    assert!(r.stdout.contains("1 additional replica(s)"), "{r:?}");
    let data = fill(&c.nodes, 200);
    let info = cli_ok(&["--cluster", "info", &addr]);
    assert!(
        info.stdout.contains("[OK] 200 keys in 3 masters."),
        "{info:?}"
    );
    let call = cli_ok(&["--cluster", "call", &addr, "DBSIZE"]);
    assert_eq!(
        call.stdout
            .lines()
            .filter(|l| l.starts_with("127.0.0.1:"))
            .count(),
        6,
        "{call:?}"
    );
    // The harness starts nodes without a config file, so CONFIG REWRITE fails exactly as it
    // does on redis-server ("The server is running without a config file"); the new timeout
    // must still be in effect on every node.
    let t = cli_ok(&["--cluster", "set-timeout", &addr, "6000"]);
    assert!(t.stdout.contains("New node timeout set. "), "{t:?}");
    for n in &c.nodes {
        let v = n.cmd(&["CONFIG", "GET", "cluster-node-timeout"]).unwrap();
        let pair: Vec<String> = redis::from_redis_value(&v).unwrap();
        assert_eq!(pair[1], "6000", "{}", n.addr());
    }
    assert_same_data(&c.nodes, &data);
}

fn known_nodes(n: &Node) -> usize {
    let info = n.cmd_string(&["CLUSTER", "INFO"]);
    info.lines()
        .find_map(|l| l.strip_prefix("cluster_known_nodes:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn redis_cli_reshard_add_node_del_node_and_fix_keep_every_key() {
    if !require_redis_cli() {
        return;
    }
    let mut c = Cluster::start(Backend::TribNode, 3);
    assert!(c.create_with_redis_cli(0));
    let addr = c.nodes[0].addr();
    let data = fill(&c.nodes, 500);
    let masters = master_ids(&c.nodes[0]);
    let from = masters
        .iter()
        .find(|m| m.2.starts_with("0-"))
        .unwrap()
        .clone();
    let to = masters.iter().find(|m| m.0 != from.0).unwrap().clone();
    let r = cli_ok(&[
        "--cluster",
        "reshard",
        &addr,
        "--cluster-from",
        &from.0,
        "--cluster-to",
        &to.0,
        "--cluster-slots",
        "100",
        "--cluster-yes",
    ]);
    assert!(r.stdout.contains("Moving slot 99 from"), "{r:?}");
    wait_check(&addr);
    let after = master_ids(&c.nodes[2]);
    let to_now = after.iter().find(|m| m.0 == to.0).unwrap();
    assert!(to_now.2.starts_with("0-99 "), "{after:?}");
    assert_same_data(&c.nodes, &data);

    // add-node then del-node
    let new_addr = c.add_node().addr();
    cli_ok(&["--cluster", "add-node", &new_addr, &addr]);
    wait_for("every node to know the new one", || {
        c.nodes.iter().all(|n| known_nodes(n) == 4)
    });
    wait_check(&addr);
    let new_id = c.nodes[3].myid();
    cli_ok(&["--cluster", "del-node", &addr, &new_id]);
    wait_for("the deleted node to be forgotten", || {
        c.nodes[..3].iter().all(|n| known_nodes(n) == 3)
    });
    check(&addr);

    // a slot left half-migrated by hand, then `fix`
    let src = c.nodes.iter().find(|n| n.port == to.1).unwrap();
    let dst = c.nodes.iter().find(|n| n.port == from.1).unwrap();
    src.cmd(&["CLUSTER", "SETSLOT", "50", "MIGRATING", &from.0])
        .unwrap();
    dst.cmd(&["CLUSTER", "SETSLOT", "50", "IMPORTING", &to.0])
        .unwrap();
    let open = redis_cli(&["--cluster", "check", &addr]);
    assert!(open.stdout.contains("in migrating state"), "{open:?}");
    let fixed = redis_cli(&["--cluster", "fix", &addr]);
    assert_eq!(fixed.code, 0, "{fixed:?}");
    wait_check(&addr);
    assert_same_data(&c.nodes[..3], &data);
}

/// 3 redis-server + 3 trib-node masters in one cluster, created by redis-cli; `check` passes
/// from either side; slots with keys move trib-node → redis-server and back with nothing lost.
#[test]
fn mixed_cluster_with_real_redis_survives_reshards_both_ways() {
    if !require_redis_cli() || !crate::harness::require_redis() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let mut nodes: Vec<Node> = Vec::new();
    for i in 0..6 {
        let backend = if i % 2 == 0 {
            Backend::Redis
        } else {
            Backend::TribNode
        };
        nodes.push(Node::start(backend, true, &[], root.path()));
    }
    let addrs: Vec<String> = nodes.iter().map(|n| n.addr()).collect();
    let mut args: Vec<&str> = vec!["--cluster", "create"];
    args.extend(addrs.iter().map(|s| s.as_str()));
    args.extend(["--cluster-replicas", "0", "--cluster-yes"]);
    cli_ok(&args);
    let redis_addr = nodes[0].addr();
    let trib_addr = nodes[1].addr();
    wait_check(&redis_addr);
    wait_check(&trib_addr);
    wait_for("cluster_state:ok everywhere", || {
        nodes.iter().all(|n| {
            n.cmd_string(&["CLUSTER", "INFO"])
                .contains("cluster_state:ok")
        })
    });
    let data = fill(&nodes, 600);
    let masters = master_ids(&nodes[0]);
    // nodes[1] is a trib-node, nodes[0] a redis-server
    let trib = masters
        .iter()
        .find(|m| m.1 == nodes[1].port)
        .unwrap()
        .clone();
    let real = masters
        .iter()
        .find(|m| m.1 == nodes[0].port)
        .unwrap()
        .clone();
    for (from, to, entry) in [(&trib, &real, &redis_addr), (&real, &trib, &trib_addr)] {
        let r = cli_ok(&[
            "--cluster",
            "reshard",
            entry,
            "--cluster-from",
            &from.0,
            "--cluster-to",
            &to.0,
            "--cluster-slots",
            "200",
            "--cluster-yes",
        ]);
        assert!(r.stdout.contains("Moving slot"), "{r:?}");
        wait_check(&redis_addr);
        wait_check(&trib_addr);
        assert_same_data(&nodes, &data);
    }
}

/// A trib-node killed and restarted from its nodes.conf comes back with the same id, slots
/// and epoch, and the cluster agrees again.
#[test]
fn trib_node_restarts_from_nodes_conf() {
    if !require_redis_cli() {
        return;
    }
    let mut c = Cluster::start(Backend::TribNode, 3);
    assert!(c.create_with_redis_cli(0));
    let before = c.nodes[1].cmd_string(&["CLUSTER", "NODES"]);
    let me_before = before
        .lines()
        .find(|l| l.contains("myself"))
        .unwrap()
        .to_string();
    let id = c.nodes[1].myid();
    c.nodes[1].restart(true);
    assert_eq!(c.nodes[1].myid(), id);
    let after = c.nodes[1].cmd_string(&["CLUSTER", "NODES"]);
    let me_after = after
        .lines()
        .find(|l| l.contains("myself"))
        .unwrap()
        .to_string();
    let strip = |l: &str| {
        let f: Vec<&str> = l.split(' ').collect();
        format!("{} {} {} {}", f[0], f[1], f[6], f[8..].join(" "))
    };
    assert_eq!(strip(&me_after), strip(&me_before));
    c.wait_agree(Duration::from_secs(30));
    wait_check(&c.nodes[0].addr());
}
