//! The voter side of a failover (§4.8.2): a master with slots grants at most one vote per
//! currentEpoch, only to a replica whose master is FAIL (or that asks with FORCEACK during a
//! manual failover), not twice for replicas of one master within 2 × node_timeout, and only
//! when the replica's view of its slots is not stale. Redis's clusterSendFailoverAuthIfNeeded.

use crate::node::cluster::bus_msg::{self as msg, Body, Header, Message, MFLAG_FORCEACK};
use crate::node::cluster::gossip_out::{header, send_to};
use crate::node::cluster::state::{now_ms, ClusterState};

/// Why a vote was refused (logged the way Redis words it), or `Ok` when granted.
pub fn vote_if_needed(st: &mut ClusterState, request: &Header) -> Result<(), String> {
    let requester = request.sender;
    if !st.i_am_master() || st.slot_count(&st.myself) == 0 {
        return Err(String::new());
    }
    if request.current_epoch < st.current_epoch {
        return Err(format!(
            "Failover auth denied to {requester}: reqEpoch ({}) < curEpoch({})",
            request.current_epoch, st.current_epoch
        ));
    }
    if st.last_vote_epoch == st.current_epoch {
        return Err(format!(
            "Failover auth denied to {requester}: already voted for epoch {}",
            st.current_epoch
        ));
    }
    let force = request.mflags[0] & MFLAG_FORCEACK != 0;
    let node = st.node(&requester).ok_or_else(String::new)?;
    let master = node
        .master
        .filter(|_| node.is_replica())
        .and_then(|m| st.node(&m));
    let Some(master) = master.filter(|m| m.failed() || force) else {
        let why = if !node.is_replica() {
            "it is a master node"
        } else if master.is_none() {
            "I don't know its master"
        } else {
            "its master is up"
        };
        return Err(format!("Failover auth denied to {requester}: {why}"));
    };
    let master_name = master.name;
    let now = now_ms();
    let window = st.config.node_timeout * 2;
    if now.saturating_sub(master.voted_time) < window {
        return Err(format!(
            "Failover auth denied to {requester}: can't vote about this master before {} milliseconds",
            window - now.saturating_sub(master.voted_time)
        ));
    }
    for s in request.myslots.iter_fast() {
        let Some(owner) = st.owner(s).and_then(|o| st.node(&o)) else {
            continue;
        };
        if owner.config_epoch <= request.config_epoch {
            continue;
        }
        return Err(format!(
            "Failover auth denied to {requester}: slot {} epoch ({}) > reqEpoch ({})",
            s.get(),
            owner.config_epoch,
            request.config_epoch
        ));
    }
    st.last_vote_epoch = st.current_epoch;
    if let Some(m) = st.nodes.get_mut(&master_name) {
        m.voted_time = now;
    }
    // The vote must survive a restart before it is sent (one vote per epoch).
    if let Err(e) = st.save_now() {
        cwarn!("Can't save the cluster configuration before voting: {e}");
    }
    let ack = Message::new(msg::TYPE_FAILOVER_AUTH_ACK, header(st), Body::Empty);
    send_to(st, &requester, &ack);
    cnotice!(
        "Failover auth granted to {requester} for epoch {}",
        st.current_epoch
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::cluster::bus_msg::{flags, NodeName};
    use crate::node::cluster::state::{ClusterConfig, ClusterNode};
    use crate::slot::{Slot, SlotSet};

    const M: NodeName = NodeName([b'm'; 40]);
    const R: NodeName = NodeName([b'r'; 40]);

    /// I am a master of slot 0; M (epoch 2, slot 1) has failed; R replicates M.
    fn voter() -> ClusterState {
        let mut st = ClusterState::new(ClusterConfig::default());
        let me = st.myself;
        st.add_slot(Slot::new(0).unwrap(), me);
        st.me_mut().config_epoch = 1;
        let mut m = ClusterNode::new(M, flags::MASTER | flags::FAIL);
        m.config_epoch = 2;
        st.add_node(m);
        st.add_slot(Slot::new(1).unwrap(), M);
        let mut r = ClusterNode::new(R, flags::SLAVE);
        r.master = Some(M);
        st.add_node(r);
        st.current_epoch = 3;
        st
    }

    fn request(current_epoch: u64) -> Header {
        let mut h = Header::new(R);
        h.current_epoch = current_epoch;
        h.config_epoch = 2;
        h.myslots = [Slot::new(1).unwrap()].into_iter().collect::<SlotSet>();
        h
    }

    #[test]
    fn one_vote_per_epoch_and_not_twice_per_master_within_two_timeouts() {
        let mut st = voter();
        assert!(vote_if_needed(&mut st, &request(3)).is_ok());
        assert_eq!(st.last_vote_epoch, 3);
        let again = vote_if_needed(&mut st, &request(3)).unwrap_err();
        assert!(again.contains("already voted for epoch 3"), "{again}");
        st.current_epoch = 4;
        let soon = vote_if_needed(&mut st, &request(4)).unwrap_err();
        assert!(soon.contains("can't vote about this master"), "{soon}");
        st.nodes.get_mut(&M).unwrap().voted_time = 0;
        assert!(vote_if_needed(&mut st, &request(4)).is_ok());
    }

    #[test]
    fn refuses_stale_epochs_live_masters_and_slotless_voters() {
        let mut st = voter();
        assert!(vote_if_needed(&mut st, &request(2))
            .unwrap_err()
            .contains("reqEpoch (2) < curEpoch(3)"));
        // A newer owner of the claimed slot: the requester's view is stale.
        st.nodes.get_mut(&M).unwrap().config_epoch = 5;
        assert!(vote_if_needed(&mut st, &request(3))
            .unwrap_err()
            .contains("slot 1 epoch (5) > reqEpoch (2)"));
        st.nodes.get_mut(&M).unwrap().config_epoch = 2;
        // Master up: only FORCEACK (manual failover) gets the vote.
        st.nodes.get_mut(&M).unwrap().flags &= !flags::FAIL;
        assert!(vote_if_needed(&mut st, &request(3))
            .unwrap_err()
            .contains("its master is up"));
        let mut forced = request(3);
        forced.mflags[0] |= MFLAG_FORCEACK;
        assert!(vote_if_needed(&mut st, &forced).is_ok());
        // Without slots I have no vote at all.
        let mut st = voter();
        st.del_slot(Slot::new(0).unwrap());
        assert_eq!(vote_if_needed(&mut st, &request(3)), Err(String::new()));
    }
}
