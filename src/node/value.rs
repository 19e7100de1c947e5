//! The values a key can hold in trib-node's keyspace. Shared by the command families and by
//! DUMP/RESTORE (`node::rdb`), which encode and decode exactly these variants.

use std::collections::{HashMap, HashSet, VecDeque};

use bytes::Bytes;

use super::zset::SortedSet;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Bytes),
    List(VecDeque<Bytes>),
    Hash(HashMap<Bytes, Bytes>),
    Set(HashSet<Bytes>),
    ZSet(SortedSet),
}

impl Value {
    /// The name TYPE replies with.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    /// The name OBJECT ENCODING replies with, as Redis 7.0 picks it from the default
    /// thresholds (lists are always quicklists in 7.0; sets have no listpack form).
    pub fn encoding_name(&self) -> &'static str {
        use super::rdb::encoding::canonical_int;
        use super::rdb::object::*;
        match self {
            Value::Str(s) if canonical_int(s).is_some() => "int",
            Value::Str(s) if s.len() <= 44 => "embstr",
            Value::Str(_) => "raw",
            Value::List(_) => "quicklist",
            Value::Hash(h)
                if h.len() <= HASH_MAX_LISTPACK_ENTRIES
                    && h.iter().all(|(f, v)| {
                        f.len() <= HASH_MAX_LISTPACK_VALUE && v.len() <= HASH_MAX_LISTPACK_VALUE
                    }) =>
            {
                "listpack"
            }
            Value::Hash(_) => "hashtable",
            Value::Set(s)
                if s.len() <= SET_MAX_INTSET_ENTRIES
                    && s.iter().all(|m| canonical_int(m).is_some()) =>
            {
                "intset"
            }
            Value::Set(_) => "hashtable",
            Value::ZSet(z)
                if z.len() <= ZSET_MAX_LISTPACK_ENTRIES
                    && z.iter().all(|(m, _)| m.len() <= ZSET_MAX_LISTPACK_VALUE) =>
            {
                "listpack"
            }
            Value::ZSet(_) => "skiplist",
        }
    }
}
