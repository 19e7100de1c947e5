//! `trib reshard`: move N slots from some masters to one. Options, or redis-cli's questions in
//! its order (slots → receiving node → source nodes → proceed?) answered one line each; end of
//! input aborts with exit 1 instead of asking forever. The plan is printed before it runs.

use std::io::IsTerminal;

use anyhow::Result;
use serde_json::json;

use crate::cli::ReshardArgs;
use crate::exit::{ExitCode, Fail};
use crate::ops::common::parse_entry;
use crate::ops::slot_moves::{
    execute, load_settled, move_options, outcome, plan_node, require_healthy,
};
use crate::ops::Context;
use crate::output::ask::{ask_line, ask_note};
use crate::output::cluster::node_block;
use crate::plan::moves::PlanNode;
use crate::plan::reshard::{plan_reshard, ReshardPlan};
use crate::remote::view::{ClusterNode, ClusterView};
use crate::slot::SLOT_COUNT;

pub async fn run(args: &ReshardArgs, ctx: &Context) -> Result<ExitCode> {
    let entry = parse_entry(&args.entry.node)?;
    let opts = move_options(&args.moves, ctx)?;
    if let Some(n) = args.slots {
        if n == 0 || n > SLOT_COUNT as usize {
            return Err(Fail::usage(format!(
                "--slots must be from 1 to {SLOT_COUNT} (got {n})"
            )));
        }
    }
    let view = load_settled(&entry, ctx, &opts).await?;
    require_healthy(&view, ctx, true, "resharding").await?;

    let terminal = std::io::stdin().is_terminal() && ctx.out.interactive;
    let requested = match args.slots {
        Some(n) => n,
        None if terminal => menu::slot_count()?,
        None => ask_slot_count()?,
    };
    let target = match &args.to {
        Some(id) => master(&view, id)?,
        None if terminal => menu::target(&view)?,
        None => master(&view, &ask_nonempty("What is the receiving node ID? ")?)?,
    };
    let sources = match &args.from {
        Some(list) => sources_from_list(&view, target, list.split(','), ctx)?,
        None if terminal => menu::sources(&view, target)?,
        None => ask_sources(&view, target, ctx)?,
    };
    if sources.is_empty() {
        // A usage error, as in redis-cli (which prints it on stderr).
        return Err(Fail::usage("*** No source nodes given, operation aborted."));
    }
    let plan_sources: Vec<PlanNode> = sources
        .iter()
        .filter_map(|n| plan_node(&view, &n.id))
        .collect();
    let plan = plan_reshard(&plan_sources, &target.id, requested)
        .map_err(|e| Fail::failure(e.to_string()))?;
    print_summary(&view, &sources, target, &plan, ctx);
    if plan.slot_count() == 0 {
        return Err(Fail::failure(
            "the source nodes own no slots: nothing to move",
        ));
    }
    if args.dry_run {
        ctx.out
            .json(&json!({"ok": true, "dry_run": true, "plan": plan}));
        return Ok(ExitCode::Success);
    }
    let accepted = args.confirm.yes
        || if terminal {
            menu::proceed()?
        } else {
            confirm_plan()?
        };
    if !accepted {
        return Err(Fail::failure(
            "reshard plan not accepted; nothing was changed",
        ));
    }
    let report = execute(&view, &plan.transfers, opts, ctx).await;
    ctx.out
        .json(&json!({"ok": report.ok(), "plan": plan, "report": report}));
    outcome(&report)
}

/// The same questions on a terminal: menus of the masters instead of typed ids.
mod menu {
    use anyhow::Result;
    use dialoguer::{Confirm, Input, MultiSelect, Select};

    use super::{all_sources, ClusterNode, ClusterView};
    use crate::exit::{ExitCode, Fail};
    use crate::slot::SLOT_COUNT;

    fn aborted(e: dialoguer::Error) -> anyhow::Error {
        anyhow::Error::new(Fail {
            code: ExitCode::Interrupted,
            message: format!("question aborted: {e}"),
        })
    }

    fn label(n: &ClusterNode) -> String {
        format!("{} {} ({} slots)", n.id, n.addr, n.slots.len())
    }

    pub fn slot_count() -> Result<usize> {
        Input::<usize>::new()
            .with_prompt("How many slots do you want to move (from 1 to 16384)?")
            .validate_with(|n: &usize| {
                if (1..=SLOT_COUNT as usize).contains(n) {
                    Ok(())
                } else {
                    Err("from 1 to 16384")
                }
            })
            .interact_text()
            .map_err(aborted)
    }

    pub fn target(view: &ClusterView) -> Result<&ClusterNode> {
        let masters: Vec<&ClusterNode> = view.masters().collect();
        let labels: Vec<String> = masters.iter().map(|n| label(n)).collect();
        let pick = Select::new()
            .with_prompt("What is the receiving node ID?")
            .items(&labels)
            .default(0)
            .interact_opt()
            .map_err(aborted)?;
        pick.map(|i| masters[i])
            .ok_or_else(|| Fail::failure("no receiving node chosen; operation aborted"))
    }

    pub fn sources<'a>(
        view: &'a ClusterView,
        target: &ClusterNode,
    ) -> Result<Vec<&'a ClusterNode>> {
        let candidates = all_sources(view, target);
        let mut labels = vec!["all (every master except the receiving one)".to_string()];
        labels.extend(candidates.iter().map(|n| label(n)));
        let picked = MultiSelect::new()
            .with_prompt("Please choose the source nodes (space selects, enter confirms)")
            .items(&labels)
            .interact_opt()
            .map_err(aborted)?
            .unwrap_or_default();
        if picked.contains(&0) {
            return Ok(candidates);
        }
        Ok(picked.into_iter().map(|i| candidates[i - 1]).collect())
    }

    pub fn proceed() -> Result<bool> {
        Ok(Confirm::new()
            .with_prompt("Do you want to proceed with the proposed reshard plan?")
            .default(false)
            .interact_opt()
            .map_err(aborted)?
            .unwrap_or(false))
    }
}

/// A master by full id or unambiguous prefix (case-insensitive), as redis-cli's message says.
fn master<'a>(view: &'a ClusterView, id: &str) -> Result<&'a ClusterNode> {
    match view.find_prefix(id.trim()) {
        Ok(n) if n.is_master() => Ok(n),
        _ => Err(Fail::failure(format!(
            "*** The specified node ({}) is not known or not a master, please retry.",
            id.trim()
        ))),
    }
}

fn all_sources<'a>(view: &'a ClusterView, target: &ClusterNode) -> Vec<&'a ClusterNode> {
    view.masters()
        .filter(|n| n.id != target.id && n.master_id.is_none())
        .collect()
}

fn sources_from_list<'a, 'b>(
    view: &'a ClusterView,
    target: &ClusterNode,
    ids: impl Iterator<Item = &'b str>,
    ctx: &Context,
) -> Result<Vec<&'a ClusterNode>> {
    let ids: Vec<&str> = ids.map(str::trim).filter(|s| !s.is_empty()).collect();
    if ids.iter().any(|s| s.eq_ignore_ascii_case("all")) {
        return Ok(all_sources(view, target));
    }
    let mut out: Vec<&ClusterNode> = Vec::new();
    for id in ids {
        let n = master(view, id)?;
        if n.id == target.id {
            ctx.out
                .line("*** It is not possible to use the target node as source node.");
        } else if !out.iter().any(|o| o.id == n.id) {
            out.push(n);
        }
    }
    Ok(out)
}

fn eof() -> anyhow::Error {
    Fail::failure("end of input before the question was answered; operation aborted")
}

fn ask_slot_count() -> Result<usize> {
    for _ in 0..1000 {
        let Some(answer) = ask_line("How many slots do you want to move (from 1 to 16384)? ")?
        else {
            return Err(eof());
        };
        if let Ok(n) = answer.parse::<usize>() {
            if (1..=SLOT_COUNT as usize).contains(&n) {
                return Ok(n);
            }
        }
    }
    Err(Fail::failure("too many invalid answers"))
}

fn ask_nonempty(prompt: &str) -> Result<String> {
    for _ in 0..1000 {
        match ask_line(prompt)? {
            None => return Err(eof()),
            Some(a) if !a.is_empty() => return Ok(a),
            Some(_) => {}
        }
    }
    Err(Fail::failure("too many empty answers"))
}

fn ask_sources<'a>(
    view: &'a ClusterView,
    target: &ClusterNode,
    ctx: &Context,
) -> Result<Vec<&'a ClusterNode>> {
    ask_note("Please enter all the source node IDs.");
    ask_note("  Type 'all' to use all the nodes as source nodes for the hash slots.");
    ask_note("  Type 'done' once you entered all the source nodes IDs.");
    let mut out: Vec<&ClusterNode> = Vec::new();
    for _ in 0..10_000 {
        let answer = ask_nonempty(&format!("Source node #{}: ", out.len() + 1))?;
        if answer.eq_ignore_ascii_case("done") {
            return Ok(out);
        }
        if answer.eq_ignore_ascii_case("all") {
            return Ok(all_sources(view, target));
        }
        let n = master(view, &answer)?;
        if n.id == target.id {
            ctx.out
                .line("*** It is not possible to use the target node as source node.");
        } else if !out.iter().any(|o| o.id == n.id) {
            out.push(n);
        }
    }
    Err(Fail::failure("too many source nodes"))
}

fn confirm_plan() -> Result<bool> {
    match ask_line("Do you want to proceed with the proposed reshard plan (yes/no)? ")? {
        None => Err(eof()),
        Some(a) => Ok(a.eq_ignore_ascii_case("yes") || a.eq_ignore_ascii_case("y")),
    }
}

fn print_summary(
    view: &ClusterView,
    sources: &[&ClusterNode],
    target: &ClusterNode,
    plan: &ReshardPlan,
    ctx: &Context,
) {
    let out = &ctx.out;
    out.blank();
    // The number that will really move (redis-cli prints the requested one even when short).
    out.line(&format!("Ready to move {} slots.", plan.slot_count()));
    out.line("  Source nodes:");
    for s in sources {
        for l in node_block(view, s, "    ") {
            out.line(&l);
        }
    }
    out.line("  Destination node:");
    for l in node_block(view, target, "    ") {
        out.line(&l);
    }
    out.line("  Resharding plan:");
    for line in plan.to_string().lines() {
        out.line(line);
    }
}
