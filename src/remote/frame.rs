//! Reply framing and decoding for trib's own client connection (`cluster::wire`): finds where
//! one reply ends in a growing read buffer (resumable, so a big reply arriving in many reads is
//! scanned once), then decodes it into the redis crate's `Value`, exactly as the crate's parser
//! would. The common RESP2 types are decoded here directly (the crate's combinator parser was
//! most of a 30-node `trib check`'s CPU); anything else (RESP3 types, error replies) is handed
//! to the crate's own parser, so the two can never disagree. Does no I/O.

use redis::Value;

/// Deepest nesting accepted (the crate's parser has the same kind of limit).
const MAX_DEPTH: usize = 100;

/// A reply that cannot be framed: the connection must be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("protocol error: {0}")]
pub struct FrameError(pub &'static str);

/// Scans one reply at the front of a buffer, remembering how far it got between reads.
#[derive(Debug, Default)]
pub struct Framer {
    /// Bytes of the current reply already known to be complete elements or headers.
    pos: usize,
    /// Elements still missing at each open aggregate level.
    open: Vec<u64>,
}

impl Framer {
    /// The length of the first complete reply in `buf`, or `None` when more bytes are needed.
    /// `buf` must start where the previous reply ended and only ever grow between calls;
    /// after `Some(n)` the caller removes those `n` bytes and the framer starts afresh.
    pub fn complete(&mut self, buf: &[u8]) -> Result<Option<usize>, FrameError> {
        loop {
            // Most headers are plain digits: read them while looking for the CRLF.
            let (eol, known) = match counted_line(buf, self.pos + 1) {
                Some((n, eol)) => (eol, Some(n)),
                None => match find_crlf(buf, self.pos + 1) {
                    Some(eol) => (eol, None),
                    None => return Ok(None),
                },
            };
            let line = &buf[self.pos + 1..eol];
            let header = || known.map_or_else(|| number(line), Ok);
            let after = eol + 2;
            match buf[self.pos] {
                b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => self.pos = after,
                b'$' | b'=' | b'!' => {
                    let len = header()?;
                    if len < 0 {
                        self.pos = after;
                    } else {
                        let end = after + len as usize + 2;
                        if buf.len() < end {
                            return Ok(None);
                        }
                        self.pos = end;
                    }
                }
                kind @ (b'*' | b'~' | b'>' | b'%' | b'|') => {
                    let n = header()?;
                    self.pos = after;
                    let elements = match kind {
                        _ if n <= 0 && kind != b'|' => 0,
                        b'%' => 2 * n as u64,
                        // an attribute map is followed by the reply it annotates
                        b'|' => 2 * n.max(0) as u64 + 1,
                        _ => n as u64,
                    };
                    if elements > 0 {
                        if self.open.len() >= MAX_DEPTH {
                            return Err(FrameError("nesting too deep"));
                        }
                        self.open.push(elements);
                        continue;
                    }
                }
                _ => return Err(FrameError("unknown reply type")),
            }
            // One element finished: close every aggregate it completes.
            loop {
                match self.open.last_mut() {
                    None => {
                        let len = self.pos;
                        self.pos = 0;
                        return Ok(Some(len));
                    }
                    Some(left) => {
                        *left -= 1;
                        if *left > 0 {
                            break;
                        }
                        self.open.pop();
                    }
                }
            }
        }
    }
}

/// Decodes one complete reply (as framed by `Framer`) the way the redis crate does.
pub fn decode(frame: &[u8]) -> Result<Value, FrameError> {
    match decode_at(frame, 0) {
        Some((v, _)) => Ok(v),
        None => redis::parse_redis_value(frame).map_err(|_| FrameError("unparsable reply")),
    }
}

/// The RESP2 fast path: `None` hands the whole frame to the crate's parser.
fn decode_at(buf: &[u8], pos: usize) -> Option<(Value, usize)> {
    let eol = find_crlf(buf, pos + 1)?;
    let line = &buf[pos + 1..eol];
    let after = eol + 2;
    match buf[pos] {
        b'+' => {
            let text = std::str::from_utf8(line).ok()?;
            let v = if text == "OK" {
                Value::Okay
            } else {
                Value::SimpleString(text.to_string())
            };
            Some((v, after))
        }
        b':' => Some((Value::Int(number(line).ok()?), after)),
        b'$' => {
            let len = number(line).ok()?;
            if len < 0 {
                return Some((Value::Nil, after));
            }
            let end = after + len as usize;
            if buf.get(end..end + 2)? != b"\r\n" {
                return None;
            }
            Some((Value::BulkString(buf[after..end].to_vec()), end + 2))
        }
        b'*' => {
            let n = number(line).ok()?;
            if n < 0 {
                return Some((Value::Nil, after));
            }
            let mut items = Vec::with_capacity((n as usize).min(1 << 16));
            let mut at = after;
            for _ in 0..n {
                let (v, next) = decode_at(buf, at)?;
                items.push(v);
                at = next;
            }
            Some((Value::Array(items), at))
        }
        // errors and RESP3 types: the crate's parser decides their exact form
        _ => None,
    }
}

/// Reads a RESP2 reply frame (as `Wire::send_raw` returns it) element by element, borrowing
/// bulk strings instead of copying them. Each method returns `None` when the next element is
/// not of the kind asked for.
pub struct RawReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> RawReader<'a> {
    pub fn new(frame: &'a [u8]) -> RawReader<'a> {
        RawReader { buf: frame, pos: 0 }
    }

    /// The element count of an array header (a null array counts as empty).
    pub fn array_len(&mut self) -> Option<usize> {
        let start = self.pos;
        let len = match self.header() {
            Some((b'*', n)) => Some(n),
            _ => None,
        };
        if len.is_none() {
            self.pos = start;
        }
        len.map(|n| n.max(0) as usize)
    }

    /// One bulk string (not null).
    pub fn bulk(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        let len = match self.header() {
            Some((b'$', n)) if n >= 0 => Some(n),
            _ => None,
        };
        let Some(len) = len else {
            self.pos = start;
            return None;
        };
        let from = self.pos;
        let end = from + len as usize;
        if self.buf.get(end..end + 2) != Some(b"\r\n") {
            self.pos = start;
            return None;
        }
        self.pos = end + 2;
        Some(&self.buf[from..end])
    }

    /// The type byte and the number on a header line.
    fn header(&mut self) -> Option<(u8, i64)> {
        let kind = *self.buf.get(self.pos)?;
        let (n, eol) = match counted_line(self.buf, self.pos + 1) {
            Some(found) => found,
            None => {
                let eol = find_crlf(self.buf, self.pos + 1)?;
                (number(&self.buf[self.pos + 1..eol]).ok()?, eol)
            }
        };
        self.pos = eol + 2;
        Some((kind, n))
    }
}

/// A header line of plain digits (an optional `-`, at most 18 digits) starting at `from`,
/// read in the same pass that finds its CRLF: the number and where the CRLF is. `None` for
/// anything else (incomplete, blanks, other characters): the caller takes the general path.
fn counted_line(buf: &[u8], from: usize) -> Option<(i64, usize)> {
    let rest = buf.get(from..)?;
    let first_digit = usize::from(*rest.first()? == b'-');
    let mut at = first_digit;
    let mut n: i64 = 0;
    while at < rest.len() && at - first_digit < 18 {
        let digit = rest[at].wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        n = n * 10 + i64::from(digit);
        at += 1;
    }
    if at == first_digit || rest.get(at..at + 2) != Some(b"\r\n") {
        return None;
    }
    Some((if first_digit == 1 { -n } else { n }, from + at))
}

/// An integer header as the crate reads it (surrounding blanks allowed).
fn number(line: &[u8]) -> Result<i64, FrameError> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .ok_or(FrameError("expected an integer"))
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    let mut at = 0;
    while let Some(i) = rest[at..].iter().position(|&b| b == b'\r') {
        let cr = at + i;
        match rest.get(cr + 1) {
            Some(b'\n') => return Some(from + cr),
            Some(_) => at = cr + 1,
            None => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frame_all(bytes: &[u8]) -> Vec<Value> {
        let mut out = Vec::new();
        let mut start = 0;
        let mut framer = Framer::default();
        // feed one byte more at a time: every prefix is either incomplete or a whole reply
        let mut end = start;
        while start < bytes.len() {
            end = (end + 1).min(bytes.len());
            if let Some(n) = framer.complete(&bytes[start..end]).unwrap() {
                out.push(decode(&bytes[start..start + n]).unwrap());
                start += n;
                end = start;
            }
        }
        out
    }

    #[test]
    fn replies_decode_like_the_crate() {
        for reply in [
            &b"+OK\r\n"[..],
            b"+PONG\r\n",
            b"-MOVED 3999 127.0.0.1:6381\r\n",
            b"-ERR unknown command\r\n",
            b":-42\r\n",
            b"$-1\r\n",
            b"$0\r\n\r\n",
            b"$5\r\na\r\nbc\r\n",
            b"*-1\r\n",
            b"*0\r\n",
            b"*2\r\n*1\r\n$1\r\nx\r\n:7\r\n",
            b"*3\r\n$1\r\na\r\n-ERR inner\r\n+OK\r\n",
            b"%1\r\n+k\r\n:1\r\n",
            b"~2\r\n:1\r\n:2\r\n",
            b",1.5\r\n",
            b"#t\r\n",
            b"_\r\n",
            b"|1\r\n+ttl\r\n:3\r\n+v\r\n",
        ] {
            let got = frame_all(reply);
            assert_eq!(got.len(), 1, "{reply:?}");
            assert_eq!(
                got[0],
                redis::parse_redis_value(reply).unwrap(),
                "{reply:?}"
            );
        }
    }

    #[test]
    fn garbage_is_a_protocol_error() {
        assert!(Framer::default().complete(b"?x\r\n").is_err());
        assert!(Framer::default().complete(b"$x\r\n").is_err());
        assert_eq!(Framer::default().complete(b"$3\r\nab").unwrap(), None);
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Nil),
            Just(Value::Okay),
            any::<i64>().prop_map(Value::Int),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::BulkString),
            "[a-zA-Z0-9 ]{0,20}".prop_map(Value::SimpleString),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            proptest::collection::vec(inner, 0..8).prop_map(Value::Array)
        })
    }

    fn encode(v: &Value, out: &mut Vec<u8>) {
        match v {
            Value::Nil => out.extend_from_slice(b"$-1\r\n"),
            Value::Okay => out.extend_from_slice(b"+OK\r\n"),
            Value::Int(n) => out.extend_from_slice(format!(":{n}\r\n").as_bytes()),
            Value::BulkString(b) => {
                out.extend_from_slice(format!("${}\r\n", b.len()).as_bytes());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Value::SimpleString(s) => out.extend_from_slice(format!("+{s}\r\n").as_bytes()),
            Value::Array(items) => {
                out.extend_from_slice(format!("*{}\r\n", items.len()).as_bytes());
                for i in items {
                    encode(i, out);
                }
            }
            _ => unreachable!(),
        }
    }

    #[test]
    fn headers_read_like_the_crate() {
        for (line, n) in [
            (&b"0"[..], Some(0)),
            (b"42", Some(42)),
            (b"-1", Some(-1)),
            (b" 7 ", Some(7)),
            (b"+3", Some(3)),
            (b"999999999999999999", Some(999_999_999_999_999_999)),
            (b"9223372036854775807", Some(i64::MAX)),
            (b"", None),
            (b"-", None),
            (b"1x", None),
            (b"99999999999999999999", None),
        ] {
            assert_eq!(number(line).ok(), n, "{:?}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn digit_lines_are_read_in_one_pass_and_others_left_to_the_general_path() {
        assert_eq!(counted_line(b"$123\r\nabc", 1), Some((123, 4)));
        assert_eq!(counted_line(b"*-1\r\n", 1), Some((-1, 3)));
        assert_eq!(counted_line(b"*0\r\n", 1), Some((0, 2)));
        for partial in [&b"$12"[..], b"$12\r", b"$", b"$-"] {
            assert_eq!(counted_line(partial, 1), None, "{partial:?}");
        }
        for other in [
            &b"$\r\n"[..],
            b"$-\r\n",
            b"$ 1\r\n",
            b"$+1\r\n",
            b"$1x\r\n",
            b"$1\rx",
        ] {
            assert_eq!(counted_line(other, 1), None, "{other:?}");
        }
        assert_eq!(
            counted_line(b"$999999999999999999\r\n", 1),
            Some((999_999_999_999_999_999, 19))
        );
        assert_eq!(
            counted_line(b"$9223372036854775807\r\n", 1),
            None,
            "19 digits: general path"
        );
    }

    #[test]
    fn raw_reader_borrows_keys_and_a_scan_page() {
        let keys = b"*3\r\n$1\r\na\r\n$0\r\n\r\n$4\r\n{x}y\r\n";
        let mut r = RawReader::new(keys);
        assert_eq!(r.array_len(), Some(3));
        let got: Vec<&[u8]> = (0..3).map_while(|_| r.bulk()).collect();
        assert_eq!(got, vec![&b"a"[..], b"", b"{x}y"]);
        assert_eq!(r.bulk(), None, "nothing left");

        let page = b"*2\r\n$2\r\n17\r\n*1\r\n$1\r\nk\r\n";
        let mut r = RawReader::new(page);
        assert_eq!(r.array_len(), Some(2));
        assert_eq!(r.bulk(), Some(&b"17"[..]));
        assert_eq!(r.array_len(), Some(1));
        assert_eq!(r.bulk(), Some(&b"k"[..]));
    }

    #[test]
    fn raw_reader_refuses_the_wrong_kind_and_truncation() {
        let mut r = RawReader::new(b":5\r\n");
        assert_eq!(r.array_len(), None);
        assert_eq!(r.bulk(), None);
        assert_eq!(RawReader::new(b"$-1\r\n").bulk(), None, "null is not a key");
        assert_eq!(RawReader::new(b"$5\r\nab\r\n").bulk(), None);
        assert_eq!(RawReader::new(b"*-1\r\n").array_len(), Some(0));
        assert_eq!(RawReader::new(b"*2").array_len(), None);
    }

    proptest! {
        #[test]
        fn any_split_of_any_replies_decodes_like_the_crate(
            values in proptest::collection::vec(value(), 1..5),
        ) {
            let mut bytes = Vec::new();
            for v in &values {
                encode(v, &mut bytes);
            }
            let got = frame_all(&bytes);
            let expected: Vec<Value> = values
                .iter()
                .map(|v| {
                    let mut one = Vec::new();
                    encode(v, &mut one);
                    redis::parse_redis_value(&one).unwrap()
                })
                .collect();
            prop_assert_eq!(got, expected);
        }
    }
}
