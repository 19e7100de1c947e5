//! Server commands: COMMAND (the table's own description), DBSIZE, FLUSHALL, FLUSHDB,
//! SHUTDOWN, TIME, LASTSAVE, ROLE, WAIT, SWAPDB.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use super::dispatch::resolve;
use super::flag::*;
use super::keys::help;
use super::{cmd, describe, int_arg, is, table, CommandSpec, Ctx, Handler, NOKEYS};
use crate::node::glob::glob_match;
use crate::node::log;
use crate::node::reply::Reply;
use crate::node::session::Session;
use crate::node::state::Shared;

pub const COMMANDS: &[CommandSpec] = &[
    cmd(
        "command",
        -1,
        LOADING | STALE,
        NOKEYS,
        &["slow", "connection"],
        command,
    ),
    cmd(
        "dbsize",
        1,
        READONLY | FAST,
        NOKEYS,
        &["keyspace", "read", "fast"],
        dbsize,
    ),
    cmd(
        "flushall",
        -1,
        WRITE,
        NOKEYS,
        &["keyspace", "write", "slow", "dangerous"],
        flushall,
    ),
    cmd(
        "flushdb",
        -1,
        WRITE,
        NOKEYS,
        &["keyspace", "write", "slow", "dangerous"],
        flushall,
    ),
    cmd(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        NOKEYS,
        &["admin", "slow", "dangerous"],
        shutdown,
    ),
    cmd("time", 1, LOADING | STALE | FAST, NOKEYS, &["fast"], time),
    cmd(
        "lastsave",
        1,
        LOADING | STALE | FAST,
        NOKEYS,
        &["admin", "fast", "dangerous"],
        lastsave,
    ),
    cmd(
        "role",
        1,
        NOSCRIPT | LOADING | STALE | FAST,
        NOKEYS,
        &["admin", "fast", "dangerous"],
        role,
    ),
    CommandSpec {
        name: "wait",
        arity: 3,
        flags: NOSCRIPT,
        acl: &["slow", "connection"],
        handler: Handler::Async {
            run: wait_async,
            in_multi: wait_now,
        },
        ..CommandSpec::DEFAULT
    },
    cmd(
        "swapdb",
        3,
        WRITE | FAST,
        NOKEYS,
        &["keyspace", "write", "fast", "dangerous"],
        swapdb,
    ),
];

fn command(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let _ = ctx;
    let t = table();
    if a.len() == 1 {
        return Reply::Array(t.all.iter().map(|s| describe(s)).collect());
    }
    let sub = String::from_utf8_lossy(&a[1]).to_ascii_lowercase();
    let arity_err = |name: &str| Reply::arity(&format!("command|{name}"));
    match sub.as_str() {
        "count" if a.len() == 2 => Reply::Int(t.all.len() as i64),
        "count" => arity_err("count"),
        "info" => {
            if a.len() == 2 {
                return Reply::Array(t.all.iter().map(|s| describe(s)).collect());
            }
            Reply::Array(
                a[2..]
                    .iter()
                    .map(|n| match t.get(n) {
                        Some(s) => describe(s),
                        None => Reply::Nil,
                    })
                    .collect(),
            )
        }
        "list" => {
            let mut pattern = None;
            if a.len() == 5 && is(&a[2], "filterby") && is(&a[3], "pattern") {
                pattern = Some(a[4].clone());
            } else if a.len() != 2 {
                return Reply::syntax();
            }
            Reply::Array(
                t.all
                    .iter()
                    .filter(|s| {
                        pattern
                            .as_ref()
                            .map(|p| glob_match(p, s.name.as_bytes(), true))
                            .unwrap_or(true)
                    })
                    .map(|s| Reply::bulk_str(s.name))
                    .collect(),
            )
        }
        "docs" => Reply::Map(vec![]),
        "getkeys" | "getkeysandflags" if a.len() < 4 => arity_err(&sub),
        "getkeys" | "getkeysandflags" => {
            let args = &a[2..];
            let spec = match resolve(args) {
                Ok(s) => s,
                Err(Reply::Error(e)) if e.starts_with("ERR unknown command") => {
                    return Reply::err("Invalid command specified")
                }
                Err(_) if t.get(&args[0]).is_none() => {
                    return Reply::err("Invalid command specified")
                }
                Err(_) => return Reply::err("Invalid number of arguments specified for command"),
            };
            let keys = spec.keys(args);
            if keys.is_empty() {
                return Reply::err("The command has no key arguments");
            }
            if sub == "getkeys" {
                Reply::Array(keys.into_iter().map(Reply::Bulk).collect())
            } else {
                let flag = if spec.is_write() { "RW" } else { "RO" };
                Reply::Array(
                    keys.into_iter()
                        .map(|k| {
                            Reply::Array(vec![
                                Reply::Bulk(k),
                                Reply::Set(vec![Reply::simple(flag)]),
                            ])
                        })
                        .collect(),
                )
            }
        }
        "help" => help(
            "COMMAND",
            &[
                "(no subcommand)",
                "    Return details about all Redis commands.",
                "COUNT",
                "    Return the total number of commands in this Redis server.",
                "LIST",
                "    Return a list of all commands in this Redis server.",
                "INFO [<command-name> ...]",
                "    Return details about multiple Redis commands.",
                "    If no command names are given, documentation details for all",
                "    commands are returned.",
                "DOCS [<command-name> ...]",
                "    Return documentation details about multiple Redis commands.",
                "    If no command names are given, documentation details for all",
                "    commands are returned.",
                "GETKEYS <full-command>",
                "    Return the keys from a full Redis command.",
                "GETKEYSANDFLAGS <full-command>",
                "    Return the keys and the access flags from a full Redis command.",
            ],
        ),
        _ => Reply::err(format!(
            "unknown subcommand '{}'. Try COMMAND HELP.",
            String::from_utf8_lossy(&a[1])
        )),
    }
}

fn dbsize(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    Reply::Int(ctx.db.len() as i64)
}

fn flushall(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    if a.len() > 2 || (a.len() == 2 && !is(&a[1], "async") && !is(&a[1], "sync")) {
        return Reply::syntax();
    }
    ctx.db.flush();
    Reply::OK
}

fn shutdown(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let mut abort = false;
    for o in &a[1..] {
        if is(o, "abort") {
            abort = true;
        } else if !(is(o, "nosave") || is(o, "save") || is(o, "now") || is(o, "force")) {
            return Reply::syntax();
        }
    }
    if abort {
        return Reply::err("No shutdown in progress.");
    }
    log::warning("User requested shutdown...");
    log::warning("Redis is now ready to exit, bye bye...");
    ctx.shared.request_shutdown();
    ctx.session.close_after_reply = true;
    // Redis closes the connection without a reply when shutdown succeeds.
    Reply::Raw(Bytes::new())
}

fn time(_ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Reply::Array(vec![
        Reply::Bulk(Bytes::from(now.as_secs().to_string())),
        Reply::Bulk(Bytes::from(now.subsec_micros().to_string())),
    ])
}

fn lastsave(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    Reply::Int(ctx.shared.lastsave_unix.load(Ordering::Relaxed) as i64)
}

fn role(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    super::replication::role(ctx)
}

fn wait_args(a: &[Bytes]) -> Result<(i64, i64), Reply> {
    let n = int_arg(&a[1])?;
    let timeout = int_arg(&a[2])?;
    if timeout < 0 {
        return Err(Reply::err("timeout is negative"));
    }
    Ok((n, timeout))
}

/// WAIT inside MULTI (or with nothing to wait for): the replica count now, i.e. 0.
fn wait_now(_ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match wait_args(a) {
        Ok(_) => Reply::Int(0),
        Err(e) => e,
    }
}

/// Without replicas WAIT blocks until its timeout (0 = forever, like Redis) and answers 0.
fn wait_async<'a>(
    shared: &'a Arc<Shared>,
    session: &'a mut Session,
    a: Vec<Bytes>,
) -> super::BoxFuture<'a> {
    match wait_args(&a) {
        Ok((n, timeout)) => super::replication::wait(shared, session, n, timeout),
        Err(e) => Box::pin(async move { e }),
    }
}

fn swapdb(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    if int_arg(&a[1]).is_err() || int_arg(&a[2]).is_err() {
        return Reply::err("invalid first DB index");
    }
    let _ = ctx;
    Reply::err("SWAPDB is not allowed in cluster mode")
}
