//! The differential corpus: redis-cli `--cluster` command lines, each run by the real redis-cli
//! and by trib (the same words, `redis-cli` replaced by `trib`), and the one table of the
//! differences that are on purpose. The runner is in cli_compat.rs.
//!
//! Placeholders: {A} {B} {C} nodes 0-2 (masters), {A_HOST} {A_PORT}; {ID0} {ID1} {ID2} their
//! ids; {F1} {F2} fresh nodes outside the cluster; {E} / {IDE} an empty master already joined;
//! {DEAD} a port nobody listens on; {K} a key owned by node 1; {DIR} an empty directory.

/// What a case runs against. Cases on `Shared` must leave it as they found it; the others get
/// a cluster of their own per tool, built the same way for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// No cluster: argument errors, unreachable nodes.
    None,
    /// One healthy cluster of 3 masters + 3 replicas with keys, shared by every such case.
    Shared,
    /// Three fresh nodes, not yet a cluster.
    Fresh3,
    /// Three masters with keys, and one fresh node {F1}.
    Masters3,
    /// Three masters with keys and an empty master {E} already joined.
    Masters3Empty,
}

/// A part of the result that may differ, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Differs {
    /// The exit code: (redis-cli's, trib's).
    Exit(i32, i32, &'static str),
    /// The text on stdout (the streams used are still compared).
    Stdout(&'static str),
    /// Which streams carry output.
    Streams(&'static str),
}

pub struct Case {
    pub args: &'static str,
    pub stdin: Option<&'static str>,
    pub env: &'static [(&'static str, &'static str)],
    pub setup: Setup,
    pub differs: &'static [Differs],
}

const fn case(args: &'static str, setup: Setup) -> Case {
    Case {
        args,
        stdin: None,
        env: &[],
        setup,
        differs: &[],
    }
}

const fn with_stdin(args: &'static str, stdin: &'static str, setup: Setup) -> Case {
    Case {
        args,
        stdin: Some(stdin),
        env: &[],
        setup,
        differs: &[],
    }
}

impl Case {
    const fn differs(mut self, differs: &'static [Differs]) -> Case {
        self.differs = differs;
        self
    }
    const fn env(mut self, env: &'static [(&'static str, &'static str)]) -> Case {
        self.env = env;
        self
    }
}

use Differs::*;
use Setup::{Fresh3, Masters3, Masters3Empty, Shared};

// Reasons shared by several cases.
const DOTS: Differs = Stdout(
    "redis-cli prints a dot per key batch and per join poll; trib prints one line per slot moved",
);

/// The intended differences, each with its reason: the table the README's drop-in section
/// summarises. Every entry is used by at least one case of the corpus.
pub const HELP_EXIT: Differs = Exit(1, 0, "redis-cli exits 1 after printing help; trib 0");
pub const HELP_TEXT: Differs =
    Stdout("trib's help adds the list of these differences under redis-cli's table");
pub const DECLINED_CREATE: Differs = Exit(
    0,
    1,
    "a declined create changed nothing and did not create: trib exits 1",
);
pub const CALL_ERRORS: Differs = Exit(
    0,
    1,
    "call: trib exits 1 when a node replied with an error (redis-cli always 0)",
);
pub const CALL_ERROR_LINE: Differs =
    Stdout("call: trib's exit 1 comes with an [ERR] line counting the nodes that erred");
pub const FIX_VERDICT: Differs =
    Stdout("fix ends with a verdict line ([OK] The cluster is healthy) when nothing was wrong");
pub const DECLINED_TEXT: Differs =
    Stdout("a declined plan: trib says nothing was changed, after the prompt");
pub const NOT_EMPTY_TEXT: Differs =
    Stdout("a node that is not empty: trib names why (keys in db0, knows other nodes, owns slots)");
pub const TOO_FEW_MASTERS: Differs = Streams(
    "create with fewer than 3 masters is a usage error in trib: one stderr line with the counts",
);
pub const TOO_FEW_MASTERS_TEXT: Differs =
    Stdout("create with fewer than 3 masters: trib's one stderr line, nothing on stdout");
pub const MOVES_TEXT: Differs = DOTS;
pub const VERSION_TEXT: Differs = Stdout("trib prints its own version");
pub const IMPORT_SOURCE_FIRST: Differs = Stdout(
    "import checks the source before the cluster: an unreachable source stops it before the check",
);
pub const NEWER_FLAGS_EXIT: Differs = Exit(
    1,
    0,
    "-4 and -6 are redis-cli 7.4's options; trib accepts them (redis-cli 7.0 refuses them)",
);
pub const NEWER_FLAGS_STREAMS: Differs =
    Streams("redis-cli 7.0's refusal of -4 is on stderr; trib runs the check on stdout");
pub const NEWER_FLAGS_TEXT: Differs = Stdout("trib runs the check redis-cli 7.0 refused to run");
pub const ADD_NODE_WAIT: Differs = Stdout(
    "add-node returns once every node knows the new one (redis-cli returns at once) and says it waits",
);
pub const DEL_NODE_OK: Differs = Stdout("del-node ends with an [OK] line naming the removed node");
pub const SET_TIMEOUT_SAVED: Differs = Stdout(
    "set-timeout: a value set but not saved by CONFIG REWRITE is a [WARNING] and counts as OK \
     (redis-cli counts it as an ERR)",
);

pub const CORPUS: &[Case] = &[
    // --- command lines refused before anything is contacted
    case("--cluster", Setup::None),
    case("--cluster frobnicate {DEAD}", Setup::None),
    case("--cluster create", Setup::None),
    case("--cluster check", Setup::None),
    case("--cluster info", Setup::None),
    case("--cluster add-node {A}", Shared),
    case("--cluster del-node {A}", Shared),
    case("--cluster set-timeout {A}", Shared),
    case("--cluster call {A}", Shared),
    case("--cluster backup {A}", Shared),
    case("--cluster backup {DEAD} {DIR}", Setup::None),
    case("--cluster import", Setup::None),
    case("--cluster import {A}", Shared),
    case("--cluster import {A} --cluster-from nohostport", Shared),
    case("--cluster import {A} --cluster-from {DEAD}", Shared).differs(&[IMPORT_SOURCE_FIRST]),
    case("--cluster check {A} --cluster-bogus", Shared),
    case("--cluster check {A} --cluster info {A}", Shared),
    case("--cluster call {A} CONFIG SET x -1", Shared),
    case("--cluster call {A} --cluster-only-masters PING", Shared),
    case("--cluster reshard {A} --cluster-slots", Shared),
    case(
        "--cluster rebalance {A} --cluster-weight {ID0}=1 --cluster-weight {ID1}=2",
        Shared,
    ),
    case("--cluster help", Setup::None).differs(&[HELP_EXIT, HELP_TEXT]),
    case("--cluster help extra-arg", Setup::None).differs(&[HELP_EXIT, HELP_TEXT]),
    case("--version", Setup::None).differs(&[VERSION_TEXT]),
    // --- bad addresses and unreachable nodes
    case("--cluster check 127.0.0.1", Setup::None),
    case("--cluster check 127.0.0.1:abc", Setup::None),
    case("--cluster info nohostport", Setup::None),
    case("--cluster create localhost31007 {F1}", Shared),
    case("--cluster check {DEAD}", Setup::None),
    case("--cluster info {DEAD}", Setup::None),
    case("--cluster fix {DEAD}", Setup::None),
    case("--cluster add-node {DEAD} {A}", Shared),
    case("--cluster set-timeout {A} 50", Shared),
    // --- read-only on a healthy cluster, options in every position
    case("--cluster check {A}", Shared),
    case("--cluster check {A_HOST} {A_PORT}", Shared),
    case("--cluster check {A_HOST} {A_PORT} ignored-extra", Shared),
    case("--cluster-yes --cluster check {A}", Shared),
    case("--cluster check {A} --cluster-yes", Shared),
    case("--cluster check {A} --cluster-search-multiple-owners", Shared),
    case("-h 127.0.0.1 -p {A_PORT} --cluster check {A}", Shared),
    case("-c --cluster check {A}", Shared),
    case("--cluster check {A} -4", Shared).differs(&[
        NEWER_FLAGS_EXIT,
        NEWER_FLAGS_STREAMS,
        NEWER_FLAGS_TEXT,
    ]),
    case("--cluster info {A}", Shared),
    case("--cluster info {A_HOST} {A_PORT}", Shared),
    case("--cluster info {A} --cluster-search-multiple-owners", Shared),
    case("--no-auth-warning --cluster info {A}", Shared),
    case("--cluster info {A} --cluster-replicas 2 --cluster-slots 7", Shared),
    case("--cluster call {A} PING", Shared),
    case("--cluster call {A} DBSIZE --cluster-only-masters", Shared),
    case("--cluster-only-replicas --cluster call {A} ROLE", Shared),
    case("--cluster call {A} GET {K}", Shared).differs(&[CALL_ERRORS, CALL_ERROR_LINE]),
    case("--cluster fix {A}", Shared).differs(&[FIX_VERDICT]),
    case("--cluster rebalance {A}", Shared),
    case("--cluster rebalance {A} --cluster-simulate", Shared),
    // --- refused operations on a live cluster (nothing changes)
    case(
        "--cluster reshard {A} --cluster-from {ID1} --cluster-to nosuchnode --cluster-slots 10 --cluster-yes",
        Shared,
    ),
    case(
        "--cluster reshard {A} --cluster-from {ID0} --cluster-to {ID0} --cluster-slots 10 --cluster-yes",
        Shared,
    ),
    with_stdin(
        "--cluster reshard {A} --cluster-from {ID1} --cluster-to {ID0} --cluster-slots 10",
        "no\n",
        Shared,
    )
    .differs(&[DECLINED_TEXT]),
    case("--cluster rebalance {A} --cluster-weight nosuchnode=2", Shared),
    case("--cluster add-node {A} {B}", Shared).differs(&[NOT_EMPTY_TEXT]),
    case("--cluster del-node {A} 0123456789012345678901234567890123456789", Shared),
    case("--cluster del-node {A} {ID0}", Shared),
    case("--cluster create {A} {B} {C} --cluster-yes", Shared).differs(&[NOT_EMPTY_TEXT]),
    case("--cluster create {F1} {F2} --cluster-yes", Shared)
        .differs(&[TOO_FEW_MASTERS, TOO_FEW_MASTERS_TEXT]),
    case("-a wrongpass --cluster check {A}", Shared),
    case("-a wrongpass --no-auth-warning --cluster info {A}", Shared),
    // --- operations, each on a fresh cluster per tool
    case("--cluster create {A} {B} {C} --cluster-yes", Fresh3),
    case("--cluster-yes --cluster create {A} {B} {C}", Fresh3),
    with_stdin("--cluster create {A} {B} {C}", "yes\n", Fresh3),
    with_stdin("--cluster create {A} {B} {C}", "no\n", Fresh3)
        .differs(&[DECLINED_CREATE, DECLINED_TEXT]),
    case("--cluster create {A} {B} {C}", Fresh3).env(&[("REDISCLI_CLUSTER_YES", "1")]),
    case(
        "--cluster reshard {A} --cluster-from {ID1} --cluster-to {ID0} --cluster-slots 20 --cluster-yes",
        Masters3,
    )
    .differs(&[MOVES_TEXT]),
    case(
        "--cluster-yes --cluster-slots 30 --cluster reshard {A} --cluster-from all --cluster-to {ID2}",
        Masters3,
    )
    .differs(&[MOVES_TEXT]),
    with_stdin(
        "--cluster reshard {A} --cluster-from {ID1},{ID2} --cluster-to {ID0} --cluster-slots 10",
        "yes\n",
        Masters3,
    )
    .differs(&[MOVES_TEXT]),
    case(
        "--cluster rebalance {A} --cluster-weight {ID0}=2 --cluster-pipeline 50",
        Masters3,
    )
    .differs(&[MOVES_TEXT]),
    case("--cluster rebalance {A} --cluster-use-empty-masters", Masters3Empty)
        .differs(&[MOVES_TEXT]),
    case("--cluster add-node {F1} {A}", Masters3).differs(&[ADD_NODE_WAIT]),
    case("--cluster add-node {F1} {A} --cluster-slave", Masters3).differs(&[ADD_NODE_WAIT]),
    case(
        "--cluster add-node {F1} {A} --cluster-slave --cluster-master-id {ID1}",
        Masters3,
    )
    .differs(&[ADD_NODE_WAIT]),
    case("--cluster del-node {A} {IDE}", Masters3Empty).differs(&[DEL_NODE_OK]),
    case("--cluster set-timeout {A} 6000", Masters3).differs(&[SET_TIMEOUT_SAVED]),
    case("--cluster call {A} CONFIG SET maxmemory-policy allkeys-lru", Masters3),
];
