//! The wait after `CLUSTER FAILOVER`: reload the view (bounded by `--timeout`, even when a
//! node stops answering) until the cluster agrees the replica replaced its master, and say
//! what has not happened yet when it does not.

use std::time::{Duration, Instant};

use crate::addr::NodeAddr;
use crate::ops::failover_target::OldMaster;
use crate::ops::Context;
use crate::remote::health::short_id;
use crate::remote::view::ClusterView;

/// How often the wait reloads the view.
const POLL: Duration = Duration::from_millis(250);

/// Reloads the view until the cluster agrees that `new_id` replaced `old`, or `limit` passes.
/// Returns the last view and what was still pending (empty: done).
pub async fn wait_agreed(
    entry: &NodeAddr,
    ctx: &Context,
    new_id: &str,
    old: &OldMaster,
    limit: Duration,
) -> (Option<ClusterView>, Vec<String>) {
    let started = Instant::now();
    let max_polls = limit.as_millis() / POLL.as_millis() + 2;
    let mut last = (None, vec!["nothing was checked".to_string()]);
    for _ in 0..max_polls {
        // A node that stops answering must not stretch the wait far past --timeout (a view
        // load waits up to the 70 s response timeout); each attempt gets what is left of the
        // timeout, or 1 s when less is left, so that a short --timeout still gets one load.
        let left = limit
            .saturating_sub(started.elapsed())
            .max(Duration::from_secs(1));
        last = match tokio::time::timeout(left, ClusterView::load(entry, &ctx.connect)).await {
            Ok(Ok(view)) => {
                let pending = pending(&view, new_id, old);
                (Some(view), pending)
            }
            Ok(Err(e)) => (last.0, vec![format!("{entry} could not be loaded: {e}")]),
            Err(_) => (
                last.0,
                vec![format!(
                    "the cluster view from {entry} did not load in {} ms (a node does not answer)",
                    left.as_millis()
                )],
            ),
        };
        if last.1.is_empty() || started.elapsed() >= limit {
            break;
        }
        tokio::time::sleep(POLL.min(limit.saturating_sub(started.elapsed()))).await;
    }
    last
}

/// What has not happened yet, one phrase each (empty when the failover is complete).
fn pending(view: &ClusterView, new_id: &str, old: &OldMaster) -> Vec<String> {
    let mut p = Vec::new();
    let Some(new) = view.by_id(new_id) else {
        return vec![format!("{} is not reachable", short_id(new_id))];
    };
    if new.replica {
        p.push(format!("{} still reports itself a replica", new.addr));
    }
    let missing = old.slots.iter().filter(|s| !new.slots.contains(*s)).count();
    if missing > 0 {
        p.push(format!(
            "{} does not own {missing} of the old master's slots yet",
            new.addr
        ));
    }
    let behind: Vec<String> = view
        .nodes
        .iter()
        .filter(|n| {
            n.table
                .iter()
                .find(|l| l.id == new_id)
                .is_some_and(|l| !l.is_master())
        })
        .map(|n| n.name())
        .collect();
    if !behind.is_empty() {
        p.push(format!(
            "{} still see(s) {} as a replica",
            behind.join(", "),
            new.addr
        ));
    }
    let differ: Vec<String> = view.disagreeing().iter().map(|n| n.name()).collect();
    if !differ.is_empty() {
        p.push(format!(
            "nodes don't agree about the slots yet ({} differ)",
            differ.join(", ")
        ));
    }
    if let Some(o) = view.by_id(&old.id) {
        if o.is_master() || o.master_id.as_deref() != Some(new_id) {
            p.push(format!(
                "the old master {} has not become a replica of {} yet",
                o.addr, new.addr
            ));
        } else {
            // Every table must say so too: a master that still sees its old master as a master
            // ignores that node's next manual failover request (it times out in Redis).
            let stale: Vec<String> =
                view.nodes
                    .iter()
                    .filter(|n| {
                        n.table.iter().find(|l| l.id == old.id).is_some_and(|l| {
                            !l.is_replica() || l.master_id.as_deref() != Some(new_id)
                        })
                    })
                    .map(|n| n.name())
                    .collect();
            if !stale.is_empty() {
                p.push(format!(
                    "{} do(es) not see the old master {} as a replica of {} yet",
                    stale.join(", "),
                    o.addr,
                    new.addr
                ));
            }
        }
    }
    p
}
