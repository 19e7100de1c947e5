//! Local server processes for `sandbox` and `demo`: find the server binary (trib-node next to
//! this executable or on PATH; redis-server on PATH), start N cluster-mode nodes on 127.0.0.1
//! in a private directory, wait until they answer (bounded), and stop exactly those processes
//! by PID and remove the directory. Creating the cluster is left to `ops::create`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use tokio::process::{Child, Command};

use crate::addr::NodeAddr;
use crate::cli::ServerKind;
use crate::cluster::conn::{ConnectOptions, NodeConn};
use crate::exit::Fail;

pub fn server_name(kind: ServerKind) -> &'static str {
    match kind {
        ServerKind::TribNode => "trib-node",
        ServerKind::RedisServer => "redis-server",
    }
}

/// The server program: trib-node next to the running trib, else on PATH.
pub fn find_server(kind: ServerKind) -> Option<PathBuf> {
    let name = server_name(kind);
    if kind == ServerKind::TribNode {
        if let Some(dir) = std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
        {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
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
        let program = find_server(kind).ok_or_else(|| {
            Fail::failure(format!(
                "{} not found (looked next to trib and on PATH)",
                server_name(kind)
            ))
        })?;
        let root =
            std::env::temp_dir().join(format!("trib-{}-{}", server_name(kind), std::process::id()));
        std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
        let mut cluster = LocalCluster {
            kind,
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
            let node = spawn(&program, &cluster.root, port, bus).await;
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

async fn spawn(program: &Path, root: &Path, port: u16, bus: u16) -> Result<LocalNode> {
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
    let mut child = Command::new(program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let addr = NodeAddr::new("127.0.0.1", port);
    let deadline = Instant::now() + Duration::from_secs(10);
    let opts = ConnectOptions {
        connect_timeout: Duration::from_millis(500),
        ..ConnectOptions::default()
    };
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(Fail::failure(format!(
                "{} on port {port} exited at start ({status}); see {}",
                program.display(),
                dir.join("node.log").display()
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
                "{} on port {port} did not answer within 10 s",
                program.display()
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

/// True when the node at `addr` runs in cluster mode and answers CLUSTER NODES.
pub async fn serves_cluster_mode(addr: &NodeAddr) -> bool {
    let Ok(conn) = NodeConn::connect(addr, &ConnectOptions::default()).await else {
        return false;
    };
    let info_ok = conn
        .request_string(["INFO", "cluster"])
        .await
        .is_ok_and(|i| crate::cluster::view::cluster_enabled(&i));
    info_ok
        && crate::cluster::view::fetch_table(&conn, &Default::default())
            .await
            .is_ok()
}
