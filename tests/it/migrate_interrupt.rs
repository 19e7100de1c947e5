//! Ctrl-C during a reshard: trib finishes the slots it has opened, opens no more, exits 130,
//! and leaves no open slot and no lost key behind.

use std::process::{Command, Stdio};
use std::time::Duration;

use trib::slot::key_slot;

use crate::harness::{backends_with_cluster, trib, trib_bin, Cluster};
use crate::migrate_support::{ids, slot_map};

#[test]
fn interrupted_reshard_leaves_no_open_slot() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let id = ids(&cluster);
        let map = slot_map(&cluster);
        let n0 = &cluster.nodes[0];
        // ~100 keys in each of node 0's first 1500 slots
        let mut tags = vec![None; 16384];
        let mut found = 0;
        for i in 0..200_000u32 {
            let t = format!("t{i}");
            let s = key_slot(t.as_bytes()).index();
            if s < 1500 && map[s] == n0.port && tags[s].is_none() {
                tags[s] = Some(t);
                found += 1;
                if found == 1500 {
                    break;
                }
            }
        }
        let mut c = n0.client();
        let mut total = 0;
        for t in tags.iter().flatten() {
            let mut pipe = redis::pipe();
            for j in 0..100 {
                pipe.cmd("SET").arg(format!("{{{t}}}:{j}")).arg(j).ignore();
            }
            pipe.query::<()>(&mut c).unwrap();
            total += 100;
        }
        // stdout to a file: the plan alone would fill a pipe nobody reads yet
        let out_path = cluster.root.path().join("reshard.out");
        let out_file = std::fs::File::create(&out_path).unwrap();
        let child = Command::new(trib_bin())
            .args([
                "reshard",
                &n0.addr(),
                "--from",
                &id[0],
                "--to",
                &id[1],
                "--slots",
                "1500",
                "--yes",
                "--pipeline",
                "5",
            ])
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::from(out_file))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // interrupt once the first slots have moved (plain progress lines on stderr)
        let mut child = child;
        let stderr = child.stderr.take().unwrap();
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
        for line in lines.by_ref().take(100_000) {
            if line.unwrap().starts_with("Moved slot") {
                break;
            }
        }
        let pid = child.id().to_string();
        Command::new("kill").args(["-INT", &pid]).status().unwrap();
        let drain = std::thread::spawn(move || lines.count());
        let status = child.wait().unwrap();
        drain.join().unwrap();
        let stdout = std::fs::read_to_string(&out_path).unwrap();
        assert_eq!(status.code(), Some(130), "{stdout}");
        assert!(stdout.contains("Interrupted:"), "{stdout}");
        assert!(
            !stdout.contains("[OK] Moved"),
            "an interrupted run claims success: {stdout}"
        );
        cluster.wait_agree(Duration::from_secs(20));
        let run = trib(&["check", &n0.addr()], None);
        assert_eq!(run.code, 0, "no open slot may remain: {run:?}");
        let moved = slot_map(&cluster)
            .iter()
            .filter(|&&p| p == cluster.nodes[1].port)
            .count();
        assert!(
            moved > 5462 && moved < 5462 + 1500,
            "moved {}",
            moved - 5462
        );
        let keys: i64 = cluster
            .nodes
            .iter()
            .map(|n| redis::cmd("DBSIZE").query::<i64>(&mut n.client()).unwrap())
            .sum();
        assert_eq!(keys, total);
    }
}
