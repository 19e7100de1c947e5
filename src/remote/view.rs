//! The CLI's view of a live cluster, loaded the way redis-cli loads it: the entry node's
//! CLUSTER NODES lists the members, every member is asked for its own opinion (connections and
//! requests run concurrently), and each node's slots, flags and open slots come from its own
//! `myself` line. Also keeps what redis-cli drops: nodes that could not be loaded and why.
//! Judging the view (agreement, coverage, open slots) lives in `health`; nothing here prints.

use std::collections::BTreeMap;

use anyhow::Result;
use futures_util::future::join_all;

use crate::addr::NodeAddr;
use crate::exit::Fail;
use crate::remote::conn::{
    answer_raw, answer_value, as_reply, AfterFirst, ConnectError, ConnectOptions, FirstRequest,
    NodeConn,
};
use crate::remote::nodes::{parse_nodes_sharing, NodeLine, SlotSetCache};
use crate::remote::reply::ReplyError;
use crate::remote::strays::{self, SlotCounts};
use crate::remote::wire::Answer;
use crate::slot::{Slot, SlotSet};

/// One loaded node: its connection and its own view of itself.
#[derive(Clone)]
pub struct ClusterNode {
    /// Where trib talks to it: the entry keeps the address as typed, others the IP from CLUSTER NODES.
    pub addr: NodeAddr,
    pub id: String,
    /// The node's own flags, without `myself`.
    pub flags: Vec<String>,
    /// A replica, by its own line or by the entry node's opinion (redis-cli ORs them).
    pub replica: bool,
    pub master_id: Option<String>,
    pub config_epoch: u64,
    pub slots: SlotSet,
    pub migrating: Vec<(Slot, String)>,
    pub importing: Vec<(Slot, String)>,
    /// Its whole CLUSTER NODES table (its opinion of everybody).
    pub table: Vec<NodeLine>,
    /// DBSIZE when the view was loaded (asked in the same round trip as CLUSTER NODES), or
    /// the error it got.
    pub dbsize: Result<u64, String>,
    /// Keys in slots it does not own, when the view was loaded with `load_probing` and the
    /// node is a master (`None`: not asked).
    pub strays: Option<Result<SlotCounts, ReplyError>>,
    pub conn: NodeConn,
}

impl ClusterNode {
    pub fn is_master(&self) -> bool {
        !self.replica
    }
    /// The node's own `myself` line.
    pub fn myself(&self) -> Option<&NodeLine> {
        self.table.iter().find(|l| l.is_myself())
    }
    /// The flags as redis-cli prints them (`master`, `slave`, ...), comma-joined.
    pub fn flags_text(&self) -> String {
        self.flags.join(",")
    }
    /// `ip:port` for messages.
    pub fn name(&self) -> String {
        self.addr.to_string()
    }
}

/// Why a member listed by the entry node is not in the view.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The entry node lists it without an address (`:0@0`, `noaddr`).
    NoAddress,
    /// The entry node flags it `fail`.
    Failed,
    /// The entry node flags it `disconnected`/`handshake`, or it could not be reached.
    Unreachable,
    /// It answered with an error (auth, CLUSTER NODES).
    Error,
}

/// A member the entry node knows but the view could not use.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SkippedNode {
    pub addr: String,
    pub id: String,
    /// What the entry node believes it is.
    pub was_master: bool,
    pub reason: SkipReason,
    /// The error text, when there was one.
    pub detail: Option<String>,
    /// The entry node flags it `fail` (whatever else kept it out of the view).
    pub flagged_fail: bool,
    /// It answered trib (a node flagged fail that is back, or only its bus is cut off).
    pub answers: bool,
    /// How many slots the entry node says it owns.
    pub slot_count: usize,
}

/// Everything known about a cluster from one entry node.
#[derive(Clone)]
pub struct ClusterView {
    /// The node the view was loaded from (first in `nodes`).
    pub entry: NodeAddr,
    /// Loaded nodes: the entry, then the others in the entry's CLUSTER NODES order.
    pub nodes: Vec<ClusterNode>,
    /// Members that could not be loaded.
    pub skipped: Vec<SkippedNode>,
    /// Non-fatal oddities found while loading (`claims to be slave of unknown node ID`).
    pub warnings: Vec<String>,
    /// Replicas the entry node lists as healthy but that were not asked (`load_masters`).
    pub replicas_not_loaded: Vec<NodeLine>,
}

/// Which members a load asks, and what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Everyone,
    /// Everyone; masters also count their stray keys.
    EveryoneProbing,
    /// Masters only; replicas are known from the entry node's table.
    MastersOnly,
}

impl Scope {
    /// Whether a node keeps its connection once it has answered what the load asks it. The
    /// one-shot loads (check, info) ask nothing more of a node afterwards (a master whose
    /// stray keys span several SCAN pages reconnects), so each node closes right after its
    /// answers; a plain load keeps them for the operation that follows. The entry of a probing
    /// load stays open: its stray keys are counted after its first answers.
    fn after_first(self, entry: bool) -> AfterFirst {
        match self {
            Scope::Everyone => AfterFirst::StayOpen,
            Scope::EveryoneProbing if entry => AfterFirst::StayOpen,
            Scope::EveryoneProbing | Scope::MastersOnly => AfterFirst::Close,
        }
    }
}

/// Errors looking a node up by id or prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("No such node ID {0}")]
    NotFound(String),
    #[error("node ID prefix {prefix} is ambiguous: it matches {matches}")]
    Ambiguous { prefix: String, matches: String },
}

impl ClusterView {
    /// Loads the view from `entry`. Fails when the entry node cannot be used (unreachable, auth,
    /// not in cluster mode); other nodes that cannot be loaded land in `skipped`.
    pub async fn load(entry: &NodeAddr, opts: &ConnectOptions) -> Result<ClusterView> {
        ClusterView::load_with(entry, opts, Scope::Everyone).await
    }

    /// `load`, and every master also counts its keys in slots it does not own right after its
    /// own reply (no extra round of requests waiting for the slowest node).
    pub async fn load_probing(entry: &NodeAddr, opts: &ConnectOptions) -> Result<ClusterView> {
        ClusterView::load_with(entry, opts, Scope::EveryoneProbing).await
    }

    /// `load` asking only the masters (and the entry): for reports about keys and slots, where
    /// a replica's own opinion adds nothing and half the connections are saved. The replicas
    /// the entry node lists (and does not flag failed or unreachable) land in
    /// `replicas_not_loaded`.
    pub async fn load_masters(entry: &NodeAddr, opts: &ConnectOptions) -> Result<ClusterView> {
        ClusterView::load_with(entry, opts, Scope::MastersOnly).await
    }

    async fn load_with(
        entry: &NodeAddr,
        opts: &ConnectOptions,
        scope: Scope,
    ) -> Result<ClusterView> {
        let probe_strays = scope == Scope::EveryoneProbing;
        let slot_sets = SlotSetCache::default();
        // Every request shares one round trip, written with the connect; the INFO verdict is
        // still judged first, so a non-cluster node gets the same message as before. No SCAN
        // page here: its reply would come with (and delay) the table every other connection
        // waits for; the entry's stray keys are counted while the others load.
        let mut asked = vec![FirstRequest {
            cmd: redis::cmd("INFO").arg("cluster").clone(),
            raw: false,
        }];
        asked.extend(first_requests(false));
        let (seed, answers) =
            NodeConn::connect_sending(entry, opts, &asked, scope.after_first(true))
                .await
                .map_err(connect_failure)?;
        let mut answers = answers.into_iter();
        let info = async { as_reply::<String>(answer_value(next_answer(&mut answers)?).await?) };
        let info = info.await;
        let (seed_table, seed_size, seed_page) = first_answers(answers, &slot_sets).await;
        let info = info.map_err(|e| Fail::failure(format!("Node {entry} {e}")))?;
        if !cluster_enabled(&info) {
            return Err(Fail::failure(format!(
                "Node {entry} is not configured as a cluster node."
            )));
        }
        let seed_table =
            seed_table.map_err(|e| Fail::failure(format!("{entry}: CLUSTER NODES: {e}")))?;
        let Some(me) = seed_table.iter().find(|l| l.is_myself()).cloned() else {
            return Err(Fail::failure(format!(
                "{entry}: CLUSTER NODES has no myself line"
            )));
        };
        let (others, replicas_not_loaded): (Vec<&NodeLine>, Vec<&NodeLine>) = seed_table
            .iter()
            .filter(|l| !l.is_myself())
            .partition(|l| scope != Scope::MastersOnly || !l.is_replica());
        let replicas_not_loaded: Vec<NodeLine> = replicas_not_loaded
            .into_iter()
            .filter(|l| {
                l.connected
                    && !l.is_failed()
                    && !l.has_flag("handshake")
                    && !l.has_flag("noaddr")
                    && !l.ip.is_empty()
            })
            .cloned()
            .collect();
        let loads = others
            .iter()
            .map(|line| load_member(line, opts, scope, &slot_sets));
        let (seed_strays, results) = futures_util::future::join(
            probe(&seed, &me, &seed_size, probe_strays, seed_page),
            join_all(loads),
        )
        .await;
        let mut nodes = vec![own_node(
            entry.clone(),
            &me,
            false,
            None,
            Answers {
                table: seed_table.clone(),
                dbsize: seed_size,
                strays: seed_strays,
            },
            seed,
        )];
        let mut skipped = Vec::new();

        for (line, result) in others.into_iter().zip(results) {
            let was_master = !line.is_replica();
            let answers = result.is_ok();
            let skip = |reason, detail| SkippedNode {
                addr: format!("{}:{}", line.ip, line.port),
                id: line.id.clone(),
                was_master,
                reason,
                detail,
                flagged_fail: line.is_failed(),
                answers,
                slot_count: line.slots.len(),
            };
            if line.ip.is_empty() || line.port == 0 || line.has_flag("noaddr") {
                skipped.push(skip(SkipReason::NoAddress, None));
                continue;
            }
            match result {
                Err(MemberError::Connect(e)) => {
                    let reason = match e {
                        ConnectError::Unreachable { .. } => SkipReason::Unreachable,
                        ConnectError::Auth { .. } => SkipReason::Error,
                    };
                    skipped.push(skip(reason, Some(e.to_string())));
                }
                Err(MemberError::Reply(e)) => {
                    skipped.push(skip(
                        SkipReason::Error,
                        Some(format!(
                            "Unable to load info for node {}:{}: {e}",
                            line.ip, line.port
                        )),
                    ));
                }
                Ok((conn, answers)) => {
                    // The entry's opinion wins over a node that still answers (redis-cli rule).
                    if line.is_failed() {
                        skipped.push(skip(SkipReason::Failed, None));
                        continue;
                    }
                    if !line.connected || line.has_flag("handshake") {
                        skipped.push(skip(SkipReason::Unreachable, None));
                        continue;
                    }
                    let Some(own) = answers.table.iter().find(|l| l.is_myself()).cloned() else {
                        skipped.push(skip(
                            SkipReason::Error,
                            Some("CLUSTER NODES has no myself line".into()),
                        ));
                        continue;
                    };
                    nodes.push(own_node(
                        line.addr_without_bus(),
                        &own,
                        line.is_replica(),
                        line.master_id.clone(),
                        answers,
                        conn,
                    ));
                }
            }
        }
        let mut view = ClusterView {
            entry: entry.clone(),
            nodes,
            skipped,
            warnings: Vec::new(),
            replicas_not_loaded,
        };
        view.warnings = view.unknown_master_warnings();
        Ok(view)
    }

    pub fn masters(&self) -> impl Iterator<Item = &ClusterNode> {
        self.nodes.iter().filter(|n| n.is_master())
    }

    pub fn replicas(&self) -> impl Iterator<Item = &ClusterNode> {
        self.nodes.iter().filter(|n| n.replica)
    }

    /// Replicas in the view whose master is `master_id`.
    pub fn replicas_of<'a>(&'a self, master_id: &'a str) -> impl Iterator<Item = &'a ClusterNode> {
        self.nodes
            .iter()
            .filter(move |n| n.replica && n.master_id.as_deref() == Some(master_id))
    }

    /// How many replicas `master_id` has: loaded ones, and those only the entry node listed.
    pub fn replica_count(&self, master_id: &str) -> usize {
        let listed = self
            .replicas_not_loaded
            .iter()
            .filter(|l| l.master_id.as_deref() == Some(master_id))
            .count();
        self.replicas_of(master_id).count() + listed
    }

    /// The node with exactly this id (case-insensitive, as redis-cli compares).
    pub fn by_id(&self, id: &str) -> Option<&ClusterNode> {
        self.nodes.iter().find(|n| n.id.eq_ignore_ascii_case(id))
    }

    /// The one node whose id starts with `prefix` (a full id always matches itself).
    pub fn find_prefix(&self, prefix: &str) -> Result<&ClusterNode, LookupError> {
        if let Some(n) = self.by_id(prefix) {
            return Ok(n);
        }
        let lower = prefix.to_ascii_lowercase();
        let hits: Vec<&ClusterNode> = if prefix.is_empty() {
            Vec::new()
        } else {
            self.nodes
                .iter()
                .filter(|n| n.id.to_ascii_lowercase().starts_with(&lower))
                .collect()
        };
        match hits.as_slice() {
            [] => Err(LookupError::NotFound(prefix.to_string())),
            [one] => Ok(one),
            many => Err(LookupError::Ambiguous {
                prefix: prefix.to_string(),
                matches: many
                    .iter()
                    .map(|n| format!("{} ({})", n.id, n.addr))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// The node at this address (host and port as in the view).
    pub fn by_addr(&self, addr: &NodeAddr) -> Option<&ClusterNode> {
        self.nodes
            .iter()
            .find(|n| n.addr.host == addr.host && n.addr.port == addr.port)
    }

    /// Union of every node's own slots.
    pub fn covered(&self) -> SlotSet {
        let mut all = SlotSet::new();
        for n in &self.nodes {
            all.union_with(&n.slots);
        }
        all
    }

    /// Slot -> masters claiming it in their own view (only slots with at least one claim).
    pub fn claims(&self) -> BTreeMap<Slot, Vec<&ClusterNode>> {
        let mut map: BTreeMap<Slot, Vec<&ClusterNode>> = BTreeMap::new();
        for n in self.masters() {
            for s in n.slots.iter() {
                map.entry(s).or_default().push(n);
            }
        }
        map
    }

    /// The owner of `slot` per the nodes' own views (first claimant in list order).
    pub fn owner_of(&self, slot: Slot) -> Option<&ClusterNode> {
        self.masters().find(|n| n.slots.contains(slot))
    }

    /// Masters the entry node knows that are not in the view (unreachable, failed, no address).
    pub fn unreachable_masters(&self) -> usize {
        self.skipped.iter().filter(|s| s.was_master).count()
    }

    /// The slots the entry node says `id` owns (for a member that is not in the view).
    pub fn listed_slots(&self, id: &str) -> SlotSet {
        self.nodes
            .first()
            .and_then(|e| e.table.iter().find(|l| l.id.eq_ignore_ascii_case(id)))
            .map(|l| l.slots.clone())
            .unwrap_or_default()
    }

    /// redis-cli's per-node configuration signature (§1.10): `id:slot,slot|id:...`, sorted.
    pub fn signature_of(node: &ClusterNode) -> String {
        signature(&node.table)
    }

    /// True when every loaded node has the same signature.
    pub fn agrees(&self) -> bool {
        self.disagreeing().is_empty()
    }

    /// Nodes whose slot map differs from the most common one (empty when all agree).
    /// Compares bitmaps, not signature strings: rendering 16384-slot ranges for every line of
    /// every node's table is what made a 30-node check slow.
    pub fn disagreeing(&self) -> Vec<&ClusterNode> {
        let maps: Vec<Vec<(&str, &SlotSet)>> =
            self.nodes.iter().map(|n| slot_map(&n.table)).collect();
        // Each node joins the first group with an equal map: one comparison per node when all
        // agree, instead of every pair (30 nodes x 30 tables x 2 KiB bitmaps was milliseconds).
        let mut groups: Vec<(usize, usize)> = Vec::new(); // (representative index, size)
        let mut group_of = Vec::with_capacity(maps.len());
        for (i, m) in maps.iter().enumerate() {
            match groups.iter().position(|(rep, _)| maps[*rep] == *m) {
                Some(g) => {
                    groups[g].1 += 1;
                    group_of.push(g);
                }
                None => {
                    groups.push((i, 1));
                    group_of.push(groups.len() - 1);
                }
            }
        }
        let counts: Vec<usize> = group_of.iter().map(|&g| groups[g].1).collect();
        if counts.iter().all(|&c| c == maps.len()) {
            return Vec::new();
        }
        // The majority opinion is "right"; ties go to the entry node's opinion.
        let best = counts.iter().copied().max().unwrap_or(0);
        let majority = if counts.first() == Some(&best) {
            0
        } else {
            counts.iter().position(|&c| c == best).unwrap_or(0)
        };
        self.nodes
            .iter()
            .zip(&group_of)
            .filter(|(_, g)| **g != group_of[majority])
            .map(|(n, _)| n)
            .collect()
    }

    fn unknown_master_warnings(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter_map(|n| {
                let m = n.master_id.as_deref()?;
                self.by_id(m)
                    .is_none()
                    .then(|| format!("{} claims to be slave of unknown node ID {m}.", n.addr))
            })
            .collect()
    }
}

/// One table's opinion of who owns what: (id, slots) for every node with slots, sorted by id.
/// Equal for two tables exactly when their redis-cli signatures are equal.
pub fn slot_map(table: &[NodeLine]) -> Vec<(&str, &SlotSet)> {
    let mut m: Vec<(&str, &SlotSet)> = table
        .iter()
        .filter(|l| !l.slots.is_empty())
        .map(|l| (l.id.as_str(), &l.slots))
        .collect();
    m.sort_by(|a, b| a.0.cmp(b.0));
    m
}

/// The `slots` signature of one CLUSTER NODES table, redis-cli's byte-comparable form.
pub fn signature(table: &[NodeLine]) -> String {
    let mut parts: Vec<String> = table
        .iter()
        .filter(|l| !l.slots.is_empty())
        .map(|l| {
            let mut toks: Vec<String> = l.slots.ranges().iter().map(|r| r.to_string()).collect();
            toks.sort();
            format!("{}:{}", l.id, toks.join(","))
        })
        .collect();
    parts.sort();
    parts.join("|")
}

enum MemberError {
    Connect(ConnectError),
    Reply(ReplyError),
}

/// What one node told when the view was loaded.
struct Answers {
    table: Vec<NodeLine>,
    dbsize: Result<u64, String>,
    /// Only when probed, and only from a master.
    strays: Option<Result<SlotCounts, ReplyError>>,
}

async fn load_member(
    line: &NodeLine,
    opts: &ConnectOptions,
    scope: Scope,
    slot_sets: &SlotSetCache,
) -> Result<(NodeConn, Answers), MemberError> {
    let probe_strays = scope == Scope::EveryoneProbing;
    if line.ip.is_empty() || line.port == 0 {
        return Err(MemberError::Reply(ReplyError::Server("no address".into())));
    }
    // One round trip for all, written with the connect: the connection is multiplexed.
    let asked = first_requests(probe_strays && line.is_master());
    let then = scope.after_first(false);
    let (conn, answers) = NodeConn::connect_sending(&line.addr_without_bus(), opts, &asked, then)
        .await
        .map_err(MemberError::Connect)?;
    let (table, size, page) = first_answers(answers.into_iter(), slot_sets).await;
    let table = table.map_err(MemberError::Reply)?;
    let strays = match table.iter().find(|l| l.is_myself()) {
        Some(own) => probe(&conn, own, &size, probe_strays, page).await,
        None => None,
    };
    Ok((
        conn,
        Answers {
            table,
            dbsize: size,
            strays,
        },
    ))
}

/// What every node is asked in the first write: CLUSTER NODES, DBSIZE, and when `scan` (a
/// master whose stray keys are counted), the first page of the stray-key search.
fn first_requests(scan: bool) -> Vec<FirstRequest> {
    let mut asked = vec![
        FirstRequest {
            cmd: redis::cmd("CLUSTER").arg("NODES").clone(),
            raw: false,
        },
        FirstRequest {
            cmd: redis::cmd("DBSIZE"),
            raw: false,
        },
    ];
    if scan {
        asked.push(FirstRequest {
            cmd: strays::first_page_cmd(),
            raw: true,
        });
    }
    asked
}

/// The answers to `first_requests`: the parsed table, DBSIZE (or its error text) and the first
/// SCAN page when it was asked.
async fn first_answers(
    mut answers: impl Iterator<Item = Answer>,
    slot_sets: &SlotSetCache,
) -> (
    Result<Vec<NodeLine>, ReplyError>,
    Result<u64, String>,
    Option<Result<Vec<u8>, ReplyError>>,
) {
    let table = async {
        let text = as_reply::<String>(answer_value(next_answer(&mut answers)?).await?)?;
        parse_table(&text, slot_sets)
    };
    let table = table.await;
    let size = match next_answer(&mut answers) {
        Ok(a) => answer_value(a).await.and_then(as_reply::<i64>),
        Err(e) => Err(e),
    };
    let size = size.map(|v| v.max(0) as u64).map_err(|e| e.to_string());
    let page = match answers.next() {
        Some(a) => Some(answer_raw(a).await),
        None => None,
    };
    (table, size, page)
}

fn next_answer(answers: &mut impl Iterator<Item = Answer>) -> Result<Answer, ReplyError> {
    answers
        .next()
        .ok_or_else(|| ReplyError::Transport("a reply is missing".into()))
}

/// The stray-key count of a master, when `wanted`; `page` is the first SCAN page when it was
/// asked with CLUSTER NODES.
async fn probe(
    conn: &NodeConn,
    own: &NodeLine,
    size: &Result<u64, String>,
    wanted: bool,
    page: Option<Result<Vec<u8>, ReplyError>>,
) -> Option<Result<SlotCounts, ReplyError>> {
    if !wanted || !own.is_master() {
        return None;
    }
    Some(strays::count_on(conn, own, size.as_ref().ok().copied(), page).await)
}

/// CLUSTER NODES of one node, parsed; slot sets shared through `cache` with the other tables
/// of the same cluster.
pub async fn fetch_table(
    conn: &NodeConn,
    cache: &SlotSetCache,
) -> Result<Vec<NodeLine>, ReplyError> {
    let text = conn.request_string(["CLUSTER", "NODES"]).await?;
    parse_table(&text, cache)
}

fn parse_table(text: &str, cache: &SlotSetCache) -> Result<Vec<NodeLine>, ReplyError> {
    parse_nodes_sharing(text, cache)
        .map_err(|e| ReplyError::Server(format!("Error: invalid CLUSTER NODES reply ({e})")))
}

/// `cluster_enabled:1` in an INFO reply; a missing field counts as not enabled.
pub fn cluster_enabled(info: &str) -> bool {
    info.lines()
        .find_map(|l| l.trim().strip_prefix("cluster_enabled:"))
        .is_some_and(|v| v.trim() != "0")
}

fn own_node(
    addr: NodeAddr,
    own: &NodeLine,
    seed_says_replica: bool,
    seed_master: Option<String>,
    answers: Answers,
    conn: NodeConn,
) -> ClusterNode {
    ClusterNode {
        addr,
        id: own.id.clone(),
        flags: own
            .flags
            .iter()
            .filter(|f| *f != "myself")
            .cloned()
            .collect(),
        replica: own.is_replica() || seed_says_replica,
        master_id: own.master_id.clone().or(seed_master),
        config_epoch: own.config_epoch,
        slots: own.slots.clone(),
        migrating: own.migrating.clone(),
        importing: own.importing.clone(),
        table: answers.table,
        dbsize: answers.dbsize,
        strays: answers.strays,
        conn,
    }
}

/// Kept typed, so that an unreachable entry node is reported where redis-cli reports it.
fn connect_failure(e: ConnectError) -> anyhow::Error {
    anyhow::Error::new(e)
}

trait AddrWithoutBus {
    fn addr_without_bus(&self) -> NodeAddr;
}

impl AddrWithoutBus for NodeLine {
    fn addr_without_bus(&self) -> NodeAddr {
        NodeAddr::new(self.ip.clone(), self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::nodes::parse_nodes;

    #[test]
    fn signature_ignores_open_slot_markers_and_slotless_nodes() {
        let a = parse_nodes(
            "aaaa 127.0.0.1:1@2 myself,master - 0 0 1 connected 0-5 9 [3->-bbbb]\n\
             bbbb 127.0.0.1:3@4 master - 0 0 2 connected 6-8\n\
             cccc 127.0.0.1:5@6 slave aaaa 0 0 1 connected\n",
        )
        .unwrap();
        assert_eq!(signature(&a), "aaaa:0-5,9|bbbb:6-8");
        let b = parse_nodes(
            "bbbb 127.0.0.1:3@4 myself,master - 0 0 2 connected 6-8 [3-<-aaaa]\n\
             aaaa 127.0.0.1:1@2 master - 0 0 1 connected 0-5 9\n",
        )
        .unwrap();
        assert_eq!(signature(&a), signature(&b));
    }

    #[test]
    fn cluster_enabled_reads_info() {
        assert!(cluster_enabled("# Cluster\r\ncluster_enabled:1\r\n"));
        assert!(!cluster_enabled("# Cluster\r\ncluster_enabled:0\r\n"));
        assert!(!cluster_enabled("# Server\r\n"));
    }
}
