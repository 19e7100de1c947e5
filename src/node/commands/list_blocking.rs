//! Blocking list commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH. Each has a non-blocking form
//! (what runs inside MULTI, and each attempt of the blocking form) and an async form that
//! retries with the keyspace unlocked in between until data arrives, the timeout passes, the
//! client is killed or the server shuts down. Retrying on a short tick instead of a wake-up
//! list keeps the keyspace free of blocking bookkeeping.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::collection::{check_type, is_list};
use super::dispatch::execute_locked;
use super::flag::*;
use super::list::{move_element, side};
use super::{table, BoxFuture, CommandSpec, Ctx, Handler};
use crate::node::keyspace::unix_ms;
use crate::node::num::parse_f64;
use crate::node::reply::Reply;
use crate::node::session::Session;
use crate::node::state::Shared;
use crate::node::value::Value;

const ACL: &[&str] = &["write", "list", "slow", "blocking"];
const TICK: Duration = Duration::from_millis(5);

const fn blocking(
    name: &'static str,
    arity: i32,
    keys: (i32, i32, i32),
    in_multi: super::SyncFn,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags: WRITE | BLOCKING,
        first_key: keys.0,
        last_key: keys.1,
        step: keys.2,
        acl: ACL,
        handler: Handler::Async {
            run: block,
            in_multi,
        },
        ..CommandSpec::DEFAULT
    }
}

pub const COMMANDS: &[CommandSpec] = &[
    blocking("blpop", -3, (1, -2, 1), blpop),
    blocking("brpop", -3, (1, -2, 1), brpop),
    CommandSpec {
        flags: WRITE | DENYOOM | BLOCKING,
        ..blocking("blmove", 6, (1, 2, 1), blmove)
    },
    CommandSpec {
        flags: WRITE | DENYOOM | BLOCKING,
        ..blocking("brpoplpush", 4, (1, 2, 1), brpoplpush)
    },
];

/// Redis's timeout argument (seconds, fractional allowed); `None` = block forever.
fn timeout_arg(arg: &[u8]) -> Result<Option<Duration>, Reply> {
    let secs =
        parse_f64(arg).ok_or_else(|| Reply::err("timeout is not a float or out of range"))?;
    if secs < 0.0 {
        return Err(Reply::err("timeout is negative"));
    }
    if !secs.is_finite() || secs > 1e12 {
        return Err(Reply::err("timeout is out of range"));
    }
    Ok((secs > 0.0).then(|| Duration::from_secs_f64(secs)))
}

fn pop_first(ctx: &mut Ctx<'_>, args: &[Bytes], left: bool) -> Reply {
    if let Err(e) = timeout_arg(&args[args.len() - 1]) {
        return e;
    }
    let db = &mut *ctx.db;
    for key in &args[1..args.len() - 1] {
        match check_type(db, key, is_list) {
            Err(e) => return e,
            Ok(false) => continue,
            Ok(true) => {}
        }
        let popped = match db.get_mut(key) {
            Some(Value::List(l)) => {
                if left {
                    l.pop_front()
                } else {
                    l.pop_back()
                }
            }
            _ => None,
        };
        db.remove_if_empty(key);
        if let Some(e) = popped {
            return Reply::Array(vec![Reply::Bulk(key.clone()), Reply::Bulk(e)]);
        }
    }
    Reply::NilArray
}

pub fn blpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    pop_first(ctx, args, true)
}
pub fn brpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    pop_first(ctx, args, false)
}

pub fn blmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (Some(from), Some(to)) = (side(&args[3]), side(&args[4])) else {
        return Reply::syntax();
    };
    if let Err(e) = timeout_arg(&args[5]) {
        return e;
    }
    move_element(ctx.db, &args[1], &args[2], from, to)
}

pub fn brpoplpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if let Err(e) = timeout_arg(&args[3]) {
        return e;
    }
    move_element(ctx.db, &args[1], &args[2], false, true)
}

/// The blocking form: one attempt per tick with the keyspace locked; an empty result (nil)
/// means "nothing yet". Errors and data are answered at once.
fn block<'a>(shared: &'a Arc<Shared>, session: &'a mut Session, args: Vec<Bytes>) -> BoxFuture<'a> {
    Box::pin(async move {
        let Some(spec) = table().get(&args[0]) else {
            return Reply::err("unknown command");
        };
        let timeout_pos = if spec.name == "blmove" {
            5
        } else {
            args.len() - 1
        };
        let deadline = match timeout_arg(&args[timeout_pos]) {
            Err(e) => return e,
            Ok(t) => t.map(|t| Instant::now() + t),
        };
        loop {
            {
                let mut db = shared.db.lock().await;
                db.now_ms = unix_ms();
                let reply = execute_locked(shared, session, &mut db, spec, &args);
                if !matches!(reply, Reply::Nil | Reply::NilArray) {
                    return reply;
                }
            }
            let timed_out = deadline.is_some_and(|d| Instant::now() >= d);
            if timed_out || shared.shutting_down() || session.info.killed.load(Ordering::Relaxed) {
                // Redis answers every blocking list timeout with a null array.
                return Reply::NilArray;
            }
            tokio::time::sleep(TICK).await;
        }
    })
}
