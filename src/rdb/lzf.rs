//! LZF (liblzf) compression as RDB uses it for long strings: a decoder that accepts anything
//! liblzf emits, and a small greedy encoder whose output liblzf decodes. No framing here.

/// Decompresses `input` into exactly `expected_len` bytes; `None` when the data is malformed
/// or does not produce exactly that many bytes.
pub fn decompress(input: &[u8], expected_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(expected_len);
    let mut i = 0;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let literal = input.get(i..i + run)?;
            if out.len() + run > expected_len {
                return None;
            }
            out.extend_from_slice(literal);
            i += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(i)? as usize;
                i += 1;
            }
            let low = *input.get(i)? as usize;
            i += 1;
            let distance = ((ctrl & 0x1f) << 8) + low + 1;
            let len = len + 2;
            if distance > out.len() || out.len() + len > expected_len {
                return None;
            }
            let start = out.len() - distance;
            // Byte by byte: a back reference may overlap the bytes it produces.
            for k in 0..len {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    (out.len() == expected_len).then_some(out)
}

const MAX_LITERAL: usize = 32;
const MAX_OFFSET: usize = 1 << 13;
const MAX_MATCH: usize = 264;
const HASH_BITS: u32 = 14;

fn hash3(bytes: &[u8]) -> usize {
    let v = (bytes[0] as u32) << 16 | (bytes[1] as u32) << 8 | bytes[2] as u32;
    (v.wrapping_mul(2654435761) >> (32 - HASH_BITS)) as usize
}

fn flush_literals(out: &mut Vec<u8>, literals: &[u8]) {
    for chunk in literals.chunks(MAX_LITERAL) {
        out.push((chunk.len() - 1) as u8);
        out.extend_from_slice(chunk);
    }
}

/// Compresses `input`; `None` when the result would not be smaller (Redis then stores the
/// string plainly).
pub fn compress(input: &[u8]) -> Option<Vec<u8>> {
    let n = input.len();
    let mut out = Vec::with_capacity(n);
    let mut table = vec![0usize; 1 << HASH_BITS];
    let mut literal_start = 0;
    let mut i = 0;
    while i + 2 < n {
        let h = hash3(&input[i..]);
        let candidate = table[h];
        table[h] = i + 1;
        if candidate > 0 {
            let r = candidate - 1;
            let offset = i - r - 1;
            if offset < MAX_OFFSET && input[r..r + 3] == input[i..i + 3] {
                let max_len = MAX_MATCH.min(n - i);
                let mut len = 3;
                while len < max_len && input[r + len] == input[i + len] {
                    len += 1;
                }
                flush_literals(&mut out, &input[literal_start..i]);
                let code = len - 2;
                if code < 7 {
                    out.push(((offset >> 8) | (code << 5)) as u8);
                } else {
                    out.push(((offset >> 8) | (7 << 5)) as u8);
                    out.push((code - 7) as u8);
                }
                out.push((offset & 0xff) as u8);
                i += len;
                literal_start = i;
                if out.len() >= n {
                    return None;
                }
                continue;
            }
        }
        i += 1;
    }
    flush_literals(&mut out, &input[literal_start..]);
    (out.len() < n).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_redis_output_for_100_a() {
        let data = [0x01, 0x61, 0x61, 0xe0, 0x57, 0x00, 0x01, 0x61, 0x61];
        assert_eq!(decompress(&data, 100).unwrap(), vec![b'a'; 100]);
    }

    #[test]
    fn rejects_wrong_length_and_bad_reference() {
        let data = [0x01, 0x61, 0x61, 0xe0, 0x57, 0x00, 0x01, 0x61, 0x61];
        assert!(decompress(&data, 99).is_none());
        assert!(decompress(&[0x20, 0x05], 10).is_none());
        assert!(decompress(&[0x05, 0x61], 6).is_none());
    }

    #[test]
    fn compresses_repetitive_data() {
        let data = vec![b'x'; 5000];
        let packed = compress(&data).unwrap();
        assert!(packed.len() < 100);
        assert_eq!(decompress(&packed, data.len()).unwrap(), data);
    }

    proptest! {
        #[test]
        fn round_trips(data in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..3000)) {
            if let Some(packed) = compress(&data) {
                prop_assert_eq!(decompress(&packed, data.len()).unwrap(), data);
            }
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200), len in 0usize..500) {
            let _ = decompress(&data, len);
        }
    }
}
