//! nodes.conf: the cluster state persisted as CLUSTER NODES lines (handshake nodes excluded)
//! plus `vars currentEpoch N lastVoteEpoch N`, written atomically (temp file, fsync, rename)
//! and loaded back at startup. Format only; when to save is the state owner's decision.

use std::io::Write;
use std::path::Path;

use super::bus_msg::{flags, NodeName};
use super::render::nodes_text;
use super::state::{now_ms, ClusterConfig, ClusterNode, ClusterState};
use crate::remote::nodes::NodeLine;

#[derive(Debug, thiserror::Error)]
pub enum ConfError {
    #[error("corrupted cluster config file: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The whole file content.
pub fn render(st: &ClusterState) -> String {
    let mut s = nodes_text(st, false);
    s.push_str(&format!(
        "vars currentEpoch {} lastVoteEpoch {}\n",
        st.current_epoch, st.last_vote_epoch
    ));
    s
}

/// Writes the file atomically: a crash leaves either the old or the new content.
pub fn save(st: &ClusterState, path: &Path) -> std::io::Result<()> {
    write_atomic(path, &render(st), true)
}

/// Writes `text` to `path` through a temporary file and a rename; `fsync` makes it durable
/// (epoch changes must survive a crash; other changes can be re-learnt from gossip).
pub fn write_atomic(path: &Path, text: &str, fsync: bool) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp-trib");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        if fsync {
            f.sync_all()?;
        }
    }
    std::fs::rename(&tmp, path)?;
    if fsync {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// A pending nodes.conf write, taken under the state lock and performed after releasing it.
pub struct SaveJob {
    generation: u64,
    path: std::path::PathBuf,
    text: String,
    fsync: bool,
}

impl SaveJob {
    pub fn new(generation: u64, path: std::path::PathBuf, text: String, fsync: bool) -> SaveJob {
        SaveJob {
            generation,
            path,
            text,
            fsync,
        }
    }

    fn last() -> &'static std::sync::Mutex<u64> {
        static LAST: std::sync::Mutex<u64> = std::sync::Mutex::new(0);
        &LAST
    }

    /// Records a synchronous save, so that older pending jobs do not overwrite it.
    pub fn mark_written(generation: u64) {
        let mut last = Self::last().lock().unwrap_or_else(|p| p.into_inner());
        *last = (*last).max(generation);
    }

    /// Writes unless a newer state was written already (jobs may finish out of order).
    pub fn write(self) {
        let mut last = Self::last().lock().unwrap_or_else(|p| p.into_inner());
        if self.generation <= *last {
            return;
        }
        match write_atomic(&self.path, &self.text, self.fsync) {
            Ok(()) => *last = self.generation,
            Err(e) => crate::node::log::warning(&format!(
                "Could not save the cluster config {}: {e}",
                self.path.display()
            )),
        }
    }
}

fn parse_name(id: &str, line: &str) -> Result<NodeName, ConfError> {
    NodeName::from_bytes(id.as_bytes())
        .ok_or_else(|| ConfError::Corrupt(format!("bad node id in: {line}")))
}

fn flag_bits(words: &[String], line: &str) -> Result<u16, ConfError> {
    let mut bits = 0;
    for w in words {
        bits |= match w.as_str() {
            "myself" => flags::MYSELF,
            "master" => flags::MASTER,
            "slave" => flags::SLAVE,
            "fail?" => flags::PFAIL,
            "fail" => flags::FAIL,
            "handshake" => flags::HANDSHAKE,
            "noaddr" => flags::NOADDR,
            "nofailover" => flags::NOFAILOVER,
            "noflags" => 0,
            _ => return Err(ConfError::Corrupt(format!("unknown flag '{w}' in: {line}"))),
        };
    }
    Ok(bits)
}

/// Builds the state from the file content. `None` for an empty file (a fresh node).
pub fn parse(text: &str, config: ClusterConfig) -> Result<Option<ClusterState>, ConfError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let mut st = ClusterState::new(config);
    let fresh_me = st.myself;
    st.nodes.clear();
    let mut myself = None;
    let now = now_ms();
    let ensure = |st: &mut ClusterState, name: NodeName| {
        st.nodes
            .entry(name)
            .or_insert_with(|| ClusterNode::new(name, 0));
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words[0] == "vars" {
            for pair in words[1..].chunks(2) {
                let [k, v] = pair else {
                    return Err(ConfError::Corrupt(line.into()));
                };
                let v: u64 = v.parse().map_err(|_| ConfError::Corrupt(line.into()))?;
                match *k {
                    "currentEpoch" => st.current_epoch = v,
                    "lastVoteEpoch" => st.last_vote_epoch = v,
                    _ => {}
                }
            }
            continue;
        }
        let nl = NodeLine::parse(line).map_err(|e| ConfError::Corrupt(e.to_string()))?;
        let name = parse_name(&nl.id, line)?;
        ensure(&mut st, name);
        let bits = flag_bits(&nl.flags, line)?;
        if bits & flags::MYSELF != 0 {
            if myself.is_some() {
                return Err(ConfError::Corrupt("more than one myself line".into()));
            }
            myself = Some(name);
        }
        let master = match &nl.master_id {
            Some(m) => {
                let m = parse_name(m, line)?;
                ensure(&mut st, m);
                Some(m)
            }
            None => None,
        };
        {
            let n = st.nodes.get_mut(&name).unwrap();
            n.flags = bits;
            n.ip = nl.ip.clone();
            n.port = nl.port;
            n.cport = nl.bus_port;
            n.hostname = nl.hostname.clone();
            n.master = master;
            n.ping_sent = if nl.ping_sent != 0 { now } else { 0 };
            n.pong_received = if nl.pong_recv != 0 { now } else { 0 };
            n.config_epoch = if bits & flags::SLAVE != 0 {
                0
            } else {
                nl.config_epoch
            };
        }
        for s in nl.slots.iter() {
            st.add_slot(s, name);
        }
        if bits & flags::MYSELF != 0 {
            for (slot, id) in &nl.migrating {
                let t = parse_name(id, line)?;
                ensure(&mut st, t);
                st.migrating.insert(slot.get(), t);
            }
            for (slot, id) in &nl.importing {
                let t = parse_name(id, line)?;
                ensure(&mut st, t);
                st.importing.insert(slot.get(), t);
            }
        }
    }
    let Some(me) = myself else {
        return Err(ConfError::Corrupt("no myself line".into()));
    };
    let _ = fresh_me;
    st.myself = me;
    st.current_epoch = st.current_epoch.max(st.max_config_epoch());
    // Our own address settings come from the configuration, not the file.
    let (port, cport) = (st.config.announced_port(), st.config.announced_bus_port());
    let hostname = st.config.announce_hostname.clone();
    let announce_ip = st.config.announce_ip.clone();
    let m = st.me_mut();
    m.port = port;
    m.cport = cport;
    m.hostname = (!hostname.is_empty()).then_some(hostname);
    if !announce_ip.is_empty() {
        m.ip = announce_ip;
    }
    st.save_needed = false;
    Ok(Some(st))
}

/// Loads `path`, or starts fresh when it is missing or empty.
pub fn load(path: &Path, config: ClusterConfig) -> Result<ClusterState, ConfError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(parse(&text, config.clone())?.unwrap_or_else(|| ClusterState::new(config))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ClusterState::new(config)),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slot::Slot;

    const FILE: &str = "0f48bd16cf8be0411db2b18335f3edf1d1976ff2 127.0.0.1:31101@31151 myself,master - 0 1795304983000 1 connected 0-5460 [2724->-a5fe29b5c4d2514704a2fcfc23fc717e6e5083b6]
a5fe29b5c4d2514704a2fcfc23fc717e6e5083b6 127.0.0.1:31102@31152 master - 0 1795305028000 2 connected 5461-10922
4ec84ddf994166b068a95e59840570a9d92d76b6 127.0.0.1:31106@31156 slave 0f48bd16cf8be0411db2b18335f3edf1d1976ff2 0 1795305027543 1 connected
vars currentEpoch 6 lastVoteEpoch 0
";

    fn cfg() -> ClusterConfig {
        ClusterConfig {
            port: 31101,
            bus_port: 31151,
            ..Default::default()
        }
    }

    #[test]
    fn loads_the_captured_file() {
        let st = parse(FILE, cfg()).unwrap().unwrap();
        assert_eq!(
            st.myself.to_string(),
            "0f48bd16cf8be0411db2b18335f3edf1d1976ff2"
        );
        assert_eq!(st.current_epoch, 6);
        assert_eq!(st.slot_count(&st.myself), 5461);
        assert_eq!(st.migrating.len(), 1);
        let replica = NodeName::from_bytes(b"4ec84ddf994166b068a95e59840570a9d92d76b6").unwrap();
        assert_eq!(st.node_epoch(&replica), 1);
        assert_eq!(
            st.owner(Slot::new(6000).unwrap()).unwrap().to_string(),
            "a5fe29b5c4d2514704a2fcfc23fc717e6e5083b6"
        );
    }

    #[test]
    fn round_trips_through_a_file() {
        let st = parse(FILE, cfg()).unwrap().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nodes.conf");
        save(&st, &path).unwrap();
        let again = load(&path, cfg()).unwrap();
        // ping/pong times are replaced by the load time, so compare without them
        let strip = |t: String| -> Vec<String> {
            t.lines()
                .map(|l| {
                    let mut f: Vec<&str> = l.split(' ').collect();
                    if f.len() > 5 && f[0] != "vars" {
                        f[4] = "-";
                        f[5] = "-";
                    }
                    f.join(" ")
                })
                .collect()
        };
        assert_eq!(strip(render(&again)), strip(render(&st)));
        assert!(render(&st).ends_with("vars currentEpoch 6 lastVoteEpoch 0\n"));
    }

    #[test]
    fn rejects_corruption() {
        assert!(parse("garbage line\n", cfg()).is_err());
        let two_me = FILE.replace(
            " master - 0 1795305028000",
            " myself,master - 0 1795305028000",
        );
        assert!(parse(&two_me, cfg()).is_err());
        let bad_flag = FILE.replace("slave 0f48", "slavez 0f48");
        assert!(parse(&bad_flag, cfg()).is_err());
        assert!(parse("", cfg()).unwrap().is_none());
    }
}
