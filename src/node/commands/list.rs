//! The list command family (LPUSH ... LMOVE) with Redis 7.0's replies and error texts. Each
//! handler takes the command context and the full argument vector (name first; arity checked by the
//! table). Blocking variants are not here.

use std::collections::VecDeque;

use bytes::Bytes;

use super::collection::{check_type, int_arg, is_list, read_value, upper};
use super::flag::*;
use super::{cmd, CommandSpec, Ctx, KEY1};
use crate::node::keyspace::Keyspace;
use crate::node::num::parse_i64;
use crate::node::reply::Reply;
use crate::node::value::Value;

const R_FAST: &[&str] = &["read", "list", "fast"];
const R_SLOW: &[&str] = &["read", "list", "slow"];
const W_FAST: &[&str] = &["write", "list", "fast"];
const W_SLOW: &[&str] = &["write", "list", "slow"];

pub const COMMANDS: &[CommandSpec] = &[
    cmd("lpush", -3, WRITE | DENYOOM | FAST, KEY1, W_FAST, lpush),
    cmd("rpush", -3, WRITE | DENYOOM | FAST, KEY1, W_FAST, rpush),
    cmd("lpushx", -3, WRITE | DENYOOM | FAST, KEY1, W_FAST, lpushx),
    cmd("rpushx", -3, WRITE | DENYOOM | FAST, KEY1, W_FAST, rpushx),
    cmd("lpop", -2, WRITE | FAST, KEY1, W_FAST, lpop),
    cmd("rpop", -2, WRITE | FAST, KEY1, W_FAST, rpop),
    cmd("lrange", 4, READONLY, KEY1, R_SLOW, lrange),
    cmd("llen", 2, READONLY | FAST, KEY1, R_FAST, llen),
    cmd("lindex", 3, READONLY, KEY1, R_SLOW, lindex),
    cmd("lset", 4, WRITE | DENYOOM, KEY1, W_SLOW, lset),
    cmd("lrem", 4, WRITE, KEY1, W_SLOW, lrem),
    cmd("ltrim", 4, WRITE, KEY1, W_SLOW, ltrim),
    cmd("linsert", 5, WRITE | DENYOOM, KEY1, W_SLOW, linsert),
    cmd("lpos", -3, READONLY, KEY1, R_SLOW, lpos),
    cmd("lmove", 5, WRITE | DENYOOM, (1, 2, 1), W_SLOW, lmove),
    cmd(
        "rpoplpush",
        3,
        WRITE | DENYOOM,
        (1, 2, 1),
        W_SLOW,
        rpoplpush,
    ),
];

type List = VecDeque<Bytes>;

fn read<'a>(db: &'a mut Keyspace, key: &[u8]) -> Result<Option<&'a List>, Reply> {
    Ok(read_value(db, key, is_list)?.map(|v| match v {
        Value::List(l) => l,
        _ => unreachable!("checked by is_list"),
    }))
}

/// The list at `key` for writing (must exist and be a list; checked by the caller).
fn existing_mut<'a>(db: &'a mut Keyspace, key: &[u8]) -> Option<&'a mut List> {
    match db.get_mut(key) {
        Some(Value::List(l)) => Some(l),
        _ => None,
    }
}

fn push(db: &mut Keyspace, args: &[Bytes], left: bool, only_existing: bool) -> Reply {
    match check_type(db, &args[1], is_list) {
        Err(e) => return e,
        Ok(false) if only_existing => return Reply::Int(0),
        Ok(_) => {}
    }
    let Value::List(l) = db.get_or_insert_with(&args[1], || Value::List(VecDeque::new())) else {
        return Reply::wrongtype();
    };
    for e in &args[2..] {
        if left {
            l.push_front(e.clone());
        } else {
            l.push_back(e.clone());
        }
    }
    Reply::Int(l.len() as i64)
}

pub fn lpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    push(db, args, true, false)
}
pub fn rpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    push(db, args, false, false)
}
pub fn lpushx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    push(db, args, true, true)
}
pub fn rpushx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    push(db, args, false, true)
}

fn pop(db: &mut Keyspace, args: &[Bytes], left: bool) -> Reply {
    if args.len() > 3 {
        return Reply::arity(if left { "lpop" } else { "rpop" });
    }
    let count = match args.get(2) {
        None => None,
        Some(c) => match parse_i64(c) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => return Reply::err("value is out of range, must be positive"),
        },
    };
    match check_type(db, &args[1], is_list) {
        Err(e) => return e,
        Ok(false) => {
            return if count.is_some() {
                Reply::NilArray
            } else {
                Reply::Nil
            }
        }
        Ok(true) => {}
    }
    if count == Some(0) {
        return Reply::Array(Vec::new());
    }
    let Some(l) = existing_mut(db, &args[1]) else {
        return Reply::Nil;
    };
    let n = count.unwrap_or(1).min(l.len());
    let mut popped = Vec::with_capacity(n);
    for _ in 0..n {
        let e = if left { l.pop_front() } else { l.pop_back() };
        popped.extend(e.map(Reply::Bulk));
    }
    db.remove_if_empty(&args[1]);
    match count {
        None => popped.pop().unwrap_or(Reply::Nil),
        Some(_) => Reply::Array(popped),
    }
}

pub fn lpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    pop(db, args, true)
}
pub fn rpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    pop(db, args, false)
}

pub fn llen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    match read(db, &args[1]) {
        Err(e) => e,
        Ok(l) => Reply::Int(l.map_or(0, |l| l.len() as i64)),
    }
}

/// Redis's clamp of (start, stop) to a list of `len`; `None` when the range is empty.
fn clamp_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (start + len).max(0)
    } else {
        start
    };
    let stop = if stop < 0 {
        stop + len
    } else {
        stop.min(len - 1)
    };
    if start > stop || start >= len || stop < 0 {
        return None;
    }
    Some((start as usize, stop as usize))
}

pub fn lrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let (start, stop) = match (int_arg(&args[2]), int_arg(&args[3])) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    match read(db, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Array(Vec::new()),
        Ok(Some(l)) => match clamp_range(start, stop, l.len()) {
            None => Reply::Array(Vec::new()),
            Some((a, b)) => Reply::Array(l.range(a..=b).cloned().map(Reply::Bulk).collect()),
        },
    }
}

fn index_of(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 { index + len as i64 } else { index };
    (i >= 0 && (i as usize) < len).then_some(i as usize)
}

pub fn lindex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let index = match int_arg(&args[2]) {
        Ok(i) => i,
        Err(e) => return e,
    };
    match read(db, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Nil,
        Ok(Some(l)) => Reply::opt_bulk(index_of(index, l.len()).map(|i| l[i].clone())),
    }
}

pub fn lset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let index = match int_arg(&args[2]) {
        Ok(i) => i,
        Err(e) => return e,
    };
    match check_type(db, &args[1], is_list) {
        Err(e) => return e,
        Ok(false) => return Reply::no_such_key(),
        Ok(true) => {}
    }
    let Some(l) = existing_mut(db, &args[1]) else {
        return Reply::no_such_key();
    };
    match index_of(index, l.len()) {
        None => Reply::err("index out of range"),
        Some(i) => {
            l[i] = args[3].clone();
            Reply::ok()
        }
    }
}

pub fn lrem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let count = match int_arg(&args[2]) {
        Ok(c) => c,
        Err(e) => return e,
    };
    match check_type(db, &args[1], is_list) {
        Err(e) => return e,
        Ok(false) => return Reply::Int(0),
        Ok(true) => {}
    }
    let Some(l) = existing_mut(db, &args[1]) else {
        return Reply::Int(0);
    };
    let limit = if count == 0 {
        usize::MAX
    } else {
        count.unsigned_abs() as usize
    };
    let target = &args[3];
    let mut removed = 0;
    if count >= 0 {
        let mut kept = VecDeque::with_capacity(l.len());
        for e in l.drain(..) {
            if removed < limit && e == target {
                removed += 1;
            } else {
                kept.push_back(e);
            }
        }
        *l = kept;
    } else {
        let mut kept = VecDeque::with_capacity(l.len());
        while let Some(e) = l.pop_back() {
            if removed < limit && e == target {
                removed += 1;
            } else {
                kept.push_front(e);
            }
        }
        *l = kept;
    }
    db.remove_if_empty(&args[1]);
    Reply::Int(removed as i64)
}

pub fn ltrim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let (start, stop) = match (int_arg(&args[2]), int_arg(&args[3])) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    match check_type(db, &args[1], is_list) {
        Err(e) => return e,
        Ok(false) => return Reply::ok(),
        Ok(true) => {}
    }
    if let Some(l) = existing_mut(db, &args[1]) {
        match clamp_range(start, stop, l.len()) {
            None => l.clear(),
            Some((a, b)) => {
                l.truncate(b + 1);
                l.drain(..a);
            }
        }
    }
    db.remove_if_empty(&args[1]);
    Reply::ok()
}

pub fn linsert(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let after = match upper(&args[2]).as_slice() {
        b"BEFORE" => false,
        b"AFTER" => true,
        _ => return Reply::syntax(),
    };
    match check_type(db, &args[1], is_list) {
        Err(e) => return e,
        Ok(false) => return Reply::Int(0),
        Ok(true) => {}
    }
    let Some(l) = existing_mut(db, &args[1]) else {
        return Reply::Int(0);
    };
    match l.iter().position(|e| e == &args[3]) {
        None => Reply::Int(-1),
        Some(i) => {
            l.insert(if after { i + 1 } else { i }, args[4].clone());
            Reply::Int(l.len() as i64)
        }
    }
}

pub fn lpos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let mut rank: i64 = 1;
    let mut count: Option<usize> = None;
    let mut maxlen: usize = 0;
    let mut i = 3;
    while i < args.len() {
        if i + 1 >= args.len() {
            return Reply::syntax();
        }
        let n = match int_arg(&args[i + 1]) {
            Ok(n) => n,
            Err(e) => return e,
        };
        match upper(&args[i]).as_slice() {
            b"RANK" => {
                if n == 0 {
                    return Reply::err("RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
                }
                if n == i64::MIN {
                    return Reply::err(
                        "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                    );
                }
                rank = n;
            }
            b"COUNT" => {
                if n < 0 {
                    return Reply::err("COUNT can't be negative");
                }
                count = Some(n as usize);
            }
            b"MAXLEN" => {
                if n < 0 {
                    return Reply::err("MAXLEN can't be negative");
                }
                maxlen = n as usize;
            }
            _ => return Reply::syntax(),
        }
        i += 2;
    }
    let l = match read(db, &args[1]) {
        Err(e) => return e,
        Ok(None) => {
            return if count.is_some() {
                Reply::Array(Vec::new())
            } else {
                Reply::Nil
            }
        }
        Ok(Some(l)) => l,
    };
    let want = match count {
        Some(0) => usize::MAX,
        Some(n) => n,
        None => 1,
    };
    let scan_limit = if maxlen == 0 {
        l.len()
    } else {
        maxlen.min(l.len())
    };
    let mut skip = rank.unsigned_abs() - 1;
    let mut found = Vec::new();
    let positions: Box<dyn Iterator<Item = usize>> = if rank > 0 {
        Box::new(0..l.len())
    } else {
        Box::new((0..l.len()).rev())
    };
    for pos in positions.take(scan_limit) {
        if l[pos] == args[2] {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            found.push(pos as i64);
            if found.len() >= want {
                break;
            }
        }
    }
    match count {
        Some(_) => Reply::Array(found.into_iter().map(Reply::Int).collect()),
        None => found.first().map_or(Reply::Nil, |p| Reply::Int(*p)),
    }
}

pub(super) fn side(arg: &[u8]) -> Option<bool> {
    match upper(arg).as_slice() {
        b"LEFT" => Some(true),
        b"RIGHT" => Some(false),
        _ => None,
    }
}

/// Pops from `src` on one side and pushes onto `dst` on the other (LMOVE, RPOPLPUSH).
pub(super) fn move_element(
    db: &mut Keyspace,
    src: &Bytes,
    dst: &Bytes,
    from_left: bool,
    to_left: bool,
) -> Reply {
    match check_type(db, src, is_list) {
        Err(e) => return e,
        Ok(false) => return Reply::Nil,
        Ok(true) => {}
    }
    if let Err(e) = check_type(db, dst, is_list) {
        return e;
    }
    let Some(l) = existing_mut(db, src) else {
        return Reply::Nil;
    };
    let Some(e) = (if from_left {
        l.pop_front()
    } else {
        l.pop_back()
    }) else {
        return Reply::Nil;
    };
    db.remove_if_empty(src);
    if let Value::List(d) = db.get_or_insert_with(dst, || Value::List(VecDeque::new())) {
        if to_left {
            d.push_front(e.clone());
        } else {
            d.push_back(e.clone());
        }
    }
    Reply::Bulk(e)
}

pub fn lmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    match (side(&args[3]), side(&args[4])) {
        (Some(from), Some(to)) => move_element(db, &args[1], &args[2], from, to),
        _ => Reply::syntax(),
    }
}

pub fn rpoplpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    move_element(db, &args[1], &args[2], false, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamp_matches_redis() {
        assert_eq!(clamp_range(0, -1, 3), Some((0, 2)));
        assert_eq!(clamp_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(clamp_range(2, 1, 3), None);
        assert_eq!(clamp_range(5, 10, 3), None);
        assert_eq!(clamp_range(0, -5, 3), None);
        assert_eq!(clamp_range(0, 0, 0), None);
    }
}
