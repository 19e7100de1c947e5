//! The set command family (SADD ... SSCAN, the algebra commands and their STORE forms) with
//! Redis 7.0's replies and error texts. Each handler takes the command context and the full argument
//! vector (name first; arity checked by the table).

use std::collections::HashSet;

use bytes::Bytes;

use super::collection::{
    check_type, int_arg, is_set, rand_target, random_indices, read_value, scan_args, scan_reply,
    upper, write_value,
};
use super::flag::*;
use super::{cmd, CommandSpec, Ctx, KEY1};
use crate::node::keyspace::Keyspace;
use crate::node::num::parse_i64;
use crate::node::rdb::encoding::canonical_int;
use crate::node::rdb::object::SET_MAX_INTSET_ENTRIES;
use crate::node::reply::Reply;
use crate::node::value::Value;

const R_FAST: &[&str] = &["read", "set", "fast"];
const R_SLOW: &[&str] = &["read", "set", "slow"];
const W_FAST: &[&str] = &["write", "set", "fast"];
const W_SLOW: &[&str] = &["write", "set", "slow"];

pub const COMMANDS: &[CommandSpec] = &[
    cmd("sadd", -3, WRITE | DENYOOM | FAST, KEY1, W_FAST, sadd),
    cmd("srem", -3, WRITE | FAST, KEY1, W_FAST, srem),
    cmd("smembers", 2, READONLY, KEY1, R_SLOW, smembers),
    cmd("sismember", 3, READONLY | FAST, KEY1, R_FAST, sismember),
    cmd("smismember", -3, READONLY | FAST, KEY1, R_FAST, smismember),
    cmd("scard", 2, READONLY | FAST, KEY1, R_FAST, scard),
    cmd("spop", -2, WRITE | FAST, KEY1, W_FAST, spop),
    cmd("srandmember", -2, READONLY, KEY1, R_SLOW, srandmember),
    cmd("sinter", -2, READONLY, (1, -1, 1), R_SLOW, sinter),
    cmd("sunion", -2, READONLY, (1, -1, 1), R_SLOW, sunion),
    cmd("sdiff", -2, READONLY, (1, -1, 1), R_SLOW, sdiff),
    cmd(
        "sinterstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        W_SLOW,
        sinterstore,
    ),
    cmd(
        "sunionstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        W_SLOW,
        sunionstore,
    ),
    cmd(
        "sdiffstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        W_SLOW,
        sdiffstore,
    ),
    CommandSpec {
        movable_keys: Some(numkeys_keys),
        ..cmd("sintercard", -3, READONLY, (0, 0, 0), R_SLOW, sintercard)
    },
    cmd("smove", 4, WRITE | FAST, (1, 2, 1), W_FAST, smove),
    cmd("sscan", -3, READONLY, KEY1, R_SLOW, sscan),
];

type Set = HashSet<Bytes>;

fn read<'a>(db: &'a mut Keyspace, key: &[u8]) -> Result<Option<&'a Set>, Reply> {
    Ok(read_value(db, key, is_set)?.map(|v| match v {
        Value::Set(s) => s,
        _ => unreachable!("checked by is_set"),
    }))
}

fn existing_mut<'a>(db: &'a mut Keyspace, key: &[u8]) -> Option<&'a mut Set> {
    match db.get_mut(key) {
        Some(Value::Set(s)) => Some(s),
        _ => None,
    }
}

fn members_reply(items: impl IntoIterator<Item = Bytes>) -> Reply {
    Reply::Set(items.into_iter().map(Reply::Bulk).collect())
}

/// Members in the order Redis lists them: an intset-encoded set (small, all integers) is
/// sorted numerically; a hashtable has no defined order.
fn listing_order(s: &Set) -> Vec<&Bytes> {
    let mut members: Vec<&Bytes> = s.iter().collect();
    if s.len() <= SET_MAX_INTSET_ENTRIES {
        let ints: Option<Vec<i64>> = members.iter().map(|m| canonical_int(m)).collect();
        if let Some(ints) = ints {
            let mut paired: Vec<(i64, &Bytes)> = ints.into_iter().zip(members).collect();
            paired.sort_unstable_by_key(|(i, _)| *i);
            members = paired.into_iter().map(|(_, m)| m).collect();
        }
    }
    members
}

pub fn sadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match write_value(ctx.db, &args[1], is_set, || Value::Set(HashSet::new())) {
        Err(e) => e,
        Ok(Value::Set(s)) => {
            Reply::Int(args[2..].iter().filter(|m| s.insert((*m).clone())).count() as i64)
        }
        Ok(_) => Reply::wrongtype(),
    }
}

pub fn srem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    match check_type(db, &args[1], is_set) {
        Err(e) => return e,
        Ok(false) => return Reply::Int(0),
        Ok(true) => {}
    }
    let removed =
        existing_mut(db, &args[1]).map_or(0, |s| args[2..].iter().filter(|m| s.remove(*m)).count());
    db.remove_if_empty(&args[1]);
    Reply::Int(removed as i64)
}

pub fn smembers(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    match read(db, &args[1]) {
        Err(e) => e,
        Ok(s) => members_reply(
            s.map(listing_order)
                .unwrap_or_default()
                .into_iter()
                .cloned(),
        ),
    }
}

pub fn sismember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    match read(db, &args[1]) {
        Err(e) => e,
        Ok(s) => Reply::Int(s.is_some_and(|s| s.contains(&args[2])) as i64),
    }
}

pub fn smismember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    match read(db, &args[1]) {
        Err(e) => e,
        Ok(s) => Reply::Array(
            args[2..]
                .iter()
                .map(|m| Reply::Int(s.is_some_and(|s| s.contains(m)) as i64))
                .collect(),
        ),
    }
}

pub fn scard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    match read(db, &args[1]) {
        Err(e) => e,
        Ok(s) => Reply::Int(s.map_or(0, |s| s.len() as i64)),
    }
}

fn positive_count(arg: &[u8]) -> Result<usize, Reply> {
    match parse_i64(arg) {
        Some(n) if n >= 0 => Ok(n as usize),
        _ => Err(Reply::err("value is out of range, must be positive")),
    }
}

pub fn spop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    if args.len() > 3 {
        return Reply::syntax();
    }
    let count = match args.get(2).map(|c| positive_count(c)).transpose() {
        Ok(c) => c,
        Err(e) => return e,
    };
    match check_type(db, &args[1], is_set) {
        Err(e) => return e,
        Ok(false) => {
            return if count.is_some() {
                Reply::Set(Vec::new())
            } else {
                Reply::Nil
            }
        }
        Ok(true) => {}
    }
    let Some(s) = existing_mut(db, &args[1]) else {
        return Reply::Nil;
    };
    let members: Vec<Bytes> = s.iter().cloned().collect();
    let picked: Vec<Bytes> = random_indices(members.len(), count.unwrap_or(1) as i64)
        .into_iter()
        .map(|i| members[i].clone())
        .collect();
    for m in &picked {
        s.remove(m);
    }
    db.remove_if_empty(&args[1]);
    match count {
        None => Reply::opt_bulk(picked.into_iter().next()),
        Some(_) => members_reply(picked),
    }
}

pub fn srandmember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    if args.len() > 3 {
        return Reply::syntax();
    }
    let (count, s) = match rand_target(args, || read(db, &args[1])) {
        Ok(found) => found,
        Err(reply) => return reply,
    };
    let members: Vec<&Bytes> = s.iter().collect();
    let picked = random_indices(members.len(), count.unwrap_or(1));
    match count {
        None => Reply::opt_bulk(picked.first().map(|i| members[*i].clone())),
        Some(_) => Reply::Array(
            picked
                .into_iter()
                .map(|i| Reply::Bulk(members[i].clone()))
                .collect(),
        ),
    }
}

/// The sets at `keys` (missing keys as `None`); WRONGTYPE if any holds another type.
/// `stop_at_missing` reproduces SINTER's early exit, which answers before later keys are checked.
fn load_sets(
    db: &mut Keyspace,
    keys: &[Bytes],
    stop_at_missing: bool,
) -> Result<Vec<Option<Set>>, Reply> {
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        let s = read(db, k)?.cloned();
        let missing = s.is_none();
        out.push(s);
        if missing && stop_at_missing {
            break;
        }
    }
    Ok(out)
}

enum Algebra {
    Inter,
    Union,
    Diff,
}

fn compute(db: &mut Keyspace, keys: &[Bytes], op: &Algebra) -> Result<Set, Reply> {
    let sets = load_sets(db, keys, matches!(op, Algebra::Inter))?;
    Ok(match op {
        Algebra::Inter => {
            if sets.len() < keys.len() || sets.iter().any(|s| s.is_none()) {
                return Ok(Set::new());
            }
            let mut sets: Vec<Set> = sets.into_iter().flatten().collect();
            sets.sort_by_key(|s| s.len());
            let (first, rest) = sets.split_first().expect("at least one key");
            first
                .iter()
                .filter(|m| rest.iter().all(|s| s.contains(*m)))
                .cloned()
                .collect()
        }
        Algebra::Union => sets.into_iter().flatten().flatten().collect(),
        Algebra::Diff => {
            let mut it = sets.into_iter();
            let mut first = it.next().flatten().unwrap_or_default();
            for s in it.flatten() {
                first.retain(|m| !s.contains(m));
            }
            first
        }
    })
}

fn algebra(db: &mut Keyspace, args: &[Bytes], op: Algebra) -> Reply {
    match compute(db, &args[1..], &op) {
        Err(e) => e,
        Ok(s) => members_reply(s),
    }
}

fn algebra_store(db: &mut Keyspace, args: &[Bytes], op: Algebra) -> Reply {
    match compute(db, &args[2..], &op) {
        Err(e) => e,
        Ok(s) => {
            let n = s.len();
            if n == 0 {
                db.remove(&args[1]);
            } else {
                db.set(args[1].clone(), Value::Set(s));
            }
            Reply::Int(n as i64)
        }
    }
}

pub fn sinter(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    algebra(db, args, Algebra::Inter)
}
pub fn sunion(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    algebra(db, args, Algebra::Union)
}
pub fn sdiff(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    algebra(db, args, Algebra::Diff)
}
pub fn sinterstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    algebra_store(db, args, Algebra::Inter)
}
pub fn sunionstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    algebra_store(db, args, Algebra::Union)
}
pub fn sdiffstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    algebra_store(db, args, Algebra::Diff)
}

pub fn sintercard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let numkeys = int_arg(&args[1]).unwrap_or(0);
    if numkeys <= 0 {
        return Reply::err("numkeys should be greater than 0");
    }
    let numkeys = numkeys as usize;
    if numkeys > args.len() - 2 {
        return Reply::err("Number of keys can't be greater than number of args");
    }
    let mut limit = 0usize;
    let mut i = 2 + numkeys;
    while i < args.len() {
        if upper(&args[i]) == b"LIMIT" && i + 1 < args.len() {
            match int_arg(&args[i + 1]) {
                Err(_) => return Reply::err("LIMIT can't be negative"),
                Ok(n) if n < 0 => return Reply::err("LIMIT can't be negative"),
                Ok(n) => limit = n as usize,
            }
            i += 2;
        } else {
            return Reply::syntax();
        }
    }
    match compute(db, &args[2..2 + numkeys], &Algebra::Inter) {
        Err(e) => e,
        Ok(s) => Reply::Int(if limit == 0 {
            s.len()
        } else {
            s.len().min(limit)
        } as i64),
    }
}

pub fn smove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let (src, dst, member) = (&args[1], &args[2], &args[3]);
    let src_exists = match check_type(db, src, is_set) {
        Err(e) => return e,
        Ok(exists) => exists,
    };
    if let Err(e) = check_type(db, dst, is_set) {
        return e;
    }
    if !src_exists {
        return Reply::Int(0);
    }
    if src == dst {
        return Reply::Int(
            read(db, src)
                .ok()
                .flatten()
                .is_some_and(|s| s.contains(member)) as i64,
        );
    }
    let removed = existing_mut(db, src).is_some_and(|s| s.remove(member));
    if !removed {
        return Reply::Int(0);
    }
    db.remove_if_empty(src);
    if let Value::Set(d) = db.get_or_insert_with(dst, || Value::Set(HashSet::new())) {
        d.insert(member.clone());
    }
    Reply::Int(1)
}

pub fn sscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let scan = match scan_args(&args[2..]) {
        Ok(s) => s,
        Err(e) => return e,
    };
    match read(db, &args[1]) {
        Err(e) => e,
        Ok(s) => scan_reply(
            s.map(listing_order)
                .unwrap_or_default()
                .into_iter()
                .filter(|m| scan.admits(m))
                .cloned()
                .map(Reply::Bulk)
                .collect(),
        ),
    }
}

/// Key positions of `SINTERCARD numkeys key [key ...]`.
fn numkeys_keys(args: &[Bytes]) -> Vec<usize> {
    let n = args.get(1).and_then(|a| parse_i64(a)).unwrap_or(0).max(0) as usize;
    (2..2 + n.min(args.len().saturating_sub(2))).collect()
}
