//! redis-cli's command line, read the way redis-cli 7.0 reads it, and rewritten into trib's
//! native argv: `redis-cli [opts] --cluster SUB args... [opts]` with options before or after the
//! `--cluster` group, positional arguments up to the first `-` token, every `--cluster-*` option
//! accepted by every subcommand (those a subcommand does not use are dropped, as redis-cli
//! ignores them), and redis-cli's own messages for the lines it refuses. Does not run anything
//! and does not validate addresses or numbers: the subcommands do that, in either spelling.

/// What a redis-cli command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Translated {
    /// Run this native trib argv (argv[0] included) with redis-cli's output streams.
    Run(Vec<String>),
    /// `--cluster help`: the cluster manager's command table.
    Help,
    /// `-v` / `--version`.
    Version,
    /// A line redis-cli refuses: its message (for stderr); exit 1.
    Refuse(String),
    /// `--help`, `-h` as the last word, or a second `--cluster`: redis-cli prints its usage.
    Usage,
}

/// True when the words are redis-cli's spelling (they contain `--cluster`).
pub fn is_redis_cli_spelling(args: &[String]) -> bool {
    args.iter().skip(1).any(|a| a == "--cluster")
}

/// redis-cli options that take a value and mean nothing to the cluster manager.
const IGNORED_WITH_VALUE: &[&str] = &[
    "-h",
    "-p",
    "-s",
    "-r",
    "-i",
    "-n",
    "-d",
    "-D",
    "-t",
    "--rdb",
    "--functions-rdb",
    "--pipe-timeout",
    "--pattern",
    "--quoted-pattern",
    "--count",
    "--intrinsic-latency",
    "--eval",
    "--lru-test",
    "--memkeys-samples",
    "--show-pushes",
    "--tls-ciphers",
    "--tls-ciphersuites",
];

/// redis-cli flags that mean nothing to the cluster manager.
const IGNORED_FLAGS: &[&str] = &[
    "-c",
    "-e",
    "-2",
    "-3",
    "-4",
    "-6",
    "--raw",
    "--no-raw",
    "--quoted-input",
    "--csv",
    "--latency",
    "--latency-history",
    "--latency-dist",
    "--mono",
    "--slave",
    "--replica",
    "--stat",
    "--scan",
    "--pipe",
    "--bigkeys",
    "--memkeys",
    "--hotkeys",
    "--ldb",
    "--ldb-sync-mode",
];

/// Global options passed through to trib with their value.
const GLOBAL_WITH_VALUE: &[&str] = &[
    "--user",
    "--sni",
    "--cacert",
    "--cacertdir",
    "--cert",
    "--key",
];

/// Global flags passed through to trib (`--json` and `--dry-run` are trib's own additions).
const GLOBAL_FLAGS: &[&str] = &[
    "--askpass",
    "--no-auth-warning",
    "--tls",
    "--insecure",
    "--verbose",
    "--json",
];

/// `--cluster-*` options with a value: (redis-cli name, trib name, subcommands that use it).
const CLUSTER_WITH_VALUE: &[(&str, &str, &[&str])] = &[
    ("--cluster-replicas", "--replicas", &["create"]),
    ("--cluster-from", "--from", &["reshard", "import"]),
    ("--cluster-to", "--to", &["reshard"]),
    ("--cluster-slots", "--slots", &["reshard"]),
    ("--cluster-timeout", "--timeout", MOVERS_AND_IMPORT),
    ("--cluster-pipeline", "--pipeline", MOVERS),
    ("--cluster-threshold", "--threshold", &["rebalance"]),
    ("--cluster-master-id", "--master-id", &["add-node"]),
    ("--cluster-from-user", "--from-user", &["import"]),
    ("--cluster-from-pass", "--from-pass", &["import"]),
    // trib's own, accepted in this spelling too
    ("--parallel", "--parallel", MOVERS),
];

/// `--cluster-*` flags: (redis-cli name, trib name, subcommands that use it).
const CLUSTER_FLAGS: &[(&str, &str, &[&str])] = &[
    ("--cluster-yes", "--yes", ALL),
    ("--cluster-simulate", "--simulate", &["rebalance"]),
    ("--cluster-replace", "--replace", MOVERS_AND_IMPORT),
    (
        "--cluster-use-empty-masters",
        "--use-empty-masters",
        &["rebalance"],
    ),
    ("--cluster-slave", "--replica", &["add-node"]),
    (
        "--cluster-search-multiple-owners",
        "--search-multiple-owners",
        &["check", "fix"],
    ),
    (
        "--cluster-fix-with-unreachable-masters",
        "--fix-with-unreachable-masters",
        &["fix"],
    ),
    ("--cluster-only-masters", "--only-masters", &["call"]),
    ("--cluster-only-replicas", "--only-replicas", &["call"]),
    ("--cluster-from-askpass", "--from-askpass", &["import"]),
    ("--cluster-copy", "--copy", &["import"]),
    // trib's own, accepted in this spelling too
    (
        "--dry-run",
        "--dry-run",
        &["create", "fix", "reshard", "rebalance"],
    ),
];

const MOVERS: &[&str] = &["reshard", "rebalance", "fix"];
const MOVERS_AND_IMPORT: &[&str] = &["reshard", "rebalance", "fix", "import"];
const ALL: &[&str] = &[
    "create",
    "check",
    "info",
    "fix",
    "reshard",
    "rebalance",
    "add-node",
    "del-node",
    "call",
    "set-timeout",
    "import",
    "backup",
];

/// The positional-argument rule of each subcommand (redis-cli 7.0's arity check).
fn arity_ok(sub: &str, n: usize) -> Option<bool> {
    Some(match sub {
        "create" => n >= 2,
        "check" | "info" | "fix" | "reshard" | "rebalance" => n >= 1,
        "add-node" | "del-node" | "set-timeout" | "backup" => n == 2,
        "call" => n >= 2,
        "import" => n == 1,
        "help" => true,
        _ => return None,
    })
}

#[derive(Default)]
struct Collected {
    sub: Option<String>,
    positional: Vec<String>,
    /// Native global options, in order.
    global: Vec<String>,
    /// `--cluster-*` options: (redis-cli name, value).
    cluster: Vec<(String, Option<String>)>,
    weights: Option<Vec<String>>,
    stdin_arg: bool,
}

/// Reads redis-cli's words (argv[0] included) and says what they ask for.
pub fn translate(args: &[String]) -> Translated {
    let mut c = Collected::default();
    let mut i = 1;
    while i < args.len() {
        let a = args[i].as_str();
        let last = i + 1 == args.len();
        let value = args.get(i + 1).cloned();
        if a == "--cluster" {
            if last || c.sub.is_some() {
                return Translated::Usage;
            }
            c.sub = value;
            let mut j = i + 2;
            while j < args.len() && !args[j].starts_with('-') {
                c.positional.push(args[j].clone());
                j += 1;
            }
            i = j;
            continue;
        }
        if a == "--help" || (a == "-h" && last) {
            return Translated::Usage;
        }
        if a == "-v" || a == "--version" {
            return Translated::Version;
        }
        if a == "--cluster-weight" && !last {
            if c.weights.is_some() {
                return Translated::Refuse(
                    "WARNING: you cannot use --cluster-weight more than once.\n\
                     You can set more weights by adding them as a space-separated list, ie:\n\
                     --cluster-weight n1=w n2=w"
                        .into(),
                );
            }
            let list: Vec<String> = args[i + 1..]
                .iter()
                .take_while(|w| !w.starts_with("--") && w.contains('='))
                .cloned()
                .collect();
            i += 1 + list.len();
            c.weights = Some(list);
            continue;
        }
        if !last && (a == "-a" || a == "--pass") {
            c.global.extend(["--pass".to_string(), args[i + 1].clone()]);
            i += 2;
            continue;
        }
        if !last && a == "-u" {
            c.global.extend(uri_credentials(&args[i + 1]));
            i += 2;
            continue;
        }
        if !last && GLOBAL_WITH_VALUE.contains(&a) {
            c.global.extend([a.to_string(), args[i + 1].clone()]);
            i += 2;
            continue;
        }
        if GLOBAL_FLAGS.contains(&a) {
            c.global.push(a.to_string());
            i += 1;
            continue;
        }
        if !last && CLUSTER_WITH_VALUE.iter().any(|(name, _, _)| *name == a) {
            c.cluster.push((a.to_string(), value));
            i += 2;
            continue;
        }
        if CLUSTER_FLAGS.iter().any(|(name, _, _)| *name == a) {
            c.cluster.push((a.to_string(), None));
            i += 1;
            continue;
        }
        if !last && IGNORED_WITH_VALUE.contains(&a) {
            i += 2;
            continue;
        }
        if IGNORED_FLAGS.contains(&a) {
            i += 1;
            continue;
        }
        if a == "-x" {
            c.stdin_arg = true;
            i += 1;
            continue;
        }
        if a.starts_with('-') {
            return Translated::Refuse(format!(
                "Unrecognized option or bad number of args for: '{a}'"
            ));
        }
        // A word that is no option: redis-cli stops reading options here. If the subcommand
        // has no arguments yet, this run of words becomes them; otherwise the rest is ignored.
        if c.sub.is_some() && c.positional.is_empty() {
            c.positional = args[i..]
                .iter()
                .take_while(|w| !w.starts_with('-'))
                .cloned()
                .collect();
        }
        break;
    }
    build(c)
}

fn build(mut c: Collected) -> Translated {
    let Some(sub) = c.sub.take() else {
        return Translated::Refuse(
            "trib reads redis-cli's spelling only with --cluster <subcommand>".into(),
        );
    };
    let Some(arity) = arity_ok(&sub, c.positional.len() + usize::from(c.stdin_arg)) else {
        return Translated::Refuse("Unknown --cluster subcommand".into());
    };
    if sub == "help" {
        return Translated::Help;
    }
    if !arity {
        return Translated::Refuse(
            "[ERR] Wrong number of arguments for specified --cluster sub command".into(),
        );
    }
    if sub == "import" && !c.cluster.iter().any(|(name, _)| name == "--cluster-from") {
        return Translated::Refuse(
            "[ERR] Option '--cluster-from' is required for subcommand 'import'.".into(),
        );
    }
    if c.stdin_arg {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text);
        c.positional.push(text);
    }
    let mut argv = vec!["trib".to_string()];
    argv.extend(c.global);
    argv.push(sub.clone());
    let uses = |subs: &[&str]| subs.contains(&sub.as_str());
    for (name, value) in c.cluster {
        if let Some((_, native, subs)) = CLUSTER_WITH_VALUE.iter().find(|(n, _, _)| *n == name) {
            if uses(subs) {
                argv.push(native.to_string());
                argv.extend(value);
            }
        } else if let Some((_, native, subs)) = CLUSTER_FLAGS.iter().find(|(n, _, _)| *n == name) {
            if uses(subs) && !argv.iter().any(|a| a == native) {
                argv.push(native.to_string());
            }
        }
    }
    if let Some(weights) = c.weights.filter(|w| !w.is_empty()) {
        if sub == "rebalance" {
            argv.push("--weight".into());
            argv.extend(weights);
        }
    }
    // Entry-point subcommands take `host:port` or `host port`; redis-cli ignores the rest.
    let positional = match sub.as_str() {
        "check" | "info" | "fix" | "reshard" | "rebalance" => {
            c.positional.into_iter().take(2).collect()
        }
        _ => c.positional,
    };
    // `--` ends trib's options, so positional words are never read as trib options.
    argv.push("--".into());
    argv.extend(positional);
    Translated::Run(argv)
}

/// The credentials of a `redis://[user:]pass@host...` URI as trib options.
fn uri_credentials(uri: &str) -> Vec<String> {
    let rest = uri
        .strip_prefix("redis://")
        .or_else(|| uri.strip_prefix("rediss://"))
        .unwrap_or(uri);
    let Some((userinfo, _)) = rest.split_once('@') else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match userinfo.split_once(':') {
        Some((user, pass)) => {
            if !user.is_empty() {
                out.extend(["--user".to_string(), user.to_string()]);
            }
            out.extend(["--pass".to_string(), pass.to_string()]);
        }
        None => out.extend(["--pass".to_string(), userinfo.to_string()]),
    }
    if uri.starts_with("rediss://") {
        out.push("--tls".into());
    }
    out
}

/// What a redis-cli command line trib cannot read gets (stderr, exit 1), as redis-cli's usage.
pub const USAGE: &str = "Usage: trib [OPTIONS] --cluster <command> [args...] [opts...]
  Cluster Manager command and arguments, written as for redis-cli --cluster.
  trib --cluster help lists the commands; trib --help shows trib's own spelling.";

/// `--cluster help`, as redis-cli 7.0 prints it, followed by where trib differs on purpose.
pub const CLUSTER_HELP: &str = "Cluster Manager Commands:
  create         host1:port1 ... hostN:portN
                 --cluster-replicas <arg>
  check          <host:port> or <host> <port> - separated by either colon or space
                 --cluster-search-multiple-owners
  info           <host:port> or <host> <port> - separated by either colon or space
  fix            <host:port> or <host> <port> - separated by either colon or space
                 --cluster-search-multiple-owners
                 --cluster-fix-with-unreachable-masters
  reshard        <host:port> or <host> <port> - separated by either colon or space
                 --cluster-from <arg>
                 --cluster-to <arg>
                 --cluster-slots <arg>
                 --cluster-yes
                 --cluster-timeout <arg>
                 --cluster-pipeline <arg>
                 --cluster-replace
  rebalance      <host:port> or <host> <port> - separated by either colon or space
                 --cluster-weight <node1=w1...nodeN=wN>
                 --cluster-use-empty-masters
                 --cluster-timeout <arg>
                 --cluster-simulate
                 --cluster-pipeline <arg>
                 --cluster-threshold <arg>
                 --cluster-replace
  add-node       new_host:new_port existing_host:existing_port
                 --cluster-slave
                 --cluster-master-id <arg>
  del-node       host:port node_id
  call           host:port command arg arg .. arg
                 --cluster-only-masters
                 --cluster-only-replicas
  set-timeout    host:port milliseconds
  import         host:port
                 --cluster-from <arg>
                 --cluster-from-user <arg>
                 --cluster-from-pass <arg>
                 --cluster-from-askpass
                 --cluster-copy
                 --cluster-replace
  backup         host:port backup_directory
  help           

For check, fix, reshard, del-node, set-timeout, info, rebalance, call, import, backup you can specify the host and port of any working node in the cluster.

Cluster Manager Options:
  --cluster-yes  Automatic yes to cluster commands prompts

Where trib differs from redis-cli on purpose (exit codes a script may branch on):
  help           exits 0 (redis-cli: 1)
  create         a declined plan exits 1 (redis-cli: 0); a node that refuses ADDSLOTS fails the run
  info           exits 1 when a master's DBSIZE failed (redis-cli: 0)
  call           exits 1 when any node replied with an error (redis-cli: always 0)
  set-timeout    exits 1 when any node refused the value (redis-cli: always 0)
  reshard        end of input at a question exits 1 (redis-cli asks forever)
  --cluster-yes  also answers fix's prompts (redis-cli always asks them)
  -4, -6         accepted, as redis-cli 7.4 accepts them (redis-cli 7.0 refuses them)
Everything else a script can see is redis-cli's: the same exit codes, stdout for the report,
progress and prompts, stderr only for argument errors, unreachable nodes and the -a warning.
";

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    fn run(line: &str) -> Vec<String> {
        match translate(&words(line)) {
            Translated::Run(argv) => argv,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn options_before_and_after_the_cluster_group() {
        assert_eq!(
            run("redis-cli --cluster-yes --cluster create a:1 b:2 c:3 --cluster-replicas 0"),
            words("trib create --yes --replicas 0 -- a:1 b:2 c:3")
        );
        assert_eq!(
            run("redis-cli -h 127.0.0.1 -p 7000 -a pw --cluster check a:1 -c"),
            words("trib --pass pw check -- a:1")
        );
    }

    #[test]
    fn cluster_options_a_subcommand_does_not_use_are_dropped() {
        assert_eq!(
            run("redis-cli --cluster info a:1 --cluster-search-multiple-owners --cluster-slots 3"),
            words("trib info -- a:1")
        );
        assert_eq!(
            run("redis-cli --cluster check a:1 --cluster-yes --cluster-search-multiple-owners"),
            words("trib check --yes --search-multiple-owners -- a:1")
        );
    }

    #[test]
    fn positional_arguments_stop_at_the_first_dash() {
        assert_eq!(
            translate(&words("redis-cli --cluster call a:1 CONFIG SET x -1")),
            Translated::Refuse("Unrecognized option or bad number of args for: '-1'".into())
        );
        // Options between the subcommand and its arguments: the later run becomes them.
        assert_eq!(
            run("redis-cli --cluster call --cluster-only-masters a:1 PING"),
            words("trib call --only-masters -- a:1 PING")
        );
        // Once there are arguments, a later stray word (and all after it) is ignored.
        assert_eq!(
            translate(&words(
                "redis-cli --cluster call a:1 --cluster-only-masters PING"
            )),
            Translated::Refuse(
                "[ERR] Wrong number of arguments for specified --cluster sub command".into()
            )
        );
    }

    #[test]
    fn weights_take_every_following_assignment() {
        assert_eq!(
            run("redis-cli --cluster rebalance a:1 --cluster-weight x=1 y=2 --cluster-simulate"),
            words("trib rebalance --simulate --weight x=1 y=2 -- a:1")
        );
        assert!(matches!(
            translate(&words(
                "redis-cli --cluster rebalance a:1 --cluster-weight x=1 --cluster-weight y=2"
            )),
            Translated::Refuse(m) if m.starts_with("WARNING: you cannot use --cluster-weight")
        ));
    }

    #[test]
    fn refusals_use_redis_cli_messages() {
        assert_eq!(
            translate(&words("redis-cli --cluster frobnicate a:1")),
            Translated::Refuse("Unknown --cluster subcommand".into())
        );
        assert_eq!(
            translate(&words("redis-cli --cluster add-node a:1")),
            Translated::Refuse(
                "[ERR] Wrong number of arguments for specified --cluster sub command".into()
            )
        );
        assert_eq!(
            translate(&words("redis-cli --cluster check a:1 --cluster-bogus")),
            Translated::Refuse(
                "Unrecognized option or bad number of args for: '--cluster-bogus'".into()
            )
        );
        assert_eq!(
            translate(&words("redis-cli --cluster import a:1")),
            Translated::Refuse(
                "[ERR] Option '--cluster-from' is required for subcommand 'import'.".into()
            )
        );
        assert_eq!(translate(&words("redis-cli --cluster")), Translated::Usage);
        assert_eq!(
            translate(&words("redis-cli --cluster check a:1 --cluster info a:1")),
            Translated::Usage
        );
        assert_eq!(
            translate(&words("redis-cli --cluster help extra")),
            Translated::Help
        );
    }

    #[test]
    fn uri_gives_credentials() {
        assert_eq!(
            run("redis-cli -u redis://bob:pw@127.0.0.1:7000 --cluster info a:1"),
            words("trib --user bob --pass pw info -- a:1")
        );
    }
}
