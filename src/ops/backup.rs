//! `trib backup ENTRY DIR`: check the cluster (problems are warned about, not fatal, as in
//! redis-cli), fetch every master's RDB over the replication protocol concurrently
//! (`sync::fetch`), then write the topology as `nodes.json` (redis-cli's shape, plus the file
//! and size of each master's RDB). Every file is written under a temporary name, fsynced and
//! renamed, so a directory never holds a half-written file under a final name; `nodes.json`
//! is written only when every RDB is complete, so its presence means the backup is whole.
//! Reading a backup back is `restore`.

mod sync;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cli::BackupArgs;
use crate::exit::{ExitCode, Fail};
use crate::ops::common::{check_section, load_view_probing, parse_addr};
use crate::ops::Context;
use crate::remote::view::{ClusterNode, ClusterView};
use sync::Framing;

/// The topology file's name, as redis-cli writes it.
pub const NODES_JSON: &str = "nodes.json";

/// Masters fetched at once (each forks for its snapshot; more would only queue on the disk).
const PARALLEL: usize = 16;

/// One node of `nodes.json`: redis-cli's fields (`current_epoch` is really the config epoch,
/// as redis-cli writes it), then trib's own, which redis-cli's backups lack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupNode {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub replicate: Option<String>,
    /// `[start, end]` ranges, `[slot]` for a single slot.
    pub slots: Vec<Vec<u16>>,
    pub slots_count: usize,
    pub flags: String,
    pub current_epoch: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_errors: Option<usize>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub migrating: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub importing: BTreeMap<String, String>,
    /// The master's RDB file in the backup directory (trib only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdb: Option<String>,
    /// Its size in bytes (trib only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdb_bytes: Option<u64>,
}

/// redis-cli's name for a master's RDB file.
pub fn rdb_file_name(host: &str, port: u16, id: &str) -> String {
    format!("redis-node-{host}-{port}-{id}.rdb")
}

/// Writes `bytes` to `dir/name` through a temporary file, fsync and rename.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(name))
}

/// What one master's transfer gave.
struct Saved {
    file: String,
    bytes: u64,
    secs: f64,
}

pub async fn run(args: &BackupArgs, ctx: &Context) -> Result<ExitCode> {
    let out = &ctx.out;
    let entry = parse_addr(&args.node)?;
    let view = load_view_probing(&entry, ctx).await?;
    let health = check_section(&view, false, true, out).await?;
    let problems = health.problems();
    let dir = PathBuf::from(&args.dir);
    std::fs::create_dir_all(&dir).map_err(|e| {
        Fail::failure(format!(
            "cannot create the directory '{}': {e}",
            dir.display()
        ))
    })?;
    let idle = Duration::from_millis(args.timeout.max(1));
    let masters: Vec<&ClusterNode> = view.masters().collect();
    let dir = dir.as_path();
    let results: Vec<(&ClusterNode, Result<Saved>)> = stream::iter(masters.iter().copied())
        .map(|n| async move { (n, save_master(n, dir, idle, ctx).await) })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    let mut saved: BTreeMap<String, Saved> = BTreeMap::new();
    let mut failed = Vec::new();
    for (n, r) in results {
        match r {
            Ok(s) => {
                saved.insert(n.id.clone(), s);
            }
            Err(e) => {
                out.err(&format!("Node {}: backup failed: {e:#}", n.addr));
                failed.push(json!({"node": n.name(), "id": n.id, "error": format!("{e:#}")}));
            }
        }
    }
    let files: Vec<_> = masters
        .iter()
        .filter_map(|n| {
            saved.get(&n.id).map(|s| {
                json!({"node": n.name(), "id": n.id, "file": s.file, "bytes": s.bytes, "seconds": s.secs})
            })
        })
        .collect();
    if !failed.is_empty() {
        out.json(&json!({"ok": false, "dir": args.dir, "files": files, "failed": failed, "problems": problems}));
        let msg = format!(
            "{} of {} masters could not be saved; {NODES_JSON} was not written, so this directory is not a complete backup",
            failed.len(),
            masters.len()
        );
        return Err(if out.is_json() {
            Fail::reported()
        } else {
            Fail::failure(msg)
        });
    }
    let nodes = nodes_json(
        &view,
        &saved,
        (!problems.is_empty()).then_some(problems.len()),
    );
    let path = dir.join(NODES_JSON);
    out.step(&format!(
        "Saving cluster configuration to: {}",
        path.display()
    ));
    let text = serde_json::to_string_pretty(&nodes)? + "\n";
    write_atomically(dir, NODES_JSON, text.as_bytes())
        .with_context(|| format!("Could not save nodes to: {}", path.display()))?;
    if !problems.is_empty() {
        out.warn("*** Cluster seems to have some problems, please be aware of it if you're going to restore this backup.");
    }
    out.ok(&format!("Backup created into: {}", args.dir));
    out.json(&json!({"ok": true, "dir": args.dir, "files": files, "nodes_json": NODES_JSON, "problems": problems}));
    Ok(ExitCode::Success)
}

/// One master: SYNC into a temporary file, then rename it to redis-cli's name.
async fn save_master(n: &ClusterNode, dir: &Path, idle: Duration, ctx: &Context) -> Result<Saved> {
    let out = &ctx.out;
    let name = rdb_file_name(&n.addr.host, n.addr.port, &n.id);
    let final_path = dir.join(&name);
    let tmp = dir.join(format!(".{name}.tmp"));
    out.step(&format!("Node {} -> Saving RDB...", n.addr));
    let started = Instant::now();
    let shown = final_path.display().to_string();
    let on_start: sync::OnStart<'_> = Box::new(move |framing| match framing {
        Framing::Length(len) => out.line(&format!(
            "SYNC sent to master, writing {len} bytes to '{shown}'"
        )),
        Framing::EofMark => out.line(&format!(
            "SYNC sent to master, writing bytes of bulk transfer until EOF marker to '{shown}'"
        )),
    });
    let fetched = sync::fetch(&n.addr, &ctx.connect, &tmp, idle, on_start).await;
    let transfer = match fetched {
        Ok(t) => t,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    std::fs::rename(&tmp, &final_path)
        .with_context(|| format!("Error renaming '{}' to '{name}'", tmp.display()))?;
    let secs = started.elapsed().as_secs_f64();
    out.line(&format!(
        "Node {}: transfer finished with success ({} bytes in {secs:.2} s).",
        n.addr, transfer.bytes
    ));
    Ok(Saved {
        file: name,
        bytes: transfer.bytes,
        secs,
    })
}

/// The topology, one object per node in the view's order (as redis-cli lists them).
fn nodes_json(
    view: &ClusterView,
    saved: &BTreeMap<String, Saved>,
    cluster_errors: Option<usize>,
) -> Vec<BackupNode> {
    view.nodes
        .iter()
        .map(|n| {
            let slots = n
                .slots
                .ranges()
                .iter()
                .map(|r| {
                    if r.start == r.end {
                        vec![r.start.get()]
                    } else {
                        vec![r.start.get(), r.end.get()]
                    }
                })
                .collect();
            let marks = |v: &[(crate::slot::Slot, String)]| {
                v.iter()
                    .map(|(s, id)| (s.get().to_string(), id.clone()))
                    .collect()
            };
            let file = saved.get(&n.id).filter(|_| n.is_master());
            BackupNode {
                name: n.id.clone(),
                host: n.addr.host.clone(),
                port: n.addr.port,
                replicate: if n.replica { n.master_id.clone() } else { None },
                slots,
                slots_count: n.slots.len(),
                flags: n.flags_text(),
                current_epoch: n.config_epoch,
                cluster_errors,
                migrating: marks(&n.migrating),
                importing: marks(&n.importing),
                rdb: file.map(|s| s.file.clone()),
                rdb_bytes: file.map(|s| s.bytes),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_redis_cli_nodes_json() {
        let text = r#"[
  {
    "name": "935c181efa00926124a36190d224df2b92fc0001",
    "host": "127.0.0.1",
    "port": 31001,
    "replicate": null,
    "slots": [[0,5461],[5463]],
    "slots_count": 5462,
    "flags": "master",
    "current_epoch": 15,
    "migrating": {"5462": "136940f5cd825b6cb9ff7e8f6f88894f6f2a990d"}
  }
]"#;
        let nodes: Vec<BackupNode> = serde_json::from_str(text).unwrap();
        assert_eq!(nodes[0].slots, vec![vec![0, 5461], vec![5463]]);
        assert_eq!(nodes[0].replicate, None);
        assert_eq!(nodes[0].rdb, None);
        assert_eq!(nodes[0].migrating.len(), 1);
        let again = serde_json::to_string(&nodes[0]).unwrap();
        assert!(!again.contains("rdb") && !again.contains("importing"));
    }

    #[test]
    fn file_names_are_redis_cli_s() {
        assert_eq!(
            rdb_file_name("127.0.0.1", 31001, "abc"),
            "redis-node-127.0.0.1-31001-abc.rdb"
        );
    }
}
