//! The hash command family (HSET ... HSCAN) with Redis 7.0's replies and error texts. Each
//! handler takes the command context and the full argument vector (name first; arity already checked
//! by the table) and returns the reply.

use std::collections::HashMap;

use bytes::Bytes;

use super::collection::{
    check_type, int_arg, is_hash, rand_target, random_indices, read_value, scan_args, scan_reply,
    upper, write_value,
};
use super::flag::*;
use super::{cmd, CommandSpec, Ctx, KEY1};
use crate::node::keyspace::Keyspace;
use crate::node::num::{fmt_long_double, parse_f64, parse_i64};
use crate::node::reply::Reply;
use crate::node::value::Value;

const R_FAST: &[&str] = &["read", "hash", "fast"];
const R_SLOW: &[&str] = &["read", "hash", "slow"];
const W_FAST: &[&str] = &["write", "hash", "fast"];

pub const COMMANDS: &[CommandSpec] = &[
    cmd("hset", -4, WRITE | DENYOOM | FAST, KEY1, W_FAST, hset),
    cmd("hsetnx", 4, WRITE | DENYOOM | FAST, KEY1, W_FAST, hsetnx),
    cmd("hget", 3, READONLY | FAST, KEY1, R_FAST, hget),
    cmd("hmset", -4, WRITE | DENYOOM | FAST, KEY1, W_FAST, hmset),
    cmd("hmget", -3, READONLY | FAST, KEY1, R_FAST, hmget),
    cmd("hgetall", 2, READONLY, KEY1, R_SLOW, hgetall),
    cmd("hdel", -3, WRITE | FAST, KEY1, W_FAST, hdel),
    cmd("hexists", 3, READONLY | FAST, KEY1, R_FAST, hexists),
    cmd("hlen", 2, READONLY | FAST, KEY1, R_FAST, hlen),
    cmd("hkeys", 2, READONLY, KEY1, R_SLOW, hkeys),
    cmd("hvals", 2, READONLY, KEY1, R_SLOW, hvals),
    cmd("hincrby", 4, WRITE | DENYOOM | FAST, KEY1, W_FAST, hincrby),
    cmd(
        "hincrbyfloat",
        4,
        WRITE | DENYOOM | FAST,
        KEY1,
        W_FAST,
        hincrbyfloat,
    ),
    cmd("hstrlen", 3, READONLY | FAST, KEY1, R_FAST, hstrlen),
    cmd("hrandfield", -2, READONLY, KEY1, R_SLOW, hrandfield),
    cmd("hscan", -3, READONLY, KEY1, R_SLOW, hscan),
];

type Hash = HashMap<Bytes, Bytes>;

fn read<'a>(db: &'a mut Keyspace, key: &[u8]) -> Result<Option<&'a Hash>, Reply> {
    Ok(read_value(db, key, is_hash)?.map(|v| match v {
        Value::Hash(h) => h,
        _ => unreachable!("checked by is_hash"),
    }))
}

/// The hash at `key` for writing, created empty when missing.
fn write<'a>(db: &'a mut Keyspace, key: &Bytes) -> Result<&'a mut Hash, Reply> {
    match write_value(db, key, is_hash, || Value::Hash(HashMap::new()))? {
        Value::Hash(h) => Ok(h),
        _ => Err(Reply::wrongtype()),
    }
}

fn with_hash(
    db: &mut Keyspace,
    key: &[u8],
    f: impl FnOnce(&Hash) -> Reply,
    missing: Reply,
) -> Reply {
    match read(db, key) {
        Err(e) => e,
        Ok(None) => missing,
        Ok(Some(h)) => f(h),
    }
}

fn set_pairs(db: &mut Keyspace, args: &[Bytes]) -> Result<i64, Reply> {
    if args.len() < 4 || !args.len().is_multiple_of(2) {
        return Err(Reply::arity(
            &String::from_utf8_lossy(&args[0]).to_ascii_lowercase(),
        ));
    }
    let h = write(db, &args[1])?;
    let mut added = 0;
    for pair in args[2..].chunks(2) {
        if h.insert(pair[0].clone(), pair[1].clone()).is_none() {
            added += 1;
        }
    }
    Ok(added)
}

pub fn hset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    set_pairs(db, args).map_or_else(|e| e, Reply::Int)
}

pub fn hmset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    set_pairs(db, args).map_or_else(|e| e, |_| Reply::ok())
}

pub fn hsetnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    match read(db, &args[1]) {
        Err(e) => return e,
        Ok(Some(h)) if h.contains_key(&args[2]) => return Reply::Int(0),
        Ok(_) => {}
    }
    match write(db, &args[1]) {
        Err(e) => e,
        Ok(h) => {
            h.insert(args[2].clone(), args[3].clone());
            Reply::Int(1)
        }
    }
}

pub fn hget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    with_hash(
        db,
        &args[1],
        |h| Reply::opt_bulk(h.get(&args[2]).cloned()),
        Reply::Nil,
    )
}

pub fn hmget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let nils = Reply::Array(args[2..].iter().map(|_| Reply::Nil).collect());
    with_hash(
        db,
        &args[1],
        |h| {
            Reply::Array(
                args[2..]
                    .iter()
                    .map(|f| Reply::opt_bulk(h.get(f).cloned()))
                    .collect(),
            )
        },
        nils,
    )
}

pub fn hgetall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    with_hash(
        db,
        &args[1],
        |h| {
            Reply::Map(
                h.iter()
                    .map(|(f, v)| (Reply::Bulk(f.clone()), Reply::Bulk(v.clone())))
                    .collect(),
            )
        },
        Reply::Map(Vec::new()),
    )
}

pub fn hkeys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    with_hash(
        db,
        &args[1],
        |h| Reply::Array(h.keys().cloned().map(Reply::Bulk).collect()),
        Reply::Array(Vec::new()),
    )
}

pub fn hvals(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    with_hash(
        db,
        &args[1],
        |h| Reply::Array(h.values().cloned().map(Reply::Bulk).collect()),
        Reply::Array(Vec::new()),
    )
}

pub fn hlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    with_hash(db, &args[1], |h| Reply::Int(h.len() as i64), Reply::Int(0))
}

pub fn hexists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    with_hash(
        db,
        &args[1],
        |h| Reply::Int(h.contains_key(&args[2]) as i64),
        Reply::Int(0),
    )
}

pub fn hstrlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    with_hash(
        db,
        &args[1],
        |h| Reply::Int(h.get(&args[2]).map_or(0, |v| v.len() as i64)),
        Reply::Int(0),
    )
}

pub fn hdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    match check_type(db, &args[1], is_hash) {
        Err(e) => return e,
        Ok(false) => return Reply::Int(0),
        Ok(true) => {}
    }
    let removed = match db.get_mut(&args[1]) {
        Some(Value::Hash(h)) => args[2..].iter().filter(|f| h.remove(*f).is_some()).count(),
        _ => 0,
    };
    db.remove_if_empty(&args[1]);
    Reply::Int(removed as i64)
}

pub fn hincrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let incr = match int_arg(&args[3]) {
        Ok(n) => n,
        Err(e) => return e,
    };
    if let Err(e) = check_type(db, &args[1], is_hash) {
        return e;
    }
    let current = match db.peek(&args[1]).map(|e| &e.value) {
        Some(Value::Hash(h)) => h.get(&args[2]).cloned(),
        _ => None,
    };
    let old = match current {
        None => 0,
        Some(v) => match parse_i64(&v) {
            Some(n) => n,
            None => return Reply::err("hash value is not an integer"),
        },
    };
    let Some(new) = old.checked_add(incr) else {
        return Reply::err("increment or decrement would overflow");
    };
    match write(db, &args[1]) {
        Err(e) => e,
        Ok(h) => {
            h.insert(args[2].clone(), Bytes::from(new.to_string()));
            Reply::Int(new)
        }
    }
}

pub fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let Some(incr) = parse_f64(&args[3]) else {
        return Reply::not_float();
    };
    if let Err(e) = check_type(db, &args[1], is_hash) {
        return e;
    }
    let current = match db.peek(&args[1]).map(|e| &e.value) {
        Some(Value::Hash(h)) => h.get(&args[2]).cloned(),
        _ => None,
    };
    let old = match current {
        None => 0.0,
        Some(v) => match parse_f64(&v) {
            Some(n) => n,
            None => return Reply::err("hash value is not a float"),
        },
    };
    let new = old + incr;
    if !new.is_finite() {
        return Reply::err("increment would produce NaN or Infinity");
    }
    let text = Bytes::from(fmt_long_double(new));
    match write(db, &args[1]) {
        Err(e) => e,
        Ok(h) => {
            h.insert(args[2].clone(), text.clone());
            Reply::Bulk(text)
        }
    }
}

pub fn hrandfield(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let resp = ctx.session.resp;
    let db = &mut *ctx.db;
    if args.len() > 4 || (args.len() == 4 && upper(&args[3]) != b"WITHVALUES") {
        return Reply::syntax();
    }
    let with_values = args.len() == 4;
    let (count, h) = match rand_target(args, || read(db, &args[1])) {
        Ok(found) => found,
        Err(reply) => return reply,
    };
    let entries: Vec<(&Bytes, &Bytes)> = h.iter().collect();
    let Some(count) = count else {
        let i = random_indices(entries.len(), 1)[0];
        return Reply::Bulk(entries[i].0.clone());
    };
    let mut out = Vec::new();
    for i in random_indices(entries.len(), count) {
        let (f, v) = (
            Reply::Bulk(entries[i].0.clone()),
            Reply::Bulk(entries[i].1.clone()),
        );
        match (with_values, resp >= 3) {
            (false, _) => out.push(f),
            (true, false) => out.extend([f, v]),
            (true, true) => out.push(Reply::Array(vec![f, v])),
        }
    }
    Reply::Array(out)
}

pub fn hscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let scan = match scan_args(&args[2..]) {
        Ok(s) => s,
        Err(e) => return e,
    };
    with_hash(
        db,
        &args[1],
        |h| {
            let mut items = Vec::new();
            for (f, v) in h.iter().filter(|(f, _)| scan.admits(f)) {
                items.push(Reply::Bulk(f.clone()));
                items.push(Reply::Bulk(v.clone()));
            }
            scan_reply(items)
        },
        scan_reply(Vec::new()),
    )
}
