//! SYNC, PSYNC, REPLCONF (master side), REPLICAOF/SLAVEOF, ROLE, WAIT and INFO's
//! `# Replication` body: parse, check, and hand over to `node::replication`. Redis 7.0's
//! arities, flags and error texts. What the stream carries is decided in `propagate`; the
//! node side of the replica link (loading, applying, the once-a-second cron) is in `host`.

mod host;
mod info;
mod port;
pub mod propagate;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::flag::*;
use super::{cmd, int_arg, is, BoxFuture, CommandSpec, Ctx, NOKEYS};
use crate::node::log;
use crate::node::num::parse_i64;
use crate::node::replication::master::{full_sync, Request};
use crate::node::replication::{self as repl, LinkState};
use crate::node::reply::Reply;
use crate::node::session::Session;
use crate::node::state::Shared;

pub use host::{cron, reconcile, start_from_config};
pub use info::info_section;

const ADMIN_ACL: &[&str] = &["admin", "slow", "dangerous"];

pub const COMMANDS: &[CommandSpec] = &[
    cmd(
        "sync",
        1,
        ADMIN | NOSCRIPT | NO_MULTI,
        NOKEYS,
        ADMIN_ACL,
        sync,
    ),
    cmd(
        "psync",
        -3,
        ADMIN | NOSCRIPT | NO_MULTI,
        NOKEYS,
        ADMIN_ACL,
        psync,
    ),
    cmd(
        "replconf",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        NOKEYS,
        ADMIN_ACL,
        replconf,
    ),
    cmd(
        "replicaof",
        3,
        ADMIN | NOSCRIPT | STALE,
        NOKEYS,
        ADMIN_ACL,
        replicaof,
    ),
    cmd(
        "slaveof",
        3,
        ADMIN | NOSCRIPT | STALE,
        NOKEYS,
        ADMIN_ACL,
        replicaof,
    ),
];

fn sync(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Reply {
    full_resync(ctx, Request::Sync)
}

/// `PSYNC <replid> <offset>`: `+CONTINUE` when the backlog holds `offset`, else a full resync.
fn psync(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if ctx.shared.replication.is_replica()
        && ctx.shared.replication.lock().link.as_ref().map(|l| l.state)
            != Some(LinkState::Connected)
    {
        return Reply::error("NOMASTERLINK Can't SYNC while not connected with my master");
    }
    let from = parse_i64(&args[2]).unwrap_or(-1);
    if !ctx.session.replication.rdb_only && from > 0 && &args[1][..] != b"?" {
        let (ip, port) = replica_addr(ctx);
        let replid = String::from_utf8_lossy(&args[1]).into_owned();
        let id = ctx.session.id();
        if let Some((cont, rx)) =
            ctx.shared
                .replication
                .attach_continue(&replid, from as u64, id, ip, port)
        {
            log::notice(&format!(
                "Partial resynchronization request from {} accepted. Sending {} bytes of backlog starting from offset {from}.",
                replica_name(ctx),
                cont.tail.len()
            ));
            ctx.session.repl_feed = Some(rx);
            ctx.session.replication.synced = true;
            let mut out = if ctx.session.replication.capa_psync2 {
                format!("+CONTINUE {}\r\n", cont.replid).into_bytes()
            } else {
                b"+CONTINUE\r\n".to_vec()
            };
            out.extend_from_slice(&cont.tail);
            return Reply::Raw(Bytes::from(out));
        }
    }
    full_resync(ctx, Request::Psync)
}

fn full_resync(ctx: &mut Ctx<'_>, request: Request) -> Reply {
    let who = replica_name(ctx);
    log::notice(&format!("Replica {who} asks for synchronization"));
    let handshake = ctx.session.replication.clone();
    // rdb-only clients (backups) take the snapshot and go; plain SYNC is an old-style replica
    // (`redis-cli --replica`): it gets the stream too, and is not expected to ACK.
    let (replid, offset) = if !handshake.rdb_only {
        let (ip, port) = replica_addr(ctx);
        let (replid, offset, rx) = ctx
            .shared
            .replication
            .attach_full(ctx.session.id(), ip, port);
        ctx.session.repl_feed = Some(rx);
        (replid, offset)
    } else {
        let inner = ctx.shared.replication.lock();
        (inner.replid.clone(), inner.offset)
    };
    let bytes = full_sync(request, &*ctx.db, &replid, offset);
    log::notice(&format!(
        "Synchronization with replica {who} succeeded ({} bytes)",
        bytes.len()
    ));
    ctx.session.replication.synced = true;
    if handshake.rdb_only {
        // As Redis: an rdb-only replica is disconnected once it has the snapshot.
        ctx.session.close_after_reply = true;
    }
    Reply::Raw(Bytes::from(bytes))
}

/// The replica's announced ip (or the connection's) and listening port (or 0).
fn replica_addr(ctx: &Ctx<'_>) -> (String, u16) {
    let h = &ctx.session.replication;
    let ip = h.ip_address.clone().unwrap_or_else(|| {
        let peer = &ctx.session.info.addr;
        peer.rsplit_once(':')
            .map(|(ip, _)| ip.trim_matches(|c| c == '[' || c == ']').to_string())
            .unwrap_or_default()
    });
    (ip, h.listening_port.unwrap_or(0))
}

/// `ip:listening-port` when the replica said, else the connection's address.
fn replica_name(ctx: &Ctx<'_>) -> String {
    match ctx.session.replication.listening_port {
        Some(port) => format!("{}:{port}", replica_addr(ctx).0),
        None => ctx.session.info.addr.clone(),
    }
}

/// No bytes at all: REPLCONF ACK/GETACK are never answered.
fn silent() -> Reply {
    Reply::Raw(Bytes::new())
}

fn replconf(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len().is_multiple_of(2) {
        return Reply::syntax();
    }
    let mut next = ctx.session.replication.clone();
    for pair in args[1..].chunks(2) {
        let (option, value) = (&pair[0], &pair[1]);
        if is(option, "listening-port") {
            match parse_i64(value).and_then(|p| u16::try_from(p).ok()) {
                Some(p) => next.listening_port = Some(p),
                None => return Reply::not_integer(),
            }
        } else if is(option, "ip-address") {
            next.ip_address = Some(String::from_utf8_lossy(value).into_owned());
        } else if is(option, "capa") {
            next.capa_eof |= is(value, "eof");
            next.capa_psync2 |= is(value, "psync2");
        } else if is(option, "rdb-only") {
            match parse_i64(value) {
                Some(0) => next.rdb_only = false,
                Some(1) => next.rdb_only = true,
                _ => return Reply::err("value is out of range"),
            }
        } else if is(option, "ack") {
            if let Some(offset) = parse_i64(value).filter(|o| *o >= 0) {
                ctx.shared.replication.ack(ctx.session.id(), offset as u64);
            }
            return silent();
        } else if is(option, "getack") {
            return silent();
        } else {
            return Reply::err(format!(
                "Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(option)
            ));
        }
    }
    ctx.session.replication = next;
    Reply::ok()
}

/// `REPLICAOF host port` / `REPLICAOF NO ONE` (and SLAVEOF).
fn replicaof(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if ctx.shared.config().cluster_enabled() {
        return Reply::err("REPLICAOF not allowed in cluster mode.");
    }
    if is(&args[1], "no") && is(&args[2], "one") {
        if ctx.shared.replication.is_replica() {
            repl::promote(&ctx.shared.replication);
        }
        return Reply::ok();
    }
    let port = match int_arg(&args[2]) {
        Ok(p) if (0..=65535).contains(&p) => p as u16,
        Ok(_) => return Reply::err("Invalid master port"),
        Err(e) => return e,
    };
    let host = String::from_utf8_lossy(&args[1]).into_owned();
    let already = ctx
        .shared
        .replication
        .lock()
        .link
        .as_ref()
        .is_some_and(|l| l.host == host && l.port == port);
    if already {
        log::notice("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
        return Reply::simple("OK Already connected to specified master");
    }
    host::follow(ctx.shared, &host, port);
    log::notice(&format!(
        "REPLICAOF {host}:{port} enabled (user request from 'id={} addr={}')",
        ctx.session.id(),
        ctx.session.info.addr
    ));
    Reply::ok()
}

/// ROLE: `master offset [[ip port offset]...]` or `slave host port state offset`.
pub fn role(ctx: &mut Ctx<'_>) -> Reply {
    let inner = ctx.shared.replication.lock();
    if let Some(link) = inner.link.as_ref() {
        let offset = if link.state == LinkState::Connected {
            inner.offset as i64
        } else {
            -1
        };
        return Reply::Array(vec![
            Reply::bulk_str("slave"),
            Reply::bulk_str(&link.host),
            Reply::Int(i64::from(link.port)),
            Reply::bulk_str(link.state.name()),
            Reply::Int(offset),
        ]);
    }
    let replicas = inner
        .replicas
        .iter()
        .map(|r| {
            Reply::Array(vec![
                Reply::bulk_str(&r.ip),
                Reply::bulk_str(&r.port.to_string()),
                Reply::bulk_str(&r.ack_offset.to_string()),
            ])
        })
        .collect();
    Reply::Array(vec![
        Reply::bulk_str("master"),
        Reply::Int(inner.offset as i64),
        Reply::Array(replicas),
    ])
}

/// WAIT numreplicas timeout: asks replicas for an ACK and waits until `numreplicas` of them
/// acknowledged the offset at the time of the call, or the timeout (0 = forever) passes.
pub fn wait<'a>(
    shared: &'a Arc<Shared>,
    session: &'a mut Session,
    n: i64,
    timeout: i64,
) -> BoxFuture<'a> {
    Box::pin(async move {
        let repl = &shared.replication;
        if repl.is_replica() {
            return Reply::err("WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
        }
        let target = repl.offset();
        let acked = repl.acked_count(target);
        if acked as i64 >= n || repl.replica_count() == 0 && n <= 0 {
            return Reply::Int(acked as i64);
        }
        repl.feed_command(&[b"REPLCONF", b"GETACK", b"*"]);
        let limit = if timeout == 0 {
            u64::MAX / 4
        } else {
            timeout as u64
        };
        let deadline = tokio::time::Instant::now() + Duration::from_millis(limit);
        loop {
            let notified = repl.acked.notified();
            let acked = repl.acked_count(target);
            if acked as i64 >= n {
                return Reply::Int(acked as i64);
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep_until(deadline) => return Reply::Int(repl.acked_count(target) as i64),
                _ = session.info.kill.notified() => {
                    session.close_after_reply = true;
                    return Reply::Int(repl.acked_count(target) as i64);
                }
            }
        }
    })
}
