//! Which nodes `trib failover` acts on: the replica named by `--replica`, or the best replica
//! of the master named by `--master` (ranked by `failover_pick`), and the master being
//! replaced; and every refusal, one clear line each. Reads INFO replication; changes nothing.

use anyhow::Result;
use futures_util::future::join_all;

use crate::addr::NodeAddr;
use crate::exit::Fail;
use crate::ops::failover_pick::{best, parse_replication, reason, Facts, Mode};
use crate::output::Reporter;
use crate::remote::health::short_id;
use crate::remote::nodes::NodeLine;
use crate::remote::view::{ClusterNode, ClusterView, LookupError, SkipReason, SkippedNode};
use crate::slot::SlotSet;

/// A node named on the command line: loaded, or known to the entry node but not loadable.
enum Named<'a> {
    Loaded(&'a ClusterNode),
    Skipped(&'a SkippedNode),
}

/// The master being replaced, as the entry node describes it (it may be down).
pub struct OldMaster {
    pub id: String,
    pub addr: String,
    pub slots: SlotSet,
    /// Why it cannot take part (unreachable, flagged failing), or `None` when it is up.
    pub down: Option<String>,
}

/// `--replica`: the named replica and its master, or why it cannot be promoted in `mode`.
pub async fn by_replica<'a>(
    view: &'a ClusterView,
    text: &str,
    mode: Mode,
) -> Result<(&'a ClusterNode, OldMaster)> {
    let replica = named_replica(view, text)?;
    let old = old_master(view, replica)?;
    let mut facts = facts_of(view, &[replica]).await.remove(0);
    // nofailover only stops automatic failovers; a replica named by the operator may still be
    // promoted by hand, as CLUSTER FAILOVER allows.
    facts.nofailover = false;
    refuse_plain_if_unready(&old, &facts, mode)?;
    if let Some(why) = facts.excluded(mode) {
        return Err(Fail::failure(format!(
            "Replica {} ({}) cannot be promoted: {why}.",
            replica.addr,
            short_id(&replica.id)
        )));
    }
    Ok((replica, old))
}

/// `--master`: the best replica of the named master (printed with why, and why not the
/// others), the master, every candidate's facts and the reason for the choice.
pub async fn by_master<'a>(
    view: &'a ClusterView,
    text: &str,
    mode: Mode,
    out: &Reporter,
) -> Result<(&'a ClusterNode, OldMaster, Vec<Facts>, String)> {
    let old = named_master(view, text)?;
    let replicas: Vec<&ClusterNode> = view
        .replicas()
        .filter(|n| n.master_id.as_deref() == Some(old.id.as_str()))
        .collect();
    if mode == Mode::Default {
        if let Some(down) = &old.down {
            return Err(master_down(&old, down));
        }
    }
    let facts = facts_of(view, &replicas).await;
    let Some(i) = best(&facts, mode) else {
        return Err(no_candidate(view, &old, &facts, mode));
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
    Ok((replicas[i], old, facts, why))
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

pub fn skip_text(reason: &SkipReason) -> &'static str {
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
                master_knows: master_knows(view, r),
            }
        })
        .collect()
}

/// The replica's master, when loaded, lists it as its replica in its own table.
fn master_knows(view: &ClusterView, replica: &ClusterNode) -> bool {
    let Some(master) = replica.master_id.as_deref().and_then(|m| view.by_id(m)) else {
        return true;
    };
    master
        .table
        .iter()
        .find(|l| l.id == replica.id)
        .is_some_and(|l| l.is_replica() && l.master_id.as_deref() == Some(master.id.as_str()))
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
