//! The replication state one node shares between its connections: replication id(s) and
//! offset, the backlog, the replicas attached to this node (each fed through a channel that
//! its connection task drains) and, when this node follows a master, that link's status.
//! No sockets here: the master-side connection lives in the server, the link in `link`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::{mpsc, Notify};
use tokio::task::AbortHandle;

use super::backlog::Backlog;
use super::wire::encode_command;

pub const NO_REPLID: &str = "0000000000000000000000000000000000000000";

/// A fresh 40-hex replication id.
pub fn new_replid() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..40)
        .map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)]))
        .collect()
}

/// One replica attached to this node.
#[derive(Debug)]
pub struct Replica {
    pub client_id: u64,
    pub ip: String,
    pub port: u16,
    pub tx: mpsc::UnboundedSender<Bytes>,
    pub ack_offset: u64,
    pub ack_at: Instant,
}

/// The state of this node's link to its master (when it has one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Must connect (ROLE `connect`).
    Connect,
    /// Handshake under way (ROLE `connecting`).
    Connecting,
    /// Receiving the snapshot (ROLE `sync`).
    Sync,
    /// Streaming (ROLE `connected`, INFO `master_link_status:up`).
    Connected,
}

impl LinkState {
    pub fn name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Sync => "sync",
            LinkState::Connected => "connected",
        }
    }
}

#[derive(Debug)]
pub struct Link {
    pub host: String,
    pub port: u16,
    pub state: LinkState,
    pub last_io: Instant,
    pub(super) task: Option<AbortHandle>,
}

#[derive(Debug)]
pub struct Inner {
    pub replid: String,
    pub replid2: String,
    /// `second_repl_offset`: -1, or the first offset that `replid2` does not cover.
    pub second_offset: i64,
    pub offset: u64,
    pub backlog: Option<Backlog>,
    pub backlog_size: usize,
    /// The stream has said `SELECT 0` since the last full sync (a new replica needs one first).
    pub db_selected: bool,
    pub replicas: Vec<Replica>,
    pub link: Option<Link>,
    pub last_ping: Instant,
}

/// What a master answers a PSYNC it can continue.
pub struct Continue {
    pub replid: String,
    pub tail: Vec<u8>,
}

pub struct Replication {
    inner: Mutex<Inner>,
    /// Mirrors `Inner::offset` for lock-free readers (the cluster bus header).
    offset: AtomicU64,
    /// Mirrors `Inner::link.is_some()`: the write path checks it per command.
    replica: AtomicBool,
    /// A master with a backlog: executed writes must be propagated.
    streaming: AtomicBool,
    /// Signalled on every REPLCONF ACK (WAIT sleeps on it).
    pub acked: Notify,
}

impl Replication {
    pub fn new(replid: String, backlog_size: usize) -> Replication {
        Replication {
            inner: Mutex::new(Inner {
                replid,
                replid2: NO_REPLID.into(),
                second_offset: -1,
                offset: 0,
                backlog: None,
                backlog_size,
                db_selected: false,
                replicas: Vec::new(),
                link: None,
                last_ping: Instant::now(),
            }),
            offset: AtomicU64::new(0),
            replica: AtomicBool::new(false),
            streaming: AtomicBool::new(false),
            acked: Notify::new(),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The replication offset (master: bytes produced; replica: bytes processed).
    pub fn offset(&self) -> u64 {
        self.offset.load(Ordering::Relaxed)
    }

    /// This node follows a master (whatever the link's state).
    pub fn is_replica(&self) -> bool {
        self.replica.load(Ordering::Relaxed)
    }

    pub(super) fn sync_flags(&self, inner: &Inner) {
        self.offset.store(inner.offset, Ordering::Relaxed);
        self.replica.store(inner.link.is_some(), Ordering::Relaxed);
        let streaming = inner.link.is_none() && inner.backlog.is_some();
        self.streaming.store(streaming, Ordering::Relaxed);
    }

    /// Writes executed here must be propagated (a master that has had a replica).
    pub fn streaming(&self) -> bool {
        self.streaming.load(Ordering::Relaxed)
    }

    /// Appends stream bytes: backlog, every attached replica, the offset. Without a backlog
    /// (no replica ever attached) the stream goes nowhere and the offset stays.
    pub fn feed_raw(&self, bytes: &[u8]) {
        let mut inner = self.lock();
        feed(&mut inner, bytes);
        self.sync_flags(&inner);
    }

    /// Propagates one command as a master: `SELECT 0` first when a new replica needs it.
    pub fn feed_command(&self, args: &[&[u8]]) {
        let mut inner = self.lock();
        if inner.backlog.is_none() || inner.link.is_some() {
            return;
        }
        if !inner.db_selected {
            inner.db_selected = true;
            feed(&mut inner, &encode_command(&[b"SELECT", b"0"]));
        }
        feed(&mut inner, &encode_command(args));
        self.sync_flags(&inner);
    }

    /// A replica asked for a full sync: from now on it gets the stream from the returned
    /// offset (the caller snapshots the keyspace under the same keyspace lock).
    pub fn attach_full(
        &self,
        client_id: u64,
        ip: String,
        port: u16,
    ) -> (String, u64, mpsc::UnboundedReceiver<Bytes>) {
        let mut inner = self.lock();
        let next = inner.offset + 1;
        let size = inner.backlog_size;
        inner
            .backlog
            .get_or_insert_with(|| Backlog::new(size, next));
        inner.db_selected = false;
        let rx = attach(&mut inner, client_id, ip, port);
        self.sync_flags(&inner);
        (inner.replid.clone(), inner.offset, rx)
    }

    /// `PSYNC <replid> <from>`: the tail to send when the backlog covers it, else None.
    pub fn attach_continue(
        &self,
        replid: &str,
        from: u64,
        client_id: u64,
        ip: String,
        port: u16,
    ) -> Option<(Continue, mpsc::UnboundedReceiver<Bytes>)> {
        let mut inner = self.lock();
        let known = replid == inner.replid
            || (replid == inner.replid2 && (from as i64) <= inner.second_offset);
        if !known {
            return None;
        }
        let tail = inner.backlog.as_ref()?.since(from)?;
        let rx = attach(&mut inner, client_id, ip, port);
        let replid = inner.replid.clone();
        Some((Continue { replid, tail }, rx))
    }

    pub fn detach(&self, client_id: u64) {
        self.lock().replicas.retain(|r| r.client_id != client_id);
    }

    /// `REPLCONF ACK <offset>` from replica `client_id`.
    pub fn ack(&self, client_id: u64, offset: u64) {
        let mut inner = self.lock();
        if let Some(r) = inner.replicas.iter_mut().find(|r| r.client_id == client_id) {
            r.ack_offset = r.ack_offset.max(offset);
            r.ack_at = Instant::now();
        }
        drop(inner);
        self.acked.notify_waiters();
    }

    /// How many replicas acknowledged at least `offset` (WAIT).
    pub fn acked_count(&self, offset: u64) -> usize {
        let inner = self.lock();
        inner
            .replicas
            .iter()
            .filter(|r| r.ack_offset >= offset)
            .count()
    }

    pub fn replica_count(&self) -> usize {
        self.lock().replicas.len()
    }

    pub fn set_backlog_size(&self, size: usize) {
        let mut inner = self.lock();
        inner.backlog_size = size;
        if let Some(b) = inner.backlog.as_mut() {
            b.resize(size);
        }
    }

    /// Called by the replica link after loading a master's snapshot: its identity becomes
    /// ours, and the backlog restarts at its offset.
    pub fn synced_from(&self, replid: &str, offset: u64) {
        let mut inner = self.lock();
        inner.replid = replid.to_string();
        inner.replid2 = NO_REPLID.into();
        inner.second_offset = -1;
        inner.offset = offset;
        inner.backlog = Some(Backlog::new(inner.backlog_size, offset + 1));
        // Our own replicas hold a dataset that no longer matches: they must resync.
        inner.replicas.clear();
        self.sync_flags(&inner);
    }

    /// `+CONTINUE <replid>` with a new id: the master changed history (it was promoted).
    pub(super) fn continued_as(&self, replid: &str) {
        let mut inner = self.lock();
        if inner.replid != replid {
            inner.replid2 = std::mem::replace(&mut inner.replid, replid.to_string());
            inner.second_offset = inner.offset as i64 + 1;
        }
        if inner.backlog.is_none() {
            let (size, next) = (inner.backlog_size, inner.offset + 1);
            inner.backlog = Some(Backlog::new(size, next));
        }
        self.sync_flags(&inner);
    }

    pub(super) fn set_link_state(&self, state: LinkState) {
        let mut inner = self.lock();
        if let Some(link) = inner.link.as_mut() {
            link.state = state;
            link.last_io = Instant::now();
        }
    }

    pub(super) fn touch_link(&self) {
        if let Some(link) = self.lock().link.as_mut() {
            link.last_io = Instant::now();
        }
    }
}

fn feed(inner: &mut Inner, bytes: &[u8]) {
    let Some(backlog) = inner.backlog.as_mut() else {
        return;
    };
    backlog.push(bytes);
    inner.offset += bytes.len() as u64;
    if inner.replicas.is_empty() {
        return;
    }
    let chunk = Bytes::copy_from_slice(bytes);
    // A replica whose connection has gone is dropped here (its task ended).
    inner.replicas.retain(|r| r.tx.send(chunk.clone()).is_ok());
}

fn attach(
    inner: &mut Inner,
    client_id: u64,
    ip: String,
    port: u16,
) -> mpsc::UnboundedReceiver<Bytes> {
    let (tx, rx) = mpsc::unbounded_channel();
    inner.replicas.retain(|r| r.client_id != client_id);
    inner.replicas.push(Replica {
        client_id,
        ip,
        port,
        tx,
        ack_offset: 0,
        ack_at: Instant::now(),
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continues_only_a_known_history_the_backlog_still_holds() {
        let repl = Replication::new("a".repeat(40), 16 * 1024);
        repl.feed_command(&[b"SET", b"k", b"v"]);
        assert_eq!(repl.offset(), 0, "no backlog before the first replica");
        let (id, at, mut rx) = repl.attach_full(7, "127.0.0.1".into(), 1);
        assert_eq!((id.as_str(), at), ("a".repeat(40).as_str(), 0));
        repl.feed_command(&[b"SET", b"k", b"v"]);
        let first = rx.try_recv().unwrap();
        assert!(first.starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"));
        let end = repl.offset();
        assert!(end > 0);
        let (c, _) = repl
            .attach_continue(&"a".repeat(40), 1, 8, "h".into(), 2)
            .unwrap();
        assert_eq!(c.tail.len() as u64, end);
        assert!(repl
            .attach_continue(&"a".repeat(40), end + 2, 8, "h".into(), 2)
            .is_none());
        assert!(repl
            .attach_continue(&"b".repeat(40), 1, 8, "h".into(), 2)
            .is_none());
        repl.ack(7, end);
        assert_eq!(repl.acked_count(end), 1);
        assert_eq!(repl.acked_count(end + 1), 0);
    }

    #[test]
    fn a_continue_with_a_new_id_keeps_the_old_one_as_replid2() {
        let repl = Replication::new("a".repeat(40), 16 * 1024);
        repl.synced_from(&"m".repeat(40), 100);
        repl.continued_as(&"n".repeat(40));
        let inner = repl.lock();
        assert_eq!(inner.replid, "n".repeat(40));
        assert_eq!(inner.replid2, "m".repeat(40));
        assert_eq!(inner.second_offset, 101);
    }
}
