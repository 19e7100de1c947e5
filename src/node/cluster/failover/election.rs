//! The replica side of a failover (§4.8.1): scheduling my election (fixed + random delay, rank
//! by replication offset), asking the masters for votes, counting them, and — once a majority
//! of the masters with slots voted — replacing my master (also the last step of TAKEOVER).
//! The voter side is `voting`; the manual-failover handshake is `manual_failover`.

use rand::Rng;

use crate::node::cluster::bus_msg::{self as msg, flags, Body, Message, NodeName, MFLAG_FORCEACK};
use crate::node::cluster::gossip_out::{broadcast, broadcast_pong, broadcast_pong_to, header};
use crate::node::cluster::state::{now_ms, ClusterState};
use crate::slot::Slot;

/// Why I cannot fail over now (Redis's CLUSTER_CANT_FAILOVER_*), for sparse logging.
pub mod cant {
    pub const NONE: u8 = 0;
    pub const DATA_AGE: u8 = 1;
    pub const WAITING_DELAY: u8 = 2;
    pub const EXPIRED: u8 = 3;
    pub const WAITING_VOTES: u8 = 4;
}

/// The same reason is logged again only after this long.
const CANT_RELOG_MS: u64 = 10_000;

/// How long an election may take, and how long before a new one: max(2 × node_timeout, 2 s)
/// and twice that.
pub fn auth_timeouts(node_timeout: u64) -> (u64, u64) {
    let timeout = (node_timeout * 2).max(2000);
    (timeout, timeout * 2)
}

/// My rank among my master's replicas: how many others (that may fail over) have a greater
/// replication offset than mine. Rank 0 goes first.
pub fn rank(st: &ClusterState) -> usize {
    let Some(master) = st.my_master() else {
        return 0;
    };
    let mine = st.repl.offset();
    st.replicas_of(&master)
        .iter()
        .filter(|r| **r != st.myself)
        .filter_map(|r| st.node(r))
        .filter(|r| !r.has(flags::NOFAILOVER) && r.repl_offset > mine)
        .count()
}

fn log_cant_failover(st: &mut ClusterState, reason: u8) {
    let now = now_ms();
    if reason == st.election.cant_reason
        && now.saturating_sub(st.election.cant_logged_at) < CANT_RELOG_MS
    {
        return;
    }
    st.election.cant_reason = reason;
    // Right after my master failed the reason is obvious: say nothing for a while.
    let quiet = st.config.node_timeout + 5000;
    if let Some(m) = st.my_master().and_then(|m| st.node(&m)) {
        if m.failed() && now.saturating_sub(m.fail_time) < quiet {
            return;
        }
    }
    st.election.cant_logged_at = now;
    let text = match reason {
        cant::DATA_AGE => "Disconnected from master for longer than allowed. Please check the 'cluster-replica-validity-factor' configuration option.",
        cant::WAITING_DELAY => "Waiting the delay before I can start a new failover.",
        cant::EXPIRED => "Failover attempt expired.",
        cant::WAITING_VOTES => "Waiting for votes, but majority still not reached.",
        _ => return,
    };
    cnotice!("Currently unable to failover: {text}");
}

/// The replicas of my own master (my siblings), who should hear my offset before an election.
fn siblings(st: &ClusterState) -> Vec<NodeName> {
    match st.my_master() {
        Some(m) => st
            .replicas_of(&m)
            .into_iter()
            .filter(|r| *r != st.myself)
            .collect(),
        None => Vec::new(),
    }
}

/// Broadcasts FAILOVER_AUTH_REQUEST (FORCEACK during a manual failover).
fn request_votes(st: &mut ClusterState) {
    let mut h = header(st);
    if st.mf.end != 0 {
        h.mflags[0] |= MFLAG_FORCEACK;
    }
    let m = Message::new(msg::TYPE_FAILOVER_AUTH_REQUEST, h, Body::Empty);
    broadcast(st, &m);
}

/// A FAILOVER_AUTH_ACK arrived from `sender` (known) whose header said `current_epoch`.
/// Returns whether it counted (the caller then runs the election step at once).
pub fn count_vote(st: &mut ClusterState, sender: &NodeName, current_epoch: u64) -> bool {
    let counts = st.node(sender).is_some_and(|n| n.is_master())
        && st.slot_count(sender) > 0
        && current_epoch >= st.election.auth_epoch;
    if counts {
        st.election.auth_count += 1;
    }
    counts
}

/// One step of my election, from the cron and after each vote (Redis's
/// clusterHandleSlaveFailover).
pub fn handle_replica_failover(st: &mut ClusterState) {
    let now = now_ms();
    let timeout = st.config.node_timeout;
    let manual = st.mf.end != 0 && st.mf.can_start;
    let (auth_timeout, auth_retry) = auth_timeouts(timeout);
    let auth_age = now.saturating_sub(st.election.auth_time);
    let quorum = st.size / 2 + 1;
    let me = st.me();
    let master = me
        .master
        .filter(|_| me.is_replica())
        .and_then(|m| st.node(&m));
    let Some(master) = master else {
        st.election.cant_reason = cant::NONE;
        return;
    };
    let wanted = manual || (master.failed() && !st.config.replica_no_failover);
    if !wanted || st.slot_count(&master.name) == 0 {
        st.election.cant_reason = cant::NONE;
        return;
    }
    if let Some(silence) = st.repl.master_silence_ms() {
        // Being cut off for the time it took to mark the master FAIL is the baseline.
        let age = if silence > timeout {
            silence - timeout
        } else {
            silence
        };
        let limit = st.config.repl_ping_period * 1000 + timeout * st.config.validity_factor;
        if st.config.validity_factor > 0 && age > limit && !manual {
            log_cant_failover(st, cant::DATA_AGE);
            return;
        }
    }
    if auth_age > auth_retry {
        let rank = rank(st);
        let e = &mut st.election;
        e.auth_time = now + 500 + rand::thread_rng().gen_range(0..500) + rank as u64 * 1000;
        e.auth_count = 0;
        e.auth_sent = false;
        e.auth_rank = rank;
        if st.mf.end != 0 {
            e.auth_time = now;
            e.auth_rank = 0;
        }
        cnotice!(
            "Start of election delayed for {} milliseconds (rank #{}, offset {}).",
            e.auth_time - now,
            e.auth_rank,
            st.repl.offset()
        );
        let to = siblings(st);
        broadcast_pong_to(st, &to);
        if st.mf.end != 0 {
            // A manual failover does not wait for the next cron tick.
            handle_replica_failover(st);
        }
        return;
    }
    if !st.election.auth_sent && st.mf.end == 0 {
        let new_rank = rank(st);
        if new_rank > st.election.auth_rank {
            let added = (new_rank - st.election.auth_rank) as u64 * 1000;
            st.election.auth_time += added;
            st.election.auth_rank = new_rank;
            cnotice!("Replica rank updated to #{new_rank}, added {added} milliseconds of delay.");
        }
    }
    if now < st.election.auth_time {
        log_cant_failover(st, cant::WAITING_DELAY);
        return;
    }
    if auth_age > auth_timeout {
        log_cant_failover(st, cant::EXPIRED);
        return;
    }
    if !st.election.auth_sent {
        st.current_epoch += 1;
        st.election.auth_epoch = st.current_epoch;
        cnotice!(
            "Starting a failover election for epoch {}.",
            st.current_epoch
        );
        request_votes(st);
        st.election.auth_sent = true;
        st.save_needed = true;
        st.update_state();
        return;
    }
    if st.election.auth_count >= quorum {
        cnotice!("Failover election won: I'm the new master.");
        if st.me().config_epoch < st.election.auth_epoch {
            let e = st.election.auth_epoch;
            st.me_mut().config_epoch = e;
            cnotice!("configEpoch set to {e} after successful failover");
        }
        replace_my_master(st);
    } else {
        log_cant_failover(st, cant::WAITING_VOTES);
    }
}

/// I take my master's place: become a master keeping my data, take all its slots, save at
/// once and tell everyone (Redis's clusterFailoverReplaceYourMaster). The old master stays a
/// (failed) master without slots in my table until it rejoins as a replica.
pub fn replace_my_master(st: &mut ClusterState) {
    let Some(old) = st.my_master().filter(|_| st.me().is_replica()) else {
        return;
    };
    st.set_me_as_master();
    let me = st.myself;
    for s in Slot::all() {
        if st.owner(s) == Some(old) {
            st.add_slot(s, me);
        }
    }
    st.update_state();
    if let Err(e) = st.save_now() {
        cwarn!("Can't save the cluster configuration after failover: {e}");
    }
    broadcast_pong(st);
    st.reset_manual_failover();
}

#[cfg(test)]
mod tests {
    use super::super::replication_port::ReplicationPort;
    use super::*;
    use crate::node::cluster::state::{ClusterConfig, ClusterNode};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;

    const M: NodeName = NodeName([b'm'; 40]);
    const A: NodeName = NodeName([b'a'; 40]);
    const B: NodeName = NodeName([b'b'; 40]);
    const C: NodeName = NodeName([b'c'; 40]);

    #[derive(Default)]
    struct FakeRepl {
        offset: AtomicU64,
        promoted: AtomicBool,
    }
    impl ReplicationPort for FakeRepl {
        fn offset(&self) -> u64 {
            self.offset.load(Ordering::SeqCst)
        }
        fn promote(&self) {
            self.promoted.store(true, Ordering::SeqCst);
        }
        fn follow(&self, _: NodeName, _: &str, _: u16) {}
    }

    /// I replicate M (slots 0-99, failed); A and B are masters with slots; C is my sibling.
    fn replica(offset: u64) -> (ClusterState, Arc<FakeRepl>) {
        let mut st = ClusterState::new(ClusterConfig::default());
        st.start_time = 0;
        for (name, first) in [(M, 0), (A, 100), (B, 200)] {
            let mut n = ClusterNode::new(name, flags::MASTER);
            n.config_epoch = 1;
            st.add_node(n);
            for s in first..first + 100 {
                st.add_slot(Slot::new(s).unwrap(), name);
            }
        }
        let mut c = ClusterNode::new(C, flags::SLAVE);
        c.master = Some(M);
        c.repl_offset = 50;
        st.add_node(c);
        st.set_my_master(M);
        let repl = Arc::new(FakeRepl::default());
        repl.offset.store(offset, Ordering::SeqCst);
        st.set_replication(repl.clone());
        st.nodes.get_mut(&M).unwrap().flags |= flags::FAIL;
        st.update_state();
        (st, repl)
    }

    #[test]
    fn rank_counts_siblings_with_a_greater_offset() {
        assert_eq!(rank(&replica(10).0), 1);
        assert_eq!(rank(&replica(50).0), 0);
        let (mut st, _) = replica(10);
        st.nodes.get_mut(&C).unwrap().flags |= flags::NOFAILOVER;
        assert_eq!(rank(&st), 0);
    }

    #[test]
    fn election_waits_its_delay_then_wins_with_a_majority_of_masters() {
        let (mut st, repl) = replica(10);
        handle_replica_failover(&mut st);
        let delay = st.election.auth_time - now_ms();
        // 500 + random(0..500) + rank 1 × 1000
        assert!((1400..2000).contains(&delay), "{delay}");
        assert!(!st.election.auth_sent);
        st.election.auth_time = now_ms();
        handle_replica_failover(&mut st);
        assert!(st.election.auth_sent);
        let epoch = st.election.auth_epoch;
        assert_eq!(st.current_epoch, epoch);
        // A replica's ack and an old-epoch ack do not count; two masters of three win.
        assert!(!count_vote(&mut st, &C, epoch));
        assert!(!count_vote(&mut st, &A, epoch - 1));
        assert!(count_vote(&mut st, &A, epoch));
        handle_replica_failover(&mut st);
        assert!(st.me().is_replica());
        assert!(count_vote(&mut st, &B, epoch));
        handle_replica_failover(&mut st);
        assert!(st.i_am_master());
        assert!(repl.promoted.load(Ordering::SeqCst));
        assert_eq!(st.me().config_epoch, epoch);
        assert_eq!(st.slot_count(&st.myself), 100);
        assert_eq!(st.slot_count(&M), 0);
    }

    #[test]
    fn no_election_for_a_live_master_or_with_replica_no_failover() {
        let (mut st, _) = replica(10);
        st.nodes.get_mut(&M).unwrap().flags &= !flags::FAIL;
        handle_replica_failover(&mut st);
        assert_eq!(st.election.auth_time, 0);
        let (mut st, _) = replica(10);
        st.config.replica_no_failover = true;
        handle_replica_failover(&mut st);
        assert_eq!(st.election.auth_time, 0);
    }
}
