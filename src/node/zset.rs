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
