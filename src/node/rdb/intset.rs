//! Intset blobs (RDB type 11): sorted little-endian integers of one width (2, 4 or 8 bytes).

use super::RdbError;

/// The members of an intset blob as decimal strings; rejects a bad width or length.
pub fn read(blob: &[u8]) -> Result<Vec<Vec<u8>>, RdbError> {
    if blob.len() < 8 {
        return Err(RdbError::BadFormat);
    }
    let width = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    let count = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    if !matches!(width, 2 | 4 | 8) || count.checked_mul(width) != Some(blob.len() - 8) {
        return Err(RdbError::BadFormat);
    }
    Ok(blob[8..]
        .chunks_exact(width)
        .map(|c| {
            let v = match width {
                2 => i16::from_le_bytes([c[0], c[1]]) as i64,
                4 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64,
                _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
            };
            v.to_string().into_bytes()
        })
        .collect())
}

/// An intset holding `values` (any order, no duplicates), at the smallest width that fits.
pub fn write(values: &[i64]) -> Vec<u8> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let width: usize = if sorted.iter().all(|v| i16::try_from(*v).is_ok()) {
        2
    } else if sorted.iter().all(|v| i32::try_from(*v).is_ok()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + width * sorted.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for v in sorted {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_widths() {
        for values in [vec![1, -7, 3], vec![70000, 1], vec![i64::MIN, 5]] {
            let blob = write(&values);
            let mut want: Vec<i64> = values.clone();
            want.sort();
            let got: Vec<i64> = read(&blob)
                .unwrap()
                .iter()
                .map(|b| std::str::from_utf8(b).unwrap().parse().unwrap())
                .collect();
            assert_eq!(got, want);
        }
        assert_eq!(
            u32::from_le_bytes(write(&[70000])[0..4].try_into().unwrap()),
            4
        );
    }

    #[test]
    fn rejects_bad_width_and_length() {
        assert!(read(&[3, 0, 0, 0, 1, 0, 0, 0, 1, 2, 3]).is_err());
        assert!(read(&[2, 0, 0, 0, 2, 0, 0, 0, 1, 0]).is_err());
    }
}
