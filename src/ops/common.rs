//! What most subcommands start with: parse the entry address, load the cluster view (printing
//! redis-cli's notices about members that could not be loaded), count keys per master, and the
//! cluster check section. Shared so every op reports the same way.

use anyhow::Result;

use crate::addr::NodeAddr;
use crate::exit::Fail;
use crate::ops::Context;
use crate::output::cluster::{info_line, node_block};
use crate::output::Reporter;
use crate::remote::health::{short_id, Health};
use crate::remote::strays;
use crate::remote::view::{ClusterView, SkipReason};

/// `host:port`, or `host port` as redis-cli accepts it; a bad one is a usage error.
pub fn parse_entry(words: &[String]) -> Result<NodeAddr> {
    NodeAddr::parse_host_and_port(words).map_err(|e| Fail::usage(e.to_string()))
}

/// One `host:port` argument; a bad one is a usage error.
pub fn parse_addr(text: &str) -> Result<NodeAddr> {
    NodeAddr::parse(text).map_err(|e| Fail::usage(e.to_string()))
}

/// Loads the view and prints what redis-cli prints while loading: a `Could not connect ...`
/// line (stderr) per unreachable member and `*** WARNING: ... claims to be slave of unknown
/// node ID ...` lines.
pub async fn load_view(entry: &NodeAddr, ctx: &Context) -> Result<ClusterView> {
    report_load(ClusterView::load(entry, &ctx.connect).await?, ctx)
}

/// `load_view` asking only the masters (for `info`).
pub async fn load_view_masters(entry: &NodeAddr, ctx: &Context) -> Result<ClusterView> {
    report_load(ClusterView::load_masters(entry, &ctx.connect).await?, ctx)
}

/// `load_view` for a full check: masters count their stray keys as soon as they answer.
pub async fn load_view_probing(entry: &NodeAddr, ctx: &Context) -> Result<ClusterView> {
    report_load(ClusterView::load_probing(entry, &ctx.connect).await?, ctx)
}

fn report_load(view: ClusterView, ctx: &Context) -> Result<ClusterView> {
    for s in &view.skipped {
        if let (SkipReason::Unreachable | SkipReason::Error, Some(detail)) = (&s.reason, &s.detail)
        {
            ctx.out.notice(detail);
        }
    }
    for w in &view.warnings {
        ctx.out.line(&format!("*** WARNING: {w}"));
    }
    Ok(view)
}

/// Key counts of every node as loaded with the view (replicas count 0: their keys are their
/// master's); the error text where DBSIZE failed.
pub fn dbsizes(view: &ClusterView) -> Vec<Result<u64, String>> {
    view.nodes
        .iter()
        .map(|n| if n.replica { Ok(0) } else { n.dbsize.clone() })
        .collect()
}

/// The info summary (§2.3): one line per master, the total, the average.
/// Returns the total number of keys; a DBSIZE error is printed and named in the result.
pub fn print_info(
    view: &ClusterView,
    sizes: &[Result<u64, String>],
    out: &Reporter,
) -> Result<u64, String> {
    let mut total = 0u64;
    let mut masters = 0usize;
    for (n, size) in view.nodes.iter().zip(sizes) {
        if n.replica {
            continue;
        }
        match size {
            Ok(k) => {
                out.line(&info_line(view, n, *k));
                total += k;
                masters += 1;
            }
            Err(e) => {
                out.err(&format!("Node {} replied with error: {e}", n.addr));
                return Err(format!("{}: DBSIZE: {e}", n.addr));
            }
        }
    }
    out.ok(&format!("{total} keys in {masters} masters."));
    out.line(&format!(
        "{:.2} keys per slot on average.",
        total as f64 / 16384.0
    ));
    Ok(total)
}

/// The cluster check section (§2.2 steps 3-7, plus trib's own findings), printed; returns the
/// findings. `list_nodes` prints the `M:`/`S:` blocks.
pub async fn check_section(
    view: &ClusterView,
    search_multiple_owners: bool,
    list_nodes: bool,
    out: &Reporter,
) -> Result<Health> {
    let strays = strays::find(view)
        .await
        .map_err(|e| Fail::failure(format!("looking for keys in non-owned slots: {e}")))?;
    let health = Health::assess(view).with_strays(view, strays, search_multiple_owners);

    out.step(&format!(
        "Performing Cluster Check (using node {})",
        view.entry
    ));
    if list_nodes {
        for n in &view.nodes {
            for l in node_block(view, n, "") {
                out.line(&l);
            }
        }
    }
    if health.agree {
        out.ok("All nodes agree about slots configuration.");
    } else {
        out.err("Nodes don't agree about configuration!");
        for n in view.disagreeing() {
            out.line(&format!(
                "*** {} ({}) sees a different slot map: {}",
                n.addr,
                short_id(&n.id),
                ClusterView::signature_of(n)
                    .split('|')
                    .map(|p| p
                        .split_once(':')
                        .map(|(id, s)| format!("{}:{s}", short_id(id)))
                        .unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
    }
    out.step("Check for open slots...");
    for n in &health.open_nodes {
        if !n.migrating.is_empty() {
            out.warn(&format!(
                "Node {} has slots in migrating state {}.",
                n.addr,
                join(&n.migrating)
            ));
        }
        if !n.importing.is_empty() {
            out.warn(&format!(
                "Node {} has slots in importing state {}.",
                n.addr,
                join(&n.importing)
            ));
        }
    }
    if !health.open_slots.is_empty() {
        out.warn(&format!(
            "The following slots are open: {}.",
            join(&health.open_slots)
        ));
    }
    out.step("Check slots coverage...");
    if health.uncovered_count == 0 {
        out.ok("All 16384 slots covered.");
    } else {
        out.err("Not all 16384 slots are covered by nodes.");
        out.line(&format!(
            "*** {} uncovered slots: {}",
            health.uncovered_count,
            crate::remote::health::ranges_text(&health.uncovered)
        ));
    }
    for s in &health.skipped {
        out.err(&crate::output::cluster::down_line(view, s));
    }
    for s in &health.stray_keys {
        out.err(&format!(
            "Node {} has {} key(s) in slot {}, which it does not own.",
            s.addr, s.keys, s.slot
        ));
    }
    if let Some(multi) = &health.multiple_owners {
        out.step("Check for multiple slot owners...");
        if multi.is_empty() {
            out.ok("No multiple owners found.");
        }
        for m in multi {
            out.warn(&format!("Slot {} has {} owners:", m.slot, m.owners.len()));
            for o in &m.owners {
                out.line(&format!("    {o}"));
            }
        }
    }
    Ok(health)
}

fn join(v: &[u16]) -> String {
    v.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(",")
}
