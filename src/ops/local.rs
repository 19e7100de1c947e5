//! Local server processes for `sandbox` and `demo`: find the server (trib-node beside this
//! executable, else trib-node built into it as `trib serve-node`; redis-server on PATH), start N
//! cluster-mode nodes on 127.0.0.1 in a private directory, wait until they answer (bounded,
//! quoting a node's own startup error when it exits), and stop exactly those processes by PID
//! and remove the directory. Creating the cluster is left to `ops::create`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use tokio::process::{Child, Command};

use crate::addr::NodeAddr;
use crate::cli::ServerKind;
use crate::exit::Fail;
use crate::remote::conn::{ConnectOptions, NodeConn};

pub fn server_name(kind: ServerKind) -> &'static str {
    match kind {
        ServerKind::TribNode => "trib-node",
        ServerKind::RedisServer => "redis-server",
    }
}

/// How to start a server: a program and the words before its redis-server-style arguments.
#[derive(Debug, Clone)]
pub struct ServerCommand {
    pub program: PathBuf,
    /// `["serve-node"]` when the program is trib itself; empty otherwise.
    pub lead: Vec<String>,
}

impl ServerCommand {
    /// The program and its leading words, as a user would type them.
    pub fn describe(&self) -> String {
        std::iter::once(self.program.display().to_string())
            .chain(self.lead.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Where this server comes from, in a few words, for the tour's first line.
    pub fn origin(&self) -> String {
        if self.lead.is_empty() {
            self.program.display().to_string()
        } else {
            "built into trib".to_string()
        }
    }
}

/// The server program. trib-node: the `trib-node` binary beside the running executable (a
/// `cargo build` puts both in one directory), else this executable itself with `serve-node`
/// (trib carries trib-node's server, so `cargo run --bin trib -- demo`, which builds trib alone,
/// needs nothing else). PATH is not searched for trib-node: an unrelated older one could be
/// there, and the built-in one is always at hand. redis-server: the first one on PATH.
pub fn find_server(kind: ServerKind) -> Result<ServerCommand> {
    match kind {
        ServerKind::TribNode => {
            let exe = std::env::current_exe()
                .map_err(|e| Fail::failure(format!("cannot locate the running trib: {e}")))?;
            let sibling = exe.parent().map(|dir| {
                dir.join(format!(
                    "{}{}",
                    server_name(kind),
                    std::env::consts::EXE_SUFFIX
                ))
            });
            Ok(match sibling.filter(|p| p.is_file()) {
                Some(program) => ServerCommand {
                    program,
                    lead: Vec::new(),
                },
                None => ServerCommand {
                    program: exe,
                    lead: vec![crate::SERVE_NODE_WORD.to_string()],
                },
            })
        }
        ServerKind::RedisServer => std::env::var_os("PATH")
            .and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join(server_name(kind)))
                    .find(|p| p.is_file())
            })
            .map(|program| ServerCommand {
                program,
                lead: Vec::new(),
            })
            .ok_or_else(|| {
                Fail::failure(
                    "redis-server not found on PATH; install it (Debian: apt-get install redis-server) or leave out --server redis-server to use trib-node",
                )
            }),
    }
}

/// One started server.
pub struct LocalNode {
    pub addr: NodeAddr,
    pub bus_port: u16,
    pub dir: PathBuf,
    child: Child,
}

/// Servers started by this process, stopped on `stop` (and killed on drop as a last resort).
pub struct LocalCluster {
    pub kind: ServerKind,
    pub server: ServerCommand,
    pub root: PathBuf,
    pub nodes: Vec<LocalNode>,
    keep: bool,
}

impl LocalCluster {
    /// Starts `count` nodes. With `base_port` the ports are consecutive from it (bus = port +
    /// 10000); otherwise free ports are picked.
    pub async fn start(
        kind: ServerKind,
        count: usize,
        base_port: Option<u16>,
    ) -> Result<LocalCluster> {
        let server = find_server(kind)?;
        let root =
            std::env::temp_dir().join(format!("trib-{}-{}", server_name(kind), std::process::id()));
        std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
        let mut cluster = LocalCluster {
            kind,
            server,
            root,
            nodes: Vec::new(),
            keep: false,
        };
        for i in 0..count {
            let (port, bus) = match base_port {
                Some(p) => {
                    let port = u16::try_from(u32::from(p) + i as u32)
                        .map_err(|_| Fail::usage("--port is too high for that many nodes"))?;
                    let bus = u16::try_from(u32::from(port) + 10000).map_err(|_| {
                        Fail::usage(
                            "--port is too high: bus ports (port + 10000) must stay below 65536",
                        )
                    })?;
                    (port, bus)
                }
                None => (free_port()?, free_port()?),
            };
            let node = spawn(kind, &cluster.server, &cluster.root, port, bus).await;
            match node {
                Ok(n) => cluster.nodes.push(n),
                Err(e) => {
                    cluster.stop().await;
                    return Err(e);
                }
            }
        }
        Ok(cluster)
    }

    pub fn addrs(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.addr.to_string()).collect()
    }

    /// Stops every started process by PID and removes the directory (unless kept).
    pub async fn stop(&mut self) {
        for n in &mut self.nodes {
            let _ = n.child.kill().await;
        }
        self.nodes.clear();
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    /// Leave the directory (logs, nodes.conf) in place when stopping.
    pub fn keep_files(&mut self) {
        self.keep = true;
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            let _ = n.child.start_kill();
        }
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

async fn spawn(
    kind: ServerKind,
    server: &ServerCommand,
    root: &Path,
    port: u16,
    bus: u16,
) -> Result<LocalNode> {
    let dir = root.join(format!("node-{port}"));
    std::fs::create_dir_all(&dir)?;
    let args: Vec<String> = vec![
        "--port".into(),
        port.to_string(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--dir".into(),
        dir.display().to_string(),
        "--logfile".into(),
        dir.join("node.log").display().to_string(),
        "--save".into(),
        String::new(),
        "--appendonly".into(),
        "no".into(),
        "--cluster-enabled".into(),
        "yes".into(),
        "--cluster-port".into(),
        bus.to_string(),
        "--cluster-config-file".into(),
        "nodes.conf".into(),
        "--cluster-node-timeout".into(),
        "5000".into(),
    ];
    // A server that fails before its log is open (a bad argument, a directory it cannot enter)
    // says why on stderr only; keep it so the error below can quote it.
    let stderr_path = dir.join("stderr.log");
    let stderr = std::fs::File::create(&stderr_path)
        .with_context(|| format!("creating {}", stderr_path.display()))?;
    let mut child = Command::new(&server.program)
        .args(&server.lead)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", server.describe()))?;
    let addr = NodeAddr::new("127.0.0.1", port);
    let deadline = Instant::now() + Duration::from_secs(10);
    let opts = ConnectOptions {
        connect_timeout: Duration::from_millis(500),
        ..ConnectOptions::default()
    };
    let name = server_name(kind);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            // The directory is removed when the start fails, so the cause is quoted, not pointed at.
            return Err(Fail::failure(format!(
                "{name} on port {port} ({}) exited at start ({status}): {}",
                server.describe(),
                last_words(&dir).unwrap_or_else(|| "it said nothing".to_string())
            )));
        }
        if let Ok(conn) = NodeConn::connect(&addr, &opts).await {
            if conn.request(["PING"]).await.is_ok() {
                break;
            }
        }
        if Instant::now() > deadline {
            let _ = child.kill().await;
            return Err(Fail::failure(format!(
                "{name} on port {port} ({}) did not answer within 10 s{}",
                server.describe(),
                last_words(&dir)
                    .map(|w| format!("; its last words: {w}"))
                    .unwrap_or_default()
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(LocalNode {
        addr,
        bus_port: bus,
        dir,
        child,
    })
}

/// The last line a server wrote to stderr, else to its log file (where redis-server and
/// trib-node report a port in use or a bad nodes.conf), if any.
fn last_words(dir: &Path) -> Option<String> {
    ["stderr.log", "node.log"].iter().find_map(|f| {
        std::fs::read_to_string(dir.join(f)).ok().and_then(|text| {
            text.lines()
                .rev()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(str::to_string)
        })
    })
}
