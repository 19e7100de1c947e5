//! `trib del-node ENTRY ID`: remove a node that owns no slots, alive or dead. Orphaned
//! replicas are moved to the master with the fewest replicas, CLUSTER FORGET goes to every
//! other node concurrently (a failure on one node does not stop the others; failures are
//! reported and fail the run; a node that already forgot it counts as done, so a re-run
//! finishes an interrupted removal), then CLUSTER RESET SOFT on the removed node when alive.

use anyhow::Result;
use futures_util::future::join_all;
use serde_json::json;

use crate::cli::DelNodeArgs;
use crate::exit::{ExitCode, Fail};
use crate::ops::common::{load_view, parse_addr};
use crate::ops::Context;

pub async fn run(args: &DelNodeArgs, ctx: &Context) -> Result<ExitCode> {
    let out = &ctx.out;
    let entry = parse_addr(&args.node)?;
    out.step(&format!(
        "Removing node {} from cluster {entry}",
        args.node_id
    ));
    let view = load_view(&entry, ctx).await?;

    // A loaded node, or a member the view could not load (dead, failed): both can go.
    let (id, addr, alive) = match view.find_prefix(&args.node_id) {
        Ok(n) => {
            if !n.slots.is_empty() {
                return Err(Fail::failure(format!(
                    "Node {} is not empty! Reshard data away and try again.",
                    n.addr
                )));
            }
            (n.id.clone(), n.name(), true)
        }
        Err(_) => {
            let lower = args.node_id.to_ascii_lowercase();
            let dead: Vec<_> = view
                .skipped
                .iter()
                .filter(|s| !lower.is_empty() && s.id.to_ascii_lowercase().starts_with(&lower))
                .collect();
            let [s] = dead.as_slice() else {
                return Err(Fail::failure(format!("No such node ID {}", args.node_id)));
            };
            let owns = view
                .nodes
                .first()
                .and_then(|e| e.table.iter().find(|l| l.id == s.id))
                .is_some_and(|l| !l.slots.is_empty());
            if owns {
                return Err(Fail::failure(format!(
                    "Node {} is unreachable and still owns slots; fail over to a replica or fix the cluster first.",
                    s.addr
                )));
            }
            out.warn(&format!(
                "Node {} ({}) is not reachable; removing it from the other nodes only.",
                s.addr, s.id
            ));
            (s.id.clone(), s.addr.clone(), false)
        }
    };

    out.step("Sending CLUSTER FORGET messages to the cluster...");
    let others: Vec<_> = view.nodes.iter().filter(|n| n.id != id).collect();
    // Orphaned replicas first, so they are never left following a forgotten master.
    let orphans: Vec<_> = others
        .iter()
        .filter(|n| n.replica && n.master_id.as_deref() == Some(id.as_str()))
        .collect();
    let mut failures: Vec<String> = Vec::new();
    if !orphans.is_empty() {
        let new_master = view
            .masters()
            .filter(|m| m.id != id)
            .min_by_key(|m| view.replicas_of(&m.id).count());
        match new_master {
            Some(m) => {
                for r in &orphans {
                    out.step(&format!("{} as replica of {}", r.addr, m.addr));
                    if let Err(e) = r
                        .conn
                        .request(["CLUSTER", "REPLICATE", m.id.as_str()])
                        .await
                    {
                        failures.push(format!("{}: CLUSTER REPLICATE {}: {e}", r.addr, m.id));
                    }
                }
            }
            None => failures.push("no other master to move the orphaned replicas to".into()),
        }
    }
    let forgets = others.iter().map(|n| {
        let id = id.clone();
        async move { (n, n.conn.request(["CLUSTER", "FORGET", id.as_str()]).await) }
    });
    for (n, r) in join_all(forgets).await {
        match r {
            // Already forgotten (an earlier, interrupted del-node): the goal is reached.
            Err(e) if e.to_string().starts_with("ERR Unknown node") => {
                out.line(&format!("*** {} had already forgotten the node", n.addr));
            }
            Err(e) => {
                out.err(&format!("Node {} replied with error: {e}", n.addr));
                failures.push(format!("{}: CLUSTER FORGET: {e}", n.addr));
            }
            Ok(_) => {}
        }
    }
    if alive {
        out.step("Sending CLUSTER RESET SOFT to the deleted node.");
        if let Some(n) = view.by_id(&id) {
            if let Err(e) = n.conn.request(["CLUSTER", "RESET", "SOFT"]).await {
                failures.push(format!("{}: CLUSTER RESET SOFT: {e}", n.addr));
            }
        }
    }
    out.json(&json!({
        "ok": failures.is_empty(),
        "removed": {"id": id, "addr": addr, "was_reachable": alive},
        "failures": failures,
    }));
    if !failures.is_empty() {
        let msg = format!(
            "node {id} was not removed everywhere ({}); run del-node again within 60 s (CLUSTER FORGET only lasts that long)",
            failures.join("; ")
        );
        return Err(if out.is_json() {
            Fail::reported()
        } else {
            Fail::failure(msg)
        });
    }
    out.ok(&format!("Node {id} removed from the cluster."));
    Ok(ExitCode::Success)
}
