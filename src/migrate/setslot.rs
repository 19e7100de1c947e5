//! CLUSTER SETSLOT for many slots at once: every command of a round is sent without waiting
//! for the previous reply (the multiplexed connection pipelines them), and each slot gets its
//! own result. Opening keeps redis-cli's order (IMPORTING on the target before MIGRATING on
//! the source); closing does not (see `close`). Which errors are tolerated is decided here.

use futures_util::future::join_all;

use crate::remote::conn::{describe, NodeConn};
use crate::slot::Slot;

use super::converge::{Replicas, REPLICA_WAIT};

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

/// Hands `slots` to the target: the target first (so the slot is never owner-less,
/// redis#7116), then every other master, then, once the replicas show the target as owner
/// (bounded wait), the source. redis-cli tells the source second; but a source that answers
/// MOVED before a replica has learned the move sends a client that reads its slot map from that
/// replica back to the source, again and again (issue 15). Until it is told, the source still
/// migrates the slot and answers ASK (its keys are gone), which costs a client one redirection
/// and no map refresh. Returns the slots that are closed, the ones that failed on the target or
/// source, and warnings (other masters and replicas also learn by gossip).
pub async fn close(
    source: &NodeConn,
    target: &NodeConn,
    target_id: &str,
    others: &[&NodeConn],
    replicas: &Replicas,
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
    let mut warnings = Vec::new();
    let results = join_all(
        others
            .iter()
            .map(|c| setslot_many(c, &on_target, "NODE", Some(target_id))),
    )
    .await;
    for (c, rs) in others.iter().zip(results) {
        let errors: Vec<String> = on_target
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
    for lag in replicas
        .wait_owner(target_id, &on_target, REPLICA_WAIT)
        .await
    {
        warnings.push(format!(
            "replica {}: {}; clients reading their slot map from it may be redirected more until gossip reaches it",
            lag.addr, lag.reason
        ));
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
    (closed, failed, warnings)
}
