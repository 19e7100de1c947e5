//! The differential test of the redis-cli spelling: every command line of the corpus
//! (cli_compat_corpus.rs) is run by the real redis-cli 7.0 and by trib on identically built
//! redis-server clusters, and their exit codes, the streams that carry output and stdout (node
//! ids, addresses and progress dots masked) must be the same, except where the corpus lists a
//! difference on purpose. Also: a create / reshard / rebalance / fix / check sequence in the
//! redis-cli spelling driven by Tcl's `exec`, bash `set -e` and Python's `check=True`.

use std::collections::HashMap;
use std::time::Duration;

use crate::cli_compat_corpus::{Case, Differs, Setup, CORPUS};
use crate::harness::{free_port, require_redis_cli, trib_bin, Backend, Cluster, Run};

/// One tool's run of one case, with what it needs to be masked.
struct Outcome {
    run: Run,
    masked_stdout: String,
}

/// A cluster built for a case, with the words its placeholders stand for.
struct Built {
    cluster: Option<Cluster>,
    words: HashMap<&'static str, String>,
}

const RUN_LIMIT: Duration = Duration::from_secs(60);

#[test]
fn redis_cli_command_lines_behave_the_same_under_trib() {
    if !require_redis_cli() || !crate::harness::require_redis() {
        return;
    }
    assert!(CORPUS.len() >= 60, "the corpus has {} lines", CORPUS.len());
    let dead = free_port().to_string();
    let shared = build(Setup::Shared, &dead);
    let mut failures = Vec::new();
    // TRIB_COMPAT_ONLY=<words> runs only the lines containing them (while debugging one case).
    let only = std::env::var("TRIB_COMPAT_ONLY").ok();
    for case in CORPUS {
        if only.as_deref().is_some_and(|w| !case.args.contains(w)) {
            continue;
        }
        let (redis_cli, trib) = if case.setup == Setup::Shared {
            let a = run_case("redis-cli", case, &shared);
            shared_restore(&shared);
            let t = run_case(trib_bin(), case, &shared);
            shared_restore(&shared);
            (a, t)
        } else {
            // The same recipe twice: one cluster per tool.
            let for_redis_cli = build(case.setup, &dead);
            let a = run_case("redis-cli", case, &for_redis_cli);
            drop(for_redis_cli);
            let for_trib = build(case.setup, &dead);
            let t = run_case(trib_bin(), case, &for_trib);
            (a, t)
        };
        if let Some(problem) = compare(case, &redis_cli, &trib) {
            failures.push(format!(
                "`{}`: {problem}\n--- redis-cli: {:?}\n--- trib: {:?}",
                case.args, redis_cli.run, trib.run
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} command lines differ:\n\n{}",
        failures.len(),
        CORPUS.len(),
        failures.join("\n\n")
    );
}

/// What differs between the two runs that the corpus does not allow, if anything.
fn compare(case: &Case, redis_cli: &Outcome, trib: &Outcome) -> Option<String> {
    let allowed_exit = case.differs.iter().find_map(|d| match d {
        Differs::Exit(r, t, _) => Some((*r, *t)),
        _ => None,
    });
    match allowed_exit {
        Some((r, t)) if (redis_cli.run.code, trib.run.code) != (r, t) => {
            return Some(format!(
                "exit codes {} / {}, the corpus expects {r} / {t}",
                redis_cli.run.code, trib.run.code
            ))
        }
        None if redis_cli.run.code != trib.run.code => {
            return Some(format!(
                "exit codes differ: {} / {}",
                redis_cli.run.code, trib.run.code
            ))
        }
        _ => {}
    }
    let streams = |r: &Run| (!r.stdout.is_empty(), !r.stderr.is_empty());
    if !case
        .differs
        .iter()
        .any(|d| matches!(d, Differs::Streams(_)))
        && streams(&redis_cli.run) != streams(&trib.run)
    {
        return Some(format!(
            "streams differ (stdout, stderr non-empty): {:?} / {:?}",
            streams(&redis_cli.run),
            streams(&trib.run)
        ));
    }
    if !case.differs.iter().any(|d| matches!(d, Differs::Stdout(_)))
        && redis_cli.masked_stdout != trib.masked_stdout
    {
        return Some(format!(
            "stdout differs after masking:\n{}",
            line_diff(&redis_cli.masked_stdout, &trib.masked_stdout)
        ));
    }
    None
}

fn line_diff(a: &str, b: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut out = Vec::new();
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i).copied(), b.get(i).copied());
        if x != y {
            out.push(format!(
                "  line {}: redis-cli {:?}\n  line {}: trib      {:?}",
                i + 1,
                x.unwrap_or("<none>"),
                i + 1,
                y.unwrap_or("<none>")
            ));
        }
        if out.len() >= 6 {
            break;
        }
    }
    out.join("\n")
}

/// Builds a cluster of the case's kind on redis-server and names its parts.
fn build(setup: Setup, dead: &str) -> Built {
    let mut words: HashMap<&'static str, String> = HashMap::new();
    words.insert("{DEAD}", format!("127.0.0.1:{dead}"));
    if setup == Setup::None {
        return Built {
            cluster: None,
            words,
        };
    }
    let (members, replicas, spare) = match setup {
        Setup::Shared => (6, 1, 2),
        Setup::Fresh3 => (3, 0, 0),
        Setup::Masters3 => (3, 0, 1),
        Setup::Masters3Empty => (3, 0, 1),
        Setup::None => unreachable!(),
    };
    let mut cluster = Cluster::start(Backend::Redis, members);
    if setup != Setup::Fresh3 {
        assert!(cluster.create_with_redis_cli(replicas));
        load_keys(&cluster, 300);
    }
    for _ in 0..spare {
        cluster.add_node();
    }
    if setup == Setup::Masters3Empty {
        let joined = crate::harness::run_program(
            "redis-cli",
            &[
                "--cluster",
                "add-node",
                &cluster.nodes[3].addr(),
                &cluster.nodes[0].addr(),
            ],
            None,
            &[],
        );
        assert_eq!(joined.code, 0, "{joined:?}");
        cluster.wait_agree(Duration::from_secs(30));
    }
    for (i, name) in ["{A}", "{B}", "{C}"].iter().enumerate() {
        words.insert(name, cluster.nodes[i].addr());
    }
    words.insert("{A_HOST}", "127.0.0.1".into());
    words.insert("{A_PORT}", cluster.nodes[0].port.to_string());
    if setup != Setup::Fresh3 {
        for (i, name) in ["{ID0}", "{ID1}", "{ID2}"].iter().enumerate() {
            words.insert(name, cluster.nodes[i].myid());
        }
        words.insert("{K}", key_owned_by(&cluster, 1));
    }
    let spares_from = members;
    if setup == Setup::Masters3Empty {
        words.insert("{E}", cluster.nodes[3].addr());
        words.insert("{IDE}", cluster.nodes[3].myid());
    } else {
        for (j, name) in ["{F1}", "{F2}"].iter().enumerate().take(spare) {
            words.insert(name, cluster.nodes[spares_from + j].addr());
        }
    }
    words.insert(
        "{DIR}",
        cluster.root.path().join("backup").display().to_string(),
    );
    Built {
        cluster: Some(cluster),
        words,
    }
}

/// Writes `key:1..=n` through a cluster-aware redis-cli-like loop: each key to its owner.
fn load_keys(cluster: &Cluster, n: usize) {
    crate::cli_support::load_keys(cluster, n);
}

/// A key of the sample whose slot node `i` owns.
fn key_owned_by(cluster: &Cluster, i: usize) -> String {
    let node = &cluster.nodes[i];
    (1..)
        .map(|k| format!("key:{k}"))
        .find(|k| {
            let slot = trib::slot::key_slot(k.as_bytes()).get();
            let keys = node.cmd(&["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]);
            matches!(keys, Ok(redis::Value::Int(n)) if n > 0)
        })
        .unwrap()
}

/// Puts back what the harmless cases on the shared cluster change (the node timeout).
fn shared_restore(built: &Built) {
    if let Some(c) = &built.cluster {
        for n in &c.nodes {
            let _ = n.cmd(&["CONFIG", "SET", "cluster-node-timeout", "5000"]);
        }
    }
}

/// Runs one tool on one case and masks its stdout.
fn run_case(program: &str, case: &Case, built: &Built) -> Outcome {
    let mut args: Vec<String> = Vec::new();
    for word in case.args.split_whitespace() {
        let mut w = word.to_string();
        for (k, v) in &built.words {
            w = w.replace(k, v);
        }
        args.push(w);
    }
    let run = run_bounded(program, &args, case.stdin, case.env);
    let masked_stdout = mask(&run.stdout, built);
    Outcome { run, masked_stdout }
}

/// Node ids and addresses by node index, progress dots dropped, node blocks sorted.
fn mask(text: &str, built: &Built) -> String {
    let mut s = text.to_string();
    if let Some(c) = &built.cluster {
        for (i, n) in c.nodes.iter().enumerate() {
            if let Ok(v) = n.cmd(&["CLUSTER", "MYID"]) {
                let id: String = redis::from_redis_value(&v).unwrap_or_default();
                if id.len() == 40 {
                    s = s.replace(&id, &format!("<id{i}>"));
                    s = s.replace(&id[..8], &format!("<id{i}>"));
                }
            }
            s = s.replace(&n.addr(), &format!("n{i}"));
            s = s.replace(&format!(" {}", n.port), &format!(" <port{i}>"));
        }
    }
    if let Some(dead) = built.words.get("{DEAD}") {
        s = s.replace(dead, "<dead>");
    }
    let lines: Vec<String> = s
        .lines()
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '.'))
        .map(|l| l.trim_end_matches('.').to_string())
        .collect();
    crate::cli_support::sort_blocks(&sort_reply_lines(&lines))
}

/// Sorts each run of `n<i>: reply` lines (call's output): both tools print the replies in the
/// order of their cluster view, and the two views list the nodes in different orders.
fn sort_reply_lines(lines: &[String]) -> String {
    let is_reply = |l: &str| {
        l.strip_prefix('n')
            .and_then(|r| r.split_once(": "))
            .is_some_and(|(i, _)| i.chars().all(|c| c.is_ascii_digit()))
    };
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    for l in lines {
        if is_reply(l) {
            run.push(l.clone());
            continue;
        }
        run.sort();
        out.append(&mut run);
        out.push(l.clone());
    }
    run.sort();
    out.append(&mut run);
    out.join("\n") + "\n"
}

/// Runs a program with a cleared environment (PATH kept) and TERM=dumb, bounded by RUN_LIMIT.
fn run_bounded(program: &str, args: &[String], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    let mut env = env.to_vec();
    env.push(("TERM", "dumb"));
    crate::harness::run_program_bounded(program, args, stdin, &env, RUN_LIMIT)
}

/// The steps of a provisioning script, in redis-cli's spelling; `{T}` is the tool, `{A}`..`{D}`
/// the nodes, `{IDA}` node A's id. Part one builds the cluster, part two (after keys are
/// written) grows and repairs it.
const SCRIPT_BUILD: &[&str] = &[
    "{T} --cluster create {A} {B} {C} --cluster-yes",
    "{T} --cluster check {A}",
];
const SCRIPT_GROW: &[&str] = &[
    "{T} --cluster reshard {A} --cluster-from all --cluster-to {IDA} --cluster-slots 100 --cluster-yes",
    "{T} --cluster add-node {D} {A}",
    "{T} --cluster rebalance {A} --cluster-use-empty-masters",
    "{T} --cluster fix {A}",
    "{T} --cluster check {A}",
];

/// One way scripts run commands: the program and the script text for a list of command lines.
struct Driver {
    name: &'static str,
    program: &'static str,
    render: fn(&[String]) -> Vec<String>,
}

fn tcl_exec(lines: &[String]) -> Vec<String> {
    // exec fails on a non-zero exit and on any output on stderr.
    let body: Vec<String> = lines.iter().map(|l| format!("puts [exec {l}]")).collect();
    vec![body.join("\n")]
}

fn bash_set_e(lines: &[String]) -> Vec<String> {
    vec![
        "-c".into(),
        format!("set -euo pipefail\n{}", lines.join("\n")),
    ]
}

fn python_check(lines: &[String]) -> Vec<String> {
    let calls: Vec<String> = lines
        .iter()
        .map(|l| {
            let words: Vec<String> = l.split_whitespace().map(|w| format!("{w:?}")).collect();
            format!("subprocess.run([{}], check=True)", words.join(", "))
        })
        .collect();
    vec![
        "-c".into(),
        format!("import subprocess\n{}", calls.join("\n")),
    ]
}

const DRIVERS: &[Driver] = &[
    Driver {
        name: "Tcl exec",
        program: "tclsh",
        render: tcl_exec,
    },
    Driver {
        name: "bash set -e",
        program: "bash",
        render: bash_set_e,
    },
    Driver {
        name: "python check=True",
        program: "python3",
        render: python_check,
    },
];

#[test]
fn scripts_written_for_redis_cli_run_trib_without_an_error() {
    if !crate::harness::require_redis() {
        return;
    }
    for driver in DRIVERS {
        if crate::harness::which(driver.program).is_none() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{} is needed in CI",
                driver.program
            );
            eprintln!(
                "note: {} missing; skipping the {} case",
                driver.program, driver.name
            );
            continue;
        }
        let cluster = Cluster::start(Backend::Redis, 4);
        let mut words: HashMap<&str, String> = HashMap::new();
        words.insert("{T}", trib_bin().to_string());
        for (i, name) in ["{A}", "{B}", "{C}", "{D}"].iter().enumerate() {
            words.insert(name, cluster.nodes[i].addr());
        }
        words.insert("{IDA}", cluster.nodes[0].myid());
        let fill = |lines: &[&str]| -> Vec<String> {
            lines
                .iter()
                .map(|l| {
                    let mut l = l.to_string();
                    for (k, v) in &words {
                        l = l.replace(k, v);
                    }
                    l
                })
                .collect()
        };
        let script_file = cluster.root.path().join("script.tcl");
        let run_script = |lines: &[&str]| {
            let mut args = (driver.render)(&fill(lines));
            if args.len() == 1 {
                // tclsh runs a script file.
                std::fs::write(&script_file, &args[0]).unwrap();
                args = vec![script_file.display().to_string()];
            }
            let run = run_bounded(driver.program, &args, None, &[]);
            assert_eq!(run.code, 0, "{}: {run:?}", driver.name);
            assert!(
                run.stderr.is_empty(),
                "{}: trib wrote on stderr: {run:?}",
                driver.name
            );
            run
        };
        // trib's create returns once every node reports cluster_state:ok.
        run_script(SCRIPT_BUILD);
        crate::cli_support::load_keys(&cluster, 300);
        let grown = run_script(SCRIPT_GROW);
        assert!(
            grown.stdout.contains("[OK] All 16384 slots covered."),
            "{}: {grown:?}",
            driver.name
        );
        let keys: i64 = cluster
            .nodes
            .iter()
            .map(|n| match n.cmd(&["DBSIZE"]) {
                Ok(redis::Value::Int(k)) => k,
                other => panic!("DBSIZE: {other:?}"),
            })
            .sum();
        assert_eq!(keys, 300, "{}: keys after the script", driver.name);
        let d_slots = cluster.nodes[3].cmd_string(&["CLUSTER", "NODES"]);
        assert!(
            d_slots
                .lines()
                .any(|l| l.contains("myself") && l.split(' ').count() > 8),
            "{}: the added master got no slots:\n{d_slots}",
            driver.name
        );
    }
}
