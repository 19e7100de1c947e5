//! A real cluster client (redis-py's RedisCluster) keeps writing and reading while trib reshards:
//! it must see nothing but redirections (which it follows), and no acknowledged write may be lost.

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
