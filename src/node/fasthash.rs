//! A fast non-cryptographic hasher (FxHash's multiply-rotate, seeded once per process) for the
//! keyspace and command-table maps: SipHash was the largest single cost per command. The seed
//! keeps bucket placement unpredictable across runs.

use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

const K: u64 = 0x517c_c1b7_2722_0a95;

fn seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(rand::random)
}

#[derive(Debug, Clone, Copy)]
pub struct FastBuild {
    seed: u64,
}

impl Default for FastBuild {
    fn default() -> FastBuild {
        FastBuild { seed: seed() }
    }
}

impl BuildHasher for FastBuild {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher { hash: self.seed }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct FastHasher {
    hash: u64,
}

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, mut bytes: &[u8]) {
        while bytes.len() >= 8 {
            self.add(u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")));
            bytes = &bytes[8..];
        }
        if bytes.len() >= 4 {
            self.add(u64::from(u32::from_le_bytes(
                bytes[..4].try_into().expect("4 bytes"),
            )));
            bytes = &bytes[4..];
        }
        for &b in bytes {
            self.add(u64::from(b));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // fold the well-mixed high bits down: hashbrown uses both ends of the hash
        self.hash ^ (self.hash >> 29)
    }
}

pub type FastMap<K, V> = std::collections::HashMap<K, V, FastBuild>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_keys_spread() {
        let b = FastBuild::default();
        let mut seen = std::collections::HashSet::new();
        for i in 0..10_000u32 {
            seen.insert(b.hash_one(format!("key:{i}").as_bytes()) >> 57);
        }
        assert_eq!(seen.len(), 128, "top 7 bits must vary");
    }
}
