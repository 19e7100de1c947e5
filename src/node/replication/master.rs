//! The master's answer to a full synchronisation request: the bytes written to the replica's
//! connection. Plain `SYNC` gets `$<len>\r\n<rdb>` (no trailing CRLF, as Redis sends it);
//! `PSYNC` gets `+FULLRESYNC <replid> <offset>\r\n` first. trib-node keeps no backlog yet, so
//! every PSYNC is a full resync. The snapshot is sent disk-style (`$<len>`), which every
//! replica and redis-cli understand, whatever `capa eof` said.

use super::snapshot::{rdb, ReplInfo, Source};

/// Which request is being answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Sync,
    Psync,
}

/// The full reply to `request`: preamble, length line and the RDB bytes.
pub fn full_sync(request: Request, source: &dyn Source, replid: &str, offset: u64) -> Vec<u8> {
    let file = rdb(source, &ReplInfo { replid, offset });
    let mut out = Vec::with_capacity(file.len() + 80);
    if request == Request::Psync {
        out.extend_from_slice(format!("+FULLRESYNC {replid} {offset}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("${}\r\n", file.len()).as_bytes());
    out.extend_from_slice(&file);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::keyspace::Keyspace;

    #[test]
    fn psync_has_the_fullresync_line_and_sync_does_not() {
        let db = Keyspace::new();
        let id = "a".repeat(40);
        let psync = full_sync(Request::Psync, &db, &id, 0);
        let head = format!("+FULLRESYNC {id} 0\r\n$");
        assert!(psync.starts_with(head.as_bytes()));
        let sync = full_sync(Request::Sync, &db, &id, 0);
        let crlf = sync.windows(2).position(|w| w == b"\r\n").unwrap();
        let len: usize = std::str::from_utf8(&sync[1..crlf])
            .unwrap()
            .parse()
            .unwrap();
        let rest = &sync[crlf + 2..];
        assert_eq!(len, rest.len());
        assert!(rest.starts_with(b"REDIS0010"));
    }
}
