//! ACL subcommands (basics): WHOAMI SETUSER DELUSER LIST USERS GETUSER CAT HELP, over
//! `node::acl`. Password text never leaves this file: LIST shows SHA-256 digests.

use bytes::Bytes;

use super::flag::*;
use super::keys::help;
use super::{cmd, container, CommandSpec, Ctx, NOKEYS};
use crate::node::reply::Reply;

const ADM: &[&str] = &["admin", "slow", "dangerous"];

pub const COMMANDS: &[CommandSpec] = &[container("acl", -2, 0, &["slow"], SUBS)];

const SUBS: &[CommandSpec] = &[
    cmd(
        "acl|whoami",
        2,
        NOSCRIPT | LOADING | STALE,
        NOKEYS,
        &["slow"],
        whoami,
    ),
    cmd(
        "acl|setuser",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        ADM,
        setuser,
    ),
    cmd(
        "acl|deluser",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        ADM,
        deluser,
    ),
    cmd(
        "acl|list",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        ADM,
        list,
    ),
    cmd(
        "acl|users",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        ADM,
        users,
    ),
    cmd(
        "acl|getuser",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        ADM,
        getuser,
    ),
    cmd("acl|help", 2, LOADING | STALE, NOKEYS, &["slow"], acl_help),
];

fn whoami(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    Reply::bulk_str(&ctx.session.user)
}

fn setuser(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let name = String::from_utf8_lossy(&a[2]).into_owned();
    if name.contains(' ') {
        return Reply::err("Usernames can't contain spaces or null characters");
    }
    let rules: Vec<String> = a[3..]
        .iter()
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .collect();
    let result = ctx.shared.acl_mut().setuser(&name, &rules);
    ctx.shared.refresh_acl();
    match result {
        Ok(()) => Reply::OK,
        Err(e) => Reply::error(e),
    }
}

fn deluser(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    if a[2..].iter().any(|u| u.as_ref() == b"default") {
        return Reply::err("The 'default' user cannot be removed");
    }
    let mut n = 0;
    {
        let mut acl = ctx.shared.acl_mut();
        for u in &a[2..] {
            if acl
                .users
                .remove(String::from_utf8_lossy(u).as_ref())
                .is_some()
            {
                n += 1;
            }
        }
    }
    ctx.shared.refresh_acl();
    Reply::Int(n)
}

fn list(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    let acl = ctx.shared.acl();
    Reply::Array(
        acl.users
            .iter()
            .map(|(n, u)| Reply::Bulk(Bytes::from(format!("user {n} {}", u.describe()))))
            .collect(),
    )
}

fn users(ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    Reply::Array(
        ctx.shared
            .acl()
            .users
            .keys()
            .map(|n| Reply::bulk_str(n))
            .collect(),
    )
}

fn getuser(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let acl = ctx.shared.acl();
    let Some(u) = acl.users.get(String::from_utf8_lossy(&a[2]).as_ref()) else {
        return Reply::NilArray;
    };
    let mut flags = vec![Reply::bulk_str(if u.enabled { "on" } else { "off" })];
    if u.nopass {
        flags.push(Reply::bulk_str("nopass"));
    }
    Reply::Map(vec![
        (Reply::bulk_str("flags"), Reply::Array(flags)),
        (
            Reply::bulk_str("passwords"),
            Reply::Array(u.passwords.iter().map(|p| Reply::bulk_str(p)).collect()),
        ),
        (
            Reply::bulk_str("commands"),
            Reply::bulk_str(if u.all_commands { "+@all" } else { "-@all" }),
        ),
        (
            Reply::bulk_str("keys"),
            Reply::bulk_str(if u.all_keys { "~*" } else { "" }),
        ),
        (
            Reply::bulk_str("channels"),
            Reply::bulk_str(if u.all_channels { "&*" } else { "" }),
        ),
        (Reply::bulk_str("selectors"), Reply::Array(vec![])),
    ])
}

fn acl_help(_ctx: &mut Ctx<'_>, _a: &[Bytes]) -> Reply {
    help(
        "ACL",
        &[
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "GETUSER <username>",
            "    Get the user's details.",
            "LIST",
            "    Show users details in config file format.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    )
}
