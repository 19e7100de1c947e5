//! Finds keys that sit on a master in slots it does not own (what redis-cli's check misses,
//! and what its `--search-multiple-owners` finds with ~16384 round trips per master).
//! Cheap by construction: an empty master costs nothing, a small one is listed (SCAN pages of
//! 1000, the first one asked with CLUSTER NODES by `check`, so a master of up to ~1000 keys
//! needs no second round trip; one KEYS when no page was asked and the node holds at most
//! 1000 keys) and its keys hashed locally without decoding the reply into values, a big one
//! (over 50,000 keys) gets COUNTKEYSINSLOT for its non-owned slots, pipelined.

use std::collections::BTreeMap;

use futures_util::future::join_all;

use crate::remote::conn::{command, NodeConn};
use crate::remote::frame::RawReader;
use crate::remote::health::StrayKeys;
use crate::remote::nodes::NodeLine;
use crate::remote::reply::ReplyError;
use crate::remote::view::{ClusterNode, ClusterView};
use crate::slot::{key_slot, Slot, SlotSet};

/// Up to this many keys, one KEYS costs the node no more than one SCAN page (and half as much
/// CPU as SCAN, measured on redis-server 7.0).
const KEYS_LIMIT: u64 = 1000;
/// Up to this many keys, SCAN is cheaper than asking about every non-owned slot.
const SCAN_LIMIT: u64 = 50_000;

/// Keys per slot a node holds outside the slots it owns or imports, ascending by slot.
pub type SlotCounts = Vec<(Slot, u64)>;
const PIPELINE_CHUNK: usize = 2048;

/// Stray keys on every master (a key count DBSIZE could not read is treated as non-empty).
pub async fn find(view: &ClusterView) -> Result<Vec<StrayKeys>, ReplyError> {
    let jobs = view
        .masters()
        .map(|n| (n, n.dbsize.as_ref().ok().copied()))
        .filter(|(_, size)| *size != Some(0))
        .map(|(n, size)| strays_on(n, size));
    let mut out = Vec::new();
    for r in join_all(jobs).await {
        out.extend(r?);
    }
    Ok(out)
}

async fn strays_on(node: &ClusterNode, size: Option<u64>) -> Result<Vec<StrayKeys>, ReplyError> {
    let counts = match (&node.strays, node.myself()) {
        (Some(found), _) => found.clone()?,
        (None, Some(own)) => count_on(&node.conn, own, size, None).await?,
        (None, None) => Vec::new(),
    };
    Ok(counts
        .into_iter()
        .map(|(slot, keys)| StrayKeys {
            addr: node.name(),
            id: node.id.clone(),
            slot: slot.get(),
            keys,
        })
        .collect())
}

/// The first page of a SCAN (bounded work on any node: at most ~10,000 buckets visited), asked
/// in the same round trip as CLUSTER NODES: on a node of up to ~1000 keys it is all the keys,
/// and the node does the work in the same wake-up as the rest of the check.
pub fn first_page_cmd() -> redis::Cmd {
    command(scan_args(0))
}

fn scan_args(cursor: u64) -> [String; 4] {
    [
        "SCAN".into(),
        cursor.to_string(),
        "COUNT".into(),
        SCAN_PAGE.to_string(),
    ]
}

/// Keys asked for per SCAN page.
const SCAN_PAGE: u32 = 1000;

/// Stray keys on the node whose own CLUSTER NODES line is `own` and that holds `size` keys
/// (`None`: unknown). `first` is the reply to `first_page` when it was asked.
pub async fn count_on(
    conn: &NodeConn,
    own: &NodeLine,
    size: Option<u64>,
    first: Option<Result<Vec<u8>, ReplyError>>,
) -> Result<SlotCounts, ReplyError> {
    if size == Some(0) {
        return Ok(Vec::new());
    }
    // Slots the node owns or is importing are allowed to hold keys.
    let mut allowed = own.slots.clone();
    for (s, _) in &own.importing {
        allowed.insert(*s);
    }
    if let Some(Ok(frame)) = first {
        let mut strays = BTreeMap::new();
        let cursor = read_page(&frame, &allowed, &mut strays)?;
        return match size {
            _ if cursor == 0 => Ok(strays.into_iter().collect()),
            Some(n) if n <= SCAN_LIMIT => scan_from(conn, &allowed, cursor, strays).await,
            _ => by_count(conn, &allowed).await,
        };
    }
    match size {
        Some(n) if n <= KEYS_LIMIT => by_keys(conn, &allowed).await,
        Some(n) if n <= SCAN_LIMIT => scan_from(conn, &allowed, 0, BTreeMap::new()).await,
        _ => by_count(conn, &allowed).await,
    }
}

/// Counts the keys outside `allowed` in the array of key names `reply` is at.
fn tally(
    reply: &mut RawReader,
    allowed: &SlotSet,
    strays: &mut BTreeMap<Slot, u64>,
) -> Result<(), ReplyError> {
    let n = reply
        .array_len()
        .ok_or_else(|| unexpected("an array of keys"))?;
    for _ in 0..n {
        let key = reply.bulk().ok_or_else(|| unexpected("a key name"))?;
        let slot = key_slot(key);
        if !allowed.contains(slot) {
            *strays.entry(slot).or_default() += 1;
        }
    }
    Ok(())
}

/// A COUNTKEYSINSLOT answer. Anything but a count is an error, never "no keys": a slot judged
/// empty by mistake could be given away or dropped.
pub fn key_count(reply: &redis::Value) -> Result<u64, ReplyError> {
    match reply {
        redis::Value::Int(n) if *n >= 0 => Ok(*n as u64),
        redis::Value::ServerError(e) => Err(ReplyError::from_text(&format!(
            "{} {}",
            e.code(),
            e.details().unwrap_or_default()
        ))),
        _ => Err(unexpected("COUNTKEYSINSLOT: a count")),
    }
}

fn unexpected(what: &str) -> ReplyError {
    ReplyError::Transport(format!("unexpected reply: expected {what}"))
}

async fn by_keys(conn: &NodeConn, allowed: &SlotSet) -> Result<SlotCounts, ReplyError> {
    let frame = conn.request_raw(["KEYS", "*"]).await?;
    let mut strays = BTreeMap::new();
    tally(&mut RawReader::new(&frame), allowed, &mut strays)?;
    Ok(strays.into_iter().collect())
}

/// SCAN from `cursor` to the end, adding to `strays`. Only keys outside `allowed` are counted:
/// on a healthy node nothing is kept at all.
async fn scan_from(
    conn: &NodeConn,
    allowed: &SlotSet,
    mut cursor: u64,
    mut strays: BTreeMap<Slot, u64>,
) -> Result<SlotCounts, ReplyError> {
    // Bounded: SCAN terminates by contract; the cap only guards against a misbehaving server.
    for _ in 0..1_000_000 {
        let frame = conn.request_raw(scan_args(cursor)).await?;
        cursor = read_page(&frame, allowed, &mut strays)?;
        if cursor == 0 {
            break;
        }
    }
    Ok(strays.into_iter().collect())
}

/// Tallies one SCAN reply into `strays`; returns the next cursor (0: done).
fn read_page(
    frame: &[u8],
    allowed: &SlotSet,
    strays: &mut BTreeMap<Slot, u64>,
) -> Result<u64, ReplyError> {
    let mut reply = RawReader::new(frame);
    let next = match reply.array_len() {
        Some(2) => reply.bulk(),
        _ => None,
    }
    .ok_or_else(|| unexpected("SCAN: a cursor"))?;
    tally(&mut reply, allowed, strays)?;
    std::str::from_utf8(next)
        .ok()
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| unexpected("SCAN: a numeric cursor"))
}

async fn by_count(conn: &NodeConn, allowed: &SlotSet) -> Result<SlotCounts, ReplyError> {
    let slots: Vec<Slot> = Slot::all().filter(|s| !allowed.contains(*s)).collect();
    let mut out = Vec::new();
    for chunk in slots.chunks(PIPELINE_CHUNK) {
        let mut pipe = redis::pipe();
        for s in chunk {
            pipe.cmd("CLUSTER").arg("COUNTKEYSINSLOT").arg(s.get());
        }
        let replies = conn
            .pipeline(&pipe)
            .await
            .map_err(|e| ReplyError::from_redis(&e))?;
        for (s, v) in chunk.iter().zip(replies) {
            let n = key_count(&v)?;
            if n > 0 {
                out.push((*s, n));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::key_count;

    #[test]
    fn only_a_count_is_a_key_count() {
        assert_eq!(key_count(&redis::Value::Int(7)).unwrap(), 7);
        assert_eq!(key_count(&redis::Value::Int(0)).unwrap(), 0);
        // An error reply, a negative number or anything else is an error, never "0 keys".
        if let Ok(err @ redis::Value::ServerError(_)) =
            redis::parse_redis_value(b"-ERR unknown subcommand\r\n")
        {
            assert!(key_count(&err).is_err());
        }
        assert!(key_count(&redis::Value::Int(-1)).is_err());
        assert!(key_count(&redis::Value::Nil).is_err());
        assert!(key_count(&redis::Value::SimpleString("OK".into())).is_err());
    }
}
