//! `trib reshard` killed with SIGKILL in the middle of a move (no chance to close what it
//! opened: up to a whole chunk of slots left MIGRATING/IMPORTING, keys on both sides), then
//! `trib fix`: the cluster is healthy again and every key is there with its value.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use trib::slot::key_slot;

use crate::harness::{backends_with_cluster, trib, trib_bin, Cluster};
use crate::migrate_support::{assert_keys_intact, ids, slot_map};

/// Slots (the lowest ones of node 0) that get keys, and keys per slot.
const FILLED_SLOTS: usize = 400;
const KEYS_PER_SLOT: usize = 20;

/// One key name per filled slot: `{tag}:j` for a tag hashing to that slot.
pub fn tags_for_lowest_slots(cluster: &Cluster) -> Vec<String> {
    let map = slot_map(cluster);
    let port0 = cluster.nodes[0].port;
    let mut wanted: Vec<usize> = (0..16384).filter(|&s| map[s] == port0).collect();
    wanted.truncate(FILLED_SLOTS);
    let mut tags: Vec<Option<String>> = vec![None; 16384];
    let mut missing = wanted.len();
    for i in 0..2_000_000u32 {
        let t = format!("k{i}");
        let s = key_slot(t.as_bytes()).index();
        if tags[s].is_none() && wanted.binary_search(&s).is_ok() {
            tags[s] = Some(t);
            missing -= 1;
            if missing == 0 {
                break;
            }
        }
    }
    assert_eq!(missing, 0, "a tag for every wanted slot");
    tags.into_iter().flatten().collect()
}

/// When to kill: as soon as node 0 shows a slot MIGRATING, or once node 1 holds this many
/// more keys than before (mid-stream).
#[derive(Clone, Copy, Debug)]
pub enum KillPoint {
    FirstOpenSlot,
    KeysArrived(usize),
    After(Duration),
}

fn dbsize(cluster: &Cluster, i: usize) -> usize {
    redis::cmd("DBSIZE")
        .query::<usize>(&mut cluster.nodes[i].client())
        .unwrap()
}

/// Starts a reshard of `slots` slots from node 0 to node 1 and SIGKILLs it at `point`, watched
/// by polling the nodes. Returns whether it was really killed (not finished first).
fn reshard_and_kill(cluster: &Cluster, id: &[String], slots: usize, point: KillPoint) -> bool {
    reshard_between_and_kill(cluster, id, (0, 1), slots, point)
}

/// `reshard_and_kill` from node `from` to node `to`.
pub fn reshard_between_and_kill(
    cluster: &Cluster,
    id: &[String],
    (from, to): (usize, usize),
    slots: usize,
    point: KillPoint,
) -> bool {
    let entry = cluster.nodes[0].addr();
    let slots = slots.to_string();
    let args = [
        "reshard",
        entry.as_str(),
        "--from",
        id[from].as_str(),
        "--to",
        id[to].as_str(),
        "--slots",
        slots.as_str(),
        "--yes",
        "--pipeline",
        "3",
    ];
    run_and_kill(cluster, &args, (from, to), point)
}

/// Runs trib with `args` and SIGKILLs it at `point` (keys counted on node `to`, open slots
/// looked for on node `from`). Returns whether it was really killed (not finished first).
pub fn run_and_kill(
    cluster: &Cluster,
    args: &[&str],
    (from, to): (usize, usize),
    point: KillPoint,
) -> bool {
    let base = dbsize(cluster, to);
    let started = Instant::now();
    let err_path = cluster.root.path().join("reshard.err");
    let mut child = Command::new(trib_bin())
        .args(args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&err_path).unwrap()))
        .spawn()
        .unwrap();
    let mut c0 = cluster.nodes[from].client();
    let mut c1 = cluster.nodes[to].client();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            break;
        }
        let due = match point {
            KillPoint::FirstOpenSlot => redis::cmd("CLUSTER")
                .arg("NODES")
                .query::<String>(&mut c0)
                .unwrap()
                .contains("->-"),
            KillPoint::KeysArrived(n) => {
                redis::cmd("DBSIZE").query::<usize>(&mut c1).unwrap() >= base + n
            }
            KillPoint::After(wait) => started.elapsed() >= wait,
        };
        if due {
            break;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let killed = child.kill().is_ok();
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    killed && status.signal() == Some(9)
}

#[test]
fn killed_reshard_is_repaired_by_fix_without_losing_a_key() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let id = ids(&cluster);
        let n0 = &cluster.nodes[0];
        let mut keys = Vec::new();
        let mut c = n0.client();
        for t in tags_for_lowest_slots(&cluster) {
            let mut pipe = redis::pipe();
            for j in 0..KEYS_PER_SLOT {
                let k = format!("{{{t}}}:{j}");
                pipe.cmd("SET").arg(&k).arg(format!("v-{k}")).ignore();
                keys.push(k);
            }
            pipe.query::<()>(&mut c).unwrap();
        }
        // Early (slots still opening in the first chunk) and later (mid-stream).
        let points = [KillPoint::FirstOpenSlot, KillPoint::KeysArrived(1500)];
        for point in points {
            let killed = reshard_and_kill(&cluster, &id, FILLED_SLOTS / 2, point);
            assert!(
                killed,
                "{}: the reshard finished before it was killed",
                backend.name()
            );
            let broken = trib(&["check", &n0.addr()], None);
            assert_eq!(
                broken.code,
                1,
                "{}: the kill left open slots: {broken:?}",
                backend.name()
            );
            let fixed = trib(&["fix", &n0.addr()], None);
            assert_eq!(
                fixed.code,
                0,
                "{}: fix after kill: {fixed:?}",
                backend.name()
            );
            cluster.wait_agree(Duration::from_secs(20));
            let check = trib(&["check", &n0.addr()], None);
            assert_eq!(
                check.code,
                0,
                "{}: check after fix: {check:?}",
                backend.name()
            );
            assert_keys_intact(&cluster, &keys, backend.name());
        }
    }
}
