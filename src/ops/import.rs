//! `trib import`: copy or move every key of a standalone Redis (db 0) into the cluster. The
//! source is checked first (reachable, its own credentials, not a cluster node), then the
//! cluster (healthy, as before a reshard); `import_batches` does the SCAN + MIGRATE work while
//! this file shows progress (keys/s, ETA) and the summary: imported, skipped, failed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use crate::addr::NodeAddr;
use crate::cli::ImportArgs;
use crate::exit::{ExitCode, Fail};
use crate::migrate::response_timeout_for;
use crate::ops::common::parse_addr;
use crate::ops::import_batches::{ImportOptions, Job, Run, Tally};
use crate::ops::slot_moves::{load_settled, move_options, require_healthy};
use crate::ops::Context;
use crate::output::Mode;
use crate::remote::conn::{ConnectError, ConnectOptions, Credentials, NodeConn};
use crate::remote::view::{cluster_enabled, ClusterView};
use crate::slot::SLOT_COUNT;

/// Names printed in the human report (the JSON document keeps up to `KEEP_NAMES`).
const SHOW_NAMES: usize = 20;

pub async fn run(args: &ImportArgs, ctx: &Context) -> Result<ExitCode> {
    let entry = parse_addr(&args.node)?;
    let from = parse_addr(&args.from)?;
    let moves = move_options(&args.moves, ctx)?;
    let source_pass = if args.from_askpass {
        Some(
            dialoguer::Password::new()
                .with_prompt("Please input import source node password")
                .allow_empty_password(true)
                .interact()?,
        )
    } else {
        args.from_pass.clone()
    };
    ctx.out
        .step(&format!("Importing data from {from} to cluster {entry}"));
    let source_opts = ConnectOptions {
        credentials: Credentials {
            user: args.from_user.clone(),
            pass: source_pass,
        },
        response_timeout: response_timeout_for(moves.timeout_ms),
        ..ctx.connect.clone()
    };
    let (source, scan, total) = open_source(&from, &source_opts, ctx).await?;

    let view = load_settled(&entry, ctx, &moves).await?;
    require_healthy(&view, ctx, true, "importing").await?;
    let (masters, owner) = owners(&view);
    let job = Job {
        source,
        scan,
        opts: ImportOptions {
            copy: args.copy,
            replace: args.moves.replace,
            timeout_ms: moves.timeout_ms,
            batch_keys: moves.batch_keys,
            in_flight: moves.parallel * masters.len().max(1),
            credentials: moves.credentials.clone(),
        },
        masters,
        owner,
    };
    ctx.out
        .line(&format!("*** Importing {total} keys from DB 0"));
    let started = Instant::now();
    let tally = Mutex::new(Tally::default());
    let stop = AtomicBool::new(false);
    let interrupted = drive(&job, &tally, &stop, total, ctx).await;
    let tally = tally.into_inner().unwrap_or_else(|p| p.into_inner());
    report(
        &from,
        &job.opts,
        &tally,
        interrupted,
        started.elapsed(),
        ctx,
    )
}

/// Connects to the source twice (MIGRATE and SCAN), refuses a cluster node, and returns the
/// number of keys in db 0 (for the ETA), warning about keys in other databases.
async fn open_source(
    from: &NodeAddr,
    opts: &ConnectOptions,
    ctx: &Context,
) -> Result<(NodeConn, NodeConn, u64)> {
    let connect = || async {
        NodeConn::connect(from, opts).await.map_err(|e| match e {
            ConnectError::Auth { error, .. } => {
                Fail::failure(format!("Source {from}: AUTH failed: {error}"))
            }
            unreachable => anyhow::Error::new(unreachable),
        })
    };
    let source = connect().await?;
    let info = source.request_string(["INFO"]).await.map_err(|e| {
        let hint = if e.is_auth() {
            " (give the source's password with --from-pass or --from-askpass)"
        } else {
            ""
        };
        Fail::failure(format!("Source {from}: INFO: {e}{hint}"))
    })?;
    if cluster_enabled(&info) {
        return Err(Fail::failure(format!(
            "The source node {from} should not be a cluster node (cluster_enabled:1): import reads a standalone instance"
        )));
    }
    let scan = connect().await?;
    let mut total = 0;
    for (db, keys) in keyspace(&info) {
        if db == 0 {
            total = keys;
        } else {
            ctx.out.line(&format!(
                "*** The source also has {keys} keys in db{db}: a cluster has only db 0, they are not imported"
            ));
        }
    }
    Ok((source, scan, total))
}

/// `(db, keys)` from the `# Keyspace` lines of INFO (`db0:keys=3,expires=0,avg_ttl=0`).
fn keyspace(info: &str) -> Vec<(u32, u64)> {
    info.lines()
        .filter_map(|l| {
            let (db, rest) = l.trim().strip_prefix("db")?.split_once(':')?;
            let keys = rest.split(',').find_map(|f| f.strip_prefix("keys="))?;
            Some((db.parse().ok()?, keys.parse().ok()?))
        })
        .collect()
}

/// The masters' connections and, per slot, the index of its owner.
fn owners(view: &ClusterView) -> (Vec<NodeConn>, Vec<Option<usize>>) {
    let mut owner = vec![None; SLOT_COUNT as usize];
    let mut masters = Vec::new();
    for (i, n) in view.masters().enumerate() {
        for slot in n.slots.iter() {
            owner[slot.index()] = Some(i);
        }
        masters.push(n.conn.clone());
    }
    (masters, owner)
}

/// Runs the import with progress; Ctrl-C stops the scan (the batches in flight finish: every
/// key is on one side or the other, never half-way). Returns whether it was interrupted.
async fn drive(
    job: &Job,
    tally: &Mutex<Tally>,
    stop: &AtomicBool,
    total: u64,
    ctx: &Context,
) -> bool {
    let run = Run { job, tally, stop };
    let work = run.all();
    tokio::pin!(work);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut progress = Progress::new(total, ctx);
    let mut tick = tokio::time::interval(progress.every);
    tick.tick().await;
    let mut interrupted = false;
    loop {
        tokio::select! {
            _ = &mut work => break,
            _ = tick.tick() => progress.show(&snapshot(tally)),
            _ = &mut ctrl_c, if !interrupted => {
                interrupted = true;
                stop.store(true, Ordering::Relaxed);
            }
        }
    }
    progress.finish();
    interrupted
}

fn snapshot(tally: &Mutex<Tally>) -> Tally {
    match tally.lock() {
        Ok(g) => g.clone(),
        Err(p) => p.into_inner().clone(),
    }
}

/// A bar on a terminal, a plain line a second otherwise, NDJSON events with `--json`.
struct Progress<'a> {
    ctx: &'a Context,
    total: u64,
    started: Instant,
    every: Duration,
    bar: Option<indicatif::ProgressBar>,
}

impl<'a> Progress<'a> {
    fn new(total: u64, ctx: &'a Context) -> Progress<'a> {
        let bar = (ctx.out.mode() == Mode::Human && ctx.out.interactive).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total),
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "[{bar:30}] {pos}/{len} keys  {per_sec}  ETA {eta}  {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        });
        let every = Duration::from_millis(if bar.is_some() { 200 } else { 1000 });
        Progress {
            ctx,
            total,
            started: Instant::now(),
            every,
            bar,
        }
    }

    fn show(&mut self, t: &Tally) {
        let done = t.done();
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = done as f64 / secs;
        let left = self.total.saturating_sub(done);
        let eta = if rate > 0.0 { left as f64 / rate } else { 0.0 };
        if let Some(bar) = &self.bar {
            bar.set_length(self.total.max(done));
            bar.set_position(done);
            bar.set_message(format!("skipped {}, failed {}", t.skipped, t.failed));
        } else if self.ctx.out.is_json() {
            self.ctx.out.event(&json!({
                "event": "import_progress", "done": done, "total": self.total,
                "imported": t.imported, "skipped": t.skipped, "failed": t.failed,
                "keys_per_s": rate as u64, "eta_s": eta.round() as u64,
            }));
        } else {
            self.ctx.out.progress_line(&format!(
                "{done}/{} keys ({} imported, {} skipped, {} failed), {} keys/s, ETA {:.0} s",
                self.total.max(done),
                t.imported,
                t.skipped,
                t.failed,
                rate as u64,
                eta
            ));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The summary (and the JSON document); the exit code: 0, 1 when keys failed or the import
/// stopped, 130 when interrupted. Skipped keys are reported, not failures: leaving them is
/// what was asked for without `--replace`.
fn report(
    from: &NodeAddr,
    opts: &ImportOptions,
    t: &Tally,
    interrupted: bool,
    elapsed: Duration,
    ctx: &Context,
) -> Result<ExitCode> {
    let out = &ctx.out;
    let secs = elapsed.as_secs_f64();
    let rate = (t.done() as f64 / secs.max(0.001)) as u64;
    let verb = if opts.copy { "copied" } else { "moved" };
    let ok = t.failed == 0 && t.stopped.is_none() && !interrupted;
    out.json(&json!({
        "ok": ok, "source": from.to_string(), "copy": opts.copy, "replace": opts.replace,
        "scanned": t.scanned, "imported": t.imported, "skipped": t.skipped, "failed": t.failed,
        "vanished": t.vanished, "skipped_keys": t.skipped_keys, "failed_keys": t.failed_keys,
        "interrupted": interrupted, "error": t.stopped, "elapsed_ms": elapsed.as_millis() as u64,
    }));
    if t.skipped > 0 {
        let left = if opts.copy {
            ""
        } else {
            ", left on the source"
        };
        out.warn(&format!(
            "{} keys already exist in the cluster and were not overwritten{left} (--replace overwrites): {}",
            t.skipped,
            names(t.skipped, t.skipped_keys.iter().map(String::as_str))
        ));
    }
    if t.failed > 0 {
        out.err(&format!(
            "{} keys could not be imported; they are still on the source:",
            t.failed
        ));
        for f in t.failed_keys.iter().take(SHOW_NAMES) {
            out.line(&format!("    {}: {}", f.key, f.reason));
        }
        if t.failed > SHOW_NAMES as u64 {
            out.line(&format!(
                "    ... and {} more",
                t.failed - SHOW_NAMES as u64
            ));
        }
    }
    if let Some(why) = &t.stopped {
        out.err(&format!("Import stopped: {why}"));
    }
    let counts = format!(
        "{} keys {verb}, {} skipped, {} failed{} in {secs:.2} s ({rate} keys/s)",
        t.imported,
        t.skipped,
        t.failed,
        if t.vanished > 0 {
            format!(", {} expired or deleted meanwhile", t.vanished)
        } else {
            String::new()
        }
    );
    if interrupted {
        out.err(&format!(
            "Interrupted: {counts}; the rest is still on the source."
        ));
        return Err(anyhow::Error::new(Fail {
            code: ExitCode::Interrupted,
            message: String::new(),
        }));
    }
    if ok {
        out.ok(&format!("Imported from {from}: {counts}."));
        Ok(ExitCode::Success)
    } else {
        out.line(&format!("*** Imported from {from}: {counts}."));
        Err(Fail::reported())
    }
}

/// `a, b, c (and N more)`, at most `SHOW_NAMES` names.
fn names<'a>(count: u64, list: impl Iterator<Item = &'a str>) -> String {
    let shown: Vec<&str> = list.take(SHOW_NAMES).collect();
    let more = count.saturating_sub(shown.len() as u64);
    let mut text = shown.join(", ");
    if more > 0 {
        text.push_str(&format!(" (and {more} more)"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyspace_lines_are_read() {
        let info =
            "# Keyspace\r\ndb0:keys=12,expires=3,avg_ttl=0\r\ndb3:keys=2,expires=0,avg_ttl=0\r\n";
        assert_eq!(keyspace(info), vec![(0, 12), (3, 2)]);
        assert_eq!(keyspace("# Keyspace\r\n"), vec![]);
    }

    #[test]
    fn names_are_bounded() {
        let many: Vec<String> = (0..30).map(|i| format!("k{i}")).collect();
        let text = names(35, many.iter().map(String::as_str));
        assert!(text.starts_with("k0, k1,") && text.ends_with("k19 (and 15 more)"));
        assert_eq!(names(1, ["a"].into_iter()), "a");
    }
}
