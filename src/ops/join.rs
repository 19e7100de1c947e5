//! Bounded waits for the cluster bus to converge (create, add-node): poll every node's CLUSTER
//! NODES until a condition holds, printing redis-cli's `Waiting for the cluster to join` and a
//! dot per second; on timeout, fail naming what is still missing. redis-cli waits forever.

use std::time::{Duration, Instant};

use anyhow::Result;
use futures_util::future::join_all;

use crate::exit::Fail;
use crate::output::Reporter;
use crate::remote::conn::NodeConn;
use crate::remote::nodes::NodeLine;
use crate::remote::nodes::SlotSetCache;
use crate::remote::view::{fetch_table, slot_map};

/// How long a join may take before trib gives up: generous, but never forever.
pub fn join_timeout(nodes: usize) -> Duration {
    Duration::from_secs(30 + 2 * nodes as u64)
}

/// Why the tables do not show a joined cluster yet (`None` = joined): every node knows exactly
/// `expected` nodes, none still in handshake or without address, and all slot maps agree.
pub fn not_joined(names: &[String], tables: &[Vec<NodeLine>], expected: usize) -> Option<String> {
    let mut reasons = Vec::new();
    for (name, table) in names.iter().zip(tables) {
        let known = table
            .iter()
            .filter(|l| !l.has_flag("handshake") && !l.has_flag("noaddr"))
            .count();
        if known != expected {
            reasons.push(format!("{name} knows {known} of {expected} nodes"));
        }
    }
    let first = tables.first().map(|t| slot_map(t));
    if reasons.is_empty() && tables.iter().any(|t| Some(slot_map(t)) != first) {
        reasons.push("nodes don't agree about the slots configuration yet".to_string());
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// Polls until `pending(tables)` returns `None`, bounded by `limit`; `title` is printed first
/// (`Waiting for the cluster to join`).
pub async fn wait_until<F>(
    title: &str,
    conns: &[NodeConn],
    out: &Reporter,
    limit: Duration,
    pending: F,
) -> Result<()>
where
    F: Fn(&[String], &[Vec<NodeLine>]) -> Option<String>,
{
    let names: Vec<String> = conns.iter().map(|c| c.addr.to_string()).collect();
    let start = Instant::now();
    let mut dots = 0u64;
    out.line(title);
    loop {
        let slot_sets = SlotSetCache::default();
        let tables = join_all(conns.iter().map(|c| fetch_table(c, &slot_sets))).await;
        let mut ok_tables = Vec::with_capacity(tables.len());
        let mut failure = None;
        for (name, t) in names.iter().zip(tables) {
            match t {
                Ok(t) => ok_tables.push(t),
                Err(e) => {
                    failure = Some(format!("{name}: CLUSTER NODES: {e}"));
                    ok_tables.push(Vec::new());
                }
            }
        }
        let reason = failure.or_else(|| pending(&names, &ok_tables));
        let Some(last_reason) = reason else {
            out.blank();
            return Ok(());
        };
        let elapsed = start.elapsed();
        if elapsed > limit {
            out.blank();
            return Err(Fail::failure(format!(
                "the cluster did not join within {}s: {last_reason}. Cluster bus ports must be reachable by every node (they differ from the client ports)",
                limit.as_secs()
            )));
        }
        if elapsed.as_secs() > dots {
            dots = elapsed.as_secs();
            out.partial(".");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (bounded) until every node reports `cluster_state:ok`: a node that just joined
/// answers CLUSTERDOWN for a few seconds (redis/redis#3774), which would fail the next
/// command of a script, e.g. a reshard's MIGRATE into the new node.
pub async fn wait_state_ok(conns: &[NodeConn], limit: Duration) -> Result<()> {
    let start = Instant::now();
    loop {
        let infos = join_all(conns.iter().map(|c| c.request_string(["CLUSTER", "INFO"]))).await;
        let not_ok: Vec<String> = conns
            .iter()
            .zip(infos)
            .filter(|(_, i)| !i.as_ref().is_ok_and(|t| t.contains("cluster_state:ok")))
            .map(|(c, _)| c.addr.to_string())
            .collect();
        if not_ok.is_empty() {
            return Ok(());
        }
        if start.elapsed() > limit {
            return Err(Fail::failure(format!(
                "cluster_state is not ok on {} after {}s",
                not_ok.join(", "),
                limit.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::nodes::parse_nodes;

    #[test]
    fn joined_means_everyone_knows_everyone_and_agrees() {
        let a = parse_nodes(
            "aaaa 127.0.0.1:1@2 myself,master - 0 0 1 connected 0-10\n\
             bbbb 127.0.0.1:3@4 master - 0 0 2 connected 11-16383\n",
        )
        .unwrap();
        let b = parse_nodes(
            "bbbb 127.0.0.1:3@4 myself,master - 0 0 2 connected 11-16383\n\
             aaaa 127.0.0.1:1@2 master - 0 0 1 connected 0-10\n",
        )
        .unwrap();
        let names = vec!["a".to_string(), "b".to_string()];
        assert_eq!(not_joined(&names, &[a.clone(), b.clone()], 2), None);
        let lonely =
            parse_nodes("bbbb 127.0.0.1:3@4 myself,master - 0 0 2 connected 11-16383\n").unwrap();
        assert_eq!(
            not_joined(&names, &[a.clone(), lonely], 2).unwrap(),
            "b knows 1 of 2 nodes"
        );
        let hs = parse_nodes(
            "bbbb 127.0.0.1:3@4 myself,master - 0 0 2 connected 11-16383\n\
             cccc 127.0.0.1:1@2 handshake - 0 0 0 connected\n",
        )
        .unwrap();
        assert!(not_joined(&names, &[a, hs], 2).is_some());
    }
}
