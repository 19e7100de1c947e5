//! Finds keys that sit on a master in slots it does not own (what redis-cli's check misses,
//! and what its `--search-multiple-owners` finds with ~16384 round trips per master).
//! Cheap by construction: an empty master costs nothing, a small one is SCANned and its keys
//! hashed locally, a big one gets COUNTKEYSINSLOT for its non-owned slots, pipelined.

use std::collections::BTreeMap;

use futures_util::future::join_all;

use crate::cluster::conn::NodeConn;
use crate::cluster::health::StrayKeys;
use crate::cluster::reply::ReplyError;
use crate::cluster::view::{ClusterNode, ClusterView};
use crate::slot::{key_slot, Slot, SlotSet};

/// Up to this many keys, SCAN is cheaper than asking about every non-owned slot.
const SCAN_LIMIT: u64 = 50_000;
const PIPELINE_CHUNK: usize = 2048;

/// Stray keys on every master whose key count is known (`dbsize[i]` for `view.nodes[i]`,
/// `None` = unknown, treated as non-empty).
pub async fn find(
    view: &ClusterView,
    dbsize: &[Option<u64>],
) -> Result<Vec<StrayKeys>, ReplyError> {
    let jobs = view
        .nodes
        .iter()
        .zip(dbsize.iter().copied().chain(std::iter::repeat(None)))
        .filter(|(n, _)| n.is_master())
        .filter(|(_, size)| *size != Some(0))
        .map(|(n, size)| strays_on(n, size));
    let mut out = Vec::new();
    for r in join_all(jobs).await {
        out.extend(r?);
    }
    Ok(out)
}

async fn strays_on(node: &ClusterNode, size: Option<u64>) -> Result<Vec<StrayKeys>, ReplyError> {
    // Slots the node owns or is importing are allowed to hold keys.
    let mut allowed = node.slots.clone();
    for (s, _) in &node.importing {
        allowed.insert(*s);
    }
    let counts = match size {
        Some(n) if n <= SCAN_LIMIT => by_scan(&node.conn, &allowed).await?,
        _ => by_count(&node.conn, &allowed).await?,
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

async fn by_scan(conn: &NodeConn, allowed: &SlotSet) -> Result<Vec<(Slot, u64)>, ReplyError> {
    // Only keys outside `allowed` are counted: on a healthy node nothing is kept at all.
    let mut strays: BTreeMap<Slot, u64> = BTreeMap::new();
    let mut cursor: u64 = 0;
    // Bounded: SCAN terminates by contract; the cap only guards against a misbehaving server.
    for _ in 0..1_000_000 {
        let v = conn
            .request(["SCAN", &cursor.to_string(), "COUNT", "1000"])
            .await?;
        let redis::Value::Array(parts) = v else {
            return Err(ReplyError::Transport("SCAN: unexpected reply".into()));
        };
        let [next, redis::Value::Array(keys)] = parts.as_slice() else {
            return Err(ReplyError::Transport("SCAN: unexpected reply".into()));
        };
        for k in keys {
            if let redis::Value::BulkString(k) = k {
                let slot = key_slot(k);
                if !allowed.contains(slot) {
                    *strays.entry(slot).or_default() += 1;
                }
            }
        }
        cursor = match next {
            redis::Value::BulkString(c) => std::str::from_utf8(c)
                .ok()
                .and_then(|c| c.parse().ok())
                .unwrap_or(0),
            _ => 0,
        };
        if cursor == 0 {
            break;
        }
    }
    Ok(strays.into_iter().collect())
}

async fn by_count(conn: &NodeConn, allowed: &SlotSet) -> Result<Vec<(Slot, u64)>, ReplyError> {
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
            let n: u64 = redis::from_redis_value(&v).unwrap_or(0);
            if n > 0 {
                out.push((*s, n));
            }
        }
    }
    Ok(out)
}
