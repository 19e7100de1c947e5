//! Failure detection (§4.7): the 100 ms cron's pings and PFAIL marking, handshake expiry,
//! failure reports turning PFAIL into FAIL (and the FAIL broadcast), and clearing FAIL when a
//! node is reachable again; the cron then hands over to failover (`election`,
//! `manual_failover`) and replica migration, which start from these flags.

use rand::seq::SliceRandom;

use super::{election, manual_failover, replica_migration};
use crate::node::cluster::bus_msg::{self as msg, flags, Body, Message, NodeName};
use crate::node::cluster::gossip_out::{broadcast, broadcast_pong, header, send_ping};
use crate::node::cluster::state::{now_ms, ClusterState};

/// Failure reports older than this many node timeouts are ignored.
const FAIL_REPORT_VALIDITY_MULT: u64 = 2;
/// A master with slots stays FAIL at least this many node timeouts.
const FAIL_UNDO_TIME_MULT: u64 = 2;

fn valid_fail_reports(st: &mut ClusterState, name: &NodeName) -> usize {
    let validity = st.config.node_timeout * FAIL_REPORT_VALIDITY_MULT;
    let now = now_ms();
    match st.nodes.get_mut(name) {
        Some(n) => {
            n.fail_reports
                .retain(|_, t| now.saturating_sub(*t) <= validity);
            n.fail_reports.len()
        }
        None => 0,
    }
}

/// PFAIL → FAIL when enough masters agree; broadcasts FAIL.
pub fn mark_failing_if_needed(st: &mut ClusterState, name: &NodeName) {
    let quorum = st.size / 2 + 1;
    let Some(n) = st.node(name) else { return };
    if !n.timed_out() || n.failed() {
        return;
    }
    let mut failures = valid_fail_reports(st, name);
    if st.i_am_master() {
        failures += 1;
    }
    if failures < quorum {
        return;
    }
    cnotice!("Marking node {name} as failing (quorum reached).");
    let n = st.nodes.get_mut(name).unwrap();
    n.flags &= !flags::PFAIL;
    n.flags |= flags::FAIL;
    n.fail_time = now_ms();
    let m = Message::new(msg::TYPE_FAIL, header(st), Body::Fail { name: *name });
    broadcast(st, &m);
    st.save_needed = true;
    st.update_state();
}

pub fn clear_failure_if_needed(st: &mut ClusterState, name: &NodeName) {
    let slots = st.slot_count(name);
    let timeout = st.config.node_timeout;
    let Some(n) = st.nodes.get_mut(name) else {
        return;
    };
    let now = now_ms();
    if n.is_replica() || slots == 0 {
        cnotice!("Clear FAIL state for node {name}: is reachable again.");
        n.flags &= !flags::FAIL;
    } else if now.saturating_sub(n.fail_time) > timeout * FAIL_UNDO_TIME_MULT {
        cnotice!(
            "Clear FAIL state for node {name}: is reachable again and nobody is serving its slots after some time."
        );
        n.flags &= !flags::FAIL;
    } else {
        return;
    }
    st.save_needed = true;
    st.update_state();
}

/// The 100 ms cluster cron minus connection management: handshake expiry, pings, PFAIL.
/// Returns the nodes that need an outbound link.
pub fn cron(st: &mut ClusterState, iteration: u64) -> Vec<NodeName> {
    let now = now_ms();
    let timeout = st.config.node_timeout;
    let handshake_timeout = timeout.max(1000);
    let mut to_connect = Vec::new();
    let names: Vec<NodeName> = st.nodes.keys().copied().collect();
    for name in &names {
        let Some(n) = st.nodes.get(name) else {
            continue;
        };
        if n.has(flags::MYSELF | flags::NOADDR) {
            continue;
        }
        if n.in_handshake() && now.saturating_sub(n.ctime) > handshake_timeout {
            cnotice!("Handshake with {}:{} timed out", n.ip, n.port);
            st.delete_node(name);
            continue;
        }
        if n.link.is_none() && !n.ip.is_empty() && n.cport != 0 {
            to_connect.push(*name);
        }
    }
    if iteration.is_multiple_of(10) {
        let mut sample: Vec<(u64, NodeName)> = st
            .nodes
            .values()
            .filter(|n| {
                n.link.is_some() && n.ping_sent == 0 && !n.has(flags::MYSELF | flags::HANDSHAKE)
            })
            .map(|n| (n.pong_received, n.name))
            .collect();
        sample.shuffle(&mut rand::thread_rng());
        sample.truncate(5);
        if let Some((_, oldest)) = sample.into_iter().min() {
            send_ping(st, &oldest, msg::TYPE_PING);
        }
    }
    let mut update = false;
    for name in &names {
        let Some(n) = st.nodes.get(name) else {
            continue;
        };
        if n.has(flags::MYSELF | flags::NOADDR | flags::HANDSHAKE) {
            continue;
        }
        let ping_delay = now.saturating_sub(n.ping_sent);
        let data_delay = now.saturating_sub(n.data_received);
        if let Some(l) = &n.link {
            if now.saturating_sub(l.ctime) > timeout
                && n.ping_sent != 0
                && ping_delay > timeout / 2
                && data_delay > timeout / 2
            {
                // Drop a silent link; the next cron reconnects.
                st.nodes.get_mut(name).unwrap().link = None;
                continue;
            }
            if n.ping_sent == 0 && now.saturating_sub(n.pong_received) > timeout / 2 {
                send_ping(st, name, msg::TYPE_PING);
                continue;
            }
        }
        let n = &st.nodes[name];
        if n.ping_sent == 0 {
            continue;
        }
        if ping_delay.min(data_delay) > timeout && !n.has(flags::PFAIL | flags::FAIL) {
            cnotice!("*** NODE {name} possibly failing");
            st.nodes.get_mut(name).unwrap().flags |= flags::PFAIL;
            update = true;
        }
    }
    let nofailover = if st.config.replica_no_failover {
        flags::NOFAILOVER
    } else {
        0
    };
    let me = st.me_mut();
    me.flags = (me.flags & !flags::NOFAILOVER) | nofailover;
    manual_failover::cron(st);
    if st.me().is_replica() {
        election::handle_replica_failover(st);
        replica_migration::cron(st);
    }
    if update || !st.state_ok {
        st.update_state();
    }
    if st.broadcast_pong_needed {
        st.broadcast_pong_needed = false;
        broadcast_pong(st);
    }
    to_connect
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::cluster::state::{ClusterConfig, ClusterNode};
    use crate::slot::Slot;

    const A: NodeName = NodeName([b'a'; 40]);
    const B: NodeName = NodeName([b'b'; 40]);
    const X: NodeName = NodeName([b'x'; 40]);

    /// Four masters with a slot each (me, A, B, X): quorum 3.
    fn four_masters() -> ClusterState {
        let mut st = ClusterState::new(ClusterConfig::default());
        st.start_time = 0;
        let me = st.myself;
        st.add_slot(Slot::new(0).unwrap(), me);
        for (i, n) in [A, B, X].into_iter().enumerate() {
            st.add_node(ClusterNode::new(n, flags::MASTER));
            st.add_slot(Slot::new(i as u16 + 1).unwrap(), n);
        }
        st.update_state();
        st
    }

    #[test]
    fn pfail_turns_fail_with_a_majority_of_fresh_master_reports() {
        let mut st = four_masters();
        assert_eq!(st.size, 4);
        st.nodes.get_mut(&X).unwrap().flags |= flags::PFAIL;
        let now = now_ms();
        // me + A = 2 < 3
        st.nodes.get_mut(&X).unwrap().fail_reports.insert(A, now);
        mark_failing_if_needed(&mut st, &X);
        assert!(!st.nodes[&X].failed());
        // B's report is too old to count (validity 2 × node_timeout)
        let stale = now - st.config.node_timeout * 2 - 1;
        st.nodes.get_mut(&X).unwrap().fail_reports.insert(B, stale);
        mark_failing_if_needed(&mut st, &X);
        assert!(!st.nodes[&X].failed());
        assert_eq!(st.nodes[&X].fail_reports.len(), 1);
        st.nodes.get_mut(&X).unwrap().fail_reports.insert(B, now);
        mark_failing_if_needed(&mut st, &X);
        assert!(st.nodes[&X].failed() && !st.nodes[&X].timed_out());
    }

    #[test]
    fn fail_clears_at_once_for_a_slotless_master_and_late_for_an_owner() {
        let mut st = four_masters();
        let x = st.nodes.get_mut(&X).unwrap();
        x.flags |= flags::FAIL;
        x.fail_time = now_ms();
        clear_failure_if_needed(&mut st, &X);
        assert!(
            st.nodes[&X].failed(),
            "an owner stays FAIL for 2 × node_timeout"
        );
        st.nodes.get_mut(&X).unwrap().fail_time = 1;
        clear_failure_if_needed(&mut st, &X);
        assert!(!st.nodes[&X].failed());
        // Failed over: no slots left, cleared as soon as it answers.
        st.nodes.get_mut(&X).unwrap().flags |= flags::FAIL;
        st.nodes.get_mut(&X).unwrap().fail_time = now_ms();
        st.del_slot(Slot::new(3).unwrap());
        clear_failure_if_needed(&mut st, &X);
        assert!(!st.nodes[&X].failed());
    }
}
