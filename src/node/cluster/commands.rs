//! The CLUSTER command family, ASKING/READONLY/READWRITE aside: argument checks with Redis 7.0's
//! exact error texts, then the state change. Key questions go through `Keys`, so this file needs
//! no keyspace type; links, saving and broadcasting are left to the state's owner (flags).

use bytes::Bytes;

use super::bus_msg::{flags, NodeName};
use super::epochs;
use super::render;
use super::reply::Reply;
use super::state::{ClusterNode, ClusterState};
use crate::slot::{key_slot, Slot, SLOT_COUNT};

/// What CLUSTER subcommands need to know about (and do to) the keyspace.
pub trait Keys {
    fn count_in_slot(&self, slot: Slot) -> usize;
    fn keys_in_slot(&self, slot: Slot, max: usize) -> Vec<Bytes>;
    fn dbsize(&self) -> usize;
    /// Drops every key (a replica being reset).
    fn flush_all(&mut self);
}

/// Redis's strict integer parse (no '+', no spaces, fits i64).
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(b).ok()?;
    if s.is_empty() || s.starts_with('+') || s.len() > 20 {
        return None;
    }
    if s.len() > 1 && (s.starts_with('0') || s.starts_with("-0")) {
        return None;
    }
    s.parse().ok()
}

fn slot_arg(b: &[u8]) -> Result<Slot, Reply> {
    parse_i64(b)
        .and_then(|n| u16::try_from(n).ok())
        .and_then(Slot::new)
        .ok_or_else(|| Reply::err("Invalid or out of range slot"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// (name, arity) as in Redis's command table: positive = exact, negative = at least.
const SUBCOMMANDS: &[(&str, i32)] = &[
    ("addslots", -3),
    ("addslotsrange", -4),
    ("bumpepoch", 2),
    ("count-failure-reports", 3),
    ("countkeysinslot", 3),
    ("delslots", -3),
    ("delslotsrange", -4),
    ("failover", -2),
    ("flushslots", 2),
    ("forget", 3),
    ("getkeysinslot", 4),
    ("help", 2),
    ("info", 2),
    ("keyslot", 3),
    ("links", 2),
    ("meet", -4),
    ("myid", 2),
    ("nodes", 2),
    ("replicas", 3),
    ("replicate", 3),
    ("reset", -2),
    ("saveconfig", 2),
    ("set-config-epoch", 3),
    ("setslot", -4),
    ("shards", 2),
    ("slaves", 3),
    ("slots", 2),
];

/// Whether a CLUSTER subcommand only reads (allowed for every client, never "admin").
pub fn is_read_only(sub: &[u8]) -> bool {
    let s = sub.to_ascii_lowercase();
    matches!(
        s.as_slice(),
        b"countkeysinslot"
            | b"getkeysinslot"
            | b"info"
            | b"keyslot"
            | b"links"
            | b"myid"
            | b"nodes"
            | b"shards"
            | b"slots"
            | b"help"
    )
}

/// Runs `CLUSTER <args...>` (`args[0]` is the subcommand). Returns the reply; state changes set
/// `save_needed`/`broadcast_pong_needed` on the state for the owner to act on.
pub fn cluster_command(st: &mut ClusterState, args: &[Bytes], keys: &mut dyn Keys) -> Reply {
    let Some(sub_raw) = args.first() else {
        return Reply::arity("cluster");
    };
    let sub = String::from_utf8_lossy(sub_raw).to_ascii_lowercase();
    let Some(&(name, arity)) = SUBCOMMANDS.iter().find(|(n, _)| *n == sub) else {
        return Reply::err(format!(
            "unknown subcommand '{}'. Try CLUSTER HELP.",
            text(sub_raw)
        ));
    };
    let argc = args.len() as i32 + 1;
    if (arity > 0 && argc != arity) || (arity < 0 && argc < -arity) {
        return Reply::arity(&format!("cluster|{name}"));
    }
    let a = &args[1..];
    match name {
        "myid" => Reply::bulk_str(&st.myself.to_string()),
        "nodes" => Reply::text(render::nodes_text(st, true)),
        "slots" => render::slots(st),
        "shards" => render::shards(st),
        "info" => Reply::text(render::info(st)),
        "links" => links(st),
        "help" => help(),
        "keyslot" => Reply::Int(key_slot(&a[0]).get() as i64),
        "countkeysinslot" => match parse_i64(&a[0]) {
            None => Reply::not_integer(),
            Some(n) if !(0..SLOT_COUNT as i64).contains(&n) => Reply::err("Invalid slot"),
            Some(n) => Reply::Int(keys.count_in_slot(Slot::new(n as u16).unwrap()) as i64),
        },
        "getkeysinslot" => {
            let (Some(slot), Some(max)) = (parse_i64(&a[0]), parse_i64(&a[1])) else {
                return Reply::not_integer();
            };
            if !(0..SLOT_COUNT as i64).contains(&slot) || max < 0 {
                return Reply::err("Invalid slot or number of keys");
            }
            let ks = keys.keys_in_slot(Slot::new(slot as u16).unwrap(), max as usize);
            Reply::Array(ks.into_iter().map(Reply::Bulk).collect())
        }
        "addslots" | "delslots" => {
            let mut slots = Vec::with_capacity(a.len());
            for arg in a {
                match slot_arg(arg) {
                    Ok(s) => slots.push(s),
                    Err(e) => return e,
                }
            }
            add_or_del(st, &slots, name == "addslots")
        }
        "addslotsrange" | "delslotsrange" => {
            if !a.len().is_multiple_of(2) {
                return Reply::arity(&format!("cluster|{name}"));
            }
            let mut slots = Vec::new();
            for pair in a.chunks(2) {
                let start = match slot_arg(&pair[0]) {
                    Ok(s) => s,
                    Err(e) => return e,
                };
                let end = match slot_arg(&pair[1]) {
                    Ok(s) => s,
                    Err(e) => return e,
                };
                if start > end {
                    return Reply::err(format!(
                        "start slot number {start} is greater than end slot number {end}"
                    ));
                }
                slots.extend((start.get()..=end.get()).map(|n| Slot::new(n).unwrap()));
            }
            add_or_del(st, &slots, name == "addslotsrange")
        }
        "flushslots" => {
            if keys.dbsize() != 0 {
                return Reply::err("DB must be empty to perform CLUSTER FLUSHSLOTS.");
            }
            let me = st.myself;
            for s in Slot::all() {
                if st.owner(s) == Some(me) {
                    st.del_slot(s);
                }
            }
            changed(st)
        }
        "setslot" => setslot(st, a, keys),
        "bumpepoch" => {
            let bumped = epochs::bump_without_consensus(st);
            let e = st.me().config_epoch;
            Reply::simple(format!("{} {e}", if bumped { "BUMPED" } else { "STILL" }))
        }
        "set-config-epoch" => {
            let Some(e) = parse_i64(&a[0]) else {
                return Reply::not_integer();
            };
            if e < 0 {
                return Reply::err(format!("Invalid config epoch specified: {e}"));
            }
            if st.nodes.len() > 1 {
                return Reply::err("The user can assign a config epoch only when the node does not know any other node.");
            }
            if st.me().config_epoch != 0 {
                return Reply::err("Node config epoch is already non-zero");
            }
            let e = e as u64;
            st.me_mut().config_epoch = e;
            cnotice!("configEpoch set to {e} via CLUSTER SET-CONFIG-EPOCH");
            if st.current_epoch < e {
                st.current_epoch = e;
            }
            changed(st)
        }
        "meet" => meet(st, a),
        "forget" => {
            let Some(n) = st.lookup(&a[0]) else {
                return Reply::err(format!("Unknown node {}", text(&a[0])));
            };
            if n == st.myself {
                return Reply::err("I tried hard but I can't forget myself...");
            }
            if st.me().is_replica() && st.my_master() == Some(n) {
                return Reply::err("Can't forget my master!");
            }
            st.ban(n);
            st.delete_node(&n);
            changed(st)
        }
        "replicate" => {
            let Some(n) = st.lookup(&a[0]) else {
                return Reply::err(format!("Unknown node {}", text(&a[0])));
            };
            if n == st.myself {
                return Reply::err("Can't replicate myself");
            }
            if st.nodes[&n].is_replica() {
                return Reply::err("I can only replicate a master, not a replica.");
            }
            if st.i_am_master() && (st.slot_count(&st.myself) != 0 || keys.dbsize() != 0) {
                return Reply::err(
                    "To set a master the node must be empty and without assigned slots.",
                );
            }
            st.set_my_master(n);
            st.broadcast_pong_needed = true;
            changed(st)
        }
        "replicas" | "slaves" => {
            let Some(n) = st.lookup(&a[0]) else {
                return Reply::err(format!("Unknown node {}", text(&a[0])));
            };
            if !st.nodes[&n].is_master() {
                return Reply::err("The specified node is not a master");
            }
            render::replicas(st, &n)
        }
        "count-failure-reports" => {
            let Some(n) = st.lookup(&a[0]) else {
                return Reply::err(format!("Unknown node {}", text(&a[0])));
            };
            let validity = st.config.node_timeout * 2;
            let now = super::state::now_ms();
            let count = st.nodes[&n]
                .fail_reports
                .values()
                .filter(|&&t| now.saturating_sub(t) <= validity)
                .count();
            Reply::Int(count as i64)
        }
        "reset" => {
            if a.len() > 1 {
                return Reply::arity("cluster|reset");
            }
            let hard = match a.first().map(|x| x.to_ascii_lowercase()) {
                None => false,
                Some(o) if o == b"soft" => false,
                Some(o) if o == b"hard" => true,
                Some(_) => return Reply::syntax(),
            };
            if st.i_am_master() && keys.dbsize() != 0 {
                return Reply::err(
                    "CLUSTER RESET can't be called with master nodes containing keys",
                );
            }
            reset(st, hard, keys);
            Reply::ok()
        }
        "saveconfig" => match st.save_now() {
            Ok(()) => Reply::ok(),
            Err(e) => Reply::err(format!("error saving the cluster node config: {e}")),
        },
        "failover" => failover(st, a),
        _ => Reply::err(format!(
            "unknown subcommand '{}'. Try CLUSTER HELP.",
            text(sub_raw)
        )),
    }
}

fn changed(st: &mut ClusterState) -> Reply {
    st.save_needed = true;
    st.update_state();
    Reply::ok()
}

fn add_or_del(st: &mut ClusterState, slots: &[Slot], add: bool) -> Reply {
    let mut seen = crate::slot::SlotSet::new();
    for &s in slots {
        if add && st.owner(s).is_some() {
            return Reply::err(format!("Slot {s} is already busy"));
        }
        if !add && st.owner(s).is_none() {
            return Reply::err(format!("Slot {s} is already unassigned"));
        }
        if !seen.insert(s) {
            return Reply::err(format!("Slot {s} specified multiple times"));
        }
    }
    let me = st.myself;
    for &s in slots {
        st.importing.remove(&s.get());
        if add {
            st.add_slot(s, me);
        } else {
            st.del_slot(s);
        }
    }
    changed(st)
}

fn setslot(st: &mut ClusterState, a: &[Bytes], keys: &mut dyn Keys) -> Reply {
    if st.me().is_replica() {
        return Reply::err("Please use SETSLOT only with masters.");
    }
    let slot = match slot_arg(&a[0]) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let action = a[1].to_ascii_lowercase();
    let me = st.myself;
    match (action.as_slice(), a.len()) {
        (b"migrating", 3) => {
            if st.owner(slot) != Some(me) {
                return Reply::err(format!("I'm not the owner of hash slot {slot}"));
            }
            let Some(n) = st.lookup(&a[2]) else {
                return Reply::err(format!("I don't know about node {}", text(&a[2])));
            };
            if st.nodes[&n].is_replica() {
                return Reply::err("Target node is not a master");
            }
            st.migrating.insert(slot.get(), n);
        }
        (b"importing", 3) => {
            if st.owner(slot) == Some(me) {
                return Reply::err(format!("I'm already the owner of hash slot {slot}"));
            }
            let Some(n) = st.lookup(&a[2]) else {
                return Reply::err(format!("I don't know about node {}", text(&a[2])));
            };
            if st.nodes[&n].is_replica() {
                return Reply::err("Target node is not a master");
            }
            st.importing.insert(slot.get(), n);
        }
        (b"stable", 2) => {
            st.migrating.remove(&slot.get());
            st.importing.remove(&slot.get());
        }
        (b"node", 3) => {
            let Some(n) = st.lookup(&a[2]) else {
                return Reply::err(format!("Unknown node {}", text(&a[2])));
            };
            if st.nodes[&n].is_replica() {
                return Reply::err("Target node is not a master");
            }
            let was_mine = st.owner(slot) == Some(me);
            let key_count = keys.count_in_slot(slot);
            if was_mine && n != me && key_count != 0 {
                return Reply::err(format!("Can't assign hashslot {slot} to a different node while I still hold keys for this hash slot."));
            }
            if key_count == 0 {
                st.migrating.remove(&slot.get());
            }
            if n == me && st.importing.remove(&slot.get()).is_some() {
                // The only epoch bump of a reshard: it makes gossip accept the new owner.
                if epochs::bump_without_consensus(st) {
                    cnotice!("configEpoch updated after importing slot {slot}");
                }
                st.broadcast_pong_needed = true;
            }
            st.del_slot(slot);
            st.add_slot(slot, n);
            if was_mine && n != me && st.slot_count(&me) == 0 && st.config.allow_replica_migration {
                cnotice!("Configuration change detected. Reconfiguring myself as a replica of {n}");
                st.set_my_master(n);
                st.broadcast_pong_needed = true;
            }
        }
        _ => {
            return Reply::err(
                "Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP",
            )
        }
    }
    changed(st)
}

fn meet(st: &mut ClusterState, a: &[Bytes]) -> Reply {
    if a.len() > 3 {
        return Reply::arity("cluster|meet");
    }
    let ip = text(&a[0]);
    let Some(port) = parse_i64(&a[1]) else {
        return Reply::err(format!("Invalid TCP base port specified: {}", text(&a[1])));
    };
    let cport = match a.get(2) {
        Some(c) => match parse_i64(c) {
            Some(c) => c,
            None => return Reply::err(format!("Invalid TCP bus port specified: {}", text(c))),
        },
        None => port + 10000,
    };
    let invalid = || {
        Reply::err(format!(
            "Invalid node address specified: {ip}:{}",
            text(&a[1])
        ))
    };
    let Ok(addr) = ip.parse::<std::net::IpAddr>() else {
        return invalid();
    };
    if !(1..=65535).contains(&port) || !(1..=65535).contains(&cport) {
        return invalid();
    }
    let ip = addr.to_string();
    let (port, cport) = (port as u16, cport as u16);
    let pending = st.nodes.values().any(|n| {
        n.in_handshake() && n.ip.eq_ignore_ascii_case(&ip) && n.port == port && n.cport == cport
    });
    if !pending {
        let mut n = ClusterNode::new(NodeName::random(), flags::HANDSHAKE | flags::MEET);
        n.ip = ip;
        n.port = port;
        n.cport = cport;
        st.add_node(n);
    }
    Reply::ok()
}

/// CLUSTER RESET: forget everyone, unassign everything; HARD also zeroes epochs and renames me.
pub fn reset(st: &mut ClusterState, hard: bool, keys: &mut dyn Keys) {
    if st.me().is_replica() {
        st.set_me_as_master();
        keys.flush_all();
    }
    st.reset_manual_failover();
    st.migrating.clear();
    st.importing.clear();
    for s in Slot::all() {
        st.del_slot(s);
    }
    let others: Vec<NodeName> = st
        .nodes
        .keys()
        .filter(|n| **n != st.myself)
        .copied()
        .collect();
    for n in others {
        st.delete_node(&n);
    }
    if hard {
        st.current_epoch = 0;
        st.last_vote_epoch = 0;
        st.me_mut().config_epoch = 0;
        let old = st.myself;
        let new = NodeName::random();
        st.rename_node(&old, new);
        st.myself = new;
        cnotice!("Node hard reset, now I'm {new}");
    }
    st.save_needed = true;
    st.update_state();
}

fn failover(st: &mut ClusterState, a: &[Bytes]) -> Reply {
    use super::failover::manual_failover::{start, Mode};
    if a.len() > 1 {
        return Reply::syntax();
    }
    let mode = match a.first().map(|x| x.to_ascii_lowercase()).as_deref() {
        None => Mode::Default,
        Some(b"force") => Mode::Force,
        Some(b"takeover") => Mode::Takeover,
        Some(_) => return Reply::syntax(),
    };
    match start(st, mode) {
        Ok(()) => Reply::ok(),
        Err(e) => Reply::err(e),
    }
}

fn links(st: &ClusterState) -> Reply {
    let mut out = Vec::new();
    let mut names: Vec<&NodeName> = st.nodes.keys().collect();
    names.sort();
    for name in names {
        let n = &st.nodes[name];
        if let Some(l) = &n.link {
            out.push(Reply::Map(vec![
                (Reply::bulk_str("direction"), Reply::bulk_str("to")),
                (Reply::bulk_str("node"), Reply::bulk_str(&name.to_string())),
                (Reply::bulk_str("create-time"), Reply::Int(l.ctime as i64)),
                (Reply::bulk_str("events"), Reply::bulk_str("r")),
                (Reply::bulk_str("send-buffer-allocated"), Reply::Int(0)),
                (Reply::bulk_str("send-buffer-used"), Reply::Int(0)),
            ]));
        }
    }
    Reply::Array(out)
}

fn help() -> Reply {
    let lines = [
        "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ADDSLOTS <slot> [<slot> ...]",
        "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
        "BUMPEPOCH",
        "COUNT-FAILURE-REPORTS <node-id>",
        "COUNTKEYSINSLOT <slot>",
        "DELSLOTS <slot> [<slot> ...]",
        "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
        "FAILOVER [FORCE|TAKEOVER]",
        "FORGET <node-id>",
        "FLUSHSLOTS",
        "GETKEYSINSLOT <slot> <count>",
        "INFO",
        "KEYSLOT <key>",
        "LINKS",
        "MEET <ip> <port> [<bus-port>]",
        "MYID",
        "NODES",
        "REPLICATE <node-id>",
        "RESET [HARD|SOFT]",
        "SET-CONFIG-EPOCH <epoch>",
        "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
        "REPLICAS <node-id>",
        "SAVECONFIG",
        "SHARDS",
        "SLOTS",
        "HELP",
    ];
    Reply::Array(lines.iter().map(|l| Reply::simple(*l)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::cluster::state::ClusterConfig;
    use std::collections::HashMap;

    #[derive(Default)]
    struct FakeKeys(HashMap<Bytes, ()>);
    impl Keys for FakeKeys {
        fn count_in_slot(&self, slot: Slot) -> usize {
            self.0.keys().filter(|k| key_slot(k) == slot).count()
        }
        fn keys_in_slot(&self, slot: Slot, max: usize) -> Vec<Bytes> {
            self.0
                .keys()
                .filter(|k| key_slot(k) == slot)
                .take(max)
                .cloned()
                .collect()
        }
        fn dbsize(&self) -> usize {
            self.0.len()
        }
        fn flush_all(&mut self) {
            self.0.clear()
        }
    }

    fn run(st: &mut ClusterState, keys: &mut FakeKeys, line: &str) -> Reply {
        let args: Vec<Bytes> = line
            .split(' ')
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect();
        cluster_command(st, &args, keys)
    }

    fn err(s: &str) -> Reply {
        Reply::error(s.to_string())
    }

    #[test]
    fn exact_errors() {
        let mut st = ClusterState::new(ClusterConfig::default());
        let mut k = FakeKeys::default();
        let cases = [
            ("ADDSLOTS 16384", "ERR Invalid or out of range slot"),
            ("ADDSLOTS x", "ERR Invalid or out of range slot"),
            ("ADDSLOTS 1 1", "ERR Slot 1 specified multiple times"),
            (
                "ADDSLOTSRANGE 1",
                "ERR wrong number of arguments for 'cluster|addslotsrange' command",
            ),
            (
                "ADDSLOTSRANGE 1 2 3",
                "ERR wrong number of arguments for 'cluster|addslotsrange' command",
            ),
            (
                "ADDSLOTSRANGE 5 2",
                "ERR start slot number 5 is greater than end slot number 2",
            ),
            ("DELSLOTS 5", "ERR Slot 5 is already unassigned"),
            (
                "SETSLOT 5 MIGRATING aaaa",
                "ERR I'm not the owner of hash slot 5",
            ),
            (
                "SETSLOT 5 IMPORTING aaaa",
                "ERR I don't know about node aaaa",
            ),
            ("SETSLOT 5 NODE aaaa", "ERR Unknown node aaaa"),
            (
                "SETSLOT 5 FOO",
                "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP",
            ),
            ("SETSLOT 99999 STABLE", "ERR Invalid or out of range slot"),
            (
                "SET-CONFIG-EPOCH -1",
                "ERR Invalid config epoch specified: -1",
            ),
            (
                "SET-CONFIG-EPOCH x",
                "ERR value is not an integer or out of range",
            ),
            ("FORGET abc", "ERR Unknown node abc"),
            ("REPLICATE abc", "ERR Unknown node abc"),
            ("COUNTKEYSINSLOT 16384", "ERR Invalid slot"),
            (
                "COUNTKEYSINSLOT x",
                "ERR value is not an integer or out of range",
            ),
            ("GETKEYSINSLOT 1 -1", "ERR Invalid slot or number of keys"),
            ("MEET 127.0.0.1 x", "ERR Invalid TCP base port specified: x"),
            (
                "MEET 127.0.0.1 1 y",
                "ERR Invalid TCP bus port specified: y",
            ),
            (
                "MEET nohost 7000",
                "ERR Invalid node address specified: nohost:7000",
            ),
            (
                "MEET 127.0.0.1 70000",
                "ERR Invalid node address specified: 127.0.0.1:70000",
            ),
            (
                "MEET 127.0.0.1",
                "ERR wrong number of arguments for 'cluster|meet' command",
            ),
            ("RESET BAD", "ERR syntax error"),
            (
                "NODES x",
                "ERR wrong number of arguments for 'cluster|nodes' command",
            ),
            ("BOGUS", "ERR unknown subcommand 'BOGUS'. Try CLUSTER HELP."),
            (
                "FAILOVER",
                "ERR You should send CLUSTER FAILOVER to a replica",
            ),
        ];
        for (cmd, want) in cases {
            assert_eq!(run(&mut st, &mut k, cmd), err(want), "{cmd}");
        }
        let me = st.myself.to_string();
        assert_eq!(
            run(&mut st, &mut k, &format!("FORGET {me}")),
            err("ERR I tried hard but I can't forget myself...")
        );
        assert_eq!(
            run(&mut st, &mut k, &format!("REPLICATE {me}")),
            err("ERR Can't replicate myself")
        );
        assert_eq!(run(&mut st, &mut k, "ADDSLOTS 5"), Reply::ok());
        assert_eq!(
            run(&mut st, &mut k, "ADDSLOTS 5"),
            err("ERR Slot 5 is already busy")
        );
        assert_eq!(
            run(&mut st, &mut k, &format!("SETSLOT 5 IMPORTING {me}")),
            err("ERR I'm already the owner of hash slot 5")
        );
        k.0.insert(Bytes::from_static(b"x"), ());
        assert_eq!(
            run(&mut st, &mut k, "FLUSHSLOTS"),
            err("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.")
        );
        assert_eq!(
            run(&mut st, &mut k, "RESET"),
            err("ERR CLUSTER RESET can't be called with master nodes containing keys")
        );
    }

    #[test]
    fn slot_lifecycle_and_epochs() {
        let mut st = ClusterState::new(ClusterConfig::default());
        let mut k = FakeKeys::default();
        assert_eq!(
            run(&mut st, &mut k, "ADDSLOTSRANGE 0 10 20 30"),
            Reply::ok()
        );
        assert_eq!(st.slot_count(&st.myself), 22);
        assert_eq!(run(&mut st, &mut k, "DELSLOTSRANGE 0 4"), Reply::ok());
        assert_eq!(st.slot_count(&st.myself), 17);
        assert_eq!(run(&mut st, &mut k, "SET-CONFIG-EPOCH 3"), Reply::ok());
        assert_eq!((st.current_epoch, st.me().config_epoch), (3, 3));
        assert_eq!(
            run(&mut st, &mut k, "SET-CONFIG-EPOCH 4"),
            err("ERR Node config epoch is already non-zero")
        );
        assert_eq!(run(&mut st, &mut k, "BUMPEPOCH"), Reply::simple("STILL 3"));
        let other = NodeName([b'a'; 40]);
        st.add_node(ClusterNode::new(other, flags::MASTER));
        assert_eq!(
            run(&mut st, &mut k, &format!("SETSLOT 100 IMPORTING {other}")),
            Reply::ok()
        );
        assert!(render::nodes_text(&st, true).contains(&format!("[100-<-{other}]")));
        let me = st.myself.to_string();
        assert_eq!(
            run(&mut st, &mut k, &format!("SETSLOT 100 NODE {me}")),
            Reply::ok()
        );
        // closing an import bumps only when my epoch is not already the unique maximum
        assert_eq!(st.me().config_epoch, 3);
        assert!(st.importing.is_empty());
        k.0.insert(Bytes::from_static(b"foo"), ()); // slot 12182
        assert_eq!(run(&mut st, &mut k, "ADDSLOTS 12182"), Reply::ok());
        assert_eq!(
            run(&mut st, &mut k, &format!("SETSLOT 12182 MIGRATING {other}")),
            Reply::ok()
        );
        assert_eq!(
            run(&mut st, &mut k, &format!("SETSLOT 12182 NODE {other}")),
            err("ERR Can't assign hashslot 12182 to a different node while I still hold keys for this hash slot.")
        );
        assert_eq!(run(&mut st, &mut k, "COUNTKEYSINSLOT 12182"), Reply::Int(1));
        assert_eq!(
            run(&mut st, &mut k, "GETKEYSINSLOT 12182 5"),
            Reply::Array(vec![Reply::bulk_str("foo")])
        );
        assert_eq!(run(&mut st, &mut k, "KEYSLOT foo"), Reply::Int(12182));
        assert_eq!(run(&mut st, &mut k, "SETSLOT 12182 STABLE"), Reply::ok());
        assert!(st.migrating.is_empty());
    }

    #[test]
    fn importing_close_bumps_when_not_the_max() {
        let mut st = ClusterState::new(ClusterConfig::default());
        let mut k = FakeKeys::default();
        let other = NodeName([b'a'; 40]);
        let mut o = ClusterNode::new(other, flags::MASTER);
        o.config_epoch = 2;
        st.add_node(o);
        st.me_mut().config_epoch = 1;
        st.current_epoch = 6;
        st.add_slot(Slot::new(7).unwrap(), other);
        run(&mut st, &mut k, &format!("SETSLOT 7 IMPORTING {other}"));
        let me = st.myself.to_string();
        assert_eq!(
            run(&mut st, &mut k, &format!("SETSLOT 7 NODE {me}")),
            Reply::ok()
        );
        assert_eq!((st.current_epoch, st.me().config_epoch), (7, 7));
        assert!(st.broadcast_pong_needed);
    }

    #[test]
    fn meet_creates_one_handshake_node_and_forget_bans() {
        let mut st = ClusterState::new(ClusterConfig::default());
        let mut k = FakeKeys::default();
        assert_eq!(run(&mut st, &mut k, "MEET 127.0.0.1 7000"), Reply::ok());
        assert_eq!(run(&mut st, &mut k, "MEET 127.0.0.1 7000"), Reply::ok());
        assert_eq!(st.nodes.len(), 2);
        let hs = st.nodes.values().find(|n| n.in_handshake()).unwrap();
        assert_eq!((hs.port, hs.cport), (7000, 17000));
        let other = NodeName([b'b'; 40]);
        st.add_node(ClusterNode::new(other, flags::MASTER));
        assert_eq!(
            run(&mut st, &mut k, &format!("FORGET {other}")),
            Reply::ok()
        );
        assert!(st.is_banned(&other));
        assert_eq!(run(&mut st, &mut k, "RESET HARD"), Reply::ok());
        assert_eq!(st.nodes.len(), 1);
    }
}
