//! `trib import` end to end: keys of every type (TTLs, binary names, big values) copied and
//! moved from a standalone redis-server and a standalone trib-node into trib-node and
//! redis-server clusters; keys that already exist skipped by name and never overwritten
//! (unless --replace), for moves and copies; the source's and the cluster's passwords each
//! used where they belong and never printed; a bad source refused before anything changes;
//! the redis-cli spelling.

use std::collections::HashMap;
use std::time::Instant;

use redis::Value;

use crate::cli_support::{fill_standalone, set_key, typed_content};
use crate::harness::{backends_with_cluster, free_port, trib, Backend, Cluster, Node, Run};
use crate::migrate_support::Router;

/// Each key's content and PTTL.
type Snap = HashMap<Vec<u8>, (Vec<Vec<u8>>, i64)>;

fn pttl(mut run: impl FnMut(redis::Cmd) -> Value, key: &[u8]) -> i64 {
    redis::from_redis_value(&run(redis::cmd("PTTL").arg(key).clone())).unwrap()
}

fn snap_node(node: &Node, keys: &[Vec<u8>]) -> Snap {
    let mut c = node.client();
    let mut run = |cmd: redis::Cmd| cmd.query::<Value>(&mut c).unwrap();
    keys.iter()
        .map(|k| (k.clone(), (typed_content(&mut run, k), pttl(&mut run, k))))
        .collect()
}

fn snap_cluster(cluster: &Cluster, keys: &[Vec<u8>]) -> Snap {
    let mut r = Router::new(cluster);
    keys.iter()
        .map(|k| {
            let mut run = |cmd: redis::Cmd| r.run(k, &cmd).unwrap();
            let content = typed_content(&mut run, k);
            (k.clone(), (content, pttl(&mut run, k)))
        })
        .collect()
}

/// Same content everywhere; a TTL kept (shortened by at most the time between the snapshots),
/// no TTL gained.
fn assert_same(before: &Snap, after: &Snap, between_ms: i64) {
    assert_eq!(before.len(), after.len());
    for (k, (content, ttl)) in before {
        let name = String::from_utf8_lossy(k);
        let (content2, ttl2) = &after[k];
        assert_eq!(content, content2, "content of {name:?}");
        if *ttl < 0 {
            assert_eq!(*ttl2, -1, "{name:?} gained a TTL");
        } else {
            assert!(
                *ttl2 > 0 && *ttl2 <= *ttl && *ttl2 >= *ttl - between_ms - 1000,
                "TTL of {name:?}: {ttl} before, {ttl2} after {between_ms} ms"
            );
        }
    }
}

fn dbsize(node: &Node) -> i64 {
    redis::from_redis_value(&node.cmd(&["DBSIZE"]).unwrap()).unwrap()
}

fn cluster_keys(cluster: &Cluster) -> i64 {
    cluster.nodes.iter().map(dbsize).sum()
}

/// A 3-master cluster of `cluster` created by redis-cli, and a standalone `source` node with
/// `extra` settings (`None` when redis-cli is missing outside CI).
fn cluster_and_source(
    cluster: Backend,
    source: Backend,
    extra: &[(&str, &str)],
) -> Option<(Cluster, Node)> {
    let c = Cluster::start(cluster, 3);
    if !c.create_with_redis_cli(0) {
        return None;
    }
    let s = Node::start(source, false, extra, c.root.path());
    Some((c, s))
}

/// SETs `prefix:i` to `i` for every i below `n`.
fn set_numbered(c: &mut redis::Connection, prefix: &str, n: usize) {
    for i in 0..n {
        redis::cmd("SET")
            .arg(format!("{prefix}:{i}"))
            .arg(i)
            .query::<()>(c)
            .unwrap();
    }
}

/// The summary line's counts: `[OK] Imported from ...: N keys moved, S skipped, F failed`.
fn assert_summary(run: &Run, verb: &str, imported: usize, skipped: usize) {
    let want = format!("{imported} keys {verb}, {skipped} skipped, 0 failed");
    assert!(
        run.stdout.contains("[OK] Imported from") && run.stdout.contains(&want),
        "expected {want:?}: {run:?}"
    );
}

#[test]
fn every_type_is_copied_then_moved_with_its_ttl() {
    for cluster_backend in backends_with_cluster() {
        for source_backend in Backend::all() {
            let Some((cluster, source)) = cluster_and_source(cluster_backend, source_backend, &[])
            else {
                return;
            };
            let keys = fill_standalone(&mut source.client(), 40);
            let t0 = Instant::now();
            let before = snap_node(&source, &keys);
            let entry = cluster.nodes[0].addr();
            let from = source.addr();
            let what = format!("{} into {}", source_backend.name(), cluster_backend.name());

            let run = trib(&["import", &entry, "--from", &from, "--copy"], None);
            assert_eq!(run.code, 0, "{what}: {run:?}");
            assert_summary(&run, "copied", keys.len(), 0);
            assert!(
                run.stdout
                    .contains(&format!("*** Importing {} keys from DB 0", keys.len())),
                "{what}: {run:?}"
            );
            assert_eq!(dbsize(&source) as usize, keys.len(), "{what}: copy kept");
            assert_eq!(cluster_keys(&cluster) as usize, keys.len(), "{what}");
            let ms = t0.elapsed().as_millis() as i64;
            assert_same(&before, &snap_cluster(&cluster, &keys), ms);

            // move, overwriting the copies: the source ends empty, small batches
            let run = trib(
                &[
                    "import",
                    &entry,
                    "--from",
                    &from,
                    "--replace",
                    "--pipeline",
                    "7",
                ],
                None,
            );
            assert_eq!(run.code, 0, "{what}: {run:?}");
            assert_summary(&run, "moved", keys.len(), 0);
            assert_eq!(dbsize(&source), 0, "{what}: moved");
            assert_eq!(cluster_keys(&cluster) as usize, keys.len(), "{what}");
            let ms = t0.elapsed().as_millis() as i64;
            assert_same(&before, &snap_cluster(&cluster, &keys), ms);
            let run = trib(&["check", &entry], None);
            assert_eq!(run.code, 0, "{what}: {run:?}");
        }
    }
}

fn get(cluster: &Cluster, key: &str) -> Option<String> {
    let mut r = Router::new(cluster);
    redis::from_redis_value(&r.run(key.as_bytes(), redis::cmd("GET").arg(key)).unwrap()).unwrap()
}

fn source_keys(source: &Node) -> Vec<String> {
    let mut keys: Vec<String> =
        redis::from_redis_value(&source.cmd(&["KEYS", "*"]).unwrap()).unwrap();
    keys.sort();
    keys
}

fn json_of(run: &Run) -> serde_json::Value {
    let last = run.stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {run:?}"))
}

#[test]
fn existing_keys_are_skipped_by_name_and_never_overwritten() {
    for backend in backends_with_cluster() {
        let Some((cluster, source)) = cluster_and_source(backend, backend, &[]) else {
            return;
        };
        let mut c = source.client();
        set_numbered(&mut c, "k", 300);
        let clash: Vec<String> = (0..5).map(|i| format!("clash:{i}")).collect();
        let reset_cluster = || {
            for n in &cluster.nodes {
                n.cmd(&["FLUSHALL"]).unwrap();
            }
            for k in &clash {
                set_key(&cluster, k, "on-cluster");
            }
        };
        for k in &clash {
            redis::cmd("SET")
                .arg(k)
                .arg("from-source")
                .query::<()>(&mut c)
                .unwrap();
        }
        reset_cluster();
        let entry = cluster.nodes[0].addr();
        let from = source.addr();

        // --copy: the source keeps every key, so the skipped ones are told before the MIGRATE
        let run = trib(
            &[
                "import",
                &entry,
                "--from",
                &from,
                "--copy",
                "--pipeline",
                "7",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
        assert_summary(&run, "copied", 300, 5);
        assert!(
            run.stdout
                .contains("[WARNING] 5 keys already exist in the cluster and were not overwritten"),
            "{run:?}"
        );
        for k in &clash {
            assert!(run.stdout.contains(k.as_str()), "{k} not named: {run:?}");
            assert_eq!(get(&cluster, k).as_deref(), Some("on-cluster"));
        }
        assert_eq!(dbsize(&source), 305);
        assert_eq!(cluster_keys(&cluster), 305);

        // move: BUSYKEY batches (7 keys each) migrate their other keys; exactly the 5 stay
        reset_cluster();
        let run = trib(
            &[
                "import",
                &entry,
                "--from",
                &from,
                "--pipeline",
                "7",
                "--json",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
        let doc = json_of(&run);
        assert_eq!(doc["ok"], true, "{run:?}");
        assert_eq!(doc["imported"], 300, "{run:?}");
        assert_eq!(doc["skipped"], 5, "{run:?}");
        assert_eq!(doc["failed"], 0, "{run:?}");
        let mut named: Vec<String> = doc["skipped_keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        named.sort();
        assert_eq!(named, clash);
        assert_eq!(source_keys(&source), clash, "only the skipped keys stay");
        for k in &clash {
            assert_eq!(get(&cluster, k).as_deref(), Some("on-cluster"));
        }
        assert_eq!(get(&cluster, "k:17").as_deref(), Some("17"));

        // --replace: the source's values win
        let run = trib(&["import", &entry, "--from", &from, "--replace"], None);
        assert_eq!(run.code, 0, "{run:?}");
        assert_summary(&run, "moved", 5, 0);
        assert_eq!(dbsize(&source), 0);
        for k in &clash {
            assert_eq!(get(&cluster, k).as_deref(), Some("from-source"));
        }
        assert_eq!(cluster_keys(&cluster), 305);
    }
}

/// A connection with a password.
fn authed(addr: &str, user: &str, pass: &str) -> redis::Connection {
    redis::Client::open(format!("redis://{user}:{pass}@{addr}/"))
        .unwrap()
        .get_connection()
        .unwrap()
}

#[test]
fn a_bad_source_or_cluster_is_refused_and_nothing_changes() {
    for backend in backends_with_cluster() {
        let pass = [("requirepass", "Src-Pw-1")];
        let Some((cluster, source)) = cluster_and_source(backend, backend, &pass) else {
            return;
        };
        let mut c = authed(&source.addr(), "", "Src-Pw-1");
        set_numbered(&mut c, "k", 50);
        let entry = cluster.nodes[0].addr();
        let from = source.addr();
        let node1 = cluster.nodes[1].addr();
        let dead = format!("127.0.0.1:{}", free_port());
        let one_error = |args: &[&str], code: i32, says: &str| {
            let run = trib(args, None);
            assert_eq!(run.code, code, "{args:?}: {run:?}");
            assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {run:?}");
            assert!(
                run.stderr.contains(says),
                "{args:?}: want {says:?}: {run:?}"
            );
            assert!(!run.stdout.contains("Src-Pw-1") && !run.stderr.contains("Bad-Pw-2"));
        };
        one_error(
            &["import", &entry, "--from", &node1],
            1,
            &format!("The source node {node1} should not be a cluster node"),
        );
        one_error(
            &["import", &entry, "--from", &dead],
            1,
            &format!("Could not connect to Redis at {dead}"),
        );
        one_error(
            &["import", &entry, "--from", &from, "--from-pass", "Bad-Pw-2"],
            1,
            "AUTH failed: WRONGPASS",
        );
        one_error(&["import", &entry, "--from", &from], 1, "NOAUTH");
        one_error(&["import", &entry, "--from", "nohost"], 2, "nohost");
        one_error(
            &["import", &dead, "--from", &from, "--from-pass", "Src-Pw-1"],
            1,
            "Could not connect",
        );
        one_error(
            &["import", &entry, "--from", &from, "--pipeline", "0"],
            2,
            "--pipeline",
        );

        // an open slot: refused like reshard refuses it
        let owner = crate::cli_support::owner_of(&cluster, 0);
        let other = cluster.nodes[(owner + 1) % 3].myid();
        cluster.nodes[owner]
            .cmd(&["CLUSTER", "SETSLOT", "0", "MIGRATING", &other])
            .unwrap();
        let run = trib(
            &["import", &entry, "--from", &from, "--from-pass", "Src-Pw-1"],
            None,
        );
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains("Please fix your cluster problems"),
            "{run:?}"
        );
        assert!(!run.stdout.contains("Src-Pw-1") && !run.stderr.contains("Src-Pw-1"));
        cluster.nodes[owner]
            .cmd(&["CLUSTER", "SETSLOT", "0", "STABLE"])
            .unwrap();

        let left: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
        assert_eq!(left, 50, "the source was changed");
        assert_eq!(cluster_keys(&cluster), 0, "the cluster was changed");

        let run = trib(
            &["import", &entry, "--from", &from, "--from-pass", "Src-Pw-1"],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
        assert_summary(&run, "moved", 50, 0);
        assert!(!run.stdout.contains("Src-Pw-1") && !run.stderr.contains("Src-Pw-1"));
    }
}

#[test]
fn source_and_cluster_passwords_each_go_where_they_belong() {
    for backend in backends_with_cluster() {
        let auth = [("requirepass", "Cl-Pw-1"), ("masterauth", "Cl-Pw-1")];
        let cluster = Cluster::start_with(backend, 3, &auth);
        let mut create: Vec<String> = vec![
            "-a".into(),
            "Cl-Pw-1".into(),
            "--no-auth-warning".into(),
            "create".into(),
        ];
        create.extend(cluster.addrs());
        create.push("--yes".into());
        let create: Vec<&str> = create.iter().map(String::as_str).collect();
        let run = trib(&create, None);
        assert_eq!(run.code, 0, "{run:?}");
        let source = Node::start(
            backend,
            false,
            &[("requirepass", "Src-Pw-2")],
            cluster.root.path(),
        );
        let mut src = authed(&source.addr(), "", "Src-Pw-2");
        set_numbered(&mut src, "a", 100);
        let entry = cluster.nodes[0].addr();
        let from = source.addr();
        let no_password = |run: &Run| {
            for pw in ["Cl-Pw-1", "Src-Pw-2"] {
                assert!(
                    !run.stdout.contains(pw) && !run.stderr.contains(pw),
                    "{pw} shown: {run:?}"
                );
            }
        };
        let total = || -> i64 {
            cluster
                .nodes
                .iter()
                .map(|n| {
                    redis::cmd("DBSIZE")
                        .query::<i64>(&mut authed(&n.addr(), "", "Cl-Pw-1"))
                        .unwrap()
                })
                .sum()
        };

        // MIGRATE ... AUTH <cluster password>; the source logged in with its own
        let run = trib(
            &[
                "-a",
                "Cl-Pw-1",
                "--no-auth-warning",
                "import",
                &entry,
                "--from",
                &from,
                "--from-pass",
                "Src-Pw-2",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
        assert_summary(&run, "moved", 100, 0);
        no_password(&run);
        assert_eq!(total(), 100);

        // AUTH2 with the users (redis-cli spelling; --json)
        set_numbered(&mut src, "b", 100);
        let run = trib(
            &[
                "--user",
                "default",
                "-a",
                "Cl-Pw-1",
                "--no-auth-warning",
                "--json",
                "--cluster",
                "import",
                &entry,
                "--cluster-from",
                &from,
                "--cluster-from-user",
                "default",
                "--cluster-from-pass",
                "Src-Pw-2",
                "--cluster-copy",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
        no_password(&run);
        let doc = json_of(&run);
        assert_eq!(
            (doc["ok"].clone(), doc["imported"].clone()),
            (true.into(), 100.into()),
            "{run:?}"
        );
        assert_eq!(total(), 200);
        let left: i64 = redis::cmd("DBSIZE").query(&mut src).unwrap();
        assert_eq!(left, 100, "--cluster-copy kept the source's keys");
    }
}

#[test]
fn redis_cli_spelling_imports_with_its_chatter_on_stdout() {
    for backend in backends_with_cluster() {
        let Some((cluster, source)) = cluster_and_source(backend, backend, &[]) else {
            return;
        };
        let keys = fill_standalone(&mut source.client(), 10);
        set_key(&cluster, "str:3", "kept");
        let entry = cluster.nodes[0].addr();
        let from = source.addr();
        let import = |flag: &str| {
            let words = ["--cluster", "import", &entry, "--cluster-from", &from, flag];
            trib(&words, None)
        };
        let run = import("--cluster-copy");
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(run.stderr, "", "{run:?}");
        assert!(
            run.stdout.starts_with(&format!(
                ">>> Importing data from {} to cluster {entry}\n",
                source.addr()
            )),
            "{run:?}"
        );
        assert!(
            run.stdout.contains("[OK] All 16384 slots covered."),
            "{run:?}"
        );
        assert_summary(&run, "copied", keys.len() - 1, 1);
        assert!(run.stdout.contains("str:3"), "{run:?}");
        assert_eq!(get(&cluster, "str:3").as_deref(), Some("kept"));

        let run = import("--cluster-replace");
        assert_eq!(run.code, 0, "{run:?}");
        assert_summary(&run, "moved", keys.len(), 0);
        assert_eq!(dbsize(&source), 0);
        assert_eq!(get(&cluster, "str:3").as_deref(), Some("v3"));
    }
}
