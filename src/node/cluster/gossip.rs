//! What received bus messages mean (§4.5-4.6): applying a message to the state (handshake,
//! epochs, roles, the slot update rule, UPDATE, gossip sections, failure reports, FAIL), and
//! handing failover messages (vote requests, votes, MFSTART) to `voting`, `election` and
//! `manual_failover`. Pure state logic: sockets are in `bus`, sending in `gossip_out`, the
//! cron in `failure`.

use bytes::Bytes;

use super::bus_msg::{self as msg, flags, Body, Gossip, Header, Message, NodeName, MFLAG_PAUSED};
use super::epochs;
pub use super::failover::failure::cron;
use super::failover::failure::{clear_failure_if_needed, mark_failing_if_needed};
use super::failover::{election, manual_failover, voting};
use super::gossip_out::send_update;
pub use super::gossip_out::{
    broadcast_pong, build_ping, encode_counted, header, send_ping, send_to,
};
use super::state::{now_ms, ClusterNode, ClusterState};
use crate::slot::{Slot, SlotSet};

/// Which link a message arrived on.
#[derive(Debug, Clone)]
pub struct LinkCtx {
    /// `Some(node)` when this is our outbound link to `node`; `None` for an inbound link.
    pub outbound_to: Option<NodeName>,
    /// The TCP peer's IP.
    pub peer_ip: String,
    /// Our own IP on this connection (how a node learns its address).
    pub local_ip: String,
}

/// What the link must do after a message was applied.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Send this on the same link.
    pub reply: Option<Bytes>,
    /// Close the link.
    pub close: bool,
    /// Slots whose keys must be deleted (lost to a newer owner while holding keys).
    pub dirty_slots: Vec<Slot>,
}

/// The address a header announces: `myip`, or the TCP peer's when empty.
fn announced_ip(h: &Header, ctx: &LinkCtx) -> String {
    if h.myip.is_empty() {
        ctx.peer_ip.clone()
    } else {
        h.myip.clone()
    }
}

fn update_address_if_needed(
    st: &mut ClusterState,
    name: &NodeName,
    h: &Header,
    ctx: &LinkCtx,
) -> bool {
    if ctx.outbound_to == Some(*name) {
        return false;
    }
    let ip = announced_ip(h, ctx);
    let Some(n) = st.nodes.get_mut(name) else {
        return false;
    };
    if n.port == h.port && n.cport == h.cport && n.pport == h.pport && n.ip == ip {
        return false;
    }
    n.ip = ip;
    n.port = h.port;
    n.cport = h.cport;
    n.pport = h.pport;
    n.link = None;
    n.flags &= !flags::NOADDR;
    cnotice!("Address updated for node {name}, now {}:{}", n.ip, n.port);
    st.save_needed = true;
    if st.my_master() == Some(*name) {
        st.follow_my_master();
    }
    true
}

/// The slot update rule (§4.6 step 8a), shared by PING/PONG and UPDATE. Returns dirty slots.
pub fn update_slots_config(
    st: &mut ClusterState,
    sender: &NodeName,
    sender_epoch: u64,
    claimed: &SlotSet,
) -> Vec<Slot> {
    let me = st.myself;
    if *sender == me {
        return Vec::new();
    }
    let cur_master = if st.i_am_master() {
        Some(me)
    } else {
        st.my_master()
    };
    let mut dirty = Vec::new();
    let mut new_master = None;
    let mut changed = false;
    let (mut sender_slots, mut migrated_ours) = (0, 0);
    for s in st.slots_of(sender).iter_fast() {
        if !claimed.contains(s) {
            st.owner_not_claiming.insert(s);
        }
    }
    for s in claimed.iter_fast() {
        let owner = st.owner(s);
        sender_slots += 1;
        if owner == Some(*sender) {
            st.owner_not_claiming.remove(s);
            continue;
        }
        if st.importing.contains_key(&s.get()) {
            continue;
        }
        let owner_epoch = owner.and_then(|o| st.node(&o)).map(|n| n.config_epoch);
        let wins = match owner_epoch {
            None => true,
            Some(e) => e < sender_epoch || st.owner_not_claiming.contains(s),
        };
        if wins {
            if owner == Some(me) {
                dirty.push(s);
            }
            if owner.is_some() && owner == cur_master {
                new_master = Some(*sender);
                migrated_ours += 1;
            }
            st.del_slot(s);
            st.add_slot(s, *sender);
            changed = true;
        }
    }
    if !changed {
        return Vec::new();
    }
    st.save_needed = true;
    st.update_state();
    let cur_has_slots = cur_master.map(|m| st.slot_count(&m) > 0).unwrap_or(false);
    if new_master.is_some()
        && !cur_has_slots
        && (st.config.allow_replica_migration || sender_slots == migrated_ours)
    {
        cnotice!("Configuration change detected. Reconfiguring myself as a replica of {sender}");
        st.set_my_master(*sender);
        st.update_state();
        return Vec::new();
    }
    let grand = st
        .my_master()
        .filter(|_| st.me().is_replica())
        .and_then(|m| st.node(&m))
        .and_then(|m| m.master)
        .filter(|g| *g != me);
    if let Some(g) = grand {
        st.set_my_master(g);
        return Vec::new();
    }
    dirty
}

fn process_gossip(st: &mut ClusterState, sender: Option<NodeName>, gossip: &[Gossip]) {
    let sender_is_master = sender
        .and_then(|s| st.node(&s))
        .is_some_and(|n| n.is_master());
    let now = now_ms();
    for g in gossip {
        if st.nodes.contains_key(&g.name) {
            if sender_is_master && g.name != st.myself {
                let s = sender.unwrap();
                if g.flags & (flags::FAIL | flags::PFAIL) != 0 {
                    st.nodes
                        .get_mut(&g.name)
                        .unwrap()
                        .fail_reports
                        .insert(s, now);
                    mark_failing_if_needed(st, &g.name);
                } else {
                    st.nodes.get_mut(&g.name).unwrap().fail_reports.remove(&s);
                }
            }
            let n = st.nodes.get_mut(&g.name).unwrap();
            if g.flags & (flags::FAIL | flags::PFAIL) == 0
                && n.ping_sent == 0
                && n.fail_reports.is_empty()
            {
                let pong = g.pong_received as u64 * 1000;
                if pong <= now + 500 && pong > n.pong_received {
                    n.pong_received = pong;
                }
            }
            if n.has(flags::FAIL | flags::PFAIL)
                && g.flags & flags::NOADDR == 0
                && g.flags & (flags::FAIL | flags::PFAIL) == 0
                && (n.ip != g.ip || n.port != g.port || n.cport != g.cport)
            {
                n.link = None;
                n.ip = g.ip.clone();
                n.port = g.port;
                n.cport = g.cport;
                n.pport = g.pport;
                n.flags &= !flags::NOADDR;
                if st.my_master() == Some(g.name) {
                    st.follow_my_master();
                }
            }
        } else if sender.is_some() && g.flags & flags::NOADDR == 0 && !st.is_banned(&g.name) {
            // Only the role bits of a stranger's flags are trustworthy here.
            let mut n = ClusterNode::new(g.name, g.flags & (flags::MASTER | flags::SLAVE));
            n.ip = g.ip.clone();
            n.port = g.port;
            n.cport = g.cport;
            n.pport = g.pport;
            cnotice!(
                "Discovered node {} at {}:{} via gossip",
                g.name,
                g.ip,
                g.port
            );
            st.add_node(n);
            st.save_needed = true;
        }
    }
}

/// Applies one decoded message that arrived on a link described by `ctx`.
pub fn process(st: &mut ClusterState, m: &Message, ctx: &mut LinkCtx) -> Outcome {
    let mut out = Outcome::default();
    let h = &m.header;
    let kind = m.kind;
    if let Some(c) = st.stats_received.get_mut(kind as usize) {
        *c += 1;
    }
    let now = now_ms();
    let sender = Some(h.sender).filter(|s| st.nodes.contains_key(s) && *s != st.myself);
    if let Some(s) = sender {
        let n = st.nodes.get_mut(&s).unwrap();
        n.data_received = now;
        if !n.in_handshake() {
            n.repl_offset = h.offset;
            if h.config_epoch > n.config_epoch {
                n.config_epoch = h.config_epoch;
                st.save_needed = true;
            }
            if h.current_epoch > st.current_epoch {
                st.current_epoch = h.current_epoch;
                st.save_needed = true;
            }
            let paused = h.mflags[0] & MFLAG_PAUSED != 0;
            manual_failover::on_master_header(st, &s, paused, h.offset);
        }
    }
    let is_ping_like = matches!(kind, msg::TYPE_PING | msg::TYPE_PONG | msg::TYPE_MEET);
    if kind == msg::TYPE_PING || kind == msg::TYPE_MEET {
        if (kind == msg::TYPE_MEET || st.me().ip.is_empty())
            && st.config.announce_ip.is_empty()
            && !ctx.local_ip.is_empty()
            && st.me().ip != ctx.local_ip
        {
            cnotice!("IP address for this node updated to {}", ctx.local_ip);
            st.me_mut().ip = ctx.local_ip.clone();
            st.save_needed = true;
        }
        if sender.is_none() && kind == msg::TYPE_MEET && h.sender != st.myself {
            let mut n = ClusterNode::new(NodeName::random(), flags::HANDSHAKE);
            n.ip = announced_ip(h, ctx);
            n.port = h.port;
            n.pport = h.pport;
            n.cport = h.cport;
            st.add_node(n);
            st.save_needed = true;
            if let Body::Ping { gossip, .. } = &m.body {
                process_gossip(st, None, gossip);
            }
        }
        let pong = build_ping(st, msg::TYPE_PONG);
        out.reply = Some(encode_counted(st, &pong));
    }
    if is_ping_like {
        if let Some(link_node) = ctx.outbound_to {
            let in_handshake = st.node(&link_node).is_some_and(|n| n.in_handshake());
            if in_handshake {
                if sender.is_some() {
                    // We already know this node under its real name: keep that entry.
                    update_address_if_needed(
                        st,
                        &h.sender,
                        h,
                        &LinkCtx {
                            outbound_to: None,
                            ..ctx.clone()
                        },
                    );
                    st.delete_node(&link_node);
                    out.close = true;
                    return out;
                }
                cnotice!(
                    "Handshake with node {link_node} completed, its name is {}",
                    h.sender
                );
                st.rename_node(&link_node, h.sender);
                let n = st.nodes.get_mut(&h.sender).unwrap();
                n.flags &= !flags::HANDSHAKE;
                n.flags |= h.flags & (flags::MASTER | flags::SLAVE);
                n.data_received = now;
                ctx.outbound_to = Some(h.sender);
                st.save_needed = true;
            } else if link_node != h.sender {
                cnotice!(
                    "PONG contains mismatching sender ID. About node {link_node} added {}",
                    h.sender
                );
                if let Some(n) = st.nodes.get_mut(&link_node) {
                    n.flags |= flags::NOADDR;
                    n.ip.clear();
                    n.port = 0;
                    n.pport = 0;
                    n.cport = 0;
                    n.link = None;
                }
                st.save_needed = true;
                out.close = true;
                return out;
            }
        }
    }
    // The sender may just have been learnt through the handshake above.
    let sender = Some(h.sender).filter(|s| st.nodes.contains_key(s) && *s != st.myself);
    if is_ping_like {
        if let Some(s) = sender {
            let n = st.nodes.get_mut(&s).unwrap();
            n.flags = (n.flags & !flags::NOFAILOVER) | (h.flags & flags::NOFAILOVER);
            if kind == msg::TYPE_PING
                && !n.in_handshake()
                && update_address_if_needed(st, &s, h, ctx)
            {
                st.update_state();
            }
        }
        if kind == msg::TYPE_PONG {
            if let Some(link_node) = ctx.outbound_to.filter(|l| *l == h.sender) {
                let n = st.nodes.get_mut(&link_node).unwrap();
                n.pong_received = now;
                n.ping_sent = 0;
                if n.timed_out() {
                    n.flags &= !flags::PFAIL;
                    st.update_state();
                } else if n.failed() {
                    clear_failure_if_needed(st, &link_node);
                }
            }
        }
        if let Some(s) = sender {
            apply_role(st, &s, h);
            let sender_master = if st.nodes[&s].is_master() {
                Some(s)
            } else {
                st.nodes[&s].master
            };
            let dirty = sender_master.is_some_and(|m| !st.owns_exactly(&m, &h.myslots));
            if dirty && st.nodes[&s].is_master() {
                out.dirty_slots = update_slots_config(st, &s, h.config_epoch, &h.myslots);
            }
            if dirty {
                for slot in h.myslots.iter_fast() {
                    let Some(owner) = st.owner(slot) else {
                        continue;
                    };
                    if owner == s {
                        continue;
                    }
                    if st
                        .nodes
                        .get(&owner)
                        .is_some_and(|o| o.config_epoch > h.config_epoch)
                    {
                        cdebug!("Node {s} has an old slot configuration, sending an UPDATE about {owner}");
                        send_update(st, &s, &owner);
                        break;
                    }
                }
            }
            if st.i_am_master()
                && st.nodes[&s].is_master()
                && h.config_epoch == st.me().config_epoch
            {
                epochs::handle_collision(st, &s);
            }
            if let Body::Ping { gossip, .. } = &m.body {
                process_gossip(st, Some(s), gossip);
            }
            let hostname = m.hostname().map(str::to_string);
            if let Some(n) = st.nodes.get_mut(&s) {
                if n.hostname != hostname {
                    n.hostname = hostname;
                    st.save_needed = true;
                }
            }
        }
        return out;
    }
    let Some(s) = sender else {
        cdebug!(
            "Ignoring {} message from unknown node {}",
            msg::type_name(kind),
            h.sender
        );
        return out;
    };
    match &m.body {
        Body::Fail { name } => {
            if let Some(n) = st.nodes.get_mut(name) {
                if !n.has(flags::FAIL | flags::MYSELF) {
                    cnotice!("FAIL message received from {s} about {name}");
                    n.flags |= flags::FAIL;
                    n.fail_time = now;
                    n.flags &= !flags::PFAIL;
                    st.save_needed = true;
                    st.update_state();
                }
            }
        }
        Body::Update {
            config_epoch,
            name,
            slots,
        } => {
            let Some(n) = st.nodes.get_mut(name) else {
                return out;
            };
            if n.config_epoch >= *config_epoch {
                return out;
            }
            if n.is_replica() {
                n.flags &= !flags::SLAVE;
                n.flags |= flags::MASTER;
                n.master = None;
            }
            n.config_epoch = *config_epoch;
            st.save_needed = true;
            out.dirty_slots = update_slots_config(st, name, *config_epoch, slots);
        }
        Body::Empty if kind == msg::TYPE_FAILOVER_AUTH_REQUEST => {
            if let Err(why) = voting::vote_if_needed(st, h) {
                if !why.is_empty() {
                    cnotice!("{why}");
                }
            }
        }
        Body::Empty
            if kind == msg::TYPE_FAILOVER_AUTH_ACK
                && election::count_vote(st, &s, h.current_epoch) =>
        {
            election::handle_replica_failover(st);
        }
        Body::Empty if kind == msg::TYPE_MFSTART => {
            if let Some(ping) = manual_failover::on_mfstart(st, &s) {
                out.reply = Some(encode_counted(st, &ping));
            }
        }
        _ => {
            // PUBLISH and MODULE: not acted on by this node.
        }
    }
    out
}

/// §4.6 step 7: the sender's role follows its `slaveof` field.
fn apply_role(st: &mut ClusterState, s: &NodeName, h: &Header) {
    match h.slaveof {
        None => {
            let n = st.nodes.get_mut(s).unwrap();
            if !n.is_master() {
                // Redis's clusterSetNodeAsMaster: a promoted replica is a replica-migration
                // target (it took over a master that had replicas).
                let had_master = n.master.take().is_some();
                n.flags &= !flags::SLAVE;
                n.flags |= flags::MASTER;
                if had_master {
                    n.flags |= flags::MIGRATE_TO;
                }
                st.save_needed = true;
            }
        }
        Some(m) => {
            if st.nodes[s].is_master() {
                for slot in st.slots_of(s).iter_fast() {
                    st.del_slot(slot);
                }
                let n = st.nodes.get_mut(s).unwrap();
                n.flags &= !(flags::MASTER | flags::MIGRATE_TO);
                n.flags |= flags::SLAVE;
                st.save_needed = true;
                st.update_state();
            }
            if st.nodes.contains_key(&m) && st.nodes[s].master != Some(m) {
                st.nodes.get_mut(s).unwrap().master = Some(m);
                // A master that has a replica may receive migrating replicas later.
                st.nodes.get_mut(&m).unwrap().flags |= flags::MIGRATE_TO;
                st.save_needed = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::cluster::state::ClusterConfig;

    fn node_state(port: u16) -> ClusterState {
        let mut st = ClusterState::new(ClusterConfig {
            port,
            bus_port: port + 10000,
            ..Default::default()
        });
        st.start_time = 0;
        st
    }

    fn ctx(out: Option<NodeName>) -> LinkCtx {
        LinkCtx {
            outbound_to: out,
            peer_ip: "127.0.0.1".into(),
            local_ip: "127.0.0.1".into(),
        }
    }

    /// Two in-memory nodes complete the MEET handshake and learn each other's real names.
    #[test]
    fn meet_handshake_between_two_states() {
        let mut a = node_state(7000);
        let mut b = node_state(7001);
        let r = crate::node::cluster::commands::cluster_command(
            &mut a,
            &[
                Bytes::from_static(b"meet"),
                Bytes::from_static(b"127.0.0.1"),
                Bytes::from_static(b"7001"),
            ],
            &mut NoKeys,
        );
        assert!(!r.is_error());
        let hs = a.nodes.values().find(|n| n.in_handshake()).unwrap().name;
        // A → B: MEET; B answers PONG on the same link.
        let meet = build_ping(&a, msg::TYPE_MEET);
        let decoded = Message::decode(&meet.encode()).unwrap();
        let out = process(&mut b, &decoded, &mut ctx(None));
        assert_eq!(b.nodes.len(), 2);
        assert_eq!(b.me().ip, "127.0.0.1");
        let pong = Message::decode(&out.reply.unwrap()).unwrap();
        let mut a_ctx = ctx(Some(hs));
        let out = process(&mut a, &pong, &mut a_ctx);
        assert!(!out.close);
        assert_eq!(a_ctx.outbound_to, Some(b.myself));
        assert!(a.nodes[&b.myself].is_master() && !a.nodes[&b.myself].in_handshake());
        // B → A: PING to its handshake node for A, A answers PONG, B renames.
        let b_hs = b.nodes.values().find(|n| n.in_handshake()).unwrap().name;
        let ping = Message::decode(&build_ping(&b, msg::TYPE_PING).encode()).unwrap();
        let out = process(&mut a, &ping, &mut ctx(None));
        let pong = Message::decode(&out.reply.unwrap()).unwrap();
        process(&mut b, &pong, &mut ctx(Some(b_hs)));
        assert!(b.nodes.contains_key(&a.myself));
        assert!(!b.nodes[&a.myself].in_handshake());
    }

    struct NoKeys;
    impl crate::node::cluster::commands::Keys for NoKeys {
        fn count_in_slot(&self, _: Slot) -> usize {
            0
        }
        fn keys_in_slot(&self, _: Slot, _: usize) -> Vec<Bytes> {
            Vec::new()
        }
        fn dbsize(&self) -> usize {
            0
        }
        fn flush_all(&mut self) {}
    }

    fn joined() -> (ClusterState, NodeName) {
        let mut st = node_state(7000);
        let other = NodeName([b'b'; 40]);
        let mut n = ClusterNode::new(other, flags::MASTER);
        n.ip = "127.0.0.1".into();
        n.port = 7001;
        n.cport = 17001;
        n.config_epoch = 1;
        st.add_node(n);
        st.me_mut().config_epoch = 2;
        st.current_epoch = 2;
        (st, other)
    }

    fn ping_from(sender: NodeName, epoch: u64, slots: SlotSet) -> Message {
        let mut h = Header::new(sender);
        h.flags = flags::MASTER;
        h.config_epoch = epoch;
        h.current_epoch = epoch;
        h.myslots = slots;
        h.port = 7001;
        h.cport = 17001;
        Message::new(
            msg::TYPE_PING,
            h,
            Body::Ping {
                gossip: vec![],
                exts: vec![],
            },
        )
    }

    #[test]
    fn higher_epoch_wins_slots_and_lower_is_ignored() {
        let (mut st, other) = joined();
        let me = st.myself;
        let s = Slot::new(10).unwrap();
        st.add_slot(s, me);
        let claim: SlotSet = [s].into_iter().collect();
        // epoch 1 < my 2: ignored
        process(&mut st, &ping_from(other, 1, claim.clone()), &mut ctx(None));
        assert_eq!(st.owner(s), Some(me));
        // epoch 5 > 2: the slot moves, and I hold no keys so it is not dirty... but listed
        let out = process(&mut st, &ping_from(other, 5, claim), &mut ctx(None));
        assert_eq!(st.owner(s), Some(other));
        assert_eq!(st.current_epoch, 5);
        // I lost my only slot to `other`: I became its replica instead of deleting keys
        assert!(out.dirty_slots.is_empty());
        assert_eq!(st.my_master(), Some(other));
    }

    #[test]
    fn update_message_rebinds_and_fail_marks() {
        let (mut st, other) = joined();
        let me = st.myself;
        for s in 0..100 {
            st.add_slot(Slot::new(s).unwrap(), me);
        }
        st.add_slot(Slot::new(200).unwrap(), me);
        let upd = Message::new(
            msg::TYPE_UPDATE,
            Header::new(other),
            Body::Update {
                config_epoch: 9,
                name: other,
                slots: (0..100).map(|s| Slot::new(s).unwrap()).collect(),
            },
        );
        let out = process(&mut st, &upd, &mut ctx(None));
        assert_eq!(st.owner(Slot::new(50).unwrap()), Some(other));
        assert_eq!(st.owner(Slot::new(200).unwrap()), Some(me));
        assert_eq!(out.dirty_slots.len(), 100);
        let third = NodeName([b'c'; 40]);
        st.add_node(ClusterNode::new(third, flags::MASTER));
        let fail = Message::new(
            msg::TYPE_FAIL,
            Header::new(other),
            Body::Fail { name: third },
        );
        process(&mut st, &fail, &mut ctx(None));
        assert!(st.nodes[&third].failed());
        // messages from strangers are ignored
        let stranger = Message::new(
            msg::TYPE_FAIL,
            Header::new(NodeName([b'z'; 40])),
            Body::Fail { name: other },
        );
        process(&mut st, &stranger, &mut ctx(None));
        assert!(!st.nodes[&other].failed());
    }

    #[test]
    fn gossip_adds_unknown_nodes_unless_banned() {
        let (mut st, other) = joined();
        let newcomer = NodeName([b'd'; 40]);
        let banned = NodeName([b'e'; 40]);
        st.ban(banned);
        let g = |name| Gossip {
            name,
            ping_sent: 0,
            pong_received: 0,
            ip: "127.0.0.1".into(),
            port: 7005,
            cport: 17005,
            flags: flags::MASTER,
            pport: 0,
        };
        let mut m = ping_from(other, 1, SlotSet::new());
        m.body = Body::Ping {
            gossip: vec![g(newcomer), g(banned)],
            exts: vec![],
        };
        process(&mut st, &m, &mut ctx(None));
        assert!(st.nodes.contains_key(&newcomer));
        assert!(!st.nodes.contains_key(&banned));
    }
}
