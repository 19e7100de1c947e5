//! The MIGRATE command (§2.1-2.2): argument checks, then — holding the keyspace lock from the
//! first lookup to the last delete, as Redis's single thread does — serialize the keys (DUMP
//! payloads), send them in one pipelined batch over a cached connection, and delete only the
//! keys the target acknowledged. The socket side is `migrate_conn`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;

use super::commands::parse_i64;
use super::migrate_conn::{Auth, Item, MigrateCache, Outcome, Request};
use crate::node::commands::{BoxFuture, Ctx};
use crate::node::keyspace::{unix_ms, Keyspace};
use crate::node::rdb::payload::dump;
use crate::node::reply::Reply;
use crate::node::session::Session;
use crate::node::state::Shared;

/// Parsed MIGRATE arguments.
pub struct MigrateArgs {
    pub host: String,
    pub port: String,
    pub keys: Vec<Bytes>,
    pub db: i64,
    pub timeout: Duration,
    pub copy: bool,
    pub replace: bool,
    pub auth: Option<Auth>,
}

fn eq(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

/// Key positions for the command table (and routing): `key`, or everything after `KEYS`.
pub fn key_positions(args: &[Bytes]) -> Vec<usize> {
    if args.len() > 6 {
        for i in 6..args.len() {
            if eq(&args[i], "keys") {
                return (i + 1..args.len()).collect();
            }
            // AUTH/AUTH2 values are not option names
            if eq(&args[i], "auth") {
                return key_positions_after(args, i + 2);
            }
        }
    }
    vec![3]
}

fn key_positions_after(args: &[Bytes], from: usize) -> Vec<usize> {
    for i in from..args.len() {
        if eq(&args[i], "keys") {
            return (i + 1..args.len()).collect();
        }
    }
    vec![3]
}

pub fn parse(a: &[Bytes]) -> Result<MigrateArgs, Reply> {
    let mut copy = false;
    let mut replace = false;
    let mut auth = None;
    let mut keys = vec![a[3].clone()];
    let mut j = 6;
    while j < a.len() {
        let more = a.len() - 1 - j;
        if eq(&a[j], "copy") {
            copy = true;
        } else if eq(&a[j], "replace") {
            replace = true;
        } else if eq(&a[j], "auth") {
            if more < 1 {
                return Err(Reply::syntax());
            }
            j += 1;
            auth = Some(Auth {
                user: None,
                pass: a[j].clone(),
            });
        } else if eq(&a[j], "auth2") {
            if more < 2 {
                return Err(Reply::syntax());
            }
            auth = Some(Auth {
                user: Some(a[j + 1].clone()),
                pass: a[j + 2].clone(),
            });
            j += 2;
        } else if eq(&a[j], "keys") {
            if !a[3].is_empty() {
                return Err(Reply::err(
                    "When using MIGRATE KEYS option, the key argument must be set to the empty string",
                ));
            }
            keys = a[j + 1..].to_vec();
            break;
        } else {
            return Err(Reply::syntax());
        }
        j += 1;
    }
    let (Some(timeout), Some(db)) = (parse_i64(&a[5]), parse_i64(&a[4])) else {
        return Err(Reply::not_integer());
    };
    let timeout = if timeout <= 0 { 1000 } else { timeout as u64 };
    Ok(MigrateArgs {
        host: String::from_utf8_lossy(&a[1]).into_owned(),
        port: String::from_utf8_lossy(&a[2]).into_owned(),
        keys,
        db,
        timeout: Duration::from_millis(timeout),
        copy,
        replace,
        auth,
    })
}

fn cache() -> &'static MigrateCache {
    static CACHE: OnceLock<MigrateCache> = OnceLock::new();
    CACHE.get_or_init(MigrateCache::default)
}

/// Runs one MIGRATE with the keyspace locked by the caller.
pub async fn run(db: &mut Keyspace, m: &MigrateArgs, cluster_mode: bool) -> Reply {
    let now = unix_ms();
    let mut items = Vec::with_capacity(m.keys.len());
    for k in &m.keys {
        let Some(e) = db.get_entry(k) else { continue };
        let ttl = match e.expire_at {
            None => 0,
            Some(at) if at <= now => continue,
            Some(at) => (at - now).max(1),
        };
        items.push(Item {
            key: k.clone(),
            ttl,
            payload: dump(&e.value),
        });
    }
    if items.is_empty() {
        return Reply::simple("NOKEY");
    }
    let req = Request {
        host: &m.host,
        port: &m.port,
        db: m.db,
        timeout: m.timeout,
        replace: m.replace,
        auth: m.auth.clone(),
        asking: cluster_mode,
        items: &items,
    };
    match cache().exchange(&req).await {
        Outcome::Io(text) => Reply::error(text),
        Outcome::Replied { acked, error } => {
            if !m.copy {
                for (it, ok) in items.iter().zip(&acked) {
                    if *ok {
                        db.remove(&it.key);
                    }
                }
            }
            match error {
                Some(e) => Reply::err(format!("Target instance replied with error: {e}")),
                None => Reply::ok(),
            }
        }
    }
}

pub fn migrate_async<'a>(
    shared: &'a Arc<Shared>,
    _session: &'a mut Session,
    a: Vec<Bytes>,
) -> BoxFuture<'a> {
    Box::pin(async move {
        let m = match parse(&a) {
            Ok(m) => m,
            Err(r) => return r,
        };
        let cluster_mode = shared.cluster().is_some();
        let mut db = shared.db.lock().await;
        db.now_ms = unix_ms();
        run(&mut db, &m, cluster_mode).await
    })
}

/// Inside MULTI/EXEC the keyspace is held synchronously, so the network exchange cannot run.
pub fn migrate_in_multi(_ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match parse(a) {
        Err(r) => r,
        Ok(_) => Reply::err("MIGRATE is not supported inside MULTI/EXEC by trib-node"),
    }
}
