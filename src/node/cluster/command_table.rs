//! The command-table entries cluster mode adds to trib-node: CLUSTER (a container whose
//! subcommands all run `commands::cluster_command`) and MIGRATE (async, in `migrate`).
//! Argument checking and behaviour live in those files; this is only the table.

use bytes::Bytes;

use super::bus;
use super::commands::cluster_command;
use super::gossip;
use super::hook::{to_server, ClusterRuntime, DbKeys};
use super::migrate;
use crate::node::commands::flag::*;
use crate::node::commands::{CommandSpec, Ctx, Handler};
use crate::node::reply::Reply;

fn cluster_sub(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let Some(rt) = ClusterRuntime::of(ctx.shared) else {
        return Reply::err("This instance has cluster support disabled");
    };
    let mut st = bus::lock(&rt.state);
    let mut keys = DbKeys(ctx.db);
    let reply = cluster_command(&mut st, &a[1..], &mut keys);
    if st.broadcast_pong_needed {
        st.broadcast_pong_needed = false;
        gossip::broadcast_pong(&mut st);
    }
    // Epoch changes reach the disk (fsync'd) before the reply, like Redis; other changes are
    // written by the cluster cron within 100 ms, coalesced (a reshard sends thousands).
    let save = if st.epochs_changed_since_save() {
        st.take_save()
    } else {
        None
    };
    drop(st);
    if let Some(job) = save {
        job.write();
    }
    if a[1].eq_ignore_ascii_case(b"replicate") {
        // Start (or re-point) the data link now rather than at the next replication cron.
        crate::node::commands::replication::reconcile(ctx.shared);
    }
    to_server(reply)
}

const fn sub(name: &'static str, arity: i32, flags: u32) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        first_key: 0,
        last_key: 0,
        step: 0,
        movable_keys: None,
        acl: &["slow"],
        handler: Handler::Sync(cluster_sub),
        subcommands: &[],
    }
}

const ADM: u32 = ADMIN | STALE | NOSCRIPT;
const RO: u32 = STALE | LOADING;

const CLUSTER_SUBCOMMANDS: &[CommandSpec] = &[
    sub("cluster|addslots", -3, ADM),
    sub("cluster|addslotsrange", -4, ADM),
    sub("cluster|bumpepoch", 2, ADM),
    sub("cluster|count-failure-reports", 3, ADM),
    sub("cluster|countkeysinslot", 3, RO),
    sub("cluster|delslots", -3, ADM),
    sub("cluster|delslotsrange", -4, ADM),
    sub("cluster|failover", -2, ADM),
    sub("cluster|flushslots", 2, ADM),
    sub("cluster|forget", 3, ADM),
    sub("cluster|getkeysinslot", 4, RO),
    sub("cluster|help", 2, RO),
    sub("cluster|info", 2, RO),
    sub("cluster|keyslot", 3, RO),
    sub("cluster|links", 2, RO),
    sub("cluster|meet", -4, ADM),
    sub("cluster|myid", 2, RO),
    sub("cluster|nodes", 2, RO),
    sub("cluster|replicas", 3, ADM),
    sub("cluster|replicate", 3, ADM),
    sub("cluster|reset", -2, ADM),
    sub("cluster|saveconfig", 2, ADM),
    sub("cluster|set-config-epoch", 3, ADM),
    sub("cluster|setslot", -4, ADM),
    sub("cluster|shards", 2, RO),
    sub("cluster|slaves", 3, ADM),
    sub("cluster|slots", 2, RO),
];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "cluster",
        arity: -2,
        flags: 0,
        acl: &["slow"],
        handler: Handler::Container,
        subcommands: CLUSTER_SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "migrate",
        arity: -6,
        flags: WRITE,
        // what COMMAND shows (redis-py reads it); the real positions come from movable_keys
        first_key: 3,
        last_key: 3,
        step: 1,
        movable_keys: Some(migrate::key_positions),
        acl: &["keyspace", "write", "slow", "dangerous"],
        handler: Handler::Async {
            run: migrate::migrate_async,
            in_multi: migrate::migrate_in_multi,
        },
        ..CommandSpec::DEFAULT
    },
];
