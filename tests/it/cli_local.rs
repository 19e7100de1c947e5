//! `trib sandbox` and `trib demo` end to end: processes started, cluster usable, Ctrl-C (SIGINT
//! by PID) stops exactly what was started and removes its files; the demo exits 0 with every
//! key intact.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{require_redis, trib, trib_bin};

#[test]
fn demo_runs_to_the_end_on_redis_server() {
    if !require_redis() {
        return;
    }
    let run = trib(&["demo", "--server", "redis-server"], None);
    assert_eq!(run.code, 0, "{run:?}");
    for needle in [
        "[OK] trib create: 3 masters + 3 replicas",
        "[OK] Loaded 300 keys: 50 of each type",
        "[OK] trib check: the cluster is healthy",
        "joined as an empty master",
        "[OK] trib reshard: moved 1000 slots (and their keys) to the new master",
        "[OK] trib rebalance: slots evened out across 4 masters",
        "[OK] trib check: healthy again",
        "[OK] All 300 keys read back intact from their owners",
        "[OK] Demo finished; every server it started is stopped.",
    ] {
        assert!(run.stdout.contains(needle), "missing {needle:?}: {run:?}");
    }
}

#[test]
fn sandbox_serves_until_interrupted_then_cleans_up() {
    if !require_redis() {
        return;
    }
    let mut child = Command::new(trib_bin())
        .args([
            "sandbox",
            "--server",
            "redis-server",
            "--masters",
            "3",
            "--replicas",
            "0",
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = Vec::new();
    while !lines.iter().any(|l: &String| l.contains("Press Ctrl-C")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => lines.push(l),
            Err(_) => {
                let _ = child.kill();
                panic!("sandbox did not get ready: {lines:?}");
            }
        }
    }
    let dir = lines[0]
        .split(" nodes in ")
        .nth(1)
        .expect("first line names the directory")
        .to_string();
    let entry = lines
        .iter()
        .find(|l| l.starts_with("   127.0.0.1:"))
        .unwrap()
        .trim()
        .to_string();
    let run = trib(&["check", &entry], None);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(std::path::Path::new(&dir).is_dir());

    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sandbox did not stop after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(0));
    assert!(
        !std::path::Path::new(&dir).exists(),
        "{dir} was not removed"
    );
    // the servers are gone
    let run = trib(&["info", &entry], None);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("Connection refused"), "{run:?}");
}

#[test]
fn sandbox_rejects_bad_sizes() {
    let run = trib(&["sandbox", "--masters", "2"], None);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("at least 3 masters"), "{run:?}");
}
