//! The cluster state of one node: the node table (myself included), the 16384 slot owners,
//! migrating/importing marks, epochs, the FORGET ban list and message counters. Plain data plus
//! the invariant-keeping mutations; no I/O, no sockets (links live in `bus`, persistence in
//! `nodes_conf`, rules for incoming messages in `gossip`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc::UnboundedSender;

use super::bus_msg::{flags, NodeName};
use super::failover::replication_port::{NoReplication, ReplicationPort};
use crate::slot::{Slot, SlotSet, SLOT_COUNT};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// How long a forgotten node's id is ignored in gossip.
pub const FORGET_BAN_MS: u64 = 60_000;

/// Settings the cluster logic reads (live: `node_timeout` may change through CONFIG SET).
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub port: u16,
    pub bus_port: u16,
    pub node_timeout: u64,
    pub announce_ip: String,
    pub announce_port: u16,
    pub announce_bus_port: u16,
    pub announce_hostname: String,
    pub require_full_coverage: bool,
    pub allow_replica_migration: bool,
    pub allow_reads_when_down: bool,
    /// `ip`, `hostname` or `unknown-endpoint`.
    pub preferred_endpoint: String,
    /// `cluster-replica-no-failover`: never start an automatic election.
    pub replica_no_failover: bool,
    /// `cluster-migration-barrier`: replicas a master keeps before one may migrate away.
    pub migration_barrier: u64,
    /// `cluster-replica-validity-factor` (0: any data age may fail over).
    pub validity_factor: u64,
    /// `repl-ping-replica-period`, in seconds (part of the data-age limit).
    pub repl_ping_period: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            port: 6379,
            bus_port: 16379,
            node_timeout: 15000,
            announce_ip: String::new(),
            announce_port: 0,
            announce_bus_port: 0,
            announce_hostname: String::new(),
            require_full_coverage: true,
            allow_replica_migration: true,
            allow_reads_when_down: false,
            preferred_endpoint: "ip".into(),
            replica_no_failover: false,
            migration_barrier: 1,
            validity_factor: 10,
            repl_ping_period: 10,
        }
    }
}

impl ClusterConfig {
    pub fn announced_port(&self) -> u16 {
        if self.announce_port != 0 {
            self.announce_port
        } else {
            self.port
        }
    }
    pub fn announced_bus_port(&self) -> u16 {
        if self.announce_bus_port != 0 {
            self.announce_bus_port
        } else {
            self.bus_port
        }
    }
}

/// The sending half of an outbound bus link.
#[derive(Debug, Clone)]
pub struct Link {
    pub id: u64,
    pub tx: UnboundedSender<Bytes>,
    pub ctime: u64,
    /// False while the TCP connect is still in progress.
    pub established: bool,
}

#[derive(Debug, Clone)]
pub struct ClusterNode {
    pub name: NodeName,
    pub flags: u16,
    pub ip: String,
    pub port: u16,
    pub pport: u16,
    pub cport: u16,
    pub hostname: Option<String>,
    pub config_epoch: u64,
    pub master: Option<NodeName>,
    pub ctime: u64,
    pub ping_sent: u64,
    pub pong_received: u64,
    pub data_received: u64,
    pub fail_time: u64,
    pub voted_time: u64,
    pub repl_offset: u64,
    /// Since when this master has had no working replica (replica migration), 0 if it has.
    pub orphaned_time: u64,
    /// Masters that reported this node as failing, with the time of their last report.
    pub fail_reports: HashMap<NodeName, u64>,
    /// Our outbound bus link to this node, when connected.
    pub link: Option<Link>,
}

impl ClusterNode {
    pub fn new(name: NodeName, flags: u16) -> ClusterNode {
        ClusterNode {
            name,
            flags,
            ip: String::new(),
            port: 0,
            pport: 0,
            cport: 0,
            hostname: None,
            config_epoch: 0,
            master: None,
            ctime: now_ms(),
            ping_sent: 0,
            pong_received: 0,
            data_received: 0,
            fail_time: 0,
            voted_time: 0,
            repl_offset: 0,
            orphaned_time: 0,
            fail_reports: HashMap::new(),
            link: None,
        }
    }
    pub fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }
    pub fn is_master(&self) -> bool {
        self.has(flags::MASTER)
    }
    pub fn is_replica(&self) -> bool {
        self.has(flags::SLAVE)
    }
    pub fn in_handshake(&self) -> bool {
        self.has(flags::HANDSHAKE)
    }
    pub fn failed(&self) -> bool {
        self.has(flags::FAIL)
    }
    pub fn timed_out(&self) -> bool {
        self.has(flags::PFAIL)
    }
    /// CLUSTER NODES flag words, in Redis's order.
    pub fn flag_words(&self) -> Vec<String> {
        let table = [
            (flags::MYSELF, "myself"),
            (flags::MASTER, "master"),
            (flags::SLAVE, "slave"),
            (flags::PFAIL, "fail?"),
            (flags::FAIL, "fail"),
            (flags::HANDSHAKE, "handshake"),
            (flags::NOADDR, "noaddr"),
            (flags::NOFAILOVER, "nofailover"),
        ];
        table
            .iter()
            .filter(|(bit, _)| self.has(*bit))
            .map(|(_, w)| w.to_string())
            .collect()
    }
}

/// Message counters per bus message type (CLUSTER INFO).
pub const MSG_TYPES: usize = 11;

/// My current (or last) election as a replica (§4.8.1).
#[derive(Debug, Clone, Default)]
pub struct Election {
    /// When the election may start (past: started or expired); 0 = never scheduled.
    pub auth_time: u64,
    /// Votes received for `auth_epoch`.
    pub auth_count: usize,
    /// Whether the FAILOVER_AUTH_REQUEST went out.
    pub auth_sent: bool,
    pub auth_rank: usize,
    /// The epoch I asked votes for.
    pub auth_epoch: u64,
    /// Why I cannot fail over, and when that was last logged (Redis logs it sparingly).
    pub cant_reason: u8,
    pub cant_logged_at: u64,
}

/// Manual failover state, on the replica that asked and on its master (§4.8.3).
#[derive(Debug, Clone, Default)]
pub struct ManualFailover {
    /// Deadline; 0 = no manual failover in progress.
    pub end: u64,
    /// Replica side: my master's offset is reached, the election may start.
    pub can_start: bool,
    /// Master side: the replica that asked.
    pub replica: Option<NodeName>,
    /// Replica side: my master's offset taken from its first PAUSED header.
    pub master_offset: Option<u64>,
}

pub struct ClusterState {
    pub myself: NodeName,
    pub nodes: HashMap<NodeName, ClusterNode>,
    /// Owner of each slot. Mutate only through `add_slot`/`del_slot`/`rename_node`, which keep
    /// `owned` in step.
    pub slots: Vec<Option<NodeName>>,
    /// The same ownership per node, for O(1) counts and fast bitmaps.
    owned: HashMap<NodeName, SlotSet>,
    /// Slots whose owner stopped claiming them in its latest message (binding kept).
    pub owner_not_claiming: SlotSet,
    pub migrating: BTreeMap<u16, NodeName>,
    pub importing: BTreeMap<u16, NodeName>,
    pub current_epoch: u64,
    pub last_vote_epoch: u64,
    pub state_ok: bool,
    pub size: usize,
    pub stats_sent: [u64; MSG_TYPES],
    pub stats_received: [u64; MSG_TYPES],
    /// Forgotten node ids and when their ban ends.
    pub banned: HashMap<NodeName, u64>,
    pub config: ClusterConfig,
    /// Set by mutations that must reach nodes.conf; the owner of the state saves and clears it.
    pub save_needed: bool,
    /// Set when every peer should hear our new configuration now (epoch bump, role change).
    pub broadcast_pong_needed: bool,
    /// Where nodes.conf lives; `None` in unit tests.
    pub conf_path: Option<std::path::PathBuf>,
    pub start_time: u64,
    /// When the cluster state last became fail while I was in a minority (rejoin delay).
    pub among_minority_time: u64,
    pub next_link_id: u64,
    pub election: Election,
    pub mf: ManualFailover,
    /// Data replication as elections see it (offsets, promote, follow).
    pub repl: Arc<dyn ReplicationPort>,
    save_generation: u64,
    /// (currentEpoch, my configEpoch, lastVoteEpoch) at the last save: a change needs fsync.
    saved_epochs: (u64, u64, u64),
}

impl ClusterState {
    /// A fresh node: a random name, master, no slots, epoch 0.
    pub fn new(config: ClusterConfig) -> ClusterState {
        let myself = NodeName::random();
        let mut me = ClusterNode::new(myself, flags::MYSELF | flags::MASTER);
        me.port = config.announced_port();
        me.cport = config.announced_bus_port();
        me.ip = config.announce_ip.clone();
        me.hostname =
            (!config.announce_hostname.is_empty()).then(|| config.announce_hostname.clone());
        let mut nodes = HashMap::new();
        nodes.insert(myself, me);
        ClusterState {
            myself,
            nodes,
            slots: vec![None; SLOT_COUNT as usize],
            owned: HashMap::new(),
            owner_not_claiming: SlotSet::new(),
            migrating: BTreeMap::new(),
            importing: BTreeMap::new(),
            current_epoch: 0,
            last_vote_epoch: 0,
            state_ok: false,
            size: 1,
            stats_sent: [0; MSG_TYPES],
            stats_received: [0; MSG_TYPES],
            banned: HashMap::new(),
            config,
            save_needed: true,
            broadcast_pong_needed: false,
            conf_path: None,
            start_time: now_ms(),
            among_minority_time: 0,
            next_link_id: 1,
            election: Election::default(),
            mf: ManualFailover::default(),
            repl: Arc::new(NoReplication),
            save_generation: 0,
            saved_epochs: (0, 0, 0),
        }
    }

    pub fn me(&self) -> &ClusterNode {
        &self.nodes[&self.myself]
    }
    pub fn me_mut(&mut self) -> &mut ClusterNode {
        self.nodes
            .get_mut(&self.myself)
            .expect("myself is always in the table")
    }
    pub fn node(&self, name: &NodeName) -> Option<&ClusterNode> {
        self.nodes.get(name)
    }
    /// Looks a node up by the id text a client typed.
    pub fn lookup(&self, id: &[u8]) -> Option<NodeName> {
        let name = NodeName::from_bytes(id)?;
        self.nodes.contains_key(&name).then_some(name)
    }
    pub fn i_am_master(&self) -> bool {
        self.me().is_master()
    }
    /// My master when I am a replica.
    pub fn my_master(&self) -> Option<NodeName> {
        self.me().master
    }

    /// configEpoch as shown/advertised: a replica uses its master's.
    pub fn node_epoch(&self, name: &NodeName) -> u64 {
        let n = &self.nodes[name];
        match n.master.and_then(|m| self.nodes.get(&m)) {
            Some(m) if n.is_replica() => m.config_epoch,
            _ => n.config_epoch,
        }
    }
    pub fn my_epoch(&self) -> u64 {
        self.node_epoch(&self.myself)
    }

    pub fn owner(&self, slot: Slot) -> Option<NodeName> {
        self.slots[slot.index()]
    }
    pub fn slots_of(&self, name: &NodeName) -> SlotSet {
        self.owned.get(name).cloned().unwrap_or_default()
    }
    pub fn slot_count(&self, name: &NodeName) -> usize {
        self.owned.get(name).map_or(0, |s| s.len())
    }
    /// Slot owners as sets (only nodes owning at least one slot).
    pub fn all_slot_sets(&self) -> HashMap<NodeName, SlotSet> {
        self.owned
            .iter()
            .filter(|(_, s)| !s.is_empty())
            .map(|(n, s)| (*n, s.clone()))
            .collect()
    }
    /// Whether `name` owns exactly the slots of `claimed`.
    pub fn owns_exactly(&self, name: &NodeName, claimed: &SlotSet) -> bool {
        match self.owned.get(name) {
            Some(s) => s == claimed,
            None => claimed.is_empty(),
        }
    }
    /// The slots a header should claim: mine as a master, my master's as a replica.
    pub fn claimed_slots(&self) -> SlotSet {
        match self.me().master {
            Some(m) if self.me().is_replica() => self.slots_of(&m),
            _ => self.slots_of(&self.myself),
        }
    }

    pub fn replicas_of(&self, master: &NodeName) -> Vec<NodeName> {
        let mut v: Vec<NodeName> = self
            .nodes
            .values()
            .filter(|n| n.is_replica() && n.master.as_ref() == Some(master))
            .map(|n| n.name)
            .collect();
        v.sort();
        v
    }

    pub fn add_slot(&mut self, slot: Slot, owner: NodeName) {
        if let Some(old) = self.slots[slot.index()].replace(owner) {
            if let Some(set) = self.owned.get_mut(&old) {
                set.remove(slot);
            }
        }
        self.owned.entry(owner).or_default().insert(slot);
        self.owner_not_claiming.remove(slot);
    }
    /// Unbinds a slot; like Redis, migration marks are left to the callers that clear them.
    pub fn del_slot(&mut self, slot: Slot) {
        if let Some(old) = self.slots[slot.index()].take() {
            if let Some(set) = self.owned.get_mut(&old) {
                set.remove(slot);
            }
        }
        self.owner_not_claiming.remove(slot);
    }

    pub fn max_config_epoch(&self) -> u64 {
        self.nodes
            .values()
            .map(|n| n.config_epoch)
            .max()
            .unwrap_or(0)
    }

    /// Adds a node learnt from MEET, gossip or nodes.conf.
    pub fn add_node(&mut self, node: ClusterNode) {
        self.nodes.insert(node.name, node);
    }

    /// Removes a node everywhere: its slots become unassigned, reports and master pointers drop.
    pub fn delete_node(&mut self, name: &NodeName) {
        if *name == self.myself {
            return;
        }
        if let Some(set) = self.owned.remove(name) {
            for s in set.iter_fast() {
                self.slots[s.index()] = None;
                self.owner_not_claiming.remove(s);
            }
        }
        self.migrating.retain(|_, t| t != name);
        self.importing.retain(|_, t| t != name);
        self.nodes.remove(name);
        for n in self.nodes.values_mut() {
            n.fail_reports.remove(name);
            if n.master == Some(*name) {
                n.master = None;
            }
        }
        self.save_needed = true;
    }

    /// Renames a handshake node once its real name is known (keeps its link).
    pub fn rename_node(&mut self, old: &NodeName, new: NodeName) {
        if let Some(mut n) = self.nodes.remove(old) {
            n.name = new;
            self.nodes.insert(new, n);
            if let Some(set) = self.owned.remove(old) {
                for s in set.iter_fast() {
                    self.slots[s.index()] = Some(new);
                }
                self.owned.insert(new, set);
            }
        }
    }

    pub fn ban(&mut self, name: NodeName) {
        self.banned.insert(name, now_ms() + FORGET_BAN_MS);
    }
    pub fn is_banned(&mut self, name: &NodeName) -> bool {
        let now = now_ms();
        self.banned.retain(|_, until| *until > now);
        self.banned.contains_key(name)
    }

    /// Makes me a replica of `master` (Redis's clusterSetMaster): drops my MASTER flag and
    /// all my marks, aborts a manual failover, and tells replication to follow it.
    pub fn set_my_master(&mut self, master: NodeName) {
        let n = self.me_mut();
        n.flags &= !(flags::MASTER | flags::MIGRATE_TO);
        n.flags |= flags::SLAVE;
        n.master = Some(master);
        self.migrating.clear();
        self.importing.clear();
        if let Some(m) = self.nodes.get_mut(&master) {
            // A master that has (had) a replica is a target for replica migration.
            m.flags |= flags::MIGRATE_TO;
        }
        self.reset_manual_failover();
        self.follow_my_master();
        self.save_needed = true;
    }

    /// Points replication at my master's current address (no-op as a master or when the
    /// address is not known yet).
    pub fn follow_my_master(&self) {
        let me = self.me();
        if !me.is_replica() {
            return;
        }
        if let Some(m) = me.master.and_then(|m| self.nodes.get(&m)) {
            if !m.ip.is_empty() && m.port != 0 {
                self.repl.follow(m.name, &m.ip, m.port);
            }
        }
    }

    /// Makes me a master (Redis's clusterSetNodeAsMaster(myself) + replicationUnsetMaster):
    /// my slots are unchanged, replication is told to promote, keeping the data.
    pub fn set_me_as_master(&mut self) {
        if self.i_am_master() {
            return;
        }
        let n = self.me_mut();
        n.flags &= !flags::SLAVE;
        n.flags |= flags::MASTER;
        n.master = None;
        self.repl.promote();
        self.save_needed = true;
    }

    /// Installs the real replication port; when I am already a replica it starts following.
    pub fn set_replication(&mut self, port: Arc<dyn ReplicationPort>) {
        self.repl = port;
        self.me_mut().repl_offset = self.repl.offset();
        self.follow_my_master();
    }

    /// Ends a manual failover on either side (a paused master resumes writes).
    pub fn reset_manual_failover(&mut self) {
        if self.mf.replica.is_some() {
            self.repl.pause_writes(0);
        }
        self.mf = ManualFailover::default();
    }

    /// Recomputes `state_ok` and `size` (§4.7 cluster state), in Redis's order: a master
    /// whose state is fail waits 2 s after start before computing anything, and after being in
    /// a minority waits the rejoin delay before turning ok.
    pub fn update_state(&mut self) {
        let now = now_ms();
        if self.i_am_master() && !self.state_ok && now.saturating_sub(self.start_time) < 2000 {
            return;
        }
        let mut assigned = 0;
        let mut failed_slots = 0;
        let mut size = 0;
        let mut reachable = 0;
        for (name, set) in &self.owned {
            let count = set.len();
            if count == 0 {
                continue;
            }
            assigned += count;
            let Some(n) = self.nodes.get(name) else {
                failed_slots += count;
                continue;
            };
            if n.failed() {
                failed_slots += count;
            }
            if n.is_master() {
                size += 1;
                if !n.failed() && !n.timed_out() {
                    reachable += 1;
                }
            }
        }
        let mut ok = !self.config.require_full_coverage
            || (assigned == SLOT_COUNT as usize && failed_slots == 0);
        self.size = size;
        if reachable < size / 2 + 1 {
            ok = false;
            self.among_minority_time = now;
        }
        if ok != self.state_ok {
            let rejoin = self.config.node_timeout.clamp(500, 5000);
            if ok && self.i_am_master() && now.saturating_sub(self.among_minority_time) < rejoin {
                return;
            }
            self.state_ok = ok;
        }
    }

    /// Endpoint a redirect or CLUSTER SLOTS shows for a node (`cluster-preferred-endpoint-type`).
    pub fn endpoint(&self, n: &ClusterNode) -> String {
        match self.config.preferred_endpoint.as_str() {
            "hostname" => n.hostname.clone().unwrap_or_else(|| "?".into()),
            "unknown-endpoint" => String::new(),
            _ => n.ip.clone(),
        }
    }

    fn epochs(&self) -> (u64, u64, u64) {
        (
            self.current_epoch,
            self.me().config_epoch,
            self.last_vote_epoch,
        )
    }

    /// Whether an epoch changed since the last save (such a change must be fsync'd at once).
    pub fn epochs_changed_since_save(&self) -> bool {
        self.save_needed && self.epochs() != self.saved_epochs
    }

    /// Writes nodes.conf now (fsync'd) when there is a path.
    pub fn save_now(&mut self) -> std::io::Result<()> {
        self.save_needed = false;
        self.saved_epochs = self.epochs();
        self.save_generation += 1;
        match &self.conf_path {
            Some(p) => {
                super::nodes_conf::write_atomic(p, &super::nodes_conf::render(self), true)?;
                super::nodes_conf::SaveJob::mark_written(self.save_generation);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// The pending save, if a mutation asked for one: render now (under the lock), write
    /// later (`SaveJob::write`, after the lock is released).
    pub fn take_save(&mut self) -> Option<super::nodes_conf::SaveJob> {
        if !self.save_needed {
            return None;
        }
        self.save_needed = false;
        let path = self.conf_path.clone()?;
        let epochs = self.epochs();
        let fsync = epochs != self.saved_epochs;
        self.saved_epochs = epochs;
        self.save_generation += 1;
        Some(super::nodes_conf::SaveJob::new(
            self.save_generation,
            path,
            super::nodes_conf::render(self),
            fsync,
        ))
    }

    pub fn new_link_id(&mut self) -> u64 {
        self.next_link_id += 1;
        self.next_link_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_node_is_a_slotless_master() {
        let st = ClusterState::new(ClusterConfig::default());
        assert!(st.i_am_master());
        assert_eq!(st.me().flag_words(), vec!["myself", "master"]);
        assert_eq!(st.slot_count(&st.myself), 0);
        assert_eq!(st.myself.to_string().len(), 40);
    }

    #[test]
    fn deleting_a_node_unassigns_its_slots() {
        let mut st = ClusterState::new(ClusterConfig::default());
        let other = NodeName::random();
        st.add_node(ClusterNode::new(other, flags::MASTER));
        st.add_slot(Slot::new(5).unwrap(), other);
        st.importing.insert(5, other);
        st.delete_node(&other);
        assert_eq!(st.owner(Slot::new(5).unwrap()), None);
        assert!(st.importing.is_empty());
    }

    #[test]
    fn state_needs_full_coverage() {
        let mut st = ClusterState::new(ClusterConfig::default());
        st.start_time = 0;
        st.update_state();
        assert!(!st.state_ok);
        let me = st.myself;
        for s in Slot::all() {
            st.add_slot(s, me);
        }
        st.among_minority_time = 0;
        st.update_state();
        assert!(st.state_ok);
        assert_eq!(st.size, 1);
    }
}
