//! The sorted-set command family (ZADD ... ZSCAN, the unified ZRANGE and its legacy forms) with
//! Redis 7.0's replies, error texts and `%.17g` scores. Each handler takes the command context
//! and the full argument vector (name first; arity checked by the table). WITHSCORES replies are
//! flat in RESP2 and [member, score] pairs in RESP3.

use bytes::Bytes;

use super::collection::{check_type, int_arg, is_zset, read_value, scan_args, scan_reply, upper};
use super::collection::{rand_target, random_indices};
use super::flag::*;
use super::{cmd, CommandSpec, Ctx, KEY1};
use crate::node::keyspace::Keyspace;
use crate::node::num::parse_i64;
use crate::node::reply::Reply;
use crate::node::value::Value;
use crate::node::zset::{format_score, parse_score, LexBound, ScoreBound, SortedSet};

const R_FAST: &[&str] = &["read", "sortedset", "fast"];
const R_SLOW: &[&str] = &["read", "sortedset", "slow"];
const W_FAST: &[&str] = &["write", "sortedset", "fast"];
const W_SLOW: &[&str] = &["write", "sortedset", "slow"];

pub const COMMANDS: &[CommandSpec] = &[
    cmd("zadd", -4, WRITE | DENYOOM | FAST, KEY1, W_FAST, zadd),
    cmd("zincrby", 4, WRITE | DENYOOM | FAST, KEY1, W_FAST, zincrby),
    cmd("zrem", -3, WRITE | FAST, KEY1, W_FAST, zrem),
    cmd("zscore", 3, READONLY | FAST, KEY1, R_FAST, zscore),
    cmd("zmscore", -3, READONLY | FAST, KEY1, R_FAST, zmscore),
    cmd("zcard", 2, READONLY | FAST, KEY1, R_FAST, zcard),
    cmd("zcount", 4, READONLY | FAST, KEY1, R_FAST, zcount),
    cmd("zlexcount", 4, READONLY | FAST, KEY1, R_FAST, zlexcount),
    cmd("zrange", -4, READONLY, KEY1, R_SLOW, zrange),
    cmd("zrevrange", -4, READONLY, KEY1, R_SLOW, zrevrange),
    cmd("zrangebyscore", -4, READONLY, KEY1, R_SLOW, zrangebyscore),
    cmd(
        "zrevrangebyscore",
        -4,
        READONLY,
        KEY1,
        R_SLOW,
        zrevrangebyscore,
    ),
    cmd("zrangebylex", -4, READONLY, KEY1, R_SLOW, zrangebylex),
    cmd("zrevrangebylex", -4, READONLY, KEY1, R_SLOW, zrevrangebylex),
    cmd(
        "zrangestore",
        -5,
        WRITE | DENYOOM,
        (1, 2, 1),
        W_SLOW,
        zrangestore,
    ),
    cmd("zrank", 3, READONLY | FAST, KEY1, R_FAST, zrank),
    cmd("zrevrank", 3, READONLY | FAST, KEY1, R_FAST, zrevrank),
    cmd("zpopmin", -2, WRITE | FAST, KEY1, W_FAST, zpopmin),
    cmd("zpopmax", -2, WRITE | FAST, KEY1, W_FAST, zpopmax),
    cmd("zremrangebyrank", 4, WRITE, KEY1, W_SLOW, zremrangebyrank),
    cmd("zremrangebyscore", 4, WRITE, KEY1, W_SLOW, zremrangebyscore),
    cmd("zremrangebylex", 4, WRITE, KEY1, W_SLOW, zremrangebylex),
    cmd("zscan", -3, READONLY, KEY1, R_SLOW, zscan),
    cmd("zrandmember", -2, READONLY, KEY1, R_SLOW, zrandmember),
];

fn read<'a>(db: &'a mut Keyspace, key: &[u8]) -> Result<Option<&'a SortedSet>, Reply> {
    Ok(read_value(db, key, is_zset)?.map(|v| match v {
        Value::ZSet(z) => z,
        _ => unreachable!("checked by is_zset"),
    }))
}

fn existing_mut<'a>(db: &'a mut Keyspace, key: &[u8]) -> Option<&'a mut SortedSet> {
    match db.get_mut(key) {
        Some(Value::ZSet(z)) => Some(z),
        _ => None,
    }
}

/// Members (and scores): flat in RESP2; in RESP3, WITHSCORES gives [member, score] pairs.
pub(super) fn pairs_reply(pairs: Vec<(Bytes, f64)>, with_scores: bool, resp: u8) -> Reply {
    if with_scores && resp >= 3 {
        return Reply::Array(
            pairs
                .into_iter()
                .map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)]))
                .collect(),
        );
    }
    let mut out = Vec::with_capacity(pairs.len() * if with_scores { 2 } else { 1 });
    for (m, s) in pairs {
        out.push(Reply::Bulk(m));
        if with_scores {
            out.push(Reply::Double(s));
        }
    }
    Reply::Array(out)
}

#[derive(Default)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

pub fn zadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let mut f = AddFlags::default();
    let mut i = 2;
    while i < args.len() {
        match upper(&args[i]).as_slice() {
            b"NX" => f.nx = true,
            b"XX" => f.xx = true,
            b"GT" => f.gt = true,
            b"LT" => f.lt = true,
            b"CH" => f.ch = true,
            b"INCR" => f.incr = true,
            _ => break,
        }
        i += 1;
    }
    let rest = &args[i..];
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Reply::syntax();
    }
    if f.nx && f.xx {
        return Reply::err("XX and NX options at the same time are not compatible");
    }
    if ((f.gt || f.lt) && f.nx) || (f.gt && f.lt) {
        return Reply::err("GT, LT, and/or NX options at the same time are not compatible");
    }
    if f.incr && rest.len() > 2 {
        return Reply::err("INCR option supports a single increment-element pair");
    }
    let mut pairs = Vec::with_capacity(rest.len() / 2);
    for p in rest.chunks(2) {
        match parse_score(&p[0]) {
            Some(s) => pairs.push((s, p[1].clone())),
            None => return Reply::not_float(),
        }
    }
    let exists = match check_type(db, &args[1], is_zset) {
        Err(e) => return e,
        Ok(exists) => exists,
    };
    if !exists && f.xx {
        return if f.incr { Reply::Nil } else { Reply::Int(0) };
    }
    let Value::ZSet(z) = db.get_or_insert_with(&args[1], || Value::ZSet(SortedSet::new())) else {
        return Reply::wrongtype();
    };
    let (mut added, mut changed) = (0, 0);
    let mut incr_result = None;
    for (score, member) in pairs {
        let current = z.score(&member);
        let new = match current {
            None if f.xx => continue,
            Some(_) if f.nx => continue,
            Some(old) if f.incr => old + score,
            _ => score,
        };
        if new.is_nan() {
            db.remove_if_empty(&args[1]);
            return Reply::err("resulting score is not a number (NaN)");
        }
        if let Some(old) = current {
            if (f.gt && new <= old) || (f.lt && new >= old) {
                continue;
            }
            if new != old {
                z.insert(member, new);
                changed += 1;
            }
        } else {
            z.insert(member, new);
            added += 1;
        }
        incr_result = Some(new);
    }
    db.remove_if_empty(&args[1]);
    if f.incr {
        return incr_result.map_or(Reply::Nil, Reply::Double);
    }
    Reply::Int(if f.ch { added + changed } else { added })
}

pub fn zincrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let Some(incr) = parse_score(&args[2]) else {
        return Reply::not_float();
    };
    if let Err(e) = check_type(db, &args[1], is_zset) {
        return e;
    }
    let Value::ZSet(z) = db.get_or_insert_with(&args[1], || Value::ZSet(SortedSet::new())) else {
        return Reply::wrongtype();
    };
    let new = z.score(&args[3]).unwrap_or(0.0) + incr;
    if new.is_nan() {
        db.remove_if_empty(&args[1]);
        return Reply::err("resulting score is not a number (NaN)");
    }
    z.insert(args[3].clone(), new);
    Reply::Double(new)
}

pub fn zrem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    match check_type(db, &args[1], is_zset) {
        Err(e) => return e,
        Ok(false) => return Reply::Int(0),
        Ok(true) => {}
    }
    let removed =
        existing_mut(db, &args[1]).map_or(0, |z| args[2..].iter().filter(|m| z.remove(m)).count());
    db.remove_if_empty(&args[1]);
    Reply::Int(removed as i64)
}

pub fn zscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    match read(db, &args[1]) {
        Err(e) => e,
        Ok(z) => z
            .and_then(|z| z.score(&args[2]))
            .map_or(Reply::Nil, Reply::Double),
    }
}

pub fn zmscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    match read(db, &args[1]) {
        Err(e) => e,
        Ok(z) => Reply::Array(
            args[2..]
                .iter()
                .map(|m| z.and_then(|z| z.score(m)).map_or(Reply::Nil, Reply::Double))
                .collect(),
        ),
    }
}

pub fn zcard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    match read(db, &args[1]) {
        Err(e) => e,
        Ok(z) => Reply::Int(z.map_or(0, |z| z.len() as i64)),
    }
}

fn score_range(min: &[u8], max: &[u8]) -> Result<(ScoreBound, ScoreBound), Reply> {
    match (ScoreBound::parse(min), ScoreBound::parse(max)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(Reply::err("min or max is not a float")),
    }
}

fn lex_range(min: &[u8], max: &[u8]) -> Result<(LexBound, LexBound), Reply> {
    match (LexBound::parse(min), LexBound::parse(max)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(Reply::err("min or max not valid string range item")),
    }
}

pub fn zcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let (min, max) = match score_range(&args[2], &args[3]) {
        Ok(r) => r,
        Err(e) => return e,
    };
    match read(db, &args[1]) {
        Err(e) => e,
        Ok(z) => Reply::Int(z.map_or(0, |z| z.by_score(min, max).len() as i64)),
    }
}

pub fn zlexcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let (min, max) = match lex_range(&args[2], &args[3]) {
        Ok(r) => r,
        Err(e) => return e,
    };
    match read(db, &args[1]) {
        Err(e) => e,
        Ok(z) => Reply::Int(z.map_or(0, |z| z.by_lex(&min, &max, false).len() as i64)),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum RangeKind {
    Auto,
    Rank,
    Score,
    Lex,
}

/// A parsed ZRANGE-family request.
struct RangeRequest {
    kind: RangeKind,
    rev: bool,
    offset: i64,
    limit: i64,
    with_scores: bool,
}

/// Parses the options after `min max` as Redis's zrangeGenericCommand does; `kind`/`rev` are
/// preset by the legacy commands (then BYSCORE/REV are syntax errors there).
fn parse_range_options(
    opts: &[Bytes],
    kind: RangeKind,
    rev: Option<bool>,
) -> Result<RangeRequest, Reply> {
    let mut req = RangeRequest {
        kind,
        rev: rev.unwrap_or(false),
        offset: 0,
        limit: -1,
        with_scores: false,
    };
    let mut rev_set = rev.is_some();
    let mut j = 0;
    while j < opts.len() {
        let left = opts.len() - j - 1;
        match upper(&opts[j]).as_slice() {
            b"WITHSCORES" => req.with_scores = true,
            b"LIMIT" if left >= 2 => {
                req.offset = int_arg(&opts[j + 1])?;
                req.limit = int_arg(&opts[j + 2])?;
                j += 2;
            }
            b"REV" if !rev_set => {
                req.rev = true;
                rev_set = true;
            }
            b"BYLEX" if req.kind == RangeKind::Auto => req.kind = RangeKind::Lex,
            b"BYSCORE" if req.kind == RangeKind::Auto => req.kind = RangeKind::Score,
            _ => return Err(Reply::syntax()),
        }
        j += 1;
    }
    if req.kind == RangeKind::Auto {
        req.kind = RangeKind::Rank;
    }
    if (req.offset != 0 || req.limit != -1) && req.kind == RangeKind::Rank {
        return Err(Reply::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if req.with_scores && req.kind == RangeKind::Lex {
        return Err(Reply::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    Ok(req)
}

fn apply_limit(pairs: Vec<(Bytes, f64)>, offset: i64, limit: i64) -> Vec<(Bytes, f64)> {
    if offset < 0 {
        return Vec::new();
    }
    let take = if limit < 0 {
        usize::MAX
    } else {
        limit as usize
    };
    pairs.into_iter().skip(offset as usize).take(take).collect()
}

/// Evaluates a range request. `a`/`b` are the arguments as typed (max first for reversed
/// score/lex ranges). Errors in the bounds are reported before the key is looked up.
fn evaluate(
    db: &mut Keyspace,
    key: &[u8],
    a: &[u8],
    b: &[u8],
    req: &RangeRequest,
) -> Result<Vec<(Bytes, f64)>, Reply> {
    enum Bounds {
        Rank(i64, i64),
        Score(ScoreBound, ScoreBound),
        Lex(LexBound, LexBound),
    }
    let (min_arg, max_arg) = if req.rev && req.kind != RangeKind::Rank {
        (b, a)
    } else {
        (a, b)
    };
    let bounds = match req.kind {
        RangeKind::Score => {
            let (min, max) = score_range(min_arg, max_arg)?;
            Bounds::Score(min, max)
        }
        RangeKind::Lex => {
            let (min, max) = lex_range(min_arg, max_arg)?;
            Bounds::Lex(min, max)
        }
        _ => match (parse_i64(min_arg), parse_i64(max_arg)) {
            (Some(s), Some(e)) => Bounds::Rank(s, e),
            _ => return Err(Reply::not_integer()),
        },
    };
    let Some(z) = read(db, key)? else {
        return Ok(Vec::new());
    };
    Ok(match bounds {
        Bounds::Rank(start, stop) => {
            let len = z.len() as i64;
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
            if start > stop || start >= len {
                return Ok(Vec::new());
            }
            let n = (stop - start + 1) as usize;
            let it = z.iter().map(|(m, s)| (m.clone(), s));
            if req.rev {
                it.rev().skip(start as usize).take(n).collect()
            } else {
                it.skip(start as usize).take(n).collect()
            }
        }
        Bounds::Score(min, max) => {
            let mut v = z.by_score(min, max);
            if req.rev {
                v.reverse();
            }
            apply_limit(v, req.offset, req.limit)
        }
        Bounds::Lex(min, max) => apply_limit(z.by_lex(&min, &max, req.rev), req.offset, req.limit),
    })
}

fn range_command(ctx: &mut Ctx<'_>, args: &[Bytes], kind: RangeKind, rev: Option<bool>) -> Reply {
    let resp = ctx.session.resp;
    let db = &mut *ctx.db;
    let result = parse_range_options(&args[4..], kind, rev).and_then(|req| {
        evaluate(db, &args[1], &args[2], &args[3], &req).map(|v| (v, req.with_scores))
    });
    match result {
        Err(e) => e,
        Ok((pairs, with_scores)) => pairs_reply(pairs, with_scores, resp),
    }
}

pub fn zrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    range_command(ctx, args, RangeKind::Auto, None)
}
pub fn zrevrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    range_command(ctx, args, RangeKind::Rank, Some(true))
}
pub fn zrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    range_command(ctx, args, RangeKind::Score, Some(false))
}
pub fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    range_command(ctx, args, RangeKind::Score, Some(true))
}
pub fn zrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    range_command(ctx, args, RangeKind::Lex, Some(false))
}
pub fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    range_command(ctx, args, RangeKind::Lex, Some(true))
}

pub fn zrangestore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let req = match parse_range_options(&args[5..], RangeKind::Auto, None) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if req.with_scores {
        return Reply::syntax();
    }
    match evaluate(db, &args[2], &args[3], &args[4], &req) {
        Err(e) => e,
        Ok(pairs) => {
            let n = pairs.len();
            if n == 0 {
                db.remove(&args[1]);
            } else {
                let mut z = SortedSet::new();
                for (m, s) in pairs {
                    z.insert(m, s);
                }
                db.set(args[1].clone(), Value::ZSet(z));
            }
            Reply::Int(n as i64)
        }
    }
}

fn rank(db: &mut Keyspace, args: &[Bytes], rev: bool) -> Reply {
    match read(db, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Nil,
        Ok(Some(z)) => match z.rank(&args[2]) {
            None => Reply::Nil,
            Some(r) => Reply::Int(if rev { z.len() - 1 - r } else { r } as i64),
        },
    }
}

pub fn zrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    rank(db, args, false)
}
pub fn zrevrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    rank(db, args, true)
}

fn pop(ctx: &mut Ctx<'_>, args: &[Bytes], highest: bool) -> Reply {
    let resp = if args.len() == 3 { ctx.session.resp } else { 2 };
    let db = &mut *ctx.db;
    if args.len() > 3 {
        return Reply::syntax();
    }
    let count = match args.get(2) {
        None => 1,
        Some(c) => match parse_i64(c) {
            Some(n) if n >= 0 => n as usize,
            _ => return Reply::err("value is out of range, must be positive"),
        },
    };
    match check_type(db, &args[1], is_zset) {
        Err(e) => return e,
        Ok(false) => return Reply::Array(Vec::new()),
        Ok(true) => {}
    }
    let popped = existing_mut(db, &args[1]).map_or_else(Vec::new, |z| z.pop(count, highest));
    db.remove_if_empty(&args[1]);
    pairs_reply(popped, true, resp)
}

pub fn zpopmin(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    pop(ctx, args, false)
}
pub fn zpopmax(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    pop(ctx, args, true)
}

fn remove_range(db: &mut Keyspace, args: &[Bytes], kind: RangeKind) -> Reply {
    let req = RangeRequest {
        kind,
        rev: false,
        offset: 0,
        limit: -1,
        with_scores: false,
    };
    let doomed = match evaluate(db, &args[1], &args[2], &args[3], &req) {
        Ok(v) => v,
        Err(e) => return e,
    };
    if let Some(z) = existing_mut(db, &args[1]) {
        for (m, _) in &doomed {
            z.remove(m);
        }
    }
    db.remove_if_empty(&args[1]);
    Reply::Int(doomed.len() as i64)
}

pub fn zremrangebyrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    remove_range(db, args, RangeKind::Rank)
}
pub fn zremrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    remove_range(db, args, RangeKind::Score)
}
pub fn zremrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    remove_range(db, args, RangeKind::Lex)
}

pub fn zscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let db = &mut *ctx.db;
    let scan = match scan_args(&args[2..]) {
        Ok(s) => s,
        Err(e) => return e,
    };
    match read(db, &args[1]) {
        Err(e) => e,
        Ok(z) => {
            let mut items = Vec::new();
            for (m, s) in z
                .into_iter()
                .flat_map(|z| z.iter())
                .filter(|(m, _)| scan.admits(m))
            {
                items.push(Reply::Bulk(m.clone()));
                // Scores are bulk strings in ZSCAN, even in RESP3.
                items.push(Reply::Bulk(Bytes::from(format_score(s))));
            }
            scan_reply(items)
        }
    }
}

pub fn zrandmember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let resp = ctx.session.resp;
    let db = &mut *ctx.db;
    if args.len() > 4 || (args.len() == 4 && upper(&args[3]) != b"WITHSCORES") {
        return Reply::syntax();
    }
    let (count, z) = match rand_target(args, || read(db, &args[1])) {
        Ok(found) => found,
        Err(reply) => return reply,
    };
    let members: Vec<(Bytes, f64)> = z.iter().map(|(m, s)| (m.clone(), s)).collect();
    let Some(count) = count else {
        let i = random_indices(members.len(), 1)[0];
        return Reply::Bulk(members[i].0.clone());
    };
    let picked = random_indices(members.len(), count)
        .into_iter()
        .map(|i| members[i].clone())
        .collect();
    pairs_reply(picked, args.len() == 4, resp)
}
