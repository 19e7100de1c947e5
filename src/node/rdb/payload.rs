//! DUMP/RESTORE payload framing: type + value + RDB version (u16 LE) + CRC-64 (u64 LE).
//! Verifies the footer exactly as Redis 7.0 does; the value codec lives in `object`.

use super::crc64::crc64;
use super::encoding::Reader;
use super::object::{read_object, write_object};
use super::{RdbError, RDB_VERSION};
use crate::node::value::Value;

const FOOTER_LEN: usize = 10;

/// The DUMP payload of `value`, which a real Redis 7.0 RESTORE accepts.
pub fn dump(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_object(&mut out, value);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Checks the footer of a payload (length, version <= 10, CRC) without decoding the value.
pub fn verify(payload: &[u8]) -> Result<(), RdbError> {
    if payload.len() < FOOTER_LEN {
        return Err(RdbError::VersionOrChecksum);
    }
    let body_end = payload.len() - 8;
    let version = u16::from_le_bytes([payload[body_end - 2], payload[body_end - 1]]);
    if version > RDB_VERSION {
        return Err(RdbError::VersionOrChecksum);
    }
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&payload[body_end..]);
    if crc64(&payload[..body_end]) != u64::from_le_bytes(crc) {
        return Err(RdbError::VersionOrChecksum);
    }
    Ok(())
}

/// Decodes a RESTORE payload. Like Redis 7.0, bytes left over after the value are ignored.
pub fn restore(payload: &[u8]) -> Result<Value, RdbError> {
    verify(payload)?;
    let body = &payload[..payload.len() - FOOTER_LEN];
    let mut r = Reader::new(body);
    let ty = r.u8().map_err(|_| RdbError::BadFormat)?;
    read_object(ty, &mut r)
}

#[cfg(test)]
mod tests;
