//! The reply value every command returns, plus constructors for Redis's exact common error
//! texts. Encoding to bytes (RESP2/RESP3) is `resp::encode`; this file does no I/O.

use std::borrow::Cow;

use bytes::Bytes;

#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+text`
    Simple(Cow<'static, str>),
    /// `-CODE message` (stored without the leading '-').
    Error(Cow<'static, str>),
    Int(i64),
    Bulk(Bytes),
    /// Missing bulk: RESP2 `$-1`, RESP3 `_`.
    Nil,
    /// Missing array: RESP2 `*-1`, RESP3 `_`.
    NilArray,
    Array(Vec<Reply>),
    /// RESP3 map; a flat array in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// RESP3 set; an array in RESP2.
    Set(Vec<Reply>),
    /// RESP3 double; a `%.17g` bulk string in RESP2.
    Double(f64),
    /// RESP3 boolean; integer 1/0 in RESP2.
    Bool(bool),
    /// RESP3 verbatim `txt`; a bulk string in RESP2.
    Verbatim(Bytes),
    /// Already-encoded bytes written as they are (used for replies that are identical in
    /// both protocols and expensive to rebuild).
    Raw(Bytes),
}

impl Reply {
    pub const OK: Reply = Reply::Simple(Cow::Borrowed("OK"));

    pub fn ok() -> Reply {
        Reply::OK
    }
    pub fn simple(s: &'static str) -> Reply {
        Reply::Simple(Cow::Borrowed(s))
    }
    /// An error with its code, e.g. `Reply::error("ERR syntax error")`.
    pub fn error(s: impl Into<Cow<'static, str>>) -> Reply {
        Reply::Error(s.into())
    }
    /// `-ERR <msg>`.
    pub fn err(msg: impl std::fmt::Display) -> Reply {
        Reply::Error(Cow::Owned(format!("ERR {msg}")))
    }
    pub fn bulk(b: impl Into<Bytes>) -> Reply {
        Reply::Bulk(b.into())
    }
    pub fn bulk_str(s: &str) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }
    pub fn opt_bulk(b: Option<Bytes>) -> Reply {
        b.map(Reply::Bulk).unwrap_or(Reply::Nil)
    }
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    pub fn syntax() -> Reply {
        Reply::simple_err("ERR syntax error")
    }
    pub fn wrongtype() -> Reply {
        Reply::simple_err(WRONGTYPE)
    }
    pub fn not_integer() -> Reply {
        Reply::simple_err("ERR value is not an integer or out of range")
    }
    pub fn not_float() -> Reply {
        Reply::simple_err("ERR value is not a valid float")
    }
    pub fn arity(name: &str) -> Reply {
        Reply::err(format!("wrong number of arguments for '{name}' command"))
    }
    pub fn no_such_key() -> Reply {
        Reply::simple_err("ERR no such key")
    }
    fn simple_err(s: &'static str) -> Reply {
        Reply::Error(Cow::Borrowed(s))
    }
}

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
