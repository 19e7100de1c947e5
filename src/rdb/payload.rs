//! DUMP/RESTORE payload framing: [type byte + value encoding] + RDB version (u16 LE) + CRC-64
//! (u64 LE). Builds and checks the footer exactly as Redis 7.0 does; what the value bytes mean
//! is not this file's concern.

use super::crc64::crc64;
use super::{RdbError, RDB_VERSION};

/// Version + CRC.
pub const FOOTER_LEN: usize = 10;

/// The payload of a value of type `ty` (`value`: its RDB encoding), stamped with RDB `version`.
pub fn frame(ty: u8, value: &[u8], version: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + value.len() + FOOTER_LEN);
    frame_into(&mut out, ty, value, version);
    out
}

/// `frame`, appended to `out` (a command being built) without a copy of its own.
pub fn frame_into(out: &mut Vec<u8>, ty: u8, value: &[u8], version: u16) {
    let start = out.len();
    out.push(ty);
    out.extend_from_slice(value);
    out.extend_from_slice(&version.to_le_bytes());
    let crc = crc64(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// Checks the footer of a payload (length, version <= 10, CRC) and returns the object bytes
/// (type byte + value) before it.
pub fn verify(payload: &[u8]) -> Result<&[u8], RdbError> {
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
    Ok(&payload[..payload.len() - FOOTER_LEN])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_then_verify() {
        let p = frame(0, &[1, b'v'], RDB_VERSION);
        assert_eq!(p.len(), 3 + FOOTER_LEN);
        assert_eq!(verify(&p).unwrap(), &[0, 1, b'v']);
        assert_eq!(
            verify(&frame(0, &[1, b'v'], 11)),
            Err(RdbError::VersionOrChecksum)
        );
        let mut bad = p.clone();
        bad[1] = 2;
        assert_eq!(verify(&bad), Err(RdbError::VersionOrChecksum));
        assert_eq!(verify(&p[..5]), Err(RdbError::VersionOrChecksum));
    }
}
