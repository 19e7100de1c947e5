//! Hash slots: the `Slot` newtype, ranges and sets of slots, and `key_slot` (CRC16/XMODEM of the
//! key or its `{hash tag}`, mod 16384). Shared by the CLI and the node; no I/O here.

use std::fmt;
use std::sync::Arc;

/// Number of hash slots in a Redis Cluster.
pub const SLOT_COUNT: u16 = 16384;

/// A hash slot, always in `0..16384`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Slot(u16);

impl Slot {
    pub fn new(n: u16) -> Option<Slot> {
        (n < SLOT_COUNT).then_some(Slot(n))
    }
    pub fn get(self) -> u16 {
        self.0
    }
    pub fn index(self) -> usize {
        self.0 as usize
    }
    /// Parses a slot the way Redis does for CLUSTER subcommands: a decimal integer in range.
    pub fn parse(s: &[u8]) -> Option<Slot> {
        let s = std::str::from_utf8(s).ok()?;
        let n: i64 = s.parse().ok()?;
        u16::try_from(n).ok().and_then(Slot::new)
    }
    pub fn all() -> impl Iterator<Item = Slot> {
        (0..SLOT_COUNT).map(Slot)
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The part of a key that is hashed: the bytes between the first `{` and the first `}` after it,
/// when that is non-empty; otherwise the whole key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&b| b == b'}') {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

/// The slot a key belongs to.
pub fn key_slot(key: &[u8]) -> Slot {
    Slot(crc16(hash_tag(key)) & (SLOT_COUNT - 1))
}

/// CRC16/XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster hashes keys with,
/// a table lookup per byte (`check` hashes every key of every small master).
pub fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |crc, &b| {
        (crc << 8) ^ CRC16_TABLE[usize::from((crc >> 8) as u8 ^ b)]
    })
}

const CRC16_TABLE: [u16; 256] = crc16_table();

const fn crc16_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// An inclusive run of slots `start..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SlotRange {
    pub start: Slot,
    pub end: Slot,
}

impl SlotRange {
    pub fn len(&self) -> usize {
        self.end.index() - self.start.index() + 1
    }
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl fmt::Display for SlotRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

/// A set of slots as a bitmap; iterates ascending. An empty set allocates nothing (a 30-node
/// `check` parses ~900 CLUSTER NODES lines, half of them replicas owning no slot), and clones
/// share the bitmap until one of them changes (the same masters' slots appear in every node's
/// table).
#[derive(Clone, Default)]
pub struct SlotSet {
    bits: Option<Arc<[u64; 256]>>,
}

static NO_SLOTS: [u64; 256] = [0; 256];

impl PartialEq for SlotSet {
    fn eq(&self, other: &SlotSet) -> bool {
        if let (Some(a), Some(b)) = (&self.bits, &other.bits) {
            if Arc::ptr_eq(a, b) {
                return true;
            }
        }
        self.words() == other.words()
    }
}

impl Eq for SlotSet {}

impl fmt::Debug for SlotSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SlotSet({})", self.ranges_string())
    }
}

impl SlotSet {
    pub fn new() -> SlotSet {
        SlotSet::default()
    }
    pub fn full() -> SlotSet {
        SlotSet::from_words([u64::MAX; 256])
    }
    fn bits_mut(&mut self) -> &mut [u64; 256] {
        Arc::make_mut(self.bits.get_or_insert_with(|| Arc::new([0; 256])))
    }
    pub fn insert(&mut self, slot: Slot) -> bool {
        let (w, b) = (slot.index() / 64, slot.index() % 64);
        let bits = self.bits_mut();
        let was = bits[w] & (1 << b) != 0;
        bits[w] |= 1 << b;
        !was
    }
    pub fn remove(&mut self, slot: Slot) -> bool {
        if !self.contains(slot) {
            return false;
        }
        let (w, b) = (slot.index() / 64, slot.index() % 64);
        self.bits_mut()[w] &= !(1 << b);
        true
    }
    pub fn contains(&self, slot: Slot) -> bool {
        self.words()[slot.index() / 64] & (1 << (slot.index() % 64)) != 0
    }
    pub fn len(&self) -> usize {
        self.words().iter().map(|w| w.count_ones() as usize).sum()
    }
    pub fn is_empty(&self) -> bool {
        // A set that never had a slot has no bitmap (every replica line of every table).
        self.bits
            .as_deref()
            .is_none_or(|bits| bits.iter().all(|&w| w == 0))
    }
    /// Adds every slot of `other`, a word at a time.
    pub fn union_with(&mut self, other: &SlotSet) {
        if other.bits.is_none() {
            return;
        }
        if self.bits.is_none() {
            self.bits = other.bits.clone();
            return;
        }
        for (mine, theirs) in self.bits_mut().iter_mut().zip(other.words()) {
            *mine |= theirs;
        }
    }
    /// The slots not in the set.
    pub fn complement(&self) -> SlotSet {
        let mut words = [0u64; 256];
        for (out, w) in words.iter_mut().zip(self.words()) {
            *out = !w;
        }
        SlotSet::from_words(words)
    }
    pub fn iter(&self) -> impl Iterator<Item = Slot> + '_ {
        Slot::all().filter(move |s| self.contains(*s))
    }
    /// The bitmap as 256 words, slot `s` at bit `s % 64` of word `s / 64` (fast bulk access
    /// for the cluster bus bitmap and set comparisons).
    pub fn words(&self) -> &[u64; 256] {
        self.bits.as_deref().unwrap_or(&NO_SLOTS)
    }
    pub fn from_words(words: [u64; 256]) -> SlotSet {
        SlotSet {
            bits: Some(Arc::new(words)),
        }
    }
    /// Slots of the set, ascending, skipping empty words.
    pub fn iter_fast(&self) -> impl Iterator<Item = Slot> + '_ {
        self.words().iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let b = rest.trailing_zeros();
                rest &= rest - 1;
                Some(Slot((w * 64) as u16 + b as u16))
            })
        })
    }
    pub fn insert_range(&mut self, range: SlotRange) {
        // Whole words at a time: a check parses ~900 CLUSTER NODES lines of ~1000-slot ranges,
        // and setting them bit by bit was the biggest user-space cost of a 30-node `trib check`.
        let (first, last) = (range.start.index(), range.end.index());
        if first > last {
            return;
        }
        let words = self.bits_mut().iter_mut().enumerate();
        for (w, word) in words.take(last / 64 + 1).skip(first / 64) {
            let lo = if w == first / 64 { first % 64 } else { 0 };
            let hi = if w == last / 64 { last % 64 } else { 63 };
            *word |= (u64::MAX >> (63 - hi)) & (u64::MAX << lo);
        }
    }
    /// Maximal ascending runs, as CLUSTER NODES prints them. Reads whole words: a master's
    /// thousand-slot range costs a few steps, not a thousand (check and info render every
    /// master's ranges).
    pub fn ranges(&self) -> Vec<SlotRange> {
        let mut out: Vec<SlotRange> = Vec::new();
        let mut run_start: Option<usize> = None;
        for (w, &word) in self.words().iter().enumerate() {
            let mut bit = 0u32;
            while bit < 64 {
                let rest = word >> bit;
                match run_start {
                    Some(start) => {
                        // ones from `bit` on; the zeros shifted in stop the count
                        bit += (!rest).trailing_zeros();
                        if bit < 64 {
                            out.push(run(start, w * 64 + bit as usize - 1));
                            run_start = None;
                        }
                    }
                    None if rest == 0 => break,
                    None => {
                        bit += rest.trailing_zeros();
                        run_start = Some(w * 64 + bit as usize);
                    }
                }
            }
        }
        if let Some(start) = run_start {
            out.push(run(start, usize::from(SLOT_COUNT) - 1));
        }
        out
    }
    /// `0-5460 5462` style, space separated.
    pub fn ranges_string(&self) -> String {
        self.ranges()
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }
    /// `0-5460,5462` style, as redis-cli's check output uses.
    pub fn ranges_comma(&self) -> String {
        self.ranges()
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The run `start..=end` of slot indexes (both below `SLOTS`).
fn run(start: usize, end: usize) -> SlotRange {
    SlotRange {
        start: Slot(start as u16),
        end: Slot(end as u16),
    }
}

impl FromIterator<Slot> for SlotSet {
    fn from_iter<I: IntoIterator<Item = Slot>>(iter: I) -> Self {
        let mut s = SlotSet::new();
        for slot in iter {
            s.insert(slot);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_slots_from_the_spec() {
        assert_eq!(key_slot(b"foo").get(), 12182);
        assert_eq!(crc16(b"123456789"), 0x31c3, "Redis's crc16.c test vector");
        assert_eq!(key_slot(b"key:4").get(), 2724);
        assert_eq!(key_slot(b"{user1}.a").get(), 8106);
        assert_eq!(key_slot(b"{user1}.a"), key_slot(b"user1"));
        // empty tag hashes the whole key
        assert_eq!(
            key_slot(b"{}x"),
            Slot(crc16::State::<crc16::XMODEM>::calculate(b"{}x") & 16383)
        );
    }

    #[test]
    fn ranges_render_like_cluster_nodes() {
        let s: SlotSet = [0u16, 1, 2, 5, 7, 8]
            .iter()
            .map(|&n| Slot::new(n).unwrap())
            .collect();
        assert_eq!(s.ranges_string(), "0-2 5 7-8");
        assert_eq!(s.len(), 6);
        assert_eq!(SlotSet::full().len(), 16384);
        assert_eq!(SlotSet::full().ranges_string(), "0-16383");
        assert_eq!(SlotSet::new().ranges_string(), "");
        assert_eq!(Slot::parse(b"16384"), None);
        assert_eq!(Slot::parse(b"-1"), None);
        assert_eq!(Slot::parse(b"16383").map(Slot::get), Some(16383));
    }

    #[test]
    fn an_emptied_set_equals_a_new_one() {
        let mut s = SlotSet::new();
        assert!(s.is_empty() && s.words().iter().all(|&w| w == 0));
        assert!(!s.remove(Slot(5)) && !s.contains(Slot(5)));
        assert!(s.insert(Slot(5)) && s.contains(Slot(5)) && s.len() == 1);
        assert_ne!(s, SlotSet::new());
        assert!(s.remove(Slot(5)));
        assert_eq!(s, SlotSet::new());
        assert_eq!(SlotSet::from_words([0; 256]), SlotSet::default());
    }

    proptest! {
        #[test]
        fn crc16_matches_the_xmodem_reference(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(crc16(&bytes), crc16::State::<crc16::XMODEM>::calculate(&bytes));
        }

        #[test]
        fn ranges_cover_exactly_the_set(slots in proptest::collection::vec(0u16..16384, 0..200)) {
            let set: SlotSet = slots.iter().map(|&n| Slot::new(n).unwrap()).collect();
            let mut again = SlotSet::new();
            for r in set.ranges() { again.insert_range(r); }
            prop_assert_eq!(set, again);
        }

        #[test]
        fn ranges_are_the_maximal_runs(
            spans in proptest::collection::vec((0u16..16384, 0u16..300), 0..40),
        ) {
            let mut set = SlotSet::new();
            for &(start, len) in &spans {
                let end = (start + len).min(16383);
                set.insert_range(SlotRange { start: Slot(start), end: Slot(end) });
            }
            // the runs as a bit-by-bit walk finds them
            let mut slow: Vec<SlotRange> = Vec::new();
            for s in Slot::all().filter(|s| set.contains(*s)) {
                match slow.last_mut() {
                    Some(r) if r.end.get() + 1 == s.get() => r.end = s,
                    _ => slow.push(SlotRange { start: s, end: s }),
                }
            }
            prop_assert_eq!(set.ranges(), slow);
        }

        #[test]
        fn union_and_complement_match_slot_by_slot(
            a in proptest::collection::vec(0u16..16384, 0..100),
            b in proptest::collection::vec(0u16..16384, 0..100),
        ) {
            let sa: SlotSet = a.iter().map(|&n| Slot(n)).collect();
            let sb: SlotSet = b.iter().map(|&n| Slot(n)).collect();
            let shared = sb.clone();
            let mut union = sa.clone();
            union.union_with(&sb);
            let complement = sa.complement();
            for s in Slot::all() {
                prop_assert_eq!(union.contains(s), sa.contains(s) || sb.contains(s));
                prop_assert_eq!(complement.contains(s), !sa.contains(s));
            }
            prop_assert_eq!(union.is_empty(), a.is_empty() && b.is_empty());
            // the other set is not changed through a shared bitmap
            prop_assert_eq!(sb, shared);
        }

        #[test]
        fn insert_range_sets_exactly_the_range(a in 0u16..16384, b in 0u16..16384) {
            let (lo, hi) = (a.min(b), a.max(b));
            let mut fast = SlotSet::new();
            fast.insert_range(SlotRange { start: Slot(lo), end: Slot(hi) });
            let mut slow = SlotSet::new();
            for n in lo..=hi { slow.insert(Slot(n)); }
            prop_assert_eq!(fast.len(), usize::from(hi - lo) + 1);
            prop_assert_eq!(fast, slow);
        }
    }
}
