//! RESP codec: the request parser (multibulk and inline, with Redis's exact protocol error
//! strings and limits from networking.c) and the RESP2/RESP3 reply encoder. Pure functions on
//! buffers: no sockets, no command semantics.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::num::{fmt_g17, parse_i64};
use super::reply::Reply;

/// PROTO_INLINE_MAX_SIZE: longest inline request / count line without a newline.
pub const INLINE_MAX: usize = 64 * 1024;
/// Default `proto-max-bulk-len`.
pub const DEFAULT_MAX_BULK: i64 = 512 * 1024 * 1024;

/// A protocol violation: the text after `-ERR ` that Redis sends before closing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl ProtocolError {
    fn new(s: &str) -> ProtocolError {
        ProtocolError(format!("Protocol error: {s}"))
    }
}

/// Limits the parser applies; `authenticated == false` applies Redis's tighter unauthenticated
/// limits (10 arguments, 16 KiB bulks).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bulk: i64,
    pub authenticated: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bulk: DEFAULT_MAX_BULK,
            authenticated: true,
        }
    }
}

/// Parses one request from the front of `buf`. `Ok(None)`: more bytes needed (nothing consumed).
/// `Ok(Some(args))`: one request consumed; `args` may be empty (`*0`, `*-1`, blank inline line),
/// which callers skip. `Err`: the connection must get `-ERR <text>` and be closed.
pub fn parse_request(
    buf: &mut BytesMut,
    limits: Limits,
) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    if buf.is_empty() {
        return Ok(None);
    }
    if buf[0] == b'*' {
        parse_multibulk(buf, limits)
    } else {
        parse_inline(buf)
    }
}

fn find(buf: &[u8], from: usize, byte: u8) -> Option<usize> {
    buf[from..]
        .iter()
        .position(|&b| b == byte)
        .map(|p| p + from)
}

fn parse_multibulk(
    buf: &mut BytesMut,
    limits: Limits,
) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    let Some(cr) = find(buf, 0, b'\r') else {
        if buf.len() > INLINE_MAX {
            return Err(ProtocolError::new("too big mbulk count string"));
        }
        return Ok(None);
    };
    if cr + 1 >= buf.len() {
        return Ok(None);
    }
    let count = match parse_i64(&buf[1..cr]) {
        Some(n) if n <= i64::from(i32::MAX) => n,
        _ => return Err(ProtocolError::new("invalid multibulk length")),
    };
    if count > 10 && !limits.authenticated {
        return Err(ProtocolError::new("unauthenticated multibulk length"));
    }
    let mut pos = cr + 2;
    if count <= 0 {
        buf.advance(pos);
        return Ok(Some(Vec::new()));
    }
    // Offsets first, so that nothing is consumed until the whole request is here.
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity((count as usize).min(1024));
    for _ in 0..count {
        let Some(cr) = find(buf, pos, b'\r') else {
            if buf.len() - pos > INLINE_MAX {
                return Err(ProtocolError::new("too big bulk count string"));
            }
            return Ok(None);
        };
        if cr + 1 >= buf.len() {
            return Ok(None);
        }
        if buf[pos] != b'$' {
            return Err(ProtocolError(format!(
                "Protocol error: expected '$', got '{}'",
                char::from(buf[pos])
            )));
        }
        let len = match parse_i64(&buf[pos + 1..cr]) {
            Some(n) if n >= 0 && n <= limits.max_bulk => n as usize,
            _ => return Err(ProtocolError::new("invalid bulk length")),
        };
        if len > 16384 && !limits.authenticated {
            return Err(ProtocolError::new("unauthenticated bulk length"));
        }
        let start = cr + 2;
        // Redis skips the two bytes after the payload without checking they are CRLF.
        if buf.len() < start + len + 2 {
            return Ok(None);
        }
        spans.push((start, len));
        pos = start + len + 2;
    }
    let frame = buf.split_to(pos).freeze();
    Ok(Some(
        spans
            .into_iter()
            .map(|(s, l)| frame.slice(s..s + l))
            .collect(),
    ))
}

fn parse_inline(buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    let Some(nl) = find(buf, 0, b'\n') else {
        if buf.len() > INLINE_MAX {
            return Err(ProtocolError::new("too big inline request"));
        }
        return Ok(None);
    };
    let end = if nl > 0 && buf[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    let args =
        split_args(&buf[..end]).ok_or_else(|| ProtocolError::new("unbalanced quotes in request"));
    buf.advance(nl + 1);
    Ok(Some(args?))
}

/// Redis `sdssplitargs`: whitespace-separated words, "double quotes" with \n \r \t \b \a \\ \"
/// and \xHH escapes, 'single quotes' with only \' ; a closing quote must be followed by a space
/// or the end. None on unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Bytes>> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && is_hex(line[i + 2])
                    && is_hex(line[i + 3])
                {
                    cur.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
                i += 1;
            } else if in_sq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
                i += 1;
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        i += 1;
                        break;
                    }
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
                i += 1;
            }
        }
        out.push(Bytes::from(cur));
    }
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}
fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// Appends the encoding of `reply` for protocol version `proto` (2 or 3).
pub fn encode(reply: &Reply, proto: u8, out: &mut BytesMut) {
    match reply {
        Reply::Simple(s) => line(out, b'+', s.as_bytes()),
        Reply::Error(s) => {
            // Error replies are one line: Redis replaces CR/LF with spaces.
            out.put_u8(b'-');
            out.extend(
                s.bytes()
                    .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
            );
            out.put_slice(b"\r\n");
        }
        Reply::Int(n) => int_line(out, b':', *n),
        Reply::Bulk(b) => bulk(out, b),
        Reply::Nil => out.put_slice(if proto >= 3 { b"_\r\n" } else { b"$-1\r\n" }),
        Reply::NilArray => out.put_slice(if proto >= 3 { b"_\r\n" } else { b"*-1\r\n" }),
        Reply::Array(items) => {
            int_line(out, b'*', items.len() as i64);
            for r in items {
                encode(r, proto, out);
            }
        }
        Reply::Set(items) => {
            int_line(
                out,
                if proto >= 3 { b'~' } else { b'*' },
                items.len() as i64,
            );
            for r in items {
                encode(r, proto, out);
            }
        }
        Reply::Map(pairs) => {
            if proto >= 3 {
                int_line(out, b'%', pairs.len() as i64);
            } else {
                int_line(out, b'*', 2 * pairs.len() as i64);
            }
            for (k, v) in pairs {
                encode(k, proto, out);
                encode(v, proto, out);
            }
        }
        Reply::Double(d) => {
            let text = fmt_g17(*d);
            if proto >= 3 {
                line(out, b',', text.as_bytes());
            } else {
                bulk(out, text.as_bytes());
            }
        }
        Reply::Bool(b) => {
            if proto >= 3 {
                out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" });
            } else {
                int_line(out, b':', i64::from(*b));
            }
        }
        Reply::Verbatim(b) => {
            if proto >= 3 {
                int_line(out, b'=', b.len() as i64 + 4);
                out.put_slice(b"txt:");
                out.put_slice(b);
                out.put_slice(b"\r\n");
            } else {
                bulk(out, b);
            }
        }
        Reply::Raw(b) => out.put_slice(b),
    }
}

fn line(out: &mut BytesMut, prefix: u8, body: &[u8]) {
    out.reserve(body.len() + 3);
    out.put_u8(prefix);
    out.put_slice(body);
    out.put_slice(b"\r\n");
}

fn int_line(out: &mut BytesMut, prefix: u8, n: i64) {
    // Formatted on the stack: this runs for every bulk header and integer reply.
    let mut buf = [0u8; 24];
    let mut i = buf.len();
    let neg = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    out.reserve(buf.len() - i + 3);
    out.put_u8(prefix);
    out.put_slice(&buf[i..]);
    out.put_slice(b"\r\n");
}

fn bulk(out: &mut BytesMut, b: &[u8]) {
    out.reserve(b.len() + 16);
    int_line(out, b'$', b.len() as i64);
    out.put_slice(b);
    out.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_all(mut buf: BytesMut) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
        let mut out = Vec::new();
        while let Some(args) = parse_request(&mut buf, Limits::default())? {
            if !args.is_empty() {
                out.push(args);
            }
        }
        Ok(out)
    }

    fn multibulk(args: &[Vec<u8>]) -> Vec<u8> {
        let mut v = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            v.extend(format!("${}\r\n", a.len()).bytes());
            v.extend(a);
            v.extend(b"\r\n");
        }
        v
    }

    #[test]
    fn multibulk_and_inline() {
        let got = parse_all(BytesMut::from(
            &b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n\r\nSET a \"b c\"\n"[..],
        ))
        .unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], vec![Bytes::from("ECHO"), Bytes::from("hi")]);
        assert_eq!(got[1], vec![Bytes::from("PING")]);
        assert_eq!(got[2][2], Bytes::from("b c"));
    }

    #[test]
    fn protocol_errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"*x\r\n", "Protocol error: invalid multibulk length"),
            (
                b"*2147483648\r\n",
                "Protocol error: invalid multibulk length",
            ),
            (b"*1\r\nx\r\n", "Protocol error: expected '$', got 'x'"),
            (b"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"),
            (
                b"*1\r\n$600000000\r\n",
                "Protocol error: invalid bulk length",
            ),
            (b"\"abc\r\n", "Protocol error: unbalanced quotes in request"),
            (
                b"PING \"a\"b\r\n",
                "Protocol error: unbalanced quotes in request",
            ),
        ];
        for (input, want) in cases {
            let err = parse_all(BytesMut::from(*input)).unwrap_err();
            assert_eq!(err.0, *want, "{:?}", String::from_utf8_lossy(input));
        }
        let big = vec![b'a'; INLINE_MAX + 1];
        assert_eq!(
            parse_all(BytesMut::from(&big[..])).unwrap_err().0,
            "Protocol error: too big inline request"
        );
        let mut big = b"*".to_vec();
        big.extend(vec![b'1'; INLINE_MAX + 1]);
        assert_eq!(
            parse_all(BytesMut::from(&big[..])).unwrap_err().0,
            "Protocol error: too big mbulk count string"
        );
        let mut big = b"*1\r\n$".to_vec();
        big.extend(vec![b'1'; INLINE_MAX + 1]);
        assert_eq!(
            parse_all(BytesMut::from(&big[..])).unwrap_err().0,
            "Protocol error: too big bulk count string"
        );
    }

    #[test]
    fn unauthenticated_limits() {
        let limits = Limits {
            max_bulk: DEFAULT_MAX_BULK,
            authenticated: false,
        };
        let mut b = BytesMut::from(&b"*11\r\n"[..]);
        assert_eq!(
            parse_request(&mut b, limits).unwrap_err().0,
            "Protocol error: unauthenticated multibulk length"
        );
        let mut b = BytesMut::from(&b"*1\r\n$16385\r\n"[..]);
        assert_eq!(
            parse_request(&mut b, limits).unwrap_err().0,
            "Protocol error: unauthenticated bulk length"
        );
    }

    #[test]
    fn quoting() {
        let a = split_args(br#"ECHO "\x41\n" 'it\'s' plain"#).unwrap();
        assert_eq!(
            a,
            vec![
                Bytes::from("ECHO"),
                Bytes::from("A\n"),
                Bytes::from("it's"),
                Bytes::from("plain")
            ]
        );
        assert!(split_args(b"'abc").is_none());
    }

    #[test]
    fn encodes_both_protocols() {
        let r = Reply::Map(vec![
            (Reply::bulk_str("a"), Reply::Double(1.5)),
            (Reply::bulk_str("b"), Reply::Nil),
        ]);
        let mut o = BytesMut::new();
        encode(&r, 2, &mut o);
        assert_eq!(&o[..], b"*4\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nb\r\n$-1\r\n");
        let mut o = BytesMut::new();
        encode(&r, 3, &mut o);
        assert_eq!(&o[..], b"%2\r\n$1\r\na\r\n,1.5\r\n$1\r\nb\r\n_\r\n");
    }

    proptest! {
        #[test]
        fn splits_give_same_frames(
            reqs in proptest::collection::vec(proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..6), 1..8),
            cuts in proptest::collection::vec(any::<usize>(), 0..10),
        ) {
            let mut stream = Vec::new();
            for r in &reqs {
                stream.extend(multibulk(r));
            }
            let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
            points.sort_unstable();
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            let mut last = 0;
            points.push(stream.len());
            for p in points {
                buf.extend_from_slice(&stream[last..p]);
                last = p;
                while let Some(args) = parse_request(&mut buf, Limits::default()).unwrap() {
                    got.push(args.iter().map(|b| b.to_vec()).collect::<Vec<_>>());
                }
            }
            prop_assert_eq!(got, reqs);
            prop_assert!(buf.is_empty());
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut buf = BytesMut::from(&data[..]);
            for _ in 0..400 {
                match parse_request(&mut buf, Limits::default()) {
                    Ok(Some(_)) => continue,
                    _ => break,
                }
            }
        }

        #[test]
        fn garbage_after_star_never_panics(data in proptest::collection::vec(prop_oneof![Just(b'*'), Just(b'$'), Just(b'\r'), Just(b'\n'), Just(b'1'), Just(b'-'), any::<u8>()], 0..200)) {
            let mut buf = BytesMut::from(&data[..]);
            for _ in 0..400 {
                match parse_request(&mut buf, Limits::default()) {
                    Ok(Some(_)) => continue,
                    _ => break,
                }
            }
        }
    }
}
