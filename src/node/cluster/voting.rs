//! The voter side of a failover (§4.8.2): a master with slots grants at most one vote per
//! currentEpoch, only to a replica whose master is FAIL (or that asks with FORCEACK during a
//! manual failover), not twice for replicas of one master within 2 × node_timeout, and only
//! when the replica's view of its slots is not stale. Redis's clusterSendFailoverAuthIfNeeded.

use super::bus_msg::{self as msg, Body, Header, Message, MFLAG_FORCEACK};
use super::gossip_out::{header, send_to};
use super::state::{now_ms, ClusterState};

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
