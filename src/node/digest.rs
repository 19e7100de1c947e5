//! DEBUG DIGEST / DIGEST-VALUE: Redis 7.0's value digest (debug.c `xorObjectDigest`), so that
//! trib-node and real Redis agree on whether two copies of a key are equal.

use super::keyspace::Entry;
use super::num::fmt_g17;
use super::sha1::sha1;
use super::value::Value;

pub type Digest = [u8; 20];

fn xor_digest(digest: &mut Digest, data: &[u8]) {
    let h = sha1(data);
    for (d, x) in digest.iter_mut().zip(h) {
        *d ^= x;
    }
}

fn mix_digest(digest: &mut Digest, data: &[u8]) {
    xor_digest(digest, data);
    *digest = sha1(&digest[..]);
}

/// The digest of one key's value (with Redis's "!!expire!!" mark when it has a TTL).
pub fn value_digest(entry: &Entry) -> Digest {
    object_digest([0u8; 20], entry)
}

/// DEBUG DIGEST over db0 (computeDatasetDigest): zeros when empty.
pub fn db_digest<'a>(entries: impl Iterator<Item = (&'a [u8], &'a Entry)>) -> Digest {
    let mut out = [0u8; 20];
    let mut any = false;
    for (key, entry) in entries {
        if !any {
            mix_digest(&mut out, &0u32.to_be_bytes());
            any = true;
        }
        let mut d = [0u8; 20];
        mix_digest(&mut d, key);
        let d = object_digest(d, entry);
        xor_digest(&mut out, &d);
    }
    out
}

/// Redis `xorObjectDigest`, continuing from `start`.
fn object_digest(start: Digest, entry: &Entry) -> Digest {
    let mut d = start;
    let type_code: u32 = match entry.value {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
    };
    mix_digest(&mut d, &type_code.to_be_bytes());
    match &entry.value {
        Value::Str(s) => mix_digest(&mut d, s),
        Value::List(l) => {
            for e in l {
                mix_digest(&mut d, e);
            }
        }
        Value::Set(s) => {
            for e in s {
                xor_digest(&mut d, e);
            }
        }
        Value::ZSet(z) => {
            for (m, score) in z.iter() {
                let mut e = [0u8; 20];
                mix_digest(&mut e, m);
                mix_digest(&mut e, fmt_g17(score).as_bytes());
                xor_digest(&mut d, &e);
            }
        }
        Value::Hash(h) => {
            for (f, v) in h {
                let mut e = [0u8; 20];
                mix_digest(&mut e, f);
                mix_digest(&mut e, v);
                xor_digest(&mut d, &e);
            }
        }
    }
    if entry.expire_at.is_some() {
        xor_digest(&mut d, b"!!expire!!");
    }
    d
}

pub fn hex(d: &Digest) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}
