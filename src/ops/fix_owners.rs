//! `trib fix`'s repairs of ownership: a slot that several masters claim or hold keys of is
//! settled on one owner (the others' keys moved to it, their claims dropped), and the slots of
//! masters that are gone are given to live masters (the gone masters then forgotten). The
//! plans come from `plan::fix`; `fix` decides when these run.

use std::collections::BTreeMap;

use anyhow::Result;
use bytes::Bytes;
use serde_json::json;

use crate::cli::FixArgs;
use crate::exit::Fail;
use crate::migrate::conflict::{self, show_key};
use crate::migrate::keys::{classify, get_keys, migrate_cmd, Ends, MigrateError};
use crate::migrate::setslot::setslot_many;
use crate::migrate::MigrateOptions;
use crate::ops::Context;
use crate::output::Answer;
use crate::plan::fix::plan_takeover;
use crate::remote::conn::NodeConn;
use crate::remote::health::{short_id, StrayKeys};
use crate::remote::view::{ClusterView, SkippedNode};
use crate::slot::{Slot, SlotSet};

fn conn<'a>(view: &'a ClusterView, id: &str) -> Result<&'a NodeConn> {
    view.by_id(id)
        .map(|n| &n.conn)
        .ok_or_else(|| Fail::failure(format!("node {id} is not connected")))
}

async fn setslot(c: &NodeConn, slot: Slot, sub: &str, id: Option<&str>) -> Result<()> {
    match setslot_many(c, &[slot], sub, id).await.pop() {
        Some(Err(e)) => Err(Fail::failure(format!(
            "{}: CLUSTER SETSLOT {slot} {sub}{}: {e}",
            c.addr,
            id.map(|i| format!(" {i}")).unwrap_or_default()
        ))),
        _ => Ok(()),
    }
}

/// Settles `slot` on `owner`. Keys first, claims after: a claim dropped while the node still
/// holds keys would make the server delete them (a master that loses a slot to a newer claim
/// drops its keys in it), so every other master's keys are moved to the owner before anyone
/// is told who owns the slot.
pub async fn settle_owner(
    view: &ClusterView,
    slot: Slot,
    owner: &str,
    claim: bool,
    from: &[String],
    unclaim: &[String],
    opts: &MigrateOptions,
) -> Result<()> {
    let owner_conn = conn(view, owner)?;
    let mut left = Vec::new();
    if claim {
        // IMPORTING lets the owner take keys (RESTORE-ASKING) of a slot it does not own yet,
        // and keeps gossip from handing the slot to someone else meanwhile.
        let other = unclaim
            .first()
            .or(from.first())
            .cloned()
            .or_else(|| view.masters().find(|m| m.id != owner).map(|m| m.id.clone()))
            .ok_or_else(|| Fail::failure("no other master to name as the slot's source"))?;
        setslot(owner_conn, slot, "IMPORTING", Some(&other)).await?;
    }
    let drained = drain_all(view, slot, owner_conn, owner, from, opts, &mut left).await;
    if let Err(e) = drained {
        if claim {
            // Back as it was: an owner left importing would turn the next run's plan around.
            let _ = setslot(owner_conn, slot, "STABLE", None).await;
        }
        return Err(e);
    }
    // The other claimants drop the slot before the owner's claim can reach them: a master
    // that still owns a slot when a newer claim arrives deletes its keys in it, and a key whose
    // copies differ may still be there. DELSLOTS keeps the keys; SETSLOT NODE would be refused
    // while it holds them.
    for id in unclaim {
        let c = conn(view, id)?;
        if let Err(e) = c
            .request(["CLUSTER", "DELSLOTS", &slot.get().to_string()])
            .await
        {
            // "already unassigned": gossip got there first.
            if !e.to_string().contains("unassigned") {
                return Err(Fail::failure(format!(
                    "{}: CLUSTER DELSLOTS {slot}: {e}",
                    c.addr
                )));
            }
        }
    }
    if claim {
        // On itself, SETSLOT NODE clears IMPORTING and takes a new config epoch.
        setslot(owner_conn, slot, "NODE", Some(owner)).await?;
    } else {
        let open = view.by_id(owner).is_some_and(|n| {
            n.migrating.iter().any(|(s, _)| *s == slot)
                || n.importing.iter().any(|(s, _)| *s == slot)
        });
        if open {
            setslot(owner_conn, slot, "STABLE", None).await?;
        }
        if !unclaim.is_empty() {
            // The newest epoch wins when claims collide: the owner's claim must be it.
            let _ = owner_conn.request(["CLUSTER", "BUMPEPOCH"]).await;
        }
    }
    for m in view.masters().filter(|m| m.id != owner) {
        setslot(&m.conn, slot, "NODE", Some(owner)).await?;
    }
    if left.is_empty() {
        Ok(())
    } else {
        Err(Fail::failure(left.join("; ")))
    }
}

/// Moves the keys of every node in `from` to the owner; keys whose copies differ stay and are
/// described in `left`.
async fn drain_all(
    view: &ClusterView,
    slot: Slot,
    owner_conn: &NodeConn,
    owner: &str,
    from: &[String],
    opts: &MigrateOptions,
    left: &mut Vec<String>,
) -> Result<()> {
    for id in from {
        let c = conn(view, id)?;
        // A node claiming the slot runs MIGRATE for it as is; any other must be IMPORTING,
        // or MIGRATE is answered MOVED (redis-cli's bug here).
        let opened = !view.by_id(id).is_some_and(|n| n.slots.contains(slot));
        if opened {
            setslot(c, slot, "IMPORTING", Some(owner)).await?;
        }
        let ends = Ends {
            source: c,
            target: owner_conn,
        };
        let kept = drain_keeping_conflicts(&ends, slot, opts).await?;
        if opened {
            setslot(c, slot, "STABLE", None).await?;
        }
        if !kept.is_empty() {
            left.push(format!(
                "{} key(s) exist on both {} and the owner {} with different values: {}; the \
                 owner's copy is kept and the other left on {}; compare them by hand or run \
                 again with --replace to overwrite the owner's copy",
                kept.len(),
                c.addr,
                owner_conn.addr,
                kept.iter()
                    .map(|k| show_key(k))
                    .collect::<Vec<_>>()
                    .join(", "),
                c.addr
            ));
        }
    }
    Ok(())
}

/// Moves every key of `slot` from `ends.source` to `ends.target`, like the engine's drain,
/// except that a key whose two copies differ is left where it is (and returned) instead of
/// stopping the slot: the rest still goes, so the slot can be settled around the few keys an
/// operator has to look at.
async fn drain_keeping_conflicts(
    ends: &Ends<'_>,
    slot: Slot,
    opts: &MigrateOptions,
) -> Result<Vec<Bytes>> {
    let batch = opts.batch_keys.max(1);
    let mut kept: Vec<Bytes> = Vec::new();
    let mut transient = 0u32;
    // Bounded: each round moves keys, keeps some, or counts a transient error.
    for _ in 0..10_000_000u32 {
        // The kept keys stay in the slot and come back first: ask for that many more.
        let keys: Vec<Bytes> = get_keys(ends.source, slot, batch + kept.len())
            .await
            .map_err(Fail::failure)?
            .into_iter()
            .filter(|k| !kept.contains(k))
            .collect();
        if keys.is_empty() {
            return Ok(kept);
        }
        let cmd = migrate_cmd(
            ends.target,
            &keys,
            opts.timeout_ms,
            opts.replace,
            &opts.credentials,
        );
        let Err(e) = ends.source.query(&cmd).await else {
            continue;
        };
        match classify(&e) {
            MigrateError::Busy => {
                // One key at a time: the conflict check moves a key whose copies are equal
                // and refuses one whose copies differ.
                for k in keys {
                    if let Err(why) = conflict::resolve(
                        ends,
                        slot,
                        std::slice::from_ref(&k),
                        opts,
                        opts.timeout_ms,
                    )
                    .await
                    {
                        if !why.contains("different values") {
                            return Err(Fail::failure(why));
                        }
                        kept.push(k);
                    }
                }
            }
            MigrateError::Transient(text) if transient < 50 => {
                transient += 1;
                let _ = text;
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            MigrateError::Transient(text)
            | MigrateError::Timeout(text)
            | MigrateError::Other(text) => {
                return Err(Fail::failure(format!(
                    "{}: MIGRATE (slot {slot}): {text}",
                    ends.source.addr
                )));
            }
        }
    }
    Err(Fail::failure(format!(
        "slot {slot}: too many rounds draining {}",
        ends.source.addr
    )))
}

/// Masters to take the slots of: not in the view, not answering, owning slots.
pub fn gone_masters(view: &ClusterView) -> Vec<&SkippedNode> {
    view.skipped
        .iter()
        .filter(|s| s.was_master && !s.answers && !view.listed_slots(&s.id).is_empty())
        .collect()
}

/// Gives the slots of the gone masters to live masters (a slot with stray keys on a live
/// master to the one holding most, the rest evenly), then has every live node forget them.
/// Their keys are gone with them: said plainly, before asking.
pub async fn take_over(
    view: &ClusterView,
    gone: &[&SkippedNode],
    strays: &[StrayKeys],
    args: &FixArgs,
    ctx: &Context,
    actions: &mut Vec<serde_json::Value>,
) -> Result<()> {
    ctx.out
        .step("Giving the slots of unreachable masters to reachable ones...");
    let mut slots = SlotSet::new();
    for g in gone {
        let theirs = view.listed_slots(&g.id);
        ctx.out.warn(&format!(
            "Master {} ({}) cannot be reached: the keys it held in its {} slot(s) {} are lost \
             with it; trib cannot bring them back (restore them from a backup).",
            g.addr,
            short_id(&g.id),
            theirs.len(),
            theirs.ranges_comma()
        ));
        slots.union_with(&theirs);
    }
    let mut holders: BTreeMap<u16, Vec<(String, u64)>> = BTreeMap::new();
    for s in strays {
        if Slot::new(s.slot).is_some_and(|x| slots.contains(x)) {
            holders
                .entry(s.slot)
                .or_default()
                .push((s.id.clone(), s.keys));
        }
    }
    let live: Vec<(String, usize)> = view
        .masters()
        .map(|m| (m.id.clone(), m.slots.len()))
        .collect();
    if live.is_empty() {
        return Err(Fail::failure("no reachable master to give the slots to"));
    }
    let all: Vec<Slot> = slots.iter().collect();
    let plan = plan_takeover(&all, &holders, &live);
    for (owner, taken) in &plan {
        let set: SlotSet = taken.iter().copied().collect();
        ctx.out.line(&format!(
            "    give {} slot(s) {} to {}",
            taken.len(),
            set.ranges_comma(),
            view.by_id(owner)
                .map(|n| n.addr.to_string())
                .unwrap_or_default()
        ));
        actions.push(json!({"reassign": taken, "to": owner}));
    }
    for g in gone {
        ctx.out.line(&format!(
            "    forget {} ({}) on every reachable node (add it back with `trib add-node` \
             once it is emptied)",
            g.addr,
            short_id(&g.id)
        ));
        actions.push(json!({"forget": g.id}));
    }
    if args.dry_run {
        return Ok(());
    }
    if !args.confirm.yes
        && ctx.out.confirm(
            "Give these slots to the reachable masters (the keys of the unreachable ones are lost)?",
        )? != Answer::Yes
    {
        return Err(Fail::failure("taking over the slots of unreachable masters declined"));
    }
    for (owner, taken) in &plan {
        let c = conn(view, owner)?;
        // The taker first, then a new epoch, so that its claim beats the gone master's if
        // that one comes back; then every other master is told.
        setslot_each(c, taken, owner).await?;
        let _ = c.request(["CLUSTER", "BUMPEPOCH"]).await;
        for m in view.masters().filter(|m| m.id != *owner) {
            setslot_each(&m.conn, taken, owner).await?;
        }
    }
    for g in gone {
        for n in &view.nodes {
            if let Err(e) = n.conn.request(["CLUSTER", "FORGET", &g.id]).await {
                ctx.out
                    .warn(&format!("{}: CLUSTER FORGET {}: {e}", n.addr, g.id));
            }
        }
    }
    Ok(())
}

async fn setslot_each(c: &NodeConn, slots: &[Slot], owner: &str) -> Result<()> {
    let results = setslot_many(c, slots, "NODE", Some(owner)).await;
    if let Some((s, Err(e))) = slots.iter().zip(results).find(|(_, r)| r.is_err()) {
        return Err(Fail::failure(format!(
            "{}: CLUSTER SETSLOT {s} NODE {owner}: {e}",
            c.addr
        )));
    }
    Ok(())
}
