//! A point-in-time RDB image of the keyspace, as the payload of a full resync (and so of
//! `redis-cli --cluster backup` and `trib backup`). Taken while the caller holds the keyspace
//! lock, so it is consistent; logically expired keys are left out, as Redis's fork would.

use bytes::Bytes;

use crate::node::config::REDIS_VERSION;
use crate::node::keyspace::{unix_ms, Keyspace};
use crate::node::rdb::file::SnapshotWriter;
use crate::node::value::Value;

/// The one view of the keyspace a snapshot needs: every live key with its value and expiry.
pub trait Source {
    fn for_each_live(&self, f: &mut dyn FnMut(&Bytes, &Value, Option<u64>));
}

impl Source for Keyspace {
    fn for_each_live(&self, f: &mut dyn FnMut(&Bytes, &Value, Option<u64>)) {
        for key in self.keys() {
            if let Some(entry) = self.peek(key) {
                f(key, &entry.value, entry.expire_at);
            }
        }
    }
}

/// Replication identity written into the snapshot's AUX fields.
pub struct ReplInfo<'a> {
    pub replid: &'a str,
    pub offset: u64,
}

/// The RDB file of every live key (db 0), with Redis 7.0's AUX fields.
pub fn rdb(source: &dyn Source, repl: &ReplInfo<'_>) -> Vec<u8> {
    let (mut keys, mut expiring) = (0u64, 0u64);
    source.for_each_live(&mut |_, _, at| {
        keys += 1;
        expiring += u64::from(at.is_some());
    });
    let ctime = (unix_ms() / 1000).to_string();
    let offset = repl.offset.to_string();
    let aux: [(&[u8], &[u8]); 8] = [
        (b"redis-ver", REDIS_VERSION.as_bytes()),
        (b"redis-bits", b"64"),
        (b"ctime", ctime.as_bytes()),
        (b"used-mem", b"0"),
        (b"repl-stream-db", b"0"),
        (b"repl-id", repl.replid.as_bytes()),
        (b"repl-offset", offset.as_bytes()),
        (b"aof-base", b"0"),
    ];
    let mut out = SnapshotWriter::new(&aux);
    if keys > 0 {
        out.begin_db(0, keys, expiring);
        source.for_each_live(&mut |key, value, at| out.entry(key, value, at.map(|t| t as i64)));
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::rdb::file::read;

    #[test]
    fn holds_live_keys_with_their_expiry() {
        let mut db = Keyspace::new();
        db.now_ms = unix_ms();
        db.set(Bytes::from("a"), Value::Str(Bytes::from("1")));
        db.set(Bytes::from("t"), Value::Str(Bytes::from("2")));
        db.set_expire(b"t", Some(db.now_ms + 60_000));
        db.set(Bytes::from("gone"), Value::Str(Bytes::from("3")));
        db.set_expire(b"gone", Some(1));
        let bytes = rdb(
            &db,
            &ReplInfo {
                replid: &"f".repeat(40),
                offset: 0,
            },
        );
        let snap = read(&bytes).unwrap();
        let mut keys: Vec<_> = snap
            .entries
            .iter()
            .map(|e| (e.key.clone(), e.expire_at_ms))
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            vec![
                (Bytes::from("a"), None),
                (Bytes::from("t"), Some((db.now_ms + 60_000) as i64))
            ]
        );
        assert!(snap
            .aux
            .iter()
            .any(|(k, v)| k == "repl-id" && v == &"f".repeat(40)));
    }

    #[test]
    fn empty_keyspace_is_a_valid_file() {
        let bytes = rdb(
            &Keyspace::new(),
            &ReplInfo {
                replid: "x",
                offset: 7,
            },
        );
        assert!(read(&bytes).unwrap().entries.is_empty());
    }
}
