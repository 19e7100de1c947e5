//! Failover as it happens in production: a master SIGKILLed or hung (SIGSTOP) and its replica
//! elected in its place, the old master rejoining as a replica, manual CLUSTER FAILOVER (default
//! and FORCE), and mixed clusters where trib-node and redis-server nodes elect and vote for each
//! other. Every bounded wait prints what the nodes saw when it runs out.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::harness::{backends_with_cluster, require_redis, trib, Backend, Cluster, Node};

/// Short, so that failures are detected in seconds (the default harness timeout is 5000 ms).
const NODE_TIMEOUT_MS: u64 = 2000;

/// One CLUSTER NODES line, reduced to what failover changes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    id: String,
    port: u16,
    flags: Vec<String>,
    master: String,
    slots: String,
}

impl Line {
    fn is_master(&self) -> bool {
        self.flags.iter().any(|f| f == "master")
    }
    fn failing(&self) -> bool {
        self.flags.iter().any(|f| f == "fail" || f == "fail?")
    }
}

/// A node's view, by id; `None` when the node does not answer.
fn view(n: &Node) -> Option<BTreeMap<String, Line>> {
    let v = n.cmd(&["CLUSTER", "NODES"]).ok()?;
    let text: String = redis::from_redis_value(&v).ok()?;
    let mut out = BTreeMap::new();
    for l in text.lines() {
        let f: Vec<&str> = l.split(' ').collect();
        if f.len() < 8 || f[2].contains("handshake") {
            continue;
        }
        let port = f[1]
            .split('@')
            .next()
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let flags = f[2]
            .split(',')
            .filter(|w| *w != "myself")
            .map(str::to_string)
            .collect();
        let slots: Vec<&str> = f[8..]
            .iter()
            .filter(|s| !s.starts_with('['))
            .copied()
            .collect();
        out.insert(
            f[0].to_string(),
            Line {
                id: f[0].to_string(),
                port,
                flags,
                master: f[3].to_string(),
                slots: slots.join(","),
            },
        );
    }
    Some(out)
}

fn state_ok(n: &Node) -> bool {
    n.cmd(&["CLUSTER", "INFO"])
        .ok()
        .and_then(|v| redis::from_redis_value::<String>(&v).ok())
        .is_some_and(|s| s.contains("cluster_state:ok"))
}

fn dump(nodes: &[&Node]) -> String {
    nodes
        .iter()
        .map(|n| {
            let text = n
                .cmd(&["CLUSTER", "NODES"])
                .ok()
                .and_then(|v| redis::from_redis_value::<String>(&v).ok())
                .unwrap_or_else(|| "(no answer)".into());
            format!("{} ({}):\n{text}", n.addr(), n.backend.name())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Polls `f` every 100 ms for at most `limit`; returns the time it took, panics with every
/// node's view when it runs out.
fn wait_for(what: &str, limit: Duration, nodes: &[&Node], mut f: impl FnMut() -> bool) -> Duration {
    let t0 = Instant::now();
    loop {
        if f() {
            return t0.elapsed();
        }
        if t0.elapsed() > limit {
            panic!("{what}: not within {limit:?}\n{}", dump(nodes));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every node in `nodes` answers, reports cluster_state:ok, and shows the same roles, masters
/// and slots for every node (failure flags may differ while they spread).
fn agree(nodes: &[&Node]) -> Option<BTreeMap<String, Line>> {
    let mut first: Option<BTreeMap<String, Line>> = None;
    for n in nodes {
        if !state_ok(n) {
            return None;
        }
        let mut v = view(n)?;
        for l in v.values_mut() {
            l.flags.retain(|f| f == "master" || f == "slave");
        }
        match &first {
            None => first = Some(v),
            Some(f) if *f != v => return None,
            _ => {}
        }
    }
    first
}

fn start_nodes(kinds: &[Backend], extra: &[(&str, &str)]) -> Cluster {
    let root = tempfile::Builder::new()
        .prefix("trib-it-failover-")
        .tempdir()
        .unwrap();
    let nodes = kinds
        .iter()
        .map(|b| Node::start(*b, true, extra, root.path()))
        .collect();
    Cluster {
        backend: kinds[0],
        nodes,
        root,
    }
}

fn timeout_setting() -> String {
    NODE_TIMEOUT_MS.to_string()
}

/// 3 masters + 3 replicas of one backend, created with `trib create --replicas 1`.
fn six_node_cluster(backend: Backend) -> Cluster {
    let t = timeout_setting();
    // A real replica that never completed a sync may not be elected: sync at once.
    let extra = [
        ("cluster-node-timeout", t.as_str()),
        ("repl-diskless-sync-delay", "0"),
    ];
    let cluster = start_nodes(&[backend; 6], &extra);
    let addrs = cluster.addrs();
    let mut args = vec!["create"];
    args.extend(addrs.iter().map(String::as_str));
    args.extend(["--replicas", "1", "--yes"]);
    let run = trib(&args, None);
    assert_eq!(run.code, 0, "{run:?}");
    let all: Vec<&Node> = cluster.nodes.iter().collect();
    wait_for(
        "the new cluster to agree",
        Duration::from_secs(30),
        &all,
        || agree(&all).is_some(),
    );
    if backend == Backend::Redis {
        wait_for(
            "the replicas to sync",
            Duration::from_secs(30),
            &all,
            || {
                all.iter().all(|n| {
                    let info = n.cmd_string(&["INFO", "replication"]);
                    info.contains("role:master") || info.contains("master_link_status:up")
                })
            },
        );
    }
    cluster
}

/// (index of a master, index of its replica) in `cluster.nodes`, read from a node's view.
fn master_and_replica(cluster: &Cluster, nth: usize) -> (usize, usize) {
    let v = view(&cluster.nodes[0]).unwrap();
    let index = |id: &str| {
        let port = v[id].port;
        cluster.nodes.iter().position(|n| n.port == port).unwrap()
    };
    let mut masters: Vec<&Line> = v.values().filter(|l| l.is_master()).collect();
    masters.sort_by_key(|l| l.port);
    let m = masters[nth];
    let r = v
        .values()
        .find(|l| l.master == m.id)
        .unwrap_or_else(|| panic!("{} has no replica:\n{v:?}", m.id));
    (index(&m.id), index(&r.id))
}

fn others<'a>(cluster: &'a Cluster, except: &[usize]) -> Vec<&'a Node> {
    cluster
        .nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| !except.contains(i))
        .map(|(_, n)| n)
        .collect()
}

/// Waits until the survivors agree that `replica` is a master holding `slots`, and returns
/// the time that took.
fn wait_promoted(survivors: &[&Node], replica: &str, slots: &str, limit: Duration) -> Duration {
    wait_for(
        &format!("{replica} to be master of {slots} everywhere"),
        limit,
        survivors,
        || {
            agree(survivors).is_some_and(|v| {
                v.get(replica)
                    .is_some_and(|l| l.is_master() && l.slots == slots)
            })
        },
    )
}

/// Waits until everyone (old master included) agrees the old master replicates `new_master`.
fn wait_rejoined(all: &[&Node], old: &str, new_master: &str) {
    wait_for(
        &format!("{old} to rejoin as a replica of {new_master}"),
        Duration::from_secs(30),
        all,
        || {
            agree(all).is_some_and(|v| {
                v.get(old)
                    .is_some_and(|l| !l.is_master() && l.master == new_master)
            })
        },
    );
    // and nobody still flags anyone as failing
    wait_for(
        "failure flags to clear",
        Duration::from_secs(30),
        all,
        || {
            all.iter()
                .all(|n| view(n).is_some_and(|v| v.values().all(|l| !l.failing())))
        },
    );
}

/// While a dead master is still listed, trib check covers every slot with the survivors, agrees,
/// and still exits 1 naming the dead node (an operator must see it; redis-cli skips it).
fn trib_check_with_dead_node(n: &Node, dead: &Node) {
    let run = trib(&["check", &n.addr()], None);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("[OK] All nodes agree about slots configuration."),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("[OK] All 16384 slots covered."),
        "{run:?}"
    );
    assert!(
        run.stderr.contains(&format!("node {} (", dead.addr())),
        "{run:?}"
    );
}

fn trib_check_ok(n: &Node) {
    let run = trib(&["check", &n.addr()], None);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("[OK] All 16384 slots covered."),
        "{run:?}"
    );
}

/// Writes `n` keys of `slots` (an `a-b[,c]` list) on `master` and waits (bounded) until WAIT
/// says its replica acknowledged them all; returns the keys and values written.
fn write_acknowledged(master: &Node, slots: &str, n: usize) -> Vec<(String, String)> {
    let ranges: Vec<(u16, u16)> = slots
        .split([',', ' '])
        .filter_map(|r| {
            let (a, b) = r.split_once('-').unwrap_or((r, r));
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .collect();
    let owned = |k: &str| {
        let s = trib::slot::key_slot(k.as_bytes()).get();
        ranges.iter().any(|&(a, b)| a <= s && s <= b)
    };
    let pairs: Vec<(String, String)> = (0..n * 20)
        .map(|i| format!("ha:{i}"))
        .filter(|k| owned(k))
        .take(n)
        .map(|k| {
            let v = format!("v-{k}");
            (k, v)
        })
        .collect();
    assert_eq!(pairs.len(), n, "not enough keys hash to {slots}");
    for (k, v) in &pairs {
        master.cmd_string(&["SET", k, v]);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let acked: i64 =
            redis::from_redis_value(&master.cmd(&["WAIT", "1", "2000"]).unwrap()).unwrap();
        if acked == 1 {
            return pairs;
        }
        assert!(
            Instant::now() < deadline,
            "WAIT 1 never confirmed the writes (last answer {acked})"
        );
    }
}

/// Every acknowledged write reads back from `node` with its value.
fn assert_acknowledged_present(node: &Node, pairs: &[(String, String)], what: &str) {
    let lost: Vec<&String> = pairs
        .iter()
        .filter(|(k, v)| {
            let got: Option<String> =
                redis::from_redis_value(&node.cmd(&["GET", k]).unwrap()).unwrap();
            got.as_ref() != Some(v)
        })
        .map(|(k, _)| k)
        .collect();
    assert!(
        lost.is_empty(),
        "{what}: {} of {} acknowledged writes lost: {lost:?}",
        lost.len(),
        pairs.len()
    );
}

/// The failover deadline of the issue: node timeout × 2 + 3 s.
fn failover_limit() -> Duration {
    Duration::from_millis(NODE_TIMEOUT_MS * 2 + 3000)
}

fn signal(n: &Node, sig: i32) {
    let pid = n.pid().expect("a running node") as i32;
    // SAFETY: kill(2) on the PID of a child this test started.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig})");
}

#[test]
fn killed_master_is_replaced_by_its_replica_and_rejoins_as_replica() {
    for backend in backends_with_cluster() {
        let mut cluster = six_node_cluster(backend);
        let (m, r) = master_and_replica(&cluster, 0);
        let (old_id, new_id) = (cluster.nodes[m].myid(), cluster.nodes[r].myid());
        let slots = view(&cluster.nodes[m]).unwrap()[&old_id].slots.clone();
        let written = write_acknowledged(&cluster.nodes[m], &slots, 200);
        cluster.nodes[m].kill();
        let survivors = others(&cluster, &[m]);
        let took = wait_promoted(&survivors, &new_id, &slots, Duration::from_secs(30));
        eprintln!(
            "{}: SIGKILL failover took {took:?} (node timeout {NODE_TIMEOUT_MS} ms)",
            backend.name()
        );
        assert!(took <= failover_limit(), "{took:?}");
        assert_acknowledged_present(&cluster.nodes[r], &written, backend.name());
        trib_check_with_dead_node(survivors[0], &cluster.nodes[m]);

        cluster.nodes[m].restart(true);
        let all: Vec<&Node> = cluster.nodes.iter().collect();
        wait_rejoined(&all, &old_id, &new_id);
        trib_check_ok(&cluster.nodes[m]);
    }
}

#[test]
fn hung_master_is_replaced_and_demotes_itself_when_it_wakes_up() {
    for backend in backends_with_cluster() {
        let cluster = six_node_cluster(backend);
        let (m, r) = master_and_replica(&cluster, 1);
        let (old_id, new_id) = (cluster.nodes[m].myid(), cluster.nodes[r].myid());
        let slots = view(&cluster.nodes[m]).unwrap()[&old_id].slots.clone();
        let written = write_acknowledged(&cluster.nodes[m], &slots, 200);
        signal(&cluster.nodes[m], libc::SIGSTOP);
        let survivors = others(&cluster, &[m]);
        let took = wait_promoted(&survivors, &new_id, &slots, Duration::from_secs(30));
        eprintln!("{}: SIGSTOP failover took {took:?}", backend.name());
        assert!(took <= failover_limit(), "{took:?}");
        assert_acknowledged_present(&cluster.nodes[r], &written, backend.name());
        signal(&cluster.nodes[m], libc::SIGCONT);
        let all: Vec<&Node> = cluster.nodes.iter().collect();
        wait_rejoined(&all, &old_id, &new_id);
        trib_check_ok(&cluster.nodes[r]);
    }
}

#[test]
fn manual_failover_default_force_and_takeover_swap_master_and_replica() {
    for backend in backends_with_cluster() {
        let cluster = six_node_cluster(backend);
        let all: Vec<&Node> = cluster.nodes.iter().collect();
        for (nth, mode) in [(0, None), (2, Some("FORCE")), (1, Some("TAKEOVER"))] {
            let (m, r) = master_and_replica(&cluster, nth);
            let (old_id, new_id) = (cluster.nodes[m].myid(), cluster.nodes[r].myid());
            let slots = view(&cluster.nodes[m]).unwrap()[&old_id].slots.clone();
            let mut args = vec!["CLUSTER", "FAILOVER"];
            args.extend(mode);
            assert_eq!(cluster.nodes[r].cmd_string(&args), "OK");
            wait_promoted(&all, &new_id, &slots, Duration::from_secs(30));
            wait_rejoined(&all, &old_id, &new_id);
        }
        // A master refuses, with Redis's words.
        let (m, _) = master_and_replica(&cluster, 0);
        let err = cluster.nodes[m].cmd(&["CLUSTER", "FAILOVER"]).unwrap_err();
        assert!(
            err.to_string()
                .contains("You should send CLUSTER FAILOVER to a replica"),
            "{err}"
        );
        trib_check_ok(&cluster.nodes[0]);
    }
}

/// Masters: trib-node (0), redis-server (1), trib-node (2). Replicas: redis-server (3) of 0,
/// trib-node (4) of 1, trib-node (5) of 2. Data replication across kinds is not asserted:
/// roles and slots are.
fn mixed_cluster() -> Cluster {
    use Backend::{Redis, TribNode};
    let t = timeout_setting();
    // A real replica whose master is a trib-node may never have synced: its data age must not
    // stop it from being elected.
    let extra = [
        ("cluster-node-timeout", t.as_str()),
        ("cluster-replica-validity-factor", "0"),
    ];
    let cluster = start_nodes(
        &[TribNode, Redis, TribNode, Redis, TribNode, TribNode],
        &extra,
    );
    let a = cluster.addrs();
    let run = trib(&["create", &a[0], &a[1], &a[2], "--yes"], None);
    assert_eq!(run.code, 0, "{run:?}");
    for (replica, master) in [(3, 0), (4, 1), (5, 2)] {
        let id = cluster.nodes[master].myid();
        let run = trib(
            &[
                "add-node",
                &a[replica],
                &a[0],
                "--replica",
                "--master-id",
                &id,
            ],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
    }
    let all: Vec<&Node> = cluster.nodes.iter().collect();
    wait_for(
        "the mixed cluster to agree",
        Duration::from_secs(30),
        &all,
        || agree(&all).is_some_and(|v| v.values().filter(|l| !l.is_master()).count() == 3),
    );
    cluster
}

#[test]
fn mixed_cluster_survives_a_trib_node_master_and_a_redis_master_dying() {
    if !require_redis() {
        return;
    }
    let mut cluster = mixed_cluster();
    // 1. The trib-node master dies; its redis-server replica is elected by both kinds.
    for (dead, heir) in [(0, 3), (1, 4)] {
        let old_id = cluster.nodes[dead].myid();
        let new_id = cluster.nodes[heir].myid();
        let slots = view(&cluster.nodes[dead]).unwrap()[&old_id].slots.clone();
        cluster.nodes[dead].kill();
        let gone: Vec<usize> = if dead == 0 { vec![0] } else { vec![0, 1] };
        let survivors = others(&cluster, &gone);
        let took = wait_promoted(&survivors, &new_id, &slots, Duration::from_secs(30));
        // Both kinds took the other kind's failure reports / FAIL broadcast.
        wait_for(
            "everyone to flag the dead master fail",
            Duration::from_secs(30),
            &survivors,
            || {
                survivors
                    .iter()
                    .all(|n| view(n).is_some_and(|v| v[&old_id].flags.iter().any(|f| f == "fail")))
            },
        );
        eprintln!(
            "mixed: {} master died, {} replica elected in {took:?}",
            cluster.nodes[dead].backend.name(),
            cluster.nodes[heir].backend.name()
        );
        trib_check_with_dead_node(survivors[0], &cluster.nodes[dead]);
    }
    // 2. Both old masters come back and follow their successors, each of the other kind.
    cluster.nodes[0].restart(true);
    cluster.nodes[1].restart(true);
    let all: Vec<&Node> = cluster.nodes.iter().collect();
    let ids: Vec<String> = all.iter().map(|n| n.myid()).collect();
    wait_rejoined(&all, &ids[0], &ids[3]);
    wait_rejoined(&all, &ids[1], &ids[4]);
    trib_check_ok(&cluster.nodes[2]);
}

#[test]
fn a_spare_replica_migrates_to_an_orphaned_master() {
    for backend in backends_with_cluster() {
        let mut cluster = six_node_cluster(backend);
        let (rich, _) = master_and_replica(&cluster, 0);
        let (poor, poor_replica) = master_and_replica(&cluster, 1);
        let t = timeout_setting();
        let extra = [
            ("cluster-node-timeout", t.as_str()),
            ("repl-diskless-sync-delay", "0"),
        ];
        cluster
            .nodes
            .push(Node::start(backend, true, &extra, cluster.root.path()));
        let (rich_id, poor_id) = (cluster.nodes[rich].myid(), cluster.nodes[poor].myid());
        let spare = cluster.nodes[6].addr();
        let run = trib(
            &[
                "add-node",
                &spare,
                &cluster.nodes[0].addr(),
                "--replica",
                "--master-id",
                &rich_id,
            ],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
        let all: Vec<&Node> = cluster.nodes.iter().collect();
        wait_for(
            "the spare replica to join",
            Duration::from_secs(30),
            &all,
            || agree(&all).is_some_and(|v| v.values().filter(|l| l.master == rich_id).count() == 2),
        );
        // The poor master loses its only replica: one of the rich master's two moves over.
        cluster.nodes[poor_replica].kill();
        let survivors = others(&cluster, &[poor_replica]);
        wait_for(
            "a replica to migrate to the orphaned master",
            Duration::from_secs(40),
            &survivors,
            || {
                agree(&survivors).is_some_and(|v| {
                    v.values().filter(|l| l.master == rich_id).count() == 1
                        && v.values().filter(|l| l.master == poor_id).count() == 2
                })
            },
        );
    }
}
