//! Replica migration (§4.8.4): a replica of a well-covered master moves to a master with slots
//! that has lost its last working replica (an orphan), so that every shard keeps a standby.
//! Redis's orphan count in clusterCron and clusterHandleSlaveMigration.

use crate::node::cluster::bus_msg::{flags, NodeName};
use crate::node::cluster::state::{now_ms, ClusterNode, ClusterState};

/// A master must be orphaned this long before a replica migrates to it.
const MIGRATION_DELAY_MS: u64 = 5000;

/// Replicas of `master` not flagged FAIL.
fn non_failing_replicas(st: &ClusterState, master: &NodeName) -> usize {
    st.replicas_of(master)
        .iter()
        .filter(|r| st.node(r).is_some_and(|n| !n.failed()))
        .count()
}

fn may_be_counted(n: &ClusterNode) -> bool {
    !n.has(flags::MYSELF | flags::NOADDR | flags::HANDSHAKE) && n.is_master() && !n.failed()
}

/// The cron's part: when some master is orphaned and mine is among the best covered, maybe
/// migrate.
pub fn cron(st: &mut ClusterState) {
    if !st.me().is_replica() || !st.config.allow_replica_migration {
        return;
    }
    let my_master = st.my_master();
    let (mut orphaned, mut max_replicas, mut mine) = (0, 0, 0);
    for n in st.nodes.values().filter(|n| may_be_counted(n)) {
        let ok = non_failing_replicas(st, &n.name);
        if ok == 0 && st.slot_count(&n.name) > 0 && n.has(flags::MIGRATE_TO) {
            orphaned += 1;
        }
        max_replicas = max_replicas.max(ok);
        if my_master == Some(n.name) {
            mine = ok;
        }
    }
    // Moving only makes sense when some master has at least two working replicas.
    if orphaned > 0 && max_replicas >= 2 && mine == max_replicas {
        migrate_if_needed(st, max_replicas);
    }
}

fn migrate_if_needed(st: &mut ClusterState, max_replicas: usize) {
    if !st.state_ok {
        return;
    }
    let Some(my_master) = st.my_master() else {
        return;
    };
    let ok_siblings = st
        .replicas_of(&my_master)
        .iter()
        .filter(|r| st.node(r).is_some_and(|n| !n.failed() && !n.timed_out()))
        .count();
    if ok_siblings as u64 <= st.config.migration_barrier {
        return;
    }
    let now = now_ms();
    let mut candidate = st.myself;
    let mut target: Option<NodeName> = None;
    let mut names: Vec<NodeName> = st.nodes.keys().copied().collect();
    names.sort();
    for name in names {
        let n = &st.nodes[&name];
        let ok = if n.is_master() {
            non_failing_replicas(st, &name)
        } else {
            0
        };
        let orphaned = n.is_master() && !n.failed() && n.has(flags::MIGRATE_TO) && ok == 0;
        let slots = st.slot_count(&name);
        let n = st.nodes.get_mut(&name).unwrap();
        if orphaned {
            if target.is_none() && slots > 0 {
                target = Some(name);
            }
            if n.orphaned_time == 0 {
                n.orphaned_time = now;
            }
        } else {
            n.orphaned_time = 0;
        }
        // The replica with the smallest name among the best-covered masters moves.
        if ok == max_replicas {
            for r in st.replicas_of(&name) {
                if r.0 < candidate.0 {
                    candidate = r;
                }
            }
        }
    }
    let Some(target) = target else { return };
    let since = st.nodes[&target].orphaned_time;
    if candidate == st.myself && now.saturating_sub(since) > MIGRATION_DELAY_MS {
        cnotice!("Migrating to orphaned master {target}");
        st.set_my_master(target);
        st.broadcast_pong_needed = true;
    }
}
