//! The command line, as clap definitions only (syntax). Nothing here talks to a node; `ops`
//! resolves these structs into plain option values before any work. Completions and man pages
//! are generated from this one definition (`trib generate`, hidden).

pub mod redis_cli;

use clap::{Args, Parser, Subcommand, ValueEnum};

const CONNECTION: &str = "Connection options";
const OUTPUT: &str = "Output options";

#[derive(Debug, Parser)]
#[command(
    name = "trib",
    version,
    about = "Redis Cluster administration: create, check, fix, reshard and rebalance clusters",
    long_about = "trib administers Redis Cluster: a faster, safer, scriptable replacement for \
                  `redis-cli --cluster`. Every redis-cli --cluster option is accepted under its \
                  name without the `cluster-` prefix (the prefixed spelling works too), and \
                  `trib --cluster <subcommand> ...` is accepted as redis-cli spells it.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass
    #[arg(
        short = 'a',
        long = "pass",
        global = true,
        env = "REDISCLI_AUTH",
        hide_env_values = true, help_heading = CONNECTION)]
    pub pass: Option<String>,
    /// ACL user name (AUTH <user> <pass>)
    #[arg(long, global = true, help_heading = CONNECTION)]
    pub user: Option<String>,
    /// Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)
    #[arg(long, global = true, help_heading = CONNECTION)]
    pub askpass: bool,
    /// Do not warn that -a on the command line may be unsafe
    #[arg(long, global = true, help_heading = CONNECTION)]
    pub no_auth_warning: bool,
    /// Connect with TLS (implied by any other TLS option)
    #[arg(long, global = true, help_heading = CONNECTION)]
    pub tls: bool,
    /// CA certificate file to verify the servers with (default: the system's CAs)
    #[arg(long, global = true, value_name = "FILE", help_heading = CONNECTION)]
    pub cacert: Option<String>,
    /// Directory of CA certificates (every PEM file in it)
    #[arg(long, global = true, value_name = "DIR", help_heading = CONNECTION)]
    pub cacertdir: Option<String>,
    /// Client certificate file, for servers that require one (with --key)
    #[arg(long, global = true, value_name = "FILE", help_heading = CONNECTION)]
    pub cert: Option<String>,
    /// Client private key file
    #[arg(long, global = true, value_name = "FILE", help_heading = CONNECTION)]
    pub key: Option<String>,
    /// Server name to send (SNI) and to verify the certificates against, instead of each node's address
    #[arg(long, global = true, value_name = "HOST", help_heading = CONNECTION)]
    pub sni: Option<String>,
    /// Do not verify the server certificates (encrypted but not authenticated)
    #[arg(long, global = true, help_heading = CONNECTION)]
    pub insecure: bool,
    /// Print one JSON document on stdout (events as NDJSON for long operations)
    #[arg(long, global = true, help_heading = OUTPUT)]
    pub json: bool,
    /// Print only errors
    #[arg(short, long, global = true, help_heading = OUTPUT)]
    pub quiet: bool,
    /// Print more detail (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = OUTPUT)]
    pub verbose: u8,
    /// When to colour output
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, help_heading = OUTPUT)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a cluster from empty nodes
    Create(CreateArgs),
    /// Check the cluster: slot agreement, open slots, coverage, unreachable nodes
    Check(CheckArgs),
    /// Print each master's keys, slots and replicas
    Info(InfoArgs),
    /// Repair open slots, uncovered slots and multiple owners
    Fix(FixArgs),
    /// Move slots from some masters to another
    Reshard(ReshardArgs),
    /// Even out slots across masters by weight
    Rebalance(RebalanceArgs),
    /// Add a node as an empty master or as a replica
    AddNode(AddNodeArgs),
    /// Remove a node (it must own no slots)
    DelNode(DelNodeArgs),
    /// Run a command on every node
    Call(CallArgs),
    /// Set cluster-node-timeout on every node
    SetTimeout(SetTimeoutArgs),
    /// Import keys from a standalone Redis into the cluster
    Import(ImportArgs),
    /// Save every master's RDB and the cluster layout to a directory
    Backup(BackupArgs),
    /// Load a backup into a cluster of any shape (each key goes to its slot's owner now)
    Restore(RestoreArgs),
    /// Promote a replica to master (CLUSTER FAILOVER) and wait until the cluster agrees
    Failover(FailoverArgs),
    /// Start a local cluster and keep it running until Ctrl-C
    Sandbox(SandboxArgs),
    /// Run a short tour of trib on a local trib-node cluster
    Demo(DemoArgs),
    /// Write shell completions and man pages (used to refresh completions/ and man/)
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// `--yes`, accepted by every subcommand (as redis-cli accepts `--cluster-yes` everywhere);
/// only create, fix and reshard ask anything.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct AssumeYes {
    /// Do not ask for confirmation (also REDISCLI_CLUSTER_YES=1)
    #[arg(short, long, alias = "cluster-yes", env = "REDISCLI_CLUSTER_YES", value_parser = clap::builder::BoolishValueParser::new())]
    pub yes: bool,
}

/// Options every slot-moving command shares.
#[derive(Debug, Clone, Args)]
pub struct MoveArgs {
    /// MIGRATE timeout in milliseconds
    #[arg(
        long,
        alias = "cluster-timeout",
        default_value_t = 60000,
        value_name = "MS"
    )]
    pub timeout: u64,
    /// Keys per MIGRATE batch (default chosen by trib)
    #[arg(long, alias = "cluster-pipeline", value_name = "N")]
    pub pipeline: Option<usize>,
    /// Replace keys that already exist on the target (BUSYKEY)
    #[arg(long, alias = "cluster-replace")]
    pub replace: bool,
    /// Most source-target moves in flight at once
    #[arg(long, value_name = "N")]
    pub parallel: Option<usize>,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Nodes to build the cluster from (host:port)
    #[arg(required = true, num_args = 1.., value_name = "HOST:PORT")]
    pub nodes: Vec<String>,
    /// Replicas per master
    #[arg(
        long,
        alias = "cluster-replicas",
        default_value_t = 0,
        value_name = "N"
    )]
    pub replicas: usize,
    #[command(flatten)]
    pub confirm: AssumeYes,
    /// Print the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct EntryArgs {
    /// Any node of the cluster: host:port, or host and port
    #[arg(required = true, num_args = 1..=2, value_name = "HOST:PORT")]
    pub node: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub entry: EntryArgs,
    #[command(flatten)]
    pub confirm: AssumeYes,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub entry: EntryArgs,
    #[command(flatten)]
    pub confirm: AssumeYes,
    /// Also look for slots with keys on more than one master
    #[arg(long, alias = "cluster-search-multiple-owners")]
    pub search_multiple_owners: bool,
}

#[derive(Debug, Args)]
pub struct FixArgs {
    #[command(flatten)]
    pub entry: EntryArgs,
    #[arg(long, alias = "cluster-search-multiple-owners")]
    pub search_multiple_owners: bool,
    /// Fix even when some masters are unreachable
    #[arg(long, alias = "cluster-fix-with-unreachable-masters")]
    pub fix_with_unreachable_masters: bool,
    #[command(flatten)]
    pub confirm: AssumeYes,
    /// Print the repair plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub moves: MoveArgs,
}

#[derive(Debug, Args)]
pub struct ReshardArgs {
    #[command(flatten)]
    pub entry: EntryArgs,
    /// Source node ids, comma separated, or `all`
    #[arg(long, alias = "cluster-from", value_name = "IDS")]
    pub from: Option<String>,
    /// Target node id
    #[arg(long, alias = "cluster-to", value_name = "ID")]
    pub to: Option<String>,
    /// Number of slots to move
    #[arg(long, alias = "cluster-slots", value_name = "N")]
    pub slots: Option<usize>,
    #[command(flatten)]
    pub confirm: AssumeYes,
    /// Print the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub moves: MoveArgs,
}

#[derive(Debug, Args)]
pub struct RebalanceArgs {
    #[command(flatten)]
    pub entry: EntryArgs,
    /// Node weights as id=weight (id prefixes allowed); weight 0 drains a node
    #[arg(long, alias = "cluster-weight", num_args = 1.., value_name = "ID=W")]
    pub weight: Vec<String>,
    /// Give slots to masters that have none
    #[arg(long, alias = "cluster-use-empty-masters")]
    pub use_empty_masters: bool,
    /// Only rebalance when a node is off its share by more than this percentage
    #[arg(
        long,
        alias = "cluster-threshold",
        default_value_t = 2.0,
        value_name = "PCT"
    )]
    pub threshold: f64,
    /// Print the plan and change nothing
    #[arg(long, alias = "cluster-simulate", visible_alias = "dry-run")]
    pub simulate: bool,
    #[command(flatten)]
    pub moves: MoveArgs,
    #[command(flatten)]
    pub confirm: AssumeYes,
}

#[derive(Debug, Args)]
pub struct AddNodeArgs {
    /// The new, empty node
    #[arg(value_name = "NEW_HOST:PORT")]
    pub new_node: String,
    /// Any node already in the cluster
    #[arg(value_name = "EXISTING_HOST:PORT")]
    pub existing_node: String,
    /// Add as a replica
    #[arg(long, visible_alias = "slave", alias = "cluster-slave")]
    pub replica: bool,
    /// The master to replicate (default: the master with the fewest replicas)
    #[arg(
        long,
        alias = "cluster-master-id",
        value_name = "ID",
        requires = "replica"
    )]
    pub master_id: Option<String>,
    #[command(flatten)]
    pub confirm: AssumeYes,
}

#[derive(Debug, Args)]
pub struct DelNodeArgs {
    /// Any node of the cluster
    #[arg(value_name = "HOST:PORT")]
    pub node: String,
    /// Id of the node to remove
    #[arg(value_name = "NODE_ID")]
    pub node_id: String,
    #[command(flatten)]
    pub confirm: AssumeYes,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// Any node of the cluster
    #[arg(value_name = "HOST:PORT")]
    pub node: String,
    /// The command and its arguments
    #[arg(required = true, num_args = 1.., allow_hyphen_values = true, trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<String>,
    /// Run on masters only
    #[arg(long, alias = "cluster-only-masters", conflicts_with = "only_replicas")]
    pub only_masters: bool,
    /// Run on replicas only
    #[arg(long, alias = "cluster-only-replicas")]
    pub only_replicas: bool,
    #[command(flatten)]
    pub confirm: AssumeYes,
}

#[derive(Debug, Args)]
pub struct SetTimeoutArgs {
    /// Any node of the cluster
    #[arg(value_name = "HOST:PORT")]
    pub node: String,
    /// The new cluster-node-timeout (at least 100)
    #[arg(value_name = "MILLISECONDS")]
    pub milliseconds: u64,
    #[command(flatten)]
    pub confirm: AssumeYes,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Any node of the cluster
    #[arg(value_name = "HOST:PORT")]
    pub node: String,
    /// The standalone source instance
    #[arg(
        long,
        alias = "cluster-from",
        required = true,
        value_name = "HOST:PORT"
    )]
    pub from: String,
    /// ACL user name on the source (the cluster's is --user)
    #[arg(long, alias = "cluster-from-user", value_name = "USER")]
    pub from_user: Option<String>,
    /// Password of the source (the cluster's is -a; MIGRATE logs in to the cluster with that)
    #[arg(long, alias = "cluster-from-pass", value_name = "PASS")]
    pub from_pass: Option<String>,
    /// Prompt for the source's password on the terminal
    #[arg(long, alias = "cluster-from-askpass")]
    pub from_askpass: bool,
    /// Copy keys instead of moving them (the source keeps everything)
    #[arg(long, alias = "cluster-copy")]
    pub copy: bool,
    #[command(flatten)]
    pub moves: MoveArgs,
    #[command(flatten)]
    pub confirm: AssumeYes,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Any node of the cluster
    #[arg(value_name = "HOST:PORT")]
    pub node: String,
    /// Directory to write the backup into (created if missing)
    #[arg(value_name = "DIR")]
    pub dir: String,
    /// Give up on a master that sends nothing for this long, in milliseconds
    #[arg(
        long,
        alias = "cluster-timeout",
        default_value_t = 60000,
        value_name = "MS"
    )]
    pub timeout: u64,
    #[command(flatten)]
    pub confirm: AssumeYes,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Any node of the cluster to restore into (any number of masters)
    #[arg(value_name = "HOST:PORT")]
    pub node: String,
    /// A directory written by `trib backup` or `redis-cli --cluster backup`
    #[arg(value_name = "DIR")]
    pub dir: String,
    /// Overwrite keys that already exist in the cluster (else they are reported and kept)
    #[arg(long, alias = "cluster-replace")]
    pub replace: bool,
    /// Reply timeout for each batch of RESTOREs, in milliseconds
    #[arg(
        long,
        alias = "cluster-timeout",
        default_value_t = 60000,
        value_name = "MS"
    )]
    pub timeout: u64,
    /// RESTOREs sent to a master per round trip
    #[arg(
        long,
        alias = "cluster-pipeline",
        default_value_t = 256,
        value_name = "N"
    )]
    pub pipeline: usize,
    #[command(flatten)]
    pub confirm: AssumeYes,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["replica", "master"])))]
pub struct FailoverArgs {
    #[command(flatten)]
    pub entry: EntryArgs,
    /// The replica to promote (node id, id prefix, or host:port)
    #[arg(long, value_name = "ID|HOST:PORT")]
    pub replica: Option<String>,
    /// Promote the best replica of this master (node id, id prefix, or host:port)
    #[arg(long, value_name = "ID|HOST:PORT")]
    pub master: Option<String>,
    /// Fail over without the master's agreement (it may be down); may lose writes
    #[arg(long, conflicts_with = "takeover")]
    pub force: bool,
    /// Take the slots without an election (no majority needed); may lose writes
    #[arg(long)]
    pub takeover: bool,
    #[command(flatten)]
    pub confirm: AssumeYes,
    /// How long to wait for the cluster to agree on the new master, in milliseconds
    #[arg(long, default_value_t = 30000, value_name = "MS")]
    pub timeout: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServerKind {
    TribNode,
    RedisServer,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    #[arg(long, default_value_t = 3)]
    pub masters: usize,
    #[arg(long, default_value_t = 1)]
    pub replicas: usize,
    /// First port (default: free ports)
    #[arg(long)]
    pub port: Option<u16>,
    /// Which server to run
    #[arg(long, value_enum, default_value_t = ServerKind::TribNode)]
    pub server: ServerKind,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Which server to run the demo on
    #[arg(long, value_enum, default_value_t = ServerKind::TribNode)]
    pub server: ServerKind,
    /// Keep the cluster's files after the demo
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory to write completions/ and man/ into (usually the repository root)
    #[arg(value_name = "DIR")]
    pub dir: String,
}

/// Flags `call` takes back from the end of its command line (its command swallows every word).
const CALL_TRAILING_FLAGS: &[&str] = &[
    "--only-masters",
    "--cluster-only-masters",
    "--only-replicas",
    "--cluster-only-replicas",
    "--json",
    "-q",
    "--quiet",
    "--no-auth-warning",
    "--yes",
];

/// trib's own spelling: `trib call h:p PING --only-masters` keeps `--only-masters` for trib.
/// (redis-cli's spelling, with `--cluster`, is read by `redis_cli::translate` instead.)
pub fn normalize_args(args: Vec<String>) -> Vec<String> {
    let mut out = args;
    if let Some(call) = out.iter().position(|a| a == "call") {
        // call, entry, command word: the flags may only be taken from after those.
        while out.len() > call + 3
            && out
                .last()
                .is_some_and(|a| CALL_TRAILING_FLAGS.contains(&a.as_str()))
        {
            if let Some(flag) = out.pop() {
                out.insert(call + 1, flag);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn redis_cli_spelling_is_accepted() {
        let argv: Vec<String> = "trib --cluster reshard 127.0.0.1:7000 --cluster-from all --cluster-to abc --cluster-slots 10 --cluster-yes"
            .split(' ')
            .map(String::from)
            .collect();
        let redis_cli::Translated::Run(native) = redis_cli::translate(&argv) else {
            panic!("not translated");
        };
        let cli = Cli::try_parse_from(native).unwrap();
        match cli.command {
            Command::Reshard(r) => {
                assert_eq!(r.from.as_deref(), Some("all"));
                assert_eq!(r.slots, Some(10));
                assert!(r.confirm.yes);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn every_subcommand_takes_yes() {
        for line in [
            "trib check h:1 --yes",
            "trib info h:1 -y",
            "trib rebalance h:1 --yes",
            "trib add-node h:1 h:2 --yes",
            "trib del-node h:1 abc --yes",
            "trib set-timeout h:1 1000 --yes",
            "trib call h:1 PING --yes",
            "trib backup h:1 dir --yes",
        ] {
            let argv = normalize_args(line.split(' ').map(String::from).collect());
            assert!(Cli::try_parse_from(argv).is_ok(), "{line}");
        }
    }

    #[test]
    fn call_keeps_trailing_trib_flags() {
        let argv: Vec<String> = "trib call 127.0.0.1:7000 CONFIG GET x --only-masters --json"
            .split(' ')
            .map(String::from)
            .collect();
        let cli = Cli::try_parse_from(normalize_args(argv)).unwrap();
        assert!(cli.global.json);
        match cli.command {
            Command::Call(c) => {
                assert!(c.only_masters);
                assert_eq!(c.command, vec!["CONFIG", "GET", "x"]);
            }
            other => panic!("parsed as {other:?}"),
        }
    }
}
