//! `trib rebalance`: even out slots across masters by weight (`--weight id=w`, id prefixes as
//! redis-cli allows; weight 0 drains), optionally giving slots to empty masters. Prints
//! "No rebalancing needed" and exits 0 when every master is within the threshold.

use anyhow::Result;
use serde_json::json;

use crate::cli::RebalanceArgs;
use crate::exit::{ExitCode, Fail};
use crate::ops::common::parse_entry;
use crate::ops::slot_moves::{
    execute, load_settled, move_options, outcome, plan_node, require_healthy,
};
use crate::ops::Context;
use crate::plan::rebalance::{plan_rebalance, RebalanceOutcome, WeightedNode};
use crate::remote::view::ClusterView;

pub async fn run(args: &RebalanceArgs, ctx: &Context) -> Result<ExitCode> {
    let entry = parse_entry(&args.entry.node)?;
    let opts = move_options(&args.moves, ctx)?;
    if !args.threshold.is_finite() || args.threshold < 0.0 {
        return Err(Fail::usage("--threshold must be a percentage of 0 or more"));
    }
    let view = load_settled(&entry, ctx, &opts).await?;
    let weights = parse_weights(&view, &args.weight, ctx)?;
    require_healthy(&view, ctx, false, "rebalancing").await?;

    let involved: Vec<WeightedNode> = view
        .masters()
        .filter(|n| n.master_id.is_none())
        .filter(|n| args.use_empty_masters || !n.slots.is_empty())
        .filter_map(|n| {
            let weight = weights
                .iter()
                .find(|(id, _)| *id == n.id)
                .map(|(_, w)| *w)
                .unwrap_or(1.0);
            plan_node(&view, &n.id).map(|node| WeightedNode { node, weight })
        })
        .collect();
    let plan = match plan_rebalance(&involved, args.threshold) {
        Err(e) => return Err(Fail::failure(e.to_string())),
        Ok(RebalanceOutcome::NotNeeded { threshold }) => {
            ctx.out.line(&format!(
                "*** No rebalancing needed! All nodes are within the {threshold:.2}% threshold."
            ));
            ctx.out
                .json(&json!({"ok": true, "rebalancing_needed": false, "threshold": threshold}));
            return Ok(ExitCode::Success);
        }
        Ok(RebalanceOutcome::Plan(plan)) => plan,
    };
    ctx.out.step(&format!(
        "Rebalancing across {} nodes. Total weight = {:.2}",
        plan.balances.len(),
        plan.total_weight
    ));
    for b in &plan.balances {
        ctx.out
            .detail(&format!("{} balance is {} slots", b.addr, b.balance));
    }
    let addr = |id: &str| {
        view.by_id(id)
            .map(|n| n.addr.to_string())
            .unwrap_or_default()
    };
    for t in &plan.transfers {
        ctx.out.line(&format!(
            "Moving {} slots from {} to {}",
            t.slots.len(),
            addr(&t.source),
            addr(&t.target)
        ));
    }
    if args.simulate {
        ctx.out
            .json(&json!({"ok": true, "simulate": true, "plan": plan}));
        return Ok(ExitCode::Success);
    }
    let report = execute(&view, &plan.transfers, opts, ctx).await;
    ctx.out
        .json(&json!({"ok": report.ok(), "plan": plan, "report": report}));
    outcome(&report)
}

/// `id=w` pairs; the id may be a prefix of any node's id (redis-cli matches replicas too, where
/// the weight has no effect — trib says so).
fn parse_weights(view: &ClusterView, args: &[String], ctx: &Context) -> Result<Vec<(String, f64)>> {
    let mut out = Vec::new();
    for arg in args {
        let Some((name, w)) = arg.split_once('=') else {
            return Err(Fail::usage(format!(
                "*** invalid input {arg}: expected id=weight"
            )));
        };
        let weight: f64 = w
            .trim()
            .parse()
            .ok()
            .filter(|w: &f64| w.is_finite() && *w >= 0.0)
            .ok_or_else(|| {
                Fail::usage(format!(
                    "*** invalid weight in {arg}: expected a number of 0 or more"
                ))
            })?;
        let node = view.find_prefix(name.trim()).map_err(|e| {
            let e = e.to_string();
            // Not found: redis-cli's words; an ambiguous prefix: say which ids it matches.
            if e.starts_with("No such node ID") {
                Fail::failure(format!("*** No such master node {name}"))
            } else {
                Fail::failure(format!("*** No such master node {name} ({e})"))
            }
        })?;
        if node.replica {
            ctx.out.warn(&format!(
                "{} ({name}) is a replica; its weight has no effect",
                node.addr
            ));
            continue;
        }
        out.push((node.id.clone(), weight));
    }
    Ok(out)
}
