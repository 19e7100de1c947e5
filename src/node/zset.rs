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

/// One end of a score range (`ZRANGEBYSCORE`, `ZCOUNT`...): `1.5`, `(1.5`, `-inf`, `+inf`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreBound {
    pub value: f64,
    pub exclusive: bool,
}

impl ScoreBound {
    /// Parses a bound; `None` means Redis's `min or max is not a float`.
    pub fn parse(bytes: &[u8]) -> Option<ScoreBound> {
        let (exclusive, rest) = match bytes.first() {
            Some(b'(') => (true, &bytes[1..]),
            _ => (false, bytes),
        };
        parse_score(rest).map(|value| ScoreBound { value, exclusive })
    }
    fn admits_above(&self, score: f64) -> bool {
        if self.exclusive {
            score > self.value
        } else {
            score >= self.value
        }
    }
    fn admits_below(&self, score: f64) -> bool {
        if self.exclusive {
            score < self.value
        } else {
            score <= self.value
        }
    }
}

/// One end of a lexicographic range (`ZRANGEBYLEX`): `-`, `+`, `[member`, `(member`.
#[derive(Debug, Clone, PartialEq)]
pub enum LexBound {
    Min,
    Max,
    Inclusive(Bytes),
    Exclusive(Bytes),
}

impl LexBound {
    /// Parses a bound; `None` means Redis's `min or max not valid string range item`.
    pub fn parse(bytes: &[u8]) -> Option<LexBound> {
        match bytes.first()? {
            b'-' if bytes.len() == 1 => Some(LexBound::Min),
            b'+' if bytes.len() == 1 => Some(LexBound::Max),
            b'[' => Some(LexBound::Inclusive(Bytes::copy_from_slice(&bytes[1..]))),
            b'(' => Some(LexBound::Exclusive(Bytes::copy_from_slice(&bytes[1..]))),
            _ => None,
        }
    }
    fn admits_above(&self, m: &[u8]) -> bool {
        match self {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Inclusive(b) => m >= b.as_ref(),
            LexBound::Exclusive(b) => m > b.as_ref(),
        }
    }
    fn admits_below(&self, m: &[u8]) -> bool {
        match self {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Inclusive(b) => m <= b.as_ref(),
            LexBound::Exclusive(b) => m < b.as_ref(),
        }
    }
}

impl SortedSet {
    /// 0-based position of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        let key = (Score(score), Bytes::copy_from_slice(member));
        Some(self.ordered.range(..key).count())
    }

    /// Members whose score lies in `[min, max]` (bounds may be exclusive), ascending.
    pub fn by_score(&self, min: ScoreBound, max: ScoreBound) -> Vec<(Bytes, f64)> {
        if min.value > max.value {
            return Vec::new();
        }
        self.ordered
            .range((Score(min.value), Bytes::new())..)
            .skip_while(|(s, _)| !min.admits_above(s.0))
            .take_while(|(s, _)| max.admits_below(s.0))
            .map(|(s, m)| (m.clone(), s.0))
            .collect()
    }

    /// Members between two lexicographic bounds, as Redis walks them (meaningful when all
    /// scores are equal): from the first member, in score order, at or above `min`, while
    /// members stay at or below `max`. `rev` walks from the last member at or below `max`
    /// downwards while members stay at or above `min`.
    pub fn by_lex(&self, min: &LexBound, max: &LexBound, rev: bool) -> Vec<(Bytes, f64)> {
        let (Some(first), Some(last)) =
            (self.ordered.iter().next(), self.ordered.iter().next_back())
        else {
            return Vec::new();
        };
        if !min.admits_above(&last.1) || !max.admits_below(&first.1) {
            return Vec::new();
        }
        let pick = |(s, m): &(Score, Bytes)| (m.clone(), s.0);
        if rev {
            self.ordered
                .iter()
                .rev()
                .skip_while(|(_, m)| !max.admits_below(m))
                .take_while(|(_, m)| min.admits_above(m))
                .map(pick)
                .collect()
        } else {
            self.ordered
                .iter()
                .skip_while(|(_, m)| !min.admits_above(m))
                .take_while(|(_, m)| max.admits_below(m))
                .map(pick)
                .collect()
        }
    }

    /// Removes and returns up to `count` members from the low (or high) end.
    pub fn pop(&mut self, count: usize, highest: bool) -> Vec<(Bytes, f64)> {
        let mut out = Vec::with_capacity(count.min(self.len()));
        while out.len() < count {
            let first = if highest {
                self.ordered.iter().next_back().cloned()
            } else {
                self.ordered.iter().next().cloned()
            };
            let Some((s, m)) = first else { break };
            self.remove(&m);
            out.push((m, s.0));
        }
        out
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
mod range_tests {
    use super::*;

    fn sample() -> SortedSet {
        let mut z = SortedSet::new();
        for (m, s) in [("a", 1.0), ("b", 2.0), ("c", 2.0), ("d", 3.0)] {
            z.insert(Bytes::from(m), s);
        }
        z
    }

    #[test]
    fn score_ranges_respect_exclusive_bounds() {
        let z = sample();
        let names = |v: Vec<(Bytes, f64)>| v.into_iter().map(|(m, _)| m).collect::<Vec<_>>();
        let b = |s: &str| ScoreBound::parse(s.as_bytes()).unwrap();
        assert_eq!(names(z.by_score(b("2"), b("3"))), ["b", "c", "d"]);
        assert_eq!(names(z.by_score(b("(1"), b("(3"))), ["b", "c"]);
        assert_eq!(names(z.by_score(b("-inf"), b("+inf"))).len(), 4);
        assert!(z.by_score(b("3"), b("1")).is_empty());
        assert!(ScoreBound::parse(b"(x").is_none());
    }

    #[test]
    fn ranks_lex_and_pop() {
        let mut z = sample();
        assert_eq!(z.rank(b"c"), Some(2));
        assert_eq!(z.rank(b"zz"), None);
        let lex = z.by_lex(
            &LexBound::parse(b"[b").unwrap(),
            &LexBound::parse(b"(d").unwrap(),
            false,
        );
        assert_eq!(lex.len(), 2);
        assert!(LexBound::parse(b"b").is_none());
        let popped = z.pop(2, true);
        assert_eq!(popped[0].0, "d");
        assert_eq!(z.len(), 2);
    }
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
