//! Test harness: start N cluster-mode nodes on 127.0.0.1 with free ports, either trib-node or
//! real redis-server, wait for them (bounded), and stop every process by PID on drop. Logs are
//! printed when a test fails. Real-Redis cases skip with a note when redis-server is absent,
//! and fail when CI=true.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    TribNode,
    Redis,
}

impl Backend {
    /// Both backends, or only trib-node when redis-server is missing outside CI.
    pub fn all() -> Vec<Backend> {
        let mut v = vec![Backend::TribNode];
        if require_redis() {
            v.push(Backend::Redis);
        }
        v
    }
    pub fn name(self) -> &'static str {
        match self {
            Backend::TribNode => "trib-node",
            Backend::Redis => "redis-server",
        }
    }
}

/// True when redis-server can be used. Missing: a printed note outside CI, a failure in CI.
pub fn require_redis() -> bool {
    if which("redis-server").is_some() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("redis-server is not installed, and CI=true: real-Redis tests must run in CI");
    }
    eprintln!("NOTE: redis-server not found; skipping the real-Redis case");
    false
}

/// True when the real redis-cli is available (same rule as `require_redis`).
pub fn require_redis_cli() -> bool {
    if which("redis-cli").is_some() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("redis-cli is not installed, and CI=true: oracle tests must run in CI");
    }
    eprintln!("NOTE: redis-cli not found; skipping the oracle case");
    false
}

pub fn which(prog: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(prog))
            .find(|p| p.is_file())
    })
}

/// A port that was free a moment ago (bound then released). Ports are drawn from a range the
/// kernel's ephemeral allocator uses, so bus ports (port + 10000) are picked the same way.
pub fn free_port() -> u16 {
    for _ in 0..200 {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = l.local_addr().unwrap().port();
        drop(l);
        // leave room so that callers never collide with ports handed out earlier in this process
        if reserve(port) {
            return port;
        }
    }
    panic!("no free port found after 200 tries");
}

fn reserve(port: u16) -> bool {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static USED: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let mut g = USED.lock().unwrap();
    g.get_or_insert_with(HashSet::new).insert(port)
}

pub fn trib_node_bin() -> &'static str {
    env!("CARGO_BIN_EXE_trib-node")
}

pub fn trib_bin() -> &'static str {
    env!("CARGO_BIN_EXE_trib")
}

/// One server process.
pub struct Node {
    pub backend: Backend,
    pub port: u16,
    pub bus_port: u16,
    pub dir: PathBuf,
    child: Option<Child>,
    extra: Vec<(String, String)>,
}

impl Node {
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("node.log")
    }

    /// Starts a node with `cluster-enabled yes` (or not) and extra `--name value` settings.
    pub fn start(backend: Backend, cluster: bool, extra: &[(&str, &str)], root: &Path) -> Node {
        let port = free_port();
        let bus_port = free_port();
        let dir = root.join(format!("node-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut node = Node {
            backend,
            port,
            bus_port,
            dir,
            child: None,
            extra: extra
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        node.spawn(cluster);
        node
    }

    fn spawn(&mut self, cluster: bool) {
        let program = match self.backend {
            Backend::TribNode => trib_node_bin().to_string(),
            Backend::Redis => "redis-server".to_string(),
        };
        let mut args: Vec<String> = vec![
            "--port".into(),
            self.port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--dir".into(),
            self.dir.display().to_string(),
            "--logfile".into(),
            self.log_path().display().to_string(),
            "--save".into(),
            "".into(),
            "--appendonly".into(),
            "no".into(),
        ];
        if cluster {
            args.extend([
                "--cluster-enabled".into(),
                "yes".into(),
                "--cluster-port".into(),
                self.bus_port.to_string(),
                "--cluster-config-file".into(),
                "nodes.conf".into(),
                "--cluster-node-timeout".into(),
                "5000".into(),
            ]);
        }
        if self.backend == Backend::Redis {
            args.extend(["--enable-debug-command".into(), "yes".into()]);
        }
        for (k, v) in &self.extra {
            args.push(format!("--{k}"));
            args.push(v.clone());
        }
        let child = Command::new(&program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(self.dir.join("stderr.log")).unwrap(),
            ))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {program}: {e}"));
        self.child = Some(child);
        self.wait_ready();
    }

    /// Polls PING until the node answers (bounded: 10 s).
    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "{} on port {} exited early ({status}):\n{}",
                        self.backend.name(),
                        self.port,
                        self.logs()
                    );
                }
            }
            if let Ok(mut c) = self.try_client() {
                match redis::cmd("PING").query::<String>(&mut c) {
                    Ok(_) => return,
                    // a node with requirepass is up when it asks for the password
                    Err(e) if e.code() == Some("NOAUTH") => return,
                    Err(_) => {}
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "{} on port {} not ready after 10 s:\n{}",
                    self.backend.name(),
                    self.port,
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn try_client(&self) -> redis::RedisResult<redis::Connection> {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))?;
        let c = client.get_connection_with_timeout(Duration::from_secs(2))?;
        c.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(c)
    }

    /// A plain synchronous connection to this node.
    pub fn client(&self) -> redis::Connection {
        self.try_client()
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.addr()))
    }

    /// Sends one command and returns its reply (errors as Err).
    pub fn cmd(&self, args: &[&str]) -> redis::RedisResult<redis::Value> {
        let mut c = self.client();
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query(&mut c)
    }

    pub fn cmd_string(&self, args: &[&str]) -> String {
        let v = self
            .cmd(args)
            .unwrap_or_else(|e| panic!("{}: {:?}: {e}", self.addr(), args));
        redis::from_redis_value(&v).unwrap_or_else(|e| panic!("{:?}: {e}", args))
    }

    pub fn myid(&self) -> String {
        self.cmd_string(&["CLUSTER", "MYID"])
    }

    pub fn logs(&self) -> String {
        let mut s = String::new();
        for f in ["node.log", "stderr.log"] {
            if let Ok(text) = std::fs::read_to_string(self.dir.join(f)) {
                let tail: Vec<&str> = text.lines().rev().take(40).collect();
                s.push_str(&format!("--- {f} (last 40 lines)\n"));
                for l in tail.into_iter().rev() {
                    s.push_str(l);
                    s.push('\n');
                }
            }
        }
        s
    }

    /// Stops the process (SIGKILL by PID) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills and starts again on the same port and directory (nodes.conf is kept).
    pub fn restart(&mut self, cluster: bool) {
        self.kill();
        self.spawn(cluster);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "=== logs of {} {} ===\n{}",
                self.backend.name(),
                self.addr(),
                self.logs()
            );
        }
        self.kill();
    }
}

/// A set of nodes (not yet joined into a cluster unless a create helper was called).
pub struct Cluster {
    pub backend: Backend,
    pub nodes: Vec<Node>,
    pub root: tempfile::TempDir,
}

impl Cluster {
    /// Starts `n` cluster-mode nodes of one backend.
    pub fn start(backend: Backend, n: usize) -> Cluster {
        Cluster::start_with(backend, n, &[])
    }

    pub fn start_with(backend: Backend, n: usize, extra: &[(&str, &str)]) -> Cluster {
        let root = tempfile::Builder::new()
            .prefix("trib-it-")
            .tempdir()
            .unwrap();
        let nodes = (0..n)
            .map(|_| Node::start(backend, true, extra, root.path()))
            .collect();
        Cluster {
            backend,
            nodes,
            root,
        }
    }

    /// Starts one more node in this cluster's directory (not joined).
    pub fn add_node(&mut self) -> &Node {
        let n = Node::start(self.backend, true, &[], self.root.path());
        self.nodes.push(n);
        self.nodes.last().unwrap()
    }

    pub fn addrs(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.addr()).collect()
    }

    /// Joins the nodes with the real `redis-cli --cluster create` (the oracle). Returns false
    /// (after the CI check) when redis-cli is missing.
    pub fn create_with_redis_cli(&self, replicas: usize) -> bool {
        if !require_redis_cli() {
            return false;
        }
        let mut args = vec!["--cluster".to_string(), "create".to_string()];
        args.extend(self.addrs());
        args.extend([
            "--cluster-replicas".to_string(),
            replicas.to_string(),
            "--cluster-yes".to_string(),
        ]);
        let out = Command::new("redis-cli")
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .expect("run redis-cli");
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        self.wait_agree(Duration::from_secs(30));
        true
    }

    /// Waits (bounded) until every node reports cluster_state:ok and the same slot map.
    pub fn wait_agree(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if self.agrees() {
                return;
            }
            if Instant::now() > deadline {
                let views: Vec<String> = self
                    .nodes
                    .iter()
                    .map(|n| format!("{}:\n{}", n.addr(), n.cmd_string(&["CLUSTER", "NODES"])))
                    .collect();
                panic!(
                    "cluster did not converge in {limit:?}:\n{}",
                    views.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn agrees(&self) -> bool {
        let mut signature: Option<Vec<String>> = None;
        for n in &self.nodes {
            let info = match n.cmd(&["CLUSTER", "INFO"]) {
                Ok(v) => redis::from_redis_value::<String>(&v).unwrap_or_default(),
                Err(_) => return false,
            };
            if !info.contains("cluster_state:ok") {
                return false;
            }
            let nodes = n.cmd_string(&["CLUSTER", "NODES"]);
            let mut sig: Vec<String> = nodes
                .lines()
                .filter_map(|l| {
                    let f: Vec<&str> = l.split(' ').collect();
                    if f.len() < 8 || f[2].contains("handshake") {
                        return None;
                    }
                    let slots: Vec<&str> = f[8..]
                        .iter()
                        .filter(|s| !s.starts_with('['))
                        .copied()
                        .collect();
                    Some(format!("{} {}", f[0], slots.join(",")))
                })
                .collect();
            sig.sort();
            if sig.len() != self.nodes.len() {
                return false;
            }
            match &signature {
                None => signature = Some(sig),
                Some(s) if *s != sig => return false,
                _ => {}
            }
        }
        true
    }
}

/// Output of one run of a CLI binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `trib` with a cleared environment (PATH kept), optional stdin.
pub fn trib(args: &[&str], stdin: Option<&str>) -> Run {
    run_program(trib_bin(), args, stdin, &[])
}

pub fn trib_env(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    run_program(trib_bin(), args, stdin, env)
}

pub fn run_program(program: &str, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    run_program_bounded(program, &args, stdin, env, PROGRAM_LIMIT)
}

/// The longest any CLI run of a test may take before it is killed.
pub const PROGRAM_LIMIT: Duration = Duration::from_secs(600);

/// Runs a program with a cleared environment (PATH kept) plus `env`, optional stdin; killed by
/// PID after `limit` (then its exit code is -1).
pub fn run_program_bounded(
    program: &str,
    args: &[String],
    stdin: Option<&str>,
    env: &[(&str, &str)],
    limit: Duration,
) -> Run {
    use std::io::{Read, Write};
    let mut cmd = Command::new(program);
    cmd.args(args).env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {program}: {e}"));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let _ = pipe.write_all(input.as_bytes());
    }
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out_pipe.read_to_end(&mut b);
        b
    });
    let err_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err_pipe.read_to_end(&mut b);
        b
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out_reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Backends that can run a cluster today. The one place to flip when trib-node gains cluster
/// mode: add `Backend::TribNode` here.
pub fn backends_with_cluster() -> Vec<Backend> {
    Backend::all()
}

/// Python driver for `trib_pty`: runs argv on a new pseudo-terminal, types each answer line
/// after the previous prompt had time to appear, and exits with the child's exit code.
/// Bounded: the child is killed after `limit` seconds.
const PTY_DRIVER: &str = r#"
import os, pty, sys, time, select, signal, json
answers, limit, argv = json.loads(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out, deadline, pending = b"", time.time() + limit, list(answers)
last = time.time()
while True:
    if time.time() > deadline:
        os.kill(pid, signal.SIGKILL); os.waitpid(pid, 0)
        sys.stdout.buffer.write(out); sys.exit(124)
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            break
        out += chunk; last = time.time()
    elif pending and time.time() - last > 0.4:
        os.write(fd, pending.pop(0).encode()); last = time.time()
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
"#;

/// Runs `trib` on a pseudo-terminal (stdin, stdout and stderr are the pty), typing each entry of
/// `answers` (include the `\r`/`\n`) once output has been quiet for 0.4 s. Returns the exit code
/// and everything the terminal showed (in `stdout`).
pub fn trib_pty(args: &[&str], answers: &[&str], limit_secs: u64) -> Run {
    let answers_json = serde_json::to_string(answers).unwrap();
    let limit = limit_secs.to_string();
    let mut argv: Vec<&str> = vec!["-c", PTY_DRIVER, &answers_json, &limit, trib_bin()];
    argv.extend_from_slice(args);
    run_program("python3", &argv, None, &[("TERM", "xterm-256color")])
}
