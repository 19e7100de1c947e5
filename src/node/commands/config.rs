//! CONFIG GET / SET / REWRITE / RESETSTAT / HELP over `node::config`. Settings with a live
//! effect are applied here after a successful SET (requirepass -> ACL default user, loglevel).

use bytes::Bytes;

use super::flag::*;
use super::keys::help;
use super::{cmd, container, CommandSpec, Ctx, NOKEYS};
use crate::node::log;
use crate::node::reply::Reply;

const ADM: &[&str] = &["admin", "slow", "dangerous"];

pub const COMMANDS: &[CommandSpec] = &[container("config", -2, 0, &["slow"], SUBS)];

const SUBS: &[CommandSpec] = &[
    cmd(
        "config|get",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        ADM,
        get,
    ),
    cmd(
        "config|set",
        -4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        ADM,
        set,
    ),
    cmd(
        "config|rewrite",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        ADM,
        rewrite,
    ),
    cmd(
        "config|resetstat",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        ADM,
        resetstat,
    ),
    cmd(
        "config|help",
        2,
        LOADING | STALE,
        NOKEYS,
        &["slow"],
        config_help,
    ),
];

fn get(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let patterns: Vec<&[u8]> = a[2..].iter().map(|b| b.as_ref()).collect();
    let pairs = ctx.shared.config().get_matching(&patterns);
    Reply::Map(
        pairs
            .into_iter()
            .map(|(k, v)| (Reply::bulk_str(&k), Reply::bulk_str(&v)))
            .collect(),
    )
}

fn set(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    if a.len() % 2 == 1 {
        return Reply::syntax();
    }
    let pairs: Vec<(String, String)> = a[2..]
        .chunks(2)
        .map(|p| {
            (
                String::from_utf8_lossy(&p[0]).into_owned(),
                String::from_utf8_lossy(&p[1]).into_owned(),
            )
        })
        .collect();
    let changed = match ctx.shared.config_mut().set_many(&pairs) {
        Ok(c) => c,
        Err(e) => return Reply::error(e),
    };
    let config = ctx.shared.config().clone();
    for name in changed {
        match name {
            "requirepass" => ctx.shared.acl_mut().set_requirepass(config.requirepass()),
            "loglevel" => log::set_level(log::Level::parse(config.get("loglevel"))),
            _ => {}
        }
    }
    Reply::OK
}

fn rewrite(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    match ctx.shared.config().rewrite() {
        Ok(()) => {
            log::notice("CONFIG REWRITE executed with success.");
            Reply::OK
        }
        Err(e) => Reply::error(e),
    }
}

fn resetstat(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    ctx.shared.stats.reset();
    ctx.db.stats = Default::default();
    Reply::OK
}

fn config_help(_ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    help(
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    )
}
