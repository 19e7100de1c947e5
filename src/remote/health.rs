//! Judging a loaded view: agreement, open slots, coverage, unreachable and failed members, and
//! (from facts gathered by `strays`) keys in slots a node does not own and multiple owners.
//! Pure functions from data to findings; no I/O, no printing.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::remote::view::{ClusterView, SkipReason, SkippedNode};
use crate::slot::{Slot, SlotSet};

/// A node with open slots, as its own line says.
#[derive(Debug, Clone, Serialize)]
pub struct OpenSlotNode {
    pub addr: String,
    pub id: String,
    pub migrating: Vec<u16>,
    pub importing: Vec<u16>,
}

/// Keys a master holds in a slot it does not own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StrayKeys {
    pub addr: String,
    pub id: String,
    pub slot: u16,
    pub keys: u64,
}

/// A slot claimed by, or holding keys on, more than one master.
#[derive(Debug, Clone, Serialize)]
pub struct MultipleOwners {
    pub slot: u16,
    pub owners: Vec<String>,
}

/// Everything `check` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub agree: bool,
    /// Nodes whose slot map differs from the majority's.
    pub disagreeing: Vec<String>,
    pub open_nodes: Vec<OpenSlotNode>,
    /// Every open slot, ascending.
    pub open_slots: Vec<u16>,
    /// Uncovered slots as `[start, end]` ranges.
    pub uncovered: Vec<[u16; 2]>,
    pub uncovered_count: usize,
    /// Members that could not be loaded (unreachable, failed, no address, errors).
    pub skipped: Vec<SkippedNode>,
    pub stray_keys: Vec<StrayKeys>,
    /// `None` unless the multiple-owners search ran.
    pub multiple_owners: Option<Vec<MultipleOwners>>,
}

impl Health {
    /// Assesses what the view alone shows; `stray_keys`/`multiple_owners` are added by the caller.
    pub fn assess(view: &ClusterView) -> Health {
        let disagreeing: Vec<String> = view.disagreeing().iter().map(|n| n.name()).collect();
        let mut open_nodes = Vec::new();
        let mut open = SlotSet::new();
        for n in &view.nodes {
            if n.migrating.is_empty() && n.importing.is_empty() {
                continue;
            }
            let migrating: Vec<u16> = n.migrating.iter().map(|(s, _)| s.get()).collect();
            let importing: Vec<u16> = n.importing.iter().map(|(s, _)| s.get()).collect();
            for s in n.migrating.iter().chain(&n.importing) {
                open.insert(s.0);
            }
            open_nodes.push(OpenSlotNode {
                addr: n.name(),
                id: n.id.clone(),
                migrating,
                importing,
            });
        }
        let uncovered_set = view.covered().complement();
        Health {
            agree: disagreeing.is_empty(),
            disagreeing,
            open_nodes,
            open_slots: open.iter().map(Slot::get).collect(),
            uncovered: uncovered_set
                .ranges()
                .iter()
                .map(|r| [r.start.get(), r.end.get()])
                .collect(),
            uncovered_count: uncovered_set.len(),
            skipped: view.skipped.clone(),
            stray_keys: Vec::new(),
            multiple_owners: None,
        }
    }

    /// Adds stray keys found on masters and, when asked, the multiple-owner findings derived from
    /// them plus slots claimed by several masters.
    pub fn with_strays(
        mut self,
        view: &ClusterView,
        strays: Vec<StrayKeys>,
        search_owners: bool,
    ) -> Health {
        if search_owners {
            let mut owners: BTreeMap<u16, Vec<String>> = BTreeMap::new();
            for (slot, claimants) in view.claims() {
                owners
                    .entry(slot.get())
                    .or_default()
                    .extend(claimants.iter().map(|n| n.name()));
            }
            // Keys on a non-owner make that node an owner too (redis-cli's definition).
            let mut by_slot: BTreeMap<u16, Vec<String>> = BTreeMap::new();
            for s in &strays {
                by_slot.entry(s.slot).or_default().push(s.addr.clone());
            }
            let mut found = Vec::new();
            for (slot, extra) in by_slot {
                let list = owners.entry(slot).or_default();
                for a in extra {
                    if !list.contains(&a) {
                        list.push(a);
                    }
                }
            }
            for (slot, list) in owners {
                if list.len() > 1 {
                    // List order = view order, as redis-cli prints it.
                    let mut ordered: Vec<String> = view
                        .masters()
                        .map(|n| n.name())
                        .filter(|a| list.contains(a))
                        .collect();
                    ordered.dedup();
                    found.push(MultipleOwners {
                        slot,
                        owners: ordered,
                    });
                }
            }
            self.multiple_owners = Some(found);
        }
        self.stray_keys = strays;
        self
    }

    /// One short sentence per problem, for the final error line and `--json`.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        for s in &self.skipped {
            p.push(format!(
                "node {} ({}) {}",
                s.addr,
                short_id(&s.id),
                skipped_text(s)
            ));
        }
        if !self.agree {
            p.push(format!(
                "nodes don't agree about the slots configuration: {} differ",
                self.disagreeing.join(", ")
            ));
        }
        if !self.open_slots.is_empty() {
            p.push(format!("open slots: {}", join_nums(&self.open_slots)));
        }
        if self.uncovered_count > 0 {
            p.push(format!(
                "{} slots not covered: {}",
                self.uncovered_count,
                ranges_text(&self.uncovered)
            ));
        }
        for s in &self.stray_keys {
            p.push(format!(
                "node {} has {} key(s) in slot {} which it does not own",
                s.addr, s.keys, s.slot
            ));
        }
        for m in self.multiple_owners.iter().flatten() {
            p.push(format!(
                "slot {} has {} owners: {}",
                m.slot,
                m.owners.len(),
                m.owners.join(", ")
            ));
        }
        p
    }

    pub fn healthy(&self) -> bool {
        self.problems().is_empty()
    }
}

/// Why a member is not in the view: `is unreachable and flagged fail`.
pub fn skip_reason_text(s: &SkippedNode) -> String {
    match (&s.reason, s.flagged_fail) {
        (SkipReason::Failed, _) if s.answers => "is flagged fail but answers".to_string(),
        (SkipReason::Failed, _) => "is flagged fail".to_string(),
        (SkipReason::NoAddress, _) => "has no address".to_string(),
        (SkipReason::Unreachable, true) => "is unreachable and flagged fail".to_string(),
        (SkipReason::Unreachable, false) => "is unreachable".to_string(),
        (SkipReason::Error, _) => "answered with an error".to_string(),
    }
}

/// Why a member is not in the view, and for a master with slots what that means for them:
/// `is unreachable and flagged fail; its 5461 slot(s) have no reachable owner (no replica took
/// over)`.
pub fn skipped_text(s: &SkippedNode) -> String {
    let mut what = skip_reason_text(s);
    if s.was_master && s.slot_count > 0 {
        if s.answers {
            what.push_str(&format!(
                "; it still serves its {} slot(s), the cluster has not cleared the flag yet",
                s.slot_count
            ));
        } else {
            what.push_str(&format!(
                "; its {} slot(s) have no reachable owner (no replica took over)",
                s.slot_count
            ));
        }
    }
    what
}

/// The first 8 characters of a node id, for display. Cut on a character boundary: an id is
/// whatever a node's reply said, and a reply must never make trib panic.
pub fn short_id(id: &str) -> &str {
    match id.char_indices().nth(8) {
        Some((end, _)) => &id[..end],
        None => id,
    }
}

fn join_nums(v: &[u16]) -> String {
    v.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// `0-99,200` from `[start, end]` pairs.
pub fn ranges_text(r: &[[u16; 2]]) -> String {
    r.iter()
        .map(|[a, b]| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_id_never_cuts_inside_a_character() {
        assert_eq!(short_id("935c181e34ab"), "935c181e");
        assert_eq!(short_id("abc"), "abc");
        // 7 ASCII bytes then a 2-byte character: a byte slice [..8] would panic here.
        assert_eq!(short_id("abcdefgé123"), "abcdefgé");
        assert_eq!(short_id("ééééééééé"), "éééééééé");
    }

    #[test]
    fn a_failed_owner_is_named_with_its_slots() {
        let node = |reason, flagged_fail, answers| SkippedNode {
            addr: "127.0.0.1:7002".into(),
            id: "abcdef0123".into(),
            was_master: true,
            reason,
            detail: None,
            flagged_fail,
            answers,
            slot_count: 5461,
        };
        assert_eq!(
            skipped_text(&node(SkipReason::Unreachable, true, false)),
            "is unreachable and flagged fail; its 5461 slot(s) have no reachable owner (no \
             replica took over)"
        );
        assert!(skipped_text(&node(SkipReason::Failed, true, true))
            .starts_with("is flagged fail but answers; it still serves its 5461 slot(s)"));
        let mut replica = node(SkipReason::Unreachable, false, false);
        replica.was_master = false;
        assert_eq!(skipped_text(&replica), "is unreachable");
    }

    #[test]
    fn ranges_text_joins_runs() {
        assert_eq!(ranges_text(&[[0, 99], [200, 200]]), "0-99,200");
        assert_eq!(short_id("0123456789"), "01234567");
        assert_eq!(short_id("ab"), "ab");
    }
}
