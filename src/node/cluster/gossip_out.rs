//! Messages this node sends (§4.2, §4.6): the header built from the state, PING/PONG/MEET
//! with their gossip sample, UPDATE, and queuing on the outbound links (with the per-type
//! counters CLUSTER INFO shows). What received messages mean is in `gossip`.

use bytes::Bytes;
use rand::seq::SliceRandom;

use super::bus_msg::{
    self as msg, flags, Body, Gossip, Header, Message, NodeName, PingExt, MFLAG_PAUSED,
};
use super::state::{now_ms, ClusterNode, ClusterState};

/// The header of every message we send (§4.2).
pub fn header(st: &ClusterState) -> Header {
    let me = st.me();
    let mut h = Header::new(st.myself);
    h.port = st.config.announced_port();
    h.cport = st.config.announced_bus_port();
    h.current_epoch = st.current_epoch;
    h.config_epoch = st.my_epoch();
    h.offset = st.repl.offset();
    h.myslots = st.claimed_slots();
    h.slaveof = if me.is_replica() { me.master } else { None };
    h.myip = st.config.announce_ip.clone();
    h.flags = me.flags;
    h.state = if st.state_ok { 0 } else { 1 };
    if me.is_master() && st.mf.end != 0 {
        // My replica is waiting for my offset while my writes are paused (manual failover).
        h.mflags[0] |= MFLAG_PAUSED;
    }
    h
}

fn gossip_entry(n: &ClusterNode) -> Gossip {
    Gossip {
        name: n.name,
        ping_sent: (n.ping_sent / 1000) as u32,
        pong_received: (n.pong_received / 1000) as u32,
        ip: n.ip.clone(),
        port: n.port,
        cport: n.cport,
        flags: n.flags,
        pport: n.pport,
    }
}

/// Builds a PING, PONG or MEET with a random gossip sample plus every PFAIL node.
pub fn build_ping(st: &ClusterState, kind: u16) -> Message {
    let total = st.nodes.len();
    let fresh = total.saturating_sub(2);
    let wanted = (total / 10).max(3).min(fresh);
    let mut candidates: Vec<&ClusterNode> = st
        .nodes
        .values()
        .filter(|n| {
            n.name != st.myself
                && !n.timed_out()
                && !n.has(flags::HANDSHAKE | flags::NOADDR)
                && (n.link.is_some() || st.slot_count(&n.name) != 0)
        })
        .collect();
    candidates.shuffle(&mut rand::thread_rng());
    let mut gossip: Vec<Gossip> = candidates
        .into_iter()
        .take(wanted)
        .map(gossip_entry)
        .collect();
    for n in st.nodes.values() {
        if n.timed_out() && !n.has(flags::HANDSHAKE | flags::NOADDR) && n.name != st.myself {
            gossip.push(gossip_entry(n));
        }
    }
    let mut exts = Vec::new();
    if !st.config.announce_hostname.is_empty() {
        exts.push(PingExt::Hostname(st.config.announce_hostname.clone()));
    }
    Message::new(kind, header(st), Body::Ping { gossip, exts })
}

/// Encodes and counts a message we are about to send.
pub fn encode_counted(st: &mut ClusterState, m: &Message) -> Bytes {
    if let Some(c) = st.stats_sent.get_mut(m.kind as usize) {
        *c += 1;
    }
    m.encode()
}

/// Queues a message on our outbound link to `to` (dropped when there is none).
pub fn send_to(st: &mut ClusterState, to: &NodeName, m: &Message) -> bool {
    let Some(tx) = st
        .nodes
        .get(to)
        .and_then(|n| n.link.as_ref())
        .map(|l| l.tx.clone())
    else {
        return false;
    };
    let bytes = encode_counted(st, m);
    tx.send(bytes).is_ok()
}

/// Sends a PING to `to` and records the pending ping.
pub fn send_ping(st: &mut ClusterState, to: &NodeName, kind: u16) {
    let m = build_ping(st, kind);
    if send_to(st, to, &m) && kind == msg::TYPE_PING {
        if let Some(n) = st.nodes.get_mut(to) {
            if n.ping_sent == 0 {
                n.ping_sent = now_ms();
            }
        }
    }
}

fn broadcast_targets(st: &ClusterState) -> Vec<NodeName> {
    st.nodes
        .values()
        .filter(|n| n.link.is_some() && n.name != st.myself && !n.in_handshake())
        .map(|n| n.name)
        .collect()
}

/// A PONG to every linked node, so a configuration change spreads at once.
pub fn broadcast_pong(st: &mut ClusterState) {
    for to in broadcast_targets(st) {
        let m = build_ping(st, msg::TYPE_PONG);
        send_to(st, &to, &m);
    }
}

/// A PONG to each of `to` that is linked (e.g. my sibling replicas before an election).
pub fn broadcast_pong_to(st: &mut ClusterState, to: &[NodeName]) {
    for name in to {
        let m = build_ping(st, msg::TYPE_PONG);
        send_to(st, name, &m);
    }
}

pub fn broadcast(st: &mut ClusterState, m: &Message) {
    for to in broadcast_targets(st) {
        send_to(st, &to, m);
    }
}

pub fn send_update(st: &mut ClusterState, to: &NodeName, about: &NodeName) {
    let Some(n) = st.node(about) else { return };
    let mut slots = st.slots_of(about);
    for s in st.owner_not_claiming.iter_fast() {
        slots.remove(s);
    }
    let m = Message::new(
        msg::TYPE_UPDATE,
        header(st),
        Body::Update {
            config_epoch: n.config_epoch,
            name: *about,
            slots,
        },
    );
    send_to(st, to, &m);
}
