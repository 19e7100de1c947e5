//! Expiry commands: EXPIRE PEXPIRE EXPIREAT PEXPIREAT (NX/XX/GT/LT), TTL PTTL PERSIST
//! EXPIRETIME PEXPIRETIME. Lazy and active expiry themselves live in the keyspace.

use bytes::Bytes;

use super::flag::*;
use super::{cmd, int_arg, is, CommandSpec, Ctx, KEY1};
use crate::node::reply::Reply;

const KW: &[&str] = &["keyspace", "write", "fast"];
const KR: &[&str] = &["keyspace", "read", "fast"];

pub const COMMANDS: &[CommandSpec] = &[
    cmd("expire", -3, WRITE | FAST, KEY1, KW, expire),
    cmd("pexpire", -3, WRITE | FAST, KEY1, KW, pexpire),
    cmd("expireat", -3, WRITE | FAST, KEY1, KW, expireat),
    cmd("pexpireat", -3, WRITE | FAST, KEY1, KW, pexpireat),
    cmd("ttl", 2, READONLY | FAST, KEY1, KR, ttl),
    cmd("pttl", 2, READONLY | FAST, KEY1, KR, pttl),
    cmd("expiretime", 2, READONLY | FAST, KEY1, KR, expiretime),
    cmd("pexpiretime", 2, READONLY | FAST, KEY1, KR, pexpiretime),
    cmd("persist", 2, WRITE | FAST, KEY1, KW, persist),
];

fn expire_generic(ctx: &mut Ctx<'_>, a: &[Bytes], unit_ms: i64, relative: bool) -> Reply {
    let name = String::from_utf8_lossy(&a[0]).to_ascii_lowercase();
    let when = match int_arg(&a[2]) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for o in &a[3..] {
        if is(o, "nx") {
            nx = true;
        } else if is(o, "xx") {
            xx = true;
        } else if is(o, "gt") {
            gt = true;
        } else if is(o, "lt") {
            lt = true;
        } else {
            return Reply::err(format!("Unsupported option {}", String::from_utf8_lossy(o)));
        }
    }
    if nx && (xx || gt || lt) {
        return Reply::err("NX and XX, GT or LT options at the same time are not compatible");
    }
    if gt && lt {
        return Reply::err("GT and LT options at the same time are not compatible");
    }
    let invalid = || Reply::err(format!("invalid expire time in '{name}' command"));
    let Some(mut at) = when.checked_mul(unit_ms) else {
        return invalid();
    };
    if relative {
        let Some(v) = at.checked_add(ctx.db.now_ms as i64) else {
            return invalid();
        };
        at = v;
    }
    ctx.db.expire_if_needed(&a[1]);
    let Some(entry) = ctx.db.peek(&a[1]) else {
        return Reply::Int(0);
    };
    let current = entry.expire_at;
    if nx && current.is_some() || xx && current.is_none() {
        return Reply::Int(0);
    }
    if gt && current.map(|c| at <= c as i64).unwrap_or(true) {
        return Reply::Int(0);
    }
    if lt && current.map(|c| at >= c as i64).unwrap_or(false) {
        return Reply::Int(0);
    }
    if at <= ctx.db.now_ms as i64 {
        ctx.db.remove(&a[1]);
    } else {
        ctx.db.set_expire(&a[1], Some(at as u64));
    }
    Reply::Int(1)
}

fn expire(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    expire_generic(ctx, a, 1000, true)
}
fn pexpire(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    expire_generic(ctx, a, 1, true)
}
fn expireat(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    expire_generic(ctx, a, 1000, false)
}
fn pexpireat(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    expire_generic(ctx, a, 1, false)
}

/// -2 missing, -1 no TTL, else remaining ms.
fn remaining_ms(ctx: &mut Ctx<'_>, key: &[u8]) -> i64 {
    let now = ctx.db.now_ms;
    match ctx.db.get_entry(key) {
        None => -2,
        Some(e) => match e.expire_at {
            None => -1,
            Some(at) => at.saturating_sub(now) as i64,
        },
    }
}

fn ttl(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match remaining_ms(ctx, &a[1]) {
        n if n < 0 => Reply::Int(n),
        // Redis rounds to the nearest second
        n => Reply::Int((n + 500) / 1000),
    }
}

fn pttl(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    Reply::Int(remaining_ms(ctx, &a[1]))
}

fn abs_time(ctx: &mut Ctx<'_>, key: &[u8]) -> i64 {
    match ctx.db.get_entry(key) {
        None => -2,
        Some(e) => e.expire_at.map(|a| a as i64).unwrap_or(-1),
    }
}

fn expiretime(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match abs_time(ctx, &a[1]) {
        n if n < 0 => Reply::Int(n),
        n => Reply::Int((n + 500) / 1000),
    }
}

fn pexpiretime(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    Reply::Int(abs_time(ctx, &a[1]))
}

fn persist(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    ctx.db.expire_if_needed(&a[1]);
    match ctx.db.peek(&a[1]).map(|e| e.expire_at) {
        Some(Some(_)) => {
            ctx.db.set_expire(&a[1], None);
            Reply::Int(1)
        }
        _ => Reply::Int(0),
    }
}
