//! RDB primitives: the length encoding and the string encoding (plain, INT8/16/32, LZF), read
//! from a bounds-checked cursor and written to a byte vector. Knows nothing of object types.

use super::{lzf, RdbError};

const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// Strings longer than this are LZF-compressed when that saves space (Redis's rule).
const LZF_MIN_LEN: usize = 20;

/// A length field: either a length or a special string encoding tag.
enum Length {
    Plain(u64),
    Encoded(u8),
}

/// A cursor over a byte slice; every read is bounds-checked and fails with `BadFormat`.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }
    pub fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }
    pub fn position(&self) -> usize {
        self.pos
    }
    pub fn u8(&mut self) -> Result<u8, RdbError> {
        let b = *self.bytes.get(self.pos).ok_or(RdbError::BadFormat)?;
        self.pos += 1;
        Ok(b)
    }
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], RdbError> {
        let end = self.pos.checked_add(n).ok_or(RdbError::BadFormat)?;
        let slice = self.bytes.get(self.pos..end).ok_or(RdbError::BadFormat)?;
        self.pos = end;
        Ok(slice)
    }
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], RdbError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn length_field(&mut self) -> Result<Length, RdbError> {
        let first = self.u8()?;
        Ok(match first >> 6 {
            0 => Length::Plain((first & 0x3f) as u64),
            1 => Length::Plain((((first & 0x3f) as u64) << 8) | self.u8()? as u64),
            2 => match first {
                0x80 => Length::Plain(u32::from_be_bytes(self.array()?) as u64),
                0x81 => Length::Plain(u64::from_be_bytes(self.array()?)),
                _ => return Err(RdbError::BadFormat),
            },
            _ => Length::Encoded(first & 0x3f),
        })
    }

    /// A length (element count, blob size); a string-encoding tag here is malformed.
    pub fn length(&mut self) -> Result<u64, RdbError> {
        match self.length_field()? {
            Length::Plain(n) => Ok(n),
            Length::Encoded(_) => Err(RdbError::BadFormat),
        }
    }

    /// A count of things that each take at least one byte; rejects counts the input cannot
    /// hold so that a hostile count never drives a huge allocation.
    pub fn count(&mut self) -> Result<usize, RdbError> {
        let n = self.length()?;
        let remaining = (self.bytes.len() - self.pos) as u64;
        if n > remaining {
            return Err(RdbError::BadFormat);
        }
        Ok(n as usize)
    }

    /// The bytes from `start` (an earlier `position`) up to here, as they are.
    pub fn since(&self, start: usize) -> &'a [u8] {
        &self.bytes[start.min(self.pos)..self.pos]
    }

    /// Steps over a string in any RDB string encoding without decoding it (no LZF work).
    pub fn skip_string(&mut self) -> Result<(), RdbError> {
        match self.length_field()? {
            Length::Plain(n) => {
                let n = usize::try_from(n).map_err(|_| RdbError::BadFormat)?;
                self.take(n)?;
            }
            Length::Encoded(ENC_INT8) => {
                self.take(1)?;
            }
            Length::Encoded(ENC_INT16) => {
                self.take(2)?;
            }
            Length::Encoded(ENC_INT32) => {
                self.take(4)?;
            }
            Length::Encoded(ENC_LZF) => {
                let compressed_len = self.length()?;
                self.length()?;
                let n = usize::try_from(compressed_len).map_err(|_| RdbError::BadFormat)?;
                self.take(n)?;
            }
            Length::Encoded(_) => return Err(RdbError::BadFormat),
        }
        Ok(())
    }

    /// A string in any RDB string encoding, integers rendered as decimal.
    pub fn string(&mut self) -> Result<Vec<u8>, RdbError> {
        match self.length_field()? {
            Length::Plain(n) => {
                let n = usize::try_from(n).map_err(|_| RdbError::BadFormat)?;
                Ok(self.take(n)?.to_vec())
            }
            Length::Encoded(ENC_INT8) => Ok((self.u8()? as i8).to_string().into_bytes()),
            Length::Encoded(ENC_INT16) => {
                Ok(i16::from_le_bytes(self.array()?).to_string().into_bytes())
            }
            Length::Encoded(ENC_INT32) => {
                Ok(i32::from_le_bytes(self.array()?).to_string().into_bytes())
            }
            Length::Encoded(ENC_LZF) => {
                let compressed_len = self.length()?;
                let plain_len = self.length()?;
                let compressed_len =
                    usize::try_from(compressed_len).map_err(|_| RdbError::BadFormat)?;
                let compressed = self.take(compressed_len)?;
                // liblzf expands at most ~ 264/2 per input byte; anything beyond is a lie.
                if plain_len > (compressed_len as u64).saturating_mul(140) + 64 {
                    return Err(RdbError::BadFormat);
                }
                lzf::decompress(compressed, plain_len as usize).ok_or(RdbError::BadFormat)
            }
            Length::Encoded(_) => Err(RdbError::BadFormat),
        }
    }
}

/// Writes a length in the shortest RDB form.
pub fn write_length(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// The value of `bytes` when it is a canonical decimal integer (what Redis's string2ll accepts
/// and ll2string renders back identically).
pub fn canonical_int(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 20 {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let value: i64 = text.parse().ok()?;
    (value.to_string().as_bytes() == bytes).then_some(value)
}

/// Writes a string the way Redis does: INT encodings for short canonical integers, LZF for
/// long compressible strings, else length + bytes.
pub fn write_string(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() <= 11 {
        if let Some(v) = canonical_int(bytes) {
            if let Ok(v) = i8::try_from(v) {
                out.extend_from_slice(&[0xc0 | ENC_INT8, v as u8]);
                return;
            }
            if let Ok(v) = i16::try_from(v) {
                out.push(0xc0 | ENC_INT16);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            }
            if let Ok(v) = i32::try_from(v) {
                out.push(0xc0 | ENC_INT32);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            }
        }
    }
    if bytes.len() > LZF_MIN_LEN {
        if let Some(packed) = lzf::compress(bytes) {
            out.push(0xc0 | ENC_LZF);
            write_length(out, packed.len() as u64);
            write_length(out, bytes.len() as u64);
            out.extend_from_slice(&packed);
            return;
        }
    }
    write_length(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lengths_use_all_forms() {
        for (n, len) in [(5u64, 1), (300, 2), (70000, 5), (1 << 40, 9)] {
            let mut out = Vec::new();
            write_length(&mut out, n);
            assert_eq!(out.len(), len);
            assert_eq!(Reader::new(&out).length().unwrap(), n);
        }
    }

    #[test]
    fn canonical_ints_only() {
        assert_eq!(canonical_int(b"-5"), Some(-5));
        assert_eq!(canonical_int(b"007"), None);
        assert_eq!(canonical_int(b"+1"), None);
        assert_eq!(canonical_int(b"-0"), None);
        assert_eq!(canonical_int(b""), None);
    }

    #[test]
    fn skip_string_ends_where_string_ends() {
        let long = vec![b'z'; 300];
        for s in [&b"12"[..], b"-3000", b"70000", b"plain", &long[..]] {
            let mut out = Vec::new();
            write_string(&mut out, s);
            out.push(0xee);
            let mut r = Reader::new(&out);
            r.skip_string().unwrap();
            assert_eq!(r.since(0).len(), out.len() - 1);
            assert_eq!(r.u8().unwrap(), 0xee);
        }
    }

    #[test]
    fn truncated_input_is_bad_format() {
        assert_eq!(
            Reader::new(&[0x05, b'a']).string(),
            Err(RdbError::BadFormat)
        );
        assert_eq!(Reader::new(&[0xc1, 1]).string(), Err(RdbError::BadFormat));
        assert_eq!(Reader::new(&[0xc4]).string(), Err(RdbError::BadFormat));
    }

    proptest! {
        #[test]
        fn strings_round_trip(s in proptest::collection::vec(prop_oneof![Just(b'7'), Just(b'-'), any::<u8>()], 0..200)) {
            let mut out = Vec::new();
            write_string(&mut out, &s);
            let mut r = Reader::new(&out);
            prop_assert_eq!(r.string().unwrap(), s);
            prop_assert!(r.is_empty());
        }

        #[test]
        fn int_strings_round_trip(v in any::<i64>()) {
            let s = v.to_string().into_bytes();
            let mut out = Vec::new();
            write_string(&mut out, &s);
            prop_assert_eq!(Reader::new(&out).string().unwrap(), s);
        }
    }
}
