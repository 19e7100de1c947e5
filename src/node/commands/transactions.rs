//! MULTI / EXEC / DISCARD / WATCH / UNWATCH. Queuing happens in the dispatcher; EXEC runs the
//! queue under the keyspace lock it already holds, so a transaction is atomic. WATCH compares
//! per-key versions kept by the keyspace (every write, delete and expiry bumps them).

use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::connection::end_transaction;
use super::dispatch::{execute_locked, resolve};
use super::flag::*;
use super::{cmd, CommandSpec, Ctx, NOKEYS};
use crate::node::reply::Reply;
use crate::node::router::RouteQuery;
use crate::node::session::Multi;

const TX: &[&str] = &["fast", "transaction"];

pub const COMMANDS: &[CommandSpec] = &[
    cmd(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        NOKEYS,
        TX,
        multi,
    ),
    cmd(
        "exec",
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        NOKEYS,
        &["slow", "transaction"],
        exec,
    ),
    cmd(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        NOKEYS,
        TX,
        discard,
    ),
    cmd(
        "watch",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        (1, -1, 1),
        TX,
        watch,
    ),
    cmd(
        "unwatch",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        NOKEYS,
        TX,
        unwatch,
    ),
];

fn multi(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    if ctx.session.in_multi() {
        return Reply::err("MULTI calls can not be nested");
    }
    ctx.session.multi = Some(Multi::default());
    ctx.session.info.multi.store(true, Ordering::Relaxed);
    Reply::OK
}

fn discard(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    if !ctx.session.in_multi() {
        return Reply::err("DISCARD without MULTI");
    }
    end_transaction(ctx);
    Reply::OK
}

fn watch(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    if ctx.session.in_multi() {
        return Reply::err("WATCH inside MULTI is not allowed");
    }
    for k in &a[1..] {
        if ctx.session.watched.iter().any(|(w, _)| w == k) {
            continue;
        }
        let v = ctx.db.watch(k);
        ctx.session.watched.push((k.clone(), v));
    }
    Reply::OK
}

fn unwatch(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    for (k, _) in ctx.session.watched.drain(..) {
        ctx.db.unwatch(&k);
    }
    Reply::OK
}

fn exec(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    let Some(m) = ctx.session.multi.take() else {
        return Reply::err("EXEC without MULTI");
    };
    if m.aborted {
        end_transaction(ctx);
        return Reply::error("EXECABORT Transaction discarded because of previous errors.");
    }
    let touched = ctx
        .session
        .watched
        .iter()
        .any(|(k, v)| ctx.db.watch_version(k) != Some(*v));
    if touched {
        end_transaction(ctx);
        return Reply::NilArray;
    }
    let specs: Vec<(&'static CommandSpec, &Vec<Bytes>)> = m
        .queue
        .iter()
        .filter_map(|args| resolve(args).ok().map(|s| (s, args)))
        .collect();
    if let Some(cluster) = ctx.shared.cluster() {
        let keys: Vec<Bytes> = specs.iter().flat_map(|(s, a)| s.keys(a)).collect();
        let is_write = specs.iter().any(|(s, _)| s.is_write());
        if let Some((spec, args)) = specs.first() {
            let q = RouteQuery {
                spec,
                args,
                keys: &keys,
                is_write,
                is_exec: true,
            };
            if let Some(r) = cluster.route(&q, ctx.session, ctx.db) {
                end_transaction(ctx);
                return r;
            }
        }
    }
    ctx.session.info.multi.store(false, Ordering::Relaxed);
    let mut replies = Vec::with_capacity(specs.len());
    for (spec, args) in specs {
        replies.push(execute_locked(ctx.shared, ctx.session, ctx.db, spec, args));
    }
    end_transaction(ctx);
    Reply::Array(replies)
}
