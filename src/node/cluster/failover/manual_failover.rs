//! Manual failover (§4.8.3): CLUSTER FAILOVER [FORCE|TAKEOVER] on a replica, MFSTART on its
//! master (pause writes, advertise PAUSED with the final offset), the replica waiting until it
//! processed that offset, and the 5 s time limit. The election itself is `election`'s.

use super::election::{handle_replica_failover, replace_my_master};
use crate::node::cluster::bus_msg::{self as msg, Body, Message, NodeName};
use crate::node::cluster::epochs;
use crate::node::cluster::gossip_out::{build_ping, header, send_ping, send_to};
use crate::node::cluster::state::{now_ms, ClusterState};

/// How long a manual failover may take.
pub const MF_TIMEOUT_MS: u64 = 5000;
/// The master pauses writes for this many MF timeouts.
const MF_PAUSE_MULT: u64 = 2;

/// How CLUSTER FAILOVER was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Coordinate with my master, then an election with FORCEACK.
    Default,
    /// An election with FORCEACK at once, without my master.
    Force,
    /// No election: bump my configEpoch and take the slots.
    Takeover,
}

/// Starts a manual failover on a replica. Err: Redis's error text (without `ERR `).
pub fn start(st: &mut ClusterState, mode: Mode) -> Result<(), String> {
    if st.i_am_master() {
        return Err("You should send CLUSTER FAILOVER to a replica".into());
    }
    let Some(master) = st.my_master().and_then(|m| st.node(&m)) else {
        return Err("I'm a replica but my master is unknown to me".into());
    };
    if mode == Mode::Default && (master.failed() || master.link.is_none()) {
        return Err("Master is down or failed, please use CLUSTER FAILOVER FORCE".into());
    }
    let master = master.name;
    st.reset_manual_failover();
    st.mf.end = now_ms() + MF_TIMEOUT_MS;
    match mode {
        Mode::Takeover => {
            cnotice!("Taking over the master (user request).");
            epochs::bump_without_consensus(st);
            replace_my_master(st);
        }
        Mode::Force => {
            cnotice!("Forced failover user request accepted.");
            st.mf.can_start = true;
            // Now rather than at the next cron tick.
            handle_replica_failover(st);
        }
        Mode::Default => {
            cnotice!("Manual failover user request accepted.");
            let m = Message::new(msg::TYPE_MFSTART, header(st), Body::Empty);
            send_to(st, &master, &m);
        }
    }
    Ok(())
}

/// MFSTART from `sender`: if it is my replica, pause my writes and start pinging it with my
/// final offset (PAUSED). Returns the PING to send back on the same link.
pub fn on_mfstart(st: &mut ClusterState, sender: &NodeName) -> Option<Message> {
    let is_my_replica = st
        .node(sender)
        .is_some_and(|n| n.is_replica() && n.master == Some(st.myself));
    if !is_my_replica || !st.i_am_master() {
        return None;
    }
    st.reset_manual_failover();
    let now = now_ms();
    st.mf.end = now + MF_TIMEOUT_MS;
    st.mf.replica = Some(*sender);
    st.repl.pause_writes(now + MF_TIMEOUT_MS * MF_PAUSE_MULT);
    cnotice!("Manual failover requested by replica {sender}.");
    Some(build_ping(st, msg::TYPE_PING))
}

/// Replica side, on any packet from my master: the first PAUSED header gives its final offset.
pub fn on_master_header(st: &mut ClusterState, sender: &NodeName, paused: bool, offset: u64) {
    if st.mf.end != 0
        && st.me().is_replica()
        && st.my_master() == Some(*sender)
        && paused
        && st.mf.master_offset.is_none()
    {
        st.mf.master_offset = Some(offset);
        cnotice!("Received replication offset for paused master manual failover: {offset}");
        check_offset(st);
    }
}

/// Replica side: once my offset reached the paused master's, the election may start.
fn check_offset(st: &mut ClusterState) {
    if st.mf.end == 0 || st.mf.can_start {
        return;
    }
    let Some(target) = st.mf.master_offset else {
        return;
    };
    if target == st.repl.offset() {
        st.mf.can_start = true;
        cnotice!("All master replication stream processed, manual failover can start.");
        handle_replica_failover(st);
    }
}

/// The cron's part: the time limit on both sides, the master pinging its replica every tick,
/// the replica watching its offset.
pub fn cron(st: &mut ClusterState) {
    if st.mf.end != 0 && st.mf.end < now_ms() {
        cnotice!("Manual failover timed out.");
        st.reset_manual_failover();
        return;
    }
    if st.i_am_master() {
        if let Some(r) = st.mf.replica.filter(|_| st.mf.end != 0) {
            send_ping(st, &r, msg::TYPE_PING);
        }
    } else {
        check_offset(st);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::cluster::bus_msg::flags;
    use crate::node::cluster::state::{ClusterConfig, ClusterNode};
    use crate::slot::Slot;

    const M: NodeName = NodeName([b'm'; 40]);

    #[test]
    fn the_replica_waits_for_the_paused_masters_offset() {
        let mut st = ClusterState::new(ClusterConfig::default());
        st.add_node(ClusterNode::new(M, flags::MASTER));
        st.add_slot(Slot::new(0).unwrap(), M);
        st.set_my_master(M);
        // Not linked to my master: the default mode refuses, FORCE would not.
        assert_eq!(
            start(&mut st, Mode::Default).unwrap_err(),
            "Master is down or failed, please use CLUSTER FAILOVER FORCE"
        );
        st.mf.end = now_ms() + MF_TIMEOUT_MS;
        // A header without PAUSED, or from another node, sets nothing.
        on_master_header(&mut st, &M, false, 0);
        on_master_header(&mut st, &NodeName([b'x'; 40]), true, 0);
        assert_eq!(st.mf.master_offset, None);
        // My offset (0, no replication) is behind 7: keep waiting.
        on_master_header(&mut st, &M, true, 7);
        assert_eq!(st.mf.master_offset, Some(7));
        assert!(!st.mf.can_start);
        st.mf.master_offset = None;
        on_master_header(&mut st, &M, true, 0);
        assert!(st.mf.can_start);
        // The time limit resets everything.
        st.mf.end = 1;
        cron(&mut st);
        assert_eq!(st.mf.end, 0);
        assert!(!st.mf.can_start);
    }

    #[test]
    fn a_master_accepts_mfstart_only_from_its_own_replica() {
        let mut st = ClusterState::new(ClusterConfig::default());
        let me = st.myself;
        let mut r = ClusterNode::new(M, flags::SLAVE);
        r.master = Some(NodeName([b'o'; 40]));
        st.add_node(r);
        assert!(on_mfstart(&mut st, &M).is_none());
        st.nodes.get_mut(&M).unwrap().master = Some(me);
        let ping = on_mfstart(&mut st, &M).unwrap();
        assert_eq!(st.mf.replica, Some(M));
        // Every header now says PAUSED.
        assert_ne!(
            ping.header.mflags[0] & crate::node::cluster::bus_msg::MFLAG_PAUSED,
            0
        );
    }
}
