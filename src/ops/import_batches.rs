//! The hot path of `trib import`: SCAN the standalone source, group the keys by the master that
//! owns their slot, and MIGRATE full batches, several in flight at once so the source always
//! has the next one queued. BUSYKEY is sorted out key by key into moved, skipped and failed.
//! Prints nothing: the counts and names go into a shared `Tally` the op reports from.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use serde::Serialize;

use crate::migrate::conflict::show_key;
use crate::migrate::keys::{classify, migrate_cmd, MigrateError};
use crate::remote::conn::{describe, Credentials, NodeConn};
use crate::slot::key_slot;

/// Key names kept for the report (the counts are always exact).
pub const KEEP_NAMES: usize = 100;
/// Keys asked for per SCAN call.
const SCAN_COUNT: usize = 1000;
/// A transient MIGRATE error (CLUSTERDOWN, TRYAGAIN, LOADING) is retried this often, this far
/// apart, as the slot engine does.
const TRANSIENT_RETRIES: u32 = 50;
const TRANSIENT_PAUSE: Duration = Duration::from_millis(200);

/// How keys are imported.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Keep the keys on the source (MIGRATE ... COPY).
    pub copy: bool,
    /// Overwrite keys that exist on the cluster.
    pub replace: bool,
    pub timeout_ms: u64,
    /// Most keys per MIGRATE.
    pub batch_keys: usize,
    /// MIGRATE calls queued at the source at once.
    pub in_flight: usize,
    /// The cluster's credentials, for MIGRATE's AUTH/AUTH2.
    pub credentials: Credentials,
}

/// What the import needs: the source (one connection for MIGRATE, one for SCAN, so a SCAN
/// never waits behind the queued MIGRATEs), the masters, and which master owns each slot.
pub struct Job {
    pub source: NodeConn,
    pub scan: NodeConn,
    pub masters: Vec<NodeConn>,
    /// Per slot, an index into `masters` (`None`: nobody owns it).
    pub owner: Vec<Option<usize>>,
    pub opts: ImportOptions,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailedKey {
    pub key: String,
    pub reason: String,
}

/// Counts one key and keeps its name while fewer than `KEEP_NAMES` are kept (import's skipped
/// keys, restore's existing ones).
pub fn count_key(count: &mut u64, names: &mut Vec<String>, key: &[u8]) {
    *count += 1;
    if names.len() < KEEP_NAMES {
        names.push(show_key(key));
    }
}

/// Counts one failed key and keeps it, with why, while fewer than `KEEP_NAMES` are kept.
pub fn count_failure(count: &mut u64, failures: &mut Vec<FailedKey>, key: &[u8], reason: &str) {
    *count += 1;
    if failures.len() < KEEP_NAMES {
        failures.push(FailedKey {
            key: show_key(key),
            reason: reason.to_string(),
        });
    }
}

/// What happened so far; exact counts, names bounded by `KEEP_NAMES`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    pub scanned: u64,
    /// Moved, or with `--copy` copied.
    pub imported: u64,
    /// Left alone because the cluster already had them (no `--replace`).
    pub skipped: u64,
    pub failed: u64,
    /// Gone from the source before their MIGRATE (expired or deleted): not failures.
    pub vanished: u64,
    pub skipped_keys: Vec<String>,
    pub failed_keys: Vec<FailedKey>,
    /// Why the import stopped early (every further batch would fail the same way).
    pub stopped: Option<String>,
}

impl Tally {
    pub fn done(&self) -> u64 {
        self.imported + self.skipped + self.failed + self.vanished
    }
    fn skip(&mut self, key: &[u8]) {
        count_key(&mut self.skipped, &mut self.skipped_keys, key);
    }
    fn fail(&mut self, key: &[u8], reason: &str) {
        count_failure(&mut self.failed, &mut self.failed_keys, key, reason);
    }
}

/// Shared state of a run: the tally and the stop flag (Ctrl-C, or a fatal error).
pub struct Run<'a> {
    pub job: &'a Job,
    pub tally: &'a Mutex<Tally>,
    pub stop: &'a AtomicBool,
}

impl Run<'_> {
    fn with<T>(&self, f: impl FnOnce(&mut Tally) -> T) -> T {
        let mut g = match self.tally.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        f(&mut g)
    }
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
    fn give_up(&self, why: String) {
        self.with(|t| {
            t.stopped.get_or_insert(why);
        });
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Scans the whole source and migrates every key; returns when all batches are answered.
    pub async fn all(&self) {
        let in_flight = self.job.opts.in_flight.max(1);
        let (tx, rx) = tokio::sync::mpsc::channel::<(usize, Vec<Bytes>)>(in_flight * 2);
        let batches =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|b| (b, rx)) },
            )
            .map(|(m, keys)| self.batch(m, keys))
            .buffer_unordered(in_flight)
            .for_each(|()| async {});
        let (scanned, ()) = futures_util::future::join(self.scan(tx), batches).await;
        if let Err(why) = scanned {
            self.give_up(why);
        }
    }

    /// SCAN from cursor 0 until it is 0 again; full batches go out as soon as they fill.
    async fn scan(&self, tx: tokio::sync::mpsc::Sender<(usize, Vec<Bytes>)>) -> Result<(), String> {
        let job = self.job;
        let batch = job.opts.batch_keys.max(1);
        let mut pending: Vec<Vec<Bytes>> = vec![Vec::new(); job.masters.len()];
        let mut cursor = String::from("0");
        loop {
            if self.stopping() {
                return Ok(());
            }
            let v = job
                .scan
                .request(["SCAN", cursor.as_str(), "COUNT", &SCAN_COUNT.to_string()])
                .await
                .map_err(|e| format!("{}: SCAN: {e}", job.scan.addr))?;
            let (next, keys): (String, Vec<Vec<u8>>) =
                redis::from_redis_value(&v).map_err(|e| format!("{}: SCAN: {e}", job.scan.addr))?;
            self.with(|t| t.scanned += keys.len() as u64);
            for key in keys {
                let slot = key_slot(&key);
                let Some(m) = job.owner[slot.index()] else {
                    self.with(|t| t.fail(&key, &format!("slot {slot} has no owner")));
                    continue;
                };
                pending[m].push(Bytes::from(key));
                if pending[m].len() >= batch {
                    let full = std::mem::take(&mut pending[m]);
                    if tx.send((m, full)).await.is_err() {
                        return Ok(());
                    }
                }
            }
            if next == "0" {
                break;
            }
            cursor = next;
        }
        for (m, keys) in pending.into_iter().enumerate() {
            if !keys.is_empty() && tx.send((m, keys)).await.is_err() {
                break;
            }
        }
        Ok(())
    }

    /// One batch for master `m`.
    async fn batch(&self, m: usize, keys: Vec<Bytes>) {
        if self.stopping() {
            return;
        }
        let opts = &self.job.opts;
        let target = &self.job.masters[m];
        let keys = if opts.copy && !opts.replace {
            // The source keeps every key whatever happens, so which ones the target already
            // had can only be told before the MIGRATE.
            match exists(target, &keys).await {
                Ok(present) => {
                    let (on_target, absent): (Vec<_>, Vec<_>) =
                        keys.into_iter().zip(present).partition(|(_, p)| *p);
                    self.with(|t| on_target.iter().for_each(|(k, _)| t.skip(k)));
                    absent.into_iter().map(|(k, _)| k).collect()
                }
                Err(why) => return self.with(|t| keys.iter().for_each(|k| t.fail(k, &why))),
            }
        } else {
            keys
        };
        if keys.is_empty() {
            return;
        }
        match self.migrate(target, &keys, opts.timeout_ms).await {
            Ok(Sent::All) => self.with(|t| t.imported += keys.len() as u64),
            Ok(Sent::NoKey) => self.with(|t| t.vanished += keys.len() as u64),
            Err(MigrateError::Busy) => self.busy(target, &keys).await,
            Err(MigrateError::Timeout(text)) if text.contains("connecting") => {
                self.give_up(format!("the source cannot reach {}: {text}", target.addr));
            }
            Err(MigrateError::Timeout(text)) => self.one_by_one(target, &keys, &text).await,
            Err(MigrateError::Transient(text) | MigrateError::Other(text)) if fatal(&text) => {
                self.give_up(format!("MIGRATE to {}: {text}", target.addr));
            }
            Err(MigrateError::Transient(text) | MigrateError::Other(text)) => {
                let why = format!("MIGRATE to {}: {text}", target.addr);
                self.with(|t| keys.iter().for_each(|k| t.fail(k, &why)));
            }
        }
    }

    /// `MIGRATE ... [COPY] [REPLACE] [AUTH ...] KEYS ...`, transient errors retried.
    async fn migrate(
        &self,
        target: &NodeConn,
        keys: &[Bytes],
        timeout_ms: u64,
    ) -> Result<Sent, MigrateError> {
        let opts = &self.job.opts;
        let cmd = migrate_cmd(target, keys, timeout_ms, opts.replace, &opts.credentials);
        let cmd = if opts.copy { with_copy(&cmd) } else { cmd };
        let mut retries = 0;
        loop {
            match self.job.source.query(&cmd).await {
                Ok(redis::Value::SimpleString(s)) if s == "NOKEY" => return Ok(Sent::NoKey),
                Ok(_) => return Ok(Sent::All),
                Err(e) => match classify(&e) {
                    MigrateError::Transient(_) if retries < TRANSIENT_RETRIES => {
                        retries += 1;
                        tokio::time::sleep(TRANSIENT_PAUSE).await;
                    }
                    other => return Err(other),
                },
            }
        }
    }

    /// After BUSYKEY: Redis migrated the other keys of the batch and kept this one where it
    /// was. Without COPY the keys still on the source are the candidates; with COPY (a key
    /// written to the cluster since the check before the MIGRATE) the copies are compared.
    async fn busy(&self, target: &NodeConn, keys: &[Bytes]) {
        let source = &self.job.source;
        if self.job.opts.copy {
            let (src, tgt) =
                futures_util::future::join(dumps(source, keys), dumps(target, keys)).await;
            let (src, tgt) = match (src, tgt) {
                (Ok(s), Ok(t)) => (s, t),
                (Err(why), _) | (_, Err(why)) => {
                    return self.with(|t| keys.iter().for_each(|k| t.fail(k, &why)))
                }
            };
            return self.with(|t| {
                for ((k, s), d) in keys.iter().zip(src).zip(tgt) {
                    match (s, d) {
                        (None, _) => t.vanished += 1,
                        (Some(s), Some(d)) if s == d => t.imported += 1,
                        (Some(_), Some(_)) => t.skip(k),
                        (Some(_), None) => t.fail(k, "not copied (BUSYKEY in its batch)"),
                    }
                }
            });
        }
        let left = match exists(source, keys).await {
            Ok(p) => p,
            Err(why) => return self.with(|t| keys.iter().for_each(|k| t.fail(k, &why))),
        };
        let left: Vec<Bytes> = keys
            .iter()
            .zip(left)
            .filter(|(_, p)| *p)
            .map(|(k, _)| k.clone())
            .collect();
        self.with(|t| t.imported += (keys.len() - left.len()) as u64);
        let on_target = match exists(target, &left).await {
            Ok(p) => p,
            Err(why) => return self.with(|t| left.iter().for_each(|k| t.fail(k, &why))),
        };
        let mut again = Vec::new();
        self.with(|t| {
            for (k, there) in left.iter().zip(on_target) {
                if there {
                    t.skip(k);
                } else {
                    again.push(k.clone());
                }
            }
        });
        // Left behind for another reason than BUSYKEY (MIGRATE names only the first error).
        if !again.is_empty() {
            let result = self.migrate(target, &again, self.job.opts.timeout_ms).await;
            self.settle(&again, result, target);
        }
    }

    /// After a timeout: each key alone with a much longer timeout (a big key, a slow target).
    async fn one_by_one(&self, target: &NodeConn, keys: &[Bytes], first: &str) {
        let long = self.job.opts.timeout_ms.saturating_mul(10).max(60_000);
        for key in keys {
            if self.stopping() {
                return;
            }
            let one = std::slice::from_ref(key);
            match self.migrate(target, one, long).await {
                // with COPY, maybe the attempt that timed out: `busy` compares the copies
                Err(MigrateError::Busy) => self.busy(target, one).await,
                result => self.settle(one, result.map_err(|e| timed_out(e, first)), target),
            }
        }
    }

    /// Counts a last attempt: imported, vanished, or failed with its reason.
    fn settle(&self, keys: &[Bytes], result: Result<Sent, MigrateError>, target: &NodeConn) {
        self.with(|t| match result {
            Ok(Sent::All) => t.imported += keys.len() as u64,
            Ok(Sent::NoKey) => t.vanished += keys.len() as u64,
            Err(e) => {
                let why = format!("MIGRATE to {}: {}", target.addr, error_text(e));
                keys.iter().for_each(|k| t.fail(k, &why));
            }
        })
    }
}

enum Sent {
    All,
    /// None of the keys existed on the source any more.
    NoKey,
}

fn error_text(e: MigrateError) -> String {
    match e {
        MigrateError::Busy => "BUSYKEY Target key name already exists.".into(),
        MigrateError::Transient(t) | MigrateError::Timeout(t) | MigrateError::Other(t) => t,
    }
}

fn timed_out(e: MigrateError, first: &str) -> MigrateError {
    MigrateError::Other(format!(
        "{first}; alone with a longer timeout: {}",
        error_text(e)
    ))
}

/// Errors every further MIGRATE would get too: stop rather than fail every batch.
fn fatal(text: &str) -> bool {
    [
        "NOAUTH",
        "WRONGPASS",
        "NOPERM",
        "READONLY",
        "unknown command",
        "ERR syntax",
        "wrong number of arguments",
    ]
    .iter()
    .any(|t| text.contains(t))
}

/// `migrate_cmd`'s command with COPY among its options (before KEYS, after the timeout).
fn with_copy(cmd: &redis::Cmd) -> redis::Cmd {
    let mut out = redis::Cmd::new();
    for (i, arg) in cmd.args_iter().enumerate() {
        if i == 6 {
            out.arg("COPY");
        }
        if let redis::Arg::Simple(a) = arg {
            out.arg(a);
        }
    }
    out
}

/// One `cmd key` per key in one pipeline; the replies in order.
async fn per_key(conn: &NodeConn, name: &str, keys: &[Bytes]) -> Result<Vec<redis::Value>, String> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for k in keys {
        pipe.cmd(name).arg(k.as_ref());
    }
    conn.pipeline(&pipe)
        .await
        .map_err(|e| format!("{}: {name}: {}", conn.addr, describe(&e)))
}

/// Which of `keys` exist on `conn`.
async fn exists(conn: &NodeConn, keys: &[Bytes]) -> Result<Vec<bool>, String> {
    let replies = per_key(conn, "EXISTS", keys).await?;
    Ok(replies
        .iter()
        .map(|v| matches!(v, redis::Value::Int(n) if *n > 0))
        .collect())
}

/// Each key's DUMP payload on `conn` (`None`: no such key).
async fn dumps(conn: &NodeConn, keys: &[Bytes]) -> Result<Vec<Option<Vec<u8>>>, String> {
    let replies = per_key(conn, "DUMP", keys).await?;
    Ok(replies
        .into_iter()
        .map(|v| match v {
            redis::Value::BulkString(b) => Some(b),
            _ => None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_goes_among_the_options() {
        let cmd = redis::cmd("MIGRATE")
            .arg("h")
            .arg(1)
            .arg("")
            .arg(0)
            .arg(5)
            .arg("REPLACE")
            .arg("KEYS")
            .arg("a")
            .clone();
        let words: Vec<Vec<u8>> = with_copy(&cmd)
            .args_iter()
            .filter_map(|a| match a {
                redis::Arg::Simple(s) => Some(s.to_vec()),
                _ => None,
            })
            .collect();
        let text: Vec<&str> = words
            .iter()
            .map(|w| std::str::from_utf8(w).unwrap())
            .collect();
        assert_eq!(
            text,
            ["MIGRATE", "h", "1", "", "0", "5", "COPY", "REPLACE", "KEYS", "a"]
        );
    }

    #[test]
    fn auth_and_acl_failures_stop_the_import() {
        assert!(fatal(
            "ERR Target instance replied with error: NOAUTH Authentication required."
        ));
        assert!(fatal(
            "READONLY You can't write against a read only replica."
        ));
        assert!(!fatal(
            "ERR Target instance replied with error: OOM command not allowed"
        ));
    }
}
