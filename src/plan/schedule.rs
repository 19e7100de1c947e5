//! Which transfers may run at the same time. MIGRATE blocks its source until the target has
//! restored the keys, so a node that is a source in one running transfer must never be a
//! target in another (A→B, B→C, C→A stalls all three): at any moment every busy node is only a
//! source or only a target. On top of that each node takes part in at most `per_node` running
//! transfers. The engine asks `next_startable` whenever a transfer ends; `waves` simulates the
//! same rule for printing a plan. Pure: no I/O.

use std::collections::HashMap;

use serde::Serialize;

use super::moves::Transfer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum Role {
    Source,
    Target,
}

/// The running transfers, as far as scheduling cares.
#[derive(Debug, Clone, Default)]
pub struct Busy {
    nodes: HashMap<String, (Role, usize)>,
}

impl Busy {
    fn can_take(&self, id: &str, role: Role, per_node: usize) -> bool {
        match self.nodes.get(id) {
            None => per_node > 0,
            Some((r, n)) => *r == role && *n < per_node,
        }
    }

    /// Whether `t` may start now.
    pub fn allows(&self, t: &Transfer, per_node: usize) -> bool {
        t.source != t.target
            && self.can_take(&t.source, Role::Source, per_node)
            && self.can_take(&t.target, Role::Target, per_node)
    }

    pub fn start(&mut self, t: &Transfer) {
        for (id, role) in [(&t.source, Role::Source), (&t.target, Role::Target)] {
            let e = self.nodes.entry(id.clone()).or_insert((role, 0));
            debug_assert_eq!(e.0, role);
            e.1 += 1;
        }
    }

    pub fn finish(&mut self, t: &Transfer) {
        for id in [&t.source, &t.target] {
            if let Some(e) = self.nodes.get_mut(id) {
                e.1 -= 1;
                if e.1 == 0 {
                    self.nodes.remove(id);
                }
            }
        }
    }

    pub fn is_idle(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// The first pending transfer (plan order) that may start now, if any.
pub fn next_startable(pending: &[Transfer], busy: &Busy, per_node: usize) -> Option<usize> {
    pending.iter().position(|t| busy.allows(t, per_node))
}

/// Groups transfers into waves that could run together (each wave waits for the previous one):
/// a printable, conservative picture of the schedule the engine follows dynamically.
pub fn waves(transfers: &[Transfer], per_node: usize) -> Vec<Vec<Transfer>> {
    let mut pending: Vec<Transfer> = transfers.to_vec();
    let mut out = Vec::new();
    while !pending.is_empty() {
        let mut busy = Busy::default();
        let mut wave = Vec::new();
        while let Some(i) = next_startable(&pending, &busy, per_node.max(1)) {
            let t = pending.remove(i);
            busy.start(&t);
            wave.push(t);
        }
        out.push(wave);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str, d: &str) -> Transfer {
        Transfer {
            source: s.into(),
            target: d.into(),
            slots: vec![],
        }
    }

    #[test]
    fn a_cycle_never_runs_at_once() {
        let w = waves(&[t("a", "b"), t("b", "c"), t("c", "a")], 4);
        assert!(w.iter().all(|wave| wave.len() == 1));
    }

    #[test]
    fn two_sources_into_one_target_share_a_wave() {
        let w = waves(&[t("a", "d"), t("b", "d"), t("c", "d")], 2);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].len(), 2);
    }

    #[test]
    fn independent_pairs_run_together() {
        let w = waves(&[t("a", "b"), t("c", "d")], 1);
        assert_eq!(w.len(), 1);
    }

    proptest! {
        #[test]
        fn running_set_never_has_a_node_in_both_roles(
            pairs in proptest::collection::vec((0u8..5, 0u8..5), 1..20),
            per_node in 1usize..4,
            finish_order in proptest::collection::vec(0usize..100, 0..60),
        ) {
            let mut pending: Vec<Transfer> = pairs.iter()
                .filter(|(a, b)| a != b)
                .map(|(a, b)| t(&a.to_string(), &b.to_string()))
                .collect();
            let total = pending.len();
            let mut running: Vec<Transfer> = Vec::new();
            let mut busy = Busy::default();
            let mut done = 0;
            let mut choices = finish_order.into_iter();
            for _ in 0..200 {
                while let Some(i) = next_startable(&pending, &busy, per_node) {
                    let tr = pending.remove(i);
                    busy.start(&tr);
                    running.push(tr);
                }
                // invariant over the running set
                for x in &running {
                    prop_assert!(!running.iter().any(|y| y.target == x.source));
                    let uses = running.iter().filter(|y| y.source == x.source || y.target == x.source).count();
                    prop_assert!(uses <= per_node);
                }
                if running.is_empty() { break; }
                let k = choices.next().unwrap_or(0) % running.len();
                let tr = running.remove(k);
                busy.finish(&tr);
                done += 1;
            }
            prop_assert_eq!(done, total, "every transfer eventually runs");
            prop_assert!(busy.is_idle());
        }
    }
}
