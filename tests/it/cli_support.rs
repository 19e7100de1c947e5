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
    let parsed = trib::remote::nodes::parse_nodes(&table).unwrap();
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

/// A key's content read through `run` (one command, its reply), in a form that compares equal
/// across servers: members of sets and fields of hashes sorted, the type first.
pub fn typed_content(mut run: impl FnMut(redis::Cmd) -> redis::Value, key: &[u8]) -> Vec<Vec<u8>> {
    let ask = |words: &[&[u8]]| {
        let mut c = redis::cmd(std::str::from_utf8(words[0]).unwrap());
        for w in &words[1..] {
            c.arg(*w);
        }
        c
    };
    let kind: String = redis::from_redis_value(&run(ask(&[b"TYPE", key]))).unwrap();
    let mut read = |words: &[&[u8]]| -> Vec<Vec<u8>> {
        let v = run(ask(words));
        match v {
            redis::Value::BulkString(b) => vec![b],
            other => redis::from_redis_value(&other).unwrap(),
        }
    };
    let mut parts = match kind.as_str() {
        "string" => read(&[b"GET", key]),
        "list" => read(&[b"LRANGE", key, b"0", b"-1"]),
        "zset" => read(&[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"]),
        "set" => {
            let mut m = read(&[b"SMEMBERS", key]);
            m.sort();
            m
        }
        "hash" => {
            let flat = read(&[b"HGETALL", key]);
            let mut pairs: Vec<Vec<u8>> = flat.chunks(2).map(|p| p.join(&b"\x00"[..])).collect();
            pairs.sort();
            pairs
        }
        other => panic!("{:?} has type {other}", String::from_utf8_lossy(key)),
    };
    parts.insert(0, kind.into_bytes());
    parts
}

/// Writes keys of every type to one standalone node: `per_type` strings, lists, hashes, sets,
/// sorted sets and binary names (every third with a 10-minute TTL), keys sharing a hash tag,
/// and one big list, hash and set (their servers' large encodings). Returns the key names.
pub fn fill_standalone(c: &mut redis::Connection, per_type: usize) -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let mut put = |c: &mut redis::Connection, cmd: &mut redis::Cmd, key: Vec<u8>| {
        cmd.query::<()>(c).unwrap();
        if keys.len().is_multiple_of(3) {
            redis::cmd("PEXPIRE")
                .arg(&key)
                .arg(600_000)
                .query::<()>(c)
                .unwrap();
        }
        keys.push(key);
    };
    for i in 0..per_type {
        let k = format!("str:{i}");
        put(
            c,
            redis::cmd("SET").arg(&k).arg(format!("v{i}")),
            k.into_bytes(),
        );
        let k = format!("list:{i}");
        put(
            c,
            redis::cmd("RPUSH").arg(&k).arg("a").arg(i),
            k.into_bytes(),
        );
        let k = format!("hash:{i}");
        put(
            c,
            redis::cmd("HSET").arg(&k).arg("f").arg(i).arg("g").arg("x"),
            k.into_bytes(),
        );
        let k = format!("set:{i}");
        put(
            c,
            redis::cmd("SADD").arg(&k).arg("x").arg(i),
            k.into_bytes(),
        );
        let k = format!("zset:{i}");
        put(
            c,
            redis::cmd("ZADD")
                .arg(&k)
                .arg(1.5)
                .arg("m")
                .arg(i)
                .arg(format!("n{i}")),
            k.into_bytes(),
        );
        let k = [b"bin:\x00\xff".as_slice(), i.to_string().as_bytes()].concat();
        put(c, redis::cmd("SET").arg(&k).arg(&b"\x00\x01\xfe"[..]), k);
        let k = format!("{{user{}}}:tagged:{i}", i % 3);
        put(c, redis::cmd("SET").arg(&k).arg(i), k.into_bytes());
    }
    let mut list = redis::cmd("RPUSH");
    let mut hash = redis::cmd("HSET");
    let mut set = redis::cmd("SADD");
    list.arg("big:list");
    hash.arg("big:hash");
    set.arg("big:set");
    for j in 0..2000 {
        list.arg(format!("element-{j}"));
        hash.arg(format!("field-{j}")).arg(j);
        set.arg(format!("member-{j}"));
    }
    put(c, &mut list, b"big:list".to_vec());
    put(c, &mut hash, b"big:hash".to_vec());
    put(c, &mut set, b"big:set".to_vec());
    keys
}
