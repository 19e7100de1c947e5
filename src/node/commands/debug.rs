//! DEBUG basics: SLEEP (holds the keyspace like Redis's single thread would), DIGEST,
//! DIGEST-VALUE (Redis-identical digests), SET-ACTIVE-EXPIRE, OBJECT, JMAP/HELP.

use std::sync::Arc;

use bytes::Bytes;

use super::flag::*;
use super::keys::{encoding_of, help};
use super::{CommandSpec, Ctx, Handler};
use crate::node::digest::{db_digest, hex, value_digest};
use crate::node::num::parse_f64;
use crate::node::reply::Reply;
use crate::node::session::Session;
use crate::node::state::Shared;

pub const COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "debug",
    arity: -2,
    flags: ADMIN | NOSCRIPT | LOADING | STALE,
    acl: &["admin", "slow", "dangerous"],
    handler: Handler::Async {
        run: debug_async,
        in_multi: debug,
    },
    ..CommandSpec::DEFAULT
}];

fn sub(a: &[Bytes]) -> String {
    String::from_utf8_lossy(&a[1]).to_ascii_lowercase()
}

/// DEBUG SLEEP awaits with the keyspace locked (the server is "blocked", as in Redis) without
/// tying up a worker thread; everything else runs synchronously.
fn debug_async<'a>(
    shared: &'a Arc<Shared>,
    session: &'a mut Session,
    a: Vec<Bytes>,
) -> super::BoxFuture<'a> {
    Box::pin(async move {
        let mut db = shared.db.lock().await;
        if sub(&a) == "sleep" && a.len() == 3 {
            let Some(secs) = parse_f64(&a[2]) else {
                return Reply::not_float();
            };
            if secs > 0.0 {
                tokio::time::sleep(std::time::Duration::from_secs_f64(secs.min(3600.0))).await;
            }
            return Reply::OK;
        }
        db.now_ms = crate::node::keyspace::unix_ms();
        let mut ctx = Ctx {
            shared,
            session,
            db: &mut db,
        };
        debug(&mut ctx, &a)
    })
}

fn debug(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match sub(a).as_str() {
        "sleep" if a.len() == 3 => match parse_f64(&a[2]) {
            Some(_) => Reply::OK,
            None => Reply::not_float(),
        },
        "digest-value" => Reply::Array(
            a[2..]
                .iter()
                .map(|k| {
                    let d = ctx.db.peek(k).map(value_digest).unwrap_or([0u8; 20]);
                    Reply::Simple(hex(&d).into())
                })
                .collect(),
        ),
        "digest" if a.len() == 2 => {
            let keys: Vec<Bytes> = ctx.db.keys().cloned().collect();
            let entries: Vec<(Bytes, crate::node::keyspace::Entry)> = keys
                .into_iter()
                .filter_map(|k| ctx.db.peek(&k).cloned().map(|e| (k, e)))
                .collect();
            let d = db_digest(entries.iter().map(|(k, e)| (k.as_ref(), e)));
            Reply::Simple(hex(&d).into())
        }
        "set-active-expire" if a.len() == 3 => Reply::OK,
        "object" if a.len() == 3 => match ctx.db.peek(&a[2]) {
            None => Reply::no_such_key(),
            Some(e) => Reply::Simple(
                format!(
                    "Value at:0x0 refcount:1 encoding:{} serializedlength:0 lru:0 lru_seconds_idle:0",
                    encoding_of(e, &ctx.shared.config())
                )
                .into(),
            ),
        },
        "jmap" | "mallctl" | "mallctl-str" => Reply::OK,
        "help" => help("DEBUG", &[
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "OBJECT <key>",
            "    Show low level info about `key` and associated value.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not",
            "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
            "    default.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
        ]),
        _ => Reply::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(&a[1])
        )),
    }
}
