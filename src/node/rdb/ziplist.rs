//! Ziplist blobs (RDB types 10, 12, 13, 14 from Redis <= 6.2): read-only, since trib-node never
//! emits them. Yields each entry as bytes, integers rendered as decimal.

use super::RdbError;

const HEADER_LEN: usize = 10;
const END: u8 = 0xff;

fn get(blob: &[u8], range: std::ops::Range<usize>) -> Result<&[u8], RdbError> {
    blob.get(range).ok_or(RdbError::BadFormat)
}

fn le(bytes: &[u8]) -> u64 {
    bytes.iter().rev().fold(0u64, |acc, &b| acc << 8 | b as u64)
}

fn sign_extend(value: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((value << shift) as i64) >> shift
}

/// Every entry of a ziplist blob, in order.
pub fn read(blob: &[u8]) -> Result<Vec<Vec<u8>>, RdbError> {
    if blob.len() < HEADER_LEN + 1 || le(&blob[0..4]) as usize != blob.len() {
        return Err(RdbError::BadFormat);
    }
    let mut entries = Vec::new();
    let mut pos = HEADER_LEN;
    loop {
        let first = *blob.get(pos).ok_or(RdbError::BadFormat)?;
        if first == END {
            break;
        }
        pos += if first == 0xfe { 5 } else { 1 };
        let enc = *blob.get(pos).ok_or(RdbError::BadFormat)?;
        let (entry, size) = match enc >> 6 {
            0 => {
                let len = (enc & 0x3f) as usize;
                (get(blob, pos + 1..pos + 1 + len)?.to_vec(), 1 + len)
            }
            1 => {
                let len = ((enc & 0x3f) as usize) << 8 | get(blob, pos + 1..pos + 2)?[0] as usize;
                (get(blob, pos + 2..pos + 2 + len)?.to_vec(), 2 + len)
            }
            2 => {
                let b = get(blob, pos + 1..pos + 5)?;
                let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
                (get(blob, pos + 5..pos + 5 + len)?.to_vec(), 5 + len)
            }
            _ => {
                let (width, immediate) = match enc {
                    0xc0 => (2, None),
                    0xd0 => (4, None),
                    0xe0 => (8, None),
                    0xf0 => (3, None),
                    0xfe => (1, None),
                    0xf1..=0xfd => (0, Some((enc & 0x0f) as i64 - 1)),
                    _ => return Err(RdbError::BadFormat),
                };
                let v = match immediate {
                    Some(v) => v,
                    None => sign_extend(le(get(blob, pos + 1..pos + 1 + width)?), width as u32 * 8),
                };
                (v.to_string().into_bytes(), 1 + width)
            }
        };
        pos += size;
        entries.push(entry);
    }
    Ok(entries)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// Builds a ziplist the way Redis <= 6.2 did, for tests of the legacy RDB types.
    pub fn build(entries: &[&[u8]]) -> Vec<u8> {
        let mut out = vec![0u8; HEADER_LEN];
        let mut prev = 0usize;
        for e in entries {
            let start = out.len();
            if prev < 254 {
                out.push(prev as u8);
            } else {
                out.push(0xfe);
                out.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            match std::str::from_utf8(e)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
            {
                Some(v @ 0..=12) => out.push(0xf1 + v as u8),
                Some(v) if i8::try_from(v).is_ok() => out.extend_from_slice(&[0xfe, v as u8]),
                Some(v) if i16::try_from(v).is_ok() => {
                    out.push(0xc0);
                    out.extend_from_slice(&(v as i16).to_le_bytes());
                }
                Some(v) if i32::try_from(v).is_ok() => {
                    out.push(0xd0);
                    out.extend_from_slice(&(v as i32).to_le_bytes());
                }
                Some(v) => {
                    out.push(0xe0);
                    out.extend_from_slice(&v.to_le_bytes());
                }
                None if e.len() < 64 => {
                    out.push(e.len() as u8);
                    out.extend_from_slice(e);
                }
                None => {
                    out.extend_from_slice(&[0x40 | (e.len() >> 8) as u8, e.len() as u8]);
                    out.extend_from_slice(e);
                }
            }
            prev = out.len() - start;
        }
        out.push(END);
        let total = out.len() as u32;
        out[0..4].copy_from_slice(&total.to_le_bytes());
        out[8..10].copy_from_slice(&(entries.len() as u16).to_le_bytes());
        out
    }

    #[test]
    fn reads_every_encoding() {
        let long = vec![b'q'; 300];
        let entries: Vec<&[u8]> = vec![
            b"a",
            b"7",
            b"-100",
            b"30000",
            b"100000",
            b"9000000000",
            &long,
            b"x",
        ];
        let got = read(&build(&entries)).unwrap();
        let want: Vec<Vec<u8>> = entries.iter().map(|e| e.to_vec()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn int24_and_garbage() {
        let mut blob = vec![0u8; HEADER_LEN];
        blob.extend_from_slice(&[0, 0xf0, 0xff, 0xff, 0x7f, 0xff]);
        let total = blob.len() as u32;
        blob[0..4].copy_from_slice(&total.to_le_bytes());
        assert_eq!(read(&blob).unwrap(), vec![b"8388607".to_vec()]);
        assert!(read(&blob[..blob.len() - 1]).is_err());
    }
}
