//! Replication, master side (so far): what a connection told us in its REPLCONF handshake, and
//! the full snapshot a SYNC or `PSYNC ? -1` gets (`snapshot`, `master`). The command stream,
//! backlog, partial resync, WAIT and the replica side are issue 16's (they will grow here).
//! Reads the keyspace only through `snapshot::Source`, never the command families.

pub mod master;
pub mod snapshot;

/// What a connection declared with REPLCONF before SYNC/PSYNC (kept in its session).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// `REPLCONF listening-port <port>`.
    pub listening_port: Option<u16>,
    /// `REPLCONF ip-address <ip>`.
    pub ip_address: Option<String>,
    /// `REPLCONF capa eof`: it could take a `$EOF:<mark>` (diskless) transfer.
    pub capa_eof: bool,
    /// `REPLCONF capa psync2`.
    pub capa_psync2: bool,
    /// `REPLCONF rdb-only 1`: it wants the snapshot only; the connection closes after it.
    pub rdb_only: bool,
    /// It has received a full snapshot (it is a replica of this node from then on).
    pub synced: bool,
}
