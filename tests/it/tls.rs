//! trib over TLS against nodes that serve TLS only (bus and replication over TLS too): create
//! (with and without replicas), check, info, call, add-node, a reshard with keys (MIGRATE between
//! the servers over TLS), the real redis-cli agreeing; mutual TLS, `--insecure`, `--sni`, wrong CA,
//! plain port, bad files, and a password that never shows.

use std::collections::BTreeMap;

use crate::harness::{require_redis, require_redis_cli, run_program, trib, Backend, Node, Run};
use crate::tls_support::{Pki, TlsCluster, TlsSetup, SNI_NAME};

/// Backends whose TLS side exists today.
fn tls_backends() -> Vec<Backend> {
    if require_redis() {
        vec![Backend::Redis]
    } else {
        vec![]
    }
}

/// The error output is one line, and it says each of `words`.
fn assert_one_line_error(run: &Run, words: &[&str]) {
    assert_eq!(run.code, 1, "{run:?}");
    let text = run.stderr.trim_end();
    assert_eq!(text.lines().count(), 1, "one error line expected: {run:?}");
    eprintln!("error line: {text}");
    for w in words {
        assert!(text.contains(w), "error line should say {w:?}: {run:?}");
    }
    assert!(!text.contains("panicked"), "{run:?}");
}

/// Master TLS port -> its slot ranges, from a node's CLUSTER NODES.
fn owners(c: &TlsCluster) -> BTreeMap<u16, Vec<(u16, u16)>> {
    let mut map = BTreeMap::new();
    for line in c.nodes[0].cli(&["CLUSTER", "NODES"]).lines() {
        let f: Vec<&str> = line.split(' ').collect();
        if !f[2].contains("master") {
            continue;
        }
        let port: u16 = f[1]
            .split('@')
            .next()
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let ranges = f[8..]
            .iter()
            .filter(|s| !s.starts_with('['))
            .map(|r| match r.split_once('-') {
                Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
                None => (r.parse().unwrap(), r.parse().unwrap()),
            })
            .collect();
        map.insert(port, ranges);
    }
    map
}

/// Writes `n` keys `key:<i>` = `value:<i>`, each on the master that owns its slot (one SET per
/// line through redis-cli's stdin: MSET would span slots).
fn load_keys(c: &TlsCluster, n: usize) {
    let owners = owners(c);
    let mut per_port: BTreeMap<u16, String> = BTreeMap::new();
    for i in 0..n {
        let key = format!("key:{i}");
        let slot = trib::slot::key_slot(key.as_bytes()).get();
        let port = owners
            .iter()
            .find(|(_, ranges)| ranges.iter().any(|(a, b)| (*a..=*b).contains(&slot)))
            .map(|(p, _)| *p)
            .expect("every slot has an owner");
        per_port
            .entry(port)
            .or_default()
            .push_str(&format!("SET {key} value:{i}\n"));
    }
    for (port, commands) in per_port {
        let node = c.nodes.iter().find(|n| n.port == port).unwrap();
        let run = node.cli_stdin(&[], Some(&commands));
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(
            run.stdout.lines().filter(|l| *l == "OK").count(),
            commands.lines().count(),
            "{run:?}"
        );
    }
}

fn dbsize(c: &TlsCluster, i: usize) -> usize {
    c.nodes[i].cli(&["DBSIZE"]).parse().unwrap()
}

#[test]
fn tls_create_check_info_call_add_node_reshard() {
    for backend in tls_backends() {
        let mut c = TlsCluster::start(backend, 3, TlsSetup::default());
        let run = c.create(0);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.contains("[OK] All 16384 slots covered."),
            "{run:?}"
        );
        let entry = c.nodes[0].addr();

        let run = c.trib(&["check", &entry]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout
                .contains("[OK] All nodes agree about slots configuration."),
            "{run:?}"
        );

        load_keys(&c, 300);
        // --cacertdir: every PEM in the directory (keys among them are skipped).
        let dir = c.pki.dir.path().display().to_string();
        let run = trib(&["--tls", "--cacertdir", &dir, "info", &entry], None);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.contains("[OK] 300 keys in 3 masters."),
            "{run:?}"
        );

        let run = c.trib(&["call", &entry, "DBSIZE"]);
        assert_eq!(run.code, 0, "{run:?}");
        for addr in c.addrs() {
            assert!(run.stdout.contains(&addr), "{addr} missing: {run:?}");
        }

        let new_addr = c.add_node().addr();
        let run = c.trib(&["add-node", &new_addr, &entry]);
        assert_eq!(run.code, 0, "{run:?}");
        let new_id = c.nodes[3].cli(&["CLUSTER", "MYID"]);
        let run = c.trib(&[
            "reshard", &entry, "--from", "all", "--to", &new_id, "--slots", "1000", "--yes",
        ]);
        assert_eq!(run.code, 0, "{run:?}");
        let moved = dbsize(&c, 3);
        assert!(moved > 0, "keys should have moved to the new master");
        let total: usize = (0..4).map(|i| dbsize(&c, i)).sum();
        assert_eq!(total, 300, "no key lost or duplicated");

        let run = c.trib(&["check", &entry]);
        assert_eq!(run.code, 0, "{run:?}");
        let run = c.trib(&["info", &entry]);
        assert!(
            run.stdout.contains("[OK] 300 keys in 4 masters."),
            "{run:?}"
        );
        // A moved key reads back, with its value, from its new owner.
        let key = c.nodes[3].cli(&["RANDOMKEY"]);
        let i = key.strip_prefix("key:").expect("a loaded key");
        assert_eq!(c.nodes[3].cli(&["GET", &key]), format!("value:{i}"));
    }
}

#[test]
fn tls_create_with_replicas_redis_cli_agrees() {
    for backend in tls_backends() {
        let c = TlsCluster::start(backend, 6, TlsSetup::default());
        let run = c.create(1);
        assert_eq!(run.code, 0, "{run:?}");
        let entry = c.nodes[5].addr();
        let run = c.trib(&["check", &entry]);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(
            run.stdout.matches("1 additional replica(s)").count(),
            3,
            "{run:?}"
        );

        if require_redis_cli() {
            let mut args: Vec<String> = c.pki.redis_cli_args();
            args.extend(["--cluster".into(), "check".into(), entry.clone()]);
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let rc = run_program("redis-cli", &argv, None, &[]);
            assert_eq!(rc.code, 0, "{rc:?}");
            assert!(
                rc.stdout
                    .contains("[OK] All nodes agree about slots configuration."),
                "{rc:?}"
            );
            assert!(
                rc.stdout.contains("[OK] All 16384 slots covered."),
                "{rc:?}"
            );
            assert_eq!(
                rc.stdout.matches("1 additional replica(s)").count(),
                3,
                "{rc:?}"
            );
        }
    }
}

#[test]
fn tls_mutual_auth_needs_the_client_certificate() {
    for backend in tls_backends() {
        let setup = TlsSetup {
            require_client_cert: true,
            ..TlsSetup::default()
        };
        let c = TlsCluster::start(backend, 3, setup);
        let run = c.create(0);
        assert_eq!(run.code, 0, "{run:?}");
        let entry = c.nodes[1].addr();
        let run = c.trib(&["check", &entry]);
        assert_eq!(run.code, 0, "{run:?}");

        let run = c.trib_with(&c.pki.trib_args(), &["check", &entry]);
        assert_one_line_error(&run, &[&entry]);
    }
}

#[test]
fn tls_insecure_wrong_ca_and_plain_ports() {
    for backend in tls_backends() {
        let c = TlsCluster::start(backend, 3, TlsSetup::default());
        assert_eq!(c.create(0).code, 0);
        let entry = c.nodes[2].addr();

        // The system store does not know the test CA...
        let run = trib(&["--tls", "check", &entry], None);
        assert_one_line_error(&run, &[&entry, "certificate"]);
        // ...nor does an unrelated CA.
        let other = Pki::path(&c.pki.other_ca);
        let run = trib(&["--tls", "--cacert", &other, "check", &entry], None);
        assert_one_line_error(&run, &[&entry, "certificate"]);
        // --insecure: encrypted, not authenticated.
        let run = trib(&["--tls", "--insecure", "check", &entry], None);
        assert_eq!(run.code, 0, "{run:?}");

        // Plain client to a TLS port.
        let run = trib(&["check", &entry], None);
        assert_one_line_error(&run, &[&entry]);

        // TLS client to a plain port.
        let root = tempfile::tempdir().unwrap();
        let plain = Node::start(backend, true, &[], root.path());
        let run = c.trib(&["check", &plain.addr()]);
        assert_one_line_error(&run, &[&plain.addr(), "TLS handshake", "TLS port"]);
    }
}

#[test]
fn tls_sni_names_the_server() {
    for backend in tls_backends() {
        let setup = TlsSetup {
            named_cert: true,
            ..TlsSetup::default()
        };
        let c = TlsCluster::start(backend, 3, setup);
        let mut tls = c.pki.trib_args();
        tls.extend(["--sni".into(), SNI_NAME.into()]);
        let addrs = c.addrs();
        let mut args = vec!["create"];
        args.extend(addrs.iter().map(String::as_str));
        args.push("--yes");
        let run = c.trib_with(&tls, &args);
        assert_eq!(run.code, 0, "{run:?}");
        let run = c.trib_with(&tls, &["check", &addrs[0]]);
        assert_eq!(run.code, 0, "{run:?}");

        // Without --sni the certificate does not match 127.0.0.1.
        let run = c.trib(&["check", &addrs[0]]);
        assert_one_line_error(&run, &[&addrs[0], "certificate"]);
        let mut wrong = c.pki.trib_args();
        wrong.extend(["--sni".into(), "other.trib.test".into()]);
        let run = c.trib_with(&wrong, &["check", &addrs[0]]);
        assert_one_line_error(&run, &[&addrs[0], "certificate"]);
    }
}

#[test]
fn tls_password_is_never_printed() {
    const PASS: &str = "tls-s3cret-pass";
    const WRONG: &str = "wrong-s3cret-pass";
    for backend in tls_backends() {
        let setup = TlsSetup {
            password: Some(PASS.into()),
            ..TlsSetup::default()
        };
        let c = TlsCluster::start(backend, 3, setup);
        let mut tls = c.pki.trib_args();
        tls.extend(["-a".into(), PASS.into()]);
        let addrs = c.addrs();
        let mut args = vec!["create"];
        args.extend(addrs.iter().map(String::as_str));
        args.push("--yes");
        let mut runs = vec![c.trib_with(&tls, &args)];
        assert_eq!(runs[0].code, 0, "{:?}", runs[0]);
        runs.push(c.trib_with(&tls, &["check", &addrs[0]]));
        assert_eq!(runs[1].code, 0, "{:?}", runs[1]);
        let mut bad = c.pki.trib_args();
        bad.extend(["-a".into(), WRONG.into()]);
        runs.push(c.trib_with(&bad, &["check", &addrs[0]]));
        assert_eq!(runs[2].code, 1, "{:?}", runs[2]);
        for run in &runs {
            for secret in [PASS, WRONG] {
                assert!(
                    !run.stdout.contains(secret) && !run.stderr.contains(secret),
                    "{run:?}"
                );
            }
        }
    }
}

#[test]
fn tls_bad_files_fail_with_one_line_naming_the_file() {
    let pki = Pki::new();
    let dir = pki.dir.path();
    let entry = "127.0.0.1:1";
    let missing = dir.join("missing.crt").display().to_string();
    let run = trib(&["--tls", "--cacert", &missing, "check", entry], None);
    assert_one_line_error(&run, &[&missing, "No such file"]);

    let garbage = dir.join("garbage.crt");
    std::fs::write(&garbage, "this is not PEM\n").unwrap();
    let garbage = garbage.display().to_string();
    let run = trib(&["--tls", "--cacert", &garbage, "check", entry], None);
    assert_one_line_error(&run, &[&garbage, "no PEM certificate"]);

    let broken = dir.join("broken.crt");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\n!!not base64!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let broken = broken.display().to_string();
    let run = trib(&["--tls", "--cacert", &broken, "check", entry], None);
    assert_one_line_error(&run, &[&broken]);

    // A certificate given as the key, and a lone --cert.
    let ca = Pki::path(&pki.ca);
    let cert = Pki::path(&pki.client_cert);
    let run = trib(
        &[
            "--cacert", &ca, "--cert", &cert, "--key", &ca, "check", entry,
        ],
        None,
    );
    assert_one_line_error(&run, &[&ca, "private key"]);
    let run = trib(&["--cacert", &ca, "--cert", &cert, "check", entry], None);
    assert_one_line_error(&run, &["--key"]);
    // A key that does not belong to the certificate.
    let other_key = Pki::path(&pki.server_key);
    let run = trib(
        &[
            "--cacert", &ca, "--cert", &cert, "--key", &other_key, "check", entry,
        ],
        None,
    );
    assert_eq!(run.code, 1, "{run:?}");

    let empty = tempfile::tempdir().unwrap();
    let empty_dir = empty.path().display().to_string();
    let run = trib(&["--tls", "--cacertdir", &empty_dir, "check", entry], None);
    assert_one_line_error(&run, &[&empty_dir]);
}
