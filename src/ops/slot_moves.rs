//! What reshard and rebalance share: loading the view once gossip has settled, refusing an
//! unhealthy cluster (naming the problem, pointing at `trib fix`), resolving the move options,
//! and running the engine with progress and a final report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::addr::NodeAddr;
use crate::cli::MoveArgs;
use crate::exit::{ExitCode, Fail};
use crate::migrate::{
    response_timeout_for, Engine, EngineNode, MigrateOptions, MigrateReport, DEFAULT_BATCH_KEYS,
    DEFAULT_PARALLEL,
};
use crate::ops::common::check_section;
use crate::ops::Context;
use crate::output::progress::Progress;
use crate::plan::moves::{PlanNode, Transfer};
use crate::remote::view::{ClusterNode, ClusterView, SkipReason};

/// How long to wait for a cluster that looks unhealthy to settle before refusing.
pub const SETTLE_LIMIT: Duration = Duration::from_secs(10);

/// Resolves `--timeout`, `--pipeline`, `--replace`, `--parallel` (bad values: usage errors).
pub fn move_options(args: &MoveArgs, ctx: &Context) -> Result<MigrateOptions> {
    if args.timeout == 0 {
        return Err(Fail::usage("--timeout must be at least 1 ms"));
    }
    let batch_keys = args.pipeline.unwrap_or(DEFAULT_BATCH_KEYS);
    if batch_keys == 0 {
        // redis-cli hands the slot over while its keys stay behind (GETKEYSINSLOT 0).
        return Err(Fail::usage("--pipeline must be at least 1"));
    }
    let parallel = args.parallel.unwrap_or(DEFAULT_PARALLEL);
    if parallel == 0 {
        return Err(Fail::usage("--parallel must be at least 1"));
    }
    Ok(MigrateOptions {
        timeout_ms: args.timeout,
        batch_keys,
        replace: args.replace,
        parallel,
        credentials: ctx.connect.credentials.clone(),
        ..MigrateOptions::default()
    })
}

/// Loads the view, and while it looks unhealthy (a node added a moment ago is not known
/// everywhere yet; replicas lag after a move) loads it again, for at most `SETTLE_LIMIT`.
/// Connections wait long enough for a big-key MIGRATE.
pub async fn load_settled(
    entry: &NodeAddr,
    ctx: &Context,
    opts: &MigrateOptions,
) -> Result<ClusterView> {
    let mut connect = ctx.connect.clone();
    connect.response_timeout = response_timeout_for(opts.timeout_ms);
    let started = Instant::now();
    let mut attempts = 0u32;
    let view = loop {
        attempts += 1;
        let view = ClusterView::load(entry, &connect).await?;
        // A master that is gone keeps cluster_state at fail: waiting for ok is waiting in vain.
        if (settled(&view) && (view.unreachable_masters() > 0 || states_ok(&view).await))
            || started.elapsed() >= SETTLE_LIMIT
            || attempts >= 100
        {
            break view;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
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

/// Every node agrees on the slot map, no handshake is in progress, and every table lists the
/// same members (a node added a moment ago is missing from some tables, which makes SETSLOT
/// fail with "I don't know about node").
fn settled(view: &ClusterView) -> bool {
    fn ids(n: &ClusterNode) -> Vec<&str> {
        let mut v: Vec<&str> = n.table.iter().map(|l| l.id.as_str()).collect();
        v.sort_unstable();
        v
    }
    let first = view.nodes.first().map(ids);
    view.agrees()
        && view.nodes.iter().all(|n| {
            n.table
                .iter()
                .all(|l| !l.has_flag("handshake") && !l.has_flag("noaddr"))
                && Some(ids(n)) == first
                && view
                    .nodes
                    .iter()
                    .all(|o| n.table.iter().any(|l| l.id == o.id))
        })
}

/// Every node says `cluster_state:ok`: a node that joined a moment ago still says `fail`
/// and answers the RESTORE of a MIGRATE with CLUSTERDOWN.
async fn states_ok(view: &ClusterView) -> bool {
    let states = futures_util::future::join_all(
        view.nodes
            .iter()
            .map(|n| n.conn.request_string(["CLUSTER", "INFO"])),
    )
    .await;
    states
        .iter()
        .all(|s| s.as_ref().is_ok_and(|t| t.contains("cluster_state:ok")))
}

/// Prints the check section and refuses (exit 1) when the cluster has a problem.
pub async fn require_healthy(
    view: &ClusterView,
    ctx: &Context,
    list_nodes: bool,
    doing: &str,
) -> Result<()> {
    let health = check_section(view, false, list_nodes, &ctx.out).await?;
    let problems = health.problems();
    if problems.is_empty() {
        return Ok(());
    }
    Err(Fail::failure(format!(
        "*** Please fix your cluster problems before {doing} ({}); `trib fix` repairs open and uncovered slots",
        problems.join("; ")
    )))
}

/// A master as the planners see it.
pub fn plan_node(view: &ClusterView, id: &str) -> Option<PlanNode> {
    view.by_id(id).map(|n| {
        PlanNode::new(
            n.id.clone(),
            n.addr.to_string(),
            n.slots.iter().collect::<Vec<_>>(),
        )
    })
}

/// The exit code for a finished run: 0, 1 when slots failed, 130 when interrupted.
pub fn outcome(report: &MigrateReport) -> Result<ExitCode> {
    if report.interrupted {
        Err(anyhow::Error::new(Fail {
            code: ExitCode::Interrupted,
            message: String::new(),
        }))
    } else if report.ok() {
        Ok(ExitCode::Success)
    } else {
        Err(Fail::reported())
    }
}

/// Runs the transfers with progress on stderr (or NDJSON on stdout) and prints the outcome:
/// `[OK]` with counts, or every slot given up with `[ERR]` (the caller exits 1).
pub async fn execute(
    view: &ClusterView,
    transfers: &[Transfer],
    opts: MigrateOptions,
    ctx: &Context,
) -> MigrateReport {
    let nodes: Vec<EngineNode> = view
        .masters()
        .map(|n| EngineNode {
            id: n.id.clone(),
            conn: n.conn.clone(),
        })
        .collect();
    let replicas = view.replicas().map(|n| n.conn.clone()).collect();
    let engine = Engine::new(nodes, opts).with_replicas(replicas);
    let stop = engine.stop_flag();
    // Ctrl-C: finish the slots in flight and open no more; a second Ctrl-C quits at once.
    let listener = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(ExitCode::Interrupted.code());
            }
        }
    });
    let sink = Arc::new(Progress::new(ctx.out.mode(), ctx.out.interactive));
    let report = engine.run(transfers, sink).await;
    listener.abort();
    let secs = report.elapsed_ms as f64 / 1000.0;
    if report.interrupted {
        ctx.out.err(&format!(
            "Interrupted: {} slots moved, {} left where they were.",
            report.slots_moved, report.not_moved
        ));
    }
    if report.ok() {
        ctx.out.ok(&format!(
            "Moved {} slots and {} keys in {secs:.2} s.",
            report.slots_moved, report.keys_moved
        ));
    } else if !report.failed.is_empty() {
        ctx.out.err(&format!(
            "{} slot(s) could not be moved ({} moved, {} keys, {secs:.2} s); they are left open for `trib fix`:",
            report.failed.len(),
            report.slots_moved,
            report.keys_moved
        ));
        for f in &report.failed {
            let name = |id: &str| {
                view.by_id(id)
                    .map(|n| n.addr.to_string())
                    .unwrap_or_else(|| id.to_string())
            };
            ctx.out.line(&format!(
                "    slot {} ({} -> {}): {}",
                f.slot,
                name(&f.source),
                name(&f.target),
                f.reason
            ));
        }
    }
    report
}
