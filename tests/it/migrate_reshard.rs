//! reshard and rebalance end to end on a cluster holding keys of every type (a big list, TTLs,
//! binary keys): afterwards trib's and the real redis-cli's check find the cluster healthy and
//! every key has the same content and TTL. Also: a new master rebalanced right after add-node,
//! weight 0 drains a master, and the "No rebalancing needed" path.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::{backends_with_cluster, trib, Cluster};
use crate::migrate_support::{
    assert_same, fill_every_type, ids, redis_cli_check_ok, slots_of, snapshot,
};

fn check_ok(cluster: &Cluster) {
    cluster.wait_agree(Duration::from_secs(20));
    let run = trib(&["check", &cluster.nodes[0].addr()], None);
    assert_eq!(run.code, 0, "{run:?}");
    redis_cli_check_ok(cluster);
}

#[test]
fn reshard_then_rebalance_keep_every_key() {
    for backend in backends_with_cluster() {
        let mut cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let keys = fill_every_type(&cluster, 150, 200_000);
        let before = snapshot(&cluster, &keys);
        let id = ids(&cluster);
        let entry = cluster.nodes[0].addr();

        // reshard: 3000 slots from every other master into node 0
        let run = trib(
            &[
                "reshard", &entry, "--from", "all", "--to", &id[0], "--slots", "3000", "--yes",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains("Ready to move 3000 slots."), "{run:?}");
        assert!(run.stdout.contains("[OK] Moved 3000 slots"), "{run:?}");
        check_ok(&cluster);
        assert_eq!(slots_of(&cluster, cluster.nodes[0].port), 5461 + 3000);
        assert_same(&before, &snapshot(&cluster, &keys));

        // rebalance back: every master within one slot of 16384/3
        let run = trib(&["rebalance", &entry], None);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.contains(">>> Rebalancing across 3 nodes"),
            "{run:?}"
        );
        check_ok(&cluster);
        for n in &cluster.nodes {
            let s = slots_of(&cluster, n.port);
            assert!((5461..=5462).contains(&s), "{} has {s}", n.addr());
        }
        assert_same(&before, &snapshot(&cluster, &keys));
        let run = trib(&["rebalance", &entry], None);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout
                .contains("*** No rebalancing needed! All nodes are within the 2.00% threshold."),
            "{run:?}"
        );

        // a new empty master, rebalanced at once (gossip has not settled yet)
        let new_addr = cluster.add_node().addr();
        let out = Command::new("redis-cli")
            .args(["--cluster", "add-node", &new_addr, &entry])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        // The entry knows the new node; the other masters may not yet (the redis-cli failure:
        // "ERR I don't know about node"). trib waits for gossip to settle.
        let new_id = cluster.nodes[3].myid();
        for _ in 0..100 {
            if cluster.nodes[0]
                .cmd_string(&["CLUSTER", "NODES"])
                .lines()
                .any(|l| l.starts_with(&new_id))
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let run = trib(
            &["rebalance", &entry, "--use-empty-masters", "--json"],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout
                .lines()
                .any(|l| l.contains("\"event\":\"slot_moved\"")),
            "{run:?}"
        );
        let last: serde_json::Value =
            serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
        assert_eq!(last["ok"], true, "{run:?}");
        check_ok(&cluster);
        let new_port = cluster.nodes[3].port;
        assert_eq!(slots_of(&cluster, new_port), 4096);
        assert_same(&before, &snapshot(&cluster, &keys));

        // weight 0 drains it completely (redis-trib left one slot behind)
        let run = trib(
            &[
                "rebalance",
                &entry,
                "--weight",
                &format!("{}=0", &new_id[..8]),
            ],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
        check_ok(&cluster);
        assert_eq!(slots_of(&cluster, new_port), 0);
        assert_same(&before, &snapshot(&cluster, &keys));
    }
}

#[test]
fn reshard_refuses_bad_options_and_unknown_nodes() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let entry = cluster.nodes[0].addr();
        let id = ids(&cluster);
        let run = trib(
            &[
                "reshard", &entry, "--from", &id[1], "--to", &id[0], "--slots", "0", "--yes",
            ],
            None,
        );
        assert_eq!(run.code, 2, "{run:?}");
        let run = trib(
            &[
                "reshard", &entry, "--from", &id[1], "--to", "ffff", "--slots", "5", "--yes",
            ],
            None,
        );
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains("is not known or not a master"),
            "{run:?}"
        );
        let run = trib(
            &[
                "reshard",
                &entry,
                "--from",
                &id[1],
                "--to",
                &id[0],
                "--slots",
                "5",
                "--dry-run",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains("Moving slot 5461 from"), "{run:?}");
        assert_eq!(
            slots_of(&cluster, cluster.nodes[0].port),
            5461,
            "dry run changed nothing"
        );

        // an open slot: refused, naming the problem and `trib fix`
        cluster.nodes[1]
            .cmd(&["CLUSTER", "SETSLOT", "5461", "MIGRATING", &id[0]])
            .unwrap();
        let run = trib(
            &[
                "reshard", &entry, "--from", &id[1], "--to", &id[0], "--slots", "5", "--yes",
            ],
            None,
        );
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("open slots: 5461"), "{run:?}");
        assert!(run.stderr.contains("trib fix"), "{run:?}");
    }
}
