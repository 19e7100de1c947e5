//! CRC-64 as Redis computes it for DUMP payloads and RDB files ("Jones" polynomial, reflected,
//! init 0, no xor-out). Only the checksum; framing lives in `payload` and `file`.

use crc::{Crc, CRC_64_REDIS};

const REDIS_CRC64: Crc<u64> = Crc::<u64>::new(&CRC_64_REDIS);

/// The checksum of `bytes`, as Redis writes it (callers store it little-endian).
pub fn crc64(bytes: &[u8]) -> u64 {
    REDIS_CRC64.checksum(bytes)
}

/// The same checksum computed piece by piece (a file streamed from a socket).
pub fn crc64_digest() -> crc::Digest<'static, u64> {
    REDIS_CRC64.digest()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value_matches_redis() {
        assert_eq!(crc64(b"123456789"), 0xe9c6d914c4b8d9ca);
        let mut d = crc64_digest();
        d.update(b"1234");
        d.update(b"56789");
        assert_eq!(d.finalize(), 0xe9c6d914c4b8d9ca);
    }
}
