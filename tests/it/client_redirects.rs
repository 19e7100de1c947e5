//! Cluster clients keep writing and reading while trib reshards: redis-py's RedisCluster during
//! one reshard, and a strict client that counts its redirections during repeated reshards of a
//! cluster with replicas. They must see nothing but redirections (which they follow), few of them
//! per command, and no acknowledged write may be lost.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{backends_with_cluster, trib, Backend, Cluster};

/// The client: SET rk:i then GET an earlier key, until the stop file appears (bounded to 120 s);
/// then re-reads every acknowledged key and writes a JSON summary.
const CLIENT: &str = r#"
import sys, time, json, os
from redis.cluster import RedisCluster
host, port, stopfile, outfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rc = RedisCluster(host=host, port=port, decode_responses=True)
acked, errors, i = [], [], 0
deadline = time.time() + 120
while time.time() < deadline and not os.path.exists(stopfile):
    try:
        rc.set(f"rk:{i}", f"v{i}")
        acked.append(i)
        j = acked[(i * 7919) % len(acked)]
        v = rc.get(f"rk:{j}")
        if v != f"v{j}":
            errors.append(f"GET rk:{j} returned {v!r}")
    except Exception as e:
        errors.append(f"{type(e).__name__}: {e}")
    i += 1
    if i % 200 == 0:
        open(outfile + ".progress", "w").write(str(len(acked)))
missing = [j for j in acked if rc.get(f"rk:{j}") != f"v{j}"]
json.dump({"acked": len(acked), "errors": errors[:10], "error_count": len(errors),
           "missing": missing[:10], "missing_count": len(missing)}, open(outfile, "w"))
"#;

fn masters(cluster: &Cluster) -> Vec<String> {
    let nodes = cluster.nodes[0].cmd_string(&["CLUSTER", "NODES"]);
    let mut ids: Vec<(u16, String)> = nodes
        .lines()
        .filter(|l| l.contains("master"))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let first_slot = f.get(8)?.split('-').next()?.parse().ok()?;
            Some((first_slot, f[0].to_string()))
        })
        .collect();
    ids.sort();
    ids.into_iter().map(|(_, id)| id).collect()
}

fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn client_survives_reshard(backend: Backend) {
    let cluster = Cluster::start(backend, 3);
    let created = trib(
        &[
            "create",
            "--yes",
            &cluster.addrs()[0],
            &cluster.addrs()[1],
            &cluster.addrs()[2],
        ],
        None,
    );
    assert_eq!(created.code, 0, "{created:?}");
    cluster.wait_agree(Duration::from_secs(30));
    let ids = masters(&cluster);
    let dir = cluster.root.path();
    let (stop, out) = (dir.join("stop"), dir.join("client.json"));
    let mut client = Command::new("python3")
        .args([
            "-c",
            CLIENT,
            "127.0.0.1",
            &cluster.nodes[0].port.to_string(),
        ])
        .arg(&stop)
        .arg(&out)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with redis-py (pip install redis)");
    let progress = out.with_extension("json.progress");
    wait_for("the client's first writes", Duration::from_secs(30), || {
        progress.exists()
    });

    let run = trib(
        &[
            "reshard",
            &cluster.addrs()[0],
            "--from",
            &ids[0],
            "--to",
            &ids[1],
            "--slots",
            "1500",
            "--yes",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{run:?}");
    std::fs::write(&stop, b"").unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = client.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = client.kill();
            panic!("client did not stop within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = client.stderr.take().map(|mut e| {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut e, &mut s);
        s
    });
    assert!(status.success(), "client failed: {stderr:?}");
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(
        summary["error_count"],
        0,
        "{} client errors: {summary}",
        backend.name()
    );
    assert_eq!(
        summary["missing_count"],
        0,
        "{} lost writes: {summary}",
        backend.name()
    );
    assert!(summary["acked"].as_u64().unwrap() > 200, "{summary}");
    let check = trib(&["check", &cluster.addrs()[0]], None);
    assert_eq!(check.code, 0, "{check:?}");
}

#[test]
fn redis_py_cluster_client_follows_redirections_during_reshard() {
    for backend in backends_with_cluster() {
        client_survives_reshard(backend);
    }
}

/// The strict client of issue 15: it follows MOVED/ASK, and after every MOVED it reloads its whole
/// slot map (CLUSTER SLOTS) from ONE fixed startup node and goes where that map says, so any node
/// the startup node has not yet told about a move costs it one more redirection. It counts the
/// redirections of every command and gives up on a command after 100. Its keys aim at the slots a
/// `--from all` reshard moves first (the lowest slots of every owner range), with a tag per slot.
/// Arguments: host port stopfile outfile seed. Bounded to 180 s.
const STRICT_CLIENT: &str = r#"
import sys, time, json, os, binascii, random
import redis
host, port, stopfile, outfile, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
LIMIT = 100

def key_slot(k):
    k = k.encode()
    s = k.find(b"{")
    if s != -1:
        e = k.find(b"}", s + 1)
        if e != -1 and e != s + 1:
            k = k[s + 1:e]
    return binascii.crc_hqx(k, 0) % 16384

conns = {}
def conn(addr):
    if addr not in conns:
        h, p = addr.rsplit(":", 1)
        conns[addr] = redis.Redis(host=h, port=int(p), decode_responses=True,
                                  single_connection_client=True, socket_timeout=10)
    return conns[addr]

startup = f"{host}:{port}"
slots, refreshes = [None] * 16384, [0]
def refresh():
    refreshes[0] += 1
    for r in conn(startup).execute_command("CLUSTER", "SLOTS"):
        addr = f"{r[2][0]}:{r[2][1]}"
        for s in range(r[0], r[1] + 1):
            slots[s] = addr

hist, worst = {}, []
def run(*args):
    slot = key_slot(args[1])
    addr, asking, redirs, trail = slots[slot], False, 0, []
    while True:
        try:
            if asking:
                conn(addr).execute_command("ASKING")
            v = conn(addr).execute_command(*args)
            hist[redirs] = hist.get(redirs, 0) + 1
            if redirs >= 3:
                worst.append({"redirections": redirs, "slot": slot, "trail": trail[:8]})
            return v
        except redis.exceptions.ResponseError as e:
            kind, _, rest = str(e).partition(" ")
            if kind == "MOVED":
                trail.append(f"{addr} MOVED {rest.split(' ')[1]}")
                refresh()
                addr, asking = slots[slot], False
            elif kind == "ASK":
                trail.append(f"{addr} ASK {rest.split(' ')[1]}")
                addr, asking = rest.split(" ")[1], True
            else:
                raise
            redirs += 1
            if redirs >= LIMIT:
                raise Exception(f"{redirs} redirections for slot {slot}: {trail[:6]}")

tags, n, left = [None] * 16384, 0, 16384
while left:
    s = key_slot(f"t{n}")
    if tags[s] is None:
        tags[s], left = f"t{n}", left - 1
    n += 1
rng, starts = random.Random(seed), [None, []]
def pick_slot():
    if rng.random() < 0.2:
        return rng.randrange(16384)
    if starts[0] != refreshes[0]:
        starts[:] = [refreshes[0], [s for s in range(16384) if s == 0 or slots[s] != slots[s - 1]]]
    return (rng.choice(starts[1]) + rng.randrange(48)) % 16384

refresh()
acked, errors, i = [], [], 0
deadline = time.time() + 180
while time.time() < deadline and not os.path.exists(stopfile):
    try:
        k = "{%s}:%d" % (tags[pick_slot()], i)
        run("SET", k, f"v{i}")
        acked.append((k, i))
        k2, j = acked[(i * 7919) % len(acked)]
        v = run("GET", k2)
        if v != f"v{j}":
            errors.append(f"GET {k2} returned {v!r}")
    except Exception as e:
        errors.append(f"{type(e).__name__}: {e}")
    i += 1
    if i % 100 == 0:
        open(outfile + ".progress", "w").write(str(len(acked)))
missing = []
for k, j in acked:
    try:
        if run("GET", k) != f"v{j}":
            missing.append(k)
    except Exception as e:
        errors.append(f"final GET {k}: {type(e).__name__}: {e}")
        missing.append(k)
json.dump({"acked": len(acked), "errors": errors[:10], "error_count": len(errors),
           "missing": missing[:10], "missing_count": len(missing),
           "max_redirections": max(hist), "redirected": sum(v for r, v in hist.items() if r),
           "histogram": {str(r): v for r, v in sorted(hist.items())}, "refreshes": refreshes[0],
           "worst": sorted(worst, key=lambda w: -w["redirections"])[:3]}, open(outfile, "w"))
"#;

/// Most redirections one command of the strict client may need during a reshard.
const MAX_REDIRECTIONS: u64 = 5;
/// Reshard rounds per backend, and the master (by first slot) each one moves 100 slots to: a
/// fixed "random" order, with one target twice in a row.
const TARGETS: [usize; 8] = [1, 3, 3, 0, 4, 2, 0, 1];

/// One running strict client.
struct StrictClient {
    child: std::process::Child,
    out: std::path::PathBuf,
    startup: String,
}

fn spawn_strict_client(
    startup: &str,
    stop: &std::path::Path,
    out: std::path::PathBuf,
    seed: u32,
) -> StrictClient {
    let (host, port) = startup.rsplit_once(':').unwrap();
    let child = Command::new("python3")
        .args(["-c", STRICT_CLIENT, host, port])
        .arg(stop)
        .arg(&out)
        .arg(seed.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with redis-py (pip install redis)");
    StrictClient {
        child,
        out,
        startup: startup.to_string(),
    }
}

impl StrictClient {
    fn wait_started(&self) {
        let progress = self.out.with_extension("json.progress");
        wait_for(
            "the client's first commands",
            Duration::from_secs(60),
            || progress.exists(),
        );
    }

    /// Waits (bounded) for the client to exit after the stop file appeared; its summary.
    fn finish(mut self) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(90);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("client did not stop within 90 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
        }
        assert!(status.success(), "client failed: {stderr}");
        serde_json::from_slice(&std::fs::read(&self.out).unwrap()).unwrap()
    }
}

/// (address of every master in first-slot order, address of every replica).
fn roles(cluster: &Cluster) -> (Vec<(String, String)>, Vec<String>) {
    let nodes = cluster.nodes[0].cmd_string(&["CLUSTER", "NODES"]);
    let addr = |f: &[&str]| f[1].split('@').next().unwrap().to_string();
    let mut masters: Vec<(u16, String, String)> = Vec::new();
    let mut replicas = Vec::new();
    for l in nodes.lines() {
        let f: Vec<&str> = l.split(' ').collect();
        if f[2].contains("slave") {
            replicas.push(addr(&f));
        } else if let Some(first) = f.get(8).and_then(|s| s.split('-').next()?.parse().ok()) {
            masters.push((first, f[0].to_string(), addr(&f)));
        }
    }
    masters.sort();
    (
        masters.into_iter().map(|(_, id, a)| (id, a)).collect(),
        replicas,
    )
}

fn strict_clients_over_repeated_reshards(backend: Backend) {
    let cluster = Cluster::start(backend, 10);
    let mut args = vec!["create", "--replicas", "1", "--yes"];
    let addrs = cluster.addrs();
    args.extend(addrs.iter().map(String::as_str));
    let created = trib(&args, None);
    assert_eq!(created.code, 0, "{created:?}");
    cluster.wait_agree(Duration::from_secs(60));
    let (masters, replicas) = roles(&cluster);
    assert_eq!(
        (masters.len(), replicas.len()),
        (5, 5),
        "{masters:?} {replicas:?}"
    );
    let dir = cluster.root.path();
    let stop = dir.join("stop");
    // One client reads its map from a master, one from a replica (learns moves only by gossip).
    let clients = [
        spawn_strict_client(&masters[2].1, &stop, dir.join("via-master.json"), 1),
        spawn_strict_client(&replicas[0], &stop, dir.join("via-replica.json"), 2),
    ];
    for c in &clients {
        c.wait_started();
    }
    let started = Instant::now();
    for (round, &t) in TARGETS.iter().enumerate() {
        let run = trib(
            &[
                "reshard",
                &addrs[0],
                "--from",
                "all",
                "--to",
                &masters[t].0,
                "--slots",
                "100",
                "--yes",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{} round {round}: {run:?}", backend.name());
    }
    let reshards = started.elapsed();
    std::fs::write(&stop, b"").unwrap();
    for c in clients {
        let startup = c.startup.clone();
        let summary = c.finish();
        eprintln!(
            "{} strict client via {startup}: {} rounds in {:.1} s: {summary}",
            backend.name(),
            TARGETS.len(),
            reshards.as_secs_f64()
        );
        assert_eq!(
            summary["error_count"],
            0,
            "{} client errors: {summary}",
            backend.name()
        );
        assert_eq!(
            summary["missing_count"],
            0,
            "{} lost writes: {summary}",
            backend.name()
        );
        assert!(summary["acked"].as_u64().unwrap() > 50, "{summary}");
        // the clients did meet the moves (else the bound below proves nothing)
        assert!(summary["redirected"].as_u64().unwrap() > 0, "{summary}");
        assert!(
            summary["max_redirections"].as_u64().unwrap() <= MAX_REDIRECTIONS,
            "{} a command needed more than {MAX_REDIRECTIONS} redirections: {summary}",
            backend.name()
        );
    }
    let check = trib(&["check", &addrs[0]], None);
    assert_eq!(check.code, 0, "{check:?}");
}

#[test]
fn strict_client_redirections_stay_bounded_over_repeated_reshards() {
    for backend in backends_with_cluster() {
        strict_clients_over_repeated_reshards(backend);
    }
}
