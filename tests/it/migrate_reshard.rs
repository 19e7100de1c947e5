//! reshard and rebalance end to end on a cluster holding keys of every type (a big list, TTLs,
//! binary keys): afterwards trib's and the real redis-cli's check find the cluster healthy and
//! every key has the same content and TTL. Also: a new master rebalanced right after add-node,
//! weight 0 drains a master, and the "No rebalancing needed" path. And the big key: a
//! list of 1,000,000 elements moved by reshard at the default MIGRATE timeout.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use trib::slot::key_slot;

use crate::harness::{backends_with_cluster, trib, Cluster};
use crate::migrate_support::{
    assert_same, fill_every_type, ids, redis_cli_check_ok, slot_map, slots_of, snapshot,
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

const MILLION: usize = 1_000_000;

fn element(j: usize) -> String {
    format!("element-{j}")
}

/// Every element of `key` on `conn` is `element(j)` at index j and there are exactly `len`,
/// read in LRANGE chunks so no single reply holds the whole list.
fn assert_list_intact(conn: &mut redis::Connection, key: &str, len: usize) {
    let llen: usize = redis::cmd("LLEN").arg(key).query(conn).unwrap();
    assert_eq!(llen, len, "LLEN of {key}");
    let chunk = 100_000;
    for start in (0..len).step_by(chunk) {
        let stop = (start + chunk).min(len) - 1;
        let got: Vec<Vec<u8>> = redis::cmd("LRANGE")
            .arg(key)
            .arg(start)
            .arg(stop)
            .query(conn)
            .unwrap();
        assert_eq!(got.len(), stop + 1 - start, "LRANGE {start} {stop}");
        for (j, e) in (start..).zip(&got) {
            assert!(e == element(j).as_bytes(), "{key}[{j}] differs");
        }
    }
}

/// Waits (bounded) until every node sees every cluster-bus link connected. A node busy for
/// seconds with a big fill (trib-node in a debug build on a loaded CI machine) may have its bus
/// links dropped by its peers for a while; trib rightly refuses a cluster in that state.
fn wait_links_connected(cluster: &Cluster) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cluster.nodes.iter().all(|n| {
        n.cmd_string(&["CLUSTER", "NODES"])
            .lines()
            .all(|l| l.split(' ').nth(7) == Some("connected"))
    }) {
        assert!(
            Instant::now() < deadline,
            "bus links did not reconnect in 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn reshard_moves_a_million_element_list() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let id = ids(&cluster);
        let (source, target) = (&cluster.nodes[1], &cluster.nodes[0]);
        // A key in the source's lowest slot: the one `reshard --slots 1` moves first.
        let slot = slot_map(&cluster)
            .iter()
            .position(|&p| p == source.port)
            .unwrap();
        let key = (0..)
            .map(|i| format!("biglist:{{{i}}}"))
            .find(|k| key_slot(k.as_bytes()).index() == slot)
            .unwrap();

        let mut src = source.client();
        let mut fill = redis::pipe();
        for start in (0..MILLION).step_by(10_000) {
            let mut rpush = redis::cmd("RPUSH");
            rpush.arg(&key);
            for j in start..start + 10_000 {
                rpush.arg(element(j));
            }
            fill.add_command(rpush).ignore();
        }
        fill.cmd("PEXPIRE").arg(&key).arg(900_000).ignore();
        let () = fill.query(&mut src).unwrap();
        let llen: usize = redis::cmd("LLEN").arg(&key).query(&mut src).unwrap();
        assert_eq!(llen, MILLION);
        let expiry: i64 = redis::cmd("PEXPIRETIME").arg(&key).query(&mut src).unwrap();
        assert!(expiry > 0);
        cluster.wait_agree(Duration::from_secs(20));
        wait_links_connected(&cluster);

        let began = Instant::now();
        let run = trib(
            &[
                "reshard",
                &target.addr(),
                "--from",
                &id[1],
                "--to",
                &id[0],
                "--slots",
                "1",
                "--yes",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout
                .contains(&format!("Moving slot {slot} from {}", id[1])),
            "{run:?}"
        );
        eprintln!(
            "{}: moved a {MILLION}-element list in {:?}",
            backend.name(),
            began.elapsed()
        );
        check_ok(&cluster);
        assert_eq!(slot_map(&cluster)[slot], target.port);

        // gone from the source, whole on the target with its expiry
        let on_source: usize = redis::cmd("CLUSTER")
            .arg("COUNTKEYSINSLOT")
            .arg(slot)
            .query(&mut src)
            .unwrap();
        assert_eq!(on_source, 0, "the source still holds keys of slot {slot}");
        let mut dst = target.client();
        let on_target: usize = redis::cmd("CLUSTER")
            .arg("COUNTKEYSINSLOT")
            .arg(slot)
            .query(&mut dst)
            .unwrap();
        assert_eq!(on_target, 1);
        assert_list_intact(&mut dst, &key, MILLION);
        let expiry_after: i64 = redis::cmd("PEXPIRETIME").arg(&key).query(&mut dst).unwrap();
        assert!(
            expiry_after + 1_000 >= expiry && expiry_after - expiry < 5_000,
            "expiry {expiry} before, {expiry_after} after"
        );
    }
}
