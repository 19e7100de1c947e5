//! add-node, del-node, call and set-timeout as a user runs them: success paths (the next
//! command of a script works at once), every refusal with its message and exit code, dead
//! nodes, and --json.

use std::time::Duration;

use crate::cli_support::eventually;
use crate::harness::{backends_with_cluster, trib, Cluster, Node};

fn knows(n: &Node, id: &str) -> bool {
    n.cmd_string(&["CLUSTER", "NODES"]).contains(id)
}

#[test]
fn add_and_delete_nodes() {
    for backend in backends_with_cluster() {
        let mut cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        cluster.add_node();
        cluster.add_node();
        cluster.add_node();
        let entry = cluster.nodes[0].addr();
        let a: Vec<String> = cluster.addrs();
        let ids: Vec<String> = cluster.nodes.iter().map(|n| n.myid()).collect();

        // A new master: every node knows it when add-node returns.
        let run = trib(&["add-node", &a[3], &entry], None);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.starts_with(&format!(
                ">>> Adding node {} to cluster {entry}\n>>> Performing Cluster Check",
                a[3]
            )),
            "{run:?}"
        );
        assert!(run.stdout.contains(&format!(">>> Send CLUSTER MEET to node {} to make it join the cluster.\nWaiting for the cluster to join\n", a[3])), "{run:?}");
        assert!(
            run.stdout.ends_with("[OK] New node added correctly.\n"),
            "{run:?}"
        );
        for n in &cluster.nodes[..3] {
            assert!(
                knows(n, &ids[3]),
                "{} does not know the new node yet",
                n.addr()
            );
        }
        let run = trib(&["check", &entry], None);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains("[OK] 0 keys in 4 masters."), "{run:?}");

        // A replica: automatic master = the one with the fewest replicas (first in view order).
        let run = trib(&["add-node", &a[4], &entry, "--replica"], None);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.contains("Automatically selected master "),
            "{run:?}"
        );
        let role = cluster.nodes[4].cmd_string(&["CLUSTER", "NODES"]);
        assert!(role.lines().any(|l| l.contains("myself,slave")), "{role}");

        // --master-id must name a master; a replica's id is refused before anything changes.
        let run = trib(
            &["add-node", &a[5], &entry, "--slave", "--master-id", &ids[4]],
            None,
        );
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains(&format!(
                "Node {} ({}) is a replica, not a master",
                a[4], ids[4]
            )),
            "{run:?}"
        );
        assert!(!knows(&cluster.nodes[0], &ids[5]));
        let run = trib(
            &[
                "add-node",
                &a[5],
                &entry,
                "--replica",
                "--master-id",
                "0123456789abcdef",
            ],
            None,
        );
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains("No such master ID 0123456789abcdef"),
            "{run:?}"
        );
        let run = trib(
            &[
                "add-node",
                &a[5],
                &entry,
                "--replica",
                "--master-id",
                &ids[3][..10],
                "--json",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
        assert_eq!(doc["node"]["master_id"], ids[3].as_str());
        assert_eq!(doc["node"]["role"], "replica");

        // Adding a member again is refused; an unreachable new node too.
        let run = trib(&["add-node", &a[4], &entry], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr
                .contains(&format!("Node {} is not empty: it already knows", a[4])),
            "{run:?}"
        );
        let port = crate::harness::free_port();
        let run = trib(&["add-node", &format!("127.0.0.1:{port}"), &entry], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr
                .contains(&format!("Could not connect to Redis at 127.0.0.1:{port}")),
            "{run:?}"
        );

        // del-node: a node with slots is refused, an unknown id too.
        let run = trib(&["del-node", &entry, &ids[1]], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains(&format!(
                "Node {} is not empty! Reshard data away and try again.",
                a[1]
            )),
            "{run:?}"
        );
        let run = trib(
            &[
                "del-node",
                &entry,
                "0123456789012345678901234567890123456789",
            ],
            None,
        );
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr
                .contains("No such node ID 0123456789012345678901234567890123456789"),
            "{run:?}"
        );

        // The empty master 3 has replica 5 (and maybe 4): it moves, then 3 is forgotten everywhere.
        let run = trib(&["del-node", &entry, &ids[3]], None);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.contains(&format!("{} as replica of ", a[5])),
            "{run:?}"
        );
        assert!(
            run.stdout
                .contains(">>> Sending CLUSTER RESET SOFT to the deleted node.\n"),
            "{run:?}"
        );
        for i in [0, 1, 2, 4, 5] {
            assert!(
                !knows(&cluster.nodes[i], &ids[3]),
                "{} still knows the removed node",
                a[i]
            );
        }
        assert_eq!(
            cluster.nodes[3]
                .cmd_string(&["CLUSTER", "NODES"])
                .lines()
                .count(),
            1
        );

        // Resuming an interrupted removal: a node that already forgot the id is not an error.
        cluster.nodes[1]
            .cmd(&["CLUSTER", "FORGET", &ids[4]])
            .unwrap();
        let run = trib(&["del-node", &entry, &ids[4]], None);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout
                .contains(&format!("*** {} had already forgotten the node", a[1])),
            "{run:?}"
        );
        for i in [0, 1, 2, 5] {
            assert!(
                !knows(&cluster.nodes[i], &ids[4]),
                "{} still knows node 4",
                a[i]
            );
        }

        // A dead replica can be removed too (redis-cli cannot).
        cluster.nodes[5].kill();
        let run = trib(&["del-node", &entry, &ids[5]], None);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout
                .contains("is not reachable; removing it from the other nodes only."),
            "{run:?}"
        );
        for i in [0, 1, 2, 4] {
            assert!(
                !knows(&cluster.nodes[i], &ids[5]),
                "{} still knows the dead node",
                a[i]
            );
        }
        assert!(eventually(Duration::from_secs(10), || trib(
            &["check", &entry],
            None
        )
        .code
            == 0));
    }
}

#[test]
fn call_and_set_timeout() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 6);
        if !cluster.create_with_redis_cli(1) {
            return;
        }
        let entry = cluster.nodes[0].addr();
        let run = trib(&["call", &entry, "DBSIZE"], None);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.starts_with(">>> Calling DBSIZE\n"), "{run:?}");
        for a in cluster.addrs() {
            assert!(run.stdout.contains(&format!("{a}: 0\n")), "{run:?}");
        }
        let run = trib(
            &[
                "call",
                &entry,
                "CONFIG",
                "GET",
                "cluster-node-timeout",
                "--only-masters",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(
            run.stdout.matches(": cluster-node-timeout\n5000\n").count(),
            3,
            "{run:?}"
        );
        let run = trib(
            &[
                "--cluster",
                "call",
                &entry,
                "ROLE",
                "--cluster-only-replicas",
                "--json",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
        let replies = doc["replies"].as_array().unwrap();
        assert_eq!(replies.len(), 3);
        assert!(replies
            .iter()
            .all(|r| r["reply"][0] == "slave" && r["role"] == "replica"));
        let run = trib(&["call", &entry, "NOSUCHCOMMAND", "x"], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stdout.contains("ERR unknown command 'NOSUCHCOMMAND'"),
            "{run:?}"
        );
        assert!(
            run.stderr.contains("6 of 6 nodes replied with an error"),
            "{run:?}"
        );
        // arguments may start with '-' (redis-cli cannot send them)
        let run = trib(&["call", &entry, "ECHO", "-1"], None);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains(": -1\n"), "{run:?}");

        let run = trib(&["set-timeout", &entry, "50"], None);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            run.stderr
                .contains("Setting a node timeout of less than 100 milliseconds is a bad idea."),
            "{run:?}"
        );
        let run = trib(&["set-timeout", &entry, "6000"], None);
        assert_eq!(run.code, 0, "{run:?}");
        // harness nodes run without a config file: the value is set but cannot be saved
        assert_eq!(run.stdout.matches("but not saved to its config file: ERR The server is running without a config file").count(), 6, "{run:?}");
        assert!(
            run.stdout
                .ends_with(">>> New node timeout set. 6 OK, 0 ERR.\n"),
            "{run:?}"
        );
        for n in &cluster.nodes {
            let v = n.cmd(&["CONFIG", "GET", "cluster-node-timeout"]).unwrap();
            let pair: Vec<String> = redis::from_redis_value(&v).unwrap();
            assert_eq!(pair[1], "6000");
        }
    }
}
