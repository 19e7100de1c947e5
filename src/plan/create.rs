//! The create allocation as pure data: which nodes become masters, their slot ranges, which
//! master each replica follows. redis-cli's algorithm (interleave by host, `lround` ranges,
//! rotate, two replica passes) but hosts are compared by *resolved* address and the
//! anti-affinity step is a deterministic improvement search, so one input gives one plan.
//! No I/O: the caller resolves hosts and reads node ids first.

use serde::Serialize;

use crate::slot::{Slot, SlotRange};

/// One node offered to `create`.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// As the user typed it (printed in the plan).
    pub display: String,
    /// The resolved host (IP); nodes with equal `host` are on the same machine.
    pub host: String,
    pub id: String,
}

/// What a node becomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    /// A master with slots `start..=end` (None for a left-over master without slots).
    Master {
        start: Option<u16>,
        end: Option<u16>,
    },
    /// A replica of the node at this index of the input.
    Replica { master: usize },
}

/// How well replicas avoid their master's host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AntiAffinity {
    /// No replica shares a host with its master or with a sibling.
    Perfect,
    /// Some replica is on its master's host.
    SameHostAsMaster,
    /// Some replicas of one master share a host.
    SiblingsShareHost,
}

/// The allocation. `roles[i]` is what input node `i` becomes.
#[derive(Debug, Clone, Serialize)]
pub struct CreatePlan {
    pub roles: Vec<Role>,
    /// Masters in allocation order (`Master[i]` in the printout), as input indices.
    pub master_order: Vec<usize>,
    /// (replica, master) input indices in the order they were assigned.
    pub replica_order: Vec<(usize, usize)>,
    /// Whether pass 2 ("Adding extra replicas...") gave some masters one more replica.
    pub extra_replicas: bool,
    /// Anti-affinity before and after the improvement search (None without replicas).
    pub affinity_before: Option<AntiAffinity>,
    pub affinity: Option<AntiAffinity>,
}

/// Why no plan can be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("Invalid configuration for cluster creation: Redis Cluster requires at least 3 master nodes; this is not possible with {nodes} nodes and {replicas} replicas per node; at least {needed} nodes are required")]
    TooFewMasters {
        nodes: usize,
        replicas: usize,
        needed: usize,
    },
}

impl CreatePlan {
    /// Plans a cluster of `nodes` with `replicas` replicas per master.
    pub fn build(nodes: &[Candidate], replicas: usize) -> Result<CreatePlan, PlanError> {
        let n = nodes.len();
        let masters = n / (replicas + 1);
        if masters < 3 {
            return Err(PlanError::TooFewMasters {
                nodes: n,
                replicas,
                needed: 3 * (replicas + 1),
            });
        }
        let interleaved = interleave(nodes);
        let master_order: Vec<usize> = interleaved[..masters].to_vec();
        let mut roles: Vec<Role> = vec![
            Role::Master {
                start: None,
                end: None
            };
            n
        ];
        for (&m, r) in master_order.iter().zip(slot_ranges(masters)) {
            roles[m] = Role::Master {
                start: Some(r.start.get()),
                end: Some(r.end.get()),
            };
        }
        let mut candidates: Vec<usize> = interleaved[masters..].to_vec();
        if !candidates.is_empty() {
            candidates.rotate_left(1);
        }
        let mut replica_order = Vec::new();
        let take = |master: usize, candidates: &mut Vec<usize>| -> Option<usize> {
            if candidates.is_empty() {
                return None;
            }
            let pos = candidates
                .iter()
                .position(|&c| nodes[c].host != nodes[master].host)
                .unwrap_or(0);
            Some(candidates.remove(pos))
        };
        for &m in &master_order {
            for _ in 0..replicas {
                match take(m, &mut candidates) {
                    Some(c) => replica_order.push((c, m)),
                    None => break,
                }
            }
        }
        let extra_replicas = !candidates.is_empty();
        if extra_replicas {
            for &m in &master_order {
                match take(m, &mut candidates) {
                    Some(c) => replica_order.push((c, m)),
                    None => break,
                }
            }
        }
        for &(r, m) in &replica_order {
            roles[r] = Role::Replica { master: m };
        }
        let has_replicas = !replica_order.is_empty();
        let affinity_before = has_replicas.then(|| classify(score(nodes, &roles)));
        if has_replicas {
            improve(nodes, &mut roles);
            for pair in replica_order.iter_mut() {
                if let Role::Replica { master } = roles[pair.0] {
                    pair.1 = master;
                }
            }
        }
        let affinity = has_replicas.then(|| classify(score(nodes, &roles)));
        Ok(CreatePlan {
            roles,
            master_order,
            replica_order,
            extra_replicas,
            affinity_before,
            affinity,
        })
    }

    /// Slot range of input node `i` when it is a master with slots.
    pub fn range_of(&self, i: usize) -> Option<SlotRange> {
        match self.roles[i] {
            Role::Master {
                start: Some(s),
                end: Some(e),
            } => Some(SlotRange {
                start: Slot::new(s)?,
                end: Slot::new(e)?,
            }),
            _ => None,
        }
    }
}

/// Nodes grouped by host (groups in order of first appearance), taken one per group in turn.
fn interleave(nodes: &[Candidate]) -> Vec<usize> {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        match groups.iter_mut().find(|(h, _)| *h == n.host) {
            Some((_, v)) => v.push(i),
            None => groups.push((n.host.clone(), vec![i])),
        }
    }
    let mut out = Vec::with_capacity(nodes.len());
    let mut round = 0;
    while out.len() < nodes.len() {
        for (_, members) in &groups {
            if let Some(&i) = members.get(round) {
                out.push(i);
            }
        }
        round += 1;
    }
    out
}

/// redis-cli's ranges: `spn = 16384/masters` as f32, `last = lround(cursor + spn - 1)`.
pub fn slot_ranges(masters: usize) -> Vec<SlotRange> {
    let spn = 16384.0f32 / masters as f32;
    let mut cursor = 0.0f32;
    let mut first: i64 = 0;
    let mut out = Vec::with_capacity(masters);
    for i in 0..masters {
        let mut last = (cursor + spn - 1.0).round() as i64;
        if last > 16383 || i == masters - 1 {
            last = 16383;
        }
        if last < first {
            last = first;
        }
        out.push(SlotRange {
            start: clamp_slot(first),
            end: clamp_slot(last),
        });
        first = last + 1;
        cursor += spn;
    }
    out
}

fn clamp_slot(n: i64) -> Slot {
    Slot::new(n.clamp(0, 16383) as u16).expect("clamped into range")
}

/// redis-cli's anti-affinity score: 10000 per extra node sharing a host with its master,
/// 1 per replica sharing a host with a sibling.
fn score(nodes: &[Candidate], roles: &[Role]) -> u64 {
    use std::collections::HashMap;
    let master_of = |i: usize| match roles[i] {
        Role::Replica { master } => master,
        Role::Master { .. } => i,
    };
    let mut buckets: HashMap<(&str, usize), (usize, bool)> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let e = buckets.entry((n.host.as_str(), master_of(i))).or_default();
        e.0 += 1;
        e.1 |= matches!(roles[i], Role::Master { .. });
    }
    buckets
        .values()
        .filter(|(count, _)| *count >= 2)
        .map(|&(count, has_master)| {
            if has_master {
                10_000 * (count as u64 - 1)
            } else {
                count as u64
            }
        })
        .sum()
}

fn classify(score: u64) -> AntiAffinity {
    match score {
        0 => AntiAffinity::Perfect,
        s if s >= 10_000 => AntiAffinity::SameHostAsMaster,
        _ => AntiAffinity::SiblingsShareHost,
    }
}

/// Swaps the masters of replica pairs while that strictly lowers the score (first improving
/// pair in index order each round). Deterministic, and bounded by the score itself.
fn improve(nodes: &[Candidate], roles: &mut [Role]) {
    let replicas: Vec<usize> = (0..roles.len())
        .filter(|&i| matches!(roles[i], Role::Replica { .. }))
        .collect();
    let mut current = score(nodes, roles);
    // Each accepted swap lowers the score, so the loop ends; the cap is a second guard.
    for _ in 0..(replicas.len() * replicas.len() + 1) {
        if current == 0 {
            return;
        }
        let mut improved = false;
        'search: for (a_pos, &a) in replicas.iter().enumerate() {
            for &b in &replicas[a_pos + 1..] {
                let (Role::Replica { master: ma }, Role::Replica { master: mb }) =
                    (&roles[a], &roles[b])
                else {
                    continue;
                };
                let (ma, mb) = (*ma, *mb);
                if ma == mb {
                    continue;
                }
                roles[a] = Role::Replica { master: mb };
                roles[b] = Role::Replica { master: ma };
                let s = score(nodes, roles);
                if s < current {
                    current = s;
                    improved = true;
                    break 'search;
                }
                roles[a] = Role::Replica { master: ma };
                roles[b] = Role::Replica { master: mb };
            }
        }
        if !improved {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nodes(hosts: &[&str]) -> Vec<Candidate> {
        hosts
            .iter()
            .enumerate()
            .map(|(i, h)| Candidate {
                display: format!("{h}:{}", 7000 + i),
                host: h.to_string(),
                id: format!("{i:040}"),
            })
            .collect()
    }

    fn range(p: &CreatePlan, i: usize) -> (u16, u16) {
        let r = p.range_of(i).unwrap();
        (r.start.get(), r.end.get())
    }

    #[test]
    fn three_masters_get_redis_cli_ranges() {
        let p = CreatePlan::build(&nodes(&["a", "a", "a"]), 0).unwrap();
        assert_eq!(range(&p, 0), (0, 5460));
        assert_eq!(range(&p, 1), (5461, 10922));
        assert_eq!(range(&p, 2), (10923, 16383));
        assert_eq!(p.affinity, None);
    }

    #[test]
    fn five_masters_match_the_observed_ranges() {
        let got: Vec<(u16, u16)> = slot_ranges(5)
            .iter()
            .map(|r| (r.start.get(), r.end.get()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, 3276),
                (3277, 6553),
                (6554, 9829),
                (9830, 13106),
                (13107, 16383)
            ]
        );
    }

    #[test]
    fn one_host_six_nodes_is_transcript_01_before_optimisation() {
        let p = CreatePlan::build(&nodes(&["h"; 6]), 1).unwrap();
        assert_eq!(p.master_order, vec![0, 1, 2]);
        // rotate [3,4,5] -> [4,5,3]: 4->0, 5->1, 3->2 (all on one host: nothing to improve)
        assert_eq!(p.replica_order, vec![(4, 0), (5, 1), (3, 2)]);
        assert_eq!(p.affinity, Some(AntiAffinity::SameHostAsMaster));
        assert!(!p.extra_replicas);
    }

    #[test]
    fn masters_interleave_across_hosts_and_replicas_avoid_them() {
        let p = CreatePlan::build(&nodes(&["a", "a", "a", "b", "b", "b"]), 1).unwrap();
        // interleaved: a0 b3 a1 b4 a2 b5 -> masters 0,3,1
        assert_eq!(p.master_order, vec![0, 3, 1]);
        assert_eq!(p.affinity, Some(AntiAffinity::Perfect));
        for (r, m) in &p.replica_order {
            assert_ne!(
                nodes(&["a", "a", "a", "b", "b", "b"])[*r].host,
                nodes(&["a", "a", "a", "b", "b", "b"])[*m].host
            );
        }
    }

    #[test]
    fn seven_nodes_one_replica_adds_an_extra_replica() {
        let p = CreatePlan::build(&nodes(&["a", "a", "a", "a", "b", "b", "b"]), 1).unwrap();
        assert!(p.extra_replicas);
        assert_eq!(p.replica_order.len(), 4);
    }

    #[test]
    fn too_few_masters_is_refused() {
        assert_eq!(
            CreatePlan::build(&nodes(&["a", "a"]), 0).unwrap_err(),
            PlanError::TooFewMasters {
                nodes: 2,
                replicas: 0,
                needed: 3
            }
        );
        assert!(CreatePlan::build(&nodes(&["a"; 7]), 2).is_err());
    }

    proptest! {
        #[test]
        fn every_slot_once_and_deterministic(hosts in proptest::collection::vec(0u8..4, 3..40), replicas in 0usize..3) {
            let names: Vec<String> = hosts.iter().map(|h| format!("10.0.0.{h}")).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let input = nodes(&refs);
            match CreatePlan::build(&input, replicas) {
                Err(_) => prop_assert!(input.len() / (replicas + 1) < 3),
                Ok(p) => {
                    let mut covered = 0usize;
                    let mut next = 0u16;
                    for &m in &p.master_order {
                        let r = p.range_of(m).unwrap();
                        prop_assert_eq!(r.start.get(), next);
                        covered += r.len();
                        next = r.end.get().wrapping_add(1);
                    }
                    prop_assert_eq!(covered, 16384);
                    for (r, m) in &p.replica_order {
                        let is_master = matches!(p.roles[*m], Role::Master { .. });
                        prop_assert!(is_master);
                        prop_assert_eq!(&p.roles[*r], &Role::Replica { master: *m });
                    }
                    let again = CreatePlan::build(&input, replicas).unwrap();
                    prop_assert_eq!(again.roles, p.roles);
                }
            }
        }
    }
}
