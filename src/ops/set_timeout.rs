//! `trib set-timeout ENTRY MS`: CONFIG SET cluster-node-timeout on every node concurrently,
//! then CONFIG REWRITE (as redis-cli). A failed SET fails the run; a failed REWRITE (e.g. a
//! server started without a config file) is a warning: the running value did change.

use anyhow::Result;
use futures_util::future::join_all;
use serde_json::json;

use crate::cli::SetTimeoutArgs;
use crate::exit::{ExitCode, Fail};
use crate::ops::common::{load_view, parse_addr};
use crate::ops::Context;

pub async fn run(args: &SetTimeoutArgs, ctx: &Context) -> Result<ExitCode> {
    let out = &ctx.out;
    if args.milliseconds < 100 {
        return Err(Fail::usage(
            "Setting a node timeout of less than 100 milliseconds is a bad idea.",
        ));
    }
    let entry = parse_addr(&args.node)?;
    let view = load_view(&entry, ctx).await?;
    out.step("Reconfiguring node timeout in every cluster node...");
    let ms = args.milliseconds.to_string();
    let jobs = view.nodes.iter().map(|n| {
        let ms = ms.clone();
        async move {
            let set = n
                .conn
                .request(["CONFIG", "SET", "cluster-node-timeout", ms.as_str()])
                .await;
            let rewrite = match &set {
                Ok(_) => Some(n.conn.request(["CONFIG", "REWRITE"]).await),
                Err(_) => None,
            };
            (n, set, rewrite)
        }
    });
    let (mut ok, mut err, mut unsaved) = (0usize, 0usize, 0usize);
    let mut nodes = Vec::new();
    for (n, set, rewrite) in join_all(jobs).await {
        match (set, rewrite) {
            (Err(e), _) => {
                err += 1;
                out.err(&format!("setting node-timeout for {}: {e}", n.addr));
                nodes.push(
                    json!({"addr": n.name(), "set": false, "saved": false, "error": e.to_string()}),
                );
            }
            (Ok(_), Some(Err(e))) => {
                ok += 1;
                unsaved += 1;
                out.warn(&format!(
                    "New timeout set for {}, but not saved to its config file: {e}",
                    n.addr
                ));
                nodes.push(
                    json!({"addr": n.name(), "set": true, "saved": false, "error": e.to_string()}),
                );
            }
            (Ok(_), _) => {
                ok += 1;
                out.line(&format!("*** New timeout set for {}", n.addr));
                nodes.push(json!({"addr": n.name(), "set": true, "saved": true, "error": null}));
            }
        }
    }
    out.step(&format!("New node timeout set. {ok} OK, {err} ERR."));
    out.json(&json!({"ok": err == 0, "timeout_ms": args.milliseconds, "nodes": nodes, "unsaved": unsaved}));
    if err == 0 {
        Ok(ExitCode::Success)
    } else if out.is_json() {
        Err(Fail::reported())
    } else {
        Err(Fail::failure(format!(
            "{err} node(s) refused the new timeout"
        )))
    }
}
