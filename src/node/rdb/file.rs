//! RDB snapshot files (`REDIS0010` ...): the opcodes around the objects (AUX, SELECTDB,
//! RESIZEDB, expiry, IDLE/FREQ, FUNCTION2, EOF + CRC). Objects go through `object`; reading
//! from disk or a socket is the caller's business.

use bytes::Bytes;

use super::crc64::crc64;
use super::encoding::{write_length, write_string, Reader};
use super::object::{read_object, write_object};
use super::{RdbError, RDB_VERSION};
use crate::node::value::Value;

const MAGIC: &[u8] = b"REDIS";
const OP_FUNCTION2: u8 = 0xf5;
const OP_IDLE: u8 = 0xf8;
const OP_FREQ: u8 = 0xf9;
const OP_AUX: u8 = 0xfa;
const OP_RESIZEDB: u8 = 0xfb;
const OP_EXPIRETIME_MS: u8 = 0xfc;
const OP_EXPIRETIME: u8 = 0xfd;
const OP_SELECTDB: u8 = 0xfe;
const OP_EOF: u8 = 0xff;

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
    let mut r = Reader::new(bytes);
    if r.take(MAGIC.len())? != MAGIC {
        return Err(RdbError::BadFormat);
    }
    let version: u16 = std::str::from_utf8(r.take(4)?)
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or(RdbError::BadFormat)?;
    if version == 0 || version > RDB_VERSION {
        return Err(RdbError::VersionOrChecksum);
    }
    let mut snapshot = Snapshot::default();
    let mut db = 0;
    let mut expire_at_ms = None;
    loop {
        let op = r.u8()?;
        match op {
            OP_AUX => {
                let key = Bytes::from(r.string()?);
                let value = Bytes::from(r.string()?);
                snapshot.aux.push((key, value));
            }
            OP_FUNCTION2 => {
                // Function libraries are not supported by trib-node; their code is skipped.
                r.string()?;
            }
            OP_SELECTDB => db = r.length()?,
            OP_RESIZEDB => {
                r.length()?;
                r.length()?;
            }
            OP_EXPIRETIME_MS => expire_at_ms = Some(i64::from_le_bytes(r.array()?)),
            OP_EXPIRETIME => expire_at_ms = Some(u32::from_le_bytes(r.array()?) as i64 * 1000),
            OP_IDLE => {
                r.length()?;
            }
            OP_FREQ => {
                r.u8()?;
            }
            OP_EOF => {
                if version >= 5 {
                    let body_end = r.position();
                    let stored = u64::from_le_bytes(r.array()?);
                    if stored != 0 && stored != crc64(&bytes[..body_end]) {
                        return Err(RdbError::VersionOrChecksum);
                    }
                }
                return Ok(snapshot);
            }
            ty => {
                let key = Bytes::from(r.string()?);
                let value = read_object(ty, &mut r)?;
                snapshot.entries.push(Entry {
                    db,
                    key,
                    value,
                    expire_at_ms: expire_at_ms.take(),
                });
            }
        }
    }
}

/// Encodes a snapshot as Redis 7.0 would (entries grouped by db in the order given).
pub fn write(snapshot: &Snapshot) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(format!("{RDB_VERSION:04}").as_bytes());
    for (key, value) in &snapshot.aux {
        out.push(OP_AUX);
        write_string(&mut out, key);
        write_string(&mut out, value);
    }
    let mut current_db = None;
    for entry in &snapshot.entries {
        if current_db != Some(entry.db) {
            current_db = Some(entry.db);
            out.push(OP_SELECTDB);
            write_length(&mut out, entry.db);
            let in_db = snapshot.entries.iter().filter(|e| e.db == entry.db);
            let expiring = in_db.clone().filter(|e| e.expire_at_ms.is_some()).count();
            out.push(OP_RESIZEDB);
            write_length(&mut out, in_db.count() as u64);
            write_length(&mut out, expiring as u64);
        }
        if let Some(at) = entry.expire_at_ms {
            out.push(OP_EXPIRETIME_MS);
            out.extend_from_slice(&at.to_le_bytes());
        }
        let mut object = Vec::new();
        write_object(&mut object, &entry.value);
        // The object codec emits the type byte first; the key goes between it and the value.
        out.push(object[0]);
        write_string(&mut out, &entry.key);
        out.extend_from_slice(&object[1..]);
    }
    out.push(OP_EOF);
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
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
        bytes.extend_from_slice(&[OP_FUNCTION2, 3, b'l', b'i', b'b', OP_SELECTDB, 0]);
        bytes.extend_from_slice(&[OP_EXPIRETIME, 0x10, 0, 0, 0, OP_IDLE, 5, OP_FREQ, 9]);
        bytes.extend_from_slice(&[0, 1, b'k', 1, b'v', OP_EOF]);
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
