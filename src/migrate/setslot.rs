//! CLUSTER SETSLOT for many slots at once: every command of a round is sent without waiting
//! for the previous reply (the multiplexed connection pipelines them), and each slot gets its
//! own result. Opening (IMPORTING on the target before MIGRATING on the source) and closing
//! (NODE on the target, then the source, then every other master) keep redis-cli's order per
//! slot. Which errors are tolerated is decided here.

use futures_util::future::join_all;

use crate::cluster::conn::{describe, NodeConn};
use crate::slot::Slot;

/// `CLUSTER SETSLOT <slot> <sub> [id]` for every slot, pipelined; one result per slot.
pub async fn setslot_many(
    conn: &NodeConn,
    slots: &[Slot],
    sub: &str,
    id: Option<&str>,
) -> Vec<Result<(), String>> {
    join_all(slots.iter().map(|s| async move {
        let mut cmd = redis::cmd("CLUSTER");
        cmd.arg("SETSLOT").arg(s.get()).arg(sub);
        if let Some(id) = id {
            cmd.arg(id);
        }
        conn.query(&cmd).await.map(|_| ()).map_err(|e| describe(&e))
    }))
    .await
}

/// Opens `slots` for migration. Returns the slots now open and the ones that could not be
/// opened (with the reason); a slot whose MIGRATING failed is made STABLE again on the target.
pub async fn open(
    source: &NodeConn,
    source_id: &str,
    target: &NodeConn,
    target_id: &str,
    slots: &[Slot],
) -> (Vec<Slot>, Vec<(Slot, String)>) {
    let mut failed = Vec::new();
    let importing = setslot_many(target, slots, "IMPORTING", Some(source_id)).await;
    let mut imported = Vec::new();
    for (s, r) in slots.iter().zip(importing) {
        match r {
            Ok(()) => imported.push(*s),
            Err(e) => failed.push((
                *s,
                format!("{}: CLUSTER SETSLOT {s} IMPORTING: {e}", target.addr),
            )),
        }
    }
    let migrating = setslot_many(source, &imported, "MIGRATING", Some(target_id)).await;
    let mut opened = Vec::new();
    let mut undo = Vec::new();
    for (s, r) in imported.iter().zip(migrating) {
        match r {
            Ok(()) => opened.push(*s),
            Err(e) => {
                undo.push(*s);
                failed.push((
                    *s,
                    format!("{}: CLUSTER SETSLOT {s} MIGRATING: {e}", source.addr),
                ));
            }
        }
    }
    // A slot importing on the target alone is harmless but noisy for `check`: close it.
    let _ = setslot_many(target, &undo, "STABLE", None).await;
    (opened, failed)
}

/// The errors a SETSLOT NODE on the source may answer without harm: it lost its last slot and
/// already turned into a replica (redis#9223).
fn tolerated_on_source(err: &str) -> bool {
    err.starts_with("ERR Please use SETSLOT only with masters")
}

/// Hands `slots` to the target: target first (so the slot is never owner-less, redis#7116),
/// then the source, then every other master. Returns the slots that are closed, the ones that
/// failed on the target or source, and warnings from other masters (they learn by gossip too).
pub async fn close(
    source: &NodeConn,
    target: &NodeConn,
    target_id: &str,
    others: &[&NodeConn],
    slots: &[Slot],
) -> (Vec<Slot>, Vec<(Slot, String)>, Vec<String>) {
    let mut failed = Vec::new();
    let mut on_target = Vec::new();
    for (s, r) in slots
        .iter()
        .zip(setslot_many(target, slots, "NODE", Some(target_id)).await)
    {
        match r {
            Ok(()) => on_target.push(*s),
            Err(e) => failed.push((
                *s,
                format!("{}: CLUSTER SETSLOT {s} NODE: {e}", target.addr),
            )),
        }
    }
    let mut closed = Vec::new();
    for (s, r) in on_target
        .iter()
        .zip(setslot_many(source, &on_target, "NODE", Some(target_id)).await)
    {
        match r {
            Err(e) if !tolerated_on_source(&e) => failed.push((
                *s,
                format!("{}: CLUSTER SETSLOT {s} NODE: {e}", source.addr),
            )),
            _ => closed.push(*s),
        }
    }
    let mut warnings = Vec::new();
    let results = join_all(
        others
            .iter()
            .map(|c| setslot_many(c, &closed, "NODE", Some(target_id))),
    )
    .await;
    for (c, rs) in others.iter().zip(results) {
        let errors: Vec<String> = closed
            .iter()
            .zip(rs)
            .filter_map(|(s, r)| r.err().map(|e| format!("slot {s}: {e}")))
            .collect();
        if let Some(first) = errors.first() {
            warnings.push(format!(
                "{}: CLUSTER SETSLOT NODE failed for {} slot(s) (first: {first}); it will learn the owner by gossip",
                c.addr,
                errors.len()
            ));
        }
    }
    (closed, failed, warnings)
}
