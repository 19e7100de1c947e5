//! RDB snapshot files (`REDIS0010` ...): the opcodes around the objects (AUX, SELECTDB,
//! RESIZEDB, expiry, IDLE/FREQ, FUNCTION2, module AUX, EOF + CRC). `Walker` yields each key
//! with its value still encoded (type byte + bytes, ready for a DUMP payload); `Writer` frames
//! already-encoded objects. Objects themselves, and reading from disk or a socket, are the
//! callers' business.

use super::crc64::crc64;
use super::encoding::{write_length, write_string, Reader};
use super::{skip, RdbError, RDB_VERSION};

const MAGIC: &[u8] = b"REDIS";
const OP_FUNCTION2: u8 = 0xf5;
const OP_MODULE_AUX: u8 = 0xf7;
const OP_IDLE: u8 = 0xf8;
const OP_FREQ: u8 = 0xf9;
const OP_AUX: u8 = 0xfa;
const OP_RESIZEDB: u8 = 0xfb;
const OP_EXPIRETIME_MS: u8 = 0xfc;
const OP_EXPIRETIME: u8 = 0xfd;
const OP_SELECTDB: u8 = 0xfe;
const OP_EOF: u8 = 0xff;

/// One key of a file, its value undecoded.
#[derive(Debug, Clone, PartialEq)]
pub struct RawEntry<'a> {
    pub db: u64,
    pub key: Vec<u8>,
    /// Absolute expiry, unix milliseconds.
    pub expire_at_ms: Option<i64>,
    /// The RDB object type byte.
    pub ty: u8,
    /// The value encoding as stored (a DUMP payload is `ty` + this + footer).
    pub value: &'a [u8],
}

/// Reads a file key by key, checking the CRC at the end. A stored CRC of zero means "not
/// computed" and is accepted.
pub struct Walker<'a> {
    bytes: &'a [u8],
    r: Reader<'a>,
    /// The file's RDB version (`REDIS0010` -> 10).
    pub version: u16,
    /// AUX fields seen so far, in order.
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    /// FUNCTION2 records seen so far (function libraries; not keys).
    pub functions: usize,
    db: u64,
    done: bool,
}

impl<'a> Walker<'a> {
    /// Checks the magic and the version (at most the one Redis 7.0 reads).
    pub fn new(bytes: &'a [u8]) -> Result<Walker<'a>, RdbError> {
        Walker::new_up_to(bytes, RDB_VERSION)
    }

    /// Like `new`, accepting versions up to `max_version` (a newer server's file, whose keys
    /// may still be restorable into a server as new).
    pub fn new_up_to(bytes: &'a [u8], max_version: u16) -> Result<Walker<'a>, RdbError> {
        let mut r = Reader::new(bytes);
        if r.take(MAGIC.len())? != MAGIC {
            return Err(RdbError::BadFormat);
        }
        let version: u16 = std::str::from_utf8(r.take(4)?)
            .ok()
            .and_then(|v| v.parse().ok())
            .ok_or(RdbError::BadFormat)?;
        if version == 0 || version > max_version {
            return Err(RdbError::VersionOrChecksum);
        }
        Ok(Walker {
            bytes,
            r,
            version,
            aux: Vec::new(),
            functions: 0,
            db: 0,
            done: false,
        })
    }

    /// Where the walk is, in bytes from the start of the file (for progress and errors).
    pub fn position(&self) -> usize {
        self.r.position()
    }

    /// The next key, or `None` after EOF (whose CRC has then been checked).
    pub fn next_entry(&mut self) -> Result<Option<RawEntry<'a>>, RdbError> {
        if self.done {
            return Ok(None);
        }
        let r = &mut self.r;
        let mut expire_at_ms = None;
        loop {
            match r.u8()? {
                OP_AUX => {
                    let key = r.string()?;
                    let value = r.string()?;
                    self.aux.push((key, value));
                }
                OP_FUNCTION2 => {
                    r.skip_string()?;
                    self.functions += 1;
                }
                OP_MODULE_AUX => {
                    r.length()?; // module id
                    r.length()?; // when-opcode
                    r.length()?; // when
                    skip::module_fields(r)?;
                }
                OP_SELECTDB => self.db = r.length()?,
                OP_RESIZEDB => {
                    r.length()?;
                    r.length()?;
                }
                OP_EXPIRETIME_MS => expire_at_ms = Some(i64::from_le_bytes(r.array()?)),
                OP_EXPIRETIME => {
                    expire_at_ms = Some(u32::from_le_bytes(r.array()?) as i64 * 1000);
                }
                OP_IDLE => {
                    r.length()?;
                }
                OP_FREQ => {
                    r.u8()?;
                }
                OP_EOF => {
                    if self.version >= 5 {
                        let body_end = r.position();
                        let stored = u64::from_le_bytes(r.array()?);
                        if stored != 0 && stored != crc64(&self.bytes[..body_end]) {
                            return Err(RdbError::VersionOrChecksum);
                        }
                    }
                    self.done = true;
                    return Ok(None);
                }
                ty => {
                    let key = r.string()?;
                    let start = r.position();
                    skip::value(ty, r)?;
                    return Ok(Some(RawEntry {
                        db: self.db,
                        key,
                        expire_at_ms,
                        ty,
                        value: r.since(start),
                    }));
                }
            }
        }
    }
}

/// Builds a file from encoded objects: header and AUX fields, then keys grouped by db, then
/// EOF and the CRC.
pub struct Writer {
    out: Vec<u8>,
}

impl Writer {
    /// `REDIS0010` and the AUX fields.
    pub fn new(aux: &[(&[u8], &[u8])]) -> Writer {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(format!("{RDB_VERSION:04}").as_bytes());
        for (key, value) in aux {
            out.push(OP_AUX);
            write_string(&mut out, key);
            write_string(&mut out, value);
        }
        Writer { out }
    }

    /// Starts db `db`, announcing how many keys (and keys with a TTL) follow.
    pub fn select_db(&mut self, db: u64, keys: u64, expiring: u64) {
        self.out.push(OP_SELECTDB);
        write_length(&mut self.out, db);
        self.out.push(OP_RESIZEDB);
        write_length(&mut self.out, keys);
        write_length(&mut self.out, expiring);
    }

    /// One key; `object` is its type byte followed by the value encoding.
    pub fn entry(&mut self, key: &[u8], expire_at_ms: Option<i64>, object: &[u8]) {
        if let Some(at) = expire_at_ms {
            self.out.push(OP_EXPIRETIME_MS);
            self.out.extend_from_slice(&at.to_le_bytes());
        }
        // The key goes between the type byte and the value.
        self.out.push(object[0]);
        write_string(&mut self.out, key);
        self.out.extend_from_slice(&object[1..]);
    }

    /// EOF and the CRC of everything before it.
    pub fn finish(mut self) -> Vec<u8> {
        self.out.push(OP_EOF);
        let crc = crc64(&self.out);
        self.out.extend_from_slice(&crc.to_le_bytes());
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut w = Writer::new(&[(b"redis-ver", b"7.0.15")]);
        w.select_db(0, 2, 1);
        w.entry(b"k", Some(4102444800000), &[0, 1, b'v']);
        w.entry(b"n", None, &[0, 0xc0, 7]);
        w.finish()
    }

    #[test]
    fn walks_what_it_writes() {
        let bytes = sample();
        assert!(bytes.starts_with(b"REDIS0010\xfa"));
        let mut w = Walker::new(&bytes).unwrap();
        let first = w.next_entry().unwrap().unwrap();
        assert_eq!(
            (
                first.key.as_slice(),
                first.expire_at_ms,
                first.ty,
                first.value
            ),
            (&b"k"[..], Some(4102444800000), 0, &[1, b'v'][..])
        );
        let second = w.next_entry().unwrap().unwrap();
        assert_eq!(
            (second.key.as_slice(), second.value),
            (&b"n"[..], &[0xc0, 7][..])
        );
        assert_eq!(w.next_entry().unwrap(), None);
        assert_eq!(w.next_entry().unwrap(), None);
        assert_eq!(w.aux, vec![(b"redis-ver".to_vec(), b"7.0.15".to_vec())]);
    }

    #[test]
    fn checks_crc_but_accepts_zero() {
        let mut bytes = sample();
        let n = bytes.len();
        bytes[n - 1] ^= 1;
        let walk = |b: &[u8]| -> Result<usize, RdbError> {
            let mut w = Walker::new(b)?;
            let mut n = 0;
            while w.next_entry()?.is_some() {
                n += 1;
            }
            Ok(n)
        };
        assert_eq!(walk(&bytes), Err(RdbError::VersionOrChecksum));
        bytes[n - 8..].fill(0);
        assert_eq!(walk(&bytes), Ok(2));
        assert!(walk(&bytes[..n - 12]).is_err());
    }

    #[test]
    fn newer_versions_only_when_asked() {
        let mut bytes = sample();
        bytes[5..9].copy_from_slice(b"0011");
        bytes.truncate(bytes.len() - 8);
        bytes.extend_from_slice(&[0; 8]);
        assert!(Walker::new(&bytes).is_err());
        assert_eq!(Walker::new_up_to(&bytes, 12).unwrap().version, 11);
    }
}
