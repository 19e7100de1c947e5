//! `trib restore ENTRY DIR`: load a backup (trib's or redis-cli's) into a cluster of any shape.
//! Each key of each RDB file is sent as `RESTORE key ttl payload [ABSTTL] [REPLACE]` to the
//! master that owns its slot now, pipelined, every master in flight at once; the payload is
//! the value's bytes from the file with a DUMP footer (`crate::rdb`), never decoded. Keys whose
//! expiry has passed are skipped and counted; keys that exist are reported and kept unless
//! `--replace` (BUSYKEY, as import). Functions stored in the files are not loaded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use serde_json::json;
use tokio::sync::mpsc;

use crate::cli::RestoreArgs;
use crate::exit::{ExitCode, Fail};
use crate::ops::backup::{rdb_file_name, BackupNode, NODES_JSON};
use crate::ops::common::{check_section, load_view, parse_addr};
use crate::ops::import_batches::{count_failure, count_key, FailedKey};
use crate::ops::Context;
use crate::output::Answer;
use crate::rdb::file::Walker;
use crate::rdb::payload::frame_into;
use crate::remote::conn::{describe, ConnectOptions, NodeConn};
use crate::slot::{key_slot, SLOT_COUNT};

/// Names printed in the human report.
const SHOW_NAMES: usize = 10;
/// Batches on the wire per master at once (the next is written while one is answered).
const IN_FLIGHT: usize = 2;
/// Newest RDB version whose files are read (keys of a newer server go to the target as they
/// are; the target refuses what it cannot load).
const MAX_FILE_VERSION: u16 = 12;

/// One RDB file of the backup, and the master it came from when `nodes.json` says.
#[derive(Debug, Clone)]
struct BackupFile {
    path: PathBuf,
    name: String,
    from: Option<String>,
}

#[derive(Debug, Default, Serialize)]
struct Tally {
    read: u64,
    restored: u64,
    existing: u64,
    expired: u64,
    failed: u64,
    other_db: u64,
    functions: u64,
    existing_keys: Vec<String>,
    failed_keys: Vec<FailedKey>,
}

impl Tally {
    fn exists(&mut self, key: &[u8]) {
        count_key(&mut self.existing, &mut self.existing_keys, key);
    }
    fn fail(&mut self, key: &[u8], reason: &str) {
        count_failure(&mut self.failed, &mut self.failed_keys, key, reason);
    }
}

type SharedTally = Arc<Mutex<Tally>>;

fn tally(t: &SharedTally) -> std::sync::MutexGuard<'_, Tally> {
    t.lock().unwrap_or_else(|e| e.into_inner())
}

/// RESTORE commands for one master, and their keys (for the report).
struct Batch {
    bytes: Vec<u8>,
    keys: Vec<Vec<u8>>,
}

pub async fn run(args: &RestoreArgs, ctx: &Context) -> Result<ExitCode> {
    let out = &ctx.out;
    if args.pipeline == 0 {
        return Err(Fail::usage("--pipeline must be at least 1"));
    }
    let entry = parse_addr(&args.node)?;
    let dir = PathBuf::from(&args.dir);
    let files = find_files(&dir, ctx)?;
    let view = load_view(&entry, ctx).await?;
    let health = check_section(&view, false, false, out).await?;
    if !health.agree || health.uncovered_count > 0 || !health.open_slots.is_empty() {
        return Err(Fail::failure(format!(
            "cannot restore into this cluster until it is fixed: {}",
            health.problems().join("; ")
        )));
    }
    let masters: Vec<_> = view.masters().filter(|m| !m.slots.is_empty()).collect();
    let mut owner = vec![0usize; usize::from(SLOT_COUNT)];
    for (i, m) in masters.iter().enumerate() {
        for s in m.slots.iter() {
            owner[s.index()] = i;
        }
    }
    if args.replace && !args.confirm.yes {
        let q = format!(
            "Restore {} file(s) into {}, overwriting keys that exist there?",
            files.len(),
            view.entry
        );
        if out.confirm(&q)? != Answer::Yes {
            return Err(Fail::failure("restore not confirmed; nothing was changed"));
        }
    }
    out.step(&format!(
        "Restoring {} RDB file(s) from {} into {} masters",
        files.len(),
        dir.display(),
        masters.len()
    ));
    let opts = ConnectOptions {
        response_timeout: Duration::from_millis(args.timeout.max(1)),
        ..ctx.connect.clone()
    };
    let mut conns = Vec::new();
    for m in &masters {
        conns.push(NodeConn::connect(&m.addr, &opts).await?);
    }
    let started = Instant::now();
    let shared = SharedTally::default();
    let mut senders = Vec::new();
    let mut workers = Vec::new();
    for conn in conns {
        let (tx, rx) = mpsc::channel::<Batch>(IN_FLIGHT * 2);
        senders.push(tx);
        workers.push(tokio::spawn(send_batches(conn, rx, shared.clone())));
    }
    let reader = {
        let files = files.clone();
        let shared = shared.clone();
        let (pipeline, replace) = (args.pipeline, args.replace);
        tokio::task::spawn_blocking(move || {
            read_files(&files, &owner, &senders, pipeline, replace, &shared)
        })
    };
    let read = reader.await.context("the file reader stopped")?;
    for w in workers {
        let _ = w.await;
    }
    let secs = started.elapsed().as_secs_f64();
    let t = std::mem::take(&mut *tally(&shared));
    if let Err(e) = &read {
        out.err(&format!("{e:#}"));
    }
    report(&t, secs, args.replace, ctx);
    let ok = read.is_ok() && t.existing == 0 && t.failed == 0;
    let file_names: Vec<_> = files
        .iter()
        .map(|f| json!({"file": f.name, "from": f.from}))
        .collect();
    out.json(&json!({
        "ok": ok,
        "dir": args.dir,
        "files": file_names,
        "seconds": secs,
        "error": read.as_ref().err().map(|e| format!("{e:#}")),
        "read": t.read,
        "restored": t.restored,
        "existing": t.existing,
        "expired": t.expired,
        "failed": t.failed,
        "other_db": t.other_db,
        "existing_keys": t.existing_keys,
        "failed_keys": t.failed_keys,
    }));
    if ok {
        return Ok(ExitCode::Success);
    }
    if out.is_json() {
        return Err(Fail::reported());
    }
    Err(Fail::failure(match &read {
        Err(e) => format!("restore stopped: {e:#}"),
        Ok(()) if t.failed > 0 => format!("{} key(s) could not be restored", t.failed),
        Ok(()) => format!(
            "{} key(s) already exist in the cluster and were kept (--replace overwrites them)",
            t.existing
        ),
    }))
}

/// The backup's RDB files: those `nodes.json` names (every master's must be there), or, for
/// a directory without one, every `*.rdb` file in it.
fn find_files(dir: &Path, ctx: &Context) -> Result<Vec<BackupFile>> {
    let nodes_path = dir.join(NODES_JSON);
    if nodes_path.exists() {
        let text = std::fs::read_to_string(&nodes_path)
            .with_context(|| format!("reading {}", nodes_path.display()))?;
        let nodes: Vec<BackupNode> = serde_json::from_str(&text)
            .map_err(|e| Fail::failure(format!("{}: {e}", nodes_path.display())))?;
        let mut files = Vec::new();
        for n in nodes.iter().filter(|n| n.replicate.is_none()) {
            let name = n
                .rdb
                .clone()
                .unwrap_or_else(|| rdb_file_name(&n.host, n.port, &n.name));
            let path = dir.join(&name);
            if !path.is_file() {
                return Err(Fail::failure(format!(
                    "the backup is incomplete: {} (master {}:{}) is missing",
                    path.display(),
                    n.host,
                    n.port
                )));
            }
            files.push(BackupFile {
                path,
                name,
                from: Some(format!("{}:{}", n.host, n.port)),
            });
        }
        return Ok(files);
    }
    let mut files: Vec<BackupFile> = std::fs::read_dir(dir)
        .map_err(|e| {
            Fail::failure(format!(
                "cannot read the directory '{}': {e}",
                dir.display()
            ))
        })?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "rdb"))
        .map(|path| BackupFile {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path,
            from: None,
        })
        .collect();
    if files.is_empty() {
        return Err(Fail::failure(format!(
            "no {NODES_JSON} and no .rdb file in '{}'",
            dir.display()
        )));
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    ctx.out.warn(&format!(
        "No {NODES_JSON} in '{}': restoring every .rdb file there ({}), without checking the backup is complete.",
        dir.display(),
        files.len()
    ));
    Ok(files)
}

/// Walks every file, grouping RESTORE commands by owning master into batches of `pipeline`.
/// Runs on a blocking thread: decoding is CPU work, the sending tasks are not.
fn read_files(
    files: &[BackupFile],
    owner: &[usize],
    senders: &[mpsc::Sender<Batch>],
    pipeline: usize,
    replace: bool,
    shared: &SharedTally,
) -> Result<()> {
    let mut pending: Vec<Batch> = senders
        .iter()
        .map(|_| Batch {
            bytes: Vec::new(),
            keys: Vec::new(),
        })
        .collect();
    let flush = |m: usize, batch: &mut Batch| -> Result<()> {
        let full = std::mem::replace(
            batch,
            Batch {
                bytes: Vec::new(),
                keys: Vec::new(),
            },
        );
        senders[m]
            .blocking_send(full)
            .map_err(|_| anyhow::anyhow!("the connection to a master closed"))
    };
    for file in files {
        let bytes = std::fs::read(&file.path)
            .with_context(|| format!("reading {}", file.path.display()))?;
        let mut walker = Walker::new_up_to(&bytes, MAX_FILE_VERSION)
            .map_err(|e| anyhow::anyhow!("{}: not a loadable RDB file: {e}", file.name))?;
        let now = unix_ms();
        let (mut read, mut expired, mut other_db) = (0u64, 0u64, 0u64);
        loop {
            let at = walker.position();
            let entry = walker
                .next_entry()
                .map_err(|e| anyhow::anyhow!("{}: {e} at byte {at}", file.name))?;
            let Some(entry) = entry else { break };
            read += 1;
            if entry.db != 0 {
                other_db += 1;
                continue;
            }
            let ttl = match entry.expire_at_ms {
                Some(t) if t <= now => {
                    expired += 1;
                    continue;
                }
                Some(t) => Some(t),
                None => None,
            };
            let m = owner[key_slot(&entry.key).index()];
            let batch = &mut pending[m];
            push_restore(&mut batch.bytes, &entry, ttl, walker.version, replace);
            batch.keys.push(entry.key);
            if batch.keys.len() >= pipeline {
                flush(m, batch)?;
            }
        }
        let mut t = tally(shared);
        t.read += read;
        t.expired += expired;
        t.other_db += other_db;
        t.functions += walker.functions as u64;
    }
    for (m, batch) in pending.iter_mut().enumerate() {
        if !batch.keys.is_empty() {
            flush(m, batch)?;
        }
    }
    Ok(())
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn push_bulk(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(format!("${}\r\n", bytes.len()).as_bytes());
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

/// `RESTORE key <abs ms or 0> <payload> [ABSTTL] [REPLACE]`, in RESP.
fn push_restore(
    out: &mut Vec<u8>,
    entry: &crate::rdb::file::RawEntry<'_>,
    expire_at_ms: Option<i64>,
    version: u16,
    replace: bool,
) {
    let argc = 4 + usize::from(expire_at_ms.is_some()) + usize::from(replace);
    out.extend_from_slice(format!("*{argc}\r\n").as_bytes());
    push_bulk(out, b"RESTORE");
    push_bulk(out, &entry.key);
    push_bulk(out, expire_at_ms.unwrap_or(0).to_string().as_bytes());
    let len = 1 + entry.value.len() + crate::rdb::payload::FOOTER_LEN;
    out.extend_from_slice(format!("${len}\r\n").as_bytes());
    frame_into(out, entry.ty, entry.value, version);
    out.extend_from_slice(b"\r\n");
    if expire_at_ms.is_some() {
        push_bulk(out, b"ABSTTL");
    }
    if replace {
        push_bulk(out, b"REPLACE");
    }
}

/// One master's sender: batches go out as they come, `IN_FLIGHT` on the wire at once; each
/// reply is sorted into restored / existing / failed.
async fn send_batches(conn: NodeConn, rx: mpsc::Receiver<Batch>, shared: SharedTally) {
    let batches = stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) });
    let conn = &conn;
    let answers = batches
        .map(|b| async move {
            let result = conn.send_packed(b.bytes, b.keys.len()).await;
            (b.keys, result)
        })
        .buffered(IN_FLIGHT);
    let mut answers = std::pin::pin!(answers);
    while let Some((keys, result)) = answers.next().await {
        let mut t = tally(&shared);
        match result {
            Ok(replies) => {
                for (key, reply) in keys.iter().zip(replies) {
                    match reply.extract_error() {
                        Ok(_) => t.restored += 1,
                        Err(e) if e.code() == Some("BUSYKEY") => t.exists(key),
                        Err(e) => t.fail(key, &format!("{}: {}", conn.addr, describe(&e))),
                    }
                }
            }
            Err(e) => {
                let reason = format!("{}: {}", conn.addr, describe(&e));
                for key in &keys {
                    t.fail(key, &reason);
                }
            }
        }
    }
}

fn names(count: u64, list: &[String]) -> String {
    let shown: Vec<&str> = list.iter().take(SHOW_NAMES).map(|s| s.as_str()).collect();
    let more = count.saturating_sub(shown.len() as u64);
    if more > 0 {
        format!("{} (and {more} more)", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn report(t: &Tally, secs: f64, replace: bool, ctx: &Context) {
    let out = &ctx.out;
    let rate = if secs > 0.0 {
        t.restored as f64 / secs
    } else {
        0.0
    };
    out.line(&format!(
        "Restored {} key(s) in {secs:.2} s ({rate:.0} keys/s); skipped (existing): {}; expired: {}; failed: {}.",
        t.restored, t.existing, t.expired, t.failed
    ));
    if t.other_db > 0 {
        out.warn(&format!(
            "{} key(s) of databases other than 0 were skipped (a cluster has only db 0).",
            t.other_db
        ));
    }
    if t.functions > 0 {
        out.warn(&format!(
            "The backup holds {} function librar(ies), which restore does not load (use FUNCTION RESTORE).",
            t.functions
        ));
    }
    if t.existing > 0 {
        out.err(&format!(
            "{} key(s) already exist in the cluster and were kept{}: {}",
            t.existing,
            if replace {
                ""
            } else {
                " (use --replace to overwrite them)"
            },
            names(t.existing, &t.existing_keys)
        ));
    }
    if t.failed > 0 {
        let mut by_reason: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for f in &t.failed_keys {
            by_reason.entry(&f.reason).or_default().push(f.key.clone());
        }
        out.err(&format!("{} key(s) could not be restored:", t.failed));
        for (reason, keys) in by_reason {
            out.line(&format!(
                "    {reason}: {}",
                names(keys.len() as u64, &keys)
            ));
        }
    }
    if t.existing == 0 && t.failed == 0 {
        out.ok(&format!("{} key(s) restored.", t.restored));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::file::Writer;

    #[test]
    fn restore_commands_carry_a_valid_payload() {
        let mut w = Writer::new(&[]);
        w.select_db(0, 1, 1);
        w.entry(b"k", Some(4102444800000), &[0, 1, b'v']);
        let file = w.finish();
        let mut walker = Walker::new(&file).unwrap();
        let e = walker.next_entry().unwrap().unwrap();
        let mut out = Vec::new();
        push_restore(&mut out, &e, e.expire_at_ms, 10, true);
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.starts_with("*6\r\n$7\r\nRESTORE\r\n$1\r\nk\r\n$13\r\n4102444800000\r\n$13\r\n")
        );
        assert!(text.ends_with("\r\n$6\r\nABSTTL\r\n$7\r\nREPLACE\r\n"));
        let start = out.len() - "\r\n$6\r\nABSTTL\r\n$7\r\nREPLACE\r\n".len() - 13;
        let payload = &out[start..start + 13];
        assert_eq!(crate::rdb::payload::verify(payload).unwrap(), &[0, 1, b'v']);
    }

    #[test]
    fn names_are_bounded() {
        let list: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
        assert!(names(25, &list).ends_with("k9 (and 15 more)"));
        assert_eq!(names(2, &list[..2]), "k0, k1");
    }
}
