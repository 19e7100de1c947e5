//! Per-connection state: identity (client id, name, library), authentication, RESP version,
//! the MULTI queue and WATCHed keys, cluster ASKING/READONLY flags, and close requests. The
//! parts other connections must see (CLIENT LIST / KILL) live in `ClientInfo`, shared through
//! the registry in `state`.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::Notify;

/// What CLIENT LIST shows about a connection, readable from other connections.
#[derive(Debug)]
pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub created_ms: u64,
    pub last_ms: AtomicU64,
    /// Address of the last command's (static) spec, 0 before the first command; CLIENT LIST
    /// maps it back to a name.
    pub last_cmd: AtomicUsize,
    pub name: Mutex<Option<Bytes>>,
    pub lib_name: Mutex<Option<Bytes>>,
    pub lib_ver: Mutex<Option<Bytes>>,
    pub user: Mutex<String>,
    pub resp: AtomicUsize,
    pub multi: AtomicBool,
    pub killed: AtomicBool,
    pub kill: Notify,
}

impl ClientInfo {
    pub fn new(id: u64, addr: String, laddr: String, now_ms: u64) -> ClientInfo {
        ClientInfo {
            id,
            addr,
            laddr,
            created_ms: now_ms,
            last_ms: AtomicU64::new(now_ms),
            last_cmd: AtomicUsize::new(0),
            name: Mutex::new(None),
            lib_name: Mutex::new(None),
            lib_ver: Mutex::new(None),
            user: Mutex::new("default".into()),
            resp: AtomicUsize::new(2),
            multi: AtomicBool::new(false),
            killed: AtomicBool::new(false),
            kill: Notify::new(),
        }
    }
    pub fn request_kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill.notify_one();
    }
}

/// A transaction being queued.
#[derive(Debug, Default)]
pub struct Multi {
    pub queue: Vec<Vec<Bytes>>,
    /// An error was returned while queuing: EXEC answers EXECABORT.
    pub aborted: bool,
}

#[derive(Debug)]
pub struct Session {
    pub info: Arc<ClientInfo>,
    pub user: String,
    pub authenticated: bool,
    /// 2 or 3.
    pub resp: u8,
    pub multi: Option<Multi>,
    /// WATCHed keys with the version seen at WATCH time.
    pub watched: Vec<(Bytes, u64)>,
    /// A WATCHed key was logically expired at WATCH time (Redis keeps EXEC valid then).
    pub asking: bool,
    pub readonly: bool,
    /// Close the connection after this reply (QUIT, protocol errors, CLIENT KILL of self).
    pub close_after_reply: bool,
    /// CLIENT REPLY OFF/SKIP state: replies suppressed.
    pub reply_off: bool,
    pub reply_skip_next: bool,
    pub no_evict: bool,
    pub no_touch: bool,
    /// What it declared with REPLCONF, and whether it has had a full snapshot.
    pub replication: crate::node::replication::Handshake,
    /// A replica's share of the replication stream (set by SYNC/PSYNC; the server writes it).
    pub repl_feed: Option<tokio::sync::mpsc::UnboundedReceiver<Bytes>>,
}

impl Session {
    pub fn new(info: Arc<ClientInfo>, needs_auth: bool) -> Session {
        Session {
            info,
            user: "default".into(),
            authenticated: !needs_auth,
            resp: 2,
            multi: None,
            watched: Vec::new(),
            asking: false,
            readonly: false,
            close_after_reply: false,
            reply_off: false,
            reply_skip_next: false,
            no_evict: false,
            no_touch: false,
            replication: Default::default(),
            repl_feed: None,
        }
    }
    pub fn id(&self) -> u64 {
        self.info.id
    }
    pub fn in_multi(&self) -> bool {
        self.multi.is_some()
    }
    pub fn set_resp(&mut self, v: u8) {
        self.resp = v;
        self.info.resp.store(usize::from(v), Ordering::Relaxed);
    }
    pub fn set_user(&mut self, user: &str) {
        self.user = user.to_string();
        *self.info.user.lock().unwrap_or_else(|e| e.into_inner()) = user.to_string();
    }
    pub fn name(&self) -> Option<Bytes> {
        self.info
            .name
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
    pub fn set_name(&self, name: Option<Bytes>) {
        *self.info.name.lock().unwrap_or_else(|e| e.into_inner()) = name;
    }
}
