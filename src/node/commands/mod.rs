//! The command table: every command's name, arity (Redis convention: negative = at least),
//! flags, key positions (first/last/step or a movable-keys extractor), ACL categories and
//! handler, grouped by family files. It serves lookup for the dispatcher and the COMMAND
//! replies. Execution order and checks live in `dispatch`.
//!
//! To add a family: write `commands/<family>.rs` with `pub const COMMANDS: &[CommandSpec]`
//! and add ONE line to `FAMILIES` below (plus its `mod` line).

pub mod dispatch;

pub mod acl;
pub mod client;
pub mod collection;
pub mod config;
pub mod connection;
pub mod debug;
pub mod dump;
pub mod expire;
pub mod hash;
pub mod info;
pub mod keys;
pub mod list;
pub mod list_blocking;
pub mod replication;
pub mod server;
pub mod set;
pub mod strings;
pub mod transactions;
pub mod zset;
pub mod zset_algebra;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use super::fasthash::FastMap;
use super::keyspace::Keyspace;
use super::reply::Reply;
use super::session::Session;
use super::state::Shared;

/// Every family's command list. One line per family.
const FAMILIES: &[&[CommandSpec]] = &[
    strings::COMMANDS,
    keys::COMMANDS,
    expire::COMMANDS,
    connection::COMMANDS,
    transactions::COMMANDS,
    server::COMMANDS,
    config::COMMANDS,
    info::COMMANDS,
    client::COMMANDS,
    acl::COMMANDS,
    debug::COMMANDS,
    hash::COMMANDS,
    list::COMMANDS,
    list_blocking::COMMANDS,
    set::COMMANDS,
    zset::COMMANDS,
    zset_algebra::COMMANDS,
    dump::COMMANDS,
    replication::COMMANDS,
    crate::node::cluster::command_table::COMMANDS,
];

/// Command flags (Redis 7.0 names, shown by COMMAND).
pub mod flag {
    pub const WRITE: u32 = 1;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const ASKING: u32 = 1 << 11;
    pub const FAST: u32 = 1 << 12;
    pub const NO_AUTH: u32 = 1 << 13;
    pub const MAY_REPLICATE: u32 = 1 << 14;
    pub const NO_MULTI: u32 = 1 << 15;
    pub const ALLOW_BUSY: u32 = 1 << 16;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 17;

    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// What a synchronous handler sees: the shared state, its session and the locked keyspace
/// (`db.now_ms` is the command's time).
pub struct Ctx<'a> {
    pub shared: &'a Arc<Shared>,
    pub session: &'a mut Session,
    pub db: &'a mut Keyspace,
}

/// Computes key positions from the arguments (movable keys).
pub type KeysFn = fn(&[Bytes]) -> Vec<usize>;
pub type SyncFn = fn(&mut Ctx<'_>, &[Bytes]) -> Reply;
pub type BoxFuture<'a> = Pin<Box<dyn Future<Output = Reply> + Send + 'a>>;
/// An async handler takes the keyspace lock itself (`shared.db.lock().await`) and may hold it
/// across awaits (MIGRATE) or wait without it (blocking commands).
pub type AsyncFn = for<'a> fn(&'a Arc<Shared>, &'a mut Session, Vec<Bytes>) -> BoxFuture<'a>;

#[derive(Clone, Copy)]
pub enum Handler {
    Sync(SyncFn),
    /// `in_multi` runs when the command is queued in MULTI (EXEC holds the lock): e.g. BLPOP
    /// behaves like LPOP there.
    Async {
        run: AsyncFn,
        in_multi: SyncFn,
    },
    /// A container (CONFIG, CLIENT...): dispatch goes to `subcommands`.
    Container,
}

pub struct CommandSpec {
    /// Lowercase name; subcommands are `container|sub`.
    pub name: &'static str,
    pub arity: i32,
    pub flags: u32,
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    /// Key positions computed from the arguments (MIGRATE KEYS, EVAL numkeys...); when set,
    /// COMMAND shows `movablekeys`.
    pub movable_keys: Option<KeysFn>,
    /// ACL categories, e.g. `&["read", "string", "fast"]` (shown as `@read`...).
    pub acl: &'static [&'static str],
    pub handler: Handler,
    pub subcommands: &'static [CommandSpec],
}

fn unimplemented_handler(_: &mut Ctx<'_>, _: &[Bytes]) -> Reply {
    Reply::err("not implemented")
}

impl CommandSpec {
    /// A template for `..CommandSpec::DEFAULT` in family tables.
    pub const DEFAULT: CommandSpec = CommandSpec {
        name: "",
        arity: 1,
        flags: 0,
        first_key: 0,
        last_key: 0,
        step: 0,
        movable_keys: None,
        acl: &[],
        handler: Handler::Sync(unimplemented_handler),
        subcommands: &[],
    };

    pub fn is_write(&self) -> bool {
        self.flags & flag::WRITE != 0
    }
    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }
    /// The name in errors: `get`, `config|get`.
    pub fn display_name(&self) -> &'static str {
        self.name
    }
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a > 0 && argc == a as usize) || (a < 0 && argc >= (-a) as usize)
    }

    /// Positions of the key arguments of a (valid-arity) command.
    pub fn key_positions(&self, args: &[Bytes]) -> Vec<usize> {
        if let Some(f) = self.movable_keys {
            return f(args).into_iter().filter(|i| *i < args.len()).collect();
        }
        if self.first_key <= 0 {
            return Vec::new();
        }
        let argc = args.len() as i32;
        let last = if self.last_key < 0 {
            argc + self.last_key
        } else {
            self.last_key
        };
        let step = self.step.max(1);
        let mut out = Vec::new();
        let mut i = self.first_key;
        while i <= last && i < argc {
            out.push(i as usize);
            i += step;
        }
        out
    }

    pub fn keys(&self, args: &[Bytes]) -> Vec<Bytes> {
        self.key_positions(args)
            .into_iter()
            .map(|i| args[i].clone())
            .collect()
    }
}

pub struct CommandTable {
    // Keyed by bytes so a lookup needs no UTF-8 check of the request's name.
    by_name: FastMap<&'static [u8], &'static CommandSpec>,
    /// All top-level specs, in table order (COMMAND, COMMAND COUNT).
    pub all: Vec<&'static CommandSpec>,
    /// Top-level specs and subcommands (CLIENT LIST maps a spec address back to its name).
    pub flat: Vec<&'static CommandSpec>,
}

impl CommandTable {
    fn build() -> CommandTable {
        let mut by_name = FastMap::default();
        let mut all = Vec::new();
        let mut flat = Vec::new();
        for family in FAMILIES {
            for spec in family.iter() {
                by_name.insert(spec.name.as_bytes(), spec);
                all.push(spec);
                flat.push(spec);
                flat.extend(spec.subcommands.iter());
            }
        }
        CommandTable { by_name, all, flat }
    }

    /// Looks a command up by name, case-insensitively.
    pub fn get(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        let mut buf = [0u8; 32];
        if name.len() > buf.len() {
            return None;
        }
        for (d, s) in buf.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        self.by_name.get(&buf[..name.len()]).copied()
    }
}

/// Finds the subcommand spec of a container (`args[1]`, case-insensitive).
pub fn find_sub(spec: &'static CommandSpec, sub: &[u8]) -> Option<&'static CommandSpec> {
    spec.subcommands.iter().find(|s| {
        let short = s.name.split('|').nth(1).unwrap_or("");
        short.as_bytes().eq_ignore_ascii_case(sub)
    })
}

/// The process-wide command table.
pub fn table() -> &'static CommandTable {
    static TABLE: OnceLock<CommandTable> = OnceLock::new();
    TABLE.get_or_init(CommandTable::build)
}

/// COMMAND INFO entry of one command (10 elements, Redis 7.0 layout).
pub fn describe(spec: &CommandSpec) -> Reply {
    let mut flags: Vec<Reply> = flag::NAMES
        .iter()
        .filter(|(f, _)| spec.flags & f != 0)
        .map(|(_, n)| Reply::simple(n))
        .collect();
    if spec.movable_keys.is_some() {
        flags.push(Reply::simple("movablekeys"));
    }
    let acl = spec
        .acl
        .iter()
        .map(|c| Reply::Simple(format!("@{c}").into()))
        .collect();
    let key_specs = if spec.first_key > 0 {
        let lastkey = if spec.last_key < 0 {
            i64::from(spec.last_key)
        } else {
            i64::from(spec.last_key - spec.first_key)
        };
        vec![Reply::Map(vec![
            (Reply::bulk_str("flags"), Reply::Array(vec![])),
            (
                Reply::bulk_str("begin_search"),
                Reply::Map(vec![
                    (Reply::bulk_str("type"), Reply::bulk_str("index")),
                    (
                        Reply::bulk_str("spec"),
                        Reply::Map(vec![(
                            Reply::bulk_str("index"),
                            Reply::Int(i64::from(spec.first_key)),
                        )]),
                    ),
                ]),
            ),
            (
                Reply::bulk_str("find_keys"),
                Reply::Map(vec![
                    (Reply::bulk_str("type"), Reply::bulk_str("range")),
                    (
                        Reply::bulk_str("spec"),
                        Reply::Map(vec![
                            (Reply::bulk_str("lastkey"), Reply::Int(lastkey)),
                            (Reply::bulk_str("keystep"), Reply::Int(i64::from(spec.step))),
                            (Reply::bulk_str("limit"), Reply::Int(0)),
                        ]),
                    ),
                ]),
            ),
        ])]
    } else {
        vec![]
    };
    Reply::Array(vec![
        Reply::bulk_str(spec.name),
        Reply::Int(i64::from(spec.arity)),
        Reply::Set(flags),
        Reply::Int(i64::from(spec.first_key)),
        Reply::Int(i64::from(spec.last_key)),
        Reply::Int(i64::from(spec.step)),
        Reply::Set(acl),
        Reply::Array(vec![]),
        Reply::Array(key_specs),
        Reply::Array(spec.subcommands.iter().map(describe).collect()),
    ])
}

/// Parses an integer argument (`-ERR value is not an integer or out of range`).
pub fn int_arg(b: &[u8]) -> Result<i64, Reply> {
    crate::node::num::parse_i64(b).ok_or_else(Reply::not_integer)
}

/// Case-insensitive comparison of an argument with an option name.
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// Shorthand for a spec entry in family tables.
pub const fn cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: (i32, i32, i32),
    acl: &'static [&'static str],
    f: SyncFn,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        first_key: keys.0,
        last_key: keys.1,
        step: keys.2,
        movable_keys: None,
        acl,
        handler: Handler::Sync(f),
        subcommands: &[],
    }
}

/// A container command (CONFIG, CLIENT, ...) with its subcommands.
pub const fn container(
    name: &'static str,
    arity: i32,
    flags: u32,
    acl: &'static [&'static str],
    subs: &'static [CommandSpec],
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        first_key: 0,
        last_key: 0,
        step: 0,
        movable_keys: None,
        acl,
        handler: Handler::Container,
        subcommands: subs,
    }
}

pub const NOKEYS: (i32, i32, i32) = (0, 0, 0);
pub const KEY1: (i32, i32, i32) = (1, 1, 1);
