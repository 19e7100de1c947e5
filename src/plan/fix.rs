//! The fix plan for one open slot or one uncovered slot, following redis-cli's cases (§2.4):
//! an interrupted move (migrating on one master, importing on another) is resumed; keys left on
//! importing nodes go to the owner; a slot open on its owner alone is closed. Also a slot with
//! several owners (claims or keys on several masters) and the slots of masters that are gone.
//! Pure: the caller gathers the slot's state (claims, open markers, key counts) and executes
//! the action.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::slot::Slot;

/// What the masters say about one slot.
#[derive(Debug, Clone, Default)]
pub struct SlotState {
    pub slot: Option<Slot>,
    /// Masters that own the slot in their own view, in view order.
    pub owners: Vec<String>,
    /// `(node, to)` for masters that have the slot MIGRATING.
    pub migrating: Vec<(String, String)>,
    /// `(node, from)` for masters that have the slot IMPORTING.
    pub importing: Vec<(String, String)>,
    /// Keys in the slot per master (masters without keys may be absent).
    pub keys: HashMap<String, u64>,
    /// Every master in view order (for tie-breaking).
    pub masters: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum FixAction {
    /// Case 1: finish the move from `source` to `target` (the engine re-opens and drains it).
    Resume { source: String, target: String },
    /// Case 2: move the keys of `from` to `owner`, close the slot on them, and make every
    /// master agree that `owner` has it.
    ToOwner { owner: String, from: Vec<String> },
    /// Case 4 / 3: close the slot (SETSLOT STABLE) on these nodes.
    Close { nodes: Vec<String> },
    /// A move half finished: the source already gave the slot away (SETSLOT NODE) while the
    /// target is still importing, so no master claims it. The keys of `from` go to `target`,
    /// which then takes the slot (SETSLOT NODE on itself first, then on every master).
    TakeOver { target: String, from: Vec<String> },
    /// Resume a move and close the slot on the other importing nodes (Case 3).
    ResumeAndClose {
        source: String,
        target: String,
        close: Vec<String>,
    },
    /// Several masters claim the slot or hold its keys: `owner` keeps it. The keys of `from`
    /// go to it; it claims the slot (`claim`: it did not yet) or takes a new epoch so that its
    /// claim wins; the other claimants (`unclaim`) give it up, and every master is told.
    SettleOwner {
        owner: String,
        claim: bool,
        from: Vec<String>,
        unclaim: Vec<String>,
    },
    /// Nothing trib can do safely; the reason says why.
    Unfixable { reason: String },
}

fn keys(state: &SlotState, id: &str) -> u64 {
    state.keys.get(id).copied().unwrap_or(0)
}

/// Decides who keeps a slot that several masters claim or hold keys of: the one holding the
/// most keys (the evidence: keys are what must not be lost); ties go to a master that claims
/// it, then to view order. Its keys stay; the others' are moved to it.
pub fn plan_owners(state: &SlotState) -> FixAction {
    let rank = |m: &String| (keys(state, m), state.owners.contains(m));
    // max_by_key keeps the last of equals: walk in reverse so that view order wins ties.
    let best = state
        .masters
        .iter()
        .rev()
        .filter(|m| keys(state, m) > 0 || state.owners.contains(m))
        .max_by_key(|m| rank(m));
    let Some(owner) = best.cloned() else {
        return FixAction::Unfixable {
            reason: "no master owns the slot and none has keys in it".into(),
        };
    };
    FixAction::SettleOwner {
        claim: !state.owners.contains(&owner),
        from: state
            .masters
            .iter()
            .filter(|m| **m != owner && keys(state, m) > 0)
            .cloned()
            .collect(),
        unclaim: state
            .owners
            .iter()
            .filter(|m| **m != owner)
            .cloned()
            .collect(),
        owner,
    }
}

/// Who takes the slots of masters that are gone (`slots`, ascending). A slot whose keys sit on
/// live masters (strays) goes to the one holding the most; the rest are dealt out in
/// contiguous runs so that the live masters (`live`: id and slot count, view order) end up as
/// even as possible, the emptiest first. Returns each taker's slots, in `live` order.
pub fn plan_takeover(
    slots: &[Slot],
    holders: &BTreeMap<u16, Vec<(String, u64)>>,
    live: &[(String, usize)],
) -> Vec<(String, Vec<Slot>)> {
    let mut given: BTreeMap<usize, Vec<Slot>> = BTreeMap::new();
    let mut counts: Vec<usize> = live.iter().map(|(_, n)| *n).collect();
    let mut rest = Vec::new();
    for &s in slots {
        let taker = holders.get(&s.get()).and_then(|h| {
            let id = plan_uncovered(h, "");
            live.iter().position(|(l, _)| *l == id)
        });
        match taker {
            Some(i) => {
                counts[i] += 1;
                given.entry(i).or_default().push(s);
            }
            None => rest.push(s),
        }
    }
    if !live.is_empty() && !rest.is_empty() {
        let total: usize = counts.iter().sum::<usize>() + rest.len();
        let fair = total.div_ceil(live.len());
        let mut order: Vec<usize> = (0..live.len()).collect();
        order.sort_by_key(|&i| (counts[i], i));
        let mut next = rest.into_iter();
        for (k, &i) in order.iter().enumerate() {
            let take = if k + 1 == order.len() {
                usize::MAX
            } else {
                fair.saturating_sub(counts[i])
            };
            let run: Vec<Slot> = next.by_ref().take(take).collect();
            counts[i] += run.len();
            given.entry(i).or_default().extend(run);
        }
    }
    given
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(i, mut v)| {
            v.sort();
            (live[i].0.clone(), v)
        })
        .collect()
}

/// Decides how to fix an open slot.
pub fn plan_open_slot(state: &SlotState) -> FixAction {
    let owner = match state.owners.len() {
        1 => state.owners[0].clone(),
        // Nobody claims it but one master imports it: the move was cut after the source gave
        // the slot away. Finish it towards the target (never ADDSLOTS: the others still name
        // an owner, so ADDSLOTS fails with "already busy").
        0 if state.importing.len() == 1 && state.migrating.is_empty() => {
            let target = state.importing[0].0.clone();
            return FixAction::TakeOver {
                from: state
                    .masters
                    .iter()
                    .filter(|m| **m != target && keys(state, m) > 0)
                    .cloned()
                    .collect(),
                target,
            };
        }
        0 => {
            // No owner: the master with the most keys (ties: view order), as redis-cli does.
            let best = state
                .masters
                .iter()
                .filter(|m| keys(state, m) > 0)
                .max_by(|a, b| {
                    keys(state, a)
                        .cmp(&keys(state, b))
                        .then(std::cmp::Ordering::Greater)
                });
            match best {
                Some(m) => m.clone(),
                None => {
                    return FixAction::Unfixable {
                        reason: "no master owns the slot and none has keys in it".into(),
                    }
                }
            }
        }
        // Several claims: decided by the keys, like a slot with several owners.
        _ => return plan_owners(state),
    };
    let migrating: Vec<&(String, String)> = state.migrating.iter().collect();
    let mut importing: Vec<String> = state.importing.iter().map(|(n, _)| n.clone()).collect();
    // A non-owner holding keys without any marker is treated as importing (redis-cli rule).
    for m in &state.masters {
        if *m != owner
            && keys(state, m) > 0
            && !importing.contains(m)
            && !migrating.iter().any(|(n, _)| n == m)
        {
            importing.push(m.clone());
        }
    }
    match (migrating.len(), importing.len()) {
        (1, 1) if migrating[0].0 != importing[0] => FixAction::Resume {
            source: migrating[0].0.clone(),
            target: importing[0].clone(),
        },
        (0, n) if n > 0 => FixAction::ToOwner {
            from: importing.into_iter().filter(|n| *n != owner).collect(),
            owner,
        },
        (1, 0) if migrating[0].0 == owner || keys(state, &migrating[0].0) == 0 => {
            FixAction::Close {
                nodes: vec![migrating[0].0.clone()],
            }
        }
        (1, n) if n >= 2 => {
            if importing.iter().any(|i| keys(state, i) > 0) {
                return FixAction::Unfixable {
                    reason: "the slot is importing on several masters and some hold keys".into(),
                };
            }
            let (m, to) = migrating[0];
            match importing.iter().position(|i| i == to) {
                Some(p) => {
                    let target = importing.remove(p);
                    FixAction::ResumeAndClose {
                        source: m.clone(),
                        target,
                        close: importing,
                    }
                }
                None => {
                    let mut nodes = vec![m.clone()];
                    nodes.extend(importing);
                    FixAction::Close { nodes }
                }
            }
        }
        _ => FixAction::Unfixable {
            reason: format!(
                "the slot is migrating on {} and importing on {} master(s); owner is {owner}",
                migrating.len(),
                importing.len()
            ),
        },
    }
}

/// For an uncovered slot: who should own it, given the masters holding keys in it with their
/// key counts (view order) and the master with the fewest slots (for a slot without keys). With
/// keys on several masters, the one holding the most (ties: view order); the others' keys then
/// sit in a slot they do not own and are moved to it like any stray keys.
pub fn plan_uncovered(holders: &[(String, u64)], fewest_slots: &str) -> String {
    holders
        .iter()
        .rev()
        .max_by_key(|(_, n)| *n)
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| fewest_slots.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(
        owners: &[&str],
        migrating: &[(&str, &str)],
        importing: &[(&str, &str)],
        keys: &[(&str, u64)],
    ) -> SlotState {
        SlotState {
            slot: None,
            owners: owners.iter().map(|s| s.to_string()).collect(),
            migrating: migrating
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            importing: importing
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            keys: keys.iter().map(|(a, n)| (a.to_string(), *n)).collect(),
            masters: vec!["a".into(), "b".into(), "c".into()],
        }
    }

    #[test]
    fn interrupted_move_is_resumed() {
        let s = state(&["a"], &[("a", "b")], &[("b", "a")], &[("a", 5), ("b", 3)]);
        assert_eq!(
            plan_open_slot(&s),
            FixAction::Resume {
                source: "a".into(),
                target: "b".into()
            }
        );
    }

    #[test]
    fn importing_only_goes_to_the_owner() {
        let s = state(&["a"], &[], &[("b", "a")], &[("a", 5), ("b", 3)]);
        assert_eq!(
            plan_open_slot(&s),
            FixAction::ToOwner {
                owner: "a".into(),
                from: vec!["b".into()]
            }
        );
        // keys on a non-owner without a marker count as importing
        let s = state(&["a"], &[], &[], &[("c", 1)]);
        assert!(
            matches!(plan_open_slot(&s), FixAction::ToOwner { from, .. } if from == vec!["c".to_string()])
        );
    }

    #[test]
    fn migrating_on_the_owner_alone_is_closed() {
        let s = state(&["a"], &[("a", "b")], &[], &[("a", 5)]);
        assert_eq!(
            plan_open_slot(&s),
            FixAction::Close {
                nodes: vec!["a".into()]
            }
        );
    }

    #[test]
    fn no_owner_picks_most_keys_and_several_owners_are_refused() {
        let s = state(&[], &[], &[("b", "a"), ("c", "a")], &[("b", 2), ("c", 9)]);
        assert_eq!(
            plan_open_slot(&s),
            FixAction::ToOwner {
                owner: "c".into(),
                from: vec!["b".into()]
            }
        );
        let s = state(&[], &[("a", "b")], &[], &[]);
        assert!(matches!(plan_open_slot(&s), FixAction::Unfixable { .. }));
    }

    #[test]
    fn a_slot_given_away_while_the_target_imports_is_taken_over() {
        // keys on the source only, on the target only, on both
        for (keys, from) in [
            (vec![("a", 4)], vec!["a"]),
            (vec![("b", 4)], vec![]),
            (vec![("a", 1), ("b", 4)], vec!["a"]),
        ] {
            let s = state(&[], &[], &[("b", "a")], &keys);
            assert_eq!(
                plan_open_slot(&s),
                FixAction::TakeOver {
                    target: "b".into(),
                    from: from.into_iter().map(String::from).collect()
                }
            );
        }
    }

    #[test]
    fn uncovered_slots() {
        let h = |v: &[(&str, u64)]| -> Vec<(String, u64)> {
            v.iter().map(|(a, n)| (a.to_string(), *n)).collect()
        };
        assert_eq!(plan_uncovered(&[], "c"), "c");
        assert_eq!(plan_uncovered(&h(&[("b", 1)]), "c"), "b");
        assert_eq!(plan_uncovered(&h(&[("a", 2), ("b", 5)]), "c"), "b");
        // ties: the first in view order
        assert_eq!(plan_uncovered(&h(&[("a", 3), ("b", 3)]), "c"), "a");
    }

    #[test]
    fn several_owners_are_settled_on_the_one_with_most_keys() {
        // two claims, keys on both: b has more, a gives it up and its keys go to b
        let s = state(&["a", "b"], &[], &[], &[("a", 2), ("b", 5)]);
        assert_eq!(
            plan_owners(&s),
            FixAction::SettleOwner {
                owner: "b".into(),
                claim: false,
                from: vec!["a".into()],
                unclaim: vec!["a".into()],
            }
        );
        // one claim, more keys on a non-claimant: it takes the slot over
        let s = state(&["a"], &[], &[("c", "a")], &[("a", 1), ("c", 3)]);
        assert_eq!(
            plan_owners(&s),
            FixAction::SettleOwner {
                owner: "c".into(),
                claim: true,
                from: vec!["a".into()],
                unclaim: vec!["a".into()],
            }
        );
        // no keys anywhere: the first claimant keeps it; ties in keys go to a claimant
        let s = state(&["b", "c"], &[], &[], &[]);
        assert!(matches!(plan_owners(&s), FixAction::SettleOwner { owner, .. } if owner == "b"));
        let s = state(&["c"], &[], &[], &[("a", 2), ("c", 2)]);
        assert!(matches!(plan_owners(&s), FixAction::SettleOwner { owner, .. } if owner == "c"));
        // an open slot with two claims goes the same way
        let s = state(&["a", "b"], &[("a", "b")], &[], &[("a", 1)]);
        assert!(matches!(plan_open_slot(&s), FixAction::SettleOwner { owner, .. } if owner == "a"));
    }

    #[test]
    fn slots_of_a_gone_master_are_dealt_out_evenly() {
        let slots: Vec<Slot> = (10u16..20).filter_map(Slot::new).collect();
        let live = vec![("a".to_string(), 4usize), ("b".to_string(), 0usize)];
        let plan = plan_takeover(&slots, &BTreeMap::new(), &live);
        let got: Vec<(String, Vec<u16>)> = plan
            .into_iter()
            .map(|(id, v)| (id, v.iter().map(|s| s.get()).collect()))
            .collect();
        // 14 slots in all, 7 each: b (emptiest) takes 7 first, a the remaining 3
        assert_eq!(
            got,
            vec![
                ("a".to_string(), vec![17, 18, 19]),
                ("b".to_string(), (10..17).collect()),
            ]
        );
        // a slot with keys on a live master goes to it
        let mut holders = BTreeMap::new();
        holders.insert(19u16, vec![("a".to_string(), 3u64)]);
        let plan = plan_takeover(&slots, &holders, &live);
        let all: usize = plan.iter().map(|(_, v)| v.len()).sum();
        assert_eq!(all, 10);
        assert!(plan
            .iter()
            .any(|(id, v)| id == "a" && v.contains(&Slot::new(19).unwrap())));
    }
}
