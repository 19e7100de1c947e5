//! trib-node's side of RDB: decoding values into its own `Value` types and encoding them the
//! way Redis 7.0 would (`object`, with the `listpack`, `ziplist` and `intset` blobs), DUMP and
//! RESTORE (`payload`) and whole snapshots (`file`). The framing, primitives and constants
//! shared with the CLI live in `crate::rdb`; they are re-exported here under their old names.

pub use crate::rdb::{crc64, encoding, lzf, RdbError, RDB_VERSION};

pub mod file;
pub mod intset;
pub mod listpack;
pub mod object;
pub mod payload;
pub mod ziplist;

pub use payload::{dump, restore};
