//! `trib fix`: the check, then repairs with the migration engine: open slots (an interrupted
//! move is resumed, keys left on importing nodes go to the owner, a slot open on its owner
//! alone is closed), uncovered slots (given to the master holding their keys, or to the
//! master with the fewest slots), slots with several owners (settled on the master holding
//! the most keys) and, with --fix-with-unreachable-masters, the slots of masters that are gone
//! (given to live masters, the gone ones forgotten). Coverage is fixed before open slots,
//! unlike redis-cli, whose MIGRATEs then fail with CLUSTERDOWN. Exit 0 only when the cluster
//! is healthy afterwards.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use futures_util::future::join_all;
use serde_json::json;

use crate::addr::NodeAddr;
use crate::cli::FixArgs;
use crate::exit::{ExitCode, Fail};
use crate::migrate::keys::{drain_slot, Ends};
use crate::migrate::setslot::setslot_many;
use crate::migrate::{Engine, EngineNode, MigrateOptions};
use crate::ops::common::{check_section, dbsizes, parse_entry, print_info};
use crate::ops::fix_owners::{gone_masters, settle_owner, take_over};
use crate::ops::slot_moves::{load_settled, move_options};
use crate::ops::Context;
use crate::output::progress::Progress;
use crate::output::Answer;
use crate::plan::fix::{plan_open_slot, plan_owners, plan_uncovered, FixAction, SlotState};
use crate::plan::moves::Transfer;
use crate::remote::conn::NodeConn;
use crate::remote::health::Health;
use crate::remote::strays::{self, key_count};
use crate::remote::view::ClusterView;
use crate::slot::{Slot, SlotSet};

pub async fn run(args: &FixArgs, ctx: &Context) -> Result<ExitCode> {
    let entry = parse_entry(&args.entry.node)?;
    let opts = move_options(&args.moves, ctx)?;
    let view = load_settled(&entry, ctx, &opts).await?;
    // redis-cli's fix starts as its check does: the info summary, then the check.
    if !ctx.out.is_json() {
        let _ = print_info(&view, &dbsizes(&view), &ctx.out);
    }
    let health = check_section(&view, args.search_multiple_owners, true, &ctx.out).await?;
    let (view, health) = wait_failed_back(view, health, &entry, args, ctx, &opts).await?;
    let unreachable = view.unreachable_masters();
    if unreachable > 0
        && !args.fix_with_unreachable_masters
        && (!health.open_slots.is_empty() || health.uncovered_count > 0)
    {
        return Err(Fail::failure(format!(
            "*** Fixing with {unreachable} unreachable master(s) is dangerous: their slots would be \
             given to reachable masters and the keys they hold would be lost. If you really want \
             to proceed use --fix-with-unreachable-masters."
        )));
    }
    let found = health.problems();
    let mut failures = Vec::new();
    let mut actions = Vec::new();
    // Masters that are gone (with the flag): their slots go to live masters first; until then
    // they look uncovered, and ADDSLOTS would fail ("already busy": the others still name the
    // gone master).
    let gone: Vec<_> = gone_masters(&view).into_iter().cloned().collect();
    let mut gone_slots = SlotSet::new();
    for g in &gone {
        gone_slots.union_with(&view.listed_slots(&g.id));
    }
    let (view, health) = if !gone.is_empty() && args.fix_with_unreachable_masters {
        let refs: Vec<_> = gone.iter().collect();
        if let Err(e) = take_over(&view, &refs, &health.stray_keys, args, ctx, &mut actions).await {
            ctx.out.err(&e.to_string());
            failures.push(e.to_string());
        }
        if args.dry_run {
            (view, health)
        } else {
            reassess(&entry, ctx, &opts, args.search_multiple_owners).await?
        }
    } else {
        (view, health)
    };
    // A dry run has not given them away: they are not "uncovered" for the coverage plan. Nor
    // are the slots of a master that answers but is still flagged fail: they are its own.
    let mut skip = if args.dry_run {
        gone_slots
    } else {
        SlotSet::new()
    };
    for s in view.skipped.iter().filter(|s| s.was_master && s.answers) {
        let theirs = view.listed_slots(&s.id);
        if !theirs.is_empty() {
            ctx.out.warn(&format!(
                "Master {} answers but is not in the view: its {} slot(s) are left to it.",
                s.addr,
                theirs.len()
            ));
            skip.union_with(&theirs);
        }
    }
    // Coverage first: with an uncovered slot the cluster is down (full coverage required) and
    // every MIGRATE of the open-slot fixes would fail with CLUSTERDOWN (redis-cli's order).
    // An uncovered slot that is open somewhere is a move cut short: the open-slot fix below
    // finishes it; covering it with ADDSLOTS would fail ("already busy") or split the keys.
    let covered = view.covered();
    let uncovered_closed = Slot::all().any(|s| {
        !covered.contains(s) && !skip.contains(s) && !health.open_slots.contains(&s.get())
    });
    let (view, health) = if uncovered_closed {
        if let Err(e) =
            fix_coverage(&view, &health.open_slots, &skip, args, ctx, &mut actions).await
        {
            ctx.out.err(&e.to_string());
            failures.push(e.to_string());
        }
        if args.dry_run {
            (view, health)
        } else {
            reassess(&entry, ctx, &opts, args.search_multiple_owners).await?
        }
    } else {
        (view, health)
    };
    // Several owners: slots claimed by several masters always; with --search-multiple-owners
    // also slots whose keys sit on several masters (redis-cli's definition). Settled on the
    // master holding the most keys, after the open slots (an open slot with several claims is
    // settled by the open-slot fix itself).
    let mut owner_slots: BTreeSet<u16> = view
        .claims()
        .into_iter()
        .filter(|(_, c)| c.len() > 1)
        .map(|(s, _)| s.get())
        .collect();
    if args.search_multiple_owners {
        owner_slots.extend(health.multiple_owners.iter().flatten().map(|m| m.slot));
    }
    owner_slots.retain(|s| !health.open_slots.contains(s));
    // Open slots, and covered slots with keys on a master that does not own them (strays:
    // a client or a tool wrote them there); both are fixed by moving keys to one owner.
    let covered = view.covered();
    let mut to_fix: BTreeSet<u16> = health.open_slots.iter().copied().collect();
    for stray in &health.stray_keys {
        if Slot::new(stray.slot).is_some_and(|s| covered.contains(s))
            && !owner_slots.contains(&stray.slot)
        {
            to_fix.insert(stray.slot);
        }
    }
    // Ctrl-C: finish the slot being fixed, start no other, exit 130 saying what is left.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let listener = {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(ExitCode::Interrupted.code());
                }
            }
        })
    };
    let mut left = 0usize;
    // Open and stray slots first, then the slots with several owners; one loop for both.
    let work = to_fix
        .iter()
        .map(|&s| (s, false))
        .chain(owner_slots.iter().map(|&s| (s, true)));
    for (s, several_owners) in work {
        let Some(slot) = Slot::new(s) else { continue };
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            left += 1;
            continue;
        }
        let step = if several_owners {
            format!("Fixing multiple owners for slot {slot}")
        } else if health.open_slots.contains(&s) {
            format!("Fixing open slot {slot}")
        } else {
            format!("Fixing slot {slot}: keys on a master that does not own it")
        };
        ctx.out.step(&step);
        let action = match slot_state(&view, slot).await {
            Ok(state) if several_owners => plan_owners(&state),
            Ok(state) => plan_open_slot(&state),
            Err(e) => FixAction::Unfixable {
                reason: format!("the slot's keys could not be counted: {e}"),
            },
        };
        if args.dry_run {
            ctx.out
                .line(&format!("    would {}", describe(&view, &action)));
        } else if let Err(e) = apply(&view, slot, &action, &opts, ctx).await {
            ctx.out.err(&format!("slot {slot}: {e}"));
            failures.push(format!("slot {slot}: {e}"));
        }
        actions.push(json!({"slot": slot, "fix": action}));
    }
    listener.abort();
    if left > 0 {
        ctx.out.err(&format!(
            "Interrupted: {} slot(s) fixed or tried, {left} left as they were; run `trib fix` again.",
            actions.len()
        ));
        ctx.out.json(&json!({
            "ok": false,
            "interrupted": true,
            "actions": actions,
            "failures": failures,
            "left": left,
        }));
        return Err(anyhow::Error::new(Fail {
            code: ExitCode::Interrupted,
            message: String::new(),
        }));
    }
    if args.dry_run {
        // The check above printed each problem as [ERR]; a dry run changes nothing, so the
        // cluster still has them and the exit says so (1), as `check` would.
        ctx.out.json(&json!({
            "ok": found.is_empty(),
            "dry_run": true,
            "actions": actions,
            "problems": found,
        }));
        if found.is_empty() {
            return Ok(ExitCode::Success);
        }
        return Err(Fail::failure(format!(
            "dry run: {} problem(s) found and nothing changed: {}",
            found.len(),
            found.join("; ")
        )));
    }
    let after = load_settled(&entry, ctx, &opts).await?;
    let problems = Health::assess(&after).problems();
    ctx.out.json(&json!({
        "ok": failures.is_empty() && problems.is_empty(),
        "actions": actions,
        "failures": failures,
        "problems": problems,
    }));
    if !failures.is_empty() || !problems.is_empty() {
        let mut all = failures;
        all.extend(problems);
        return Err(Fail::failure(format!(
            "the cluster still has problems: {}",
            all.join("; ")
        )));
    }
    ctx.out.ok("The cluster is healthy.");
    Ok(ExitCode::Success)
}

/// COUNTKEYSINSLOT on every master, concurrently. A master that cannot answer fails the count
/// (naming it): a slot must never be judged empty because a node did not say.
async fn key_counts(view: &ClusterView, slot: Slot) -> Result<HashMap<String, u64>, String> {
    let masters: Vec<_> = view.masters().collect();
    let slot_text = slot.get().to_string();
    let counts = join_all(
        masters
            .iter()
            .map(|m| m.conn.request(["CLUSTER", "COUNTKEYSINSLOT", &slot_text])),
    )
    .await;
    masters
        .iter()
        .zip(counts)
        .map(|(m, reply)| {
            reply
                .and_then(|v| key_count(&v))
                .map(|n| (m.id.clone(), n))
                .map_err(|e| format!("{}: CLUSTER COUNTKEYSINSLOT {slot}: {e}", m.addr))
        })
        .collect()
}

async fn slot_state(view: &ClusterView, slot: Slot) -> Result<SlotState, String> {
    let masters: Vec<_> = view.masters().collect();
    Ok(SlotState {
        slot: Some(slot),
        owners: masters
            .iter()
            .filter(|m| m.slots.contains(slot))
            .map(|m| m.id.clone())
            .collect(),
        migrating: masters
            .iter()
            .flat_map(|m| {
                m.migrating
                    .iter()
                    .filter(|(s, _)| *s == slot)
                    .map(|(_, to)| (m.id.clone(), to.clone()))
            })
            .collect(),
        importing: masters
            .iter()
            .flat_map(|m| {
                m.importing
                    .iter()
                    .filter(|(s, _)| *s == slot)
                    .map(|(_, from)| (m.id.clone(), from.clone()))
            })
            .collect(),
        keys: key_counts(view, slot).await?,
        masters: masters.iter().map(|m| m.id.clone()).collect(),
    })
}

fn name(view: &ClusterView, id: &str) -> String {
    view.by_id(id)
        .map(|n| n.addr.to_string())
        .unwrap_or_else(|| id.to_string())
}

fn describe(view: &ClusterView, action: &FixAction) -> String {
    let names = |ids: &[String]| {
        ids.iter()
            .map(|i| name(view, i))
            .collect::<Vec<_>>()
            .join(",")
    };
    match action {
        FixAction::Resume { source, target } => format!(
            "finish moving the slot from {} to {}",
            name(view, source),
            name(view, target)
        ),
        FixAction::ToOwner { owner, from } => format!(
            "move the slot's keys from {} to its owner {} and close it there",
            names(from),
            name(view, owner)
        ),
        FixAction::Close { nodes } => format!("close the slot on {}", names(nodes)),
        FixAction::TakeOver { target, from } if from.is_empty() => format!(
            "finish the half-done move: {} takes the slot",
            name(view, target)
        ),
        FixAction::TakeOver { target, from } => format!(
            "finish the half-done move: the keys on {} go to {}, which takes the slot",
            names(from),
            name(view, target)
        ),
        FixAction::ResumeAndClose {
            source,
            target,
            close,
        } => format!(
            "finish moving the slot from {} to {} and close it on {}",
            name(view, source),
            name(view, target),
            names(close)
        ),
        FixAction::SettleOwner {
            owner,
            claim: _,
            from,
            unclaim,
        } => {
            let mut text = format!(
                "keep the slot on {} (it holds the most keys)",
                name(view, owner)
            );
            if !from.is_empty() {
                text.push_str(&format!(", move the keys of {} to it", names(from)));
            }
            match unclaim.len() {
                0 => {}
                1 => text.push_str(&format!(", {} gives it up", names(unclaim))),
                _ => text.push_str(&format!(", {} give it up", names(unclaim))),
            }
            text
        }
        FixAction::Unfixable { reason } => format!("not fix it: {reason}"),
    }
}

fn conn<'a>(view: &'a ClusterView, id: &str) -> Result<&'a NodeConn> {
    view.by_id(id)
        .map(|n| &n.conn)
        .ok_or_else(|| Fail::failure(format!("node {id} is not connected")))
}

async fn stable(view: &ClusterView, slot: Slot, nodes: &[String]) -> Result<()> {
    for id in nodes {
        let c = conn(view, id)?;
        if let Some(Err(e)) = setslot_many(c, &[slot], "STABLE", None).await.pop() {
            return Err(Fail::failure(format!(
                "{}: CLUSTER SETSLOT {slot} STABLE: {e}",
                c.addr
            )));
        }
    }
    Ok(())
}

async fn resume(
    view: &ClusterView,
    slot: Slot,
    source: &str,
    target: &str,
    opts: &MigrateOptions,
    ctx: &Context,
) -> Result<()> {
    let nodes = view
        .masters()
        .map(|n| EngineNode {
            id: n.id.clone(),
            conn: n.conn.clone(),
        })
        .collect();
    let engine = Engine::new(nodes, opts.clone());
    let sink = Arc::new(Progress::new(ctx.out.mode(), ctx.out.interactive));
    let report = engine
        .run(
            &[Transfer {
                source: source.to_string(),
                target: target.to_string(),
                slots: vec![slot],
            }],
            sink,
        )
        .await;
    match report.failed.first() {
        None => Ok(()),
        Some(f) => Err(Fail::failure(f.reason.clone())),
    }
}

async fn apply(
    view: &ClusterView,
    slot: Slot,
    action: &FixAction,
    opts: &MigrateOptions,
    ctx: &Context,
) -> Result<()> {
    ctx.out.line(&format!("    {}", describe(view, action)));
    match action {
        FixAction::Resume { source, target } => resume(view, slot, source, target, opts, ctx).await,
        FixAction::ResumeAndClose {
            source,
            target,
            close,
        } => {
            resume(view, slot, source, target, opts, ctx).await?;
            stable(view, slot, close).await
        }
        FixAction::Close { nodes } => stable(view, slot, nodes).await,
        FixAction::ToOwner { owner, from } => {
            drain_non_owners(view, slot, owner, from, opts).await?;
            stable(view, slot, from).await?;
            for m in view.masters().filter(|m| m.id != *owner) {
                if let Some(Err(e)) = setslot_many(&m.conn, &[slot], "NODE", Some(owner))
                    .await
                    .pop()
                {
                    ctx.out
                        .warn(&format!("{}: CLUSTER SETSLOT {slot} NODE: {e}", m.addr));
                }
            }
            Ok(())
        }
        FixAction::TakeOver { target, from } => finish_move(view, slot, target, from, opts).await,
        FixAction::SettleOwner {
            owner,
            claim,
            from,
            unclaim,
        } => settle_owner(view, slot, owner, *claim, from, unclaim, opts).await,
        FixAction::Unfixable { reason } => Err(Fail::failure(reason.clone())),
    }
}

/// Moves the keys of `slot` from each of `from` (masters that do not own it) to `to`.
async fn drain_non_owners(
    view: &ClusterView,
    slot: Slot,
    to: &str,
    from: &[String],
    opts: &MigrateOptions,
) -> Result<()> {
    let to_conn = conn(view, to)?;
    for id in from {
        let c = conn(view, id)?;
        // IMPORTING lets MIGRATE run for a slot the node does not own.
        if let Some(Err(e)) = setslot_many(c, &[slot], "IMPORTING", Some(to)).await.pop() {
            return Err(Fail::failure(format!(
                "{}: CLUSTER SETSLOT {slot} IMPORTING: {e}",
                c.addr
            )));
        }
        let ends = Ends {
            source: c,
            target: to_conn,
        };
        drain_slot(&ends, slot, opts, &|_| {})
            .await
            .map_err(Fail::failure)?;
    }
    Ok(())
}

/// Finishes a move whose source already gave the slot away: the keys left on `from` go to
/// `target` (still importing, so it accepts them), then `target` takes the slot (SETSLOT NODE
/// on itself first: it clears its importing state and claims the slot with a new epoch), then
/// every other master is told.
async fn finish_move(
    view: &ClusterView,
    slot: Slot,
    target: &str,
    from: &[String],
    opts: &MigrateOptions,
) -> Result<()> {
    let target_conn = conn(view, target)?;
    drain_non_owners(view, slot, target, from, opts).await?;
    // SETSLOT NODE clears IMPORTING only on the new owner: close the drained nodes first.
    stable(view, slot, from).await?;
    if let Some(Err(e)) = setslot_many(target_conn, &[slot], "NODE", Some(target))
        .await
        .pop()
    {
        return Err(Fail::failure(format!(
            "{}: CLUSTER SETSLOT {slot} NODE {target}: {e}",
            target_conn.addr
        )));
    }
    for m in view.masters().filter(|m| m.id != target) {
        if let Some(Err(e)) = setslot_many(&m.conn, &[slot], "NODE", Some(target))
            .await
            .pop()
        {
            return Err(Fail::failure(format!(
                "{}: CLUSTER SETSLOT {slot} NODE {target}: {e}",
                m.addr
            )));
        }
    }
    Ok(())
}

/// Uncovered slots: to the one master holding their keys, or to the master with the fewest
/// slots; slots with keys on several masters are reported. Asks first unless `--yes`.
async fn fix_coverage(
    view: &ClusterView,
    open: &[u16],
    skip: &SlotSet,
    args: &FixArgs,
    ctx: &Context,
    actions: &mut Vec<serde_json::Value>,
) -> Result<()> {
    ctx.out.step("Fixing slots coverage...");
    let covered = view.covered();
    let uncovered: Vec<Slot> = Slot::all()
        .filter(|s| !covered.contains(*s) && !skip.contains(*s) && !open.contains(&s.get()))
        .collect();
    let Some(fewest) = view.masters().min_by_key(|m| m.slots.len()) else {
        return Err(Fail::failure("no master to cover the slots with"));
    };
    let mut assign: HashMap<String, Vec<Slot>> = HashMap::new();
    let mut unfixable = Vec::new();
    for &slot in &uncovered {
        let counts = match key_counts(view, slot).await {
            Ok(c) => c,
            Err(e) => {
                ctx.out.err(&format!(
                    "slot {slot}: not covered, keys not countable: {e}"
                ));
                unfixable.push(slot);
                continue;
            }
        };
        let holders: Vec<(String, u64)> = view
            .masters()
            .filter_map(|m| {
                let n = counts.get(&m.id).copied().unwrap_or(0);
                (n > 0).then(|| (m.id.clone(), n))
            })
            .collect();
        if holders.len() > 1 {
            ctx.out.warn(&format!(
                "slot {slot} has keys on {} masters: the one with the most keys takes it and \
                 the others' keys are moved to it",
                holders.len()
            ));
        }
        let owner = plan_uncovered(&holders, &fewest.id);
        assign.entry(owner).or_default().push(slot);
    }
    for (owner, slots) in &assign {
        let list: crate::slot::SlotSet = slots.iter().copied().collect();
        ctx.out.line(&format!(
            "    cover {} slot(s) {} with {}",
            slots.len(),
            list.ranges_comma(),
            name(view, owner)
        ));
        actions.push(json!({"cover": slots, "with": owner}));
    }
    if args.dry_run || assign.is_empty() {
        return report_unfixable(&unfixable);
    }
    if !args.confirm.yes
        && ctx
            .out
            .confirm("Fix these slots by covering them as shown?")?
            != Answer::Yes
    {
        return Err(Fail::failure("coverage fix declined"));
    }
    for (owner, slots) in &assign {
        let c = conn(view, owner)?;
        let mut cmd = redis::cmd("CLUSTER");
        cmd.arg("ADDSLOTS");
        for s in slots {
            cmd.arg(s.get());
        }
        c.query(&cmd).await.map_err(|e| {
            Fail::failure(format!(
                "{}: CLUSTER ADDSLOTS: {}",
                c.addr,
                crate::remote::conn::describe(&e)
            ))
        })?;
        let _ = c.request(["CLUSTER", "BUMPEPOCH"]).await;
    }
    report_unfixable(&unfixable)
}

fn report_unfixable(slots: &[Slot]) -> Result<()> {
    if slots.is_empty() {
        return Ok(());
    }
    let set: crate::slot::SlotSet = slots.iter().copied().collect();
    Err(Fail::failure(format!(
        "uncovered slot(s) {} left uncovered: their keys could not be counted",
        set.ranges_comma()
    )))
}

/// The view again, with its stray keys (and multiple owners when searched), after a repair.
async fn reassess(
    entry: &NodeAddr,
    ctx: &Context,
    opts: &MigrateOptions,
    search_owners: bool,
) -> Result<(ClusterView, Health)> {
    let view = load_settled(entry, ctx, opts).await?;
    let strays = strays::find(&view)
        .await
        .map_err(|e| Fail::failure(format!("looking for keys in non-owned slots: {e}")))?;
    let health = Health::assess(&view).with_strays(&view, strays, search_owners);
    Ok((view, health))
}

/// A master flagged fail that answers is back with its slots (and whatever keys it kept):
/// giving its slots away would be wrong. The cluster clears the flag by itself once it sees
/// the node again (after twice the node timeout for a master with slots), so wait for that,
/// bounded, then go on with the view as it is then.
async fn wait_failed_back(
    view: ClusterView,
    health: Health,
    entry: &NodeAddr,
    args: &FixArgs,
    ctx: &Context,
    opts: &MigrateOptions,
) -> Result<(ClusterView, Health)> {
    let back = |v: &ClusterView| {
        v.skipped
            .iter()
            .filter(|s| s.was_master && s.answers && s.flagged_fail)
            .count()
    };
    if back(&view) == 0 || args.dry_run {
        return Ok((view, health));
    }
    let node_timeout = node_timeout_ms(&view).await;
    let limit = Duration::from_millis((node_timeout * 2).min(110_000) + 10_000);
    ctx.out.step(&format!(
        "{} master(s) flagged fail answer again: waiting up to {} s for the cluster to clear the flag",
        back(&view),
        limit.as_secs()
    ));
    let started = Instant::now();
    for _ in 0..1000 {
        if started.elapsed() >= limit {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let again = ClusterView::load(entry, &ctx.connect).await?;
        if back(&again) == 0 {
            break;
        }
    }
    reassess(entry, ctx, opts, args.search_multiple_owners).await
}

/// cluster-node-timeout of the entry node (ms); 15000 (the default) when it cannot be read.
async fn node_timeout_ms(view: &ClusterView) -> u64 {
    let reply = view.nodes[0]
        .conn
        .request(["CONFIG", "GET", "cluster-node-timeout"])
        .await;
    reply
        .ok()
        .and_then(|v| redis::from_redis_value::<Vec<String>>(&v).ok())
        .and_then(|v| v.get(1).and_then(|t| t.parse().ok()))
        .unwrap_or(15_000)
}
