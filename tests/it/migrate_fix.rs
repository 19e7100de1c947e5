//! `trib fix` repairs what an interrupted migration leaves behind, with the engine: a move
//! stopped half-way is resumed, keys on an importing node go to the owner, a slot migrating on
//! its owner alone is closed, and an uncovered slot gets an owner. Every key survives and the
//! real redis-cli check agrees afterwards.

use std::time::Duration;

use trib::slot::key_slot;

use crate::harness::{backends_with_cluster, trib, Cluster};
use crate::migrate_support::{ids, redis_cli_check_ok, slot_map};

/// `n` keys that hash to one slot owned by node `owner`, with the slot.
pub fn keys_on(cluster: &Cluster, owner: usize, skip: usize, n: usize) -> (u16, Vec<String>) {
    let map = slot_map(cluster);
    let port = cluster.nodes[owner].port;
    let tag = (0..100_000)
        .map(|i| format!("fix{i}"))
        .filter(|t| map[key_slot(t.as_bytes()).index()] == port)
        .nth(skip)
        .unwrap();
    let slot = key_slot(tag.as_bytes()).get();
    (slot, (0..n).map(|i| format!("{{{tag}}}:{i}")).collect())
}

#[test]
fn fix_repairs_interrupted_moves_and_coverage() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let id = ids(&cluster);
        let (n0, n1, n2) = (&cluster.nodes[0], &cluster.nodes[1], &cluster.nodes[2]);

        // Case 1: a move from node 0 to node 1 stopped after half of the keys
        let (s1, k1) = keys_on(&cluster, 0, 0, 20);
        for k in &k1 {
            n0.cmd(&["SET", k, k]).unwrap();
        }
        let s1t = s1.to_string();
        n1.cmd(&["CLUSTER", "SETSLOT", &s1t, "IMPORTING", &id[0]])
            .unwrap();
        n0.cmd(&["CLUSTER", "SETSLOT", &s1t, "MIGRATING", &id[1]])
            .unwrap();
        let port1 = n1.port.to_string();
        let mut migrate = vec!["MIGRATE", "127.0.0.1", &port1, "", "0", "5000", "KEYS"];
        migrate.extend(k1[..10].iter().map(|s| s.as_str()));
        n0.cmd(&migrate).unwrap();

        // Case 2: node 2 importing a slot of node 0 and holding one of its keys
        let (s2, k2) = keys_on(&cluster, 0, 1, 3);
        for k in &k2[..2] {
            n0.cmd(&["SET", k, "owner"]).unwrap();
        }
        let s2t = s2.to_string();
        n2.cmd(&["CLUSTER", "SETSLOT", &s2t, "IMPORTING", &id[0]])
            .unwrap();
        let mut c = n2.client();
        redis::pipe()
            .cmd("ASKING")
            .cmd("SET")
            .arg(&k2[2])
            .arg("stray")
            .query::<()>(&mut c)
            .unwrap();

        // Case 4: migrating on the owner alone
        let (s3, _) = keys_on(&cluster, 0, 2, 0);
        n0.cmd(&["CLUSTER", "SETSLOT", &s3.to_string(), "MIGRATING", &id[2]])
            .unwrap();

        // an uncovered slot, on every node
        let (s4, _) = keys_on(&cluster, 1, 0, 0);
        for n in &cluster.nodes {
            n.cmd(&["CLUSTER", "DELSLOTS", &s4.to_string()]).ok();
        }

        let run = trib(&["check", &n0.addr()], None);
        assert_eq!(run.code, 1, "{run:?}");
        // A dry run changes nothing: the problems it printed as [ERR] are still there (exit 1).
        let run = trib(&["fix", &n0.addr(), "--dry-run"], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stdout.contains("[ERR]"), "{run:?}");
        assert!(
            run.stdout.contains("would finish moving the slot"),
            "{run:?}"
        );
        // With --json: exactly one JSON document, and it says not ok.
        let run = trib(&["--json", "fix", &n0.addr(), "--dry-run"], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert_eq!(run.stdout.lines().count(), 1, "one JSON document: {run:?}");
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(doc["ok"], false, "{run:?}");
        assert_eq!(doc["dry_run"], true, "{run:?}");

        let run = trib(&["fix", &n0.addr(), "--yes"], None);
        assert_eq!(run.code, 0, "{run:?}");
        cluster.wait_agree(Duration::from_secs(20));
        redis_cli_check_ok(&cluster);
        let map = slot_map(&cluster);
        assert_eq!(
            map[s1 as usize], n1.port,
            "the interrupted move was finished"
        );
        assert_eq!(map[s2 as usize], n0.port);
        assert_eq!(map[s3 as usize], n0.port);
        assert_ne!(map[s4 as usize], 0, "slot {s4} covered");
        let mut c = n1.client();
        for k in &k1 {
            let v: String = redis::cmd("GET").arg(k).query(&mut c).unwrap();
            assert_eq!(&v, k);
        }
        let mut c = n0.client();
        let v: String = redis::cmd("GET").arg(&k2[2]).query(&mut c).unwrap();
        assert_eq!(
            v, "stray",
            "the key on the importing node reached the owner"
        );
        let run = trib(&["check", &n0.addr()], None);
        assert_eq!(run.code, 0, "{run:?}");
    }
}
