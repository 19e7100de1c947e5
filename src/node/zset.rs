//! A sorted set: members with f64 scores, ordered by (score, member) as Redis orders them.
//! Pure data structure; the ZSET commands live in the command table.

use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;

/// An f64 with the total order Redis uses for scores (no NaN is ever stored).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score(pub f64);

impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SortedSet {
    pub scores: HashMap<Bytes, f64>,
    pub ordered: BTreeSet<(Score, Bytes)>,
}

impl SortedSet {
    pub fn new() -> SortedSet {
        SortedSet::default()
    }
    pub fn len(&self) -> usize {
        self.scores.len()
    }
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }
    /// Inserts or updates; returns true when the member is new.
    pub fn insert(&mut self, member: Bytes, score: f64) -> bool {
        match self.scores.insert(member.clone(), score) {
            Some(old) => {
                self.ordered.remove(&(Score(old), member.clone()));
                self.ordered.insert((Score(score), member));
                false
            }
            None => {
                self.ordered.insert((Score(score), member));
                true
            }
        }
    }
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.scores.remove_entry(member) {
            Some((m, s)) => {
                self.ordered.remove(&(Score(s), m));
                true
            }
            None => false,
        }
    }
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.scores.get(member).copied()
    }
    /// Members ascending by (score, member).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Bytes, f64)> {
        self.ordered.iter().map(|(s, m)| (m, s.0))
    }
}

/// A score as Redis 7.0 prints it (`%.17g`; `inf`/`-inf`; `-0`): ZSCORE replies, WITHSCORES,
/// and the listpack form inside DUMP payloads.
pub fn format_score(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    if v.is_nan() {
        return "nan".to_string();
    }
    const PRECISION: i32 = 17;
    let sci = format!("{:.*e}", (PRECISION - 1) as usize, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..PRECISION).contains(&exp) {
        let mantissa = trim_fraction_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        let fixed = format!("{:.*}", (PRECISION - 1 - exp) as usize, v);
        trim_fraction_zeros(&fixed).to_string()
    }
}

fn trim_fraction_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Parses a score the way Redis's strtod-based parser accepts it (`inf`, `+inf`, `-inf`,
/// decimal and exponent forms); `None` for NaN, blanks or trailing garbage.
pub fn parse_score(bytes: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(bytes).ok()?;
    if text.is_empty() || text.starts_with(char::is_whitespace) {
        return None;
    }
    let v: f64 = text.parse().ok()?;
    (!v.is_nan()).then_some(v)
}

#[cfg(test)]
mod score_tests {
    use super::*;

    #[test]
    fn formats_like_printf_17g() {
        for (v, want) in [
            (1.0, "1"),
            (2.5, "2.5"),
            (-3.0, "-3"),
            (0.1, "0.10000000000000001"),
            (1e17, "1e+17"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1e-5, "1.0000000000000001e-05"),
            (0.0001, "0.0001"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (-0.0, "-0"),
            (4503599627370496.0, "4503599627370496"),
        ] {
            assert_eq!(format_score(v), want, "{v}");
        }
    }

    #[test]
    fn parses_redis_forms() {
        assert_eq!(parse_score(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"1e3"), Some(1000.0));
        assert_eq!(parse_score(b"nan"), None);
        assert_eq!(parse_score(b" 1"), None);
        assert_eq!(parse_score(b"1x"), None);
    }
}
