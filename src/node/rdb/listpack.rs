//! Listpack blobs (inside RDB types 16, 17, 18): a forward reader that yields each entry as
//! bytes (integers rendered as decimal) and a writer that picks Redis's entry encodings.

use super::encoding::canonical_int;
use super::RdbError;

const HEADER_LEN: usize = 6;
const TERMINATOR: u8 = 0xff;

/// Size of the backlen field that follows an entry whose encoding+data is `len` bytes.
fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

fn write_backlen(out: &mut Vec<u8>, len: usize) {
    let l = len as u64;
    match backlen_size(len) {
        1 => out.push(l as u8),
        2 => out.extend_from_slice(&[(l >> 7) as u8, (l & 127) as u8 | 128]),
        3 => out.extend_from_slice(&[
            (l >> 14) as u8,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]),
        4 => out.extend_from_slice(&[
            (l >> 21) as u8,
            ((l >> 14) & 127) as u8 | 128,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]),
        _ => out.extend_from_slice(&[
            (l >> 28) as u8,
            ((l >> 21) & 127) as u8 | 128,
            ((l >> 14) & 127) as u8 | 128,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]),
    }
}

fn get(blob: &[u8], range: std::ops::Range<usize>) -> Result<&[u8], RdbError> {
    blob.get(range).ok_or(RdbError::BadFormat)
}

fn sign_extend(value: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((value << shift) as i64) >> shift
}

fn le(bytes: &[u8]) -> u64 {
    bytes.iter().rev().fold(0u64, |acc, &b| acc << 8 | b as u64)
}

/// Every entry of a listpack blob, in order. Validates the header size and the terminator.
pub fn read(blob: &[u8]) -> Result<Vec<Vec<u8>>, RdbError> {
    if blob.len() < HEADER_LEN + 1 {
        return Err(RdbError::BadFormat);
    }
    let total = le(&blob[0..4]) as usize;
    if total != blob.len() {
        return Err(RdbError::BadFormat);
    }
    let mut entries = Vec::new();
    let mut pos = HEADER_LEN;
    loop {
        let first = *blob.get(pos).ok_or(RdbError::BadFormat)?;
        if first == TERMINATOR {
            break;
        }
        let (entry, size) = if first & 0x80 == 0 {
            ((first as i64).to_string().into_bytes(), 1)
        } else if first & 0xc0 == 0x80 {
            let len = (first & 0x3f) as usize;
            (get(blob, pos + 1..pos + 1 + len)?.to_vec(), 1 + len)
        } else if first & 0xe0 == 0xc0 {
            let raw = ((first & 0x1f) as u64) << 8
                | *get(blob, pos + 1..pos + 2)?.first().unwrap() as u64;
            (sign_extend(raw, 13).to_string().into_bytes(), 2)
        } else if first & 0xf0 == 0xe0 {
            let len = ((first & 0x0f) as usize) << 8 | get(blob, pos + 1..pos + 2)?[0] as usize;
            (get(blob, pos + 2..pos + 2 + len)?.to_vec(), 2 + len)
        } else {
            let int_width = match first {
                0xf0 => 0,
                0xf1 => 2,
                0xf2 => 3,
                0xf3 => 4,
                0xf4 => 8,
                _ => return Err(RdbError::BadFormat),
            };
            if first == 0xf0 {
                let len = le(get(blob, pos + 1..pos + 5)?) as usize;
                (get(blob, pos + 5..pos + 5 + len)?.to_vec(), 5 + len)
            } else {
                let raw = le(get(blob, pos + 1..pos + 1 + int_width)?);
                let v = sign_extend(raw, int_width as u32 * 8);
                (v.to_string().into_bytes(), 1 + int_width)
            }
        };
        pos += size + backlen_size(size);
        entries.push(entry);
    }
    if pos + 1 != blob.len() {
        return Err(RdbError::BadFormat);
    }
    Ok(entries)
}

/// Encoded size of one entry (encoding + data + backlen), for callers that split into nodes.
pub fn entry_size(element: &[u8]) -> usize {
    let mut tmp = Vec::new();
    push_entry(&mut tmp, element);
    tmp.len()
}

fn push_entry(out: &mut Vec<u8>, element: &[u8]) {
    let start = out.len();
    match canonical_int(element) {
        Some(v) if (0..=127).contains(&v) => out.push(v as u8),
        Some(v) if (-4096..=4095).contains(&v) => {
            let u = (v as u64) & 0x1fff;
            out.extend_from_slice(&[0xc0 | (u >> 8) as u8, u as u8]);
        }
        Some(v) if i16::try_from(v).is_ok() => {
            out.push(0xf1);
            out.extend_from_slice(&(v as i16).to_le_bytes());
        }
        Some(v) if (-(1 << 23)..(1 << 23)).contains(&v) => {
            out.push(0xf2);
            out.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        }
        Some(v) if i32::try_from(v).is_ok() => {
            out.push(0xf3);
            out.extend_from_slice(&(v as i32).to_le_bytes());
        }
        Some(v) => {
            out.push(0xf4);
            out.extend_from_slice(&v.to_le_bytes());
        }
        None => {
            let len = element.len();
            if len < 64 {
                out.push(0x80 | len as u8);
            } else if len < 4096 {
                out.extend_from_slice(&[0xe0 | (len >> 8) as u8, len as u8]);
            } else {
                out.push(0xf0);
                out.extend_from_slice(&(len as u32).to_le_bytes());
            }
            out.extend_from_slice(element);
        }
    }
    let size = out.len() - start;
    write_backlen(out, size);
}

/// A listpack holding `elements` in order.
pub fn write<'a>(elements: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = vec![0u8; HEADER_LEN];
    let mut count = 0usize;
    for element in elements {
        push_entry(&mut out, element);
        count += 1;
    }
    out.push(TERMINATOR);
    let total = out.len() as u32;
    out[0..4].copy_from_slice(&total.to_le_bytes());
    out[4..6].copy_from_slice(&(count.min(65535) as u16).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_redis_list_small() {
        let blob = [
            0x12, 0, 0, 0, 4, 0, 0x81, b'a', 2, 0x81, b'b', 2, 0x81, b'c', 2, 0x2a, 1, 0xff,
        ];
        let got = read(&blob).unwrap();
        assert_eq!(
            got,
            vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec(), b"42".to_vec()]
        );
        // Redis would write exactly these bytes.
        let elements: Vec<&[u8]> = vec![b"a", b"b", b"c", b"42"];
        assert_eq!(write(elements), blob.to_vec());
    }

    #[test]
    fn thirteen_bit_negative() {
        let elements: Vec<&[u8]> = vec![b"-3"];
        let blob = write(elements);
        assert_eq!(&blob[6..8], &[0xdf, 0xfd]);
        assert_eq!(read(&blob).unwrap(), vec![b"-3".to_vec()]);
    }

    #[test]
    fn rejects_bad_total_and_truncation() {
        let elements: Vec<&[u8]> = vec![b"abc"];
        let mut blob = write(elements);
        blob[0] += 1;
        assert!(read(&blob).is_err());
        assert!(read(&[7, 0, 0, 0, 1, 0, 0x85]).is_err());
    }

    proptest! {
        #[test]
        fn round_trips(elements in proptest::collection::vec(prop_oneof![
            any::<i64>().prop_map(|v| v.to_string().into_bytes()),
            (-5000i64..5000).prop_map(|v| v.to_string().into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..5000),
        ], 0..20)) {
            let blob = write(elements.iter().map(|e| e.as_slice()));
            prop_assert_eq!(read(&blob).unwrap(), elements);
        }

        #[test]
        fn garbage_never_panics(blob in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = read(&blob);
        }
    }
}
