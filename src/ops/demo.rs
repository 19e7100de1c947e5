//! `trib demo`: a short tour on a throw-away local cluster. Starts seven servers (trib-node by
//! default, redis-server with `--server redis-server`), creates the cluster, loads keys of every
//! type, runs check, info, add-node, reshard and rebalance, checks again, verifies every key is
//! intact, prints a few readable lines, and tears everything down. It does not fall back from
//! one server to the other: a server that cannot start is an error naming why.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use anyhow::Result;
use bytes::Bytes;
use clap::Parser;

use crate::addr::NodeAddr;
use crate::cli::{AddNodeArgs, CheckArgs, Cli, CreateArgs, DemoArgs, EntryArgs};
use crate::exit::{ExitCode, Fail};
use crate::ops::local::{server_name, LocalCluster};
use crate::ops::Context;
use crate::output::{Mode, Reporter};
use crate::remote::health::Health;
use crate::remote::strays;
use crate::remote::view::ClusterView;
use crate::slot::key_slot;

const PER_TYPE: usize = 50;
const TYPES: [&str; 6] = ["string", "list", "hash", "set", "zset", "stream"];
/// How long the tour waits for gossip to settle before a check it prints.
const SETTLE_LIMIT: Duration = Duration::from_secs(20);

pub async fn run(args: &DemoArgs, ctx: &Context) -> Result<ExitCode> {
    let out = &ctx.out;
    let mut cluster = LocalCluster::start(args.server, 7, None).await?;
    let result = tour(&cluster, ctx).await;
    if args.keep {
        out.line(&format!("Files kept in {}", cluster.root.display()));
        cluster.keep_files();
    }
    cluster.stop().await;
    if result.is_ok() {
        out.ok("Demo finished; every server it started is stopped.");
    }
    result
}

fn quiet(ctx: &Context) -> Context {
    Context {
        out: Reporter::new(Mode::Quiet, false, 0),
        connect: ctx.connect.clone(),
    }
}

async fn tour(cluster: &LocalCluster, ctx: &Context) -> Result<ExitCode> {
    let out = &ctx.out;
    let q = quiet(ctx);
    let kind = cluster.kind;
    let addrs = cluster.addrs();
    let entry = addrs[0].clone();
    let entry_addr = NodeAddr::parse(&entry)?;
    out.step(&format!(
        "Started 7 {} servers on 127.0.0.1 ({})",
        server_name(kind),
        cluster.server.origin()
    ));
    let create = CreateArgs {
        nodes: addrs[..6].to_vec(),
        replicas: 1,
        confirm: crate::cli::AssumeYes { yes: true },
        dry_run: false,
    };
    crate::ops::create::run(&create, &q).await?;
    out.ok(&format!(
        "trib create: 3 masters + 3 replicas, all 16384 slots covered ({})",
        addrs[..6].join(" ")
    ));

    let (keys, skipped) = load_sample(&entry, ctx).await?;
    let loaded: Vec<&str> = TYPES
        .iter()
        .copied()
        .filter(|t| !skipped.contains(t))
        .collect();
    out.ok(&format!(
        "Loaded {} keys: {PER_TYPE} of each type ({})",
        keys.len(),
        loaded.join(", ")
    ));
    if !skipped.is_empty() {
        out.warn(&format!(
            "{} does not support {} yet; skipped",
            server_name(kind),
            skipped.join(", ")
        ));
    }

    let check = CheckArgs {
        entry: EntryArgs {
            node: vec![entry.clone()],
        },
        search_multiple_owners: false,
        confirm: Default::default(),
    };
    settle(&entry_addr, ctx).await;
    crate::ops::check::run(&check, &q).await?;
    out.ok("trib check: the cluster is healthy");
    out.ok(&format!("trib info: {}", key_spread(&entry, ctx).await?));

    let add = AddNodeArgs {
        new_node: addrs[6].clone(),
        existing_node: entry.clone(),
        replica: false,
        master_id: None,
        confirm: Default::default(),
    };
    crate::ops::add_node::run(&add, &q).await?;
    let view = ClusterView::load(&entry_addr, &ctx.connect).await?;
    let new_id = view
        .by_addr(&NodeAddr::parse(&addrs[6])?)
        .map(|n| n.id.clone())
        .ok_or_else(|| Fail::failure("the added node is not in the view"))?;
    out.ok(&format!(
        "trib add-node: {} joined as an empty master",
        addrs[6]
    ));

    let reshard = format!("trib reshard {entry} --from all --to {new_id} --slots 1000 --yes");
    run_line(&reshard, &q).await?;
    out.ok("trib reshard: moved 1000 slots (and their keys) to the new master");
    let rebalance = format!("trib rebalance {entry} --use-empty-masters");
    run_line(&rebalance, &q).await?;
    out.ok("trib rebalance: slots evened out across 4 masters");

    settle(&entry_addr, ctx).await;
    crate::ops::check::run(&check, &q).await?;
    out.ok("trib check: healthy again");
    verify(&entry, &keys, ctx).await?;
    out.ok(&format!(
        "All {} keys read back intact from their owners",
        keys.len()
    ));
    out.ok(&format!("trib info: {}", key_spread(&entry, ctx).await?));
    Ok(ExitCode::Success)
}

/// Runs one trib command line through the normal dispatch (boxed: dispatch reaches demo too).
async fn run_line(line: &str, ctx: &Context) -> Result<ExitCode> {
    let cli = Cli::try_parse_from(line.split(' ')).map_err(|e| Fail::failure(e.to_string()))?;
    let ctx = Context {
        out: Reporter::new(ctx.out.mode(), false, 0),
        connect: ctx.connect.clone(),
    };
    let fut: Pin<Box<dyn Future<Output = Result<ExitCode>>>> =
        Box::pin(crate::ops::dispatch(cli.command, ctx));
    fut.await
}

/// Waits, silently and for at most `SETTLE_LIMIT`, until a check would find nothing wrong.
/// Right after a rebalance the replicas learn the last slot moves by gossip a moment later, and
/// a check then would print `[ERR] Nodes don't agree` about a cluster that is fine. Returns
/// either way: when the cluster does not settle, the check that follows names the problem.
async fn settle(entry: &NodeAddr, ctx: &Context) {
    let deadline = Instant::now() + SETTLE_LIMIT;
    while !looks_healthy(entry, ctx).await && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What `trib check` tests, without printing: every member loaded, agreement, no open or
/// uncovered slot, no key in a slot its master does not own, every DBSIZE answered.
async fn looks_healthy(entry: &NodeAddr, ctx: &Context) -> bool {
    let Ok(view) = ClusterView::load_probing(entry, &ctx.connect).await else {
        return false;
    };
    let Ok(found) = strays::find(&view).await else {
        return false;
    };
    Health::assess(&view)
        .with_strays(&view, found, false)
        .problems()
        .is_empty()
        && view.masters().all(|n| n.dbsize.is_ok())
}

/// A sample key and how to read its value back canonically.
pub struct Sample {
    pub key: Bytes,
    pub kind: &'static str,
    pub value: Vec<Vec<u8>>,
}

/// Writes the sample keys; returns them and the types the server does not know.
async fn load_sample(entry: &str, ctx: &Context) -> Result<(Vec<Sample>, Vec<&'static str>)> {
    let view = ClusterView::load(&NodeAddr::parse(entry)?, &ctx.connect).await?;
    let mut keys = Vec::new();
    let mut skipped = Vec::new();
    for kind in TYPES {
        for i in 0..PER_TYPE {
            let key = format!("demo:{kind}:{i}");
            let args: Vec<String> = match kind {
                "string" => vec!["SET".into(), key.clone(), format!("value {i}")],
                "list" => vec![
                    "RPUSH".into(),
                    key.clone(),
                    "a".into(),
                    format!("{i}"),
                    "c".into(),
                ],
                "hash" => vec![
                    "HSET".into(),
                    key.clone(),
                    "f1".into(),
                    format!("{i}"),
                    "f2".into(),
                    "x".into(),
                ],
                "set" => vec!["SADD".into(), key.clone(), "m1".into(), format!("m{i}")],
                "zset" => vec![
                    "ZADD".into(),
                    key.clone(),
                    "1".into(),
                    "one".into(),
                    format!("{i}"),
                    "n".into(),
                ],
                _ => vec![
                    "XADD".into(),
                    key.clone(),
                    "1-1".into(),
                    "field".into(),
                    format!("{i}"),
                ],
            };
            let owner = view
                .owner_of(key_slot(key.as_bytes()))
                .ok_or_else(|| Fail::failure(format!("no owner for {key}")))?;
            match owner.conn.request(&args).await {
                Ok(_) => {}
                // A server without this type (trib-node has no streams yet): skip the type.
                Err(e) if i == 0 && e.to_string().starts_with("ERR unknown command") => {
                    skipped.push(kind);
                    break;
                }
                Err(e) => return Err(Fail::failure(format!("{}: {}: {e}", owner.addr, args[0]))),
            }
            let value = read(&view, key.as_bytes(), kind).await?;
            keys.push(Sample {
                key: Bytes::from(key),
                kind,
                value,
            });
        }
    }
    Ok((keys, skipped))
}

/// The value of `key` as sorted byte strings (order-free for sets and hashes).
async fn read(view: &ClusterView, key: &[u8], kind: &str) -> Result<Vec<Vec<u8>>> {
    let owner = view
        .owner_of(key_slot(key))
        .ok_or_else(|| Fail::failure("slot without owner"))?;
    let mut cmd = match kind {
        "string" => redis::cmd("GET"),
        "list" => {
            let mut c = redis::cmd("LRANGE");
            c.arg(key).arg(0).arg(-1);
            c
        }
        "hash" => redis::cmd("HGETALL"),
        "set" => redis::cmd("SMEMBERS"),
        "zset" => {
            let mut c = redis::cmd("ZRANGE");
            c.arg(key).arg(0).arg(-1).arg("WITHSCORES");
            c
        }
        _ => {
            let mut c = redis::cmd("XRANGE");
            c.arg(key).arg("-").arg("+");
            c
        }
    };
    if matches!(kind, "string" | "hash" | "set") {
        cmd.arg(key);
    }
    let v = owner.conn.query(&cmd).await.map_err(|e| {
        Fail::failure(format!(
            "{}: reading {}: {e}",
            owner.addr,
            String::from_utf8_lossy(key)
        ))
    })?;
    let mut flat = Vec::new();
    flatten(&v, &mut flat);
    if matches!(kind, "hash" | "set") {
        flat.sort();
    }
    Ok(flat)
}

fn flatten(v: &redis::Value, out: &mut Vec<Vec<u8>>) {
    match v {
        redis::Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        other => out.push(crate::ops::call::raw(other).into_bytes()),
    }
}

async fn verify(entry: &str, keys: &[Sample], ctx: &Context) -> Result<()> {
    let view = ClusterView::load(&NodeAddr::parse(entry)?, &ctx.connect).await?;
    for k in keys {
        let now = read(&view, &k.key, k.kind).await?;
        if now != k.value {
            return Err(Fail::failure(format!(
                "key {} changed or was lost",
                String::from_utf8_lossy(&k.key)
            )));
        }
    }
    Ok(())
}

async fn key_spread(entry: &str, ctx: &Context) -> Result<String> {
    let view = ClusterView::load(&NodeAddr::parse(entry)?, &ctx.connect).await?;
    let sizes = crate::ops::common::dbsizes(&view);
    let parts: Vec<String> = view
        .nodes
        .iter()
        .zip(&sizes)
        .filter(|(n, _)| n.is_master())
        .map(|(n, s)| {
            format!(
                "{} has {} keys in {} slots",
                n.addr,
                s.as_ref()
                    .map(|k| k.to_string())
                    .unwrap_or_else(|e| e.clone()),
                n.slots.len()
            )
        })
        .collect();
    Ok(parts.join(", "))
}
