//! CLIENT subcommands: ID SETNAME GETNAME SETINFO LIST INFO KILL NO-EVICT NO-TOUCH REPLY PAUSE
//! UNPAUSE GETREDIR UNBLOCK HELP, over the client registry in `state`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use super::connection::valid_client_name;
use super::flag::*;
use super::keys::help;
use super::{cmd, container, int_arg, is, table, CommandSpec, Ctx, NOKEYS};
use crate::node::keyspace::unix_ms;
use crate::node::reply::Reply;
use crate::node::session::ClientInfo;
use crate::node::state::lock;

const CS: &[&str] = &["slow", "connection"];
const ADM: &[&str] = &["admin", "slow", "dangerous", "connection"];

pub const COMMANDS: &[CommandSpec] = &[container("client", -2, 0, &["slow"], SUBS)];

const SUBS: &[CommandSpec] = &[
    cmd("client|id", 2, NOSCRIPT | LOADING | STALE, NOKEYS, CS, id),
    cmd(
        "client|setname",
        3,
        NOSCRIPT | LOADING | STALE,
        NOKEYS,
        CS,
        setname,
    ),
    cmd(
        "client|getname",
        2,
        NOSCRIPT | LOADING | STALE,
        NOKEYS,
        CS,
        getname,
    ),
    cmd(
        "client|setinfo",
        4,
        NOSCRIPT | LOADING | STALE,
        NOKEYS,
        CS,
        setinfo,
    ),
    cmd(
        "client|list",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        ADM,
        list,
    ),
    cmd(
        "client|info",
        2,
        NOSCRIPT | LOADING | STALE,
        NOKEYS,
        CS,
        info,
    ),
    cmd(
        "client|kill",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        ADM,
        kill,
    ),
    cmd(
        "client|no-evict",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        ADM,
        no_evict,
    ),
    cmd(
        "client|no-touch",
        3,
        NOSCRIPT | LOADING | STALE,
        NOKEYS,
        CS,
        no_touch,
    ),
    cmd(
        "client|reply",
        3,
        NOSCRIPT | LOADING | STALE,
        NOKEYS,
        CS,
        reply,
    ),
    cmd(
        "client|pause",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        ADM,
        pause,
    ),
    cmd(
        "client|unpause",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        ADM,
        ok,
    ),
    cmd(
        "client|getredir",
        2,
        NOSCRIPT | LOADING | STALE,
        NOKEYS,
        CS,
        getredir,
    ),
    cmd(
        "client|unblock",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        ADM,
        unblock,
    ),
    cmd(
        "client|help",
        2,
        LOADING | STALE,
        NOKEYS,
        &["slow", "connection"],
        client_help,
    ),
];

fn id(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    Reply::Int(ctx.session.id() as i64)
}

fn setname(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    if !valid_client_name(&a[2]) {
        return Reply::err("Client names cannot contain spaces, newlines or special characters.");
    }
    ctx.session.set_name(if a[2].is_empty() {
        None
    } else {
        Some(a[2].clone())
    });
    Reply::OK
}

fn getname(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    Reply::opt_bulk(ctx.session.name())
}

fn setinfo(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    if a[3].iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Reply::err(format!(
            "{} cannot contain spaces, newlines or special characters.",
            String::from_utf8_lossy(&a[2]).to_ascii_lowercase()
        ));
    }
    let slot = if is(&a[2], "lib-name") {
        &ctx.session.info.lib_name
    } else if is(&a[2], "lib-ver") {
        &ctx.session.info.lib_ver
    } else {
        return Reply::err(format!(
            "Unrecognized option '{}'",
            String::from_utf8_lossy(&a[2])
        ));
    };
    *lock(slot) = Some(a[3].clone());
    Reply::OK
}

/// One CLIENT LIST line (Redis 7.0 field set), without the trailing newline.
fn describe(c: &ClientInfo, now_ms: u64) -> String {
    let name = lock(&c.name)
        .clone()
        .map(|n| String::from_utf8_lossy(&n).into_owned())
        .unwrap_or_default();
    let last = c.last_cmd.load(Ordering::Relaxed);
    let cmd = table()
        .flat
        .iter()
        .find(|s| **s as *const CommandSpec as usize == last)
        .map(|s| s.name)
        .unwrap_or("NULL");
    let multi = if c.multi.load(Ordering::Relaxed) {
        0
    } else {
        -1
    };
    format!(
        "id={} addr={} laddr={} fd=8 name={} age={} idle={} flags=N db=0 sub=0 psub=0 ssub=0 multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=1024 events=r cmd={} user={} redir=-1 resp={}",
        c.id,
        c.addr,
        c.laddr,
        name,
        now_ms.saturating_sub(c.created_ms) / 1000,
        now_ms.saturating_sub(c.last_ms.load(Ordering::Relaxed)) / 1000,
        multi,
        cmd,
        lock(&c.user),
        c.resp.load(Ordering::Relaxed),
    )
}

fn list(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let mut ids: Option<Vec<u64>> = None;
    let mut i = 2;
    while i < a.len() {
        if is(&a[i], "type") && i + 1 < a.len() {
            let t = &a[i + 1];
            if !(is(t, "normal")
                || is(t, "master")
                || is(t, "replica")
                || is(t, "slave")
                || is(t, "pubsub"))
            {
                return Reply::err(format!(
                    "Unknown client type '{}'",
                    String::from_utf8_lossy(t)
                ));
            }
            if !is(t, "normal") {
                ids = Some(Vec::new());
            }
            i += 2;
        } else if is(&a[i], "id") && i + 1 < a.len() {
            let mut v = Vec::new();
            for x in &a[i + 1..] {
                match int_arg(x) {
                    Ok(n) if n > 0 => v.push(n as u64),
                    _ => return Reply::err("Invalid client ID"),
                }
            }
            ids = Some(v);
            i = a.len();
        } else {
            return Reply::syntax();
        }
    }
    let now = unix_ms();
    let clients: Vec<Arc<ClientInfo>> = lock(&ctx.shared.clients).values().cloned().collect();
    let mut out = String::new();
    for c in clients {
        if ids.as_ref().map(|v| v.contains(&c.id)).unwrap_or(true) {
            out.push_str(&describe(&c, now));
            out.push('\n');
        }
    }
    Reply::Verbatim(Bytes::from(out))
}

fn info(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    let mut s = describe(&ctx.session.info, unix_ms());
    s.push('\n');
    Reply::Verbatim(Bytes::from(s))
}

fn kill(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let clients: Vec<Arc<ClientInfo>> = lock(&ctx.shared.clients).values().cloned().collect();
    if a.len() == 3 {
        // old form: CLIENT KILL addr
        let addr = String::from_utf8_lossy(&a[2]);
        return match clients.iter().find(|c| c.addr == addr) {
            Some(c) => {
                kill_one(ctx, c);
                Reply::OK
            }
            None => Reply::err("No such client"),
        };
    }
    if a.len() % 2 == 1 {
        return Reply::syntax();
    }
    let mut skipme = true;
    let mut filters: Vec<(String, Bytes)> = Vec::new();
    for pair in a[2..].chunks(2) {
        let k = String::from_utf8_lossy(&pair[0]).to_ascii_lowercase();
        match k.as_str() {
            "id" => {
                if int_arg(&pair[1]).map(|n| n <= 0).unwrap_or(true) {
                    return Reply::err("client-id should be greater than 0");
                }
            }
            "skipme" => {
                if is(&pair[1], "yes") {
                    skipme = true;
                } else if is(&pair[1], "no") {
                    skipme = false;
                } else {
                    return Reply::syntax();
                }
                continue;
            }
            "addr" | "laddr" | "user" | "type" => {}
            _ => return Reply::syntax(),
        }
        filters.push((k, pair[1].clone()));
    }
    let replica_ids: Vec<u64> = {
        let inner = ctx.shared.replication.lock();
        inner.replicas.iter().map(|r| r.client_id).collect()
    };
    let mut n = 0;
    for c in clients {
        if skipme && c.id == ctx.session.id() {
            continue;
        }
        let all = filters.iter().all(|(k, v)| {
            let v = String::from_utf8_lossy(v);
            match k.as_str() {
                "id" => v.parse::<u64>().map(|id| id == c.id).unwrap_or(false),
                "addr" => c.addr == v,
                "laddr" => c.laddr == v,
                "user" => *lock(&c.user) == v,
                "type" => {
                    let replica = replica_ids.contains(&c.id);
                    if v.eq_ignore_ascii_case("replica") || v.eq_ignore_ascii_case("slave") {
                        replica
                    } else {
                        v.eq_ignore_ascii_case("normal") && !replica
                    }
                }
                _ => false,
            }
        });
        if all {
            kill_one(ctx, &c);
            n += 1;
        }
    }
    Reply::Int(n)
}

fn kill_one(ctx: &mut Ctx<'_>, c: &ClientInfo) {
    if c.id == ctx.session.id() {
        ctx.session.close_after_reply = true;
    } else {
        c.request_kill();
    }
}

fn on_off(v: &[u8]) -> Option<bool> {
    if is(v, "on") {
        Some(true)
    } else if is(v, "off") {
        Some(false)
    } else {
        None
    }
}

fn no_evict(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match on_off(&a[2]) {
        Some(v) => {
            ctx.session.no_evict = v;
            Reply::OK
        }
        None => Reply::syntax(),
    }
}

fn no_touch(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match on_off(&a[2]) {
        Some(v) => {
            ctx.session.no_touch = v;
            Reply::OK
        }
        None => Reply::syntax(),
    }
}

fn reply(_ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    if is(&a[2], "on") {
        Reply::OK
    } else if is(&a[2], "off") || is(&a[2], "skip") {
        Reply::err("CLIENT REPLY OFF/SKIP is not supported by trib-node")
    } else {
        Reply::syntax()
    }
}

fn pause(_ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    if int_arg(&a[2]).is_err() {
        return Reply::err("timeout is not an integer or out of range");
    }
    Reply::OK
}

fn ok(_ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    Reply::OK
}

fn getredir(_ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    Reply::Int(-1)
}

fn unblock(_ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match int_arg(&a[2]) {
        Ok(_) => Reply::Int(0),
        Err(e) => e,
    }
}

fn client_help(_ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    help(
        "CLIENT",
        &[
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "LIST [options ...]",
            "    Return information about client connections.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
        ],
    )
}
