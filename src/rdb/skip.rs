//! The extent of one RDB value without decoding it: what `restore` needs to cut a DUMP payload
//! out of an RDB file, for every type Redis writes up to 7.2 (streams and module values
//! included, since they are passed to the target verbatim). Decoding is `node::rdb::object`.

use super::encoding::Reader;
use super::types::*;
use super::RdbError;

/// Advances `r` past the value of type `ty` (the type byte already read).
pub fn value(ty: u8, r: &mut Reader) -> Result<(), RdbError> {
    match ty {
        TYPE_STRING | TYPE_HASH_ZIPMAP | TYPE_LIST_ZIPLIST | TYPE_SET_INTSET
        | TYPE_ZSET_ZIPLIST | TYPE_HASH_ZIPLIST | TYPE_HASH_LISTPACK | TYPE_ZSET_LISTPACK
        | TYPE_SET_LISTPACK => r.skip_string(),
        TYPE_LIST | TYPE_SET | TYPE_LIST_QUICKLIST => strings(r, 1),
        TYPE_HASH => strings(r, 2),
        TYPE_ZSET => {
            for _ in 0..r.count()? {
                r.skip_string()?;
                // A "string double": one length byte, 253..=255 being NaN/+inf/-inf.
                match r.u8()? {
                    253..=255 => {}
                    len => {
                        r.take(len as usize)?;
                    }
                }
            }
            Ok(())
        }
        TYPE_ZSET_2 => {
            for _ in 0..r.count()? {
                r.skip_string()?;
                r.take(8)?;
            }
            Ok(())
        }
        TYPE_LIST_QUICKLIST_2 => {
            for _ in 0..r.count()? {
                match r.length()? {
                    QUICKLIST_NODE_PLAIN | QUICKLIST_NODE_PACKED => r.skip_string()?,
                    _ => return Err(RdbError::BadFormat),
                }
            }
            Ok(())
        }
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3 => stream(ty, r),
        TYPE_MODULE_2 => {
            r.length()?;
            module_fields(r)
        }
        other => Err(RdbError::UnsupportedType(other)),
    }
}

/// `count` then `count * per` strings.
fn strings(r: &mut Reader, per: usize) -> Result<(), RdbError> {
    let n = r.count()?;
    for _ in 0..n * per {
        r.skip_string()?;
    }
    Ok(())
}

fn lengths(r: &mut Reader, n: usize) -> Result<(), RdbError> {
    for _ in 0..n {
        r.length()?;
    }
    Ok(())
}

/// Streams as `rdbSaveObject` writes them (v2 adds first/max-deleted IDs, entries added and
/// each group's entries-read; v3 adds each consumer's active time).
fn stream(ty: u8, r: &mut Reader) -> Result<(), RdbError> {
    strings(r, 2)?; // listpacks: master ID key + listpack blob
    lengths(r, 3)?; // length, last ID ms + seq
    if ty != TYPE_STREAM_LISTPACKS {
        lengths(r, 5)?;
    }
    for _ in 0..r.count()? {
        r.skip_string()?; // group name
        lengths(r, 2)?; // last delivered ID
        if ty != TYPE_STREAM_LISTPACKS {
            r.length()?; // entries read
        }
        for _ in 0..r.count()? {
            r.take(16 + 8)?; // raw ID + delivery time
            r.length()?; // delivery count
        }
        for _ in 0..r.count()? {
            r.skip_string()?; // consumer name
            r.take(8)?; // seen time
            if ty == TYPE_STREAM_LISTPACKS_3 {
                r.take(8)?; // active time
            }
            let pending = r.count()?;
            r.take(pending.checked_mul(16).ok_or(RdbError::BadFormat)?)?;
        }
    }
    Ok(())
}

/// A module value's self-describing fields, up to the EOF opcode (also module AUX data).
pub fn module_fields(r: &mut Reader) -> Result<(), RdbError> {
    loop {
        match r.length()? {
            0 => return Ok(()),
            1 | 2 => {
                r.length()?;
            }
            3 => {
                r.take(4)?;
            }
            4 => {
                r.take(8)?;
            }
            5 => r.skip_string()?,
            _ => return Err(RdbError::BadFormat),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::encoding::{write_length, write_string};

    fn extent(ty: u8, body: &[u8]) -> Result<usize, RdbError> {
        let mut bytes = body.to_vec();
        bytes.push(0xee);
        let mut r = Reader::new(&bytes);
        value(ty, &mut r)?;
        assert_eq!(r.u8()?, 0xee, "stopped at the wrong place");
        Ok(r.position() - 1)
    }

    #[test]
    fn zsets_hashes_and_quicklists() {
        let mut z = Vec::new();
        write_length(&mut z, 2);
        write_string(&mut z, b"m");
        z.extend_from_slice(&[3, b'1', b'.', b'5']);
        write_string(&mut z, b"inf");
        z.push(254);
        assert_eq!(extent(TYPE_ZSET, &z).unwrap(), z.len());

        let mut h = Vec::new();
        write_length(&mut h, 1);
        write_string(&mut h, b"f");
        write_string(&mut h, b"12345");
        assert_eq!(extent(TYPE_HASH, &h).unwrap(), h.len());

        let mut q = vec![2, 1];
        write_string(&mut q, b"plain node");
        q.push(2);
        write_string(&mut q, &[0u8; 40]);
        assert_eq!(extent(TYPE_LIST_QUICKLIST_2, &q).unwrap(), q.len());
        q[1] = 9;
        assert_eq!(extent(TYPE_LIST_QUICKLIST_2, &q), Err(RdbError::BadFormat));
    }

    #[test]
    fn streams_with_groups_and_consumers() {
        let mut s = vec![1];
        write_string(&mut s, &[0u8; 16]);
        write_string(&mut s, b"listpack-bytes");
        s.extend_from_slice(&[5, 1, 0]); // length 5, last id 1-0
        s.extend_from_slice(&[1, 0, 0, 0, 5]); // v2 fields
        s.push(1); // one group
        write_string(&mut s, b"g");
        s.extend_from_slice(&[1, 0, 3]); // last id, entries read
        s.push(1); // one pending entry
        s.extend_from_slice(&[0u8; 24]);
        s.push(1);
        s.push(1); // one consumer
        write_string(&mut s, b"c");
        s.extend_from_slice(&[0u8; 8]);
        s.push(1);
        s.extend_from_slice(&[0u8; 16]);
        assert_eq!(extent(TYPE_STREAM_LISTPACKS_2, &s).unwrap(), s.len());
    }

    #[test]
    fn unknown_types_are_named() {
        assert_eq!(extent(6, &[1, 2]), Err(RdbError::UnsupportedType(6)));
        assert_eq!(extent(200, &[]), Err(RdbError::UnsupportedType(200)));
    }
}
