//! String commands: GET/SET family, counters, ranges. Parsing and replies per Redis 7.0
//! t_string.c, including its error texts.

use bytes::{Bytes, BytesMut};

use super::flag::*;
use super::{cmd, int_arg, is, CommandSpec, Ctx, KEY1};
use crate::node::keyspace::Entry;
use crate::node::num::{fmt_long_double, parse_f64, parse_i64};
use crate::node::reply::Reply;
use crate::node::value::Value;

const RS: &[&str] = &["read", "string", "fast"];
const WS: &[&str] = &["write", "string", "fast"];
const WSS: &[&str] = &["write", "string", "slow"];

pub const COMMANDS: &[CommandSpec] = &[
    cmd("get", 2, READONLY | FAST, KEY1, RS, get),
    cmd("set", -3, WRITE | DENYOOM, KEY1, WSS, set),
    cmd("setnx", 3, WRITE | DENYOOM | FAST, KEY1, WS, setnx),
    cmd("setex", 4, WRITE | DENYOOM, KEY1, WSS, setex),
    cmd("psetex", 4, WRITE | DENYOOM, KEY1, WSS, psetex),
    cmd("mget", -2, READONLY | FAST, (1, -1, 1), RS, mget),
    cmd("mset", -3, WRITE | DENYOOM, (1, -1, 2), WSS, mset),
    cmd("msetnx", -3, WRITE | DENYOOM, (1, -1, 2), WSS, msetnx),
    cmd("incr", 2, WRITE | DENYOOM | FAST, KEY1, WS, incr),
    cmd("decr", 2, WRITE | DENYOOM | FAST, KEY1, WS, decr),
    cmd("incrby", 3, WRITE | DENYOOM | FAST, KEY1, WS, incrby),
    cmd("decrby", 3, WRITE | DENYOOM | FAST, KEY1, WS, decrby),
    cmd(
        "incrbyfloat",
        3,
        WRITE | DENYOOM | FAST,
        KEY1,
        WS,
        incrbyfloat,
    ),
    cmd("append", 3, WRITE | DENYOOM | FAST, KEY1, WS, append),
    cmd("strlen", 2, READONLY | FAST, KEY1, RS, strlen),
    cmd("getdel", 2, WRITE | FAST, KEY1, WS, getdel),
    cmd("getex", -2, WRITE | FAST, KEY1, WS, getex),
    cmd("getset", 3, WRITE | DENYOOM | FAST, KEY1, WS, getset),
    cmd("setrange", 4, WRITE | DENYOOM, KEY1, WSS, setrange),
    cmd(
        "getrange",
        4,
        READONLY,
        KEY1,
        &["read", "string", "slow"],
        getrange,
    ),
    cmd(
        "substr",
        4,
        READONLY,
        KEY1,
        &["read", "string", "slow"],
        getrange,
    ),
];

/// The string under `key`: Ok(None) when missing, Err(WRONGTYPE) for other types.
pub fn get_str(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Bytes>, Reply> {
    match ctx.db.get(key) {
        None => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Reply::wrongtype()),
    }
}

fn get(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match get_str(ctx, &a[1]) {
        Ok(v) => Reply::opt_bulk(v),
        Err(e) => e,
    }
}

#[derive(PartialEq, Clone, Copy)]
enum Cond {
    None,
    Nx,
    Xx,
}

/// Expiry options shared by SET and GETEX.
#[derive(PartialEq, Clone, Copy)]
enum Ttl {
    None,
    At(u64),
    Keep,
    Persist,
}

/// Turns `EX n` / `PX n` / `EXAT n` / `PXAT n` into an absolute ms time (Redis's checks).
fn expire_at(unit: &str, n: &[u8], now: u64, cmdname: &str) -> Result<u64, Reply> {
    let v = int_arg(n)?;
    let invalid = || Reply::err(format!("invalid expire time in '{cmdname}' command"));
    if v <= 0 {
        return Err(invalid());
    }
    let ms = match unit {
        "ex" | "exat" => v.checked_mul(1000).ok_or_else(invalid)?,
        _ => v,
    };
    let at = match unit {
        "ex" | "px" => ms.checked_add(now as i64).ok_or_else(invalid)?,
        _ => ms,
    };
    Ok(at.max(0) as u64)
}

fn set(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let mut cond = Cond::None;
    let mut ttl = Ttl::None;
    let mut want_get = false;
    let mut i = 3;
    let now = ctx.db.now_ms;
    while i < a.len() {
        let o = &a[i];
        let next = a.get(i + 1);
        if is(o, "nx") && cond == Cond::None {
            cond = Cond::Nx;
        } else if is(o, "xx") && cond == Cond::None {
            cond = Cond::Xx;
        } else if is(o, "get") {
            want_get = true;
        } else if is(o, "keepttl") && ttl == Ttl::None {
            ttl = Ttl::Keep;
        } else if let (Some(unit), Some(n), Ttl::None) = (ttl_unit(o), next, ttl) {
            match expire_at(unit, n, now, "set") {
                Ok(at) => ttl = Ttl::At(at),
                Err(e) => return e,
            }
            i += 1;
        } else {
            return Reply::syntax();
        }
        i += 1;
    }
    let old = if want_get {
        match get_str(ctx, &a[1]) {
            Ok(v) => Some(v),
            Err(e) => return e,
        }
    } else {
        None
    };
    let exists = ctx.db.contains(&a[1]);
    if (cond == Cond::Nx && exists) || (cond == Cond::Xx && !exists) {
        return if want_get {
            Reply::opt_bulk(old.flatten())
        } else {
            Reply::Nil
        };
    }
    store(ctx, a[1].clone(), a[2].clone(), ttl);
    match old {
        Some(v) => Reply::opt_bulk(v),
        None => Reply::OK,
    }
}

fn ttl_unit(o: &[u8]) -> Option<&'static str> {
    ["ex", "px", "exat", "pxat"].into_iter().find(|u| is(o, u))
}

fn store(ctx: &mut Ctx<'_>, key: Bytes, val: Bytes, ttl: Ttl) {
    match ttl {
        Ttl::Keep => ctx.db.set_keep_ttl(key, Value::Str(val)),
        Ttl::At(at) => {
            if at <= ctx.db.now_ms {
                // Already expired: Redis deletes (or does not create) the key and replies OK.
                ctx.db.remove(&key);
                return;
            }
            let mut e = Entry::new(Value::Str(val));
            e.expire_at = Some(at);
            e.access_secs = ctx.db.now_ms / 1000;
            ctx.db.set_entry(key, e);
        }
        _ => ctx.db.set(key, Value::Str(val)),
    }
}

fn setnx(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    if ctx.db.contains(&a[1]) {
        return Reply::Int(0);
    }
    ctx.db.set(a[1].clone(), Value::Str(a[2].clone()));
    Reply::Int(1)
}

fn setex_generic(ctx: &mut Ctx<'_>, a: &[Bytes], unit: &str, name: &str) -> Reply {
    match expire_at(unit, &a[2], ctx.db.now_ms, name) {
        Ok(at) => {
            store(ctx, a[1].clone(), a[3].clone(), Ttl::At(at));
            Reply::OK
        }
        Err(e) => e,
    }
}

fn setex(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    setex_generic(ctx, a, "ex", "setex")
}

fn psetex(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    setex_generic(ctx, a, "px", "psetex")
}

fn mget(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let out = a[1..]
        .iter()
        .map(|k| match ctx.db.get(k) {
            Some(Value::Str(s)) => Reply::Bulk(s.clone()),
            _ => Reply::Nil,
        })
        .collect();
    Reply::Array(out)
}

fn mset(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    if a.len().is_multiple_of(2) {
        return Reply::arity("mset");
    }
    for pair in a[1..].chunks(2) {
        ctx.db.set(pair[0].clone(), Value::Str(pair[1].clone()));
    }
    Reply::OK
}

fn msetnx(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    if a.len().is_multiple_of(2) {
        return Reply::arity("msetnx");
    }
    if a[1..].chunks(2).any(|p| ctx.db.contains(&p[0])) {
        return Reply::Int(0);
    }
    for pair in a[1..].chunks(2) {
        ctx.db.set(pair[0].clone(), Value::Str(pair[1].clone()));
    }
    Reply::Int(1)
}

fn incr_generic(ctx: &mut Ctx<'_>, key: &Bytes, by: i64) -> Reply {
    let cur = match ctx.db.peek(key).map(|e| &e.value) {
        None => None,
        Some(Value::Str(s)) => match parse_i64(s) {
            Some(n) => Some(n),
            None => return Reply::not_integer(),
        },
        Some(_) => return Reply::wrongtype(),
    };
    let Some(new) = cur.unwrap_or(0).checked_add(by) else {
        return Reply::err("increment or decrement would overflow");
    };
    let val = Value::Str(Bytes::from(new.to_string()));
    match (cur, ctx.db.get_entry_mut(key)) {
        // in place: keeps the TTL and skips the slot index
        (Some(_), Some(e)) => {
            e.value = val;
            e.raw = false;
        }
        _ => ctx.db.set(key.clone(), val),
    }
    Reply::Int(new)
}

fn incr(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    incr_generic(ctx, &a[1], 1)
}
fn decr(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    incr_generic(ctx, &a[1], -1)
}
fn incrby(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match int_arg(&a[2]) {
        Ok(n) => incr_generic(ctx, &a[1], n),
        Err(e) => e,
    }
}
fn decrby(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match int_arg(&a[2]) {
        Ok(i64::MIN) => Reply::err("decrement would overflow"),
        Ok(n) => incr_generic(ctx, &a[1], -n),
        Err(e) => e,
    }
}

fn incrbyfloat(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let cur = match get_str(ctx, &a[1]) {
        Err(e) => return e,
        Ok(None) => 0.0,
        Ok(Some(s)) => match parse_f64(&s) {
            Some(n) => n,
            None => return Reply::not_float(),
        },
    };
    let Some(by) = parse_f64(&a[2]) else {
        return Reply::not_float();
    };
    let new = cur + by;
    if new.is_nan() || new.is_infinite() {
        return Reply::err("increment would produce NaN or Infinity");
    }
    let text = Bytes::from(fmt_long_double(new));
    ctx.db.set_keep_ttl(a[1].clone(), Value::Str(text.clone()));
    Reply::Bulk(text)
}

fn max_len(ctx: &Ctx<'_>) -> i64 {
    ctx.shared.config().get_i64("proto-max-bulk-len")
}

fn append(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let cur = match get_str(ctx, &a[1]) {
        Err(e) => return e,
        Ok(v) => v,
    };
    let new_len = cur.as_ref().map(|c| c.len()).unwrap_or(0) + a[2].len();
    if new_len as i64 > max_len(ctx) {
        return Reply::err("string exceeds maximum allowed size (proto-max-bulk-len)");
    }
    match cur {
        None => ctx.db.set(a[1].clone(), Value::Str(a[2].clone())),
        Some(c) => {
            let mut b = BytesMut::with_capacity(new_len);
            b.extend_from_slice(&c);
            b.extend_from_slice(&a[2]);
            if let Some(e) = ctx.db.get_entry_mut(&a[1]) {
                e.value = Value::Str(b.freeze());
                e.raw = true;
            }
        }
    }
    Reply::Int(new_len as i64)
}

fn strlen(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match get_str(ctx, &a[1]) {
        Err(e) => e,
        Ok(v) => Reply::Int(v.map(|s| s.len() as i64).unwrap_or(0)),
    }
}

fn getdel(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match get_str(ctx, &a[1]) {
        Err(e) => e,
        Ok(None) => Reply::Nil,
        Ok(Some(v)) => {
            ctx.db.remove(&a[1]);
            Reply::Bulk(v)
        }
    }
}

fn getex(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let mut ttl = Ttl::None;
    let mut i = 2;
    let now = ctx.db.now_ms;
    while i < a.len() {
        let o = &a[i];
        if is(o, "persist") && ttl == Ttl::None {
            ttl = Ttl::Persist;
        } else if let (Some(unit), Some(n), Ttl::None) = (ttl_unit(o), a.get(i + 1), ttl) {
            match expire_at(unit, n, now, "getex") {
                Ok(at) => ttl = Ttl::At(at),
                Err(e) => return e,
            }
            i += 1;
        } else {
            return Reply::syntax();
        }
        i += 1;
    }
    let v = match get_str(ctx, &a[1]) {
        Err(e) => return e,
        Ok(None) => return Reply::Nil,
        Ok(Some(v)) => v,
    };
    match ttl {
        Ttl::At(at) if at <= now => {
            ctx.db.remove(&a[1]);
        }
        Ttl::At(at) => {
            ctx.db.set_expire(&a[1], Some(at));
        }
        Ttl::Persist if ctx.db.peek(&a[1]).and_then(|e| e.expire_at).is_some() => {
            ctx.db.set_expire(&a[1], None);
        }
        _ => {}
    }
    Reply::Bulk(v)
}

fn getset(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match get_str(ctx, &a[1]) {
        Err(e) => e,
        Ok(old) => {
            ctx.db.set(a[1].clone(), Value::Str(a[2].clone()));
            Reply::opt_bulk(old)
        }
    }
}

fn setrange(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let offset = match int_arg(&a[2]) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let cur = match get_str(ctx, &a[1]) {
        Err(e) => return e,
        Ok(v) => v,
    };
    if offset < 0 {
        return Reply::err("offset is out of range");
    }
    let val = &a[3];
    let cur_len = cur.as_ref().map(|c| c.len()).unwrap_or(0) as i64;
    if val.is_empty() {
        return Reply::Int(cur_len);
    }
    if offset + val.len() as i64 > max_len(ctx) {
        return Reply::err("string exceeds maximum allowed size (proto-max-bulk-len)");
    }
    let mut b = BytesMut::new();
    if let Some(c) = &cur {
        b.extend_from_slice(c);
    }
    let end = offset as usize + val.len();
    if b.len() < end {
        b.resize(end, 0);
    }
    b[offset as usize..end].copy_from_slice(val);
    let len = b.len() as i64;
    if cur.is_none() {
        ctx.db.set(a[1].clone(), Value::Str(b.freeze()));
    } else if let Some(e) = ctx.db.get_entry_mut(&a[1]) {
        e.value = Value::Str(b.freeze());
        e.raw = true;
    }
    Reply::Int(len)
}

fn getrange(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let (start, end) = match (int_arg(&a[2]), int_arg(&a[3])) {
        (Ok(s), Ok(e)) => (s, e),
        _ => return Reply::not_integer(),
    };
    let s = match get_str(ctx, &a[1]) {
        Err(e) => return e,
        Ok(None) => return Reply::Bulk(Bytes::new()),
        Ok(Some(s)) => s,
    };
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        return Reply::Bulk(Bytes::new());
    }
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return Reply::Bulk(Bytes::new());
    }
    Reply::Bulk(s.slice(start as usize..=end as usize))
}
