//! `trib info`: keys, slots and replicas of every master, the total and the average, in
//! redis-cli's format (or `--json`). Exits 1 when a master's key count cannot be read.

use anyhow::Result;
use serde_json::json;

use crate::cli::InfoArgs;
use crate::exit::{ExitCode, Fail};
use crate::ops::common::{dbsizes, load_view_masters, parse_entry, print_info};
use crate::ops::Context;
use crate::output::json;

pub async fn run(args: &InfoArgs, ctx: &Context) -> Result<ExitCode> {
    let entry = parse_entry(&args.entry.node)?;
    let view = load_view_masters(&entry, ctx).await?;
    let sizes = dbsizes(&view);
    let total = print_info(&view, &sizes, &ctx.out);
    if ctx.out.is_json() {
        let masters: Vec<_> = view
            .nodes
            .iter()
            .zip(&sizes)
            .filter(|(n, _)| !n.replica)
            .map(|(n, s)| json::node(&view, n, s.as_ref().ok().copied()))
            .collect();
        let keys = total.as_ref().ok().copied();
        ctx.out.json(&json!({
            "ok": total.is_ok(),
            "entry": view.entry.to_string(),
            "masters": masters,
            "keys": keys,
            "keys_per_slot": keys.map(|k| k as f64 / 16384.0),
            "error": total.as_ref().err(),
        }));
        return match total {
            Ok(_) => Ok(ExitCode::Success),
            Err(_) => Err(Fail::reported()),
        };
    }
    match total {
        Ok(_) => Ok(ExitCode::Success),
        Err(e) => Err(Fail::failure(e)),
    }
}
