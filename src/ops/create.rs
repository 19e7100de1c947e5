//! `trib create`: validate every node (reachable, cluster mode, empty, not already in a
//! cluster, no duplicates), plan the allocation (`plan::create`), print and confirm it, then
//! apply: ADDSLOTSRANGE, SET-CONFIG-EPOCH, MEET, a bounded wait for the join, REPLICATE, and
//! a final check. Every server error fails the run (redis-cli swallows ADDSLOTS errors).

use std::collections::HashMap;

use anyhow::Result;
use futures_util::future::join_all;
use serde_json::json;

use crate::addr::NodeAddr;
use crate::cli::CreateArgs;
use crate::exit::{ExitCode, Fail};
use crate::ops::common::{check_section, load_view, parse_addr};
use crate::ops::join::{join_timeout, not_joined, wait_state_ok, wait_until};
use crate::ops::Context;
use crate::output::Answer;
use crate::plan::create::{AntiAffinity, Candidate, CreatePlan, Role};
use crate::remote::conn::NodeConn;
use crate::remote::nodes::parse_nodes;
use crate::remote::view::cluster_enabled;
use crate::slot::SlotSet;

/// A node that passed validation.
pub struct Probed {
    pub addr: NodeAddr,
    pub conn: NodeConn,
    pub id: String,
    pub bus_port: u16,
}

pub async fn run(args: &CreateArgs, ctx: &Context) -> Result<ExitCode> {
    let out = &ctx.out;
    let addrs: Vec<NodeAddr> = args
        .nodes
        .iter()
        .map(|a| parse_addr(a))
        .collect::<Result<_>>()?;
    let hosts = join_all(addrs.iter().map(resolve)).await;
    let mut resolved = Vec::with_capacity(addrs.len());
    for (a, h) in addrs.iter().zip(hosts) {
        resolved.push(h.map_err(|_| {
            Fail::failure(format!(
                "Invalid IP address or hostname specified: {}",
                a.host
            ))
        })?);
    }
    let mut seen: HashMap<(String, u16), usize> = HashMap::new();
    for (i, (a, ip)) in addrs.iter().zip(&resolved).enumerate() {
        if let Some(&first) = seen.get(&(ip.clone(), a.port)) {
            return Err(Fail::usage(format!(
                "{} and {} are the same node ({ip}:{}); give each node once",
                args.nodes[first], args.nodes[i], a.port
            )));
        }
        seen.insert((ip.clone(), a.port), i);
    }
    // Arithmetic first: no need to touch a node to know the layout is impossible.
    let placeholder: Vec<Candidate> = addrs
        .iter()
        .zip(&resolved)
        .map(|(a, ip)| Candidate {
            display: a.to_string(),
            host: ip.clone(),
            id: String::new(),
        })
        .collect();
    CreatePlan::build(&placeholder, args.replicas).map_err(|e| Fail::usage(e.to_string()))?;

    let probes = join_all(addrs.iter().map(|a| probe(a, ctx))).await;
    let mut nodes = Vec::with_capacity(probes.len());
    for p in probes {
        nodes.push(p?);
    }
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        if let Some(&first) = ids.get(n.id.as_str()) {
            return Err(Fail::usage(format!(
                "{} and {} are the same node (id {}); give each node once",
                args.nodes[first], args.nodes[i], n.id
            )));
        }
        ids.insert(&n.id, i);
    }
    let candidates: Vec<Candidate> = placeholder
        .into_iter()
        .zip(&nodes)
        .map(|(c, n)| Candidate {
            id: n.id.clone(),
            ..c
        })
        .collect();
    let plan =
        CreatePlan::build(&candidates, args.replicas).map_err(|e| Fail::usage(e.to_string()))?;
    print_plan(&plan, &nodes, ctx);

    if args.dry_run {
        if out.is_json() {
            out.json(&json!({"ok": true, "dry_run": true, "plan": plan_json(&plan, &nodes)}));
        }
        out.line("*** Dry run: nothing was changed.");
        return Ok(ExitCode::Success);
    }
    if !args.confirm.yes {
        match out.confirm("Can I set the above configuration?")? {
            Answer::Yes => {}
            Answer::No => return Err(Fail::failure("configuration declined; nothing was changed")),
            Answer::Eof => {
                return Err(Fail::failure(
                    "no answer (stdin is closed); nothing was changed. Use --yes to create without asking",
                ))
            }
        }
    }
    apply(&plan, &nodes, ctx).await?;

    // Final check from the first node, as redis-cli does; its verdict is the exit code.
    let view = load_view(&nodes[0].addr, ctx).await?;
    let health = check_section(&view, false, true, out).await?;
    let problems = health.problems();
    if out.is_json() {
        out.json(&json!({
            "ok": problems.is_empty(),
            "plan": plan_json(&plan, &nodes),
            "checks": health,
            "problems": problems,
        }));
    }
    if problems.is_empty() {
        Ok(ExitCode::Success)
    } else if out.is_json() {
        Err(Fail::reported())
    } else {
        Err(Fail::failure(format!(
            "the cluster was created but has problems: {}",
            problems.join("; ")
        )))
    }
}

/// The host as an IP (first IPv4 address if there is one), for grouping and MEET.
pub async fn resolve(addr: &NodeAddr) -> Result<String> {
    if addr.host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(addr.host.clone());
    }
    let found: Vec<std::net::SocketAddr> = tokio::net::lookup_host((addr.host.as_str(), addr.port))
        .await?
        .collect();
    let pick = found
        .iter()
        .find(|s| s.is_ipv4())
        .or(found.first())
        .ok_or_else(|| anyhow::anyhow!("no address for {}", addr.host))?;
    Ok(pick.ip().to_string())
}

/// Connects and checks that the node can join a new cluster: cluster mode, no keys, knows no
/// other node, owns no slot.
pub async fn probe(addr: &NodeAddr, ctx: &Context) -> Result<Probed> {
    // Kept typed: an unreachable node is reported where redis-cli reports it (stderr).
    let conn = NodeConn::connect(addr, &ctx.connect).await?;
    let info = conn
        .request_string(["INFO"])
        .await
        .map_err(|e| Fail::failure(format!("Node {addr} {e}")))?;
    if !cluster_enabled(&info) {
        return Err(Fail::failure(format!(
            "Node {addr} is not configured as a cluster node."
        )));
    }
    if let Some(db0) = info.lines().find_map(|l| l.strip_prefix("db0:")) {
        return Err(Fail::failure(format!(
            "Node {addr} is not empty: it holds keys in database 0 ({}).",
            db0.trim()
        )));
    }
    let text = conn
        .request_string(["CLUSTER", "NODES"])
        .await
        .map_err(|e| Fail::failure(format!("Node {addr} CLUSTER NODES: {e}")))?;
    let table = parse_nodes(&text).map_err(|e| Fail::failure(format!("Node {addr}: {e}")))?;
    let me = table
        .iter()
        .find(|l| l.is_myself())
        .ok_or_else(|| Fail::failure(format!("Node {addr}: CLUSTER NODES has no myself line")))?;
    if table.len() > 1 {
        return Err(Fail::failure(format!(
            "Node {addr} is not empty: it already knows {} other node(s), so it is part of a cluster (check with CLUSTER NODES).",
            table.len() - 1
        )));
    }
    if !me.slots.is_empty() {
        return Err(Fail::failure(format!(
            "Node {addr} is not empty: slots {} are already assigned to it.",
            me.slots.ranges_comma()
        )));
    }
    Ok(Probed {
        addr: addr.clone(),
        conn,
        id: me.id.clone(),
        bus_port: me.bus_port,
    })
}

fn print_plan(plan: &CreatePlan, nodes: &[Probed], ctx: &Context) {
    let out = &ctx.out;
    out.step(&format!(
        "Performing hash slots allocation on {} nodes...",
        nodes.len()
    ));
    for (i, &m) in plan.master_order.iter().enumerate() {
        if let Some(r) = plan.range_of(m) {
            out.line(&format!("Master[{i}] -> Slots {} - {}", r.start, r.end));
        }
    }
    if plan
        .affinity_before
        .is_some_and(|a| a != AntiAffinity::Perfect)
    {
        out.step("Trying to optimize slaves allocation for anti-affinity");
    }
    for &(r, m) in &plan.replica_order {
        out.line(&format!(
            "Adding replica {} to {}",
            nodes[r].addr, nodes[m].addr
        ));
    }
    match plan.affinity {
        Some(AntiAffinity::Perfect) => out.ok("Perfect anti-affinity obtained!"),
        Some(AntiAffinity::SameHostAsMaster) => {
            out.warn("Some slaves are in the same host as their master")
        }
        Some(AntiAffinity::SiblingsShareHost) => {
            out.warn("Some slaves of the same master are in the same host")
        }
        None => {}
    }
    for (i, n) in nodes.iter().enumerate() {
        match &plan.roles[i] {
            Role::Master { .. } => {
                let mut slots = SlotSet::new();
                if let Some(r) = plan.range_of(i) {
                    slots.insert_range(r);
                }
                out.line(&format!("M: {} {}", n.id, n.addr));
                out.line(&format!(
                    "   slots:{} ({} slots) master",
                    crate::output::cluster::bracket_ranges(&slots),
                    slots.len()
                ));
            }
            Role::Replica { master } => {
                out.line(&format!("S: {} {}", n.id, n.addr));
                out.line(&format!("   replicates {}", nodes[*master].id));
            }
        }
    }
}

fn plan_json(plan: &CreatePlan, nodes: &[Probed]) -> serde_json::Value {
    let list: Vec<_> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| match &plan.roles[i] {
            Role::Master { .. } => json!({
                "addr": n.addr.to_string(), "id": n.id, "role": "master",
                "slots": plan.range_of(i).map(|r| vec![json!([r.start.get(), r.end.get()])]).unwrap_or_default(),
            }),
            Role::Replica { master } => json!({
                "addr": n.addr.to_string(), "id": n.id, "role": "replica",
                "master_id": nodes[*master].id,
            }),
        })
        .collect();
    json!({ "nodes": list, "anti_affinity": plan.affinity })
}

async fn apply(plan: &CreatePlan, nodes: &[Probed], ctx: &Context) -> Result<()> {
    let out = &ctx.out;
    let adds = nodes.iter().enumerate().filter_map(|(i, n)| {
        plan.range_of(i).map(|r| async move {
            add_slots(&n.conn, r.start.get(), r.end.get())
                .await
                .map_err(|e| {
                    Fail::failure(format!(
                        "{}: CLUSTER ADDSLOTSRANGE {} {}: {e}",
                        n.addr, r.start, r.end
                    ))
                })
        })
    });
    for r in join_all(adds).await {
        r?;
    }
    out.step("Nodes configuration updated");
    out.step("Assign a different config epoch to each node");
    let epochs = nodes.iter().enumerate().map(|(i, n)| async move {
        n.conn
            .request(["CLUSTER", "SET-CONFIG-EPOCH", &(i + 1).to_string()])
            .await
            .map_err(|e| {
                Fail::failure(format!(
                    "{}: CLUSTER SET-CONFIG-EPOCH {}: {e}",
                    n.addr,
                    i + 1
                ))
            })
    });
    for r in join_all(epochs).await {
        r?;
    }
    out.step("Sending CLUSTER MEET messages to join the cluster");
    let first = &nodes[0];
    let ip = resolve(&first.addr).await.map_err(|_| {
        Fail::failure(format!(
            "Invalid IP address or hostname specified: {}",
            first.addr.host
        ))
    })?;
    let meets = nodes[1..]
        .iter()
        .map(|n| meet(&n.conn, &ip, first.addr.port, first.bus_port));
    for r in join_all(meets).await {
        r?;
    }
    let conns: Vec<NodeConn> = nodes.iter().map(|n| n.conn.clone()).collect();
    let total = nodes.len();
    wait_until(
        "Waiting for the cluster to join",
        &conns,
        out,
        join_timeout(total),
        |names, tables| not_joined(names, tables, total),
    )
    .await?;

    let replicas: Vec<(usize, usize)> = plan.replica_order.clone();
    if !replicas.is_empty() {
        out.step("Configuring replicas");
        let reps = replicas.iter().map(|&(r, m)| async move {
            nodes[r]
                .conn
                .request(["CLUSTER", "REPLICATE", nodes[m].id.as_str()])
                .await
                .map_err(|e| {
                    Fail::failure(format!(
                        "{}: CLUSTER REPLICATE {}: {e}",
                        nodes[r].addr, nodes[m].id
                    ))
                })
        });
        for r in join_all(reps).await {
            r?;
        }
        // Wait until every node sees every replica as one, so `info` anywhere counts them.
        let expect: Vec<(String, String)> = replicas
            .iter()
            .map(|&(r, m)| (nodes[r].id.clone(), nodes[m].id.clone()))
            .collect();
        wait_until(
            "Waiting for every node to see the replicas",
            &conns,
            out,
            join_timeout(total),
            |names, tables| {
                not_joined(names, tables, total).or_else(|| {
                    for (name, t) in names.iter().zip(tables) {
                        for (rid, mid) in &expect {
                            let ok = t.iter().any(|l| {
                                &l.id == rid
                                    && l.is_replica()
                                    && l.master_id.as_deref() == Some(mid)
                            });
                            if !ok {
                                return Some(format!(
                                    "{name} does not see {rid} as a replica of {mid} yet"
                                ));
                            }
                        }
                    }
                    None
                })
            },
        )
        .await?;
    }
    // Return only when the cluster serves requests, so a script's next command works.
    wait_state_ok(&conns, join_timeout(total)).await
}

/// ADDSLOTSRANGE where the server has it (7.0+), ADDSLOTS otherwise.
async fn add_slots(
    conn: &NodeConn,
    start: u16,
    end: u16,
) -> Result<(), crate::remote::reply::ReplyError> {
    match conn
        .request([
            "CLUSTER",
            "ADDSLOTSRANGE",
            &start.to_string(),
            &end.to_string(),
        ])
        .await
    {
        Ok(_) => Ok(()),
        Err(e)
            if e.to_string()
                .to_ascii_lowercase()
                .contains("unknown subcommand") =>
        {
            let mut args: Vec<String> = vec!["CLUSTER".into(), "ADDSLOTS".into()];
            args.extend((start..=end).map(|s| s.to_string()));
            conn.request(args).await.map(|_| ())
        }
        Err(e) => Err(e),
    }
}

/// CLUSTER MEET, with the bus port when it is not port+10000.
pub async fn meet(conn: &NodeConn, ip: &str, port: u16, bus_port: u16) -> Result<()> {
    let mut args = vec![
        "CLUSTER".to_string(),
        "MEET".to_string(),
        ip.to_string(),
        port.to_string(),
    ];
    if u32::from(bus_port) != u32::from(port) + 10000 {
        args.push(bus_port.to_string());
    }
    conn.request(args)
        .await
        .map(|_| ())
        .map_err(|e| Fail::failure(format!("{}: CLUSTER MEET {ip} {port}: {e}", conn.addr)))
}
