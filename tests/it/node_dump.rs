//! DUMP/RESTORE compatibility between real redis-server 7.0 and trib-node, both ways: a value
//! of every type (small/compact and large/plain encodings, ints, LZF-friendly strings, a list of
//! 100k+ elements, TTLs) is built on one server, DUMPed, RESTOREd on the other and compared by
//! content. Needs real redis-server; skips with a note without it (fails in CI).

use redis::Value as V;

use crate::harness::{require_redis, Backend, Node};

/// How one test value is built: a command list (args as bytes) run on the source server.
struct Case {
    name: &'static str,
    build: Vec<Vec<Vec<u8>>>,
}

fn cmd(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// One command with a fixed prefix and many generated trailing arguments.
fn bulk(prefix: &[&str], args: impl IntoIterator<Item = String>) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = prefix.iter().map(|p| p.as_bytes().to_vec()).collect();
    v.extend(args.into_iter().map(String::into_bytes));
    v
}

fn cases() -> Vec<Case> {
    let key = b"k".as_slice();
    let mut cases = vec![
        Case {
            name: "int8",
            build: vec![cmd(&[b"SET", key, b"7"])],
        },
        Case {
            name: "int16",
            build: vec![cmd(&[b"SET", key, b"-12345"])],
        },
        Case {
            name: "int32",
            build: vec![cmd(&[b"SET", key, b"1234567890"])],
        },
        Case {
            name: "int64",
            build: vec![cmd(&[b"SET", key, b"-9223372036854775808"])],
        },
        Case {
            name: "empty",
            build: vec![cmd(&[b"SET", key, b""])],
        },
        Case {
            name: "binary",
            build: vec![cmd(&[b"SET", key, b"\x00\xff\r\n*1\r\n"])],
        },
        Case {
            name: "lzf",
            build: vec![cmd(&[b"SET", key, "abc".repeat(1000).as_bytes()])],
        },
        Case {
            name: "incompressible",
            build: vec![cmd(&[
                b"SET",
                key,
                &(0..5000u32)
                    .map(|i| (i * 7919 % 251) as u8)
                    .collect::<Vec<_>>(),
            ])],
        },
        Case {
            name: "list_small",
            build: vec![cmd(&[b"RPUSH", key, b"a", b"1", b"-300", b"70000", b""])],
        },
        Case {
            name: "list_plain_elements",
            build: vec![bulk(
                &["RPUSH", "k"],
                (0..50).map(|i| format!("{i}{}", "y".repeat(i * 40))),
            )],
        },
        Case {
            name: "hash_small",
            build: vec![cmd(&[b"HSET", key, b"f1", b"v1", b"f2", b"2", b"n", b"-5"])],
        },
        Case {
            name: "hash_big_value",
            build: vec![cmd(&[
                b"HSET",
                key,
                b"f",
                "V".repeat(100).as_bytes(),
                b"g",
                b"1",
            ])],
        },
        Case {
            name: "hash_large",
            build: vec![bulk(
                &["HSET", "k"],
                (0..1000).flat_map(|i| [format!("field:{i}"), format!("{i}")]),
            )],
        },
        Case {
            name: "set_intset",
            build: vec![cmd(&[b"SADD", key, b"1", b"-7", b"70000", b"9000000000"])],
        },
        Case {
            name: "set_strs",
            build: vec![cmd(&[b"SADD", key, b"apple", b"1", b"banana"])],
        },
        Case {
            name: "set_large_ints",
            build: vec![bulk(&["SADD", "k"], (0..1000).map(|i| (i * 3).to_string()))],
        },
        Case {
            name: "set_large",
            build: vec![bulk(&["SADD", "k"], (0..1000).map(|i| format!("m{i}")))],
        },
        Case {
            name: "zset_small",
            build: vec![cmd(&[
                b"ZADD", key, b"1", b"a", b"2.5", b"b", b"-3", b"c", b"0.1", b"d", b"inf", b"e",
            ])],
        },
        Case {
            name: "zset_large",
            build: vec![bulk(
                &["ZADD", "k"],
                (0..500).flat_map(|i| [format!("{}", i as f64 / 7.0), format!("m{i}")]),
            )],
        },
        Case {
            name: "zset_long_member",
            build: vec![cmd(&[
                b"ZADD",
                key,
                b"1.5",
                b"a",
                b"-2",
                "M".repeat(70).as_bytes(),
            ])],
        },
    ];
    // 120k elements, pushed in batches so no single command is huge.
    let mut big_list = Vec::new();
    for batch in 0..12 {
        big_list.push(bulk(
            &["RPUSH", "k"],
            (0..10_000).map(move |i| format!("e{}", batch * 10_000 + i)),
        ));
    }
    cases.push(Case {
        name: "list_120k",
        build: big_list,
    });
    cases
}

fn run(conn: &mut redis::Connection, args: &[Vec<u8>]) -> redis::RedisResult<V> {
    let mut c = redis::cmd(std::str::from_utf8(&args[0]).unwrap());
    for a in &args[1..] {
        c.arg(a.as_slice());
    }
    c.query(conn)
}

fn bytes_of(v: &V) -> Vec<u8> {
    match v {
        V::BulkString(b) => b.clone(),
        V::SimpleString(s) => s.clone().into_bytes(),
        V::Int(i) => i.to_string().into_bytes(),
        other => panic!("not a string: {other:?}"),
    }
}

fn array_of(v: V) -> Vec<Vec<u8>> {
    match v {
        V::Array(items) => items.iter().map(bytes_of).collect(),
        other => panic!("not an array: {other:?}"),
    }
}

/// The content of `key`, normalised so that equal values compare equal on both servers.
fn content(conn: &mut redis::Connection, key: &str) -> (String, Vec<Vec<u8>>) {
    let ty = bytes_of(&run(conn, &cmd(&[b"TYPE", key.as_bytes()])).unwrap());
    let ty = String::from_utf8(ty).unwrap();
    let k = key.as_bytes();
    let mut items = match ty.as_str() {
        "string" => vec![bytes_of(&run(conn, &cmd(&[b"GET", k])).unwrap())],
        "list" => array_of(run(conn, &cmd(&[b"LRANGE", k, b"0", b"-1"])).unwrap()),
        "set" => array_of(run(conn, &cmd(&[b"SMEMBERS", k])).unwrap()),
        "hash" => {
            let flat = array_of(run(conn, &cmd(&[b"HGETALL", k])).unwrap());
            flat.chunks(2)
                .map(|p| [p[0].clone(), b"=".to_vec(), p[1].clone()].concat())
                .collect()
        }
        "zset" => array_of(run(conn, &cmd(&[b"ZRANGE", k, b"0", b"-1", b"WITHSCORES"])).unwrap()),
        other => panic!("unexpected type {other}"),
    };
    if ty == "set" || ty == "hash" {
        items.sort();
    }
    (ty, items)
}

fn transfer(from: &Node, to: &Node, case: &Case) {
    let mut src = from.client();
    let mut dst = to.client();
    let _ = run(&mut src, &cmd(&[b"DEL", b"k"]));
    for step in &case.build {
        run(&mut src, step)
            .unwrap_or_else(|e| panic!("{}: build on {}: {e}", case.name, from.backend.name()));
    }
    let payload = match run(&mut src, &cmd(&[b"DUMP", b"k"])).unwrap() {
        V::BulkString(b) => b,
        other => panic!(
            "{}: DUMP on {} gave {other:?}",
            case.name,
            from.backend.name()
        ),
    };
    let _ = run(&mut dst, &cmd(&[b"DEL", b"copy"]));
    let restored = run(
        &mut dst,
        &[
            b"RESTORE".to_vec(),
            b"copy".to_vec(),
            b"100000".to_vec(),
            payload,
        ],
    );
    assert!(
        matches!(restored, Ok(V::Okay)),
        "{}: RESTORE of a {} payload on {}: {restored:?}",
        case.name,
        from.backend.name(),
        to.backend.name()
    );
    let want = content(&mut src, "k");
    let got = content(&mut dst, "copy");
    assert_eq!(
        got.0,
        want.0,
        "{}: type after {} -> {}",
        case.name,
        from.backend.name(),
        to.backend.name()
    );
    assert!(
        got.1 == want.1,
        "{}: content differs after {} -> {}",
        case.name,
        from.backend.name(),
        to.backend.name()
    );
    let pttl: i64 = redis::cmd("PTTL").arg("copy").query(&mut dst).unwrap();
    assert!(
        pttl > 0 && pttl <= 100000,
        "{}: PTTL {pttl} on {}",
        case.name,
        to.backend.name()
    );
}

#[test]
fn dump_restore_both_ways_for_every_type() {
    if !require_redis() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let redis = Node::start(Backend::Redis, false, &[], root.path());
    let trib = Node::start(Backend::TribNode, false, &[], root.path());
    for case in cases() {
        transfer(&redis, &trib, &case);
        transfer(&trib, &redis, &case);
    }
}

#[test]
fn dump_vectors_restore_on_trib_node() {
    let root = tempfile::tempdir().unwrap();
    let trib = Node::start(Backend::TribNode, false, &[], root.path());
    let mut c = trib.client();
    let hex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    let restore = |c: &mut redis::Connection, key: &str, payload: &str, extra: &[&str]| {
        let mut cmd = redis::cmd("RESTORE");
        cmd.arg(key).arg("0").arg(hex(payload));
        for e in extra {
            cmd.arg(*e);
        }
        cmd.query::<V>(c)
    };
    let hash_small = "10151500000004008266310382763103826632030201ff0a005c5ea813feec1ff5";
    assert_eq!(restore(&mut c, "h", hash_small, &[]).unwrap(), V::Okay);
    let err = restore(&mut c, "h", hash_small, &[]).unwrap_err();
    assert_eq!(err.code(), Some("BUSYKEY"), "{err:?}");
    assert_eq!(
        restore(&mut c, "h", hash_small, &["REPLACE"]).unwrap(),
        V::Okay
    );
    let bad_crc = "000568656c6c6f0a000000000000000000";
    let err = restore(&mut c, "s", bad_crc, &[]).unwrap_err();
    assert!(
        err.to_string()
            .contains("DUMP payload version or checksum are wrong"),
        "{err:?}"
    );
    let empty_list = "01000a005bf825cc6c174356";
    let err = restore(&mut c, "s", empty_list, &[]).unwrap_err();
    assert!(err.to_string().contains("Bad data format"), "{err:?}");
    let v: Vec<String> = redis::cmd("HGETALL").arg("h").query(&mut c).unwrap();
    assert_eq!(v.len(), 4);
}

/// RESTORE's argument checks and their order, compared reply by reply with real Redis.
#[test]
fn restore_errors_match_real_redis() {
    if !require_redis() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let redis = Node::start(Backend::Redis, false, &[], root.path());
    let trib = Node::start(Backend::TribNode, false, &[], root.path());
    let hello: Vec<u8> = vec![
        0x00, 0x05, b'h', b'e', b'l', b'l', b'o', 0x0a, 0x00, 0x63, 0x72, 0xdf, 0x76, 0x65, 0x34,
        0x20, 0x0a,
    ];
    let bad_crc: Vec<u8> = vec![
        0x00, 0x05, b'h', b'e', b'l', b'l', b'o', 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let v11: Vec<u8> = vec![
        0x00, 0x05, b'h', b'e', b'l', b'l', b'o', 0x0b, 0x00, 0x0a, 0xad, 0x62, 0x05, 0x98, 0xab,
        0xc9, 0x83,
    ];
    let empty_list: Vec<u8> = vec![
        0x01, 0x00, 0x0a, 0x00, 0x5b, 0xf8, 0x25, 0xcc, 0x6c, 0x17, 0x43, 0x56,
    ];
    let dup_set: Vec<u8> = vec![
        0x02, 0x02, 0x01, b'x', 0x01, b'x', 0x0a, 0x00, 0x12, 0x02, 0xcd, 0xa6, 0x38, 0xd5, 0xb8,
        0xc5,
    ];
    let p = |v: &Vec<u8>| v.clone();
    let b = |s: &str| s.as_bytes().to_vec();
    let script: Vec<Vec<Vec<u8>>> = vec![
        vec![b("RESTORE"), b("r1"), b("0"), p(&hello)],
        vec![b("RESTORE"), b("r1"), b("0"), p(&hello)],
        vec![b("RESTORE"), b("r1"), b("-1"), p(&hello)],
        vec![b("RESTORE"), b("r1"), b("0"), p(&hello), b("REPLACE")],
        vec![b("RESTORE"), b("r2"), b("-1"), p(&hello)],
        vec![b("RESTORE"), b("r2"), b("abc"), p(&hello)],
        vec![b("RESTORE"), b("r2"), b("0"), p(&bad_crc)],
        vec![b("RESTORE"), b("r2"), b("0"), p(&v11)],
        vec![b("RESTORE"), b("r2"), b("0"), b("short")],
        vec![b("RESTORE"), b("r2"), b("0"), p(&empty_list)],
        vec![b("RESTORE"), b("r2"), b("0"), p(&dup_set)],
        vec![b("RESTORE"), b("r2"), b("0"), p(&hello), b("FOO")],
        vec![
            b("RESTORE"),
            b("r2"),
            b("0"),
            p(&hello),
            b("IDLETIME"),
            b("-5"),
        ],
        vec![b("RESTORE"), b("r2"), b("0"), p(&hello), b("IDLETIME")],
        vec![
            b("RESTORE"),
            b("r2"),
            b("0"),
            p(&hello),
            b("FREQ"),
            b("256"),
        ],
        vec![b("RESTORE"), b("r2"), b("0"), p(&hello), b("FREQ"), b("x")],
        vec![
            b("RESTORE"),
            b("r2"),
            b("0"),
            p(&hello),
            b("IDLETIME"),
            b("1"),
            b("FREQ"),
            b("1"),
        ],
        vec![
            b("RESTORE"),
            b("r1"),
            b("abc"),
            p(&hello),
            b("IDLETIME"),
            b("-1"),
        ],
        vec![b("RESTORE"), b("past"), b("1000"), p(&hello), b("ABSTTL")],
        vec![b("EXISTS"), b("past")],
        vec![
            b("RESTORE"),
            b("r1"),
            b("1000"),
            p(&hello),
            b("ABSTTL"),
            b("REPLACE"),
        ],
        vec![b("EXISTS"), b("r1")],
        vec![
            b("RESTORE"),
            b("abs"),
            b("4102444800000"),
            p(&hello),
            b("ABSTTL"),
        ],
        vec![b("PEXPIRETIME"), b("abs")],
        vec![
            b("RESTORE"),
            b("idle"),
            b("0"),
            p(&hello),
            b("IDLETIME"),
            b("100"),
            b("REPLACE"),
        ],
        vec![
            b("RESTORE"),
            b("freq"),
            b("0"),
            p(&hello),
            b("FREQ"),
            b("7"),
        ],
        vec![b("GET"), b("freq")],
        vec![b("DUMP"), b("nokey")],
        vec![b("RESTORE"), b("r3")],
    ];
    let mut a = redis.client();
    let mut t = trib.client();
    let render = |r: redis::RedisResult<V>| match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("error {:?} {:?}", e.code(), e.detail()),
    };
    let mut diffs = Vec::new();
    for step in &script {
        let want = render(run(&mut a, step));
        let got = render(run(&mut t, step));
        if want != got {
            let shown: Vec<String> = step
                .iter()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect();
            diffs.push(format!(
                "{shown:?}\n   redis-server: {want}\n   trib-node:    {got}"
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
