//! `trib sandbox`: start a local cluster (trib-node or redis-server), create it with trib's own
//! create, print the addresses and commands to try, stay in the foreground until Ctrl-C, then
//! stop exactly the processes it started and remove their files.

use anyhow::Result;

use crate::cli::{CreateArgs, SandboxArgs};
use crate::exit::{ExitCode, Fail};
use crate::ops::local::{server_name, LocalCluster};
use crate::ops::Context;
use crate::output::{Mode, Reporter};

pub async fn run(args: &SandboxArgs, ctx: &Context) -> Result<ExitCode> {
    let out = &ctx.out;
    if args.masters < 3 {
        return Err(Fail::usage(
            "a cluster needs at least 3 masters (--masters 3 or more)",
        ));
    }
    let count = args.masters * (args.replicas + 1);
    let mut cluster = LocalCluster::start(args.server, count, args.port).await?;
    let result = serve(&mut cluster, args, ctx).await;
    out.step("Stopping the sandbox");
    cluster.stop().await;
    out.ok("Sandbox stopped and its files removed.");
    result
}

async fn serve(cluster: &mut LocalCluster, args: &SandboxArgs, ctx: &Context) -> Result<ExitCode> {
    let out = &ctx.out;
    out.step(&format!(
        "Started {} {} nodes in {}",
        cluster.nodes.len(),
        server_name(args.server),
        cluster.root.display()
    ));
    let create = CreateArgs {
        nodes: cluster.addrs(),
        replicas: args.replicas,
        confirm: crate::cli::AssumeYes { yes: true },
        dry_run: false,
    };
    let quiet = Context {
        out: Reporter::new(Mode::Quiet, false, 0),
        connect: ctx.connect.clone(),
    };
    crate::ops::create::run(&create, &quiet).await?;
    let entry = cluster.addrs()[0].clone();
    out.ok(&format!(
        "Cluster ready: {} masters, {} replica(s) each.",
        args.masters, args.replicas
    ));
    for a in cluster.addrs() {
        out.line(&format!("   {a}"));
    }
    out.line("Try:");
    out.line(&format!("   trib check {entry}"));
    out.line(&format!("   trib info {entry}"));
    out.line(&format!("   trib call {entry} DBSIZE"));
    out.line(&format!(
        "   redis-cli -c -p {} SET hello world",
        cluster.nodes[0].addr.port
    ));
    out.line("Press Ctrl-C to stop the sandbox.");
    out.json(&serde_json::json!({"ok": true, "server": server_name(args.server), "nodes": cluster.addrs()}));
    tokio::signal::ctrl_c().await?;
    out.blank();
    Ok(ExitCode::Success)
}
