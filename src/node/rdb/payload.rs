//! DUMP/RESTORE of trib-node values: the object codec (`object`) inside the payload framing
//! shared with the CLI (`crate::rdb::payload`, which checks the footer as Redis 7.0 does).

use super::encoding::Reader;
use super::object::{read_object, write_object};
use super::{RdbError, RDB_VERSION};
use crate::node::value::Value;
use crate::rdb::payload::frame;
pub use crate::rdb::payload::verify;

/// The DUMP payload of `value`, which a real Redis 7.0 RESTORE accepts.
pub fn dump(value: &Value) -> Vec<u8> {
    let mut object = Vec::new();
    write_object(&mut object, value);
    frame(object[0], &object[1..], RDB_VERSION)
}

/// Decodes a RESTORE payload. Like Redis 7.0, bytes left over after the value are ignored.
pub fn restore(payload: &[u8]) -> Result<Value, RdbError> {
    let body = verify(payload)?;
    let mut r = Reader::new(body);
    let ty = r.u8().map_err(|_| RdbError::BadFormat)?;
    read_object(ty, &mut r)
}

#[cfg(test)]
mod tests;
