//! `trib check`: the info summary, then every check redis-cli makes (agreement, open slots,
//! coverage, multiple owners) plus unreachable/failed members and keys in non-owned slots.
//! Exit 0 only when the cluster is healthy; otherwise 1 with the problems named. A member that
//! is down is named with its flags and what it owned; a node that answers trib but that its
//! peers flag `fail?`/`fail` is named too (`fail` is a problem; `fail?` alone, often a moment's
//! lag, only a warning).

use anyhow::Result;
use serde_json::json;

use crate::cli::CheckArgs;
use crate::exit::{ExitCode, Fail};
use crate::ops::common::{check_section, dbsizes, load_view_probing, parse_entry, print_info};
use crate::ops::Context;
use crate::output::json;
use crate::remote::health::short_id;
use crate::remote::view::ClusterView;

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
    let flagged = flagged_by_peers(&view);
    for f in &flagged {
        let text = format!(
            "Node {} ({}) answers trib, but {} flag(s) it {}: to them it is down",
            f.addr,
            short_id(&f.id),
            f.by.join(", "),
            f.flag
        );
        if f.flag == "fail" {
            ctx.out.err(&format!("{text}."));
            problems.push(format!(
                "node {} ({}) is flagged fail by {}",
                f.addr,
                short_id(&f.id),
                f.by.join(", ")
            ));
        } else {
            ctx.out.warn(&format!("{text}."));
        }
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
            "down": down_json(&view),
            "flagged": flagged,
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

/// A loaded node that other loaded nodes flag as failing.
#[derive(Debug, serde::Serialize)]
struct Flagged {
    addr: String,
    id: String,
    /// `fail` when any peer says so, else `fail?`.
    flag: &'static str,
    /// The peers flagging it.
    by: Vec<String>,
}

/// Loaded nodes flagged `fail?`/`fail` in some other loaded node's table.
fn flagged_by_peers(view: &ClusterView) -> Vec<Flagged> {
    let mut found = Vec::new();
    for n in &view.nodes {
        let mut by = Vec::new();
        let mut hard = false;
        for peer in view.nodes.iter().filter(|p| p.id != n.id) {
            if let Some(l) = peer.table.iter().find(|l| l.id == n.id) {
                if l.is_failed() || l.has_flag("fail?") {
                    hard |= l.is_failed();
                    by.push(peer.name());
                }
            }
        }
        if !by.is_empty() {
            found.push(Flagged {
                addr: n.name(),
                id: n.id.clone(),
                flag: if hard { "fail" } else { "fail?" },
                by,
            });
        }
    }
    found
}

/// The members that could not be loaded, with the entry node's flags and what they own.
fn down_json(view: &ClusterView) -> serde_json::Value {
    let entry_table = view
        .nodes
        .first()
        .map(|e| e.table.as_slice())
        .unwrap_or(&[]);
    serde_json::Value::Array(
        view.skipped
            .iter()
            .map(|s| {
                let line = entry_table.iter().find(|l| l.id == s.id);
                json!({
                    "addr": s.addr,
                    "id": s.id,
                    "role": if s.was_master { "master" } else { "replica" },
                    "reason": s.reason,
                    "flags": line.map(|l| l.flags.clone()).unwrap_or_default(),
                    "slots": line.map(|l| json::slot_ranges(&l.slots)).unwrap_or_else(|| json!([])),
                    "master_id": line.and_then(|l| l.master_id.clone()),
                    "replicas": view.replicas_of(&s.id).map(|r| r.name()).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}
