//! Test support for the migration tests: route commands to the owner of a key's slot, fill a
//! cluster with keys of every type (some with TTLs, one big list), snapshot every key by
//! content (DUMP payload + PTTL) and compare snapshots taken before and after a move.
#![allow(dead_code)]

use std::collections::HashMap;
use std::process::{Command, Stdio};

use redis::Value;
use trib::slot::key_slot;

use crate::harness::Cluster;

/// slot → port of its owner, from one node's CLUSTER NODES.
pub fn slot_map(cluster: &Cluster) -> Vec<u16> {
    let text = cluster.nodes[0].cmd_string(&["CLUSTER", "NODES"]);
    let mut map = vec![0u16; 16384];
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        if f.len() < 9 || !f[2].contains("master") {
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
        for r in &f[8..] {
            if r.starts_with('[') {
                continue;
            }
            let (a, b) = r.split_once('-').unwrap_or((r, r));
            let (a, b) = (a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap());
            map[a..=b].iter_mut().for_each(|p| *p = port);
        }
    }
    map
}

/// A client that sends each command to the node owning the key (no redirections expected).
pub struct Router {
    map: Vec<u16>,
    conns: HashMap<u16, redis::Connection>,
}

impl Router {
    pub fn new(cluster: &Cluster) -> Router {
        let map = slot_map(cluster);
        let conns = cluster.nodes.iter().map(|n| (n.port, n.client())).collect();
        Router { map, conns }
    }

    pub fn port_of(&self, key: &[u8]) -> u16 {
        self.map[key_slot(key).index()]
    }

    pub fn run(&mut self, key: &[u8], cmd: &redis::Cmd) -> redis::RedisResult<Value> {
        let port = self.port_of(key);
        cmd.query(self.conns.get_mut(&port).expect("owner connected"))
    }
}

fn cmd(words: &[&[u8]]) -> redis::Cmd {
    let mut c = redis::cmd(std::str::from_utf8(words[0]).unwrap());
    for w in &words[1..] {
        c.arg(*w);
    }
    c
}

/// Keys of every type spread over many slots: strings, lists (one with `big_list` elements),
/// hashes, sets, zsets, binary names; every third key has a TTL. Returns the key names.
pub fn fill_every_type(cluster: &Cluster, per_type: usize, big_list: usize) -> Vec<Vec<u8>> {
    let mut r = Router::new(cluster);
    let mut keys = Vec::new();
    for i in 0..per_type {
        let s = format!("str:{i}").into_bytes();
        r.run(&s, &cmd(&[b"SET", &s, format!("value-{i}").as_bytes()]))
            .unwrap();
        let l = format!("list:{i}").into_bytes();
        r.run(
            &l,
            &cmd(&[b"RPUSH", &l, b"a", b"b", format!("{i}").as_bytes()]),
        )
        .unwrap();
        let h = format!("hash:{i}").into_bytes();
        r.run(
            &h,
            &cmd(&[b"HSET", &h, b"f1", b"v1", b"f2", format!("{i}").as_bytes()]),
        )
        .unwrap();
        let st = format!("set:{i}").into_bytes();
        r.run(
            &st,
            &cmd(&[b"SADD", &st, b"x", b"y", format!("{i}").as_bytes()]),
        )
        .unwrap();
        let z = format!("zset:{i}").into_bytes();
        r.run(
            &z,
            &cmd(&[
                b"ZADD",
                &z,
                b"1",
                b"one",
                b"2.5",
                format!("m{i}").as_bytes(),
            ]),
        )
        .unwrap();
        // binary key and value
        let b = [b"bin:\x00\xff".as_slice(), format!("{i}").as_bytes()].concat();
        r.run(&b, &cmd(&[b"SET", &b, b"\x00\x01\x02\xfe"])).unwrap();
        for k in [s, l, h, st, z, b] {
            if keys.len().is_multiple_of(3) {
                r.run(&k, &cmd(&[b"PEXPIRE", &k, b"600000"])).unwrap();
            }
            keys.push(k);
        }
    }
    if big_list > 0 {
        let big = b"biglist".to_vec();
        let mut done = 0;
        while done < big_list {
            let n = (big_list - done).min(5000);
            let mut c = redis::cmd("RPUSH");
            c.arg(&big);
            for j in done..done + n {
                c.arg(format!("element-{j}"));
            }
            r.run(&big, &c).unwrap();
            done += n;
        }
        r.run(&big, &cmd(&[b"PEXPIRE", &big, b"900000"])).unwrap();
        keys.push(big);
    }
    keys
}

/// Each key's content (canonical: type-specific reads, members sorted, since DUMP of a
/// hashtable-encoded set or hash depends on the server's dict order) and PTTL.
pub type Snapshot = HashMap<Vec<u8>, (Vec<u8>, i64)>;

fn content(r: &mut Router, k: &[u8]) -> Vec<u8> {
    let kind: String = redis::from_redis_value(&r.run(k, &cmd(&[b"TYPE", k])).unwrap()).unwrap();
    let mut parts: Vec<Vec<u8>> = match kind.as_str() {
        "string" => vec![redis::from_redis_value(&r.run(k, &cmd(&[b"GET", k])).unwrap()).unwrap()],
        "list" => {
            redis::from_redis_value(&r.run(k, &cmd(&[b"LRANGE", k, b"0", b"-1"])).unwrap()).unwrap()
        }
        "hash" => {
            let kv: Vec<Vec<u8>> =
                redis::from_redis_value(&r.run(k, &cmd(&[b"HGETALL", k])).unwrap()).unwrap();
            let mut pairs: Vec<Vec<u8>> = kv
                .chunks(2)
                .map(|c| [c[0].clone(), b"=".to_vec(), c[1].clone()].concat())
                .collect();
            pairs.sort();
            pairs
        }
        "set" => {
            let mut m: Vec<Vec<u8>> =
                redis::from_redis_value(&r.run(k, &cmd(&[b"SMEMBERS", k])).unwrap()).unwrap();
            m.sort();
            m
        }
        "zset" => redis::from_redis_value(
            &r.run(k, &cmd(&[b"ZRANGE", k, b"0", b"-1", b"WITHSCORES"]))
                .unwrap(),
        )
        .unwrap(),
        other => panic!("{:?} has type {other}", String::from_utf8_lossy(k)),
    };
    parts.insert(0, kind.into_bytes());
    parts.join(&b"\x00"[..])
}

pub fn snapshot(cluster: &Cluster, keys: &[Vec<u8>]) -> Snapshot {
    let mut r = Router::new(cluster);
    keys.iter()
        .map(|k| {
            let data = content(&mut r, k);
            // Absolute expiry, so that a slow run does not look like a shortened TTL.
            let ttl: i64 =
                redis::from_redis_value(&r.run(k, &cmd(&[b"PEXPIRETIME", k])).unwrap()).unwrap();
            assert!(ttl != -2, "{:?} is missing", String::from_utf8_lossy(k));
            (k.clone(), (data, ttl))
        })
        .collect()
}

/// Same content for every key, and the expiry kept. MIGRATE carries the remaining TTL, so the
/// absolute expiry may move later by the transfer latency of that key, never earlier.
pub fn assert_same(before: &Snapshot, after: &Snapshot) {
    assert_eq!(before.len(), after.len());
    for (k, (dump, ttl)) in before {
        let (dump2, ttl2) = &after[k];
        assert!(
            dump == dump2,
            "content of {:?} changed",
            String::from_utf8_lossy(k)
        );
        if *ttl < 0 {
            assert_eq!(*ttl2, *ttl, "{:?} gained a TTL", String::from_utf8_lossy(k));
        } else {
            assert!(
                *ttl2 + 1_000 >= *ttl && *ttl2 - *ttl < 5_000,
                "expiry of {:?}: {ttl} before, {ttl2} after",
                String::from_utf8_lossy(k)
            );
        }
    }
}

/// The real `redis-cli --cluster check` must find the cluster healthy.
pub fn redis_cli_check_ok(cluster: &Cluster) {
    let out = Command::new("redis-cli")
        .args(["--cluster", "check", &cluster.nodes[0].addr()])
        .stdin(Stdio::null())
        .output()
        .expect("run redis-cli");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && !text.contains("[ERR]") && !text.contains("[WARNING]"),
        "redis-cli --cluster check:\n{text}"
    );
}

/// Node ids of the masters, in node order (node i of the cluster).
pub fn ids(cluster: &Cluster) -> Vec<String> {
    cluster.nodes.iter().map(|n| n.myid()).collect()
}

/// Slots owned by `port` according to the first node.
pub fn slots_of(cluster: &Cluster, port: u16) -> usize {
    slot_map(cluster).iter().filter(|&&p| p == port).count()
}

/// Every key reads back through its owner as `v-<key>`, and the cluster holds no other key (no
/// copy left on a second master). `what` names the round in failures.
pub fn assert_keys_intact(cluster: &Cluster, keys: &[String], what: &str) {
    let mut router = Router::new(cluster);
    for k in keys {
        let v: Option<String> = redis::from_redis_value(
            &router
                .run(k.as_bytes(), redis::cmd("GET").arg(k))
                .unwrap_or_else(|e| panic!("GET {k}: {e}")),
        )
        .unwrap();
        assert_eq!(v, Some(format!("v-{k}")), "{what}: key {k}");
    }
    let total: usize = cluster
        .nodes
        .iter()
        .map(|n| {
            redis::cmd("DBSIZE")
                .query::<usize>(&mut n.client())
                .unwrap()
        })
        .sum();
    assert_eq!(total, keys.len(), "{what}: no key duplicated");
}
