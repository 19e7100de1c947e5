//! Runs requests in Redis's order of checks: lookup/arity -> auth (NOAUTH) -> "not allowed in
//! MULTI" -> ACL (NOPERM) -> cluster routing (`router`) -> MULTI queuing -> execute. A
//! pipelined batch shares one keyspace lock acquisition (released around async handlers), and
//! replies are appended to one output buffer that the server writes once.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use super::{find_sub, table, CommandSpec, Ctx, Handler};
use crate::node::keyspace::{unix_ms, Keyspace};
use crate::node::reply::Reply;
use crate::node::resp::encode;
use crate::node::router::RouteQuery;
use crate::node::session::Session;
use crate::node::state::Shared;

/// The unknown-command error, with Redis's 128-character argument preview.
pub fn unknown_command(args: &[Bytes]) -> Reply {
    let name = String::from_utf8_lossy(&args[0]);
    let name: String = name.chars().take(128).collect();
    let mut preview = String::new();
    for a in &args[1..] {
        if preview.len() >= 128 {
            break;
        }
        let room = 128 - preview.len();
        let a = String::from_utf8_lossy(a);
        let a: String = a.chars().take(room).collect();
        preview.push_str(&format!("'{a}' "));
    }
    Reply::err(format!(
        "unknown command '{name}', with args beginning with: {preview}"
    ))
}

/// Resolves the spec (container -> subcommand) and checks arity. Err: the reply to send.
pub fn resolve(args: &[Bytes]) -> Result<&'static CommandSpec, Reply> {
    let Some(spec) = table().get(&args[0]) else {
        return Err(unknown_command(args));
    };
    if let Handler::Container = spec.handler {
        if args.len() < 2 {
            return Err(Reply::arity(spec.name));
        }
        let Some(sub) = find_sub(spec, &args[1]) else {
            let sub: String = String::from_utf8_lossy(&args[1])
                .chars()
                .take(128)
                .collect();
            return Err(Reply::err(format!(
                "unknown subcommand '{sub}'. Try {} HELP.",
                spec.name.to_ascii_uppercase()
            )));
        };
        if !sub.arity_ok(args.len()) {
            return Err(Reply::arity(sub.name));
        }
        return Ok(sub);
    }
    if !spec.arity_ok(args.len()) {
        return Err(Reply::arity(spec.name));
    }
    Ok(spec)
}

/// Checks that need no keyspace: arity, auth, MULTI restrictions, ACL.
fn precheck(
    shared: &Shared,
    session: &mut Session,
    args: &[Bytes],
) -> Result<&'static CommandSpec, Reply> {
    let spec = resolve(args).inspect_err(|_| flag_multi(session))?;
    if !session.authenticated && !spec.has(super::flag::NO_AUTH) {
        flag_multi(session);
        return Err(Reply::error("NOAUTH Authentication required."));
    }
    if session.in_multi() && spec.has(super::flag::NO_MULTI) {
        flag_multi(session);
        return Err(Reply::err("Command not allowed inside a transaction"));
    }
    // AUTH/HELLO/QUIT/RESET (no-auth commands) are never subject to ACL rules.
    if shared.acl_restricted() && !spec.has(super::flag::NO_AUTH) {
        let root = spec.name.split('|').next().unwrap_or(spec.name);
        let allowed = shared
            .acl()
            .users
            .get(&session.user)
            .map(|u| u.may_run(root) || u.may_run(spec.name))
            .unwrap_or(false);
        if !allowed {
            flag_multi(session);
            return Err(Reply::error(format!(
                "NOPERM this user has no permissions to run the '{}' command",
                spec.name
            )));
        }
    }
    Ok(spec)
}

fn flag_multi(session: &mut Session) {
    if let Some(m) = session.multi.as_mut() {
        m.aborted = true;
    }
}

/// Commands that act on the transaction itself instead of being queued.
fn runs_inside_multi(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Routing and MULTI queuing (keyspace locked). Some(reply): answer without executing.
fn route_or_queue(
    shared: &Arc<Shared>,
    session: &mut Session,
    db: &Keyspace,
    spec: &'static CommandSpec,
    args: &[Bytes],
) -> Option<Reply> {
    if let Some(cluster) = shared.cluster() {
        if spec.name != "exec" {
            let keys = spec.keys(args);
            if !keys.is_empty() {
                let q = RouteQuery {
                    spec,
                    args,
                    keys: &keys,
                    is_write: spec.is_write(),
                    is_exec: false,
                };
                if let Some(r) = cluster.route(&q, session, db) {
                    flag_multi(session);
                    return Some(r);
                }
            }
        }
    }
    // After routing, as Redis: a replica's own clients may not write (its master's stream
    // does not come through here).
    if spec.is_write()
        && shared.replication.is_replica()
        && shared.config().get("replica-read-only") == "yes"
    {
        flag_multi(session);
        return Some(Reply::error(
            "READONLY You can't write against a read only replica.",
        ));
    }
    if session.in_multi() && !runs_inside_multi(spec) {
        if let Some(m) = session.multi.as_mut() {
            m.queue.push(args.to_vec());
        }
        return Some(Reply::simple("QUEUED"));
    }
    None
}

/// Executes a resolved command with the keyspace locked (used by the dispatcher and by EXEC).
pub fn execute_locked(
    shared: &Arc<Shared>,
    session: &mut Session,
    db: &mut Keyspace,
    spec: &'static CommandSpec,
    args: &[Bytes],
) -> Reply {
    let f = match spec.handler {
        Handler::Sync(f) => f,
        Handler::Async { in_multi, .. } => in_multi,
        Handler::Container => return Reply::err("container without subcommand"),
    };
    let dirty = db.dirty;
    let reply = {
        let mut ctx = Ctx {
            shared,
            session,
            db,
        };
        f(&mut ctx, args)
    };
    let changed = db.dirty != dirty;
    if changed {
        if let Some(c) = shared.cluster() {
            c.after_write(args);
        }
    }
    super::replication::propagate::after_command(shared, db, spec, args, changed);
    reply
}

fn after_command(shared: &Shared, session: &mut Session, spec: &'static CommandSpec) {
    shared
        .stats
        .commands_processed
        .fetch_add(1, Ordering::Relaxed);
    if spec.name != "asking" && !session.in_multi() {
        session.asking = false;
    }
}

fn emit(shared: &Shared, session: &Session, reply: &Reply, out: &mut BytesMut) {
    if let Reply::Error(text) = reply {
        shared.count_error(text);
    }
    encode(reply, session.resp, out);
}

/// Runs a batch of pipelined requests, appending every reply to `out` in order. Stops early
/// when the session must close (QUIT, kill) or the server shuts down.
pub async fn run_batch(
    shared: &Arc<Shared>,
    session: &mut Session,
    requests: Vec<Vec<Bytes>>,
    out: &mut BytesMut,
) {
    let mut guard: Option<tokio::sync::MutexGuard<'_, Keyspace>> = None;
    // One clock read per batch (a pipelined batch takes microseconds); refreshed after any
    // handler that awaited.
    let mut now = unix_ms();
    session.info.last_ms.store(now, Ordering::Relaxed);
    for args in requests {
        if args.is_empty() {
            continue;
        }
        if session.close_after_reply || shared.shutting_down() {
            break;
        }
        let spec = match precheck(shared, session, &args) {
            Ok(spec) => spec,
            Err(reply) => {
                emit(shared, session, &reply, out);
                continue;
            }
        };
        session
            .info
            .last_cmd
            .store(spec as *const CommandSpec as usize, Ordering::Relaxed);
        if guard.is_none() {
            guard = Some(shared.db.lock().await);
        }
        let db = guard.as_mut().expect("locked above");
        db.now_ms = now;
        if let Some(reply) = route_or_queue(shared, session, db, spec, &args) {
            emit(shared, session, &reply, out);
            after_command(shared, session, spec);
            continue;
        }
        let reply = match spec.handler {
            Handler::Async { run, .. } => {
                guard = None;
                let reply = run(shared, session, args.clone()).await;
                now = unix_ms();
                if spec.is_write() {
                    let mut db = shared.db.lock().await;
                    super::replication::propagate::after_async(shared, &mut db, spec, &args);
                }
                reply
            }
            _ => execute_locked(shared, session, db, spec, &args),
        };
        emit(shared, session, &reply, out);
        after_command(shared, session, spec);
    }
}
