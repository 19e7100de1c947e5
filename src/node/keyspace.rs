//! db0: key -> entry (value, optional expire-at in ms), with a per-slot key index (kept on every
//! insert, delete and expiry, so GETKEYSINSLOT / COUNTKEYSINSLOT are cheap), lazy expiry on
//! access, an expiry queue for the active-expiry task, and WATCH versions. No command parsing,
//! no replies: families call these methods under the keyspace lock.
//!
//! Rules for command code: read with `get`/`get_entry` (lazy expiry, access time), write through
//! `get_mut`/`set`/`set_entry`/`remove` (they signal WATCH and keep the slot index). A collection
//! that became empty must be removed with `remove` (or `remove_if_empty`).

use std::collections::BTreeSet;

use bytes::Bytes;

use super::fasthash::FastMap;
use super::value::Value;
use crate::slot::{key_slot, Slot};

/// Number of hash slots (Redis Cluster's 16384).
pub const SLOTS: usize = 16384;

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry time, Unix ms.
    pub expire_at: Option<u64>,
    /// The string was modified in place (APPEND/SETRANGE): OBJECT ENCODING says "raw".
    pub raw: bool,
    /// Last access, Unix seconds (OBJECT IDLETIME).
    pub access_secs: u64,
}

impl Entry {
    pub fn new(value: Value) -> Entry {
        Entry {
            value,
            expire_at: None,
            raw: false,
            access_secs: 0,
        }
    }
}

/// Counters INFO reports.
#[derive(Debug, Default, Clone)]
pub struct KeyspaceStats {
    pub expired_keys: u64,
    pub hits: u64,
    pub misses: u64,
}

#[derive(Debug)]
pub struct Keyspace {
    map: FastMap<Bytes, Entry>,
    slots: Vec<BTreeSet<Bytes>>,
    /// (expire_at, key) for every key with a TTL: the active-expiry queue.
    expiring: BTreeSet<(u64, Bytes)>,
    /// Watched keys: (version, number of watchers).
    watched: FastMap<Bytes, (u64, u32)>,
    watch_clock: u64,
    /// Modifications since start (INFO rdb_changes_since_last_save, replication hooks).
    pub dirty: u64,
    /// Unix ms of the command being executed; set by the dispatcher.
    pub now_ms: u64,
    pub stats: KeyspaceStats,
    /// Keys deleted because their TTL passed, until replication takes them (as `DEL`s).
    pub expired: Vec<Bytes>,
}

impl Default for Keyspace {
    fn default() -> Self {
        Keyspace::new()
    }
}

pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Keyspace {
    pub fn new() -> Keyspace {
        Keyspace {
            map: FastMap::default(),
            slots: (0..SLOTS).map(|_| BTreeSet::new()).collect(),
            expiring: BTreeSet::new(),
            watched: FastMap::default(),
            watch_clock: 0,
            dirty: 0,
            now_ms: unix_ms(),
            stats: KeyspaceStats::default(),
            expired: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// Keys with a TTL (INFO keyspace `expires=`).
    pub fn expires_count(&self) -> usize {
        self.expiring.len()
    }
    /// Average remaining TTL in ms of keys with a TTL (INFO `avg_ttl`).
    pub fn avg_ttl(&self) -> u64 {
        if self.expiring.is_empty() {
            return 0;
        }
        let now = self.now_ms;
        let sum: u128 = self
            .expiring
            .iter()
            .map(|(at, _)| u128::from(at.saturating_sub(now)))
            .sum();
        (sum / self.expiring.len() as u128) as u64
    }

    fn is_expired(&self, e: &Entry) -> bool {
        matches!(e.expire_at, Some(at) if at <= self.now_ms)
    }

    /// Deletes `key` if its TTL has passed. True when it did.
    pub fn expire_if_needed(&mut self, key: &[u8]) -> bool {
        let expired = match self.map.get(key) {
            Some(e) => self.is_expired(e),
            None => false,
        };
        if expired {
            if let Some((k, _)) = self.map.get_key_value(key) {
                self.expired.push(k.clone());
            }
            self.remove(key);
            self.stats.expired_keys += 1;
        }
        expired
    }

    /// Read lookup: lazy expiry, access time, hit/miss stats.
    pub fn get_entry(&mut self, key: &[u8]) -> Option<&Entry> {
        self.expire_if_needed(key);
        let secs = self.now_ms / 1000;
        match self.map.get_mut(key) {
            Some(e) => {
                e.access_secs = secs;
                self.stats.hits += 1;
                Some(e)
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    pub fn get(&mut self, key: &[u8]) -> Option<&Value> {
        self.get_entry(key).map(|e| &e.value)
    }

    /// Lookup without expiring, touching or counting; a logically expired key is absent.
    pub fn peek(&self, key: &[u8]) -> Option<&Entry> {
        self.map.get(key).filter(|e| !self.is_expired(e))
    }

    pub fn contains(&mut self, key: &[u8]) -> bool {
        self.expire_if_needed(key);
        self.map.contains_key(key)
    }

    /// Write lookup: lazy expiry, then signals the key as modified (WATCH) and returns it.
    pub fn get_entry_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.expire_if_needed(key);
        if !self.watched.is_empty() && self.map.contains_key(key) {
            self.touch(key);
            self.dirty -= 1; // counted below
        }
        let secs = self.now_ms / 1000;
        let e = self.map.get_mut(key)?;
        self.dirty += 1;
        e.access_secs = secs;
        Some(e)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Value> {
        self.get_entry_mut(key).map(|e| &mut e.value)
    }

    /// Stores `value` under `key`, dropping any TTL (SET semantics).
    pub fn set(&mut self, key: Bytes, value: Value) {
        let mut e = Entry::new(value);
        e.access_secs = self.now_ms / 1000;
        self.set_entry(key, e);
    }

    /// Stores `value`, keeping an existing TTL (SET KEEPTTL, SETRANGE...).
    pub fn set_keep_ttl(&mut self, key: Bytes, value: Value) {
        self.expire_if_needed(&key);
        let ttl = self.map.get(&key).and_then(|e| e.expire_at);
        let mut e = Entry::new(value);
        e.expire_at = ttl;
        e.access_secs = self.now_ms / 1000;
        self.set_entry(key, e);
    }

    /// Stores a whole entry (its TTL included), replacing any previous one.
    pub fn set_entry(&mut self, key: Bytes, entry: Entry) {
        self.touch(&key);
        if let Some(at) = entry.expire_at {
            self.expiring.insert((at, key.clone()));
        }
        match self.map.insert(key.clone(), entry) {
            Some(old) => {
                if let Some(at) = old.expire_at {
                    if old_differs(at, self.map.get(&key).and_then(|e| e.expire_at)) {
                        self.expiring.remove(&(at, key));
                    }
                }
            }
            None => {
                self.slots[key_slot(&key).index()].insert(key);
            }
        }
    }

    /// Returns the value under `key`, creating it with `make` when missing (callers check the
    /// type). The key is signalled as modified.
    pub fn get_or_insert_with(&mut self, key: &Bytes, make: impl FnOnce() -> Value) -> &mut Value {
        self.expire_if_needed(key);
        if !self.map.contains_key(key.as_ref() as &[u8]) {
            self.set(key.clone(), make());
        } else {
            self.touch(key);
        }
        &mut self
            .map
            .get_mut(key.as_ref() as &[u8])
            .expect("just inserted")
            .value
    }

    /// Deletes a key (no expiry check). Returns the entry when it existed.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let (k, e) = self.map.remove_entry(key)?;
        self.touch(key);
        if let Some(at) = e.expire_at {
            self.expiring.remove(&(at, k.clone()));
        }
        self.slots[key_slot(&k).index()].remove(&k);
        Some(e)
    }

    /// Removes the key if it holds an empty collection (after a pop/remove).
    pub fn remove_if_empty(&mut self, key: &[u8]) {
        let empty = match self.map.get(key).map(|e| &e.value) {
            Some(Value::List(l)) => l.is_empty(),
            Some(Value::Hash(h)) => h.is_empty(),
            Some(Value::Set(s)) => s.is_empty(),
            Some(Value::ZSet(z)) => z.is_empty(),
            _ => false,
        };
        if empty {
            self.remove(key);
        }
    }

    /// Sets or clears the TTL of an existing key. False when the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at: Option<u64>) -> bool {
        self.expire_if_needed(key);
        let Some((k, e)) = self.map.get_key_value(key) else {
            return false;
        };
        let (k, old) = (k.clone(), e.expire_at);
        if let Some(o) = old {
            self.expiring.remove(&(o, k.clone()));
        }
        if let Some(a) = at {
            self.expiring.insert((a, k.clone()));
        }
        if let Some(e) = self.map.get_mut(key) {
            e.expire_at = at;
        }
        self.touch(&k);
        true
    }

    /// Signals a modification of `key` to WATCHers.
    pub fn touch(&mut self, key: &[u8]) {
        self.dirty += 1;
        if self.watched.is_empty() {
            return;
        }
        if let Some(w) = self.watched.get_mut(key) {
            self.watch_clock += 1;
            w.0 = self.watch_clock;
        }
    }

    /// WATCH: returns the key's current version token.
    pub fn watch(&mut self, key: &Bytes) -> u64 {
        let w = self.watched.entry(key.clone()).or_insert((0, 0));
        w.1 += 1;
        w.0
    }

    /// Current version of a watched key (None if nobody watches it).
    pub fn watch_version(&self, key: &[u8]) -> Option<u64> {
        self.watched.get(key).map(|w| w.0)
    }

    pub fn unwatch(&mut self, key: &[u8]) {
        if let Some(w) = self.watched.get_mut(key) {
            w.1 = w.1.saturating_sub(1);
            if w.1 == 0 {
                self.watched.remove(key);
            }
        }
    }

    /// FLUSHALL / FLUSHDB: drops everything; WATCHers of existing keys see a modification.
    pub fn flush(&mut self) -> usize {
        let n = self.map.len();
        let watched: Vec<Bytes> = self
            .watched
            .keys()
            .filter(|k| self.map.contains_key(*k))
            .cloned()
            .collect();
        for k in watched {
            self.touch(&k);
        }
        self.map.clear();
        self.expiring.clear();
        for s in &mut self.slots {
            s.clear();
        }
        self.dirty += n as u64;
        n
    }

    /// Active expiry: deletes up to `max` keys whose TTL passed. Returns how many.
    pub fn expire_due(&mut self, now_ms: u64, max: usize) -> usize {
        self.now_ms = now_ms;
        let mut n = 0;
        while n < max {
            let Some((at, key)) = self.expiring.first().cloned() else {
                break;
            };
            if at > now_ms {
                break;
            }
            self.remove(&key);
            self.expired.push(key);
            self.stats.expired_keys += 1;
            n += 1;
        }
        n
    }

    pub fn count_in_slot(&self, slot: Slot) -> usize {
        self.slots[slot.index()].len()
    }

    /// Up to `n` keys of `slot` (GETKEYSINSLOT).
    pub fn keys_in_slot(&self, slot: Slot, n: usize) -> Vec<Bytes> {
        self.slots[slot.index()].iter().take(n).cloned().collect()
    }

    /// Every key (including logically expired ones not yet deleted).
    pub fn keys(&self) -> impl Iterator<Item = &Bytes> {
        self.map.keys()
    }

    /// SCAN step: keys of whole slots starting at `cursor` (a slot number) until at least
    /// `count` keys are collected. Returns the next cursor (0 when done).
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<Bytes>) {
        let mut out = Vec::new();
        let mut slot = cursor as usize;
        while slot < SLOTS {
            out.extend(
                self.slots[slot]
                    .iter()
                    .filter(|k| self.peek(k).is_some())
                    .cloned(),
            );
            slot += 1;
            if out.len() >= count {
                break;
            }
        }
        let next = if slot >= SLOTS { 0 } else { slot as u64 };
        (next, out)
    }

    /// A random live key (RANDOMKEY).
    pub fn random_key(&mut self) -> Option<Bytes> {
        use rand::Rng;
        for _ in 0..100 {
            if self.map.is_empty() {
                return None;
            }
            let mut rng = rand::thread_rng();
            let start = rng.gen_range(0..SLOTS);
            let slot = (0..SLOTS)
                .map(|i| (start + i) % SLOTS)
                .find(|s| !self.slots[*s].is_empty())?;
            let set = &self.slots[slot];
            let k = set.iter().nth(rng.gen_range(0..set.len()))?.clone();
            if !self.expire_if_needed(&k) {
                return Some(k);
            }
        }
        None
    }
}

fn old_differs(old: u64, new: Option<u64>) -> bool {
    new != Some(old)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(Bytes::copy_from_slice(v.as_bytes()))
    }

    #[test]
    fn slot_index_follows_inserts_deletes_and_expiry() {
        let mut ks = Keyspace::new();
        ks.now_ms = 1000;
        ks.set(Bytes::from("{user1}.a"), s("1"));
        ks.set(Bytes::from("{user1}.b"), s("2"));
        ks.set(Bytes::from("foo"), s("3"));
        let slot = key_slot(b"{user1}.a");
        assert_eq!(slot.get(), 8106);
        assert_eq!(ks.count_in_slot(slot), 2);
        ks.remove(b"{user1}.a");
        assert_eq!(ks.keys_in_slot(slot, 10), vec![Bytes::from("{user1}.b")]);
        ks.set_expire(b"{user1}.b", Some(1500));
        assert_eq!(ks.expire_due(1499, 10), 0);
        assert_eq!(ks.expire_due(1500, 10), 1);
        assert_eq!(ks.count_in_slot(slot), 0);
        assert_eq!(ks.len(), 1);
        assert_eq!(ks.expires_count(), 0);
    }

    #[test]
    fn lazy_expiry_and_watch() {
        let mut ks = Keyspace::new();
        ks.now_ms = 1000;
        let k = Bytes::from("k");
        let mut e = Entry::new(s("v"));
        e.expire_at = Some(2000);
        ks.set_entry(k.clone(), e);
        let v0 = ks.watch(&k);
        assert!(ks.get(b"k").is_some());
        assert_eq!(ks.watch_version(b"k"), Some(v0));
        ks.now_ms = 2000;
        assert!(ks.get(b"k").is_none());
        assert_ne!(ks.watch_version(b"k"), Some(v0));
        assert_eq!(ks.expires_count(), 0);
        assert_eq!(ks.count_in_slot(key_slot(b"k")), 0);
    }

    #[test]
    fn overwrite_keeps_single_expiry_record() {
        let mut ks = Keyspace::new();
        let k = Bytes::from("k");
        let mut e = Entry::new(s("v"));
        e.expire_at = Some(u64::MAX - 1);
        ks.set_entry(k.clone(), e.clone());
        ks.set_entry(k.clone(), e);
        assert_eq!(ks.expires_count(), 1);
        ks.set(k, s("w"));
        assert_eq!(ks.expires_count(), 0);
    }

    #[test]
    fn scan_visits_every_key_once() {
        let mut ks = Keyspace::new();
        for i in 0..500 {
            ks.set(Bytes::from(format!("key:{i}")), s("v"));
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        for _ in 0..20000 {
            let (next, keys) = ks.scan(cursor, 10);
            for k in keys {
                assert!(seen.insert(k));
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 500);
    }
}
