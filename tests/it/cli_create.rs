//! `trib create` as a user runs it: the plan (exact, redacted), the confirmation through piped
//! stdin (yes, no, EOF), `--yes`/REDISCLI_CLUSTER_YES, `--dry-run`, the result checked by the
//! real redis-cli, and every refusal with its message and exit code.

use crate::cli_support::redact;
use crate::harness::{backends_with_cluster, run_program, trib, trib_env, Cluster, Node};

const PLAN_6: &str = "\
>>> Performing hash slots allocation on 6 nodes...
Master[0] -> Slots 0 - 5460
Master[1] -> Slots 5461 - 10922
Master[2] -> Slots 10923 - 16383
>>> Trying to optimize slaves allocation for anti-affinity
Adding replica n4 to n0
Adding replica n5 to n1
Adding replica n3 to n2
[WARNING] Some slaves are in the same host as their master
M: <id0> n0
   slots:[0-5460] (5461 slots) master
M: <id1> n1
   slots:[5461-10922] (5462 slots) master
M: <id2> n2
   slots:[10923-16383] (5461 slots) master
S: <id3> n3
   replicates <id2>
S: <id4> n4
   replicates <id0>
S: <id5> n5
   replicates <id1>
";

fn known_nodes(n: &Node) -> usize {
    n.cmd_string(&["CLUSTER", "NODES"]).lines().count()
}

#[test]
fn create_builds_a_cluster_redis_cli_calls_healthy() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 6);
        let mut args = vec!["create"];
        let addrs = cluster.addrs();
        args.extend(addrs.iter().map(String::as_str));
        args.extend(["--replicas", "1", "--yes"]);
        let run = trib(&args, None);
        assert_eq!(run.code, 0, "{run:?}");
        let text = redact(&run.stdout, &cluster);
        assert!(text.starts_with(PLAN_6), "{text}");
        assert!(text.contains(">>> Sending CLUSTER MEET messages to join the cluster\nWaiting for the cluster to join\n"), "{text}");
        assert!(text.ends_with("[OK] All nodes agree about slots configuration.\n>>> Check for open slots...\n>>> Check slots coverage...\n[OK] All 16384 slots covered.\n"), "{text}");

        if crate::harness::require_redis_cli() {
            let rc = run_program("redis-cli", &["--cluster", "check", &addrs[3]], None, &[]);
            assert_eq!(rc.code, 0, "{rc:?}");
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
        // The next command of a script works at once.
        let run = trib(&["info", &addrs[5]], None);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains("[OK] 0 keys in 3 masters."), "{run:?}");
    }
}

#[test]
fn create_asks_and_respects_the_answer() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        let addrs = cluster.addrs();
        let mut args = vec!["create"];
        args.extend(addrs.iter().map(String::as_str));

        let run = trib(&args, Some("no\n"));
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr
                .contains("Can I set the above configuration? (type 'yes' to accept): "),
            "{run:?}"
        );
        assert!(
            run.stderr
                .contains("error: configuration declined; nothing was changed"),
            "{run:?}"
        );
        let run = trib(&args, Some(""));
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr
                .contains("no answer (stdin is closed); nothing was changed"),
            "{run:?}"
        );
        let mut dry = args.clone();
        dry.push("--dry-run");
        let run = trib(&dry, None);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.contains("Master[2] -> Slots 10923 - 16383"),
            "{run:?}"
        );
        assert!(
            run.stdout.ends_with("*** Dry run: nothing was changed.\n"),
            "{run:?}"
        );
        for n in &cluster.nodes {
            assert_eq!(known_nodes(n), 1);
            assert!(n
                .cmd_string(&["CLUSTER", "INFO"])
                .contains("cluster_slots_assigned:0"));
        }
        let run = trib(&args, Some("yes\n"));
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.contains("[OK] All 16384 slots covered."),
            "{run:?}"
        );
        for n in &cluster.nodes {
            assert_eq!(known_nodes(n), 3);
        }
        // Now every node is in a cluster: a second create is refused.
        let run = trib(&args, Some("yes\n"));
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr
                .contains("is not empty: it already knows 2 other node(s)"),
            "{run:?}"
        );
    }
}

#[test]
fn create_env_yes_and_json() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        let addrs = cluster.addrs();
        let mut args = vec!["create", "--json"];
        args.extend(addrs.iter().map(String::as_str));
        let run = trib_env(&args, None, &[("REDISCLI_CLUSTER_YES", "1")]);
        assert_eq!(run.code, 0, "{run:?}");
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
        assert_eq!(doc["ok"], true);
        assert_eq!(doc["plan"]["nodes"].as_array().unwrap().len(), 3);
        assert_eq!(
            doc["plan"]["nodes"][0]["slots"],
            serde_json::json!([[0, 5460]])
        );
    }
}

#[test]
fn create_refusals() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 5);
        let a = cluster.addrs();
        let run = trib(&["create", &a[0], &a[1], "--yes"], None);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains("requires at least 3 master nodes; this is not possible with 2 nodes and 0 replicas per node; at least 3 nodes are required"), "{run:?}");
        let run = trib(
            &["create", &a[0], &a[1], &a[2], "--replicas", "1", "--yes"],
            None,
        );
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            run.stderr.contains("at least 6 nodes are required"),
            "{run:?}"
        );
        let run = trib(&["create", &a[0], &a[1], &a[1], "--yes"], None);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains("are the same node"), "{run:?}");
        let local = a[1].replace("127.0.0.1", "localhost");
        let run = trib(&["create", &a[0], &a[1], &local, "--yes"], None);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains("are the same node"), "{run:?}");
        let run = trib(&["create", &a[0], &a[1], "localhost7000", "--yes"], None);
        assert_eq!(run.code, 2, "{run:?}");
        let run = trib(&["create", &a[0], &a[1], &a[2], "--replicas", "-1"], None);
        assert_eq!(run.code, 2, "{run:?}");

        // a node holding a key in db0
        let n3 = &cluster.nodes[3];
        n3.cmd(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]).unwrap();
        // a lone master turns writable about 2 s after it covers every slot
        assert!(crate::cli_support::eventually(
            std::time::Duration::from_secs(10),
            || n3.cmd(&["SET", "foo", "bar"]).is_ok()
        ));
        n3.cmd(&["CLUSTER", "DELSLOTSRANGE", "0", "16383"]).unwrap();
        let run = trib(&["create", &a[0], &a[1], &a[3], "--yes"], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains(&format!(
                "Node {} is not empty: it holds keys in database 0",
                a[3]
            )),
            "{run:?}"
        );
        // a node with a slot assigned (redis-cli swallows the ADDSLOTS error later)
        cluster.nodes[4]
            .cmd(&["CLUSTER", "ADDSLOTS", "12182"])
            .unwrap();
        let run = trib(&["create", &a[0], &a[1], &a[4], "--yes"], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains(&format!(
                "Node {} is not empty: slots 12182 are already assigned to it.",
                a[4]
            )),
            "{run:?}"
        );
        // not cluster mode; unreachable
        let root = tempfile::tempdir().unwrap();
        let plain = Node::start(backend, false, &[], root.path());
        let run = trib(&["create", &a[0], &a[1], &plain.addr(), "--yes"], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains(&format!(
                "Node {} is not configured as a cluster node.",
                plain.addr()
            )),
            "{run:?}"
        );
        let port = crate::harness::free_port();
        let run = trib(
            &[
                "create",
                &a[0],
                &a[1],
                &format!("127.0.0.1:{port}"),
                "--yes",
            ],
            None,
        );
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains(&format!(
                "Could not connect to Redis at 127.0.0.1:{port}: Connection refused"
            )),
            "{run:?}"
        );
        // Nothing was touched by any refusal.
        for n in &cluster.nodes[..3] {
            assert_eq!(known_nodes(n), 1);
        }
    }
}

#[test]
fn create_prompt_on_a_terminal() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        let addrs = cluster.addrs();
        let mut args = vec!["create"];
        args.extend(addrs.iter().map(String::as_str));
        let run = crate::harness::trib_pty(&args, &["n"], 60);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stdout.contains("Can I set the above configuration?"),
            "{run:?}"
        );
        assert!(run.stdout.contains("configuration declined"), "{run:?}");
        let run = crate::harness::trib_pty(&args, &["y"], 60);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.contains("[OK] All 16384 slots covered."),
            "{run:?}"
        );
    }
}
