//! `trib failover ENTRY (--replica R | --master M) [--force | --takeover] [--yes] [--timeout MS]`:
//! promote a replica with CLUSTER FAILOVER, wait (bounded) until the cluster agrees, print the
//! new topology. The nodes and refusals are `failover_target`, the choice among a master's
//! replicas `failover_pick`, the wait `failover_wait`; this file asks before FORCE/TAKEOVER,
//! sends, and reports (human text or one JSON document).

use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::{json, Value};

use crate::cli::FailoverArgs;
use crate::exit::{ExitCode, Fail};
use crate::ops::common::{load_view, parse_entry};
use crate::ops::failover_pick::Mode;
use crate::ops::failover_target::{self as target, skip_text, OldMaster};
use crate::ops::failover_wait::wait_agreed;
use crate::ops::Context;
use crate::output::cluster::{bracket_ranges, node_block};
use crate::output::{json as json_shape, Answer};
use crate::remote::health::short_id;
use crate::remote::view::{ClusterNode, ClusterView};

pub async fn run(args: &FailoverArgs, ctx: &Context) -> Result<ExitCode> {
    let out = &ctx.out;
    let entry = parse_entry(&args.entry.node)?;
    if args.timeout == 0 {
        return Err(Fail::usage("--timeout must be at least 1 ms"));
    }
    let mode = if args.takeover {
        Mode::Takeover
    } else if args.force {
        Mode::Force
    } else {
        Mode::Default
    };
    let view = load_view(&entry, ctx).await?;

    let (replica, old, chosen) = match (&args.replica, &args.master) {
        (Some(r), _) => {
            let (replica, old) = target::by_replica(&view, r, mode).await?;
            (replica, old, None)
        }
        (None, Some(m)) => {
            let (replica, old, facts, why) = target::by_master(&view, m, mode, out).await?;
            (replica, old, Some((facts, why)))
        }
        (None, None) => return Err(Fail::usage("give --replica or --master")),
    };
    if old.slots.is_empty() && mode != Mode::Takeover {
        return Err(Fail::failure(format!(
            "Master {} ({}) owns no slots: a failover election needs slots to take over (--takeover promotes anyway).",
            old.addr,
            short_id(&old.id)
        )));
    }

    let differ: Vec<String> = view.disagreeing().iter().map(|n| n.name()).collect();
    if !differ.is_empty() {
        out.warn(&format!(
            "Nodes don't agree about the slots before the failover ({} differ): the wait for agreement will time out unless that is repaired (trib fix).",
            differ.join(", ")
        ));
    }
    if mode != Mode::Default && !args.confirm.yes {
        confirm(ctx, replica, &old, mode)?;
    }
    out.step(&format!(
        "Promoting {} ({}) with CLUSTER FAILOVER{} (master {} {})",
        replica.addr,
        short_id(&replica.id),
        mode.word().map(|w| format!(" {w}")).unwrap_or_default(),
        old.addr,
        old.down.as_deref().unwrap_or("is up")
    ));
    let started = Instant::now();
    let mut cmd = vec!["CLUSTER", "FAILOVER"];
    cmd.extend(mode.word());
    replica
        .conn
        .request(cmd.clone())
        .await
        .map_err(|e| Fail::failure(format!("{}: {}: {e}", replica.addr, cmd.join(" "))))?;

    out.step("Waiting for the cluster to agree on the new master...");
    let limit = Duration::from_millis(args.timeout);
    let (view, pending) = wait_agreed(&entry, ctx, &replica.id, &old, limit).await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let doc = |ok: bool, view: Option<&ClusterView>, error: Option<String>| {
        json!({
            "ok": ok,
            "mode": mode.name(),
            "old_master": {"id": old.id, "addr": old.addr, "reachable": old.down.is_none()},
            "new_master": {"id": replica.id, "addr": replica.addr.to_string()},
            "chosen": chosen.as_ref().map(|(facts, why)| json!({"reason": why, "candidates": facts})),
            "elapsed_ms": elapsed_ms,
            "nodes": view.map(topology_json).unwrap_or(Value::Null),
            "skipped": view.map(|v| json!(v.skipped)).unwrap_or(Value::Null),
            "error": error,
        })
    };
    if !pending.is_empty() {
        let done = view
            .as_ref()
            .and_then(|v| v.by_id(&replica.id))
            .filter(|n| n.is_master())
            .map(|n| {
                format!(
                    " ({} does report itself master of {} slots)",
                    n.addr,
                    n.slots.len()
                )
            })
            .unwrap_or_default();
        let msg = format!(
            "The failover was not confirmed within {} ms: {}{done}.",
            args.timeout,
            pending.join("; ")
        );
        out.err(&msg);
        out.json(&doc(false, view.as_ref(), Some(msg)));
        return Err(Fail::reported());
    }
    let Some(view) = view else {
        return Err(Fail::failure("the cluster view could not be loaded"));
    };
    print_topology(&view, &old, ctx);
    let slots = view.by_id(&replica.id).map_or(0, |n| n.slots.len());
    out.ok(&format!(
        "{} is now a master with {slots} slots (was a replica of {}); the cluster agreed after {elapsed_ms} ms.",
        replica.addr, old.addr
    ));
    out.json(&doc(true, Some(&view), None));
    Ok(ExitCode::Success)
}

/// FORCE and TAKEOVER can lose writes: say so and ask (stdin, or a terminal prompt).
fn confirm(ctx: &Context, replica: &ClusterNode, old: &OldMaster, mode: Mode) -> Result<()> {
    let out = &ctx.out;
    let what = match mode {
        Mode::Force => "does not wait for the master to hand over",
        _ => "takes the slots without an election or the master's agreement",
    };
    out.warn(&format!(
        "CLUSTER FAILOVER {} {what}: writes {} accepted that {} has not replicated are lost.",
        mode.word().unwrap_or_default(),
        old.addr,
        replica.addr
    ));
    let question = format!(
        "Promote {} to master of {} slots now?",
        replica.addr,
        old.slots.len()
    );
    match out.confirm(&question)? {
        Answer::Yes => Ok(()),
        Answer::No => Err(Fail::failure("failover declined; nothing was changed")),
        Answer::Eof => Err(Fail::failure(
            "no answer (stdin is closed); nothing was changed. Use --yes to fail over without asking",
        )),
    }
}

/// The new topology as check prints it, plus a line for each member that is down.
fn print_topology(view: &ClusterView, old: &OldMaster, ctx: &Context) {
    let out = &ctx.out;
    out.step(&format!("New topology (using node {})", view.entry));
    for n in &view.nodes {
        for l in node_block(view, n, "") {
            out.line(&l);
        }
    }
    for s in &view.skipped {
        let former = if s.id == old.id {
            format!(
                " (the old master, slots {}; it rejoins as a replica when it comes back)",
                bracket_ranges(&old.slots)
            )
        } else {
            String::new()
        };
        out.warn(&format!(
            "{} {} ({}) {}{former}.",
            if s.was_master { "Master" } else { "Replica" },
            s.addr,
            short_id(&s.id),
            skip_text(&s.reason)
        ));
    }
}

fn topology_json(view: &ClusterView) -> Value {
    Value::Array(
        view.nodes
            .iter()
            .map(|n| json_shape::node(view, n, None))
            .collect(),
    )
}
