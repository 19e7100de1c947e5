//! Draining one open slot: GETKEYSINSLOT + MIGRATE batches until the source has no key left.
//! The next GETKEYSINSLOT is sent right behind each MIGRATE on the same connection, so the
//! source executes it as soon as the MIGRATE is done, without waiting for a round trip.
//! BUSYKEY goes to `conflict`; a MIGRATE that times out is retried one key at a time with a
//! longer timeout before the slot is given up.

use bytes::Bytes;

use crate::remote::conn::{describe, Credentials, NodeConn};
use crate::slot::Slot;

use super::{big_key_timeout, conflict, MigrateOptions};

/// The two ends of a slot move.
pub struct Ends<'a> {
    pub source: &'a NodeConn,
    pub target: &'a NodeConn,
}

pub async fn get_keys(conn: &NodeConn, slot: Slot, count: usize) -> Result<Vec<Bytes>, String> {
    let mut cmd = redis::cmd("CLUSTER");
    cmd.arg("GETKEYSINSLOT").arg(slot.get()).arg(count);
    let v = conn.query(&cmd).await.map_err(|e| {
        format!(
            "{}: CLUSTER GETKEYSINSLOT {slot}: {}",
            conn.addr,
            describe(&e)
        )
    })?;
    let keys: Vec<Vec<u8>> = redis::from_redis_value(&v)
        .map_err(|e| format!("{}: CLUSTER GETKEYSINSLOT {slot}: {e}", conn.addr))?;
    Ok(keys.into_iter().map(Bytes::from).collect())
}

/// `MIGRATE host port "" 0 timeout [REPLACE] [AUTH pass | AUTH2 user pass] KEYS k...`
pub fn migrate_cmd(
    target: &NodeConn,
    keys: &[Bytes],
    timeout_ms: u64,
    replace: bool,
    creds: &Credentials,
) -> redis::Cmd {
    let mut cmd = redis::cmd("MIGRATE");
    cmd.arg(&target.addr.host)
        .arg(target.addr.port)
        .arg("")
        .arg(0)
        .arg(timeout_ms);
    if replace {
        cmd.arg("REPLACE");
    }
    match (&creds.user, &creds.pass) {
        (Some(user), Some(pass)) => {
            cmd.arg("AUTH2").arg(user).arg(pass);
        }
        (None, Some(pass)) => {
            cmd.arg("AUTH").arg(pass);
        }
        _ => {}
    }
    cmd.arg("KEYS");
    for k in keys {
        cmd.arg(k.as_ref());
    }
    cmd
}

/// Why a MIGRATE failed, as far as the engine branches on it.
pub enum MigrateError {
    /// A key exists on the target.
    Busy,
    /// The target cannot take keys right now (cluster state not ok yet, loading, resharding).
    Transient(String),
    /// The source gave up waiting for the target (big key, slow target).
    Timeout(String),
    Other(String),
}

pub fn classify(e: &redis::RedisError) -> MigrateError {
    let text = describe(e);
    if text.contains("BUSYKEY") {
        MigrateError::Busy
    } else if ["CLUSTERDOWN", "TRYAGAIN", "LOADING"]
        .iter()
        .any(|t| text.contains(t))
    {
        MigrateError::Transient(text)
    } else if text.starts_with("IOERR") || e.is_timeout() {
        MigrateError::Timeout(text)
    } else {
        MigrateError::Other(text)
    }
}

/// A transient MIGRATE error (CLUSTERDOWN right after a node joined, TRYAGAIN, LOADING) is
/// retried this often, this far apart (10 s in all) before the slot is given up.
const TRANSIENT_RETRIES: u32 = 50;
const TRANSIENT_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

/// Moves every key of `slot`; returns how many keys were sent.
pub async fn drain_slot(
    ends: &Ends<'_>,
    slot: Slot,
    opts: &MigrateOptions,
    on_batch: &(dyn Fn(u64) + Sync),
) -> Result<u64, String> {
    let batch = opts.batch_keys.max(1);
    let mut moved = 0u64;
    let mut keys = get_keys(ends.source, slot, batch).await?;
    let mut transient_retries = 0u32;
    // Bounded: every round moves keys or fails; a slot cannot hold more keys than this.
    for _ in 0..u32::MAX {
        if keys.is_empty() {
            return Ok(moved);
        }
        let cmd = migrate_cmd(
            ends.target,
            &keys,
            opts.timeout_ms,
            opts.replace,
            &opts.credentials,
        );
        let (result, next) =
            futures_util::future::join(ends.source.query(&cmd), get_keys(ends.source, slot, batch))
                .await;
        match result {
            Ok(_) => {
                moved += keys.len() as u64;
                on_batch(keys.len() as u64);
                keys = next?;
            }
            Err(e) => {
                let n = match classify(&e) {
                    MigrateError::Busy => {
                        conflict::resolve(ends, slot, &keys, opts, opts.timeout_ms).await?
                    }
                    MigrateError::Timeout(text) => {
                        retry_alone(ends, slot, &keys, opts, &text).await?
                    }
                    MigrateError::Transient(text) => {
                        transient_retries += 1;
                        if transient_retries > TRANSIENT_RETRIES {
                            return Err(format!(
                                "{}: MIGRATE (slot {slot}): {text} (still after {TRANSIENT_RETRIES} retries)",
                                ends.source.addr
                            ));
                        }
                        tokio::time::sleep(TRANSIENT_PAUSE).await;
                        0
                    }
                    MigrateError::Other(text) => {
                        return Err(format!(
                            "{}: MIGRATE (slot {slot}): {text}",
                            ends.source.addr
                        ))
                    }
                };
                moved += n;
                on_batch(n);
                let again = get_keys(ends.source, slot, batch).await?;
                // A round that moved nothing and left the same keys would repeat forever.
                if n == 0 && again == keys && !matches!(classify(&e), MigrateError::Transient(_)) {
                    return Err(format!(
                        "{}: MIGRATE (slot {slot}) makes no progress: {} key(s) stay on the source ({})",
                        ends.source.addr,
                        keys.len(),
                        describe(&e)
                    ));
                }
                keys = again;
            }
        }
    }
    Err(format!("slot {slot}: too many rounds"))
}

/// After a timeout: each key of the batch alone, with a much longer timeout.
async fn retry_alone(
    ends: &Ends<'_>,
    slot: Slot,
    keys: &[Bytes],
    opts: &MigrateOptions,
    first_error: &str,
) -> Result<u64, String> {
    let long = big_key_timeout(opts.timeout_ms);
    let mut moved = 0;
    for key in keys {
        let one = std::slice::from_ref(key);
        let cmd = migrate_cmd(ends.target, one, long, opts.replace, &opts.credentials);
        match ends.source.query(&cmd).await {
            Ok(_) => moved += 1,
            Err(e) => match classify(&e) {
                MigrateError::Busy => moved += conflict::resolve(ends, slot, one, opts, long).await?,
                MigrateError::Timeout(text)
                | MigrateError::Other(text)
                | MigrateError::Transient(text) => {
                    return Err(format!(
                        "{}: MIGRATE of key '{}' (slot {slot}) failed after a timeout ({first_error}), \
                         and again alone with a {long} ms timeout: {text}",
                        ends.source.addr,
                        conflict::show_key(key)
                    ))
                }
            },
        }
    }
    Ok(moved)
}
