//! Whole snapshots of trib-node values: an RDB file (`REDIS0010` ...) decoded into `Value`s,
//! or a keyspace encoded into one. The file framing (opcodes, CRC) is `crate::rdb::file`, the
//! values go through `object`; reading from disk or a socket is the caller's business.

use bytes::Bytes;

use super::encoding::Reader;
use super::object::{read_object, write_object};
use super::RdbError;
use crate::node::value::Value;
use crate::rdb::file::{Walker, Writer};

/// One key of a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub db: u64,
    pub key: Bytes,
    pub value: Value,
    /// Absolute expiry, unix milliseconds.
    pub expire_at_ms: Option<i64>,
}

/// A decoded snapshot: its AUX fields in order, and its keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub aux: Vec<(Bytes, Bytes)>,
    pub entries: Vec<Entry>,
}

/// Decodes a whole RDB file. A stored CRC of zero means "not computed" and is accepted.
pub fn read(bytes: &[u8]) -> Result<Snapshot, RdbError> {
    let mut walker = Walker::new(bytes)?;
    let mut entries = Vec::new();
    while let Some(raw) = walker.next_entry()? {
        let value = read_object(raw.ty, &mut Reader::new(raw.value))?;
        entries.push(Entry {
            db: raw.db,
            key: Bytes::from(raw.key),
            value,
            expire_at_ms: raw.expire_at_ms,
        });
    }
    let aux = walker
        .aux
        .into_iter()
        .map(|(k, v)| (Bytes::from(k), Bytes::from(v)))
        .collect();
    Ok(Snapshot { aux, entries })
}

/// Streams keys into an RDB file as Redis 7.0 would write them: `begin_db` before each db's
/// keys, `entry` per key, `finish` for the bytes.
pub struct SnapshotWriter {
    file: Writer,
    scratch: Vec<u8>,
}

impl SnapshotWriter {
    pub fn new(aux: &[(&[u8], &[u8])]) -> SnapshotWriter {
        SnapshotWriter {
            file: Writer::new(aux),
            scratch: Vec::new(),
        }
    }
    pub fn begin_db(&mut self, db: u64, keys: u64, expiring: u64) {
        self.file.select_db(db, keys, expiring);
    }
    pub fn entry(&mut self, key: &[u8], value: &Value, expire_at_ms: Option<i64>) {
        self.scratch.clear();
        write_object(&mut self.scratch, value);
        self.file.entry(key, expire_at_ms, &self.scratch);
    }
    pub fn finish(self) -> Vec<u8> {
        self.file.finish()
    }
}

/// Encodes a snapshot as Redis 7.0 would (entries grouped by db in the order given).
pub fn write(snapshot: &Snapshot) -> Vec<u8> {
    let aux: Vec<(&[u8], &[u8])> = snapshot
        .aux
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    let mut out = SnapshotWriter::new(&aux);
    let mut current_db = None;
    for entry in &snapshot.entries {
        if current_db != Some(entry.db) {
            current_db = Some(entry.db);
            let in_db = snapshot.entries.iter().filter(|e| e.db == entry.db);
            let expiring = in_db.clone().filter(|e| e.expire_at_ms.is_some()).count();
            out.begin_db(entry.db, in_db.count() as u64, expiring as u64);
        }
        out.entry(&entry.key, &entry.value, entry.expire_at_ms);
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    fn sample() -> Snapshot {
        let list: VecDeque<Bytes> = ["a", "b", "1"].iter().map(|s| Bytes::from(*s)).collect();
        Snapshot {
            aux: vec![(Bytes::from("redis-ver"), Bytes::from("7.0.15"))],
            entries: vec![
                Entry {
                    db: 0,
                    key: Bytes::from("k"),
                    value: Value::Str(Bytes::from("v")),
                    expire_at_ms: Some(4102444800000),
                },
                Entry {
                    db: 0,
                    key: Bytes::from("l"),
                    value: Value::List(list),
                    expire_at_ms: None,
                },
            ],
        }
    }

    #[test]
    fn round_trips() {
        let bytes = write(&sample());
        assert!(bytes.starts_with(b"REDIS0010\xfa"));
        assert_eq!(read(&bytes).unwrap(), sample());
    }

    #[test]
    fn checks_crc_but_accepts_zero() {
        let mut bytes = write(&sample());
        let n = bytes.len();
        bytes[n - 1] ^= 1;
        assert_eq!(read(&bytes), Err(RdbError::VersionOrChecksum));
        bytes[n - 8..].fill(0);
        assert_eq!(read(&bytes).unwrap(), sample());
    }

    #[test]
    fn skips_idle_freq_function_and_old_expiry() {
        let mut bytes = b"REDIS0009".to_vec();
        // FUNCTION2 "lib", SELECTDB 0, EXPIRETIME (seconds), IDLE, FREQ, then a string key.
        bytes.extend_from_slice(&[0xf5, 3, b'l', b'i', b'b', 0xfe, 0]);
        bytes.extend_from_slice(&[0xfd, 0x10, 0, 0, 0, 0xf8, 5, 0xf9, 9]);
        bytes.extend_from_slice(&[0, 1, b'k', 1, b'v', 0xff]);
        bytes.extend_from_slice(&[0; 8]);
        let snap = read(&bytes).unwrap();
        assert_eq!(snap.entries.len(), 1);
        assert_eq!(snap.entries[0].expire_at_ms, Some(16000));
    }

    #[test]
    fn rejects_truncation_and_bad_magic() {
        let bytes = write(&sample());
        for cut in [3, 9, 20, bytes.len() - 3] {
            assert!(read(&bytes[..cut]).is_err());
        }
        assert!(read(b"RODIS0010\xff").is_err());
    }
}
