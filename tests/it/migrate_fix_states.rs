//! `trib fix` on broken states beyond the plain interrupted move: a half-finished move whose
//! source already gave the slot away (SETSLOT NODE) while the target still imports it, with the
//! keys on the target, on the source, or on both. No master claims such a slot, so it looks
//! uncovered; fix must finish the move, never ADDSLOTS it. Every key survives with its value,
//! every node agrees, and the real redis-cli check passes afterwards.

use std::time::Duration;

use trib::slot::key_slot;

use crate::harness::{backends_with_cluster, trib, Cluster, Node};
use crate::migrate_fix::keys_on;
use crate::migrate_support::{ids, redis_cli_check_ok, slot_map};

/// Writes keys on a node that does not own their slot (IMPORTING + ASKING, then STABLE), as a
/// client redirected mid-move leaves them.
fn plant(node: &Node, slot: u16, from_id: &str, keys: &[String]) {
    let s = slot.to_string();
    node.cmd(&["CLUSTER", "SETSLOT", &s, "IMPORTING", from_id])
        .unwrap();
    let mut c = node.client();
    for k in keys {
        redis::pipe()
            .cmd("ASKING")
            .ignore()
            .cmd("SET")
            .arg(k)
            .arg(format!("value of {k}"))
            .query::<()>(&mut c)
            .unwrap();
    }
    node.cmd(&["CLUSTER", "SETSLOT", &s, "STABLE"]).unwrap();
}

/// Starts a move of `slot` from node 0 to node 1, moves `moved` of its keys, and has the source
/// give the slot away while the target is still importing.
fn give_away(cluster: &Cluster, slot: u16, keys: &[String], moved: usize) {
    let id = ids(cluster);
    let (src, dst) = (&cluster.nodes[0], &cluster.nodes[1]);
    for k in keys {
        src.cmd(&["SET", k, &format!("value of {k}")]).unwrap();
    }
    let s = slot.to_string();
    dst.cmd(&["CLUSTER", "SETSLOT", &s, "IMPORTING", &id[0]])
        .unwrap();
    src.cmd(&["CLUSTER", "SETSLOT", &s, "MIGRATING", &id[1]])
        .unwrap();
    let port = dst.port.to_string();
    if moved > 0 {
        let mut migrate = vec!["MIGRATE", "127.0.0.1", &port, "", "0", "5000", "KEYS"];
        migrate.extend(keys[..moved].iter().map(String::as_str));
        src.cmd(&migrate).unwrap();
    }
    // The source may give the slot away only once it holds no key of it.
    if moved < keys.len() {
        let mut migrate = vec!["MIGRATE", "127.0.0.1", &port, "", "0", "5000", "KEYS"];
        migrate.extend(keys[moved..].iter().map(String::as_str));
        src.cmd(&migrate).unwrap();
    }
    src.cmd(&["CLUSTER", "SETSLOT", &s, "NODE", &id[1]])
        .unwrap();
    // Keys meant to stay on the source: moved back behind the slot's back.
    if moved < keys.len() {
        let mut c = dst.client();
        for k in &keys[moved..] {
            redis::pipe()
                .cmd("ASKING")
                .ignore()
                .cmd("DEL")
                .arg(k)
                .query::<()>(&mut c)
                .unwrap();
        }
        plant(src, slot, &id[1], &keys[moved..]);
    }
}

#[test]
fn fix_finishes_a_move_whose_source_gave_the_slot_away() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let n0 = &cluster.nodes[0];
        // keys on the target only, on the source only, on both
        let (on_target, k1) = keys_on(&cluster, 0, 0, 12);
        let (on_source, k2) = keys_on(&cluster, 0, 1, 12);
        let (on_both, k3) = keys_on(&cluster, 0, 2, 12);
        give_away(&cluster, on_target, &k1, 12);
        give_away(&cluster, on_source, &k2, 0);
        give_away(&cluster, on_both, &k3, 5);

        let run = trib(&["check", &n0.addr()], None);
        assert_eq!(run.code, 1, "{run:?}");
        let run = trib(&["fix", &n0.addr(), "--dry-run"], None);
        assert!(
            run.stdout.contains("finish the half-done move"),
            "{} {run:?}",
            backend.name()
        );
        assert!(!run.stdout.contains("cover 1 slot"), "{run:?}");

        let run = trib(&["fix", &n0.addr(), "--yes"], None);
        assert_eq!(run.code, 0, "{} {run:?}", backend.name());
        assert!(!run.stdout.contains("ADDSLOTS"), "{run:?}");
        cluster.wait_agree(Duration::from_secs(20));
        redis_cli_check_ok(&cluster);
        let run = trib(&["check", &n0.addr()], None);
        assert_eq!(run.code, 0, "{run:?}");
        let map = slot_map(&cluster);
        let n1 = &cluster.nodes[1];
        let mut c = n1.client();
        for (slot, keys) in [(on_target, &k1), (on_source, &k2), (on_both, &k3)] {
            assert_eq!(
                map[slot as usize], n1.port,
                "slot {slot} went to the target"
            );
            for k in keys {
                let v: Option<String> = redis::cmd("GET").arg(k).query(&mut c).unwrap();
                assert_eq!(
                    v.as_deref(),
                    Some(format!("value of {k}").as_str()),
                    "{} slot {slot}",
                    backend.name()
                );
            }
            for other in [&cluster.nodes[0], &cluster.nodes[2]] {
                let left = other.cmd_string(&["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]);
                assert_eq!(left, "0", "keys left on a non-owner of slot {slot}");
            }
        }
    }
}

/// Plants `key = value` on node `on` in a slot owned by `owner_id` (a stray copy).
pub fn plant_value(node: &Node, owner_id: &str, key: &str, value: &str) {
    let s = key_slot(key.as_bytes()).get().to_string();
    node.cmd(&["CLUSTER", "SETSLOT", &s, "IMPORTING", owner_id])
        .unwrap();
    let mut c = node.client();
    redis::pipe()
        .cmd("ASKING")
        .ignore()
        .cmd("SET")
        .arg(key)
        .arg(value)
        .query::<()>(&mut c)
        .unwrap();
    node.cmd(&["CLUSTER", "SETSLOT", &s, "STABLE"]).unwrap();
}

/// The node's own copy of `key`, owner or not (a non-owner answers MOVED to a plain GET, and
/// ASKING alone does not help on a stable slot: IMPORTING for the read, then STABLE).
fn get_asking(node: &Node, key: &str) -> Option<String> {
    let s = key_slot(key.as_bytes()).get().to_string();
    let owns = node.cmd(&["GET", key]);
    if let Ok(v) = owns {
        return redis::from_redis_value(&v).unwrap();
    }
    let nodes = node.cmd_string(&["CLUSTER", "NODES"]);
    let owner = nodes
        .lines()
        .find(|l| !l.contains("myself"))
        .and_then(|l| l.split(' ').next())
        .unwrap()
        .to_string();
    node.cmd(&["CLUSTER", "SETSLOT", &s, "IMPORTING", &owner])
        .unwrap();
    let mut c = node.client();
    let value = redis::pipe()
        .cmd("ASKING")
        .ignore()
        .cmd("GET")
        .arg(key)
        .query::<(Option<String>,)>(&mut c)
        .map(|(v,)| v)
        .unwrap();
    node.cmd(&["CLUSTER", "SETSLOT", &s, "STABLE"]).unwrap();
    value
}

fn keys_in_slot(node: &Node, slot: u16) -> Vec<String> {
    let mut c = node.client();
    redis::cmd("CLUSTER")
        .arg("GETKEYSINSLOT")
        .arg(slot)
        .arg(1000)
        .query(&mut c)
        .unwrap()
}

#[test]
fn fix_moves_stray_keys_to_the_owner_and_covers_a_slot_held_by_several() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let id = ids(&cluster);
        let (n0, n1, n2) = (&cluster.nodes[0], &cluster.nodes[1], &cluster.nodes[2]);
        // A covered slot of node 0 with two stray keys on node 1.
        let (stray_slot, k1) = keys_on(&cluster, 0, 0, 7);
        for k in &k1[..5] {
            n0.cmd(&["SET", k, &format!("value of {k}")]).unwrap();
        }
        for k in &k1[5..] {
            plant_value(n1, &id[0], k, &format!("value of {k}"));
        }
        // An uncovered slot with 3 keys on node 0 and 1 on node 2.
        let (uncovered, k2) = keys_on(&cluster, 0, 1, 4);
        for k in &k2[..3] {
            n0.cmd(&["SET", k, &format!("value of {k}")]).unwrap();
        }
        plant_value(n2, &id[0], &k2[3], &format!("value of {}", k2[3]));
        for n in &cluster.nodes {
            n.cmd(&["CLUSTER", "DELSLOTS", &uncovered.to_string()]).ok();
        }

        let run = trib(&["fix", &n0.addr(), "--yes"], None);
        assert_eq!(run.code, 0, "{} {run:?}", backend.name());
        cluster.wait_agree(Duration::from_secs(20));
        redis_cli_check_ok(&cluster);
        let run = trib(&["check", &n0.addr()], None);
        assert_eq!(run.code, 0, "{run:?}");
        let map = slot_map(&cluster);
        assert_eq!(map[stray_slot as usize], n0.port);
        assert_eq!(
            map[uncovered as usize], n0.port,
            "the master with most keys took it"
        );
        let mut expected: Vec<String> = k1.iter().chain(&k2).cloned().collect();
        expected.sort();
        let mut on_owner: Vec<String> = keys_in_slot(n0, stray_slot);
        on_owner.extend(keys_in_slot(n0, uncovered));
        on_owner.sort();
        assert_eq!(on_owner, expected, "{}", backend.name());
        for k in &expected {
            assert_eq!(get_asking(n0, k), Some(format!("value of {k}")));
        }
        for other in [n1, n2] {
            assert!(keys_in_slot(other, stray_slot).is_empty());
            assert!(keys_in_slot(other, uncovered).is_empty());
        }

        // The same key on the owner and on a non-owner with other content: the owner's copy is
        // kept, the other untouched, the key named, exit 1.
        let (dup_slot, k3) = keys_on(&cluster, 0, 2, 1);
        let dup = &k3[0];
        n0.cmd(&["SET", dup, "owner's"]).unwrap();
        plant_value(n1, &id[0], dup, "stray's");
        let run = trib(&["fix", &n0.addr(), "--yes"], None);
        assert_eq!(run.code, 1, "{} {run:?}", backend.name());
        assert!(
            run.stdout.contains(dup.as_str()),
            "the key is named: {run:?}"
        );
        assert_eq!(get_asking(n0, dup).as_deref(), Some("owner's"));
        assert_eq!(keys_in_slot(n1, dup_slot), vec![dup.clone()]);
        assert_eq!(get_asking(n1, dup).as_deref(), Some("stray's"));
    }
}

/// Opens `count` of node 0's slots towards node 1 (IMPORTING + MIGRATING), as a reshard killed
/// at scale leaves them, with a key in every tenth.
fn open_many(cluster: &Cluster, count: usize) -> (Vec<u16>, Vec<String>) {
    let id = ids(cluster);
    let map = slot_map(cluster);
    let port0 = cluster.nodes[0].port;
    let slots: Vec<u16> = (0..16384u16)
        .filter(|&s| map[s as usize] == port0)
        .take(count)
        .collect();
    let mut keys = Vec::new();
    let mut c0 = cluster.nodes[0].client();
    for (i, t) in (0..200_000u32).map(|i| format!("many{i}")).enumerate() {
        let s = key_slot(t.as_bytes()).get();
        if keys.len() < count / 10 && s.is_multiple_of(10) && slots.binary_search(&s).is_ok() {
            let k = format!("{{{t}}}");
            if !keys.contains(&k) {
                redis::cmd("SET")
                    .arg(&k)
                    .arg(&k)
                    .query::<()>(&mut c0)
                    .unwrap();
                keys.push(k);
            }
        }
        if i > 150_000 {
            break;
        }
    }
    let (mut p0, mut p1) = (redis::pipe(), redis::pipe());
    for s in &slots {
        p1.cmd("CLUSTER")
            .arg("SETSLOT")
            .arg(*s)
            .arg("IMPORTING")
            .arg(&id[0])
            .ignore();
        p0.cmd("CLUSTER")
            .arg("SETSLOT")
            .arg(*s)
            .arg("MIGRATING")
            .arg(&id[1])
            .ignore();
    }
    p1.query::<()>(&mut cluster.nodes[1].client()).unwrap();
    p0.query::<()>(&mut c0).unwrap();
    (slots, keys)
}

#[test]
fn fix_closes_a_thousand_open_slots_and_stops_cleanly_on_ctrl_c() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let n0 = &cluster.nodes[0];
        let (slots, keys) = open_many(&cluster, 1200);
        // Ctrl-C once the first slots are being fixed: exit 130, nothing half done.
        let mut child = Command::new(crate::harness::trib_bin())
            .args(["fix", &n0.addr(), "--yes"])
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(stdout).lines();
        let mut seen = Vec::new();
        for line in lines.by_ref().take(100_000) {
            let line = line.unwrap();
            let fixing = line.starts_with(">>> Fixing open slot");
            seen.push(line);
            if fixing && seen.iter().filter(|l| l.starts_with(">>> Fixing")).count() >= 5 {
                break;
            }
        }
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        seen.extend(lines.map_while(Result::ok));
        let status = child.wait().unwrap();
        let text = seen.join("\n");
        assert_eq!(status.code(), Some(130), "{} {text}", backend.name());
        assert!(text.contains("Interrupted:"), "{text}");
        // The rest is fixed by running fix again.
        let run = trib(&["fix", &n0.addr(), "--yes"], None);
        assert_eq!(run.code, 0, "{} {run:?}", backend.name());
        cluster.wait_agree(Duration::from_secs(30));
        redis_cli_check_ok(&cluster);
        let map = slot_map(&cluster);
        for s in &slots {
            assert_ne!(map[*s as usize], 0);
        }
        let mut router = crate::migrate_support::Router::new(&cluster);
        for k in &keys {
            let v = router.run(k.as_bytes(), redis::cmd("GET").arg(k)).unwrap();
            assert_eq!(redis::from_redis_value::<String>(&v).unwrap(), *k);
        }
    }
}
