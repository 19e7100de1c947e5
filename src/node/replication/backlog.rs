//! The replication backlog: a bounded ring of the most recent stream bytes with the offset of
//! its first byte, from which a reconnecting replica's partial resync (`+CONTINUE`) is served.
//! Offsets are Redis's: the stream's n-th byte ever has offset n (so the first is 1).

use std::collections::VecDeque;

#[derive(Debug)]
pub struct Backlog {
    bytes: VecDeque<u8>,
    capacity: usize,
    /// Offset of `bytes[0]`; when empty, of the next byte to come.
    first: u64,
}

impl Backlog {
    /// An empty backlog whose next byte will have offset `next`.
    pub fn new(capacity: usize, next: u64) -> Backlog {
        Backlog {
            bytes: VecDeque::new(),
            capacity: capacity.max(16 * 1024),
            first: next,
        }
    }

    pub fn push(&mut self, data: &[u8]) {
        self.bytes.extend(data);
        let excess = self.bytes.len().saturating_sub(self.capacity);
        if excess > 0 {
            self.bytes.drain(..excess);
            self.first += excess as u64;
        }
    }

    /// `repl_backlog_first_byte_offset`.
    pub fn first_byte(&self) -> u64 {
        self.first
    }
    /// `repl_backlog_histlen`.
    pub fn histlen(&self) -> u64 {
        self.bytes.len() as u64
    }
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    pub fn resize(&mut self, capacity: usize) {
        self.capacity = capacity.max(16 * 1024);
        self.push(&[]);
    }

    /// Every byte from offset `from` on, when the backlog still holds `from` (or `from` is
    /// the next byte to come: an empty tail).
    pub fn since(&self, from: u64) -> Option<Vec<u8>> {
        let end = self.first + self.histlen();
        if from < self.first || from > end {
            return None;
        }
        let skip = (from - self.first) as usize;
        Some(self.bytes.iter().skip(skip).copied().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_tails_it_still_holds() {
        let mut b = Backlog::new(16 * 1024, 1);
        b.push(b"hello");
        assert_eq!(b.since(1).unwrap(), b"hello");
        assert_eq!(b.since(4).unwrap(), b"lo");
        assert_eq!(b.since(6).unwrap(), b"");
        assert!(b.since(7).is_none());
        assert!(b.since(0).is_none());
    }

    #[test]
    fn forgets_the_oldest_bytes_beyond_capacity() {
        let mut b = Backlog::new(16 * 1024, 101);
        b.push(&vec![b'a'; 16 * 1024]);
        b.push(b"xyz");
        assert_eq!(b.first_byte(), 104);
        assert_eq!(b.histlen(), 16 * 1024);
        assert!(b.since(103).is_none());
        assert!(b.since(104).is_some());
        assert!(b.since(101 + 16 * 1024).unwrap().ends_with(b"xyz"));
    }
}
