//! The object codec: a `Value` to/from its RDB type byte and value encoding. Reads every type
//! Redis 7.0 (and older servers) emit; writes the encodings Redis 7.0 itself would choose.
//! No payload framing (see `payload`) and no file opcodes (see `file`).

use std::collections::{HashMap, HashSet, VecDeque};

use bytes::Bytes;

use super::encoding::{canonical_int, write_length, write_string, Reader};
use super::{intset, listpack, ziplist, RdbError};
use crate::node::value::Value;
use crate::node::zset::{format_score, parse_score, SortedSet};

pub use crate::rdb::types::{
    QUICKLIST_NODE_PACKED, QUICKLIST_NODE_PLAIN, TYPE_HASH, TYPE_HASH_LISTPACK, TYPE_HASH_ZIPLIST,
    TYPE_LIST, TYPE_LIST_QUICKLIST, TYPE_LIST_QUICKLIST_2, TYPE_LIST_ZIPLIST, TYPE_SET,
    TYPE_SET_INTSET, TYPE_STRING, TYPE_ZSET, TYPE_ZSET_2, TYPE_ZSET_LISTPACK, TYPE_ZSET_ZIPLIST,
};

/// Redis 7.0's default encoding thresholds (`*-max-listpack-*`, `set-max-intset-entries`,
/// `list-max-listpack-size -2` = 8 KiB per node).
pub const HASH_MAX_LISTPACK_ENTRIES: usize = 512;
pub const HASH_MAX_LISTPACK_VALUE: usize = 64;
pub const ZSET_MAX_LISTPACK_ENTRIES: usize = 128;
pub const ZSET_MAX_LISTPACK_VALUE: usize = 64;
pub const SET_MAX_INTSET_ENTRIES: usize = 512;
const LIST_NODE_MAX_BYTES: usize = 8192;

fn non_empty(value: Value, len: usize) -> Result<Value, RdbError> {
    if len == 0 {
        Err(RdbError::BadFormat)
    } else {
        Ok(value)
    }
}

fn list_from(elements: impl IntoIterator<Item = Vec<u8>>) -> Result<Value, RdbError> {
    let list: VecDeque<Bytes> = elements.into_iter().map(Bytes::from).collect();
    let len = list.len();
    non_empty(Value::List(list), len)
}

fn set_from(members: impl IntoIterator<Item = Vec<u8>>) -> Result<Value, RdbError> {
    let mut set = HashSet::new();
    for m in members {
        if !set.insert(Bytes::from(m)) {
            return Err(RdbError::BadFormat);
        }
    }
    let len = set.len();
    non_empty(Value::Set(set), len)
}

fn hash_from_flat(flat: Vec<Vec<u8>>) -> Result<Value, RdbError> {
    if !flat.len().is_multiple_of(2) {
        return Err(RdbError::BadFormat);
    }
    let mut hash = HashMap::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(f), Some(v)) = (it.next(), it.next()) {
        if hash.insert(Bytes::from(f), Bytes::from(v)).is_some() {
            return Err(RdbError::BadFormat);
        }
    }
    let len = hash.len();
    non_empty(Value::Hash(hash), len)
}

fn zset_insert(zset: &mut SortedSet, member: Vec<u8>, score: f64) -> Result<(), RdbError> {
    if score.is_nan() || !zset.insert(Bytes::from(member), score) {
        return Err(RdbError::BadFormat);
    }
    Ok(())
}

fn zset_from_flat(flat: Vec<Vec<u8>>) -> Result<Value, RdbError> {
    if !flat.len().is_multiple_of(2) {
        return Err(RdbError::BadFormat);
    }
    let mut zset = SortedSet::new();
    let mut it = flat.into_iter();
    while let (Some(m), Some(s)) = (it.next(), it.next()) {
        let score = parse_score(&s).ok_or(RdbError::BadFormat)?;
        zset_insert(&mut zset, m, score)?;
    }
    let len = zset.len();
    non_empty(Value::ZSet(zset), len)
}

/// Type 3's "string double": one length byte, with 253/254/255 meaning NaN/+inf/-inf.
fn read_string_double(r: &mut Reader) -> Result<f64, RdbError> {
    match r.u8()? {
        253 => Err(RdbError::BadFormat),
        254 => Ok(f64::INFINITY),
        255 => Ok(f64::NEG_INFINITY),
        len => parse_score(r.take(len as usize)?).ok_or(RdbError::BadFormat),
    }
}

/// Reads the value of RDB object type `ty` from `r`.
pub fn read_object(ty: u8, r: &mut Reader) -> Result<Value, RdbError> {
    match ty {
        TYPE_STRING => Ok(Value::Str(Bytes::from(r.string()?))),
        TYPE_LIST => {
            let n = r.count()?;
            let elements = (0..n).map(|_| r.string()).collect::<Result<Vec<_>, _>>()?;
            list_from(elements)
        }
        TYPE_SET => {
            let n = r.count()?;
            let members = (0..n).map(|_| r.string()).collect::<Result<Vec<_>, _>>()?;
            set_from(members)
        }
        TYPE_ZSET | TYPE_ZSET_2 => {
            let n = r.count()?;
            let mut zset = SortedSet::new();
            for _ in 0..n {
                let member = r.string()?;
                let score = if ty == TYPE_ZSET {
                    read_string_double(r)?
                } else {
                    f64::from_le_bytes(r.array()?)
                };
                zset_insert(&mut zset, member, score)?;
            }
            non_empty(Value::ZSet(zset), n)
        }
        TYPE_HASH => {
            let n = r.count()?;
            let mut flat = Vec::with_capacity(n * 2);
            for _ in 0..n * 2 {
                flat.push(r.string()?);
            }
            hash_from_flat(flat)
        }
        TYPE_LIST_ZIPLIST => list_from(ziplist::read(&r.string()?)?),
        TYPE_SET_INTSET => set_from(intset::read(&r.string()?)?),
        TYPE_ZSET_ZIPLIST => zset_from_flat(ziplist::read(&r.string()?)?),
        TYPE_HASH_ZIPLIST => hash_from_flat(ziplist::read(&r.string()?)?),
        TYPE_HASH_LISTPACK => hash_from_flat(listpack::read(&r.string()?)?),
        TYPE_ZSET_LISTPACK => zset_from_flat(listpack::read(&r.string()?)?),
        TYPE_LIST_QUICKLIST => {
            let nodes = r.count()?;
            let mut elements = Vec::new();
            for _ in 0..nodes {
                elements.extend(ziplist::read(&r.string()?)?);
            }
            list_from(elements)
        }
        TYPE_LIST_QUICKLIST_2 => {
            let nodes = r.count()?;
            let mut elements = Vec::new();
            for _ in 0..nodes {
                match r.length()? {
                    QUICKLIST_NODE_PLAIN => elements.push(r.string()?),
                    QUICKLIST_NODE_PACKED => elements.extend(listpack::read(&r.string()?)?),
                    _ => return Err(RdbError::BadFormat),
                }
            }
            list_from(elements)
        }
        _ => Err(RdbError::BadFormat),
    }
}

/// The listpack form of a score: an integer when it is one (as Redis's d2string + listpack
/// integer encoding produce), else its `%.17g` text.
fn score_bytes(score: f64) -> Vec<u8> {
    format_score(score).into_bytes()
}

fn write_list(out: &mut Vec<u8>, list: &VecDeque<Bytes>) {
    let mut nodes: Vec<Vec<&[u8]>> = Vec::new();
    let mut current: Vec<&[u8]> = Vec::new();
    let mut current_bytes = 0;
    for element in list {
        let size = listpack::entry_size(element);
        if !current.is_empty() && current_bytes + size > LIST_NODE_MAX_BYTES {
            nodes.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current.push(element);
        current_bytes += size;
    }
    if !current.is_empty() {
        nodes.push(current);
    }
    out.push(TYPE_LIST_QUICKLIST_2);
    write_length(out, nodes.len() as u64);
    for node in nodes {
        write_length(out, QUICKLIST_NODE_PACKED);
        write_string(out, &listpack::write(node));
    }
}

fn write_set(out: &mut Vec<u8>, set: &HashSet<Bytes>) {
    if set.len() <= SET_MAX_INTSET_ENTRIES {
        let ints: Option<Vec<i64>> = set.iter().map(|m| canonical_int(m)).collect();
        if let Some(ints) = ints {
            out.push(TYPE_SET_INTSET);
            write_string(out, &intset::write(&ints));
            return;
        }
    }
    out.push(TYPE_SET);
    write_length(out, set.len() as u64);
    for member in set {
        write_string(out, member);
    }
}

fn write_hash(out: &mut Vec<u8>, hash: &HashMap<Bytes, Bytes>) {
    let small = hash.len() <= HASH_MAX_LISTPACK_ENTRIES
        && hash
            .iter()
            .all(|(f, v)| f.len() <= HASH_MAX_LISTPACK_VALUE && v.len() <= HASH_MAX_LISTPACK_VALUE);
    if small {
        out.push(TYPE_HASH_LISTPACK);
        let flat = hash.iter().flat_map(|(f, v)| [f.as_ref(), v.as_ref()]);
        write_string(out, &listpack::write(flat));
        return;
    }
    out.push(TYPE_HASH);
    write_length(out, hash.len() as u64);
    for (field, value) in hash {
        write_string(out, field);
        write_string(out, value);
    }
}

fn write_zset(out: &mut Vec<u8>, zset: &SortedSet) {
    let small = zset.len() <= ZSET_MAX_LISTPACK_ENTRIES
        && zset.iter().all(|(m, _)| m.len() <= ZSET_MAX_LISTPACK_VALUE);
    if small {
        out.push(TYPE_ZSET_LISTPACK);
        let scores: Vec<Vec<u8>> = zset.iter().map(|(_, s)| score_bytes(s)).collect();
        let flat = zset
            .iter()
            .zip(scores.iter())
            .flat_map(|((m, _), s)| [m.as_ref(), s.as_slice()]);
        write_string(out, &listpack::write(flat));
        return;
    }
    out.push(TYPE_ZSET_2);
    write_length(out, zset.len() as u64);
    // Highest score first, as Redis writes skiplists (so its loader appends cheaply).
    for (member, score) in zset.iter().rev() {
        write_string(out, member);
        out.extend_from_slice(&score.to_le_bytes());
    }
}

/// Appends the type byte and RDB encoding of `value` to `out`.
pub fn write_object(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Str(s) => {
            out.push(TYPE_STRING);
            write_string(out, s);
        }
        Value::List(list) => write_list(out, list),
        Value::Set(set) => write_set(out, set),
        Value::Hash(hash) => write_hash(out, hash),
        Value::ZSet(zset) => write_zset(out, zset),
    }
}
