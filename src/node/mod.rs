//! trib-node: a Redis-Cluster-compatible server. Config, RESP codec, server, sessions, command
//! table, keyspace with a per-slot key index, DUMP/RESTORE, routing, cluster state and bus.
//! Never imports `ops`, `plan` or `output`.
//!
//! Map: `config`/`config_table` (redis.conf), `resp` + `reply` (codec), `server` (sockets),
//! `session` (per connection), `state` (shared), `commands` (table, dispatch, one file per
//! family), `keyspace` (db0 + slot index + expiry), `router` (the cluster-mode hook), `acl`,
//! `log`, `digest`/`sha1`/`sha256`, `glob`, `num`, `replication` (SYNC/PSYNC snapshots).

pub mod acl;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod config_table;
pub mod digest;
pub mod fasthash;
pub mod glob;
pub mod keyspace;
pub mod log;
pub mod num;
pub mod rdb;
pub mod replication;
pub mod reply;
pub mod resp;
pub mod router;
pub mod server;
pub mod session;
pub mod sha1;
pub mod sha256;
pub mod state;
pub mod value;
pub mod zset;

use std::sync::Arc;

use config::{Config, Startup, REDIS_VERSION};
use state::Shared;

/// Entry point of the `trib-node` binary: parses redis-server style arguments and serves.
#[allow(clippy::print_stderr, clippy::print_stdout)]
pub fn main_entry(args: Vec<String>) -> i32 {
    let config = match Config::from_args(&args) {
        Ok(Startup::Serve(c)) => *c,
        Ok(Startup::Version) => {
            println!("trib-node (Redis compatible) v={REDIS_VERSION}");
            return 0;
        }
        Ok(Startup::Help) => {
            println!("Usage: trib-node [/path/to/redis.conf] [options] [-]\n       trib-node -v or --version\n       trib-node -h or --help\n\nExamples:\n       trib-node (run the server with default config)\n       trib-node /etc/redis/6379.conf\n       trib-node --port 7777\n       trib-node --port 7777 --cluster-enabled yes");
            return 0;
        }
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let dir = config.get("dir").to_string();
    if !dir.is_empty() && dir != "." {
        if let Err(e) = std::env::set_current_dir(&dir) {
            eprintln!("Can't chdir to '{dir}': {e}");
            return 1;
        }
    }
    if let Err(e) = log::init(
        config.get("logfile"),
        log::Level::parse(config.get("loglevel")),
    ) {
        eprintln!("Can't open the log file: {e}");
        return 1;
    }
    let runtime = match runtime_builder().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return 1;
        }
    };
    runtime.block_on(run(config))
}

async fn run(config: Config) -> i32 {
    let port = config.port();
    let binds: Vec<String> = config
        .get("bind")
        .split_whitespace()
        .map(|b| b.trim_start_matches('-').to_string())
        .collect();
    let host = binds.first().cloned().unwrap_or_else(|| "127.0.0.1".into());
    let host = if host == "*" {
        "0.0.0.0".to_string()
    } else {
        host
    };
    log::notice("oO0OoO0OoO0Oo trib-node (Redis compatible) is starting oO0OoO0OoO0Oo");
    log::notice(&format!(
        "trib-node version={REDIS_VERSION}, bits=64, pid={}, just started",
        std::process::id()
    ));
    let shared = Shared::new(config);
    let addr = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            log::warning(&format!(
                "Warning: Could not create server TCP listening socket {addr}: {e}"
            ));
            #[allow(clippy::print_stderr)]
            {
                eprintln!("Could not create server TCP listening socket {addr}: {e}");
            }
            return 1;
        }
    };
    if shared.config().cluster_enabled() {
        if let Err(e) = cluster::hook::start(&shared, &host, port).await {
            log::warning(&e);
            return 1;
        }
    }
    log::notice("Server initialized");
    log::notice("Ready to accept connections tcp");
    server::serve(listener, Arc::clone(&shared), shutdown_signal()).await;
    log::warning("Redis is now ready to exit, bye bye...");
    0
}

/// SIGTERM or SIGINT.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        if let (Ok(mut term), Ok(mut int)) = (term, int) {
            tokio::select! {
                _ = term.recv() => log::warning("Received SIGTERM scheduling shutdown..."),
                _ = int.recv() => log::warning("Received SIGINT scheduling shutdown..."),
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// The runtime: `TRIB_NODE_THREADS` worker threads (default 1: like redis-server's single
/// thread, the keyspace lock is then never contended; sockets still interleave fairly).
fn runtime_builder() -> tokio::runtime::Builder {
    let threads: usize = std::env::var("TRIB_NODE_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    }
}
