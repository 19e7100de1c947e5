//! BUSYKEY: a key of the batch already exists on the target. Never overwrite silently: the
//! DUMP payloads of both copies are compared (DEBUG DIGEST-VALUE is disabled on Redis 7 by
//! default, which is why redis-cli always fails here). Equal copies are replaced, different
//! ones stop the slot with a message naming the keys; `--replace` replaces without asking.

use bytes::Bytes;
use futures_util::future::join_all;

use crate::remote::conn::{describe, NodeConn};
use crate::slot::Slot;

use super::keys::{classify, migrate_cmd, Ends, MigrateError};
use super::MigrateOptions;

/// A key for messages: printable bytes as they are, the rest escaped.
pub fn show_key(key: &[u8]) -> String {
    key.iter()
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect()
}

fn payload(v: &redis::Value) -> Option<Vec<u8>> {
    match v {
        redis::Value::BulkString(b) => Some(b.clone()),
        _ => None,
    }
}

/// DUMP on the source. ASKING first: when the source is a master that does not own the slot
/// (fix drains keys from such masters with the slot IMPORTING there), a plain DUMP would be
/// answered MOVED and the key taken for gone. On the owner ASKING changes nothing.
async fn dump_on_source(conn: &NodeConn, keys: &[Bytes]) -> Result<Vec<Option<Vec<u8>>>, String> {
    let mut pipe = redis::pipe();
    for k in keys {
        pipe.cmd("ASKING").ignore().cmd("DUMP").arg(k.as_ref());
    }
    match conn.pipeline(&pipe).await {
        Ok(values) => Ok(values.iter().map(payload).collect()),
        // Gone from a migrating owner meanwhile (moved by the failed batch): ask key by key.
        Err(e) if matches!(e.code(), Some("ASK") | Some("MOVED")) => {
            join_all(keys.iter().map(|k| async move {
                let mut cmd = redis::cmd("DUMP");
                cmd.arg(k.as_ref());
                match conn.query(&cmd).await {
                    Ok(v) => Ok(payload(&v)),
                    Err(e) if matches!(e.code(), Some("ASK") | Some("MOVED")) => Ok(None),
                    Err(e) => Err(format!("{}: DUMP: {}", conn.addr, describe(&e))),
                }
            }))
            .await
            .into_iter()
            .collect()
        }
        Err(e) => Err(format!("{}: DUMP: {}", conn.addr, describe(&e))),
    }
}

/// The target is importing the slot, so each DUMP needs ASKING right before it; a pipeline
/// keeps the pair together on the shared connection.
async fn dump_on_target(conn: &NodeConn, keys: &[Bytes]) -> Result<Vec<Option<Vec<u8>>>, String> {
    let mut pipe = redis::pipe();
    for k in keys {
        pipe.cmd("ASKING").ignore().cmd("DUMP").arg(k.as_ref());
    }
    let values = conn
        .pipeline(&pipe)
        .await
        .map_err(|e| format!("{}: DUMP: {}", conn.addr, describe(&e)))?;
    Ok(values.iter().map(payload).collect())
}

/// Sends `args` on `conn`, preceded by ASKING when the node is importing the slot.
async fn read(conn: &NodeConn, asking: bool, args: &[&[u8]]) -> Result<redis::Value, String> {
    let mut pipe = redis::pipe();
    if asking {
        pipe.cmd("ASKING").ignore();
    }
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).unwrap_or("TYPE"));
    for a in &args[1..] {
        cmd.arg(*a);
    }
    pipe.add_command(cmd);
    let mut values = conn
        .pipeline(&pipe)
        .await
        .map_err(|e| format!("{}: {}", conn.addr, describe(&e)))?;
    Ok(values.pop().unwrap_or(redis::Value::Nil))
}

/// The content of a set, hash or sorted set in a canonical order. Their DUMP payloads follow
/// each server's hash-table order, so equal values can dump differently; `None` for other types.
async fn canonical(conn: &NodeConn, asking: bool, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let kind: String = redis::from_redis_value(&read(conn, asking, &[b"TYPE", key]).await?)
        .map_err(|e| e.to_string())?;
    let flat: Vec<Vec<u8>> = match kind.as_str() {
        "set" => redis::from_redis_value(&read(conn, asking, &[b"SMEMBERS", key]).await?),
        "hash" => redis::from_redis_value(&read(conn, asking, &[b"HGETALL", key]).await?),
        "zset" => redis::from_redis_value(
            &read(conn, asking, &[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"]).await?,
        ),
        _ => return Ok(None),
    }
    .map_err(|e| e.to_string())?;
    Ok(Some(canonical_form(&kind, flat)))
}

/// One byte string that is equal for two values exactly when their contents are equal: every
/// part is length-prefixed (so `{ab: c}` and `{a: bc}` differ), a hash's field and value stay
/// one item, and sets and hashes are sorted (a sorted set's order is already canonical).
fn canonical_form(kind: &str, flat: Vec<Vec<u8>>) -> Vec<u8> {
    let with_len = |out: &mut Vec<u8>, part: &[u8]| {
        out.extend_from_slice(&(part.len() as u64).to_le_bytes());
        out.extend_from_slice(part);
    };
    let mut items: Vec<Vec<u8>> = match kind {
        "hash" => flat
            .chunks(2)
            .map(|pair| {
                let mut item = Vec::new();
                for part in pair {
                    with_len(&mut item, part);
                }
                item
            })
            .collect(),
        _ => flat,
    };
    if kind != "zset" {
        items.sort();
    }
    let mut out = kind.as_bytes().to_vec();
    for i in &items {
        with_len(&mut out, i);
    }
    out
}

/// Whether two copies hold the same value: equal DUMP payloads, or for sets, hashes and
/// sorted sets (whose payload order is the server's) equal content.
async fn same_value(ends: &Ends<'_>, key: &[u8], src: &[u8], tgt: &[u8]) -> Result<bool, String> {
    if src == tgt {
        return Ok(true);
    }
    let a = canonical(ends.source, true, key).await?;
    let b = canonical(ends.target, true, key).await?;
    Ok(a.is_some() && a == b)
}

/// Resolves a batch that hit BUSYKEY (MIGRATE again with `timeout_ms`). Returns the number of keys moved, or why the slot stops.
pub async fn resolve(
    ends: &Ends<'_>,
    slot: Slot,
    keys: &[Bytes],
    opts: &MigrateOptions,
    timeout_ms: u64,
) -> Result<u64, String> {
    let on_source = dump_on_source(ends.source, keys).await?;
    let present: Vec<(Bytes, Vec<u8>)> = keys
        .iter()
        .zip(on_source)
        .filter_map(|(k, p)| p.map(|p| (k.clone(), p)))
        .collect();
    if present.is_empty() {
        return Ok(0);
    }
    let names: Vec<Bytes> = present.iter().map(|(k, _)| k.clone()).collect();
    let on_target = dump_on_target(ends.target, &names).await?;
    let (mut same, mut absent, mut different) = (Vec::new(), Vec::new(), Vec::new());
    for ((k, src), tgt) in present.into_iter().zip(on_target) {
        match tgt {
            None => absent.push(k),
            Some(_) if opts.replace => same.push(k),
            Some(t) if same_value(ends, &k, &src, &t).await? => same.push(k),
            Some(_) => different.push(k),
        }
    }
    if !different.is_empty() {
        let list: Vec<String> = different.iter().map(|k| show_key(k)).collect();
        return Err(format!(
            "slot {slot}: {} key(s) exist on both {} and {} with different values: {}; \
             fix them by hand or run again with --replace to overwrite the target's copy",
            different.len(),
            ends.source.addr,
            ends.target.addr,
            list.join(", ")
        ));
    }
    let mut moved = 0;
    for (group, replace) in [(same, true), (absent, opts.replace)] {
        if group.is_empty() {
            continue;
        }
        let cmd = migrate_cmd(ends.target, &group, timeout_ms, replace, &opts.credentials);
        match ends.source.query(&cmd).await {
            Ok(_) => moved += group.len() as u64,
            Err(e) => {
                let why = match classify(&e) {
                    MigrateError::Busy => "a key appeared on the target meanwhile".to_string(),
                    MigrateError::Timeout(t)
                    | MigrateError::Other(t)
                    | MigrateError::Transient(t) => t,
                };
                return Err(format!(
                    "{}: MIGRATE (slot {slot}) after BUSYKEY: {why}",
                    ends.source.addr
                ));
            }
        }
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::canonical_form;

    fn parts(words: &[&str]) -> Vec<Vec<u8>> {
        words.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn hash_fields_and_values_keep_their_boundaries() {
        assert_ne!(
            canonical_form("hash", parts(&["ab", "c"])),
            canonical_form("hash", parts(&["a", "bc"]))
        );
        assert_ne!(
            canonical_form("hash", parts(&["a", "b", "c", "d"])),
            canonical_form("hash", parts(&["a", "d", "c", "b"]))
        );
        // the same hash read in another order is the same content
        assert_eq!(
            canonical_form("hash", parts(&["a", "1", "b", "2"])),
            canonical_form("hash", parts(&["b", "2", "a", "1"]))
        );
    }

    #[test]
    fn sets_compare_as_sets_and_sorted_sets_in_order() {
        assert_eq!(
            canonical_form("set", parts(&["x", "y"])),
            canonical_form("set", parts(&["y", "x"]))
        );
        assert_ne!(
            canonical_form("set", parts(&["xy"])),
            canonical_form("set", parts(&["x", "y"]))
        );
        assert_ne!(
            canonical_form("zset", parts(&["a", "1", "b", "2"])),
            canonical_form("zset", parts(&["a", "12", "b", ""]))
        );
        assert_ne!(
            canonical_form("set", parts(&["a"])),
            canonical_form("hash", parts(&["a"]))
        );
    }
}
