//! RDB encoding shared by DUMP/RESTORE payloads and RDB files: pure functions over bytes, no I/O.
//! `payload` frames one value (DUMP/RESTORE), `file` frames a whole snapshot; both use the
//! `object` codec, which is built from the `encoding`, `listpack`, `ziplist`, `intset`, `lzf`
//! and `crc64` primitives.

pub mod crc64;
pub mod encoding;
pub mod file;
pub mod intset;
pub mod listpack;
pub mod lzf;
pub mod object;
pub mod payload;
pub mod ziplist;

pub use payload::{dump, restore};

/// Why a payload or file could not be decoded. The texts are Redis's own error messages (the
/// command layer prefixes `ERR `).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RdbError {
    #[error("DUMP payload version or checksum are wrong")]
    VersionOrChecksum,
    #[error("Bad data format")]
    BadFormat,
}

/// The RDB version Redis 7.0 writes, and the newest it accepts.
pub const RDB_VERSION: u16 = 10;
