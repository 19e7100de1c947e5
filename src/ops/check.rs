//! `trib check`: the info summary, then every check redis-cli makes (agreement, open slots,
//! coverage, multiple owners) plus unreachable/failed members and keys in non-owned slots.
//! Exit 0 only when the cluster is healthy; otherwise 1 with the problems named.

use anyhow::Result;
use serde_json::json;

use crate::cli::CheckArgs;
use crate::exit::{ExitCode, Fail};
use crate::ops::common::{check_section, dbsizes, load_view_probing, parse_entry, print_info};
use crate::ops::Context;
use crate::output::json;

pub async fn run(args: &CheckArgs, ctx: &Context) -> Result<ExitCode> {
    let entry = parse_entry(&args.entry.node)?;
    let view = load_view_probing(&entry, ctx).await?;
    let sizes = dbsizes(&view);
    let info = print_info(&view, &sizes, &ctx.out);
    let health = check_section(&view, args.search_multiple_owners, true, &ctx.out).await?;
    let mut problems = health.problems();
    if let Err(e) = &info {
        problems.insert(0, e.clone());
    }
    if ctx.out.is_json() {
        let nodes: Vec<_> = view
            .nodes
            .iter()
            .zip(&sizes)
            .map(|(n, s)| {
                json::node(
                    &view,
                    n,
                    if n.replica {
                        None
                    } else {
                        s.as_ref().ok().copied()
                    },
                )
            })
            .collect();
        ctx.out.json(&json!({
            "ok": problems.is_empty(),
            "entry": view.entry.to_string(),
            "nodes": nodes,
            "keys": info.as_ref().ok(),
            "checks": health,
            "problems": problems,
        }));
        if !problems.is_empty() {
            return Err(Fail::reported());
        }
        return Ok(ExitCode::Success);
    }
    if problems.is_empty() {
        Ok(ExitCode::Success)
    } else {
        Err(Fail::failure(format!(
            "cluster has problems: {}",
            problems.join("; ")
        )))
    }
}
