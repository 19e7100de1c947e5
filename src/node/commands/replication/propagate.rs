//! What a master writes into its replication stream for a command it executed: the command
//! itself when replaying it gives the same result, otherwise its effect, as Redis does —
//! relative expiry becomes absolute (`PEXPIREAT`, `SET .. PXAT`), results that depend on the
//! moment or on chance (SPOP, INCRBYFLOAT, RESTORE with a TTL, blocking pops, MIGRATE) become
//! the resulting key (`RESTORE .. REPLACE [ABSTTL]`) or its `DEL`, and keys that expired
//! become `DEL`. Nothing is written while this node is a replica (its stream is its master's).

use bytes::Bytes;

use crate::node::commands::CommandSpec;
use crate::node::keyspace::Keyspace;
use crate::node::rdb::dump;
use crate::node::state::Shared;

type Command = Vec<Bytes>;

/// After a command ran with the keyspace locked; `changed`: it modified the keyspace.
pub fn after_command(
    shared: &Shared,
    db: &mut Keyspace,
    spec: &CommandSpec,
    args: &[Bytes],
    changed: bool,
) {
    expired(shared, db);
    if !changed || !spec.is_write() || !shared.replication.streaming() {
        return;
    }
    for command in rewrite(db, spec, args) {
        feed(shared, &command);
    }
}

/// After an asynchronous write (blocking pops, MIGRATE): the state of every key it names.
pub fn after_async(shared: &Shared, db: &mut Keyspace, spec: &CommandSpec, args: &[Bytes]) {
    expired(shared, db);
    if !spec.is_write() || !shared.replication.streaming() {
        return;
    }
    for key in spec.keys(args) {
        feed(shared, &state_of(db, &key));
    }
}

/// Keys the keyspace deleted because their TTL passed: `DEL` each.
pub fn expired(shared: &Shared, db: &mut Keyspace) {
    if db.expired.is_empty() {
        return;
    }
    let keys = std::mem::take(&mut db.expired);
    if !shared.replication.streaming() {
        return;
    }
    for key in keys {
        feed(shared, &[Bytes::from_static(b"DEL"), key]);
    }
}

fn feed(shared: &Shared, command: &[Bytes]) {
    let parts: Vec<&[u8]> = command.iter().map(|a| a.as_ref()).collect();
    shared.replication.feed_command(&parts);
}

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

/// The commands that replay `args` (already executed on `db`) deterministically.
pub fn rewrite(db: &Keyspace, spec: &CommandSpec, args: &[Bytes]) -> Vec<Command> {
    match spec.name {
        // EXEC's commands were propagated one by one as they ran.
        "exec" | "multi" | "discard" => vec![],
        "expire" | "pexpire" | "expireat" | "pexpireat" | "getex" => vec![ttl_of(db, &args[1])],
        "set" if args.len() > 3 => vec![set_of(db, &args[1], &args[2])],
        "setex" | "psetex" => vec![set_of(db, &args[1], &args[3])],
        // Blocking pops run here only inside EXEC (as their non-blocking forms).
        "incrbyfloat" | "hincrbyfloat" | "spop" | "restore" | "restore-asking" | "blpop"
        | "brpop" | "blmove" | "brpoplpush" | "blmpop" | "bzpopmin" | "bzpopmax" | "bzmpop" => {
            spec.keys(args).iter().map(|k| state_of(db, k)).collect()
        }
        _ => vec![args.to_vec()],
    }
}

fn expire_at(db: &Keyspace, key: &[u8]) -> Option<Option<u64>> {
    db.peek(key).map(|e| e.expire_at)
}

/// `PEXPIREAT key <at>`, `PERSIST key`, or `DEL key` when it is gone.
fn ttl_of(db: &Keyspace, key: &Bytes) -> Command {
    match expire_at(db, key) {
        Some(Some(at)) => vec![b("PEXPIREAT"), key.clone(), Bytes::from(at.to_string())],
        Some(None) => vec![b("PERSIST"), key.clone()],
        None => vec![b("DEL"), key.clone()],
    }
}

/// `SET key value [PXAT at]`, or `DEL key` when it is gone.
fn set_of(db: &Keyspace, key: &Bytes, value: &Bytes) -> Command {
    match expire_at(db, key) {
        Some(Some(at)) => vec![
            b("SET"),
            key.clone(),
            value.clone(),
            b("PXAT"),
            Bytes::from(at.to_string()),
        ],
        Some(None) => vec![b("SET"), key.clone(), value.clone()],
        None => vec![b("DEL"), key.clone()],
    }
}

/// `RESTORE key <0|abs-ms> <payload> REPLACE [ABSTTL]`, or `DEL key` when it is gone.
fn state_of(db: &Keyspace, key: &Bytes) -> Command {
    let Some(entry) = db.peek(key) else {
        return vec![b("DEL"), key.clone()];
    };
    let payload = Bytes::from(dump(&entry.value));
    match entry.expire_at {
        Some(at) => vec![
            b("RESTORE"),
            key.clone(),
            Bytes::from(at.to_string()),
            payload,
            b("REPLACE"),
            b("ABSTTL"),
        ],
        None => vec![b("RESTORE"), key.clone(), b("0"), payload, b("REPLACE")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::commands::dispatch::resolve;
    use crate::node::value::Value;

    fn args(s: &str) -> Vec<Bytes> {
        s.split(' ').map(|a| Bytes::from(a.to_string())).collect()
    }

    fn words(c: &Command) -> Vec<String> {
        c.iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    }

    #[test]
    fn relative_expiry_becomes_absolute() {
        let mut db = Keyspace::new();
        db.set(b("k"), Value::Str(b("v")));
        db.set_expire(b"k", Some(4_000_000_000_000));
        let a = args("SET k v EX 100");
        let out = rewrite(&db, resolve(&a).unwrap(), &a);
        assert_eq!(words(&out[0]), ["SET", "k", "v", "PXAT", "4000000000000"]);
        let a = args("EXPIRE k 100");
        let out = rewrite(&db, resolve(&a).unwrap(), &a);
        assert_eq!(words(&out[0]), ["PEXPIREAT", "k", "4000000000000"]);
        let a = args("EXPIRE gone 100");
        let out = rewrite(&db, resolve(&a).unwrap(), &a);
        assert_eq!(words(&out[0]), ["DEL", "gone"]);
    }

    #[test]
    fn chance_becomes_the_resulting_key_and_the_rest_is_verbatim() {
        let mut db = Keyspace::new();
        db.set(b("f"), Value::Str(b("1.5")));
        let a = args("INCRBYFLOAT f 0.5");
        let out = rewrite(&db, resolve(&a).unwrap(), &a);
        assert_eq!(words(&out[0])[..3], ["RESTORE", "f", "0"]);
        assert_eq!(words(&out[0])[4], "REPLACE");
        let a = args("SPOP s");
        assert_eq!(
            words(&rewrite(&db, resolve(&a).unwrap(), &a)[0]),
            ["DEL", "s"]
        );
        let a = args("LPUSH l a b");
        assert_eq!(rewrite(&db, resolve(&a).unwrap(), &a), vec![a.clone()]);
    }
}
