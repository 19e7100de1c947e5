//! DUMP and RESTORE / RESTORE-ASKING (REPLACE, ABSTTL, IDLETIME, FREQ) with Redis 7.0's order
//! of checks and exact errors. The payload codec is `node::rdb`; routing (the ASKING flag of
//! RESTORE-ASKING) is the command table's business.

use bytes::Bytes;

use super::collection::upper;
use super::flag::*;
use super::{cmd, CommandSpec, Ctx, KEY1};
use crate::node::keyspace::Entry;
use crate::node::num::parse_i64;
use crate::node::rdb;
use crate::node::reply::Reply;

const KEYSPACE_WRITE: &[&str] = &["keyspace", "write", "slow", "dangerous"];

pub const COMMANDS: &[CommandSpec] = &[
    cmd(
        "dump",
        2,
        READONLY,
        KEY1,
        &["keyspace", "read", "slow"],
        dump,
    ),
    cmd(
        "restore",
        -4,
        WRITE | DENYOOM,
        KEY1,
        KEYSPACE_WRITE,
        restore,
    ),
    cmd(
        "restore-asking",
        -4,
        WRITE | DENYOOM | ASKING,
        KEY1,
        KEYSPACE_WRITE,
        restore,
    ),
];

pub const BUSYKEY: &str = "BUSYKEY Target key name already exists.";

pub fn dump(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    match db.get(&args[1]) {
        None => Reply::Nil,
        Some(v) => Reply::Bulk(Bytes::from(rdb::dump(v))),
    }
}

struct RestoreOptions {
    replace: bool,
    absttl: bool,
    idle_secs: Option<i64>,
}

fn parse_options(opts: &[Bytes]) -> Result<RestoreOptions, Reply> {
    let mut o = RestoreOptions {
        replace: false,
        absttl: false,
        idle_secs: None,
    };
    let mut freq: Option<i64> = None;
    let mut j = 0;
    while j < opts.len() {
        let more = j + 1 < opts.len();
        match upper(&opts[j]).as_slice() {
            b"REPLACE" => o.replace = true,
            b"ABSTTL" => o.absttl = true,
            b"IDLETIME" if more && freq.is_none() => {
                let idle = parse_i64(&opts[j + 1]).ok_or_else(Reply::not_integer)?;
                if idle < 0 {
                    return Err(Reply::err("Invalid IDLETIME value, must be >= 0"));
                }
                o.idle_secs = Some(idle);
                j += 1;
            }
            b"FREQ" if more && o.idle_secs.is_none() => {
                let f = parse_i64(&opts[j + 1]).ok_or_else(Reply::not_integer)?;
                if !(0..=255).contains(&f) {
                    return Err(Reply::err("Invalid FREQ value, must be >= 0 and <= 255"));
                }
                freq = Some(f);
                j += 1;
            }
            _ => return Err(Reply::syntax()),
        }
        j += 1;
    }
    Ok(o)
}

/// RESTORE and RESTORE-ASKING (identical apart from routing).
pub fn restore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let opts = match parse_options(&args[4..]) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let key = &args[1];
    if !opts.replace && db.contains(key) {
        return Reply::error(BUSYKEY);
    }
    let ttl = match parse_i64(&args[2]) {
        None => return Reply::not_integer(),
        Some(t) if t < 0 => return Reply::err("Invalid TTL value, must be >= 0"),
        Some(t) => t,
    };
    let value = match rdb::restore(&args[3]) {
        Ok(v) => v,
        Err(e) => return Reply::err(e),
    };
    if opts.replace {
        db.remove(key);
    }
    let expire_at = match ttl {
        0 => None,
        t if opts.absttl => Some(t as u64),
        t => Some(db.now_ms.saturating_add(t as u64)),
    };
    if matches!(expire_at, Some(at) if at <= db.now_ms) {
        return Reply::ok();
    }
    let mut entry = Entry::new(value);
    entry.expire_at = expire_at;
    let now_secs = db.now_ms / 1000;
    entry.access_secs = now_secs.saturating_sub(opts.idle_secs.unwrap_or(0) as u64);
    db.set_entry(key.clone(), entry);
    Reply::ok()
}
