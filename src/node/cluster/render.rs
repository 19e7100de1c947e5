//! Read-only views of the cluster state in Redis's exact formats: CLUSTER NODES lines (through
//! the shared `cluster::nodes::NodeLine`), SLOTS, SHARDS, INFO, REPLICAS. No mutation here.

use super::bus_msg::{flags, type_name, NodeName};
use super::reply::Reply;
use super::state::{ClusterNode, ClusterState, MSG_TYPES};
use crate::remote::nodes::NodeLine;
use crate::slot::{Slot, SlotSet};

/// The CLUSTER NODES line of one node (markers only on the myself line).
pub fn node_line(st: &ClusterState, n: &ClusterNode, slots: SlotSet) -> NodeLine {
    let is_me = n.name == st.myself;
    let marker = |m: &std::collections::BTreeMap<u16, NodeName>| -> Vec<(Slot, String)> {
        if !is_me {
            return Vec::new();
        }
        m.iter()
            .map(|(s, id)| (Slot::new(*s).unwrap(), id.to_string()))
            .collect()
    };
    NodeLine {
        id: n.name.to_string(),
        ip: n.ip.clone(),
        port: n.port,
        bus_port: n.cport,
        hostname: n.hostname.clone().filter(|h| !h.is_empty()),
        flags: n.flag_words(),
        master_id: n.master.map(|m| m.to_string()),
        ping_sent: n.ping_sent,
        pong_recv: n.pong_received,
        config_epoch: st.node_epoch(&n.name),
        connected: is_me || n.link.as_ref().is_some_and(|l| l.established),
        slots: if n.is_master() { slots } else { SlotSet::new() },
        migrating: marker(&st.migrating),
        importing: marker(&st.importing),
    }
}

/// CLUSTER NODES text; `with_handshake = false` gives the nodes.conf body.
pub fn nodes_text(st: &ClusterState, with_handshake: bool) -> String {
    let mut sets = st.all_slot_sets();
    let mut names: Vec<&NodeName> = st.nodes.keys().collect();
    names.sort();
    let mut out = String::new();
    for name in names {
        let n = &st.nodes[name];
        if !with_handshake && n.in_handshake() {
            continue;
        }
        let slots = sets.remove(name).unwrap_or_default();
        out.push_str(&node_line(st, n, slots).render());
        out.push('\n');
    }
    out
}

/// CLUSTER REPLICAS: one line per replica of `master`, without trailing newline.
pub fn replicas(st: &ClusterState, master: &NodeName) -> Reply {
    Reply::Array(
        st.replicas_of(master)
            .iter()
            .map(|r| Reply::bulk(node_line(st, &st.nodes[r], SlotSet::new()).render()))
            .collect(),
    )
}

fn slots_node_entry(st: &ClusterState, n: &ClusterNode) -> Reply {
    let mut extra = Vec::new();
    if st.config.preferred_endpoint != "ip" {
        extra.push((Reply::bulk_str("ip"), Reply::bulk_str(&n.ip)));
    }
    if st.config.preferred_endpoint != "hostname" {
        if let Some(h) = n.hostname.as_ref().filter(|h| !h.is_empty()) {
            extra.push((Reply::bulk_str("hostname"), Reply::bulk_str(h)));
        }
    }
    Reply::Array(vec![
        Reply::bulk_str(&st.endpoint(n)),
        Reply::Int(n.port as i64),
        Reply::bulk_str(&n.name.to_string()),
        Reply::Map(extra),
    ])
}

/// CLUSTER SLOTS: consecutive slots with the same owner grouped, ascending.
pub fn slots(st: &ClusterState) -> Reply {
    let mut runs: Vec<(u16, u16, NodeName)> = Vec::new();
    for (owner, set) in st.all_slot_sets() {
        for r in set.ranges() {
            runs.push((r.start.get(), r.end.get(), owner));
        }
    }
    runs.sort_by_key(|r| r.0);
    let mut out = Vec::with_capacity(runs.len());
    for (start, end, owner) in runs {
        let Some(master) = st.nodes.get(&owner) else {
            continue;
        };
        let mut entry = vec![
            Reply::Int(start as i64),
            Reply::Int(end as i64),
            slots_node_entry(st, master),
        ];
        for r in st.replicas_of(&master.name) {
            let r = &st.nodes[&r];
            if !r.failed() && r.repl_offset != 0 {
                entry.push(slots_node_entry(st, r));
            }
        }
        out.push(Reply::Array(entry));
    }
    Reply::Array(out)
}

fn shard_node(st: &ClusterState, n: &ClusterNode) -> Reply {
    let mut m = vec![(Reply::bulk_str("id"), Reply::bulk_str(&n.name.to_string()))];
    if n.port != 0 {
        m.push((Reply::bulk_str("port"), Reply::Int(n.port as i64)));
    }
    m.push((Reply::bulk_str("ip"), Reply::bulk_str(&n.ip)));
    m.push((
        Reply::bulk_str("endpoint"),
        Reply::bulk_str(&st.endpoint(n)),
    ));
    if let Some(h) = n.hostname.as_ref().filter(|h| !h.is_empty()) {
        m.push((Reply::bulk_str("hostname"), Reply::bulk_str(h)));
    }
    let role = if n.is_master() { "master" } else { "replica" };
    m.push((Reply::bulk_str("role"), Reply::bulk_str(role)));
    let offset = if n.name == st.myself {
        st.me().repl_offset
    } else {
        n.repl_offset
    };
    m.push((
        Reply::bulk_str("replication-offset"),
        Reply::Int(offset as i64),
    ));
    let health = if n.failed() {
        "fail"
    } else if n.is_replica() && offset == 0 {
        "loading"
    } else {
        "online"
    };
    m.push((Reply::bulk_str("health"), Reply::bulk_str(health)));
    Reply::Map(m)
}

/// CLUSTER SHARDS: one entry per master, slots as flat start,end pairs.
pub fn shards(st: &ClusterState) -> Reply {
    let sets = st.all_slot_sets();
    let mut masters: Vec<&ClusterNode> = st
        .nodes
        .values()
        .filter(|n| n.is_master() && !n.in_handshake())
        .collect();
    masters.sort_by_key(|n| n.name);
    let entries = masters
        .into_iter()
        .map(|m| {
            let mut slot_list = Vec::new();
            if let Some(set) = sets.get(&m.name) {
                for r in set.ranges() {
                    slot_list.push(Reply::Int(r.start.get() as i64));
                    slot_list.push(Reply::Int(r.end.get() as i64));
                }
            }
            let mut nodes = vec![shard_node(st, m)];
            for r in st.replicas_of(&m.name) {
                nodes.push(shard_node(st, &st.nodes[&r]));
            }
            Reply::Map(vec![
                (Reply::bulk_str("slots"), Reply::Array(slot_list)),
                (Reply::bulk_str("nodes"), Reply::Array(nodes)),
            ])
        })
        .collect();
    Reply::Array(entries)
}

/// CLUSTER INFO text (`\r\n` lines).
pub fn info(st: &ClusterState) -> String {
    let (mut assigned, mut ok, mut pfail, mut fail) = (0, 0, 0, 0);
    for (owner, set) in st.all_slot_sets() {
        let n = set.len();
        assigned += n;
        match st.nodes.get(&owner) {
            Some(node) if node.failed() => fail += n,
            Some(node) if node.timed_out() => pfail += n,
            _ => ok += n,
        }
    }
    let mut s = String::new();
    let mut line = |k: &str, v: String| {
        s.push_str(k);
        s.push(':');
        s.push_str(&v);
        s.push_str("\r\n");
    };
    line(
        "cluster_state",
        if st.state_ok { "ok" } else { "fail" }.into(),
    );
    line("cluster_slots_assigned", assigned.to_string());
    line("cluster_slots_ok", ok.to_string());
    line("cluster_slots_pfail", pfail.to_string());
    line("cluster_slots_fail", fail.to_string());
    line("cluster_known_nodes", st.nodes.len().to_string());
    line("cluster_size", st.size.to_string());
    line("cluster_current_epoch", st.current_epoch.to_string());
    line("cluster_my_epoch", st.my_epoch().to_string());
    for (dir, stats) in [("sent", &st.stats_sent), ("received", &st.stats_received)] {
        let mut total = 0;
        for (t, &c) in stats.iter().enumerate().take(MSG_TYPES) {
            if c > 0 {
                line(
                    &format!("cluster_stats_messages_{}_{dir}", type_name(t as u16)),
                    c.to_string(),
                );
                total += c;
            }
        }
        line(&format!("cluster_stats_messages_{dir}"), total.to_string());
    }
    line("total_cluster_links_buffer_limit_exceeded", "0".into());
    s
}

/// The `# Cluster` INFO section body.
pub fn info_section() -> &'static str {
    "# Cluster\r\ncluster_enabled:1\r\n"
}

/// Flag bits as gossiped about a node (the MYSELF bit is only for header flags).
pub fn gossip_flags(n: &ClusterNode) -> u16 {
    n.flags & !flags::MYSELF
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::cluster::state::{ClusterConfig, ClusterState};

    fn name(c: char) -> NodeName {
        NodeName::from_bytes(c.to_string().repeat(40).as_bytes()).unwrap()
    }

    #[test]
    fn fresh_node_renders_like_redis() {
        let cfg = ClusterConfig {
            port: 31108,
            bus_port: 31158,
            ..Default::default()
        };
        let st = ClusterState::new(cfg);
        let text = nodes_text(&st, true);
        assert_eq!(
            text,
            format!(
                "{} :31108@31158 myself,master - 0 0 0 connected\n",
                st.myself
            )
        );
        let i = info(&st);
        assert!(i.starts_with("cluster_state:fail\r\ncluster_slots_assigned:0\r\n"));
        assert!(i.contains("cluster_known_nodes:1\r\n"));
        assert!(i.contains("cluster_stats_messages_sent:0\r\n"));
        // fresh node: one shard with empty slots, 7 node fields (port present, no hostname)
        match shards(&st) {
            Reply::Array(v) => match &v[0] {
                Reply::Map(m) => match &m[1].1 {
                    Reply::Array(nodes) => match &nodes[0] {
                        Reply::Map(fields) => assert_eq!(fields.len(), 7),
                        other => panic!("{other:?}"),
                    },
                    other => panic!("{other:?}"),
                },
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn slots_group_consecutive_runs_and_markers_show_on_myself_only() {
        let mut st = ClusterState::new(ClusterConfig::default());
        let me = st.myself;
        let other = name('a');
        let mut n = ClusterNode::new(other, flags::MASTER);
        n.ip = "127.0.0.1".into();
        n.port = 7001;
        n.cport = 17001;
        n.config_epoch = 2;
        st.add_node(n);
        for s in 0..10 {
            st.add_slot(Slot::new(s).unwrap(), me);
        }
        st.add_slot(Slot::new(10).unwrap(), other);
        st.add_slot(Slot::new(12).unwrap(), me);
        st.migrating.insert(3, other);
        st.importing.insert(10, other);
        let text = nodes_text(&st, true);
        assert!(text.contains(&format!(
            "{me} :6379@16379 myself,master - 0 0 0 connected 0-9 12 [3->-{other}] [10-<-{other}]\n"
        )));
        assert!(text.contains(&format!(
            "{other} 127.0.0.1:7001@17001 master - 0 0 2 disconnected 10\n"
        )));
        match slots(&st) {
            Reply::Array(v) => {
                assert_eq!(v.len(), 3);
                assert_eq!(
                    v[1],
                    Reply::Array(vec![
                        Reply::Int(10),
                        Reply::Int(10),
                        Reply::Array(vec![
                            Reply::bulk_str("127.0.0.1"),
                            Reply::Int(7001),
                            Reply::bulk_str(&other.to_string()),
                            Reply::Map(vec![])
                        ])
                    ])
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
