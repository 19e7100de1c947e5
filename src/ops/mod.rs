//! One file per subcommand: resolve options, build a plan, confirm, execute. `run` dispatches.
//! Every subcommand of the CLI is dispatched here; none is a stub.

pub mod add_node;
pub mod backup;
pub mod call;
pub mod check;
pub mod common;
pub mod context;
pub mod create;
pub mod del_node;
pub mod demo;
pub mod failover;
pub mod failover_pick;
pub mod failover_target;
pub mod failover_wait;
pub mod fix;
pub mod fix_owners;
pub mod generate;
pub mod import;
pub mod import_batches;
pub mod info;
pub mod join;
pub mod local;
pub mod rebalance;
pub mod reshard;
pub mod restore;
pub mod sandbox;
pub mod set_timeout;
pub mod slot_moves;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::exit::ExitCode;
use crate::output::Reporter;

pub use context::Context;

/// Runs one parsed command line; returns the exit code for a run that completed.
pub fn run(cli: Cli, reporter: Reporter) -> Result<ExitCode> {
    let ctx = Context::resolve(&cli.global, reporter)?;
    // Read-only fan-out (check, info) is I/O-bound: one thread is enough, and skipping the
    // worker threads' start-up and hand-offs is a measurable share of a ~20 ms run.
    if matches!(cli.command, Command::Check(_) | Command::Info(_)) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let result = runtime.block_on(dispatch(cli.command, ctx));
        // Dropping the runtime tears down every connection task one by one (~4% of a check);
        // the process exits right after this, which closes the sockets anyway.
        std::mem::forget(runtime);
        return result;
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(dispatch(cli.command, ctx))
}

/// Runs one subcommand (also used by `demo` to run the others as a user would).
pub async fn dispatch(command: Command, ctx: Context) -> Result<ExitCode> {
    let _ = &ctx;
    match command {
        Command::Generate(args) => generate::run(&args),
        Command::Check(args) => check::run(&args, &ctx).await,
        Command::Info(args) => info::run(&args, &ctx).await,
        Command::Create(args) => create::run(&args, &ctx).await,
        Command::AddNode(args) => add_node::run(&args, &ctx).await,
        Command::DelNode(args) => del_node::run(&args, &ctx).await,
        Command::Call(args) => call::run(&args, &ctx).await,
        Command::SetTimeout(args) => set_timeout::run(&args, &ctx).await,
        Command::Reshard(args) => reshard::run(&args, &ctx).await,
        Command::Fix(args) => fix::run(&args, &ctx).await,
        Command::Rebalance(args) => rebalance::run(&args, &ctx).await,
        Command::Import(args) => import::run(&args, &ctx).await,
        Command::Backup(args) => backup::run(&args, &ctx).await,
        Command::Restore(args) => restore::run(&args, &ctx).await,
        Command::Failover(args) => failover::run(&args, &ctx).await,
        Command::Sandbox(args) => sandbox::run(&args, &ctx).await,
        Command::Demo(args) => Box::pin(demo::run(&args, &ctx)).await,
    }
}
