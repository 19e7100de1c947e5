//! Sorted-set algebra: ZUNION/ZINTER/ZDIFF, their STORE forms and ZINTERCARD, with WEIGHTS and
//! AGGREGATE as Redis 7.0 parses them. Plain sets take part with score 1. Replies and errors
//! follow t_zset.c; the single-key commands are in `zset`.

use std::collections::HashMap;

use bytes::Bytes;

use super::collection::upper;
use super::flag::*;
use super::zset::pairs_reply;
use super::{cmd, CommandSpec, Ctx};
use crate::node::keyspace::Keyspace;
use crate::node::num::parse_i64;
use crate::node::reply::Reply;
use crate::node::value::Value;
use crate::node::zset::{parse_score, SortedSet};

const R_SLOW: &[&str] = &["read", "sortedset", "slow"];
const W_SLOW: &[&str] = &["write", "sortedset", "slow"];

const fn movable(spec: CommandSpec, keys: fn(&[Bytes]) -> Vec<usize>) -> CommandSpec {
    CommandSpec {
        movable_keys: Some(keys),
        ..spec
    }
}

pub const COMMANDS: &[CommandSpec] = &[
    movable(
        cmd(
            "zunionstore",
            -4,
            WRITE | DENYOOM,
            (1, 1, 1),
            W_SLOW,
            zunionstore,
        ),
        store_keys,
    ),
    movable(
        cmd(
            "zinterstore",
            -4,
            WRITE | DENYOOM,
            (1, 1, 1),
            W_SLOW,
            zinterstore,
        ),
        store_keys,
    ),
    movable(
        cmd(
            "zdiffstore",
            -4,
            WRITE | DENYOOM,
            (1, 1, 1),
            W_SLOW,
            zdiffstore,
        ),
        store_keys,
    ),
    movable(
        cmd("zunion", -3, READONLY, (0, 0, 0), R_SLOW, zunion),
        plain_keys,
    ),
    movable(
        cmd("zinter", -3, READONLY, (0, 0, 0), R_SLOW, zinter),
        plain_keys,
    ),
    movable(
        cmd("zdiff", -3, READONLY, (0, 0, 0), R_SLOW, zdiff),
        plain_keys,
    ),
    movable(
        cmd("zintercard", -3, READONLY, (0, 0, 0), R_SLOW, zintercard),
        plain_keys,
    ),
];

fn numkeys_at(args: &[Bytes], pos: usize) -> usize {
    args.get(pos).and_then(|a| parse_i64(a)).unwrap_or(0).max(0) as usize
}

fn store_keys(args: &[Bytes]) -> Vec<usize> {
    let n = numkeys_at(args, 2);
    std::iter::once(1)
        .chain(3..3 + n.min(args.len().saturating_sub(3)))
        .collect()
}

fn plain_keys(args: &[Bytes]) -> Vec<usize> {
    let n = numkeys_at(args, 1);
    (2..2 + n.min(args.len().saturating_sub(2))).collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

struct Request {
    keys: Vec<Bytes>,
    weights: Vec<f64>,
    aggregate: Aggregate,
    with_scores: bool,
}

/// Parses `numkeys key... [WEIGHTS w...] [AGGREGATE x] [WITHSCORES]` starting at `numkeys_pos`.
fn parse(args: &[Bytes], numkeys_pos: usize, op: Op, store: bool) -> Result<Request, Reply> {
    let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
    let n = parse_i64(&args[numkeys_pos]).ok_or_else(Reply::not_integer)?;
    if n < 1 {
        return Err(Reply::err(format!(
            "at least 1 input key is needed for '{name}' command"
        )));
    }
    let n = n as usize;
    let first = numkeys_pos + 1;
    if first + n > args.len() {
        return Err(Reply::syntax());
    }
    let mut req = Request {
        keys: args[first..first + n].to_vec(),
        weights: vec![1.0; n],
        aggregate: Aggregate::Sum,
        with_scores: false,
    };
    let mut j = first + n;
    while j < args.len() {
        let left = args.len() - j - 1;
        match upper(&args[j]).as_slice() {
            b"WEIGHTS" if op != Op::Diff && left >= n => {
                for i in 0..n {
                    req.weights[i] = parse_score(&args[j + 1 + i])
                        .ok_or_else(|| Reply::err("weight value is not a float"))?;
                }
                j += n;
            }
            b"AGGREGATE" if op != Op::Diff && left >= 1 => {
                req.aggregate = match upper(&args[j + 1]).as_slice() {
                    b"SUM" => Aggregate::Sum,
                    b"MIN" => Aggregate::Min,
                    b"MAX" => Aggregate::Max,
                    _ => return Err(Reply::syntax()),
                };
                j += 1;
            }
            b"WITHSCORES" if !store => req.with_scores = true,
            _ => return Err(Reply::syntax()),
        }
        j += 1;
    }
    Ok(req)
}

/// Each input as member -> score (sets score 1); a missing key is empty. WRONGTYPE otherwise.
fn load(db: &mut Keyspace, keys: &[Bytes]) -> Result<Vec<HashMap<Bytes, f64>>, Reply> {
    keys.iter()
        .map(|k| match db.get(k) {
            None => Ok(HashMap::new()),
            Some(Value::ZSet(z)) => Ok(z.iter().map(|(m, s)| (m.clone(), s)).collect()),
            Some(Value::Set(s)) => Ok(s.iter().map(|m| (m.clone(), 1.0)).collect()),
            Some(_) => Err(Reply::wrongtype()),
        })
        .collect()
}

fn combine(agg: Aggregate, acc: f64, v: f64) -> f64 {
    let r = match agg {
        Aggregate::Sum => acc + v,
        Aggregate::Min => acc.min(v),
        Aggregate::Max => acc.max(v),
    };
    // inf + -inf: Redis stores 0 rather than NaN.
    if r.is_nan() {
        0.0
    } else {
        r
    }
}

fn weighted(score: f64, weight: f64) -> f64 {
    let v = score * weight;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

fn compute(db: &mut Keyspace, req: &Request, op: Op) -> Result<SortedSet, Reply> {
    let inputs = load(db, &req.keys)?;
    let mut out = SortedSet::new();
    match op {
        Op::Union => {
            let mut acc: HashMap<Bytes, f64> = HashMap::new();
            for (input, w) in inputs.iter().zip(&req.weights) {
                for (m, s) in input {
                    let v = weighted(*s, *w);
                    acc.entry(m.clone())
                        .and_modify(|a| *a = combine(req.aggregate, *a, v))
                        .or_insert(v);
                }
            }
            for (m, s) in acc {
                out.insert(m, s);
            }
        }
        Op::Inter => {
            let (first, rest) = inputs.split_first().expect("at least one key");
            'member: for (m, s) in first {
                let mut score = weighted(*s, req.weights[0]);
                for (input, w) in rest.iter().zip(&req.weights[1..]) {
                    match input.get(m) {
                        None => continue 'member,
                        Some(v) => score = combine(req.aggregate, score, weighted(*v, *w)),
                    }
                }
                out.insert(m.clone(), score);
            }
        }
        Op::Diff => {
            let (first, rest) = inputs.split_first().expect("at least one key");
            for (m, s) in first {
                if !rest.iter().any(|r| r.contains_key(m)) {
                    out.insert(m.clone(), *s);
                }
            }
        }
    }
    Ok(out)
}

fn plain(ctx: &mut Ctx<'_>, args: &[Bytes], op: Op) -> Reply {
    let resp = ctx.session.resp;
    let result = parse(args, 1, op, false)
        .and_then(|req| compute(ctx.db, &req, op).map(|z| (z, req.with_scores)));
    match result {
        Err(e) => e,
        Ok((z, with_scores)) => pairs_reply(
            z.iter().map(|(m, s)| (m.clone(), s)).collect(),
            with_scores,
            resp,
        ),
    }
}

fn store(ctx: &mut Ctx<'_>, args: &[Bytes], op: Op) -> Reply {
    let result = parse(args, 2, op, true).and_then(|req| compute(ctx.db, &req, op));
    match result {
        Err(e) => e,
        Ok(z) => {
            let n = z.len();
            if n == 0 {
                ctx.db.remove(&args[1]);
            } else {
                ctx.db.set(args[1].clone(), Value::ZSet(z));
            }
            Reply::Int(n as i64)
        }
    }
}

pub fn zunion(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    plain(ctx, args, Op::Union)
}
pub fn zinter(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    plain(ctx, args, Op::Inter)
}
pub fn zdiff(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    plain(ctx, args, Op::Diff)
}
pub fn zunionstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    store(ctx, args, Op::Union)
}
pub fn zinterstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    store(ctx, args, Op::Inter)
}
pub fn zdiffstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    store(ctx, args, Op::Diff)
}

pub fn zintercard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let Some(n) = parse_i64(&args[1]) else {
        return Reply::not_integer();
    };
    if n < 1 {
        return Reply::err("at least 1 input key is needed for 'zintercard' command");
    }
    let n = n as usize;
    if n > args.len() - 2 {
        return Reply::syntax();
    }
    let mut limit = 0usize;
    let mut j = 2 + n;
    while j < args.len() {
        if upper(&args[j]) == b"LIMIT" && j + 1 < args.len() {
            match parse_i64(&args[j + 1]) {
                Some(l) if l >= 0 => limit = l as usize,
                _ => return Reply::err("LIMIT can't be negative"),
            }
            j += 2;
        } else {
            return Reply::syntax();
        }
    }
    let req = Request {
        keys: args[2..2 + n].to_vec(),
        weights: vec![1.0; n],
        aggregate: Aggregate::Sum,
        with_scores: false,
    };
    match compute(ctx.db, &req, Op::Inter) {
        Err(e) => e,
        Ok(z) => Reply::Int(if limit == 0 {
            z.len()
        } else {
            z.len().min(limit)
        } as i64),
    }
}
