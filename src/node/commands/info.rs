//! INFO: the sections Redis 7.0 prints (server, clients, memory, persistence, stats,
//! replication, cpu, modules, errorstats, cluster, keyspace), `\r\n` line endings, `db0:` only
//! when db0 is non-empty, `cluster_enabled` always present.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::flag::*;
use super::{cmd, CommandSpec, Ctx, NOKEYS};
use crate::node::config::REDIS_VERSION;
use crate::node::reply::Reply;
use crate::node::state::lock;

pub const COMMANDS: &[CommandSpec] = &[cmd(
    "info",
    -1,
    LOADING | STALE,
    NOKEYS,
    &["slow", "dangerous"],
    info,
)];

const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

fn info(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let mut wanted: Vec<String> = a[1..]
        .iter()
        .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase())
        .collect();
    if wanted.is_empty()
        || wanted
            .iter()
            .any(|w| w == "default" || w == "all" || w == "everything")
    {
        wanted = DEFAULT.iter().map(|s| s.to_string()).collect();
    }
    let mut out = String::new();
    for name in DEFAULT {
        if !wanted.iter().any(|w| w == name) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        section(ctx, name, &mut out);
    }
    Reply::Verbatim(Bytes::from(out))
}

fn line(out: &mut String, k: &str, v: impl std::fmt::Display) {
    let _ = write!(out, "{k}:{v}\r\n");
}

fn section(ctx: &mut Ctx<'_>, name: &str, out: &mut String) {
    let shared = ctx.shared;
    let config = shared.config().clone();
    let uptime = shared.started.elapsed().as_secs();
    match name {
        "server" => {
            out.push_str("# Server\r\n");
            line(out, "redis_version", REDIS_VERSION);
            line(out, "redis_git_sha1", "00000000");
            line(out, "redis_git_dirty", 0);
            line(out, "redis_build_id", "trib-node");
            line(
                out,
                "redis_mode",
                if shared.cluster().is_some() {
                    "cluster"
                } else {
                    "standalone"
                },
            );
            line(out, "os", std::env::consts::OS);
            line(out, "arch_bits", 64);
            line(out, "monotonic_clock", "POSIX clock_gettime");
            line(out, "multiplexing_api", "epoll");
            line(out, "process_id", std::process::id());
            line(out, "process_supervised", "no");
            line(out, "run_id", &shared.run_id);
            line(out, "tcp_port", shared.tcp_port.load(Ordering::Relaxed));
            line(out, "server_time_usec", ctx.db.now_ms * 1000);
            line(out, "uptime_in_seconds", uptime);
            line(out, "uptime_in_days", uptime / 86400);
            line(out, "hz", config.get("hz"));
            line(out, "configured_hz", config.get("hz"));
            line(out, "lru_clock", (ctx.db.now_ms / 1000) & 0xFFFFFF);
            line(
                out,
                "executable",
                std::env::current_exe()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            );
            line(
                out,
                "config_file",
                config
                    .file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            );
            line(out, "io_threads_active", 0);
        }
        "clients" => {
            let clients = lock(&shared.clients);
            out.push_str("# Clients\r\n");
            line(out, "connected_clients", clients.len());
            line(out, "cluster_connections", 0);
            line(out, "maxclients", config.get("maxclients"));
            line(out, "client_recent_max_input_buffer", 0);
            line(out, "client_recent_max_output_buffer", 0);
            line(out, "blocked_clients", 0);
            line(out, "tracking_clients", 0);
            line(out, "clients_in_timeout_table", 0);
        }
        "memory" => {
            let rss = rss_bytes();
            out.push_str("# Memory\r\n");
            line(out, "used_memory", rss);
            line(out, "used_memory_human", human(rss));
            line(out, "used_memory_rss", rss);
            line(out, "used_memory_rss_human", human(rss));
            line(out, "used_memory_peak", rss);
            line(out, "used_memory_peak_human", human(rss));
            line(out, "maxmemory", config.get_i64("maxmemory"));
            line(
                out,
                "maxmemory_human",
                human(config.get_i64("maxmemory") as u64),
            );
            line(out, "maxmemory_policy", config.get("maxmemory-policy"));
            line(out, "mem_fragmentation_ratio", "1.00");
            line(out, "mem_allocator", "libc");
            line(out, "lazyfree_pending_objects", 0);
        }
        "persistence" => {
            out.push_str("# Persistence\r\n");
            line(out, "loading", 0);
            line(out, "async_loading", 0);
            line(out, "current_cow_peak", 0);
            line(out, "rdb_changes_since_last_save", ctx.db.dirty);
            line(out, "rdb_bgsave_in_progress", 0);
            line(
                out,
                "rdb_last_save_time",
                shared.lastsave_unix.load(Ordering::Relaxed),
            );
            line(out, "rdb_last_bgsave_status", "ok");
            line(out, "aof_enabled", 0);
            line(out, "aof_rewrite_in_progress", 0);
            line(out, "aof_rewrite_scheduled", 0);
            line(out, "aof_last_write_status", "ok");
        }
        "stats" => {
            let s = &shared.stats;
            out.push_str("# Stats\r\n");
            line(
                out,
                "total_connections_received",
                s.connections_received.load(Ordering::Relaxed),
            );
            line(
                out,
                "total_commands_processed",
                s.commands_processed.load(Ordering::Relaxed),
            );
            line(out, "instantaneous_ops_per_sec", 0);
            line(
                out,
                "total_net_input_bytes",
                s.net_input_bytes.load(Ordering::Relaxed),
            );
            line(
                out,
                "total_net_output_bytes",
                s.net_output_bytes.load(Ordering::Relaxed),
            );
            line(
                out,
                "rejected_connections",
                s.rejected_connections.load(Ordering::Relaxed),
            );
            line(out, "expired_keys", ctx.db.stats.expired_keys);
            line(out, "evicted_keys", 0);
            line(out, "keyspace_hits", ctx.db.stats.hits);
            line(out, "keyspace_misses", ctx.db.stats.misses);
            line(out, "pubsub_channels", 0);
            line(out, "pubsub_patterns", 0);
            line(
                out,
                "total_error_replies",
                s.total_error_replies.load(Ordering::Relaxed),
            );
        }
        "replication" => {
            out.push_str("# Replication\r\n");
            out.push_str(&super::replication::info_section(shared));
        }
        "cpu" => {
            out.push_str("# CPU\r\n");
            let (user, sys) = cpu_times();
            line(out, "used_cpu_sys", format!("{sys:.6}"));
            line(out, "used_cpu_user", format!("{user:.6}"));
            line(out, "used_cpu_sys_children", "0.000000");
            line(out, "used_cpu_user_children", "0.000000");
        }
        "modules" => out.push_str("# Modules\r\n"),
        "errorstats" => {
            out.push_str("# Errorstats\r\n");
            for (code, n) in lock(&shared.stats.errors).iter() {
                let _ = write!(out, "errorstat_{code}:count={n}\r\n");
            }
        }
        "cluster" => {
            out.push_str("# Cluster\r\n");
            match shared.cluster() {
                Some(c) => out.push_str(&c.info_section()),
                None => line(out, "cluster_enabled", 0),
            }
        }
        "keyspace" => {
            out.push_str("# Keyspace\r\n");
            if !ctx.db.is_empty() {
                let _ = write!(
                    out,
                    "db0:keys={},expires={},avg_ttl={}\r\n",
                    ctx.db.len(),
                    ctx.db.expires_count(),
                    ctx.db.avg_ttl()
                );
            }
        }
        _ => {}
    }
}

fn human(n: u64) -> String {
    let f = n as f64;
    if f >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}G", f / (1024.0 * 1024.0 * 1024.0))
    } else if f >= 1024.0 * 1024.0 {
        format!("{:.2}M", f / (1024.0 * 1024.0))
    } else if f >= 1024.0 {
        format!("{:.2}K", f / 1024.0)
    } else {
        format!("{n}B")
    }
}

/// Resident set size from /proc (0 where unavailable).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

/// (user, system) CPU seconds of this process from /proc (zeros where unavailable).
fn cpu_times() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = 100.0;
    let user = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / tick;
    let sys = f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / tick;
    (user, sys)
}
