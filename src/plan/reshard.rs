//! The reshard plan: which slots move from which sources to one target. Follows redis-cli's
//! choice (sources by slot count descending, the first gets the ceiling of its proportional
//! share, the others the floor, each gives its lowest-numbered slots), then fixes its shortfall:
//! when the floors add up to fewer slots than requested, the missing slots are taken one by one
//! from the sources in the same order, so the plan moves exactly what was asked (or every slot
//! the sources have). Pure: no I/O.

use std::fmt;

use serde::Serialize;

use super::moves::{slot_count, PlanNode, Transfer};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReshardPlan {
    /// What the operator asked for.
    pub requested: usize,
    pub target: String,
    /// One transfer per source that gives slots, in the order they run.
    pub transfers: Vec<Transfer>,
}

impl ReshardPlan {
    pub fn slot_count(&self) -> usize {
        slot_count(&self.transfers)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReshardError {
    #[error("no source nodes given")]
    NoSources,
    #[error("the target node cannot also be a source")]
    TargetIsSource,
    #[error("the number of slots to move must be at least 1")]
    NothingRequested,
}

/// Plans moving `requested` slots from `sources` to `target`.
pub fn plan_reshard(
    sources: &[PlanNode],
    target: &str,
    requested: usize,
) -> Result<ReshardPlan, ReshardError> {
    if sources.is_empty() {
        return Err(ReshardError::NoSources);
    }
    if sources.iter().any(|s| s.id == target) {
        return Err(ReshardError::TargetIsSource);
    }
    if requested == 0 {
        return Err(ReshardError::NothingRequested);
    }
    let mut order: Vec<&PlanNode> = sources.iter().collect();
    // Stable, unlike redis-cli's qsort: equal counts keep the caller's (view) order.
    order.sort_by_key(|s| std::cmp::Reverse(s.slots.len()));
    let total: usize = order.iter().map(|s| s.slots.len()).sum();
    let wanted = requested.min(total);

    let mut quota: Vec<usize> = order
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // redis-cli computes this in 32-bit float; kept so plans match its output.
            let share = requested as f32 / total.max(1) as f32 * s.slots.len() as f32;
            let n = if i == 0 { share.ceil() } else { share.floor() };
            (n.max(0.0) as usize).min(s.slots.len())
        })
        .collect();
    // Never more than requested in total: trim from the last sources.
    let mut sum: usize = quota.iter().sum();
    for q in quota.iter_mut().rev() {
        if sum <= wanted {
            break;
        }
        let cut = (sum - wanted).min(*q);
        *q -= cut;
        sum -= cut;
    }
    // redis-cli's shortfall (e.g. 10 slots from 7 equal sources gave 8): top up in order.
    while sum < wanted {
        let before = sum;
        for (i, s) in order.iter().enumerate() {
            if sum < wanted && quota[i] < s.slots.len() {
                quota[i] += 1;
                sum += 1;
            }
        }
        if sum == before {
            break;
        }
    }
    let transfers = order
        .iter()
        .zip(&quota)
        .filter(|(_, &q)| q > 0)
        .map(|(s, &q)| Transfer {
            source: s.id.clone(),
            target: target.to_string(),
            slots: s.slots[..q].to_vec(),
        })
        .collect();
    Ok(ReshardPlan {
        requested,
        target: target.to_string(),
        transfers,
    })
}

impl fmt::Display for ReshardPlan {
    /// redis-cli's `Moving slot <s> from <source-id>` lines, indented as in its summary.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for t in &self.transfers {
            for s in &t.slots {
                writeln!(f, "    Moving slot {s} from {}", t.source)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slot::Slot;
    use proptest::prelude::*;

    fn node(id: &str, range: std::ops::Range<u16>) -> PlanNode {
        PlanNode::new(id, id, range.map(|n| Slot::new(n).unwrap()).collect())
    }

    #[test]
    fn matches_redis_cli_transcript_32() {
        // 100 slots from sources with 5452 and 5461 slots: 51 from the larger, 49 from the other.
        let a = node("a", 10..5462);
        let c = node("c", 10923..16384);
        let plan = plan_reshard(&[a, c], "b", 100).unwrap();
        assert_eq!(plan.transfers[0].source, "c");
        assert_eq!(plan.transfers[0].slots.len(), 51);
        assert_eq!(plan.transfers[0].slots[0].get(), 10923);
        assert_eq!(plan.transfers[1].slots.len(), 49);
        assert_eq!(plan.transfers[1].slots[0].get(), 10);
        assert_eq!(plan.slot_count(), 100);
    }

    #[test]
    fn takes_lowest_slots_of_a_single_source() {
        let plan = plan_reshard(&[node("a", 3..5461)], "b", 2).unwrap();
        let slots: Vec<u16> = plan.transfers[0].slots.iter().map(|s| s.get()).collect();
        assert_eq!(slots, vec![3, 4]);
        assert_eq!(
            plan.to_string(),
            "    Moving slot 3 from a\n    Moving slot 4 from a\n"
        );
    }

    #[test]
    fn fixes_redis_cli_shortfall_with_many_equal_sources() {
        let sources: Vec<PlanNode> = (0..7)
            .map(|i| node(&format!("n{i}"), i * 100..i * 100 + 100))
            .collect();
        let plan = plan_reshard(&sources, "t", 10).unwrap();
        assert_eq!(plan.slot_count(), 10, "redis-cli would plan 8");
    }

    #[test]
    fn too_many_slots_takes_everything_the_sources_have() {
        let plan = plan_reshard(&[node("a", 6..100)], "b", 20000).unwrap();
        assert_eq!(plan.slot_count(), 94);
        assert_eq!(plan.requested, 20000);
    }

    #[test]
    fn refuses_bad_requests() {
        assert_eq!(plan_reshard(&[], "b", 1), Err(ReshardError::NoSources));
        assert_eq!(
            plan_reshard(&[node("b", 0..5)], "b", 1),
            Err(ReshardError::TargetIsSource)
        );
        assert_eq!(
            plan_reshard(&[node("a", 0..5)], "b", 0),
            Err(ReshardError::NothingRequested)
        );
    }

    proptest! {
        #[test]
        fn moves_exactly_min_of_requested_and_available(
            counts in proptest::collection::vec(0u16..600, 1..9),
            requested in 1usize..5000,
        ) {
            let mut next = 0u16;
            let sources: Vec<PlanNode> = counts.iter().enumerate().map(|(i, &c)| {
                let n = node(&format!("s{i}"), next..next + c);
                next += c;
                n
            }).collect();
            let total: usize = counts.iter().map(|&c| c as usize).sum();
            let plan = plan_reshard(&sources, "t", requested).unwrap();
            prop_assert_eq!(plan.slot_count(), requested.min(total));
            let mut seen = std::collections::HashSet::new();
            for t in &plan.transfers {
                let src = sources.iter().find(|s| s.id == t.source).unwrap();
                // each source gives its lowest slots, each slot once
                prop_assert_eq!(&src.slots[..t.slots.len()], &t.slots[..]);
                for s in &t.slots { prop_assert!(seen.insert(*s)); }
            }
        }
    }
}
