//! `trib add-node NEW EXISTING [--replica [--master-id ID]]`: check the cluster, validate the
//! new node (reachable, cluster mode, empty), copy functions to a new master, MEET, and return
//! only once every node knows the new one (bounded) so the next command of a script works;
//! for a replica, REPLICATE its master (which must be a master) and wait until all see it.

use anyhow::Result;
use serde_json::json;

use crate::cli::AddNodeArgs;
use crate::exit::{ExitCode, Fail};
use crate::ops::common::{check_section, load_view, parse_addr};
use crate::ops::create::{meet, probe, resolve};
use crate::ops::join::{join_timeout, not_joined, wait_state_ok, wait_until};
use crate::ops::Context;
use crate::remote::conn::NodeConn;
use crate::remote::view::ClusterView;

pub async fn run(args: &AddNodeArgs, ctx: &Context) -> Result<ExitCode> {
    let out = &ctx.out;
    let new_addr = parse_addr(&args.new_node)?;
    let entry = parse_addr(&args.existing_node)?;
    out.step(&format!("Adding node {new_addr} to cluster {entry}"));
    let view = load_view(&entry, ctx).await?;
    let health = check_section(&view, false, true, out).await?;
    let problems = health.problems();
    if !problems.is_empty() {
        return Err(Fail::failure(format!(
            "the cluster has problems, fix them before adding a node: {}",
            problems.join("; ")
        )));
    }
    let master = if args.replica {
        Some(choose_master(&view, args.master_id.as_deref(), ctx)?)
    } else {
        None
    };
    let new = probe(&new_addr, ctx).await.inspect_err(|e| {
        let unreachable = e.chain().any(|c| {
            matches!(
                c.downcast_ref::<crate::remote::conn::ConnectError>(),
                Some(crate::remote::conn::ConnectError::Unreachable { .. })
            )
        });
        if unreachable {
            out.err(&format!("Sorry, can't connect to node {new_addr}"));
        }
    })?;
    if master.is_none() {
        copy_functions(&view.nodes[0].conn, &new.conn, ctx).await?;
    }
    out.step(&format!(
        "Send CLUSTER MEET to node {new_addr} to make it join the cluster."
    ));
    let seed = &view.nodes[0];
    let bus = seed
        .myself()
        .map(|l| l.bus_port)
        .unwrap_or(seed.addr.port + 10000);
    let ip = resolve(&seed.addr).await.map_err(|_| {
        Fail::failure(format!(
            "Invalid IP address or hostname specified: {}",
            seed.addr.host
        ))
    })?;
    meet(&new.conn, &ip, seed.addr.port, bus).await?;

    let mut conns: Vec<NodeConn> = view.nodes.iter().map(|n| n.conn.clone()).collect();
    conns.push(new.conn.clone());
    // Skipped members still appear in everyone's table, so they count.
    let total = view.nodes.len() + view.skipped.len() + 1;
    wait_until(
        "Waiting for the cluster to join",
        &conns,
        out,
        join_timeout(total),
        |names, tables| not_joined(names, tables, total),
    )
    .await?;
    if let Some((master_id, master_addr)) = &master {
        out.step(&format!("Configure node as replica of {master_addr}."));
        new.conn
            .request(["CLUSTER", "REPLICATE", master_id.as_str()])
            .await
            .map_err(|e| Fail::failure(format!("Node {new_addr} replied with error: {e}")))?;
        let (rid, mid) = (new.id.clone(), master_id.clone());
        wait_until(
            "Waiting for every node to see the new replica",
            &conns,
            out,
            join_timeout(total),
            |names, tables| {
                names.iter().zip(tables).find_map(|(name, t)| {
                    let ok = t.iter().any(|l| {
                        l.id == rid
                            && l.is_replica()
                            && l.master_id.as_deref() == Some(mid.as_str())
                    });
                    (!ok).then(|| format!("{name} does not see {rid} as a replica yet"))
                })
            },
        )
        .await?;
    }
    wait_state_ok(&conns, join_timeout(total)).await?;
    out.ok("New node added correctly.");
    out.json(&json!({
        "ok": true,
        "node": {
            "addr": new_addr.to_string(),
            "id": new.id,
            "role": if master.is_some() { "replica" } else { "master" },
            "master_id": master.as_ref().map(|m| m.0.clone()),
        }
    }));
    Ok(ExitCode::Success)
}

/// The master a new replica follows: `--master-id` (full id or unique prefix, must be a
/// master), else the master with the fewest replicas (first in view order on ties).
fn choose_master(
    view: &ClusterView,
    wanted: Option<&str>,
    ctx: &Context,
) -> Result<(String, String)> {
    if let Some(id) = wanted {
        let node = view
            .find_prefix(id)
            .map_err(|_| Fail::failure(format!("No such master ID {id}")))?;
        if node.replica {
            return Err(Fail::failure(format!(
                "Node {} ({}) is a replica, not a master: give a master's ID to --master-id",
                node.addr, node.id
            )));
        }
        return Ok((node.id.clone(), node.name()));
    }
    let best = view
        .masters()
        .min_by_key(|m| view.replicas_of(&m.id).count())
        .ok_or_else(|| Fail::failure("the cluster has no master to replicate"))?;
    ctx.out
        .line(&format!("Automatically selected master {}", best.addr));
    Ok((best.id.clone(), best.name()))
}

/// Redis 7 functions: a new master must have the cluster's functions (redis-cli does this too).
async fn copy_functions(from: &NodeConn, to: &NodeConn, ctx: &Context) -> Result<()> {
    let out = &ctx.out;
    out.step("Getting functions from cluster");
    let payload = match from.request(["FUNCTION", "DUMP"]).await {
        Ok(redis::Value::BulkString(p)) => p,
        Ok(_) => return Ok(()),
        Err(e) => {
            out.step(&format!(
                "Failed retrieving Functions from the cluster, skip this step as Redis version do not support function command (error = '{e}')"
            ));
            return Ok(());
        }
    };
    out.step(&format!(
        "Send FUNCTION LIST to {} to verify there is no functions in it",
        to.addr
    ));
    let list = to
        .request(["FUNCTION", "LIST"])
        .await
        .map_err(|e| Fail::failure(format!("{}: FUNCTION LIST: {e}", to.addr)))?;
    if matches!(&list, redis::Value::Array(items) if !items.is_empty()) {
        return Err(Fail::failure(format!(
            "New node {} already contains functions and can not be added to the cluster. Use FUNCTION FLUSH and try again.",
            to.addr
        )));
    }
    out.step(&format!("Send FUNCTION RESTORE to {}", to.addr));
    let mut cmd = redis::cmd("FUNCTION");
    cmd.arg("RESTORE").arg(payload);
    to.query(&cmd).await.map_err(|e| {
        Fail::failure(format!(
            "Failed loading functions to the new node {}: {}",
            to.addr,
            crate::remote::conn::describe(&e)
        ))
    })?;
    Ok(())
}
