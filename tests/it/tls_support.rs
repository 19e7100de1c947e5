//! TLS test fixtures: a throw-away PKI made in the test (rcgen: a CA, a server certificate for
//! 127.0.0.1, a client certificate, an unrelated CA, a certificate for a DNS name only), and
//! cluster nodes that listen on a TLS port only (`--port 0`), bus and replication over TLS too.
//! Nodes are checked with the real `redis-cli --tls`, since the harness's own client is plain.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

use crate::harness::{free_port, run_program, trib, trib_node_bin, Backend, Run};

/// The name in `Pki::named_cert`: a certificate that does not carry 127.0.0.1.
pub const SNI_NAME: &str = "node.trib.test";

/// Every PEM file a TLS test needs, in one temporary directory.
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// A CA that signed nothing the servers use.
    pub other_ca: PathBuf,
    /// Signed by `ca`, valid for `SNI_NAME` only.
    pub named_cert: PathBuf,
    pub named_key: PathBuf,
}

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::Builder::new()
            .prefix("trib-pki-")
            .tempdir()
            .unwrap();
        let write = |name: &str, text: String| -> PathBuf {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let (ca_cert, ca_key) = make_ca("trib test CA");
        let (other_cert, _other_key) = make_ca("unrelated CA");
        let leaf = |names: &[&str], cn: &str| {
            let mut params =
                CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                    .unwrap();
            params.distinguished_name.push(DnType::CommonName, cn);
            // Servers also present this certificate as clients on the TLS cluster bus.
            params.extended_key_usages = vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ];
            let key = KeyPair::generate().unwrap();
            let cert = params.signed_by(&key, &ca_cert, &ca_key).unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let (server_cert, server_key) = leaf(&["127.0.0.1", "localhost"], "trib test server");
        let (client_cert, client_key) = leaf(&[], "trib test client");
        let (named_cert, named_key) = leaf(&[SNI_NAME], SNI_NAME);
        Pki {
            ca: write("ca.crt", ca_cert.pem()),
            server_cert: write("server.crt", server_cert),
            server_key: write("server.key", server_key),
            client_cert: write("client.crt", client_cert),
            client_key: write("client.key", client_key),
            other_ca: write("other-ca.crt", other_cert.pem()),
            named_cert: write("named.crt", named_cert),
            named_key: write("named.key", named_key),
            dir,
        }
    }

    pub fn path(p: &Path) -> String {
        p.display().to_string()
    }

    /// trib's options to reach the servers: TLS, verified with the test CA.
    pub fn trib_args(&self) -> Vec<String> {
        vec!["--tls".into(), "--cacert".into(), Pki::path(&self.ca)]
    }

    /// trib's options with the client certificate too (mutual TLS).
    pub fn trib_mtls_args(&self) -> Vec<String> {
        let mut v = self.trib_args();
        v.extend([
            "--cert".into(),
            Pki::path(&self.client_cert),
            "--key".into(),
            Pki::path(&self.client_key),
        ]);
        v
    }

    /// redis-cli's options (always with the client certificate, accepted either way).
    pub fn redis_cli_args(&self) -> Vec<String> {
        vec![
            "--tls".into(),
            "--cacert".into(),
            Pki::path(&self.ca),
            "--cert".into(),
            Pki::path(&self.client_cert),
            "--key".into(),
            Pki::path(&self.client_key),
        ]
    }
}

fn make_ca(cn: &str) -> (rcgen::Certificate, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert, key)
}

/// One cluster-mode server with a TLS port and no plain port.
pub struct TlsNode {
    pub backend: Backend,
    pub port: u16,
    pub bus_port: u16,
    pub dir: PathBuf,
    child: Option<Child>,
    /// redis-cli's options for this node (CA, client cert, password).
    cli_args: Vec<String>,
}

/// How the servers of a test are set up.
#[derive(Clone, Default)]
pub struct TlsSetup {
    /// `tls-auth-clients yes`: clients must present a certificate signed by the CA.
    pub require_client_cert: bool,
    /// `requirepass` and `masterauth`.
    pub password: Option<String>,
    /// Serve `Pki::named_cert` (valid for `SNI_NAME` only) instead of the 127.0.0.1 certificate.
    pub named_cert: bool,
}

impl TlsNode {
    pub fn start(backend: Backend, pki: &Pki, setup: &TlsSetup, root: &Path) -> TlsNode {
        let port = free_port();
        let bus_port = free_port();
        let dir = root.join(format!("node-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        let (cert, key) = if setup.named_cert {
            (&pki.named_cert, &pki.named_key)
        } else {
            (&pki.server_cert, &pki.server_key)
        };
        let mut args: Vec<String> = [
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--dir",
            &dir.display().to_string(),
            "--logfile",
            &dir.join("node.log").display().to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
            "--cluster-enabled",
            "yes",
            "--cluster-port",
            &bus_port.to_string(),
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "5000",
            "--tls-cert-file",
            &Pki::path(cert),
            "--tls-key-file",
            &Pki::path(key),
            "--tls-ca-cert-file",
            &Pki::path(&pki.ca),
            "--tls-cluster",
            "yes",
            "--tls-replication",
            "yes",
            "--tls-auth-clients",
            if setup.require_client_cert {
                "yes"
            } else {
                "no"
            },
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if let Some(pass) = &setup.password {
            args.extend(["--requirepass".into(), pass.clone()]);
            args.extend(["--masterauth".into(), pass.clone()]);
        }
        let program = match backend {
            Backend::TribNode => trib_node_bin().to_string(),
            Backend::Redis => "redis-server".to_string(),
        };
        let child = Command::new(&program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("stderr.log")).unwrap(),
            ))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {program}: {e}"));
        let mut cli_args = pki.redis_cli_args();
        if setup.named_cert {
            // redis-cli checks the chain only; the name is not in question here.
            cli_args.extend(["--sni".into(), SNI_NAME.into()]);
        }
        if let Some(pass) = &setup.password {
            cli_args.extend(["--no-auth-warning".into(), "-a".into(), pass.clone()]);
        }
        let mut node = TlsNode {
            backend,
            port,
            bus_port,
            dir,
            child: Some(child),
            cli_args,
        };
        node.wait_ready();
        node
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// One command through the real redis-cli over TLS; stdout trimmed.
    pub fn cli(&self, args: &[&str]) -> String {
        let run = self.cli_run(args);
        assert_eq!(
            run.code,
            0,
            "redis-cli {args:?} on {}: {run:?}",
            self.addr()
        );
        run.stdout.trim_end().to_string()
    }

    pub fn cli_run(&self, args: &[&str]) -> Run {
        self.cli_stdin(args, None)
    }

    /// redis-cli with `stdin` (one command per line when `args` is empty).
    pub fn cli_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let port = self.port.to_string();
        let mut argv: Vec<&str> = vec!["-h", "127.0.0.1", "-p", &port];
        argv.extend(self.cli_args.iter().map(String::as_str));
        argv.extend_from_slice(args);
        run_program("redis-cli", &argv, stdin, &[])
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "{} on TLS port {} exited early ({status}):\n{}",
                        self.backend.name(),
                        self.port,
                        self.logs()
                    );
                }
            }
            if self.cli_run(&["PING"]).stdout.trim() == "PONG" {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "{} on TLS port {} not ready after 10 s:\n{}",
                    self.backend.name(),
                    self.port,
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
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
}

impl Drop for TlsNode {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "=== logs of {} {} ===\n{}",
                self.backend.name(),
                self.addr(),
                self.logs()
            );
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A set of TLS nodes of one backend (joined only when a test runs `trib create`).
pub struct TlsCluster {
    pub backend: Backend,
    pub pki: Pki,
    pub setup: TlsSetup,
    pub nodes: Vec<TlsNode>,
    pub root: tempfile::TempDir,
}

impl TlsCluster {
    pub fn start(backend: Backend, n: usize, setup: TlsSetup) -> TlsCluster {
        let pki = Pki::new();
        let root = tempfile::Builder::new()
            .prefix("trib-it-tls-")
            .tempdir()
            .unwrap();
        let nodes = (0..n)
            .map(|_| TlsNode::start(backend, &pki, &setup, root.path()))
            .collect();
        TlsCluster {
            backend,
            pki,
            setup,
            nodes,
            root,
        }
    }

    pub fn add_node(&mut self) -> &TlsNode {
        let n = TlsNode::start(self.backend, &self.pki, &self.setup, self.root.path());
        self.nodes.push(n);
        self.nodes.last().unwrap()
    }

    pub fn addrs(&self) -> Vec<String> {
        self.nodes.iter().map(TlsNode::addr).collect()
    }

    /// `trib <tls options> <args>`.
    pub fn trib_with(&self, tls: &[String], args: &[&str]) -> Run {
        let mut argv: Vec<&str> = tls.iter().map(String::as_str).collect();
        argv.extend_from_slice(args);
        trib(&argv, None)
    }

    /// `trib` with the options the setup needs (CA, client certificate when required).
    pub fn trib(&self, args: &[&str]) -> Run {
        let tls = if self.setup.require_client_cert {
            self.pki.trib_mtls_args()
        } else {
            self.pki.trib_args()
        };
        self.trib_with(&tls, args)
    }

    /// `trib create` of every node, `--yes`.
    pub fn create(&self, replicas: usize) -> Run {
        let addrs = self.addrs();
        let mut args = vec!["create"];
        args.extend(addrs.iter().map(String::as_str));
        let r = replicas.to_string();
        args.extend(["--replicas", &r, "--yes"]);
        self.trib(&args)
    }
}
