//! Protocol-level tests of trib-node through real sockets, each run against trib-node and real
//! redis-server: pipelining, inline commands, every protocol error string (the connection is
//! closed, the server keeps serving), RESP3, startup errors, config files, SHUTDOWN, CLIENT KILL.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{trib_node_bin, Backend, Node};
use crate::node_oracle::{RawConn, Resp};

fn start(backend: Backend) -> (Node, tempfile::TempDir) {
    let dir = tempfile::Builder::new()
        .prefix("trib-basics-")
        .tempdir()
        .unwrap();
    let node = Node::start(backend, false, &[], dir.path());
    (node, dir)
}

/// Sends raw bytes and returns everything the server sent until it closed the connection or
/// went quiet for 300 ms, plus whether it closed.
fn exchange(port: u16, input: &[u8]) -> (Vec<u8>, bool) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    s.write_all(input).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (out, false),
        }
        if Instant::now() > deadline {
            return (out, false);
        }
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    for backend in Backend::all() {
        let (node, _d) = start(backend);
        let mut input = Vec::new();
        for i in 0..2000 {
            input.extend(
                format!("*3\r\n$3\r\nSET\r\n$5\r\nk{i:04}\r\n$1\r\n{}\r\n", i % 10).bytes(),
            );
            input.extend(format!("*2\r\n$4\r\nINCR\r\n$5\r\nk{i:04}\r\n").bytes());
        }
        let mut c = RawConn::connect(node.port);
        c.send_raw(&input);
        for i in 0..2000 {
            assert_eq!(
                c.read().unwrap(),
                Resp::Simple("OK".into()),
                "{}",
                backend.name()
            );
            assert_eq!(
                c.read().unwrap(),
                Resp::Int(i % 10 + 1),
                "{}",
                backend.name()
            );
        }
        assert_eq!(c.cmd(&["DBSIZE"]), Resp::Int(2000));
    }
}

#[test]
fn inline_commands_work_like_redis() {
    let good: &[u8] = b"PING\r\nECHO \"a b\\x41\\n\"\r\n\r\nSET k 'it\\'s'\nGET k\n   \r\n";
    // a quote right after a closing quote is unbalanced: error, then the connection closes
    let bad: &[u8] = b"PING\r\nSET k 'it''\r\nPING\r\n";
    let mut outputs = Vec::new();
    for backend in Backend::all() {
        let (node, _d) = start(backend);
        let (out, closed) = exchange(node.port, good);
        let (out2, closed2) = exchange(node.port, bad);
        outputs.push((
            String::from_utf8_lossy(&out).into_owned(),
            closed,
            String::from_utf8_lossy(&out2).into_owned(),
            closed2,
        ));
    }
    assert_eq!(
        outputs[0].0,
        "+PONG\r\n$5\r\na bA\n\r\n+OK\r\n$4\r\nit's\r\n"
    );
    assert!(!outputs[0].1);
    assert_eq!(
        outputs[0].2,
        "+PONG\r\n-ERR Protocol error: unbalanced quotes in request\r\n"
    );
    assert!(outputs[0].3, "connection must close after a protocol error");
    if outputs.len() == 2 {
        assert_eq!(outputs[0], outputs[1], "trib-node vs redis-server");
    }
}

#[test]
fn every_protocol_error_closes_only_that_connection() {
    let big_inline = vec![b'a'; 70 * 1024];
    let mut big_count = b"*".to_vec();
    big_count.extend(vec![b'1'; 70 * 1024]);
    let mut big_bulk_count = b"*1\r\n$".to_vec();
    big_bulk_count.extend(vec![b'1'; 70 * 1024]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"*x\r\n".to_vec(),
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*2147483648\r\n".to_vec(),
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\nx\r\n".to_vec(),
            "-ERR Protocol error: expected '$', got 'x'\r\n",
        ),
        (
            b"*1\r\n$-1\r\n".to_vec(),
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$ 4\r\nPING\r\n".to_vec(),
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$600000000\r\n".to_vec(),
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"\"abc\r\n".to_vec(),
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            b"PING\r\n*1\r\n$-5\r\n".to_vec(),
            "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            big_inline,
            "-ERR Protocol error: too big inline request\r\n",
        ),
        (
            big_count,
            "-ERR Protocol error: too big mbulk count string\r\n",
        ),
        (
            big_bulk_count,
            "-ERR Protocol error: too big bulk count string\r\n",
        ),
    ];
    for backend in Backend::all() {
        let (node, _d) = start(backend);
        for (input, want) in &cases {
            let (out, closed) = exchange(node.port, input);
            assert_eq!(String::from_utf8_lossy(&out), *want, "{}", backend.name());
            assert!(
                closed,
                "{}: connection must be closed after {want}",
                backend.name()
            );
            // the server keeps serving other clients
            assert_eq!(
                RawConn::connect(node.port).cmd(&["PING"]),
                Resp::Simple("PONG".into())
            );
        }
        // incomplete requests are not errors: the server waits for the rest
        let (out, closed) = exchange(node.port, b"*3000000\r\n");
        assert!(out.is_empty() && !closed, "{}", backend.name());
    }
}

#[test]
fn unauthenticated_clients_get_tighter_limits() {
    for backend in Backend::all() {
        let (node, _d) = start(backend);
        RawConn::connect(node.port).cmd(&["CONFIG", "SET", "requirepass", "pw"]);
        let (out, closed) = exchange(node.port, b"*11\r\n");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "-ERR Protocol error: unauthenticated multibulk length\r\n"
        );
        assert!(closed);
        let (out, closed) = exchange(node.port, b"*1\r\n$16385\r\n");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "-ERR Protocol error: unauthenticated bulk length\r\n"
        );
        assert!(closed);
        // after AUTH in the same pipeline the limits no longer apply
        let (out, _) = exchange(node.port, b"AUTH pw\r\n*11\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n1\r\n$1\r\nd\r\n$1\r\n1\r\n$1\r\ne\r\n$1\r\n1\r\n");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "+OK\r\n+OK\r\n",
            "{}",
            backend.name()
        );
    }
}

#[test]
fn resp3_after_hello_3() {
    for backend in Backend::all() {
        let (node, _d) = start(backend);
        let (out, _) = exchange(
            node.port,
            b"HELLO 3\r\nGET nokey\r\nCONFIG GET port\r\nSET k 1\r\nINCRBYFLOAT k 0.5\r\nHELLO 2\r\nGET nokey\r\n",
        );
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n"), "{text}");
        let port = node.port.to_string();
        let tail = format!(
            "_\r\n%1\r\n$4\r\nport\r\n${}\r\n{port}\r\n+OK\r\n$3\r\n1.5\r\n",
            port.len()
        );
        assert!(text.contains(&tail), "{}: {text}", backend.name());
        assert!(text.ends_with("$-1\r\n"), "back to RESP2: {text}");
    }
}

#[test]
fn unknown_config_directive_fails_like_redis_server() {
    let run = |prog: &str, args: &[&str]| {
        let out = Command::new(prog)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let cases: &[&[&str]] = &[
        &["--foo", "bar"],
        &["--port"],
        &["--appendonly", "maybe"],
        &["--port", "1", "2"],
    ];
    for args in cases {
        let (code, text) = run(trib_node_bin(), args);
        assert_eq!(code, Some(1), "{args:?}: {text}");
        assert!(
            text.contains("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***"),
            "{text}"
        );
        if crate::harness::require_redis() {
            let (rcode, rtext) = run("redis-server", args);
            assert_eq!(rcode, code, "{args:?}");
            assert_eq!(text.trim(), rtext.trim(), "{args:?}");
        }
    }
}

#[test]
fn config_file_is_read_and_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("node.conf");
    let port = crate::harness::free_port();
    std::fs::write(
        &conf,
        format!("# a comment\nport {port}\nbind 127.0.0.1\nsave \"\"\nappendonly no\nprotected-mode no\nhash-max-ziplist-entries 100\n"),
    )
    .unwrap();
    let mut child = Command::new(trib_node_bin())
        .arg(&conf)
        .args(["--logfile", "", "--dir"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut c = loop {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            drop(s);
            break RawConn::connect(port);
        }
        assert!(Instant::now() < deadline, "trib-node did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    let pair = |k: &str, v: &str| {
        Resp::Array(Some(vec![
            Resp::Bulk(Some(k.into())),
            Resp::Bulk(Some(v.into())),
        ]))
    };
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "hash-max-listpack-entries"]),
        pair("hash-max-listpack-entries", "100")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "protected-mode"]),
        pair("protected-mode", "no")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "cluster-node-timeout", "4321"]),
        Resp::Simple("OK".into())
    );
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), Resp::Simple("OK".into()));
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(text.contains("# a comment\n"), "{text}");
    assert!(text.contains("cluster-node-timeout 4321\n"), "{text}");
    assert!(text.contains(&format!("port {port}\n")), "{text}");
    // SHUTDOWN: no reply, connection closed, process exits 0
    c.send(&[b"SHUTDOWN", b"NOSAVE"]);
    assert!(c.read().is_err());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("trib-node did not exit after SHUTDOWN");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
}

#[test]
fn client_kill_closes_the_other_connection() {
    for backend in Backend::all() {
        let (node, _d) = start(backend);
        let mut victim = RawConn::connect(node.port);
        let Resp::Int(id) = victim.cmd(&["CLIENT", "ID"]) else {
            panic!()
        };
        let mut killer = RawConn::connect(node.port);
        let Resp::Bulk(Some(list)) = killer.cmd(&["CLIENT", "LIST"]) else {
            panic!()
        };
        let list = String::from_utf8(list).unwrap();
        assert!(list.contains(&format!("id={id} ")), "{list}");
        assert!(list.contains("cmd=client|list"), "{list}");
        assert_eq!(
            killer.cmd(&["CLIENT", "KILL", "ID", &id.to_string()]),
            Resp::Int(1)
        );
        victim.send(&[b"PING"]);
        assert!(
            victim.read().is_err(),
            "{}: killed connection still answers",
            backend.name()
        );
        assert_eq!(killer.cmd(&["PING"]), Resp::Simple("PONG".into()));
    }
}

#[test]
fn single_database_rules() {
    let (node, _d) = start(Backend::TribNode);
    let mut c = RawConn::connect(node.port);
    assert_eq!(c.cmd(&["SELECT", "0"]), Resp::Simple("OK".into()));
    assert_eq!(
        c.cmd(&["SELECT", "1"]),
        Resp::Error("ERR SELECT is not allowed in cluster mode".into())
    );
    assert_eq!(
        c.cmd(&["SWAPDB", "0", "1"]),
        Resp::Error("ERR SWAPDB is not allowed in cluster mode".into())
    );
    assert_eq!(
        c.cmd(&["MOVE", "k", "1"]),
        Resp::Error("ERR MOVE is not allowed in cluster mode".into())
    );
    assert_eq!(c.cmd(&["SET", "k", "v"]), Resp::Simple("OK".into()));
    assert_eq!(c.cmd(&["COPY", "k", "k2", "DB", "0"]), Resp::Int(1));
}

#[test]
fn active_expiry_removes_keys_nobody_reads() {
    for backend in Backend::all() {
        let (node, _d) = start(backend);
        let mut c = RawConn::connect(node.port);
        for i in 0..300 {
            c.cmd(&["SET", &format!("e{i}"), "v", "PX", "50"]);
        }
        c.cmd(&["SET", "keep", "v"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if c.cmd(&["DBSIZE"]) == Resp::Int(1) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{}: keys not expired in background",
                backend.name()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
