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
}
