//! The rebalance plan: each involved master's weighted share of the slots, and the transfers
//! (most over-full → most under-full, redis-cli's two-pointer pairing) that reach it. Unlike
//! redis-cli, shares are apportioned exactly (largest remainder): the total is conserved and
//! every master ends within one slot of `total · weight / Σweights`; redis-cli's
//! `(int)(16384/W·w)` plus its fix-up loop can leave a drained node with a slot (redis#3001) or
//! loop forever (redis#4941). A threshold of 0 means "any imbalance", where redis-cli treats it
//! as "never rebalance". Pure: no I/O.

use serde::Serialize;

use super::moves::{slot_count, PlanNode, Transfer};

/// A master taking part in the rebalance, with its weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightedNode {
    pub node: PlanNode,
    pub weight: f64,
}

/// Where one master stands: its current slots, its share, and `slots - share`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Balance {
    pub id: String,
    pub addr: String,
    pub slots: usize,
    pub expected: usize,
    pub balance: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RebalancePlan {
    pub total_weight: f64,
    /// Involved masters sorted by balance ascending (the order redis-cli prints with -v).
    pub balances: Vec<Balance>,
    pub transfers: Vec<Transfer>,
}

impl RebalancePlan {
    pub fn slot_count(&self) -> usize {
        slot_count(&self.transfers)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RebalanceOutcome {
    /// Every master is within the threshold of its share.
    NotNeeded {
        threshold: f64,
    },
    Plan(RebalancePlan),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RebalanceError {
    #[error("no master takes part in the rebalance")]
    NoNodes,
    #[error("the weights add up to zero: at least one master must keep slots")]
    ZeroWeight,
    #[error("invalid weight {0}: weights must be finite and not negative")]
    BadWeight(String),
}

/// Shares of `total` proportional to `weights`, by largest remainder (ties: earlier first).
pub fn apportion(total: usize, weights: &[f64]) -> Vec<usize> {
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut shares: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let given: usize = shares.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        fb.partial_cmp(&fa).unwrap_or(std::cmp::Ordering::Equal)
    });
    for &i in order.iter().take(total.saturating_sub(given)) {
        shares[i] += 1;
    }
    shares
}

/// Plans a rebalance of `nodes` (already filtered to the involved masters, in view order).
pub fn plan_rebalance(
    nodes: &[WeightedNode],
    threshold: f64,
) -> Result<RebalanceOutcome, RebalanceError> {
    if nodes.is_empty() {
        return Err(RebalanceError::NoNodes);
    }
    if let Some(bad) = nodes
        .iter()
        .find(|n| !n.weight.is_finite() || n.weight < 0.0)
    {
        return Err(RebalanceError::BadWeight(bad.weight.to_string()));
    }
    let total_weight: f64 = nodes.iter().map(|n| n.weight).sum();
    if total_weight <= 0.0 {
        return Err(RebalanceError::ZeroWeight);
    }
    let total: usize = nodes.iter().map(|n| n.node.slots.len()).sum();
    let weights: Vec<f64> = nodes.iter().map(|n| n.weight).collect();
    let shares = apportion(total, &weights);

    let exceeds = nodes.iter().zip(&shares).any(|(n, &expected)| {
        let have = n.node.slots.len();
        if threshold <= 0.0 {
            return have != expected;
        }
        if have == 0 {
            expected > 1
        } else {
            (100.0 - 100.0 * expected as f64 / have as f64).abs() > threshold
        }
    });
    if !exceeds {
        return Ok(RebalanceOutcome::NotNeeded { threshold });
    }

    let mut balances: Vec<Balance> = nodes
        .iter()
        .zip(&shares)
        .map(|(n, &expected)| Balance {
            id: n.node.id.clone(),
            addr: n.node.addr.clone(),
            slots: n.node.slots.len(),
            expected,
            balance: n.node.slots.len() as i64 - expected as i64,
        })
        .collect();
    balances.sort_by_key(|b| b.balance);

    let mut remaining: Vec<i64> = balances.iter().map(|b| b.balance).collect();
    // Slots not yet given away, per node (by id), consumed from the lowest.
    let mut taken: Vec<usize> = vec![0; balances.len()];
    let slots_of = |id: &str| &nodes.iter().find(|n| n.node.id == id).unwrap().node.slots;
    let mut transfers = Vec::new();
    let (mut dst, mut src) = (0usize, balances.len() - 1);
    while dst < src {
        let k = remaining[dst]
            .unsigned_abs()
            .min(remaining[src].unsigned_abs()) as usize;
        if k > 0 {
            let from = slots_of(&balances[src].id);
            transfers.push(Transfer {
                source: balances[src].id.clone(),
                target: balances[dst].id.clone(),
                slots: from[taken[src]..taken[src] + k].to_vec(),
            });
            taken[src] += k;
            remaining[dst] += k as i64;
            remaining[src] -= k as i64;
        }
        if remaining[dst] == 0 {
            dst += 1;
        }
        if remaining[src] == 0 {
            src = src.saturating_sub(1);
        }
        if k == 0 && remaining[dst] != 0 && remaining[src] != 0 {
            break; // both sides on the same sign: nothing left to pair
        }
    }
    Ok(RebalanceOutcome::Plan(RebalancePlan {
        total_weight,
        balances,
        transfers,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slot::Slot;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn wnode(id: &str, range: std::ops::Range<u16>, weight: f64) -> WeightedNode {
        WeightedNode {
            node: PlanNode::new(id, id, range.map(|n| Slot::new(n).unwrap()).collect()),
            weight,
        }
    }

    fn three_plus_empty() -> Vec<WeightedNode> {
        vec![
            wnode("a", 0..5461, 1.0),
            wnode("b", 5461..10923, 1.0),
            wnode("c", 10923..16384, 1.0),
            wnode("d", 0..0, 1.0),
        ]
    }

    fn after(nodes: &[WeightedNode], plan: &RebalancePlan) -> HashMap<String, usize> {
        let mut count: HashMap<String, usize> = nodes
            .iter()
            .map(|n| (n.node.id.clone(), n.node.slots.len()))
            .collect();
        for t in &plan.transfers {
            *count.get_mut(&t.source).unwrap() -= t.slots.len();
            *count.get_mut(&t.target).unwrap() += t.slots.len();
        }
        count
    }

    #[test]
    fn balanced_cluster_needs_nothing() {
        let nodes = &three_plus_empty()[..3];
        assert_eq!(
            plan_rebalance(nodes, 2.0).unwrap(),
            RebalanceOutcome::NotNeeded { threshold: 2.0 }
        );
    }

    #[test]
    fn empty_master_receives_a_quarter() {
        let nodes = three_plus_empty();
        let RebalanceOutcome::Plan(plan) = plan_rebalance(&nodes, 2.0).unwrap() else {
            panic!("expected a plan");
        };
        let count = after(&nodes, &plan);
        assert_eq!(count["d"], 4096);
        assert_eq!(count.values().sum::<usize>(), 16384);
        assert!(plan.transfers.iter().all(|t| t.target == "d"));
        // sources give their lowest slots
        let from_b = plan.transfers.iter().find(|t| t.source == "b").unwrap();
        assert_eq!(from_b.slots[0].get(), 5461);
    }

    #[test]
    fn weight_zero_drains_completely() {
        let mut nodes = three_plus_empty();
        nodes[3] = wnode("d", 0..0, 1.0);
        nodes[0].weight = 0.0;
        let RebalanceOutcome::Plan(plan) = plan_rebalance(&nodes, 2.0).unwrap() else {
            panic!("expected a plan");
        };
        let count = after(&nodes, &plan);
        assert_eq!(count["a"], 0, "redis-trib left one slot here (redis#3001)");
        assert_eq!(count.values().sum::<usize>(), 16384);
    }

    #[test]
    fn threshold_zero_means_any_imbalance() {
        let nodes = vec![wnode("a", 0..8193, 1.0), wnode("b", 8193..16384, 1.0)];
        assert!(matches!(
            plan_rebalance(&nodes, 0.0).unwrap(),
            RebalanceOutcome::Plan(_)
        ));
        assert!(matches!(
            plan_rebalance(&nodes, 2.0).unwrap(),
            RebalanceOutcome::NotNeeded { .. }
        ));
    }

    #[test]
    fn rejects_zero_total_weight_and_bad_weights() {
        let nodes = vec![wnode("a", 0..10, 0.0)];
        assert_eq!(plan_rebalance(&nodes, 2.0), Err(RebalanceError::ZeroWeight));
        let nodes = vec![wnode("a", 0..10, f64::NAN)];
        assert!(matches!(
            plan_rebalance(&nodes, 2.0),
            Err(RebalanceError::BadWeight(_))
        ));
    }

    proptest! {
        #[test]
        fn balances_exactly(
            spec in proptest::collection::vec((0u16..3000, 0u8..5), 1..12),
        ) {
            let mut next = 0u16;
            let nodes: Vec<WeightedNode> = spec.iter().enumerate().map(|(i, &(c, w))| {
                let c = c.min(16384 - next);
                let n = wnode(&format!("n{i}"), next..next + c, w as f64);
                next += c;
                n
            }).collect();
            let total: usize = nodes.iter().map(|n| n.node.slots.len()).sum();
            let w: f64 = nodes.iter().map(|n| n.weight).sum();
            match plan_rebalance(&nodes, 0.0) {
                Err(RebalanceError::ZeroWeight) => prop_assert_eq!(w, 0.0),
                Err(e) => prop_assert!(false, "unexpected {e}"),
                Ok(RebalanceOutcome::NotNeeded { .. }) => {
                    for n in &nodes {
                        let exact = total as f64 * n.weight / w;
                        prop_assert!((n.node.slots.len() as f64 - exact).abs() < 1.0);
                    }
                }
                Ok(RebalanceOutcome::Plan(plan)) => {
                    let count = after(&nodes, &plan);
                    prop_assert_eq!(count.values().sum::<usize>(), total);
                    for n in &nodes {
                        let exact = total as f64 * n.weight / w;
                        prop_assert!((count[&n.node.id] as f64 - exact).abs() < 1.0,
                            "{} has {} for share {}", n.node.id, count[&n.node.id], exact);
                    }
                    // every slot moved once, from its owner
                    let mut seen = std::collections::HashSet::new();
                    for t in &plan.transfers {
                        prop_assert!(t.source != t.target);
                        let src = nodes.iter().find(|n| n.node.id == t.source).unwrap();
                        for s in &t.slots {
                            prop_assert!(src.node.slots.contains(s));
                            prop_assert!(seen.insert(*s));
                        }
                    }
                }
            }
        }
    }
}
