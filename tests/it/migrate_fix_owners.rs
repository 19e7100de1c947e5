//! `trib fix` around ownership, on both backends: a slot with several owners (keys on two
//! masters; the one holding most keeps it, a key whose copies differ is named and left), a
//! master killed while the others still list it as owner, and a master the cluster flags
//! `fail` (no replica to take over), which either comes back or is gone for good. Each case
//! ends with a healthy check, every live node agreeing, and the live nodes' keys as before.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::harness::{backends_with_cluster, trib, Cluster, Node};
use crate::migrate_fix::keys_on;
use crate::migrate_fix_states::plant_value;
use crate::migrate_support::{ids, redis_cli_check_ok, slot_map};

fn keys_in_slot(node: &Node, slot: u16) -> Vec<String> {
    let mut c = node.client();
    let mut keys: Vec<String> = redis::cmd("CLUSTER")
        .arg("GETKEYSINSLOT")
        .arg(slot)
        .arg(10_000)
        .query(&mut c)
        .unwrap();
    keys.sort();
    keys
}

/// Every key a node holds with its value (string keys in slots it owns).
fn snapshot(node: &Node) -> BTreeMap<String, String> {
    let mut c = node.client();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
    keys.into_iter()
        .map(|k| {
            let v: String = redis::cmd("GET").arg(&k).query(&mut c).unwrap();
            (k, v)
        })
        .collect()
}

/// Waits (bounded) until every node in `nodes` says cluster_state:ok and lists exactly these
/// nodes with the same slot map.
fn wait_live_agree(nodes: &[&Node], limit: Duration) {
    let deadline = Instant::now() + limit;
    let view = |n: &Node| -> Option<Vec<String>> {
        let info = redis::from_redis_value::<String>(&n.cmd(&["CLUSTER", "INFO"]).ok()?).ok()?;
        if !info.contains("cluster_state:ok") {
            return None;
        }
        let text = redis::from_redis_value::<String>(&n.cmd(&["CLUSTER", "NODES"]).ok()?).ok()?;
        let mut sig: Vec<String> = text
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                let slots: Vec<&str> = f
                    .iter()
                    .skip(8)
                    .filter(|s| !s.starts_with('['))
                    .copied()
                    .collect();
                format!("{} {}", f[0], slots.join(","))
            })
            .collect();
        sig.sort();
        Some(sig)
    };
    loop {
        let views: Vec<Option<Vec<String>>> = nodes.iter().map(|n| view(n)).collect();
        let first = views[0].clone();
        if first.as_ref().is_some_and(|f| f.len() == nodes.len())
            && views.iter().all(|v| *v == first)
        {
            return;
        }
        if Instant::now() > deadline {
            panic!("live nodes did not agree in {limit:?}: {views:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits (bounded) until `node` flags `id` with `fail` (not just `fail?`).
fn wait_flagged_fail(node: &Node, id: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let text = node.cmd_string(&["CLUSTER", "NODES"]);
        if text.lines().any(|l| {
            l.starts_with(id)
                && l.split(' ')
                    .nth(2)
                    .is_some_and(|f| f.split(',').any(|x| x == "fail"))
        }) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} never flagged {id} fail:\n{text}",
            node.addr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn value(k: &str) -> String {
    format!("value of {k}")
}

#[test]
fn fix_settles_a_slot_with_several_owners_on_the_master_holding_most_keys() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let id = ids(&cluster);
        let (n0, n1, n2) = (&cluster.nodes[0], &cluster.nodes[1], &cluster.nodes[2]);
        let name = backend.name();
        // Slot a: node 0 owns it and holds 2 keys, node 1 holds 5: node 1 takes it over.
        let (sa, ka) = keys_on(&cluster, 0, 0, 7);
        for k in &ka[..2] {
            n0.cmd(&["SET", k, &value(k)]).unwrap();
        }
        for k in &ka[2..] {
            plant_value(n1, &id[0], k, &value(k));
        }
        // Slot b: node 2 owns it with 3 keys, node 0 holds 1: node 2 keeps it.
        let (sb, kb) = keys_on(&cluster, 2, 0, 4);
        for k in &kb[..3] {
            n2.cmd(&["SET", k, &value(k)]).unwrap();
        }
        plant_value(n0, &id[2], &kb[3], &value(&kb[3]));

        let run = trib(&["check", &n0.addr(), "--search-multiple-owners"], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stdout.contains(&format!("Slot {sa} has 2 owners")),
            "{run:?}"
        );
        let map_before = slot_map(&cluster);
        let run = trib(
            &["fix", &n0.addr(), "--search-multiple-owners", "--dry-run"],
            None,
        );
        assert_eq!(run.code, 1, "{name} {run:?}");
        assert!(
            run.stdout
                .contains(&format!("would keep the slot on {}", n1.addr())),
            "{name} {run:?}"
        );
        assert_eq!(slot_map(&cluster), map_before, "a dry run changes nothing");
        assert_eq!(keys_in_slot(n1, sa).len(), 5);
        assert_eq!(keys_in_slot(n0, sa).len(), 2);

        let run = trib(
            &["fix", &n0.addr(), "--search-multiple-owners", "--yes"],
            None,
        );
        assert_eq!(run.code, 0, "{name} {run:?}");
        wait_live_agree(&[n0, n1, n2], Duration::from_secs(20));
        redis_cli_check_ok(&cluster);
        let run = trib(&["check", &n0.addr(), "--search-multiple-owners"], None);
        assert_eq!(run.code, 0, "{name} {run:?}");
        let map = slot_map(&cluster);
        assert_eq!(map[sa as usize], n1.port, "{name}: most keys wins");
        assert_eq!(map[sb as usize], n2.port, "{name}: the owner kept it");
        let mut want = ka.clone();
        want.sort();
        assert_eq!(keys_in_slot(n1, sa), want, "{name}");
        let mut want = kb.clone();
        want.sort();
        assert_eq!(keys_in_slot(n2, sb), want, "{name}");
        for (n, s) in [(n0, sa), (n2, sa), (n0, sb), (n1, sb)] {
            assert!(
                keys_in_slot(n, s).is_empty(),
                "{name}: keys left on a non-owner"
            );
        }
        for (n, keys) in [(n1, &ka), (n2, &kb)] {
            for k in keys {
                let v = n.cmd_string(&["GET", k]);
                assert_eq!(v, value(k), "{name}");
            }
        }

        // Slot c: node 0 owns it with 2 keys, node 1 holds 3, one of them also on node 0 with
        // other content. Node 1 takes it; the other key moves; the differing one is named
        // and left on node 0, node 1's copy kept; exit 1. Then --replace settles it.
        let (sc, kc) = keys_on(&cluster, 0, 1, 4);
        n0.cmd(&["SET", &kc[0], "node 0's"]).unwrap();
        n0.cmd(&["SET", &kc[3], &value(&kc[3])]).unwrap();
        plant_value(n1, &id[0], &kc[0], "node 1's");
        plant_value(n1, &id[0], &kc[1], &value(&kc[1]));
        plant_value(n1, &id[0], &kc[2], &value(&kc[2]));
        let run = trib(
            &["fix", &n0.addr(), "--search-multiple-owners", "--yes"],
            None,
        );
        assert_eq!(run.code, 1, "{name} {run:?}");
        assert!(
            run.stdout.contains(&kc[0]) || run.stderr.contains(&kc[0]),
            "{name}: the key is named: {run:?}"
        );
        wait_live_agree(&[n0, n1, n2], Duration::from_secs(20));
        assert_eq!(slot_map(&cluster)[sc as usize], n1.port, "{name}");
        let mut want = kc.clone();
        want.sort();
        assert_eq!(keys_in_slot(n1, sc), want, "{name}");
        assert_eq!(n1.cmd_string(&["GET", &kc[0]]), "node 1's");
        assert_eq!(keys_in_slot(n0, sc), vec![kc[0].clone()], "{name}");

        let run = trib(
            &[
                "fix",
                &n0.addr(),
                "--search-multiple-owners",
                "--yes",
                "--replace",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{name} {run:?}");
        wait_live_agree(&[n0, n1, n2], Duration::from_secs(20));
        assert!(keys_in_slot(n0, sc).is_empty(), "{name}");
        assert_eq!(keys_in_slot(n1, sc), want, "{name}");
        // --replace: the moved copy overwrites the owner's (redis-cli's meaning of it)
        assert_eq!(n1.cmd_string(&["GET", &kc[0]]), "node 0's");
        let run = trib(&["check", &n0.addr(), "--search-multiple-owners"], None);
        assert_eq!(run.code, 0, "{name} {run:?}");
    }
}

/// Keys in one slot of each node, written through their owners.
fn fill(cluster: &Cluster) -> Vec<(u16, Vec<String>)> {
    (0..3)
        .map(|i| {
            let (slot, keys) = keys_on(cluster, i, 0, 10);
            for k in &keys {
                cluster.nodes[i].cmd(&["SET", k, &value(k)]).unwrap();
            }
            (slot, keys)
        })
        .collect()
}

/// The gone master's slots went to the live ones, it is forgotten, and the live keys are as
/// before.
fn assert_taken_over(
    cluster: &Cluster,
    dead_id: &str,
    before: &[BTreeMap<String, String>],
    name: &str,
) {
    let (n0, n1) = (&cluster.nodes[0], &cluster.nodes[1]);
    wait_live_agree(&[n0, n1], Duration::from_secs(20));
    for n in [n0, n1] {
        let text = n.cmd_string(&["CLUSTER", "NODES"]);
        assert!(!text.contains(dead_id), "{name}: not forgotten:\n{text}");
    }
    let run = trib(&["check", &n0.addr()], None);
    assert_eq!(run.code, 0, "{name} {run:?}");
    redis_cli_check_ok(cluster);
    let map = slot_map(cluster);
    let (a, b) = (
        map.iter().filter(|&&p| p == n0.port).count(),
        map.iter().filter(|&&p| p == n1.port).count(),
    );
    assert_eq!(a + b, 16384, "{name}: every slot has a live owner");
    assert!(a.abs_diff(b) <= 2, "{name}: dealt out evenly ({a} / {b})");
    assert_eq!(snapshot(n0), before[0], "{name}");
    assert_eq!(snapshot(n1), before[1], "{name}");
}

#[test]
fn fix_gives_the_slots_of_an_unreachable_master_to_the_others() {
    for backend in backends_with_cluster() {
        let mut cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let name = backend.name();
        fill(&cluster);
        let before = [snapshot(&cluster.nodes[0]), snapshot(&cluster.nodes[1])];
        let dead_id = cluster.nodes[2].myid();
        let dead_port = cluster.nodes[2].port;
        cluster.nodes[2].kill();
        let entry = cluster.nodes[0].addr();

        let run = trib(&["fix", &entry, "--yes"], None);
        assert_eq!(run.code, 1, "{name} {run:?}");
        assert!(
            run.stderr.contains("--fix-with-unreachable-masters"),
            "{run:?}"
        );
        let run = trib(
            &["fix", &entry, "--fix-with-unreachable-masters", "--dry-run"],
            None,
        );
        assert_eq!(run.code, 1, "{name} {run:?}");
        assert!(run.stdout.contains("are lost with it"), "{run:?}");
        assert!(run.stdout.contains("    give "), "{run:?}");
        assert!(!run.stdout.contains("cover "), "no ADDSLOTS plan: {run:?}");
        let run = trib(
            &[
                "--json",
                "fix",
                &entry,
                "--fix-with-unreachable-masters",
                "--dry-run",
            ],
            None,
        );
        let doc: serde_json::Value =
            serde_json::from_str(run.stdout.lines().last().unwrap_or_default())
                .unwrap_or_else(|e| panic!("{e}: {run:?}"));
        let actions = doc["actions"].as_array().unwrap();
        let given: usize = actions
            .iter()
            .filter_map(|a| a["reassign"].as_array())
            .map(|s| s.len())
            .sum();
        assert_eq!(given, 5461, "{name}: {doc}");
        assert!(actions.iter().any(|a| a["forget"] == dead_id.as_str()));
        let map = slot_map(&cluster);
        assert_eq!(
            map.iter().filter(|&&p| p == dead_port).count(),
            5461,
            "{name}: a dry run changes nothing"
        );

        let run = trib(
            &["fix", &entry, "--fix-with-unreachable-masters", "--yes"],
            None,
        );
        assert_eq!(run.code, 0, "{name} {run:?}");
        assert!(run.stdout.contains("are lost with it"), "{run:?}");
        assert_taken_over(&cluster, &dead_id, &before, name);
    }
}

#[test]
fn fix_repairs_slots_whose_owner_is_flagged_fail() {
    for backend in backends_with_cluster() {
        let mut cluster = Cluster::start_with(backend, 3, &[("cluster-node-timeout", "1000")]);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let name = backend.name();
        fill(&cluster);
        let before = [snapshot(&cluster.nodes[0]), snapshot(&cluster.nodes[1])];
        let dead_id = cluster.nodes[2].myid();
        let dead_port = cluster.nodes[2].port;
        let entry = cluster.nodes[0].addr();

        // The owner comes back: its slots stay its own, fix waits for the flag to clear.
        cluster.nodes[2].kill();
        wait_flagged_fail(&cluster.nodes[0], &dead_id, Duration::from_secs(30));
        let run = trib(&["check", &entry], None);
        assert_eq!(run.code, 1, "{name} {run:?}");
        assert!(
            run.stdout.contains("flagged fail") && run.stdout.contains("no reachable owner"),
            "{name} {run:?}"
        );
        cluster.nodes[2].restart(true);
        let run = trib(&["fix", &entry, "--yes"], None);
        assert_eq!(run.code, 0, "{name} {run:?}");
        {
            let n = &cluster.nodes;
            wait_live_agree(&[&n[0], &n[1], &n[2]], Duration::from_secs(20));
        }
        let map = slot_map(&cluster);
        assert_eq!(map.iter().filter(|&&p| p == dead_port).count(), 5461);
        assert_eq!(snapshot(&cluster.nodes[0]), before[0], "{name}");
        assert_eq!(snapshot(&cluster.nodes[1]), before[1], "{name}");

        // Gone for good: with the flag its slots go to the others.
        cluster.nodes[2].kill();
        wait_flagged_fail(&cluster.nodes[0], &dead_id, Duration::from_secs(30));
        let run = trib(&["fix", &entry, "--yes"], None);
        assert_eq!(run.code, 1, "{name} {run:?}");
        let run = trib(
            &["fix", &entry, "--fix-with-unreachable-masters", "--yes"],
            None,
        );
        assert_eq!(run.code, 0, "{name} {run:?}");
        assert_taken_over(&cluster, &dead_id, &before, name);
    }
}
