//! `trib backup` and `trib restore` end to end on both backends: the files a backup writes
//! (names, nodes.json, each RDB holding exactly its master's keys), restore into clusters of
//! another shape (4 and 2 masters) giving back every key with its value and TTL, BUSYKEY
//! without --replace (reported, kept, exit 1), --replace, expired keys skipped, and the
//! cross-checks: real redis-cli's backup of trib-node restored by trib, and trib's backup of
//! redis-server restored into trib-node.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::cli_support::typed_content;
use crate::harness::{
    backends_with_cluster, require_redis_cli, run_program, trib, Backend, Cluster,
};

/// Content and PTTL of every key of a cluster, read from the masters.
type Contents = BTreeMap<Vec<u8>, (Vec<Vec<u8>>, i64)>;

fn masters(cluster: &Cluster) -> Vec<usize> {
    (0..cluster.nodes.len())
        .filter(|&i| {
            let info = cluster.nodes[i].cmd_string(&["INFO", "replication"]);
            info.contains("role:master")
        })
        .collect()
}

fn keys_of(cluster: &Cluster, i: usize) -> BTreeSet<Vec<u8>> {
    let v = cluster.nodes[i].cmd(&["KEYS", "*"]).unwrap();
    let keys: Vec<Vec<u8>> = redis::from_redis_value(&v).unwrap();
    keys.into_iter().collect()
}

fn contents(cluster: &Cluster) -> Contents {
    let mut all = Contents::new();
    for i in masters(cluster) {
        let mut c = cluster.nodes[i].client();
        for key in keys_of(cluster, i) {
            let content = typed_content(|cmd| cmd.query(&mut c).unwrap(), &key);
            let pttl: i64 = redis::cmd("PTTL").arg(&key).query(&mut c).unwrap();
            all.insert(key, (content, pttl));
        }
    }
    all
}

/// Runs one write on whichever node owns the key (the others answer MOVED).
fn write(conns: &mut [redis::Connection], args: &[&[u8]]) {
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        cmd.arg(*a);
    }
    let ok = conns
        .iter_mut()
        .any(|c| cmd.query::<redis::Value>(c).is_ok());
    assert!(
        ok,
        "no node accepted {:?}",
        String::from_utf8_lossy(args[1])
    );
}

/// Keys of every type (every third with a 10-minute TTL), big values in their large
/// encodings, binary names; returns the key count.
fn fill(cluster: &Cluster) -> usize {
    let mut conns: Vec<redis::Connection> = cluster.nodes.iter().map(|n| n.client()).collect();
    let mut n = 0;
    for i in 0..40 {
        let si = i.to_string();
        let s = si.as_bytes();
        let keys: [(Vec<u8>, Vec<&[u8]>); 6] = [
            (format!("str:{i}").into_bytes(), vec![b"SET", b"", b"value"]),
            (
                format!("list:{i}").into_bytes(),
                vec![b"RPUSH", b"", b"a", s],
            ),
            (
                format!("hash:{i}").into_bytes(),
                vec![b"HSET", b"", b"f", s, b"g", b"x"],
            ),
            (format!("set:{i}").into_bytes(), vec![b"SADD", b"", b"x", s]),
            (
                format!("zset:{i}").into_bytes(),
                vec![b"ZADD", b"", b"1.5", b"m", s, b"n"],
            ),
            (
                [&b"bin:\x00\xff"[..], s].concat(),
                vec![b"SET", b"", b"\x00\x01\x02"],
            ),
        ];
        for (key, mut words) in keys {
            words[1] = &key;
            write(&mut conns, &words);
            if n % 3 == 0 {
                write(&mut conns, &[b"PEXPIRE", &key, b"600000"]);
            }
            n += 1;
        }
    }
    let elements: Vec<Vec<u8>> = (0..700)
        .map(|i| format!("element-{i}").into_bytes())
        .collect();
    for (cmd, key) in [(&b"RPUSH"[..], &b"big:list"[..]), (b"SADD", b"big:set")] {
        let mut words: Vec<&[u8]> = vec![cmd, key];
        words.extend(elements.iter().map(|e| e.as_slice()));
        write(&mut conns, &words);
        n += 1;
    }
    let mut words: Vec<&[u8]> = vec![b"HSET", b"big:hash"];
    for e in &elements {
        words.push(e);
        words
            .push(b"a value long enough to need more than the listpack encoding allows: 64+ bytes");
    }
    write(&mut conns, &words);
    n + 1
}

fn run_ok(args: &[&str]) -> crate::harness::Run {
    let run = trib(args, None);
    assert_eq!(run.code, 0, "trib {args:?}: {run:?}");
    run
}

fn assert_same(restored: &Contents, expected: &Contents, what: &str) {
    let a: Vec<_> = restored.keys().collect();
    let b: Vec<_> = expected.keys().collect();
    assert_eq!(a, b, "{what}: key sets differ");
    for (key, (content, pttl)) in expected {
        let (got, got_ttl) = &restored[key];
        assert_eq!(got, content, "{what}: {:?}", String::from_utf8_lossy(key));
        if *pttl < 0 {
            assert_eq!(
                *got_ttl,
                -1,
                "{what}: {:?} gained a TTL",
                String::from_utf8_lossy(key)
            );
        } else {
            // ABSTTL keeps the absolute expiry: only the time between the reads differs.
            assert!(
                *got_ttl > 0 && *got_ttl <= *pttl && pttl - got_ttl < 60_000,
                "{what}: {:?} ttl {got_ttl} vs {pttl}",
                String::from_utf8_lossy(key)
            );
        }
    }
}

fn cluster_of(backend: Backend, n: usize) -> Option<Cluster> {
    let c = Cluster::start(backend, n);
    if n >= 3 {
        return c.create_with_redis_cli(0).then_some(c);
    }
    // Smaller than redis-cli (and create) accept: slots split by hand, then one MEET each.
    let per = 16384 / n;
    for (i, node) in c.nodes.iter().enumerate() {
        let (lo, hi) = (i * per, if i + 1 == n { 16383 } else { (i + 1) * per - 1 });
        node.cmd(&["CLUSTER", "ADDSLOTSRANGE", &lo.to_string(), &hi.to_string()])
            .unwrap();
        if i > 0 {
            let me = node.cmd_string(&["CLUSTER", "NODES"]);
            let bus = me
                .lines()
                .find(|l| l.contains("myself"))
                .and_then(|l| l.split(['@', ' ', ',']).nth(2).map(str::to_string))
                .unwrap();
            c.nodes[0]
                .cmd(&["CLUSTER", "MEET", "127.0.0.1", &node.port.to_string(), &bus])
                .unwrap();
        }
    }
    c.wait_agree(Duration::from_secs(30));
    Some(c)
}

fn flush(cluster: &Cluster) {
    for i in masters(cluster) {
        cluster.nodes[i].cmd(&["FLUSHALL"]).unwrap();
    }
}

fn restore(dst: &Cluster, dir: &Path, extra: &[&str]) -> crate::harness::Run {
    let entry = dst.nodes[0].addr();
    let mut args = vec!["restore", entry.as_str(), dir.to_str().unwrap()];
    args.extend(extra);
    trib(&args, None)
}

/// Checks the files of a backup of `src` (taken when it held `expected`); returns the paths
/// of the RDB files.
fn check_backup_files(dir: &Path, src: &Cluster, expected: &Contents) {
    let text = std::fs::read_to_string(dir.join("nodes.json")).unwrap();
    let nodes: serde_json::Value = serde_json::from_str(&text).unwrap();
    let nodes = nodes.as_array().unwrap();
    assert_eq!(nodes.len(), src.nodes.len());
    let mut seen = BTreeSet::new();
    for n in nodes.iter().filter(|n| n["replicate"].is_null()) {
        let (id, host, port) = (
            n["name"].as_str().unwrap(),
            n["host"].as_str().unwrap(),
            n["port"].as_u64().unwrap(),
        );
        assert_eq!(n["flags"], "master");
        assert!(n["slots_count"].as_u64().unwrap() > 5000, "{n}");
        assert!(n["slots"][0].as_array().unwrap().len() == 2, "{n}");
        let file = dir.join(format!("redis-node-{host}-{port}-{id}.rdb"));
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let snapshot = trib::node::rdb::file::read(&bytes).expect("a loadable RDB file");
        let in_file: BTreeSet<Vec<u8>> = snapshot.entries.iter().map(|e| e.key.to_vec()).collect();
        let i = src
            .nodes
            .iter()
            .position(|x| x.port as u64 == port)
            .unwrap();
        let on_node: BTreeSet<Vec<u8>> = keys_of(src, i)
            .into_iter()
            .filter(|k| expected.contains_key(k))
            .collect();
        let in_file: BTreeSet<Vec<u8>> = in_file
            .into_iter()
            .filter(|k| k.as_slice() != b"gone")
            .collect();
        assert_eq!(
            in_file,
            on_node,
            "{} holds exactly its master's keys",
            file.display()
        );
        for e in &snapshot.entries {
            let slot = trib::slot::key_slot(&e.key).get() as u64;
            let owned = n["slots"].as_array().unwrap().iter().any(|r| {
                let r = r.as_array().unwrap();
                let lo = r[0].as_u64().unwrap();
                let hi = r.last().unwrap().as_u64().unwrap();
                (lo..=hi).contains(&slot)
            });
            assert!(owned, "key of slot {slot} in {}", file.display());
        }
        seen.extend(in_file);
    }
    assert_eq!(seen.len(), expected.len(), "every key is in some file");
    assert!(
        std::fs::read_dir(dir).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")),
        "no temporary file is left"
    );
}

#[test]
fn backup_then_restore_into_other_shapes_gives_back_every_key() {
    for backend in backends_with_cluster() {
        let Some(src) = cluster_of(backend, 3) else {
            return;
        };
        let keys = fill(&src);
        // A key that is in the backup but expired by the time it is restored.
        let mut conns: Vec<redis::Connection> = src.nodes.iter().map(|n| n.client()).collect();
        write(&mut conns, &[b"SET", b"gone", b"soon", b"PX", b"2500"]);
        let gone_at = Instant::now() + Duration::from_millis(2500);
        let expected: Contents = contents(&src)
            .into_iter()
            .filter(|(k, _)| k.as_slice() != b"gone")
            .collect();
        assert_eq!(expected.len(), keys, "{backend:?} fill");

        let dir = tempfile::tempdir().unwrap();
        let bk = dir.path().join("bk");
        let run = run_ok(&["backup", &src.nodes[0].addr(), bk.to_str().unwrap()]);
        assert_eq!(run.stdout.matches("-> Saving RDB...").count(), 3, "{run:?}");
        assert!(run.stdout.contains("[OK] Backup created into:"), "{run:?}");
        check_backup_files(&bk, &src, &expected);

        let dst4 = cluster_of(backend, 4).unwrap();
        let dst2 = cluster_of(backend, 2).unwrap();
        std::thread::sleep(
            gone_at.saturating_duration_since(Instant::now()) + Duration::from_millis(200),
        );
        for dst in [&dst4, &dst2] {
            let run = restore(dst, &bk, &[]);
            assert_eq!(run.code, 0, "{backend:?}: {run:?}");
            assert!(
                run.stdout.contains(&format!("Restored {keys} key(s)")),
                "{run:?}"
            );
            assert!(run.stdout.contains("expired: 1;"), "{run:?}");
            assert_same(
                &contents(dst),
                &expected,
                &format!("{backend:?} into {} masters", dst.nodes.len()),
            );
        }

        // Again without --replace: every key is reported, nothing is overwritten.
        let owner = dst4
            .nodes
            .iter()
            .find(|n| n.cmd(&["SET", "str:1", "changed"]).is_ok())
            .expect("an owner of str:1");
        let run = restore(&dst4, &bk, &["--json"]);
        assert_eq!(run.code, 1, "{run:?}");
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(doc["existing"], keys as u64, "{doc}");
        assert_eq!(doc["restored"], 0);
        assert_eq!(
            doc["existing_keys"].as_array().unwrap().len(),
            100.min(keys)
        );
        assert_eq!(owner.cmd_string(&["GET", "str:1"]), "changed");
        let run = restore(&dst4, &bk, &[]);
        assert_eq!(run.code, 1);
        assert!(
            run.stdout
                .contains("already exist in the cluster and were kept"),
            "{run:?}"
        );
        assert!(
            run.stdout.contains("more)"),
            "the list of names is bounded: {run:?}"
        );

        // --replace overwrites (and asks first unless --yes).
        let run = restore(&dst4, &bk, &["--replace"]);
        assert_ne!(run.code, 0, "no answer on stdin declines: {run:?}");
        assert_eq!(owner.cmd_string(&["GET", "str:1"]), "changed");
        let run = restore(&dst4, &bk, &["--replace", "--yes", "--pipeline", "7"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(owner.cmd_string(&["GET", "str:1"]), "value");
        assert_same(
            &contents(&dst4),
            &expected,
            &format!("{backend:?} after --replace"),
        );

        // Cross-checks with the real tools.
        if !require_redis_cli() {
            continue;
        }
        match backend {
            Backend::TribNode => {
                // redis-cli's own backup of a trib-node cluster loads with trib's restore.
                let rc = dir.path().join("rc");
                std::fs::create_dir(&rc).unwrap();
                let out = run_program(
                    "redis-cli",
                    &[
                        "--cluster",
                        "backup",
                        &src.nodes[0].addr(),
                        rc.to_str().unwrap(),
                    ],
                    None,
                    &[],
                );
                assert_eq!(out.code, 0, "redis-cli backup: {out:?}");
                flush(&dst2);
                let run = restore(&dst2, &rc, &[]);
                assert_eq!(run.code, 0, "{run:?}");
                assert_same(&contents(&dst2), &expected, "redis-cli backup of trib-node");
            }
            Backend::Redis => {
                // trib's backup of redis-server loads into trib-node.
                let tn = cluster_of(Backend::TribNode, 3).unwrap();
                let run = restore(&tn, &bk, &[]);
                assert_eq!(run.code, 0, "{run:?}");
                assert_same(
                    &contents(&tn),
                    &expected,
                    "redis-server backup into trib-node",
                );
            }
        }
    }
}

#[test]
fn backup_and_restore_fail_clearly() {
    for backend in backends_with_cluster() {
        let Some(src) = cluster_of(backend, 3) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        // A path under a regular file cannot be created: exit 1 naming it.
        let file = dir.path().join("plain");
        std::fs::write(&file, "x").unwrap();
        let under = file.join("bk");
        let run = trib(
            &["backup", &src.nodes[0].addr(), under.to_str().unwrap()],
            None,
        );
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains("cannot create the directory"),
            "{run:?}"
        );

        // A backup with a master's file missing is refused before anything is written.
        let bk = dir.path().join("bk");
        run_ok(&["backup", &src.nodes[0].addr(), bk.to_str().unwrap()]);
        let victim = std::fs::read_dir(&bk)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "rdb"))
            .unwrap();
        std::fs::remove_file(&victim).unwrap();
        let run = restore(&src, &bk, &[]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("the backup is incomplete"), "{run:?}");

        // A corrupt file stops the restore with the file named.
        std::fs::write(&victim, b"REDIS0010\xfe\x00\x00\x03key").unwrap();
        let run = restore(&src, &bk, &[]);
        assert_eq!(run.code, 1, "{run:?}");
        let name = victim.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            run.stdout.contains(&name) || run.stderr.contains(&name),
            "{run:?}"
        );
    }
}
