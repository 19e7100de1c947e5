//! The replies cluster commands produce. Mirrors the subset of the server's reply type the
//! cluster code needs (same variant names and constructors), so the cluster logic is testable
//! before and apart from the server; `into_server` converts.

use std::borrow::Cow;

use bytes::Bytes;

#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Simple(Cow<'static, str>),
    /// Error text without the leading '-', code included (`ERR ...`, `MOVED ...`).
    Error(Cow<'static, str>),
    Int(i64),
    Bulk(Bytes),
    Nil,
    Array(Vec<Reply>),
    /// A map in RESP3, a flat array in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// A verbatim `txt` string in RESP3, a bulk string in RESP2.
    Verbatim(Bytes),
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Simple(Cow::Borrowed("OK"))
    }
    pub fn simple(s: impl Into<Cow<'static, str>>) -> Reply {
        Reply::Simple(s.into())
    }
    /// An error with its code, e.g. `Reply::error("MOVED 1 1.2.3.4:5")`.
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
    pub fn text(s: String) -> Reply {
        Reply::Verbatim(Bytes::from(s))
    }
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }
    pub fn arity(name: &str) -> Reply {
        Reply::err(format!("wrong number of arguments for '{name}' command"))
    }
    pub fn syntax() -> Reply {
        Reply::error("ERR syntax error")
    }
    pub fn not_integer() -> Reply {
        Reply::error("ERR value is not an integer or out of range")
    }
}
