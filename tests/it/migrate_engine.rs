//! The migration engine driven directly (no view, no health check): BUSYKEY with equal (also a
//! hash-table set whose DUMP differs) and with different content, and a MIGRATE timeout on a big key retried alone with a longer timeout.

use std::sync::Arc;

use trib::addr::NodeAddr;
use trib::migrate::{Engine, EngineNode, MigrateOptions, MigrateReport, NoEvents};
use trib::plan::moves::Transfer;
use trib::remote::conn::{ConnectOptions, NodeConn};
use trib::slot::{key_slot, Slot};

use crate::harness::{backends_with_cluster, Cluster};
use crate::migrate_support::ids;

fn run_engine(cluster: &Cluster, transfers: Vec<Transfer>, opts: MigrateOptions) -> MigrateReport {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut nodes = Vec::new();
        for n in &cluster.nodes {
            let conn = NodeConn::connect(
                &NodeAddr::new("127.0.0.1", n.port),
                &ConnectOptions::default(),
            )
            .await
            .unwrap();
            nodes.push(EngineNode { id: n.myid(), conn });
        }
        Engine::new(nodes, opts)
            .run(&transfers, Arc::new(NoEvents))
            .await
    })
}

/// Puts `key = value` on node `on` although it does not own the key's slot (as an interrupted
/// migration leaves it), then makes the slot stable again there.
fn plant_copy(cluster: &Cluster, on: usize, owner_id: &str, key: &str, value: &str) {
    let node = &cluster.nodes[on];
    let slot = key_slot(key.as_bytes()).get().to_string();
    node.cmd(&["CLUSTER", "SETSLOT", &slot, "IMPORTING", owner_id])
        .unwrap();
    let mut c = node.client();
    redis::pipe()
        .cmd("ASKING")
        .cmd("SET")
        .arg(key)
        .arg(value)
        .query::<()>(&mut c)
        .unwrap();
    node.cmd(&["CLUSTER", "SETSLOT", &slot, "STABLE"]).unwrap();
}

fn owner_index(cluster: &Cluster, slot: Slot) -> usize {
    let map = crate::migrate_support::slot_map(cluster);
    cluster
        .nodes
        .iter()
        .position(|n| n.port == map[slot.index()])
        .unwrap()
}

#[test]
fn busykey_equal_is_replaced_different_stops_the_slot() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let id = ids(&cluster);
        // two keys in two different slots of node 0
        let names: Vec<String> = (0..1000)
            .map(|i| format!("{{busy{i}}}key"))
            .filter(|k| owner_index(&cluster, key_slot(k.as_bytes())) == 0)
            .take(3)
            .collect();
        let (same, diff) = (names[0].as_str(), names[1].as_str());
        let (s1, s2) = (key_slot(same.as_bytes()), key_slot(diff.as_bytes()));
        assert_ne!(s1, s2);
        let src = 0;
        // a set big enough for a hash table: equal content, DUMP payloads in each server's order
        let set_key = names[2].as_str();
        let s3 = key_slot(set_key.as_bytes());
        let members: Vec<String> = (0..300).map(|i| format!("member-{i}")).collect();
        let dst = (src + 1) % 3;
        for (k, v) in [(same, "v1"), (diff, "source-value")] {
            cluster.nodes[src].cmd(&["SET", k, v]).unwrap();
        }
        for k in [same, diff] {
            cluster.nodes[src]
                .cmd(&["SET", &format!("{k}:other"), "x"])
                .ok();
        }
        plant_copy(&cluster, dst, &id[src], same, "v1");
        plant_copy(&cluster, dst, &id[src], diff, "target-value");
        let mut c = cluster.nodes[src].client();
        redis::cmd("SADD")
            .arg(set_key)
            .arg(&members)
            .query::<()>(&mut c)
            .unwrap();
        let dst_node = &cluster.nodes[dst];
        let slot3 = s3.get().to_string();
        dst_node
            .cmd(&["CLUSTER", "SETSLOT", &slot3, "IMPORTING", &id[src]])
            .unwrap();
        let mut c = dst_node.client();
        let reversed: Vec<&String> = members.iter().rev().collect();
        redis::pipe()
            .cmd("ASKING")
            .cmd("SADD")
            .arg(set_key)
            .arg(reversed)
            .query::<()>(&mut c)
            .unwrap();
        dst_node
            .cmd(&["CLUSTER", "SETSLOT", &slot3, "STABLE"])
            .unwrap();

        let report = run_engine(
            &cluster,
            vec![Transfer {
                source: id[src].clone(),
                target: id[dst].clone(),
                slots: vec![s1, s2, s3],
            }],
            MigrateOptions::default(),
        );
        assert_eq!(report.slots_moved, 2, "{report:?}");
        assert_eq!(report.failed.len(), 1, "{report:?}");
        assert_eq!(report.failed[0].slot, s2);
        assert!(report.failed[0].reason.contains(diff), "{report:?}");
        assert!(report.failed[0].reason.contains("--replace"), "{report:?}");
        // the equal copy moved; the different one is untouched on both sides
        let mut c = cluster.nodes[dst].client();
        let v: String = redis::cmd("GET").arg(same).query(&mut c).unwrap();
        assert_eq!(v, "v1");
        let n: usize = redis::cmd("SCARD").arg(set_key).query(&mut c).unwrap();
        assert_eq!(n, 300);
        let mut c = cluster.nodes[src].client();
        let v: String = redis::cmd("GET").arg(diff).query(&mut c).unwrap();
        assert_eq!(v, "source-value");
        let mut c = cluster.nodes[dst].client();
        let v: String = redis::pipe()
            .cmd("ASKING")
            .ignore()
            .cmd("GET")
            .arg(diff)
            .query::<(String,)>(&mut c)
            .unwrap()
            .0;
        assert_eq!(v, "target-value");
        // the slot is left open for `trib fix`
        let nodes = cluster.nodes[src].cmd_string(&["CLUSTER", "NODES"]);
        assert!(nodes.contains(&format!("[{s2}->-{}]", id[dst])), "{nodes}");

        // --replace: the source's copy wins, the slot completes
        let report = run_engine(
            &cluster,
            vec![Transfer {
                source: id[src].clone(),
                target: id[dst].clone(),
                slots: vec![s2],
            }],
            MigrateOptions {
                replace: true,
                ..MigrateOptions::default()
            },
        );
        assert!(report.ok(), "{report:?}");
        let mut c = cluster.nodes[dst].client();
        let v: String = redis::cmd("GET").arg(diff).query(&mut c).unwrap();
        assert_eq!(v, "source-value");
    }
}

/// Writes a hash on node `on` in a slot it does not own (IMPORTING + ASKING, then STABLE).
fn plant_hash(cluster: &Cluster, on: usize, owner_id: &str, key: &str, pairs: &[(&str, &str)]) {
    let node = &cluster.nodes[on];
    let slot = key_slot(key.as_bytes()).get().to_string();
    node.cmd(&["CLUSTER", "SETSLOT", &slot, "IMPORTING", owner_id])
        .unwrap();
    let mut cmd = redis::cmd("HSET");
    cmd.arg(key);
    for (f, v) in pairs {
        cmd.arg(*f).arg(*v);
    }
    let mut c = node.client();
    redis::pipe()
        .cmd("ASKING")
        .ignore()
        .add_command(cmd)
        .query::<()>(&mut c)
        .unwrap();
    node.cmd(&["CLUSTER", "SETSLOT", &slot, "STABLE"]).unwrap();
}

#[test]
fn busykey_hashes_that_differ_only_in_field_boundaries_are_different() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let id = ids(&cluster);
        let key = (0..1000)
            .map(|i| format!("{{hash{i}}}h"))
            .find(|k| owner_index(&cluster, key_slot(k.as_bytes())) == 0)
            .unwrap();
        let slot = key_slot(key.as_bytes());
        let (src, dst) = (0, 1);
        cluster.nodes[src].cmd(&["HSET", &key, "ab", "c"]).unwrap();
        plant_hash(&cluster, dst, &id[src], &key, &[("a", "bc")]);

        let report = run_engine(
            &cluster,
            vec![Transfer {
                source: id[src].clone(),
                target: id[dst].clone(),
                slots: vec![slot],
            }],
            MigrateOptions::default(),
        );
        assert_eq!(report.slots_moved, 0, "{} {report:?}", backend.name());
        assert_eq!(report.failed.len(), 1, "{report:?}");
        assert!(report.failed[0].reason.contains(&key), "{report:?}");
        // neither copy was touched
        let mut c = cluster.nodes[dst].client();
        let (target,): (Vec<String>,) = redis::pipe()
            .cmd("ASKING")
            .ignore()
            .cmd("HGETALL")
            .arg(&key)
            .query(&mut c)
            .unwrap();
        assert_eq!(target, vec!["a", "bc"], "{}", backend.name());
        let mut c = cluster.nodes[src].client();
        let source: Vec<String> = redis::cmd("HGETALL").arg(&key).query(&mut c).unwrap();
        assert_eq!(source, vec!["ab", "c"], "{}", backend.name());
    }
}

#[test]
fn big_key_timeout_is_retried_alone() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let id = ids(&cluster);
        let key = "{big}list";
        let slot = key_slot(key.as_bytes());
        let src = owner_index(&cluster, slot);
        let dst = (src + 1) % 3;
        let mut c = cluster.nodes[src].client();
        for chunk in 0..60 {
            let mut cmd = redis::cmd("RPUSH");
            cmd.arg(key);
            for j in 0..5000 {
                cmd.arg(format!("element-{chunk}-{j}-padding-padding"));
            }
            cmd.query::<()>(&mut c).unwrap();
        }
        for j in 0..20 {
            redis::cmd("SET")
                .arg(format!("{{big}}small{j}"))
                .arg(j)
                .query::<()>(&mut c)
                .unwrap();
        }
        // 1 ms is far too short for 300k elements: the batch times out, each key is retried
        // alone with the long timeout and the slot completes.
        let report = run_engine(
            &cluster,
            vec![Transfer {
                source: id[src].clone(),
                target: id[dst].clone(),
                slots: vec![slot],
            }],
            MigrateOptions {
                timeout_ms: 1,
                ..MigrateOptions::default()
            },
        );
        assert!(report.ok(), "{report:?}");
        let mut c = cluster.nodes[dst].client();
        let n: i64 = redis::cmd("LLEN").arg(key).query(&mut c).unwrap();
        assert_eq!(n, 300_000);
        let v: i64 = redis::cmd("GET").arg("{big}small7").query(&mut c).unwrap();
        assert_eq!(v, 7);
    }
}
