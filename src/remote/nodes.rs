//! The CLUSTER NODES line format, parsed and rendered in one place: the CLI parses what nodes
//! say, trib-node renders its own table with the same code, so both agree byte for byte.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use crate::addr::NodeAddr;
use crate::slot::{Slot, SlotRange, SlotSet};

/// One line of CLUSTER NODES.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeLine {
    pub id: String,
    /// `ip:port@cport`; `ip` may be empty for a node that never learned its own address.
    pub ip: String,
    pub port: u16,
    pub bus_port: u16,
    pub hostname: Option<String>,
    /// Flags in the order Redis prints them: myself, master, slave, fail?, fail, handshake, noaddr, nofailover.
    pub flags: Vec<String>,
    pub master_id: Option<String>,
    pub ping_sent: u64,
    pub pong_recv: u64,
    pub config_epoch: u64,
    pub connected: bool,
    pub slots: SlotSet,
    /// `[slot->-target]` markers (only on the myself line).
    pub migrating: Vec<(Slot, String)>,
    /// `[slot-<-source]` markers (only on the myself line).
    pub importing: Vec<(Slot, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CLUSTER NODES line ({reason}): {line}")]
pub struct ParseError {
    pub reason: &'static str,
    pub line: String,
}

impl NodeLine {
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
    pub fn is_myself(&self) -> bool {
        self.has_flag("myself")
    }
    pub fn is_master(&self) -> bool {
        self.has_flag("master")
    }
    pub fn is_replica(&self) -> bool {
        self.has_flag("slave")
    }
    /// Flagged `fail` (not just `fail?`).
    pub fn is_failed(&self) -> bool {
        self.has_flag("fail")
    }
    pub fn addr(&self) -> NodeAddr {
        NodeAddr {
            host: self.ip.clone(),
            port: self.port,
            bus_port: Some(self.bus_port),
        }
    }

    pub fn parse(line: &str) -> Result<NodeLine, ParseError> {
        NodeLine::parse_with(line, None)
    }

    /// `parse`, taking the slot set from `cache` when an identical slot field was parsed
    /// before (and leaving it there otherwise).
    fn parse_with(line: &str, cache: Option<&SlotSetCache>) -> Result<NodeLine, ParseError> {
        let err = |reason| ParseError {
            reason,
            line: line.to_string(),
        };
        // The 8 fixed fields on the stack; slots and markers follow (no Vec per line).
        let mut words = line.split(' ').filter(|s| !s.is_empty());
        let mut f = [""; 8];
        for field in f.iter_mut() {
            *field = words.next().ok_or_else(|| err("fewer than 8 fields"))?;
        }
        let (addr, hostname) = match f[1].split_once(',') {
            Some((a, h)) => (a, (!h.is_empty()).then(|| h.to_string())),
            None => (f[1], None),
        };
        let (hostport, bus) = addr.rsplit_once('@').ok_or_else(|| err("no @busport"))?;
        // 7.2+ may append ",aux=..." fields to the bus port; only the number matters here.
        let bus = bus.split(',').next().unwrap_or(bus);
        let (ip, port) = hostport.rsplit_once(':').ok_or_else(|| err("no :port"))?;
        let num = |s: &str, what| s.parse::<u64>().map_err(|_| err(what));
        let mut node = NodeLine {
            id: f[0].to_string(),
            ip: ip.trim_matches(|c| c == '[' || c == ']').to_string(),
            port: port.parse().map_err(|_| err("bad port"))?,
            bus_port: bus.parse().map_err(|_| err("bad bus port"))?,
            hostname,
            flags: if f[2] == "noflags" {
                Vec::new()
            } else {
                f[2].split(',').map(String::from).collect()
            },
            master_id: (f[3] != "-").then(|| f[3].to_string()),
            ping_sent: num(f[4], "bad ping-sent")?,
            pong_recv: num(f[5], "bad pong-recv")?,
            config_epoch: num(f[6], "bad config-epoch")?,
            connected: match f[7] {
                "connected" => true,
                "disconnected" => false,
                _ => return Err(err("bad link state")),
            },
            slots: SlotSet::new(),
            migrating: Vec::new(),
            importing: Vec::new(),
        };
        // The slot field (ranges before any `[...]` marker) is the cache key.
        let fields_end = f[7].as_ptr() as usize - line.as_ptr() as usize + f[7].len();
        let slot_field = line[fields_end..].split('[').next().unwrap_or("").trim();
        let cached = match cache {
            Some(c) if !slot_field.is_empty() => c.get(slot_field),
            _ => None,
        };
        let parse_slots = cached.is_none();
        if let Some(slots) = cached {
            node.slots = slots;
        }
        for tok in words {
            if let Some(inner) = tok.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
                if let Some((s, id)) = inner.split_once("->-") {
                    let slot = Slot::parse(s.as_bytes()).ok_or_else(|| err("bad slot"))?;
                    node.migrating.push((slot, id.to_string()));
                } else if let Some((s, id)) = inner.split_once("-<-") {
                    let slot = Slot::parse(s.as_bytes()).ok_or_else(|| err("bad slot"))?;
                    node.importing.push((slot, id.to_string()));
                } else {
                    return Err(err("bad migration marker"));
                }
            } else if !parse_slots {
                continue;
            } else if let Some((a, b)) = tok.split_once('-') {
                let start = Slot::parse(a.as_bytes()).ok_or_else(|| err("bad slot"))?;
                let end = Slot::parse(b.as_bytes()).ok_or_else(|| err("bad slot"))?;
                if end < start {
                    return Err(err("slot range ends before it starts"));
                }
                node.slots.insert_range(SlotRange { start, end });
            } else {
                let slot = Slot::parse(tok.as_bytes()).ok_or_else(|| err("bad slot"))?;
                node.slots.insert(slot);
            }
        }
        if let (Some(c), true) = (cache, parse_slots && !slot_field.is_empty()) {
            c.put(slot_field, &node.slots);
        }
        Ok(node)
    }

    /// Renders the line without the trailing `\n`.
    pub fn render(&self) -> String {
        let mut s = String::with_capacity(128);
        let _ = write!(s, "{} ", self.id);
        // Redis prints IPv6 addresses without brackets here too.
        let _ = write!(s, "{}:{}@{}", self.ip, self.port, self.bus_port);
        if let Some(h) = &self.hostname {
            let _ = write!(s, ",{h}");
        }
        let flags = if self.flags.is_empty() {
            "noflags".to_string()
        } else {
            self.flags.join(",")
        };
        let _ = write!(
            s,
            " {} {} {} {} {} {}",
            flags,
            self.master_id.as_deref().unwrap_or("-"),
            self.ping_sent,
            self.pong_recv,
            self.config_epoch,
            if self.connected {
                "connected"
            } else {
                "disconnected"
            }
        );
        for r in self.slots.ranges() {
            let _ = write!(s, " {r}");
        }
        let mut markers: Vec<(Slot, String)> = self
            .migrating
            .iter()
            .map(|(slot, id)| (*slot, format!("[{slot}->-{id}]")))
            .collect();
        for (slot, id) in &self.importing {
            if !self.migrating.iter().any(|(m, _)| m == slot) {
                markers.push((*slot, format!("[{slot}-<-{id}]")));
            }
        }
        markers.sort_by_key(|(slot, _)| *slot);
        for (_, m) in markers {
            let _ = write!(s, " {m}");
        }
        s
    }
}

/// Parses a whole CLUSTER NODES reply (one line per node, `\n` separated).
pub fn parse_nodes(text: &str) -> Result<Vec<NodeLine>, ParseError> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(NodeLine::parse)
        .collect()
}

/// `parse_nodes` for many tables of one cluster: lines with a slot field already seen share
/// its slot set (30 nodes' tables repeat the same masters' ranges: one bitmap per master
/// instead of one per table, and comparing two tables' maps finds them identical at once).
pub fn parse_nodes_sharing(text: &str, cache: &SlotSetCache) -> Result<Vec<NodeLine>, ParseError> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| NodeLine::parse_with(l, Some(cache)))
        .collect()
}

/// Slot sets by the slot field they were parsed from (`0-5460 5462`).
#[derive(Default)]
pub struct SlotSetCache {
    sets: Mutex<HashMap<String, SlotSet>>,
}

impl SlotSetCache {
    fn get(&self, field: &str) -> Option<SlotSet> {
        self.sets.lock().ok()?.get(field).cloned()
    }
    fn put(&self, field: &str, slots: &SlotSet) {
        if let Ok(mut sets) = self.sets.lock() {
            sets.insert(field.to_string(), slots.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = "4ec84ddf994166b068a95e59840570a9d92d76b6 127.0.0.1:31106@31156 slave 0f48bd16cf8be0411db2b18335f3edf1d1976ff2 0 1795305027543 1 connected
a5fe29b5c4d2514704a2fcfc23fc717e6e5083b6 127.0.0.1:31102@31152 master - 0 1795305028000 2 connected 5461-10922
0f48bd16cf8be0411db2b18335f3edf1d1976ff2 127.0.0.1:31101@31151 myself,master - 0 1795305027000 1 connected 0-5460 [2724->-a5fe29b5c4d2514704a2fcfc23fc717e6e5083b6]
168c0000000000000000000000000000000000f3 127.0.0.1:31108@31158,node08.example myself,master - 0 1795305292000 13 connected
aa3d00000000000000000000000000000000c403 :31108@31158 myself,master - 0 0 0 connected
bb3d00000000000000000000000000000000c403 127.0.0.1:31110@31160 master,fail? - 1795305154785 1795305153778 5 disconnected 0-99";

    #[test]
    fn tables_parsed_sharing_slot_sets_equal_separate_parses() {
        let cache = SlotSetCache::default();
        let first = parse_nodes_sharing(SAMPLE, &cache).unwrap();
        // the same masters seen from another node: other flags, markers and timestamps
        let other = SAMPLE.replace("myself,master - 0 1795305027000 1 connected 0-5460 [2724->-a5fe29b5c4d2514704a2fcfc23fc717e6e5083b6]", "master - 0 1795305027999 1 connected 0-5460");
        let mut second = parse_nodes_sharing(&other, &cache).unwrap();
        assert_eq!(first, parse_nodes(SAMPLE).unwrap());
        assert_eq!(second, parse_nodes(&other).unwrap());
        assert_eq!(first[2].slots, second[2].slots);
        assert_eq!(first[2].migrating.len(), 1);
        assert!(second[2].migrating.is_empty());
        // changing one table's set leaves the other's alone
        second[2].slots.remove(Slot::new(0).unwrap());
        assert!(first[2].slots.contains(Slot::new(0).unwrap()));
        assert_eq!(first[2].slots.len(), 5461);
        assert_eq!(second[2].slots.len(), 5460);
        // a bad slot field is refused on every table, cached or not
        let bad = "aaaa 127.0.0.1:1@2 master - 0 0 1 connected 5-3\n";
        assert!(parse_nodes_sharing(bad, &cache).is_err());
        assert!(parse_nodes_sharing(bad, &cache).is_err());
    }

    #[test]
    fn parses_and_renders_the_captured_sample_byte_for_byte() {
        for line in SAMPLE.lines() {
            let node = NodeLine::parse(line).unwrap();
            assert_eq!(node.render(), line);
        }
        let nodes = parse_nodes(SAMPLE).unwrap();
        assert!(nodes[0].is_replica());
        assert_eq!(nodes[1].slots.len(), 10922 - 5461 + 1);
        assert_eq!(
            nodes[2].migrating,
            vec![(
                Slot::new(2724).unwrap(),
                "a5fe29b5c4d2514704a2fcfc23fc717e6e5083b6".into()
            )]
        );
        assert_eq!(nodes[3].hostname.as_deref(), Some("node08.example"));
        assert_eq!(nodes[4].ip, "");
        assert!(!nodes[5].is_failed() && nodes[5].has_flag("fail?"));
    }

    #[test]
    fn rejects_garbage() {
        assert!(NodeLine::parse("abc").is_err());
        assert!(NodeLine::parse("id 1.2.3.4:1@2 master - 0 0 0 connected 16384").is_err());
        assert!(NodeLine::parse("id 1.2.3.4:1@2 master - 0 0 0 connected 10-5").is_err());
        assert!(NodeLine::parse("id 1.2.3.4:1@2 master - x 0 0 connected").is_err());
    }

    proptest! {
        #[test]
        fn round_trip(slots in proptest::collection::vec(0u16..16384, 0..50), epoch in 0u64..1000, mig in proptest::option::of(0u16..16384)) {
            let node = NodeLine {
                id: "0123456789012345678901234567890123456789".into(),
                ip: "127.0.0.1".into(), port: 7000, bus_port: 17000, hostname: None,
                flags: vec!["myself".into(), "master".into()], master_id: None,
                ping_sent: 0, pong_recv: 5, config_epoch: epoch, connected: true,
                slots: slots.iter().map(|&n| Slot::new(n).unwrap()).collect(),
                migrating: mig.map(|m| vec![(Slot::new(m).unwrap(), "x".repeat(40))]).unwrap_or_default(),
                importing: vec![],
            };
            prop_assert_eq!(NodeLine::parse(&node.render()).unwrap(), node);
        }
    }
}
