//! Connection commands: PING ECHO QUIT RESET HELLO AUTH SELECT, and the cluster client flags
//! ASKING / READONLY / READWRITE (answered here; their effect is read by the router).

use bytes::Bytes;

use super::flag::*;
use super::{cmd, is, CommandSpec, Ctx, NOKEYS};
use crate::node::config::REDIS_VERSION;
use crate::node::num::parse_i64;
use crate::node::reply::Reply;

const CONN: &[&str] = &["fast", "connection"];

pub const COMMANDS: &[CommandSpec] = &[
    cmd("ping", -1, FAST, NOKEYS, CONN, ping),
    cmd("echo", 2, FAST, NOKEYS, CONN, echo),
    cmd(
        "quit",
        -1,
        ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        NOKEYS,
        &["fast", "connection"],
        quit,
    ),
    cmd(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        NOKEYS,
        CONN,
        reset,
    ),
    cmd(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        NOKEYS,
        CONN,
        hello,
    ),
    cmd(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        NOKEYS,
        CONN,
        auth,
    ),
    cmd("select", 2, LOADING | STALE | FAST, NOKEYS, CONN, select),
    cmd("asking", 1, FAST, NOKEYS, CONN, asking),
    cmd(
        "readonly",
        1,
        LOADING | STALE | FAST,
        NOKEYS,
        CONN,
        readonly,
    ),
    cmd(
        "readwrite",
        1,
        LOADING | STALE | FAST,
        NOKEYS,
        CONN,
        readwrite,
    ),
];

fn ping(_ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match a.len() {
        1 => Reply::simple("PONG"),
        2 => Reply::Bulk(a[1].clone()),
        _ => Reply::arity("ping"),
    }
}

fn echo(_ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    Reply::Bulk(a[1].clone())
}

fn quit(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    ctx.session.close_after_reply = true;
    Reply::OK
}

fn unwatch_all(ctx: &mut Ctx<'_>) {
    for (k, _) in ctx.session.watched.drain(..) {
        ctx.db.unwatch(&k);
    }
}

/// Clears transaction state and WATCHes (DISCARD, EXEC, RESET).
pub fn end_transaction(ctx: &mut Ctx<'_>) {
    ctx.session.multi = None;
    ctx.session
        .info
        .multi
        .store(false, std::sync::atomic::Ordering::Relaxed);
    unwatch_all(ctx);
}

fn reset(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    end_transaction(ctx);
    ctx.session.set_resp(2);
    ctx.session.set_name(None);
    ctx.session.asking = false;
    ctx.session.readonly = false;
    ctx.session.no_evict = false;
    ctx.session.set_user("default");
    ctx.session.authenticated = !ctx.shared.acl().default_needs_auth();
    Reply::simple("RESET")
}

fn try_auth(ctx: &mut Ctx<'_>, user: &[u8], pass: &[u8]) -> Result<(), Reply> {
    let user = String::from_utf8_lossy(user).into_owned();
    if ctx.shared.acl().authenticate(&user, pass) {
        ctx.session.authenticated = true;
        ctx.session.set_user(&user);
        Ok(())
    } else {
        Err(Reply::error(
            "WRONGPASS invalid username-password pair or user is disabled.",
        ))
    }
}

fn auth(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    if a.len() > 3 {
        return Reply::syntax();
    }
    if a.len() == 2 {
        let default_nopass = ctx
            .shared
            .acl()
            .users
            .get("default")
            .map(|u| u.nopass)
            .unwrap_or(false);
        if default_nopass {
            return Reply::err("AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        }
        return try_auth(ctx, b"default", &a[1])
            .map(|_| Reply::OK)
            .unwrap_or_else(|e| e);
    }
    try_auth(ctx, &a[1], &a[2])
        .map(|_| Reply::OK)
        .unwrap_or_else(|e| e)
}

/// Client names: no spaces, newlines or other characters outside '!'..'~'.
pub fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

fn hello(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let mut proto = None;
    let mut i = 1;
    if a.len() >= 2 {
        match parse_i64(&a[1]) {
            Some(v) if (2..=3).contains(&v) => proto = Some(v as u8),
            Some(_) => return Reply::error("NOPROTO unsupported protocol version"),
            None => return Reply::err("Protocol version is not an integer or out of range"),
        }
        i = 2;
    }
    let mut creds = None;
    let mut name = None;
    while i < a.len() {
        let more = a.len() - i - 1;
        if is(&a[i], "auth") && more >= 2 {
            creds = Some((a[i + 1].clone(), a[i + 2].clone()));
            i += 3;
        } else if is(&a[i], "setname") && more >= 1 {
            name = Some(a[i + 1].clone());
            i += 2;
        } else {
            return Reply::err(format!(
                "Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&a[i])
            ));
        }
    }
    if !ctx.session.authenticated && creds.is_none() {
        return Reply::error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    }
    if let Some((u, p)) = creds {
        if let Err(e) = try_auth(ctx, &u, &p) {
            return e;
        }
    }
    if let Some(n) = &name {
        if !valid_client_name(n) {
            return Reply::err(
                "Client names cannot contain spaces, newlines or special characters.",
            );
        }
        ctx.session
            .set_name(if n.is_empty() { None } else { Some(n.clone()) });
    }
    if let Some(p) = proto {
        ctx.session.set_resp(p);
    }
    let cluster = ctx.shared.cluster();
    let mode = if cluster.is_some() {
        "cluster"
    } else {
        "standalone"
    };
    let replica = ctx.shared.replication.is_replica();
    let role = if replica || cluster.map(|c| c.is_replica()).unwrap_or(false) {
        "replica"
    } else {
        "master"
    };
    Reply::Map(vec![
        (Reply::bulk_str("server"), Reply::bulk_str("redis")),
        (Reply::bulk_str("version"), Reply::bulk_str(REDIS_VERSION)),
        (
            Reply::bulk_str("proto"),
            Reply::Int(i64::from(ctx.session.resp)),
        ),
        (Reply::bulk_str("id"), Reply::Int(ctx.session.id() as i64)),
        (Reply::bulk_str("mode"), Reply::bulk_str(mode)),
        (Reply::bulk_str("role"), Reply::bulk_str(role)),
        (Reply::bulk_str("modules"), Reply::Array(vec![])),
    ])
}

fn select(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match parse_i64(&a[1]) {
        None => Reply::not_integer(),
        Some(0) => Reply::OK,
        Some(n) => {
            let dbs = ctx.shared.config().get_i64("databases");
            if ctx.shared.cluster().is_none() && (n < 0 || n >= dbs) {
                Reply::err("DB index is out of range")
            } else {
                Reply::err("SELECT is not allowed in cluster mode")
            }
        }
    }
}

fn cluster_disabled(ctx: &Ctx<'_>) -> Option<Reply> {
    if ctx.shared.cluster().is_none() {
        Some(Reply::err("This instance has cluster support disabled"))
    } else {
        None
    }
}

fn asking(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    if let Some(e) = cluster_disabled(ctx) {
        return e;
    }
    ctx.session.asking = true;
    Reply::OK
}

fn readonly(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    if let Some(e) = cluster_disabled(ctx) {
        return e;
    }
    ctx.session.readonly = true;
    Reply::OK
}

fn readwrite(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    if let Some(e) = cluster_disabled(ctx) {
        return e;
    }
    ctx.session.readonly = false;
    Reply::OK
}
