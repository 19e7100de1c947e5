//! `trib call ENTRY COMMAND [ARGS...]`: run one command on every node (or only masters /
//! only replicas) concurrently, print each node's reply in view order, and exit 1 when any
//! node answered with an error or could not be reached (redis-cli always exits 0).

use anyhow::Result;
use futures_util::future::join_all;
use serde_json::{json, Value as Json};

use crate::cli::CallArgs;
use crate::exit::{ExitCode, Fail};
use crate::ops::common::{load_view, parse_addr};
use crate::ops::Context;

pub async fn run(args: &CallArgs, ctx: &Context) -> Result<ExitCode> {
    let out = &ctx.out;
    let entry = parse_addr(&args.node)?;
    let (command, only_masters, only_replicas) = split_trailing_flags(args);
    if only_masters && only_replicas {
        return Err(Fail::usage(
            "--only-masters and --only-replicas cannot be used together",
        ));
    }
    let view = load_view(&entry, ctx).await?;
    out.step(&format!("Calling {}", command.join(" ")));
    let targets: Vec<_> = view
        .nodes
        .iter()
        .filter(|n| {
            if n.replica {
                !only_masters
            } else {
                !only_replicas
            }
        })
        .collect();
    let calls = targets
        .iter()
        .map(|n| n.conn.request(command.iter().map(String::as_str)));
    let replies = join_all(calls).await;
    let mut errors = 0usize;
    let mut docs = Vec::new();
    for (n, r) in targets.iter().zip(replies) {
        match r {
            Ok(v) => {
                out.line(&format!("{}: {}", n.addr, raw(&v)));
                docs.push(json!({"addr": n.name(), "id": n.id, "role": role(n.replica), "reply": to_json(&v), "error": null}));
            }
            Err(e) => {
                errors += 1;
                out.line(&format!("{}: {e}", n.addr));
                docs.push(json!({"addr": n.name(), "id": n.id, "role": role(n.replica), "reply": null, "error": e.to_string()}));
            }
        }
    }
    out.json(&json!({"ok": errors == 0, "command": command, "replies": docs}));
    if errors == 0 {
        Ok(ExitCode::Success)
    } else if out.is_json() {
        Err(Fail::reported())
    } else {
        Err(Fail::failure(format!(
            "{errors} of {} nodes replied with an error",
            targets.len()
        )))
    }
}

/// The command takes every word after it, so `call h:p PING --only-masters` would send the
/// flag to the server; trib's own flags at the end of the line are taken back here.
fn split_trailing_flags(args: &CallArgs) -> (Vec<String>, bool, bool) {
    let mut command = args.command.clone();
    let (mut masters, mut replicas) = (args.only_masters, args.only_replicas);
    while command.len() > 1 {
        match command.last().map(String::as_str) {
            Some("--only-masters" | "--cluster-only-masters") => masters = true,
            Some("--only-replicas" | "--cluster-only-replicas") => replicas = true,
            _ => break,
        }
        command.pop();
    }
    (command, masters, replicas)
}

fn role(replica: bool) -> &'static str {
    if replica {
        "replica"
    } else {
        "master"
    }
}

/// redis-cli's raw formatting: strings as text, integers as digits, nil as nothing, arrays one
/// element per line.
pub fn raw(v: &redis::Value) -> String {
    use redis::Value as V;
    match v {
        V::Nil => String::new(),
        V::Int(i) => i.to_string(),
        V::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        V::SimpleString(s) => s.clone(),
        V::Okay => "OK".into(),
        V::Double(d) => d.to_string(),
        V::Boolean(b) => (if *b { "1" } else { "0" }).into(),
        V::BigNumber(n) => n.to_string(),
        V::VerbatimString { text, .. } => text.clone(),
        V::Array(items) | V::Set(items) | V::Push { data: items, .. } => {
            items.iter().map(raw).collect::<Vec<_>>().join("\n")
        }
        V::Map(pairs) => pairs
            .iter()
            .flat_map(|(k, v)| [raw(k), raw(v)])
            .collect::<Vec<_>>()
            .join("\n"),
        V::Attribute { data, .. } => raw(data),
        V::ServerError(e) => format!("{} {}", e.code(), e.details().unwrap_or("")),
    }
}

fn to_json(v: &redis::Value) -> Json {
    use redis::Value as V;
    match v {
        V::Nil => Json::Null,
        V::Int(i) => json!(i),
        V::Array(items) | V::Set(items) | V::Push { data: items, .. } => {
            Json::Array(items.iter().map(to_json).collect())
        }
        V::Map(pairs) => Json::Array(
            pairs
                .iter()
                .map(|(k, v)| json!([to_json(k), to_json(v)]))
                .collect(),
        ),
        V::Double(d) => json!(d),
        V::Boolean(b) => json!(b),
        other => Json::String(raw(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis::Value as V;

    #[test]
    fn raw_formats_like_redis_cli() {
        assert_eq!(raw(&V::Int(158)), "158");
        assert_eq!(raw(&V::Nil), "");
        assert_eq!(
            raw(&V::Array(vec![
                V::BulkString(b"cluster-node-timeout".to_vec()),
                V::BulkString(b"5000".to_vec())
            ])),
            "cluster-node-timeout\n5000"
        );
        assert_eq!(raw(&V::Okay), "OK");
        assert_eq!(
            to_json(&V::Array(vec![V::Int(1), V::Nil])),
            json!([1, null])
        );
    }
}
