//! `trib check` and `trib info` as a user runs them, against clusters built by the real
//! redis-cli: exact output (ids and ports redacted), --json, and exit 1 naming each problem
//! (open slot, keys on a non-owner, uncovered slot, disagreeing node, unreachable master),
//! plus entry-node errors (refused, not cluster mode, auth).

use std::time::Duration;

use crate::cli_support::{eventually, load_keys, owner_of, redact};
use crate::harness::{backends_with_cluster, trib, trib_env, Cluster, Node};

const HEALTHY_CHECK: &str = "\
n0 (<id0>...) -> 100 keys | 5461 slots | 1 slaves.
n1 (<id1>...) -> 92 keys | 5462 slots | 1 slaves.
n2 (<id2>...) -> 108 keys | 5461 slots | 1 slaves.
[OK] 300 keys in 3 masters.
0.02 keys per slot on average.
>>> Performing Cluster Check (using node n0)
M: <id0> n0
   slots:[0-5460] (5461 slots) master
   1 additional replica(s)
M: <id1> n1
   slots:[5461-10922] (5462 slots) master
   1 additional replica(s)
M: <id2> n2
   slots:[10923-16383] (5461 slots) master
   1 additional replica(s)
S: <id3> n3
   slots: (0 slots) slave
   replicates <m>
S: <id4> n4
   slots: (0 slots) slave
   replicates <m>
S: <id5> n5
   slots: (0 slots) slave
   replicates <m>
[OK] All nodes agree about slots configuration.
>>> Check for open slots...
>>> Check slots coverage...
[OK] All 16384 slots covered.
";

fn masters_hidden(s: String) -> String {
    (0..6).fold(s, |s, i| {
        s.replace(&format!("replicates <id{i}>"), "replicates <m>")
    })
}

#[test]
fn check_and_info_on_a_healthy_cluster_match_redis_cli() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 6);
        if !cluster.create_with_redis_cli(1) {
            return;
        }
        load_keys(&cluster, 300);
        let entry = cluster.nodes[0].addr();
        let run = trib(&["check", &entry], None);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(
            masters_hidden(redact(&run.stdout, &cluster)),
            HEALTHY_CHECK,
            "{run:?}"
        );
        assert_eq!(run.stderr, "");

        // The same text as the real redis-cli, line for line (modulo colours and order).
        let rc =
            crate::harness::run_program("redis-cli", &["--cluster", "check", &entry], None, &[]);
        assert_eq!(redact(&rc.stdout, &cluster), redact(&run.stdout, &cluster));

        // "host port" form and --cluster spelling, with the multiple-owners search.
        let port = cluster.nodes[0].port.to_string();
        let run = trib(
            &[
                "--cluster",
                "check",
                "127.0.0.1",
                &port,
                "--cluster-search-multiple-owners",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.ends_with(
                ">>> Check for multiple slot owners...\n[OK] No multiple owners found.\n"
            ),
            "{run:?}"
        );

        let run = trib(&["info", &entry], None);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(
            redact(&run.stdout, &cluster),
            HEALTHY_CHECK.lines().take(5).collect::<Vec<_>>().join("\n") + "\n"
        );

        let run = trib(&["check", &entry, "--json"], None);
        assert_eq!(run.code, 0, "{run:?}");
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
        validate_check_json(&doc);
        assert_eq!(doc["ok"], true);
        assert_eq!(doc["keys"], 300);
        assert_eq!(doc["nodes"].as_array().unwrap().len(), 6);

        let run = trib(&["info", &entry, "--json"], None);
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
        assert_eq!(doc["keys"], 300);
        assert_eq!(doc["masters"].as_array().unwrap().len(), 3);
        assert!(doc["masters"][0]["slot_count"].as_u64().unwrap() > 5000);
    }
}

/// The documented schema of `check --json` (docs/json.md), checked field by field.
fn validate_check_json(doc: &serde_json::Value) {
    assert!(doc["ok"].is_boolean());
    assert!(doc["entry"].is_string());
    assert!(doc["problems"].is_array());
    for n in doc["nodes"].as_array().unwrap() {
        assert_eq!(n["id"].as_str().unwrap().len(), 40);
        assert!(n["addr"].as_str().unwrap().contains(':'));
        assert!(["master", "replica"].contains(&n["role"].as_str().unwrap()));
        assert!(n["flags"].is_array());
        assert!(n["master_id"].is_null() || n["master_id"].is_string());
        assert!(n["config_epoch"].is_u64());
        for r in n["slots"].as_array().unwrap() {
            let r = r.as_array().unwrap();
            assert_eq!(r.len(), 2);
            assert!(r[0].as_u64().unwrap() <= r[1].as_u64().unwrap());
        }
        assert!(n["slot_count"].is_u64());
        assert!(n["replicas"].is_u64());
        assert!(n["keys"].is_null() || n["keys"].is_u64());
        assert!(n["migrating"].is_object() && n["importing"].is_object());
    }
    let c = &doc["checks"];
    assert!(c["agree"].is_boolean());
    for key in [
        "disagreeing",
        "open_nodes",
        "open_slots",
        "uncovered",
        "skipped",
        "stray_keys",
    ] {
        assert!(c[key].is_array(), "checks.{key} must be an array: {doc}");
    }
    assert!(c["uncovered_count"].is_u64());
    assert!(c["multiple_owners"].is_null() || c["multiple_owners"].is_array());
}

#[test]
fn check_fails_naming_each_problem() {
    for backend in backends_with_cluster() {
        let mut cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let entry = cluster.nodes[0].addr();
        let ids: Vec<String> = cluster.nodes.iter().map(|n| n.myid()).collect();

        // 1. An open slot.
        cluster.nodes[1]
            .cmd(&["CLUSTER", "SETSLOT", "3", "IMPORTING", &ids[0]])
            .unwrap();
        cluster.nodes[0]
            .cmd(&["CLUSTER", "SETSLOT", "3", "MIGRATING", &ids[1]])
            .unwrap();
        let run = trib(&["check", &entry], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stdout.contains(&format!(
                "[WARNING] Node {entry} has slots in migrating state 3."
            )),
            "{run:?}"
        );
        assert!(
            run.stdout
                .contains("[WARNING] The following slots are open: 3."),
            "{run:?}"
        );
        assert!(run.stderr.contains("open slots: 3"), "{run:?}");
        let run = trib(&["check", &entry, "--json"], None);
        assert_eq!(run.code, 1, "{run:?}");
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
        validate_check_json(&doc);
        assert_eq!(doc["ok"], false);
        assert_eq!(doc["checks"]["open_slots"], serde_json::json!([3]));
        cluster.nodes[0]
            .cmd(&["CLUSTER", "SETSLOT", "3", "STABLE"])
            .unwrap();
        cluster.nodes[1]
            .cmd(&["CLUSTER", "SETSLOT", "3", "STABLE"])
            .unwrap();
        assert_eq!(trib(&["check", &entry], None).code, 0);

        // 2. A key on a master that does not own its slot (redis-cli's check misses it).
        let slot = trib::slot::key_slot(b"stray").get();
        let owner = owner_of(&cluster, slot);
        let other = (owner + 1) % 3;
        let mut c = cluster.nodes[other].client();
        redis::cmd("CLUSTER")
            .arg("SETSLOT")
            .arg(slot)
            .arg("IMPORTING")
            .arg(&ids[owner])
            .query::<()>(&mut c)
            .unwrap();
        redis::cmd("ASKING").query::<()>(&mut c).unwrap();
        redis::cmd("SET")
            .arg("stray")
            .arg("v")
            .query::<()>(&mut c)
            .unwrap();
        redis::cmd("CLUSTER")
            .arg("SETSLOT")
            .arg(slot)
            .arg("STABLE")
            .query::<()>(&mut c)
            .unwrap();
        let other_addr = cluster.nodes[other].addr();
        let check_names_the_stray = || {
            let run = trib(&["check", &entry], None);
            assert_eq!(run.code, 1, "{run:?}");
            assert!(
                run.stdout.contains(&format!(
                    "[ERR] Node {other_addr} has 1 key(s) in slot {slot}, which it does not own."
                )),
                "{run:?}"
            );
        };
        check_names_the_stray();
        let run = trib(&["check", &entry, "--search-multiple-owners"], None);
        assert!(
            run.stdout
                .contains(&format!("[WARNING] Slot {slot} has 2 owners:")),
            "{run:?}"
        );
        // The same stray among 1500 keys of its own: more than the first SCAN page, so trib goes on
        // scanning from the cursor it got with CLUSTER NODES.
        let tag = (0..)
            .map(|i| format!("{{fill{i}}}"))
            .find(|t| owner_of(&cluster, trib::slot::key_slot(t.as_bytes()).get()) == other)
            .unwrap();
        let fillers: Vec<String> = (0..1500).map(|i| format!("{tag}:{i}")).collect();
        let mut fill = redis::pipe();
        for k in &fillers {
            fill.cmd("SET").arg(k).arg("v").ignore();
        }
        fill.query::<()>(&mut c).unwrap();
        check_names_the_stray();
        redis::cmd("DEL").arg(&fillers).query::<()>(&mut c).unwrap();
        // remove the stray copy again
        redis::cmd("CLUSTER")
            .arg("SETSLOT")
            .arg(slot)
            .arg("IMPORTING")
            .arg(&ids[owner])
            .query::<()>(&mut c)
            .unwrap();
        redis::cmd("ASKING").query::<()>(&mut c).unwrap();
        redis::cmd("DEL").arg("stray").query::<()>(&mut c).unwrap();
        redis::cmd("CLUSTER")
            .arg("SETSLOT")
            .arg(slot)
            .arg("STABLE")
            .query::<()>(&mut c)
            .unwrap();
        assert_eq!(trib(&["check", &entry], None).code, 0);

        // 3. An uncovered slot: its owner drops it, the others still believe it owns it.
        let owner100 = owner_of(&cluster, 100);
        cluster.nodes[owner100]
            .cmd(&["CLUSTER", "DELSLOTS", "100"])
            .unwrap();
        let run = trib(&["check", &entry], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stdout.contains(
                "[ERR] Not all 16384 slots are covered by nodes.\n*** 1 uncovered slots: 100\n"
            ),
            "{run:?}"
        );
        assert!(
            run.stdout
                .contains("[ERR] Nodes don't agree about configuration!"),
            "{run:?}"
        );
        assert!(run.stderr.contains("1 slots not covered: 100"), "{run:?}");
        assert!(run.stderr.contains("nodes don't agree"), "{run:?}");
        cluster.nodes[owner100]
            .cmd(&["CLUSTER", "ADDSLOTS", "100"])
            .unwrap();
        assert!(eventually(Duration::from_secs(10), || trib(
            &["check", &entry],
            None
        )
        .code
            == 0));

        // 4. An unreachable master: named, and its slots count as uncovered.
        let dead = cluster.nodes[2].addr();
        cluster.nodes[2].kill();
        let run = trib(&["check", &entry], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains(&format!(
                "Could not connect to Redis at {dead}: Connection refused"
            )),
            "{run:?}"
        );
        assert!(
            run.stdout.contains(&format!("[ERR] Master {dead} (")),
            "{run:?}"
        );
        assert!(run.stderr.contains("is unreachable"), "{run:?}");
        assert!(
            run.stdout
                .contains("[ERR] Not all 16384 slots are covered by nodes."),
            "{run:?}"
        );
    }
}

#[test]
fn entry_node_errors() {
    for backend in backends_with_cluster() {
        let root = tempfile::tempdir().unwrap();
        let plain = Node::start(backend, false, &[], root.path());
        let run = trib(&["check", &plain.addr()], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert_eq!(
            run.stderr,
            format!(
                "error: Node {} is not configured as a cluster node.\n",
                plain.addr()
            )
        );

        let port = crate::harness::free_port();
        let run = trib(&["info", &format!("127.0.0.1:{port}")], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert_eq!(
            run.stderr,
            format!("error: Could not connect to Redis at 127.0.0.1:{port}: Connection refused\n")
        );

        let run = trib(&["check", "127.0.0.1"], None);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            run.stderr.contains("invalid address '127.0.0.1'"),
            "{run:?}"
        );
        let run = trib(&["check", "127.0.0.1:abc"], None);
        assert_eq!(run.code, 2, "{run:?}");

        let secured = Node::start(backend, true, &[("requirepass", "s3cret")], root.path());
        let addr = secured.addr();
        let run = trib(&["check", &addr], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr
                .contains(&format!("Node {addr} NOAUTH Authentication required.")),
            "{run:?}"
        );
        let run = trib(&["-a", "wrong", "check", &addr], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.starts_with("Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n"), "{run:?}");
        assert!(run.stderr.contains(&format!("Node {addr} replied with error: WRONGPASS invalid username-password pair or user is disabled.")), "{run:?}");
        assert!(
            !run.stdout.contains("wrong") && !run.stderr.contains("wrong\n"),
            "{run:?}"
        );
        let run = trib(
            &[
                "--user",
                "default",
                "--pass",
                "wrong",
                "--no-auth-warning",
                "info",
                &addr,
            ],
            None,
        );
        assert_eq!(run.code, 1, "{run:?}");
        assert!(!run.stderr.contains("Warning"), "{run:?}");
        let run = trib_env(&["info", &addr], None, &[("REDISCLI_AUTH", "s3cret")]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.contains("-> 0 keys | 0 slots | 0 slaves."),
            "{run:?}"
        );
        assert!(!run.stderr.contains("Warning"), "{run:?}");
        // A one-node "cluster" has uncovered slots: check says so.
        let run = trib(&["-a", "s3cret", "--no-auth-warning", "check", &addr], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains("16384 slots not covered: 0-16383"),
            "{run:?}"
        );
        // A password sent to a node that has none.
        let open = Node::start(backend, true, &[], root.path());
        let run = trib(
            &["-a", "x", "--no-auth-warning", "check", &open.addr()],
            None,
        );
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr
                .contains("ERR AUTH <password> called without any password configured"),
            "{run:?}"
        );
    }
}
