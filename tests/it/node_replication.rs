//! trib-node replication against real redis-server in both directions: a real replica of a
//! trib-node master, a trib-node replica of a trib-node or real master (full sync of every
//! value type, the live stream, a link drop continued with PSYNC, REPLICAOF NO ONE), the
//! `replicaof`/`masterauth` directives, and cluster mode driven by the real
//! `redis-cli --cluster add-node --cluster-slave` and `del-node`. Data is compared by content.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use redis::Value;

use crate::harness::{require_redis, require_redis_cli, run_program, trib, Backend, Cluster, Node};

/// Key -> (type, content, has a TTL).
type Content = BTreeMap<Vec<u8>, (String, Vec<Vec<u8>>, bool)>;

/// Every key of a node with its type, a canonical rendering of its content, and whether it
/// has a TTL. `readonly`: send READONLY first (a cluster replica serves reads only then).
fn content(node: &Node, readonly: bool) -> Content {
    let mut c = node.client();
    if readonly {
        let _: redis::RedisResult<Value> = redis::cmd("READONLY").query(&mut c);
    }
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
    let mut out = BTreeMap::new();
    for k in keys {
        let ty: String = redis::cmd("TYPE").arg(&k).query(&mut c).unwrap();
        let mut items: Vec<Vec<u8>> = match ty.as_str() {
            "string" => vec![redis::cmd("GET").arg(&k).query(&mut c).unwrap()],
            "list" => redis::cmd("LRANGE")
                .arg(&k)
                .arg(0)
                .arg(-1)
                .query(&mut c)
                .unwrap(),
            "set" => redis::cmd("SMEMBERS").arg(&k).query(&mut c).unwrap(),
            "hash" => {
                let m: Vec<(Vec<u8>, Vec<u8>)> =
                    redis::cmd("HGETALL").arg(&k).query(&mut c).unwrap();
                m.into_iter()
                    .map(|(f, v)| [f, b"=".to_vec(), v].concat())
                    .collect()
            }
            "zset" => {
                let m: Vec<(Vec<u8>, Vec<u8>)> = redis::cmd("ZRANGE")
                    .arg(&k)
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES")
                    .query(&mut c)
                    .unwrap();
                m.into_iter()
                    .map(|(f, v)| [f, b"=".to_vec(), v].concat())
                    .collect()
            }
            "none" => continue,
            other => panic!("unexpected type {other}"),
        };
        if ty == "set" || ty == "hash" {
            items.sort();
        }
        let ttl: i64 = redis::cmd("PTTL").arg(&k).query(&mut c).unwrap();
        out.insert(k, (ty, items, ttl > 0));
    }
    out
}

/// Waits (bounded: 20 s) until `replica` holds exactly what `master` holds.
fn wait_same(master: &Node, replica: &Node, readonly: bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (m, r) = (content(master, false), content(replica, readonly));
        if m == r && !m.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            let missing: Vec<_> = m
                .keys()
                .filter(|k| r.get(*k) != m.get(*k))
                .take(5)
                .collect();
            panic!(
                "{} ({}) does not hold {}'s data ({} vs {} keys); differing: {missing:?}",
                replica.addr(),
                replica.backend.name(),
                master.addr(),
                r.len(),
                m.len()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn run(node: &Node, args: &[&str]) -> Value {
    node.cmd(args)
        .unwrap_or_else(|e| panic!("{} {args:?}: {e}", node.addr()))
}

/// Every value type in small and large encodings, binary data, TTLs.
fn fill(node: &Node) {
    let mut c = node.client();
    let big: Vec<String> = (0..700).map(|i| format!("m{i}")).collect();
    let q = |cmd: &mut redis::Cmd, c: &mut redis::Connection| {
        let _: Value = cmd.query(c).unwrap();
    };
    q(redis::cmd("SET").arg("s:plain").arg("v"), &mut c);
    q(redis::cmd("SET").arg("s:int").arg("12345"), &mut c);
    q(
        redis::cmd("SET").arg(b"s:bin\x00\xff").arg(b"\x00\x01\xfe"),
        &mut c,
    );
    q(
        redis::cmd("SET").arg("s:ttl").arg("t").arg("EX").arg(1000),
        &mut c,
    );
    q(
        redis::cmd("SET").arg("s:long").arg("x".repeat(5000)),
        &mut c,
    );
    q(
        redis::cmd("RPUSH").arg("l:small").arg(&["a", "b", "1"]),
        &mut c,
    );
    q(redis::cmd("RPUSH").arg("l:big").arg(&big), &mut c);
    q(
        redis::cmd("HSET").arg("h:small").arg(&["f", "v", "n", "1"]),
        &mut c,
    );
    let pairs: Vec<String> = big
        .iter()
        .flat_map(|m| [m.clone(), format!("v-{m}")])
        .collect();
    q(redis::cmd("HSET").arg("h:big").arg(&pairs), &mut c);
    q(
        redis::cmd("SADD").arg("set:int").arg(&["1", "2", "300000"]),
        &mut c,
    );
    q(redis::cmd("SADD").arg("set:str").arg(&["a", "b"]), &mut c);
    q(redis::cmd("SADD").arg("set:big").arg(&big), &mut c);
    q(
        redis::cmd("ZADD")
            .arg("z:small")
            .arg(&["1.5", "a", "-2", "b"]),
        &mut c,
    );
    let scored: Vec<String> = big
        .iter()
        .enumerate()
        .flat_map(|(i, m)| [format!("{}.25", i), m.clone()])
        .collect();
    q(redis::cmd("ZADD").arg("z:big").arg(&scored), &mut c);
    q(redis::cmd("EXPIRE").arg("h:small").arg(5000), &mut c);
}

/// Writes after the sync, including the ones a master must rewrite for its stream.
fn live_writes(node: &Node, round: &str) {
    let k = |s: &str| format!("{s}:{round}");
    run(node, &["SET", &k("live"), "1"]);
    run(node, &["SET", &k("live:ex"), "v", "EX", "900"]);
    run(node, &["SETEX", &k("live:setex"), "900", "v"]);
    run(node, &["INCRBYFLOAT", &k("live:float"), "1.25"]);
    run(node, &["RPUSH", &k("live:list"), "a", "b", "c"]);
    run(node, &["LPOP", &k("live:list")]);
    run(node, &["SADD", &k("live:set"), "a", "b", "c", "d"]);
    run(node, &["SPOP", &k("live:set")]);
    run(node, &["HINCRBY", "h:small", "n", "5"]);
    run(node, &["ZINCRBY", "z:small", "3", "a"]);
    run(node, &["EXPIRE", "s:plain", "800"]);
    run(node, &["DEL", "l:small"]);
    run(node, &["SET", &k("live:gone"), "v", "PX", "1"]);
    run(node, &["RPUSH", &k("live:bl"), "x", "y", "z"]);
    run(node, &["BLPOP", &k("live:bl"), "1"]);
    let mut c = node.client();
    let _: Value = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg(k("live:tx"))
        .arg("1")
        .cmd("INCRBY")
        .arg(k("live:tx"))
        .arg(4)
        .cmd("BLPOP")
        .arg(k("live:bl"))
        .arg(0)
        .cmd("PEXPIRE")
        .arg(k("live:tx"))
        .arg(900_000)
        .query(&mut c)
        .unwrap();
}

fn info(node: &Node, section: &str) -> String {
    node.cmd_string(&["INFO", section])
}

fn field(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in\n{info}"))
        .trim()
        .to_string()
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A real redis-server master starts its diskless transfer at once (not after 5 s).
fn master_settings(backend: Backend) -> Vec<(&'static str, &'static str)> {
    match backend {
        Backend::Redis => vec![("repl-diskless-sync-delay", "0")],
        Backend::TribNode => vec![],
    }
}

#[test]
fn real_replica_of_a_trib_node_master_gets_its_data_and_stream() {
    if !require_redis() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let master = Node::start(Backend::TribNode, false, &[], root.path());
    fill(&master);
    let replicaof = format!("127.0.0.1 {}", master.port);
    let replica = Node::start(
        Backend::Redis,
        false,
        &[("replicaof", &replicaof)],
        root.path(),
    );
    wait_same(&master, &replica, false);
    live_writes(&master, "1");
    let acked = run(&master, &["WAIT", "1", "5000"]);
    assert_eq!(acked, Value::Int(1));
    wait_same(&master, &replica, false);
    let m = info(&master, "replication");
    assert_eq!(field(&m, "role"), "master");
    assert_eq!(field(&m, "connected_slaves"), "1");
    let slave0 = field(&m, "slave0");
    assert!(
        slave0.starts_with(&format!(
            "ip=127.0.0.1,port={},state=online,offset=",
            replica.port
        )),
        "{slave0}"
    );
    assert_eq!(field(&m, "repl_backlog_active"), "1");
    let r = info(&replica, "replication");
    assert_eq!(field(&r, "master_link_status"), "up");
    assert_eq!(field(&r, "master_replid"), field(&m, "master_replid"));
}

#[test]
fn trib_node_replica_follows_either_master_and_continues_after_a_link_drop() {
    for backend in Backend::all() {
        let root = tempfile::tempdir().unwrap();
        let master = Node::start(backend, false, &master_settings(backend), root.path());
        fill(&master);
        let replica = Node::start(Backend::TribNode, false, &[], root.path());
        let port = master.port.to_string();
        run(&replica, &["REPLICAOF", "127.0.0.1", &port]);
        wait_same(&master, &replica, false);
        let r = info(&replica, "replication");
        assert_eq!(field(&r, "role"), "slave", "{}", backend.name());
        assert_eq!(field(&r, "master_port"), port);
        wait_until("the link to be up", Duration::from_secs(10), || {
            field(&info(&replica, "replication"), "master_link_status") == "up"
        });
        let role = run(&replica, &["ROLE"]);
        let Value::Array(parts) = role else {
            panic!("ROLE: {role:?}")
        };
        assert_eq!(parts[0], Value::BulkString(b"slave".to_vec()));
        assert_eq!(parts[3], Value::BulkString(b"connected".to_vec()));
        let err = replica.cmd(&["SET", "x", "1"]).unwrap_err();
        assert_eq!(err.code(), Some("READONLY"), "{err}");

        live_writes(&master, "1");
        wait_same(&master, &replica, false);
        assert_eq!(run(&master, &["WAIT", "1", "5000"]), Value::Int(1));

        // The master drops the link; the replica comes back with PSYNC and continues.
        run(&master, &["CLIENT", "KILL", "TYPE", "replica"]);
        live_writes(&master, "2");
        wait_same(&master, &replica, false);
        wait_until("a partial resync", Duration::from_secs(10), || {
            replica
                .logs()
                .contains("Successful partial resynchronization")
        });
        assert_eq!(replica.logs().matches("Full resync from master").count(), 1);
        let (m, r) = (info(&master, "replication"), info(&replica, "replication"));
        assert_eq!(field(&r, "master_replid"), field(&m, "master_replid"));

        // REPLICAOF NO ONE: a master again, with the data, a new id and the old one as replid2.
        let old_id = field(&r, "master_replid");
        run(&replica, &["REPLICAOF", "NO", "ONE"]);
        let r = info(&replica, "replication");
        assert_eq!(field(&r, "role"), "master");
        assert_eq!(field(&r, "master_replid2"), old_id);
        assert_ne!(field(&r, "master_replid"), old_id);
        run(&replica, &["SET", "x", "1"]);
    }
}

#[test]
fn replicaof_and_masterauth_directives() {
    for backend in Backend::all() {
        let root = tempfile::tempdir().unwrap();
        let mut settings = master_settings(backend);
        settings.push(("requirepass", "s3cret"));
        let master = Node::start(backend, false, &settings, root.path());
        let mut c = master.client();
        let _: Value = redis::cmd("AUTH").arg("s3cret").query(&mut c).unwrap();
        let _: Value = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
        let replicaof = format!("127.0.0.1 {}", master.port);
        let replica = Node::start(
            Backend::TribNode,
            false,
            &[("replicaof", &replicaof), ("masterauth", "s3cret")],
            root.path(),
        );
        wait_until("the replica to load k", Duration::from_secs(20), || {
            replica.cmd(&["GET", "k"]).ok() == Some(Value::BulkString(b"v".to_vec()))
        });
        let _: Value = redis::cmd("SET").arg("k2").arg("v2").query(&mut c).unwrap();
        wait_until("the stream to bring k2", Duration::from_secs(20), || {
            replica.cmd(&["GET", "k2"]).ok() == Some(Value::BulkString(b"v2".to_vec()))
        });
    }
}

fn redis_cli(args: &[&str]) -> crate::harness::Run {
    run_program("redis-cli", args, None, &[])
}

/// Keys written straight to one master (those of its slots), so its replica must hold them.
fn fill_master(node: &Node, n: usize) -> usize {
    let mut written = 0;
    for i in 0..n {
        let key = format!("key:{i}");
        match node.cmd(&["RPUSH", &key, "a", &format!("v{i}")]) {
            Ok(_) => written += 1,
            Err(e) if e.code() == Some("MOVED") => {}
            Err(e) => panic!("RPUSH {key}: {e}"),
        }
    }
    written
}

/// `trib check` is clean (bounded wait: gossip may still be spreading the last change) and
/// does not list `gone`.
fn check_clean(entry: &str, gone: Option<&str>) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let check = trib(&["check", entry], None);
        let listed = gone.is_some_and(|id| check.stdout.contains(id));
        if check.code == 0 && !listed {
            return;
        }
        assert!(Instant::now() < deadline, "trib check not clean: {check:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn redis_cli_add_node_cluster_slave_then_del_node() {
    for backend in Backend::all() {
        if !require_redis_cli() {
            return;
        }
        let mut cluster = Cluster::start(backend, 3);
        assert!(cluster.create_with_redis_cli(0));
        assert!(fill_master(&cluster.nodes[0], 300) > 20);
        let master_id = cluster.nodes[0].myid();
        let existing = cluster.nodes[0].addr();
        cluster.add_node();
        let new = cluster.nodes.last().unwrap();
        let out = redis_cli(&[
            "--cluster",
            "add-node",
            &new.addr(),
            &existing,
            "--cluster-slave",
            "--cluster-master-id",
            &master_id,
        ]);
        assert_eq!(out.code, 0, "{out:?}");
        wait_until("the replica link", Duration::from_secs(30), || {
            let i = info(new, "replication");
            i.contains("role:slave") && i.contains("master_link_status:up")
        });
        wait_same(&cluster.nodes[0], new, true);
        // The replica redirects a plain read and refuses key-less writes.
        let err = new.cmd(&["GET", "key:0"]).unwrap_err();
        assert_eq!(err.code(), Some("MOVED"), "{err}");
        fill_master(&cluster.nodes[0], 320);
        wait_same(&cluster.nodes[0], new, true);
        check_clean(&existing, None);

        let new_id = new.myid();
        // redis-cli's del-node fails on a node that has not heard of the replica yet.
        wait_until(
            "every node to know the replica",
            Duration::from_secs(20),
            || {
                cluster
                    .nodes
                    .iter()
                    .all(|n| n.cmd_string(&["CLUSTER", "NODES"]).contains(&new_id))
            },
        );
        let out = redis_cli(&["--cluster", "del-node", &existing, &new_id]);
        assert_eq!(out.code, 0, "{out:?}");
        check_clean(&existing, Some(&new_id));
    }
}
