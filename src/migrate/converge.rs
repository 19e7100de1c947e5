//! Waiting, bounded, until the replicas show a new slot owner. Replicas refuse SETSLOT (Redis
//! 7.0: "Please use SETSLOT only with masters.") and learn a move only from the target's gossip,
//! which a burst of closes can delay by seconds; a client that reads its slot map from a replica
//! and is told MOVED by the source meanwhile is sent back to the source again and again. The
//! engine therefore tells the source last, once the replicas know. It does not tell anyone
//! anything: it only reads CLUSTER NODES.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::future::join_all;

use crate::remote::conn::NodeConn;
use crate::remote::nodes::parse_nodes;
use crate::slot::Slot;

/// How long one close waits for a replica before telling the source anyway. Gossip reaches a
/// node that missed the target's broadcast within cluster-node-timeout/2 (the periodic ping).
pub const REPLICA_WAIT: Duration = Duration::from_secs(5);
/// Pauses between two looks at a replica that has not learned yet: short at first (it usually
/// has learned by the first look), then longer, so that a replica busy with a burst of gossip
/// is not kept busier by CLUSTER NODES.
const FIRST_POLL: Duration = Duration::from_millis(1);
const MAX_POLL: Duration = Duration::from_millis(100);

/// The replicas a run watches. One that does not answer, or does not learn within the bound,
/// is dropped for the rest of the run, so a dead replica costs at most one wait.
#[derive(Default)]
pub struct Replicas {
    conns: Vec<NodeConn>,
    dropped: Mutex<HashSet<usize>>,
}

/// A replica that did not show the new owner in time (or could not be asked).
pub struct Lagging {
    pub addr: String,
    pub reason: String,
}

impl Replicas {
    pub fn new(conns: Vec<NodeConn>) -> Replicas {
        Replicas {
            conns,
            dropped: Mutex::new(HashSet::new()),
        }
    }

    /// Waits until every watched replica maps all `slots` to `target_id`, at most `limit`.
    /// Returns the replicas that did not (they are dropped from later waits).
    pub async fn wait_owner(
        &self,
        target_id: &str,
        slots: &[Slot],
        limit: Duration,
    ) -> Vec<Lagging> {
        if slots.is_empty() {
            return Vec::new();
        }
        let live: Vec<usize> = {
            let dropped = self.dropped.lock().unwrap();
            (0..self.conns.len())
                .filter(|i| !dropped.contains(i))
                .collect()
        };
        let deadline = Instant::now() + limit;
        let results = join_all(
            live.iter()
                .map(|&i| wait_one(&self.conns[i], target_id, slots, deadline)),
        )
        .await;
        let mut lagging = Vec::new();
        for (&i, r) in live.iter().zip(results) {
            if let Err(reason) = r {
                self.dropped.lock().unwrap().insert(i);
                lagging.push(Lagging {
                    addr: self.conns[i].addr.to_string(),
                    reason,
                });
            }
        }
        lagging
    }
}

async fn wait_one(
    conn: &NodeConn,
    target_id: &str,
    slots: &[Slot],
    deadline: Instant,
) -> Result<(), String> {
    let mut pause = FIRST_POLL;
    loop {
        let text = conn
            .request_string(["CLUSTER", "NODES"])
            .await
            .map_err(|e| format!("CLUSTER NODES: {e}"))?;
        let missing = missing_slots(&text, target_id, slots)?;
        if missing == 0 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "still maps {missing} slot(s) to their old owner after {} s",
                REPLICA_WAIT.as_secs()
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_POLL);
    }
}

/// How many of `slots` the CLUSTER NODES text does not give to `target_id`.
fn missing_slots(text: &str, target_id: &str, slots: &[Slot]) -> Result<usize, String> {
    let lines = parse_nodes(text).map_err(|e| e.to_string())?;
    Ok(match lines.iter().find(|l| l.id == target_id) {
        Some(t) => slots.iter().filter(|s| !t.slots.contains(**s)).count(),
        None => slots.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODES: &str = "\
aaaa 127.0.0.1:7000@17000 master - 0 0 7 connected 0-99 200
bbbb 127.0.0.1:7001@17001 myself,slave aaaa 0 0 7 connected
cccc 127.0.0.1:7002@17002 master - 0 0 3 connected 100-199 201-16383
";

    fn slots(v: &[u16]) -> Vec<Slot> {
        v.iter().map(|&s| Slot::new(s).unwrap()).collect()
    }

    #[test]
    fn counts_the_slots_not_yet_given_to_the_target() {
        assert_eq!(missing_slots(NODES, "aaaa", &slots(&[0, 99, 200])), Ok(0));
        assert_eq!(missing_slots(NODES, "aaaa", &slots(&[0, 100, 201])), Ok(2));
        // a replica that does not know the target yet knows none of its slots
        assert_eq!(missing_slots(NODES, "dddd", &slots(&[5, 6])), Ok(2));
    }
}
