//! SYNC, PSYNC and REPLCONF, master side: parse, check, and hand the keyspace to
//! `node::replication` for the snapshot. Redis 7.0's arities, flags and error texts.

use bytes::Bytes;

use super::flag::*;
use super::{cmd, is, CommandSpec, Ctx, NOKEYS};
use crate::node::log;
use crate::node::num::parse_i64;
use crate::node::replication::master::{full_sync, Request};
use crate::node::reply::Reply;

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
];

fn sync(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Reply {
    full_resync(ctx, Request::Sync)
}

/// `PSYNC <replid> <offset>`: without a backlog every request is answered with a full resync.
fn psync(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Reply {
    full_resync(ctx, Request::Psync)
}

fn full_resync(ctx: &mut Ctx<'_>, request: Request) -> Reply {
    let who = replica_name(ctx);
    log::notice(&format!("Replica {who} asks for synchronization"));
    let bytes = full_sync(request, &*ctx.db, &ctx.shared.run_id, 0);
    log::notice(&format!(
        "Synchronization with replica {who} succeeded ({} bytes)",
        bytes.len()
    ));
    let handshake = &mut ctx.session.replication;
    handshake.synced = true;
    if handshake.rdb_only {
        // As Redis: an rdb-only replica is disconnected once it has the snapshot.
        ctx.session.close_after_reply = true;
    }
    Reply::Raw(Bytes::from(bytes))
}

/// `ip:listening-port` when the replica said, else the connection's address.
fn replica_name(ctx: &Ctx<'_>) -> String {
    let h = &ctx.session.replication;
    let peer = &ctx.session.info.addr;
    match h.listening_port {
        Some(port) => {
            let ip = h.ip_address.clone().unwrap_or_else(|| {
                peer.rsplit_once(':')
                    .map(|(ip, _)| ip.to_string())
                    .unwrap_or_default()
            });
            format!("{ip}:{port}")
        }
        None => peer.clone(),
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
        } else if is(option, "ack") || is(option, "getack") {
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
