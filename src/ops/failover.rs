//! `trib failover ENTRY (--replica R | --master M) [--force | --takeover] [--yes] [--timeout MS]`:
//! promote a replica with CLUSTER FAILOVER, wait (bounded) until the cluster agrees, print the
//! new topology. Choosing among a master's replicas is `failover_pick`; this file resolves the
//! nodes, refuses what cannot work, asks before FORCE/TAKEOVER, sends, waits and reports.

use std::time::{Duration, Instant};

use anyhow::Result;
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::addr::NodeAddr;
use crate::cli::FailoverArgs;
use crate::cluster::health::short_id;
use crate::cluster::nodes::NodeLine;
use crate::cluster::view::{ClusterNode, ClusterView, LookupError, SkipReason, SkippedNode};
use crate::exit::{ExitCode, Fail};
use crate::ops::common::{load_view, parse_entry};
use crate::ops::failover_pick::{best, parse_replication, reason, Facts, Mode};
use crate::ops::Context;
use crate::output::cluster::{bracket_ranges, node_block};
use crate::output::{json as json_shape, Answer};
use crate::slot::SlotSet;

/// How often the wait reloads the view.
const POLL: Duration = Duration::from_millis(250);

/// A node named on the command line: loaded, or known to the entry node but not loadable.
enum Named<'a> {
    Loaded(&'a ClusterNode),
    Skipped(&'a SkippedNode),
}

/// The master being replaced, as the entry node describes it (it may be down).
struct OldMaster {
    id: String,
    addr: String,
    slots: SlotSet,
    /// Why it cannot take part (unreachable, flagged failing), or `None` when it is up.
    down: Option<String>,
}

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
            let replica = named_replica(&view, r)?;
            let old = old_master(&view, replica)?;
            let mut facts = facts_of(&view, &[replica]).await.remove(0);
            // nofailover only stops automatic failovers; a replica named by the operator may
            // still be promoted by hand, as CLUSTER FAILOVER allows.
            facts.nofailover = false;
            refuse_plain_if_unready(&old, &facts, mode)?;
            if let Some(why) = facts.excluded(mode) {
                return Err(Fail::failure(format!(
                    "Replica {} ({}) cannot be promoted: {why}.",
                    replica.addr,
                    short_id(&replica.id)
                )));
            }
            (replica, old, None)
        }
        (None, Some(m)) => {
            let old = named_master(&view, m)?;
            let replicas: Vec<&ClusterNode> = view
                .replicas()
                .filter(|n| n.master_id.as_deref() == Some(old.id.as_str()))
                .collect();
            if mode == Mode::Default {
                if let Some(down) = &old.down {
                    return Err(master_down(&old, down));
                }
            }
            let facts = facts_of(&view, &replicas).await;
            let Some(i) = best(&facts, mode) else {
                return Err(no_candidate(&view, &old, &facts, mode));
            };
            let why = reason(&facts, i, mode);
            out.step(&format!(
                "Chose replica {} ({}) of master {}: {why}",
                replicas[i].addr,
                short_id(&replicas[i].id),
                old.addr
            ));
            for (f, r) in facts.iter().zip(&replicas) {
                if r.id != replicas[i].id {
                    let state = f.excluded(mode).unwrap_or_else(|| {
                        let link = if f.link_up { "up" } else { "down" };
                        format!("link {link}, offset {}", f.offset)
                    });
                    out.line(&format!(
                        "    not chosen: {} ({}): {state}",
                        r.addr,
                        short_id(&r.id)
                    ));
                }
            }
            (replicas[i], old, Some((facts, why)))
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

/// Finds `text` (a node id, an id prefix, or host:port) among loaded and skipped members.
fn lookup<'a>(view: &'a ClusterView, text: &str) -> Result<Named<'a>> {
    if text.contains(':') {
        if let Ok(addr) = NodeAddr::parse(text) {
            if let Some(n) = view.by_addr(&addr) {
                return Ok(Named::Loaded(n));
            }
            let wanted = format!("{}:{}", addr.host, addr.port);
            if let Some(s) = view.skipped.iter().find(|s| s.addr == wanted) {
                return Ok(Named::Skipped(s));
            }
            return Err(Fail::failure(format!("No node at {text} in this cluster")));
        }
    }
    match view.find_prefix(text) {
        Ok(n) => Ok(Named::Loaded(n)),
        Err(LookupError::NotFound(_)) => {
            let lower = text.to_ascii_lowercase();
            let hits: Vec<&SkippedNode> = view
                .skipped
                .iter()
                .filter(|s| !lower.is_empty() && s.id.to_ascii_lowercase().starts_with(&lower))
                .collect();
            match hits.as_slice() {
                [one] => Ok(Named::Skipped(one)),
                _ => Err(Fail::failure(format!("No such node ID {text}"))),
            }
        }
        Err(e) => Err(Fail::failure(e.to_string())),
    }
}

/// `--replica`: a loaded replica, or a refusal naming what the node is.
fn named_replica<'a>(view: &'a ClusterView, text: &str) -> Result<&'a ClusterNode> {
    match lookup(view, text)? {
        Named::Loaded(n) if n.is_master() => Err(Fail::failure(format!(
            "Node {} ({}) is a master; --replica takes one of its replicas (or use --master {}).",
            n.addr,
            short_id(&n.id),
            short_id(&n.id)
        ))),
        Named::Loaded(n) => {
            if let Some(flag) = failing_flag(view, &n.id) {
                return Err(Fail::failure(format!(
                    "Replica {} ({}) is flagged {flag}: a failing replica cannot be promoted.",
                    n.addr,
                    short_id(&n.id)
                )));
            }
            Ok(n)
        }
        Named::Skipped(s) => Err(Fail::failure(format!(
            "{} {} ({}) {}: it cannot be promoted.",
            if s.was_master { "Master" } else { "Replica" },
            s.addr,
            short_id(&s.id),
            skip_text(&s.reason)
        ))),
    }
}

/// `--master`: a master, loaded or down (a down master is what `--force` is for).
fn named_master(view: &ClusterView, text: &str) -> Result<OldMaster> {
    let (id, addr) = match lookup(view, text)? {
        Named::Loaded(n) if n.replica => {
            return Err(Fail::failure(format!(
                "Node {} ({}) is a replica; --master takes its master (or use --replica {}).",
                n.addr,
                short_id(&n.id),
                short_id(&n.id)
            )))
        }
        Named::Skipped(s) if !s.was_master => {
            return Err(Fail::failure(format!(
                "Node {} ({}) is a replica, and {}.",
                s.addr,
                short_id(&s.id),
                skip_text(&s.reason)
            )))
        }
        Named::Loaded(n) => (n.id.clone(), n.name()),
        Named::Skipped(s) => (s.id.clone(), s.addr.clone()),
    };
    Ok(describe_master(view, &id, addr))
}

/// The master of a loaded replica.
fn old_master(view: &ClusterView, replica: &ClusterNode) -> Result<OldMaster> {
    let Some(id) = replica.master_id.clone() else {
        return Err(Fail::failure(format!(
            "Replica {} ({}) names no master.",
            replica.addr,
            short_id(&replica.id)
        )));
    };
    let addr = view
        .by_id(&id)
        .map(|n| n.name())
        .or_else(|| entry_line(view, &id).map(|l| format!("{}:{}", l.ip, l.port)))
        .unwrap_or_else(|| id.clone());
    Ok(describe_master(view, &id, addr))
}

fn describe_master(view: &ClusterView, id: &str, addr: String) -> OldMaster {
    let loaded = view.by_id(id);
    let slots = loaded
        .map(|n| n.slots.clone())
        .or_else(|| entry_line(view, id).map(|l| l.slots.clone()))
        .unwrap_or_default();
    let down = match (loaded, view.skipped.iter().find(|s| s.id == id)) {
        (_, Some(s)) => Some(skip_text(&s.reason).to_string()),
        (None, None) => Some("is unknown to the entry node".to_string()),
        (Some(_), None) => failing_flag(view, id).map(|f| format!("is flagged {f}")),
    };
    OldMaster {
        id: id.to_string(),
        addr,
        slots,
        down,
    }
}

/// The entry node's line about `id`.
fn entry_line<'a>(view: &'a ClusterView, id: &str) -> Option<&'a NodeLine> {
    view.nodes.first()?.table.iter().find(|l| l.id == id)
}

/// `fail?` or `fail` when the entry node flags `id` so.
fn failing_flag(view: &ClusterView, id: &str) -> Option<&'static str> {
    let line = entry_line(view, id)?;
    if line.has_flag("fail") {
        Some("fail")
    } else if line.has_flag("fail?") {
        Some("fail?")
    } else {
        None
    }
}

fn skip_text(reason: &SkipReason) -> &'static str {
    match reason {
        SkipReason::Failed => "is flagged fail",
        SkipReason::NoAddress => "has no address",
        SkipReason::Unreachable => "is unreachable",
        SkipReason::Error => "answered with an error",
    }
}

/// INFO replication and flags of each replica, asked concurrently.
async fn facts_of(view: &ClusterView, replicas: &[&ClusterNode]) -> Vec<Facts> {
    let infos = join_all(
        replicas
            .iter()
            .map(|r| r.conn.request_string(["INFO", "replication"])),
    )
    .await;
    replicas
        .iter()
        .zip(infos)
        .map(|(r, info)| {
            let (link_up, offset) = info.as_deref().map(parse_replication).unwrap_or_default();
            Facts {
                id: r.id.clone(),
                addr: r.name(),
                link_up,
                offset,
                failed: failing_flag(view, &r.id).is_some(),
                nofailover: r.flags.iter().any(|f| f == "nofailover")
                    || entry_line(view, &r.id).is_some_and(|l| l.has_flag("nofailover")),
                info_error: info.err().map(|e| e.to_string()),
            }
        })
        .collect()
}

/// A plain failover needs the master up and the replica's link to it up.
fn refuse_plain_if_unready(old: &OldMaster, facts: &Facts, mode: Mode) -> Result<()> {
    if mode != Mode::Default {
        return Ok(());
    }
    if let Some(down) = &old.down {
        return Err(master_down(old, down));
    }
    if !facts.link_up && facts.info_error.is_none() {
        return Err(Fail::failure(format!(
            "Replica {} ({}) reports master_link_status:down: a plain failover waits for it to catch up and would time out; use --force to promote it anyway (writes it has not replicated are lost).",
            facts.addr,
            short_id(&facts.id)
        )));
    }
    Ok(())
}

fn master_down(old: &OldMaster, down: &str) -> anyhow::Error {
    Fail::failure(format!(
        "Master {} ({}) {down}: a plain failover needs its agreement; use --force to promote a replica without it (writes it has not replicated are lost).",
        old.addr,
        short_id(&old.id)
    ))
}

fn no_candidate(view: &ClusterView, old: &OldMaster, facts: &[Facts], mode: Mode) -> anyhow::Error {
    let mut why: Vec<String> = facts
        .iter()
        .map(|f| {
            format!(
                "{} ({}) {}",
                f.addr,
                short_id(&f.id),
                f.excluded(mode).unwrap_or_default()
            )
        })
        .collect();
    // Replicas the entry node lists that could not even be loaded.
    for s in &view.skipped {
        if entry_line(view, &s.id).is_some_and(|l| l.master_id.as_deref() == Some(&old.id)) {
            why.push(format!(
                "{} ({}) {}",
                s.addr,
                short_id(&s.id),
                skip_text(&s.reason)
            ));
        }
    }
    let hint = if mode == Mode::Default && facts.iter().any(|f| f.excluded(Mode::Force).is_none()) {
        "; --force promotes a replica whose link is down"
    } else if facts.iter().any(|f| f.nofailover) {
        "; name a nofailover replica with --replica to promote it anyway"
    } else {
        ""
    };
    if why.is_empty() {
        return Fail::failure(format!(
            "Master {} ({}) has no replicas to promote.",
            old.addr,
            short_id(&old.id)
        ));
    }
    Fail::failure(format!(
        "No replica of master {} ({}) can be promoted: {}{hint}.",
        old.addr,
        short_id(&old.id),
        why.join("; ")
    ))
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

/// Reloads the view until the cluster agrees that `new_id` replaced `old`, or `limit` passes.
/// Returns the last view and what was still pending (empty: done).
async fn wait_agreed(
    entry: &NodeAddr,
    ctx: &Context,
    new_id: &str,
    old: &OldMaster,
    limit: Duration,
) -> (Option<ClusterView>, Vec<String>) {
    let started = Instant::now();
    let max_polls = limit.as_millis() / POLL.as_millis() + 2;
    let mut last = (None, vec!["nothing was checked".to_string()]);
    for _ in 0..max_polls {
        // A node that stops answering must not stretch the wait past --timeout (a view load
        // waits up to the 70 s response timeout); at least one full second per attempt.
        let left = limit
            .saturating_sub(started.elapsed())
            .max(Duration::from_secs(1));
        last = match tokio::time::timeout(left, ClusterView::load(entry, &ctx.connect)).await {
            Ok(Ok(view)) => {
                let pending = pending(&view, new_id, old);
                (Some(view), pending)
            }
            Ok(Err(e)) => (last.0, vec![format!("{entry} could not be loaded: {e}")]),
            Err(_) => (
                last.0,
                vec![format!(
                    "the cluster view from {entry} did not load in {} ms (a node does not answer)",
                    left.as_millis()
                )],
            ),
        };
        if last.1.is_empty() || started.elapsed() >= limit {
            break;
        }
        tokio::time::sleep(POLL.min(limit.saturating_sub(started.elapsed()))).await;
    }
    last
}

/// What has not happened yet, one phrase each (empty when the failover is complete).
fn pending(view: &ClusterView, new_id: &str, old: &OldMaster) -> Vec<String> {
    let mut p = Vec::new();
    let Some(new) = view.by_id(new_id) else {
        return vec![format!("{} is not reachable", short_id(new_id))];
    };
    if new.replica {
        p.push(format!("{} still reports itself a replica", new.addr));
    }
    let missing = old.slots.iter().filter(|s| !new.slots.contains(*s)).count();
    if missing > 0 {
        p.push(format!(
            "{} does not own {missing} of the old master's slots yet",
            new.addr
        ));
    }
    let behind: Vec<String> = view
        .nodes
        .iter()
        .filter(|n| {
            n.table
                .iter()
                .find(|l| l.id == new_id)
                .is_some_and(|l| !l.is_master())
        })
        .map(|n| n.name())
        .collect();
    if !behind.is_empty() {
        p.push(format!(
            "{} still see(s) {} as a replica",
            behind.join(", "),
            new.addr
        ));
    }
    let differ: Vec<String> = view.disagreeing().iter().map(|n| n.name()).collect();
    if !differ.is_empty() {
        p.push(format!(
            "nodes don't agree about the slots yet ({} differ)",
            differ.join(", ")
        ));
    }
    if let Some(o) = view.by_id(&old.id) {
        if o.is_master() || o.master_id.as_deref() != Some(new_id) {
            p.push(format!(
                "the old master {} has not become a replica of {} yet",
                o.addr, new.addr
            ));
        }
    }
    p
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
