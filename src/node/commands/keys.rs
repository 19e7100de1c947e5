//! Generic keyspace commands: DEL UNLINK EXISTS TYPE RENAME RENAMENX KEYS SCAN RANDOMKEY TOUCH
//! COPY MOVE and OBJECT. Expiry commands are in `expire`.

use bytes::Bytes;

use super::flag::*;
use super::{cmd, container, int_arg, is, CommandSpec, Ctx, KEY1, NOKEYS};
use crate::node::config::Config;
use crate::node::glob::glob_match;
use crate::node::keyspace::Entry;
use crate::node::num::parse_i64;
use crate::node::reply::Reply;
use crate::node::value::Value;

const KW: &[&str] = &["keyspace", "write", "slow"];
const KR: &[&str] = &["keyspace", "read", "fast"];

pub const COMMANDS: &[CommandSpec] = &[
    cmd("del", -2, WRITE, (1, -1, 1), KW, del),
    cmd(
        "unlink",
        -2,
        WRITE | FAST,
        (1, -1, 1),
        &["keyspace", "write", "fast"],
        del,
    ),
    cmd("exists", -2, READONLY | FAST, (1, -1, 1), KR, exists),
    cmd("touch", -2, READONLY | FAST, (1, -1, 1), KR, exists),
    cmd("type", 2, READONLY | FAST, KEY1, KR, type_cmd),
    cmd("rename", 3, WRITE, (1, 2, 1), KW, rename),
    cmd(
        "renamenx",
        3,
        WRITE | FAST,
        (1, 2, 1),
        &["keyspace", "write", "fast"],
        renamenx,
    ),
    cmd(
        "keys",
        2,
        READONLY,
        NOKEYS,
        &["keyspace", "read", "slow", "dangerous"],
        keys,
    ),
    cmd(
        "scan",
        -2,
        READONLY,
        NOKEYS,
        &["keyspace", "read", "slow"],
        scan,
    ),
    cmd(
        "randomkey",
        1,
        READONLY,
        NOKEYS,
        &["keyspace", "read", "slow"],
        randomkey,
    ),
    cmd("copy", -3, WRITE | DENYOOM, (1, 2, 1), KW, copy),
    cmd(
        "move",
        3,
        WRITE | FAST,
        KEY1,
        &["keyspace", "write", "fast"],
        move_cmd,
    ),
    container("object", -2, 0, &["slow"], OBJECT),
];

const OBJECT: &[CommandSpec] = &[
    cmd(
        "object|encoding",
        3,
        READONLY,
        (2, 2, 1),
        &["keyspace", "read", "slow"],
        object_encoding,
    ),
    cmd(
        "object|freq",
        3,
        READONLY,
        (2, 2, 1),
        &["keyspace", "read", "slow"],
        object_freq,
    ),
    cmd(
        "object|idletime",
        3,
        READONLY,
        (2, 2, 1),
        &["keyspace", "read", "slow"],
        object_idletime,
    ),
    cmd(
        "object|refcount",
        3,
        READONLY,
        (2, 2, 1),
        &["keyspace", "read", "slow"],
        object_refcount,
    ),
    cmd(
        "object|help",
        2,
        LOADING | STALE,
        NOKEYS,
        &["keyspace", "slow"],
        object_help,
    ),
];

fn del(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let mut n = 0;
    for k in &a[1..] {
        ctx.db.expire_if_needed(k);
        if ctx.db.remove(k).is_some() {
            n += 1;
        }
    }
    Reply::Int(n)
}

fn exists(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    Reply::Int(
        a[1..]
            .iter()
            .filter(|k| ctx.db.get_entry(k).is_some())
            .count() as i64,
    )
}

fn type_cmd(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match ctx.db.get(&a[1]) {
        Some(v) => Reply::simple(v.type_name()),
        None => Reply::simple("none"),
    }
}

fn rename_generic(ctx: &mut Ctx<'_>, a: &[Bytes], nx: bool) -> Option<Reply> {
    ctx.db.expire_if_needed(&a[1]);
    let Some(entry) = ctx.db.peek(&a[1]).cloned() else {
        return Some(Reply::no_such_key());
    };
    if a[1] == a[2] {
        return Some(if nx { Reply::Int(0) } else { Reply::OK });
    }
    if nx && ctx.db.contains(&a[2]) {
        return Some(Reply::Int(0));
    }
    ctx.db.remove(&a[1]);
    ctx.db.remove(&a[2]);
    ctx.db.set_entry(a[2].clone(), entry);
    None
}

fn rename(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    rename_generic(ctx, a, false).unwrap_or(Reply::OK)
}

fn renamenx(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    rename_generic(ctx, a, true).unwrap_or(Reply::Int(1))
}

fn keys(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let pat = &a[1];
    let all = pat.as_ref() == b"*";
    let matching: Vec<Bytes> = ctx
        .db
        .keys()
        .filter(|k| all || glob_match(pat, k, false))
        .cloned()
        .collect();
    let out = matching
        .into_iter()
        .filter(|k| ctx.db.peek(k).is_some())
        .map(Reply::Bulk)
        .collect();
    Reply::Array(out)
}

/// SCAN cursor: an unsigned integer (`-ERR invalid cursor` otherwise).
pub fn parse_cursor(b: &[u8]) -> Option<u64> {
    // strtoul semantics: "-1" wraps around (a cursor past the end), overflow is invalid.
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !digits.iter().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

fn scan(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let Some(cursor) = parse_cursor(&a[1]) else {
        return Reply::err("invalid cursor");
    };
    let mut count = 10usize;
    let mut pattern: Option<Bytes> = None;
    let mut typ: Option<Bytes> = None;
    let mut i = 2;
    while i < a.len() {
        if i + 1 >= a.len() {
            return Reply::syntax();
        }
        let v = &a[i + 1];
        if is(&a[i], "count") {
            match int_arg(v) {
                Ok(n) if n >= 1 => count = n as usize,
                Ok(_) => return Reply::syntax(),
                Err(e) => return e,
            }
        } else if is(&a[i], "match") {
            pattern = Some(v.clone());
        } else if is(&a[i], "type") {
            typ = Some(v.clone());
        } else {
            return Reply::syntax();
        }
        i += 2;
    }
    let (next, keys) = ctx.db.scan(cursor, count);
    let keys: Vec<Reply> = keys
        .into_iter()
        .filter(|k| {
            pattern
                .as_ref()
                .map(|p| glob_match(p, k, false))
                .unwrap_or(true)
        })
        .filter(|k| match &typ {
            None => true,
            Some(t) => ctx
                .db
                .peek(k)
                .map(|e| e.value.type_name().as_bytes().eq_ignore_ascii_case(t))
                .unwrap_or(false),
        })
        .map(Reply::Bulk)
        .collect();
    Reply::Array(vec![
        Reply::Bulk(Bytes::from(next.to_string())),
        Reply::Array(keys),
    ])
}

fn randomkey(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    Reply::opt_bulk(ctx.db.random_key())
}

fn copy(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let mut replace = false;
    let mut i = 3;
    while i < a.len() {
        if is(&a[i], "replace") {
            replace = true;
        } else if is(&a[i], "db") && i + 1 < a.len() {
            match parse_i64(&a[i + 1]) {
                Some(0) => {}
                Some(_) => {
                    if ctx.shared.cluster().is_some() {
                        return Reply::err(
                            "Copying to another database is not allowed in cluster mode",
                        );
                    }
                    return Reply::err("DB index is out of range");
                }
                None => return Reply::not_integer(),
            }
            i += 1;
        } else {
            return Reply::syntax();
        }
        i += 1;
    }
    if a[1] == a[2] {
        return Reply::err("source and destination objects are the same");
    }
    ctx.db.expire_if_needed(&a[1]);
    let Some(entry) = ctx.db.peek(&a[1]).cloned() else {
        return Reply::Int(0);
    };
    if ctx.db.contains(&a[2]) {
        if !replace {
            return Reply::Int(0);
        }
        ctx.db.remove(&a[2]);
    }
    ctx.db.set_entry(
        a[2].clone(),
        Entry {
            raw: false,
            ..entry
        },
    );
    Reply::Int(1)
}

fn move_cmd(_ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    Reply::err("MOVE is not allowed in cluster mode")
}

/// OBJECT ENCODING's answer for a value, following Redis 7.0's conversion thresholds.
pub fn encoding_of(entry: &Entry, config: &Config) -> &'static str {
    match &entry.value {
        Value::Str(s) => {
            if entry.raw {
                "raw"
            } else if s.len() <= 20 && parse_i64(s).is_some() {
                "int"
            } else if s.len() <= 44 {
                "embstr"
            } else {
                "raw"
            }
        }
        Value::List(_) => "quicklist",
        Value::Hash(h) => {
            let max_entries = config.get_i64("hash-max-listpack-entries") as usize;
            let max_value = config.get_i64("hash-max-listpack-value") as usize;
            if h.len() <= max_entries
                && h.iter()
                    .all(|(k, v)| k.len() <= max_value && v.len() <= max_value)
            {
                "listpack"
            } else {
                "hashtable"
            }
        }
        Value::Set(s) => {
            let max = config.get_i64("set-max-intset-entries") as usize;
            if s.len() <= max && s.iter().all(|m| parse_i64(m).is_some()) {
                "intset"
            } else {
                "hashtable"
            }
        }
        Value::ZSet(z) => {
            let max_entries = config.get_i64("zset-max-listpack-entries") as usize;
            let max_value = config.get_i64("zset-max-listpack-value") as usize;
            if z.len() <= max_entries && z.iter().all(|(m, _)| m.len() <= max_value) {
                "listpack"
            } else {
                "skiplist"
            }
        }
    }
}

fn object_encoding(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    ctx.db.expire_if_needed(&a[2]);
    match ctx.db.peek(&a[2]) {
        Some(e) => Reply::bulk_str(encoding_of(e, &ctx.shared.config())),
        None => Reply::Nil,
    }
}

fn object_freq(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    ctx.db.expire_if_needed(&a[2]);
    if ctx.db.peek(&a[2]).is_none() {
        return Reply::Nil;
    }
    if !ctx.shared.config().get("maxmemory-policy").contains("lfu") {
        return Reply::err("An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    }
    Reply::Int(0)
}

fn object_idletime(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    ctx.db.expire_if_needed(&a[2]);
    let now = ctx.db.now_ms / 1000;
    match ctx.db.peek(&a[2]) {
        None => Reply::Nil,
        Some(_) if ctx.shared.config().get("maxmemory-policy").contains("lfu") => Reply::err("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."),
        Some(e) => Reply::Int(now.saturating_sub(e.access_secs) as i64),
    }
}

fn object_refcount(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    ctx.db.expire_if_needed(&a[2]);
    match ctx.db.peek(&a[2]) {
        None => Reply::Nil,
        Some(e) => match &e.value {
            // shared integers 0..9999 report INT_MAX in Redis
            Value::Str(s)
                if !e.raw
                    && parse_i64(s)
                        .map(|n| (0..10000).contains(&n))
                        .unwrap_or(false) =>
            {
                Reply::Int(i64::from(i32::MAX))
            }
            _ => Reply::Int(1),
        },
    }
}

fn object_help(_ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    help(
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    )
}

/// A HELP reply in Redis's layout (header line, entries, trailing HELP line).
pub fn help(container: &str, lines: &[&str]) -> Reply {
    let mut out = vec![Reply::Simple(
        format!("{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").into(),
    )];
    out.extend(lines.iter().map(|l| Reply::Simple(l.to_string().into())));
    out.push(Reply::simple("HELP"));
    out.push(Reply::simple("    Print this help."));
    Reply::Array(out)
}
