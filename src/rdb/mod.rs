//! RDB, shared by trib-node (DUMP/RESTORE, full sync) and the CLI (backup, restore): the
//! primitives (`encoding`, `lzf`, `crc64`), the type and version constants (`types`), the
//! extent of a value without decoding it (`skip`), DUMP payload framing (`payload`) and RDB
//! file framing (`file`). Pure functions over bytes, no I/O; decoding values into trib-node's
//! own types is `node::rdb`'s business.

pub mod crc64;
pub mod encoding;
pub mod file;
pub mod lzf;
pub mod payload;
pub mod skip;
pub mod types;

/// Why a payload or file could not be decoded. The first two texts are Redis's own error
/// messages (trib-node's command layer prefixes `ERR `).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RdbError {
    #[error("DUMP payload version or checksum are wrong")]
    VersionOrChecksum,
    #[error("Bad data format")]
    BadFormat,
    /// A value type whose extent cannot be known without its module (or a newer Redis).
    #[error("unsupported RDB value type {0}")]
    UnsupportedType(u8),
}

/// The RDB version Redis 7.0 writes, and the newest it accepts.
pub const RDB_VERSION: u16 = 10;
