//! Helpers shared by the collection command families (hash, list, set, zset): typed lookups
//! that answer WRONGTYPE, integer arguments with Redis's error texts, the *SCAN argument
//! parser and reply, and random sampling for HRANDFIELD/SRANDMEMBER/ZRANDMEMBER. No commands.

use bytes::Bytes;

use crate::node::glob::glob_match;
use crate::node::keyspace::Keyspace;
use crate::node::num::parse_i64;
use crate::node::reply::Reply;
use crate::node::value::Value;

/// A reply ready to send, produced early (an error, or nil for a missing key).
pub type Early = Reply;

/// Parses an integer argument (`ERR value is not an integer or out of range`).
pub fn int_arg(arg: &[u8]) -> Result<i64, Early> {
    parse_i64(arg).ok_or_else(Reply::not_integer)
}

/// True when `value` is the variant `check` accepts; otherwise the caller answers WRONGTYPE.
pub fn read_value<'a>(
    db: &'a mut Keyspace,
    key: &[u8],
    check: fn(&Value) -> bool,
) -> Result<Option<&'a Value>, Early> {
    match db.get(key) {
        None => Ok(None),
        Some(v) if check(v) => Ok(Some(v)),
        Some(_) => Err(Reply::wrongtype()),
    }
}

/// Type check before a write, without signalling a modification.
pub fn check_type(db: &mut Keyspace, key: &[u8], check: fn(&Value) -> bool) -> Result<bool, Early> {
    db.expire_if_needed(key);
    match db.peek(key) {
        None => Ok(false),
        Some(e) if check(&e.value) => Ok(true),
        Some(_) => Err(Reply::wrongtype()),
    }
}

/// The value at `key` for writing, created with `make` when missing; WRONGTYPE when it holds
/// another type. One lookup fewer than `check_type` + `get_or_insert_with` (the hot path of
/// SADD/HSET/LPUSH).
pub fn write_value<'a>(
    db: &'a mut Keyspace,
    key: &Bytes,
    check: fn(&Value) -> bool,
    make: fn() -> Value,
) -> Result<&'a mut Value, Early> {
    if let Some(e) = db.peek(key) {
        if !check(&e.value) {
            return Err(Reply::wrongtype());
        }
    }
    Ok(db.get_or_insert_with(key, make))
}

pub fn is_hash(v: &Value) -> bool {
    matches!(v, Value::Hash(_))
}
pub fn is_list(v: &Value) -> bool {
    matches!(v, Value::List(_))
}
pub fn is_set(v: &Value) -> bool {
    matches!(v, Value::Set(_))
}
pub fn is_zset(v: &Value) -> bool {
    matches!(v, Value::ZSet(_))
}

/// Arguments of HSCAN/SSCAN/ZSCAN after the key: cursor, MATCH pattern.
pub struct ScanArgs {
    pub pattern: Option<Bytes>,
}

/// Parses `cursor [MATCH pattern] [COUNT count]` (`args` starts at the cursor).
pub fn scan_args(args: &[Bytes]) -> Result<ScanArgs, Early> {
    let cursor = std::str::from_utf8(&args[0])
        .ok()
        .and_then(|c| c.parse::<u64>().ok());
    if cursor.is_none() {
        return Err(Reply::err("invalid cursor"));
    }
    let mut pattern = None;
    let mut i = 1;
    while i < args.len() {
        let opt = args[i].to_ascii_uppercase();
        if i + 1 >= args.len() {
            return Err(Reply::syntax());
        }
        match opt.as_slice() {
            b"MATCH" => pattern = Some(args[i + 1].clone()),
            b"COUNT" => {
                let n = int_arg(&args[i + 1])?;
                if n < 1 {
                    return Err(Reply::syntax());
                }
            }
            _ => return Err(Reply::syntax()),
        }
        i += 2;
    }
    Ok(ScanArgs { pattern })
}

impl ScanArgs {
    pub fn admits(&self, item: &[u8]) -> bool {
        match &self.pattern {
            Some(p) if p.as_ref() != b"*" => glob_match(p, item, false),
            _ => true,
        }
    }
}

/// A complete scan in one step (what Redis does for small encodings): cursor 0 and the items.
pub fn scan_reply(items: Vec<Reply>) -> Reply {
    Reply::Array(vec![Reply::bulk_str("0"), Reply::Array(items)])
}

/// Indices for a RANDFIELD/RANDMEMBER-style request over `len` items: distinct for a positive
/// count (at most `len`), with repetitions for a negative one.
pub fn random_indices(len: usize, count: i64) -> Vec<usize> {
    use rand::seq::index::sample;
    use rand::Rng;
    let mut rng = rand::thread_rng();
    if len == 0 {
        return Vec::new();
    }
    if count >= 0 {
        let n = (count as u64).min(len as u64) as usize;
        sample(&mut rng, len, n).into_vec()
    } else {
        (0..count.unsigned_abs())
            .map(|_| rng.gen_range(0..len))
            .collect()
    }
}

/// The `count` argument of HRANDFIELD/SRANDMEMBER/ZRANDMEMBER (Redis bounds it to
/// -LONG_MAX..LONG_MAX).
pub fn rand_count(arg: &[u8]) -> Result<i64, Early> {
    let n = int_arg(arg)?;
    if n == i64::MIN {
        return Err(Reply::err(format!(
            "value is out of range, must be between {} and {}",
            -i64::MAX,
            i64::MAX
        )));
    }
    Ok(n)
}

/// The shared start of HRANDFIELD/SRANDMEMBER/ZRANDMEMBER: the optional count (checked before
/// the key's type, as Redis does), then the value; a missing key answers nil without a count and
/// an empty array with one.
pub fn rand_target<T>(
    args: &[Bytes],
    read: impl FnOnce() -> Result<Option<T>, Reply>,
) -> Result<(Option<i64>, T), Reply> {
    let count = args.get(2).map(|c| rand_count(c)).transpose()?;
    match read()? {
        Some(value) => Ok((count, value)),
        None if count.is_some() => Err(Reply::Array(Vec::new())),
        None => Err(Reply::Nil),
    }
}

/// Upper-cases an option name for matching.
pub fn upper(arg: &[u8]) -> Vec<u8> {
    arg.to_ascii_uppercase()
}
