//! Helpers for the CLI tests: redacting node ids and ports out of output so it can be compared
//! exactly, writing keys to the right master, and small polls. No assertions of their own.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use crate::harness::{Cluster, Node};

/// Replaces every node's id, 8-char id prefix and port with `n<i>` names, and sorts runs of
/// `M:`/`S:` blocks and info lines (their order is the entry node's hash order).
pub fn redact(text: &str, cluster: &Cluster) -> String {
    let mut s = text.to_string();
    for (i, n) in cluster.nodes.iter().enumerate() {
        if let Ok(v) = n.cmd(&["CLUSTER", "MYID"]) {
            let id: String = redis::from_redis_value(&v).unwrap_or_default();
            if !id.is_empty() {
                s = s.replace(&id, &format!("<id{i}>"));
                s = s.replace(&id[..8], &format!("<id{i}>"));
            }
        }
        s = s.replace(&n.addr(), &format!("n{i}"));
    }
    sort_blocks(&s)
}

pub fn sort_blocks(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.starts_with("M: ") || l.starts_with("S: ") {
            let mut blocks: Vec<Vec<&str>> = Vec::new();
            while i < lines.len() && (lines[i].starts_with("M: ") || lines[i].starts_with("S: ")) {
                let mut b = vec![lines[i]];
                i += 1;
                while i < lines.len() && lines[i].starts_with("   ") {
                    b.push(lines[i]);
                    i += 1;
                }
                blocks.push(b);
            }
            blocks.sort();
            for b in blocks {
                out.extend(b.into_iter().map(String::from));
            }
        } else if l.contains(" keys | ") {
            let mut run = Vec::new();
            while i < lines.len() && lines[i].contains(" keys | ") {
                run.push(lines[i]);
                i += 1;
            }
            run.sort();
            out.extend(run.into_iter().map(String::from));
        } else {
            out.push(l.to_string());
            i += 1;
        }
    }
    out.join("\n") + "\n"
}

/// SETs `key` on whichever master accepts it (follows MOVED by trying every node).
pub fn set_key(cluster: &Cluster, key: &str, value: &str) {
    for n in &cluster.nodes {
        if n.cmd(&["SET", key, value]).is_ok() {
            return;
        }
    }
    panic!("no node accepted SET {key}");
}

/// Writes `key:1..=n`.
pub fn load_keys(cluster: &Cluster, n: usize) {
    let mut conns: Vec<redis::Connection> = cluster.nodes.iter().map(|n| n.client()).collect();
    for i in 1..=n {
        let key = format!("key:{i}");
        let ok = conns
            .iter_mut()
            .any(|c| redis::cmd("SET").arg(&key).arg(i).query::<()>(c).is_ok());
        assert!(ok, "no node accepted {key}");
    }
}

/// The id of node `i`.
pub fn id(n: &Node) -> String {
    n.myid()
}

/// Polls `f` until it returns true (bounded).
pub fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Index of the node owning `slot` (per CLUSTER NODES of node 0).
pub fn owner_of(cluster: &Cluster, slot: u16) -> usize {
    let table = cluster.nodes[0].cmd_string(&["CLUSTER", "NODES"]);
    let parsed = trib::cluster::nodes::parse_nodes(&table).unwrap();
    let line = parsed
        .iter()
        .find(|l| l.slots.contains(trib::slot::Slot::new(slot).unwrap()))
        .expect("slot has an owner");
    cluster
        .nodes
        .iter()
        .position(|n| n.port == line.port)
        .unwrap()
}
