//! Differential test of the collection command families (hash, list, set, zset): the same
//! script runs on real redis-server 7.0 and on trib-node, and every reply must match (type,
//! value, error text), in RESP2 and in RESP3, through the oracle's raw RESP connections and
//! comparison rules. Lines starting with `~` compare arrays as multisets (hash/set order is
//! unspecified); lines starting with `#` compare only the reply's type (random results).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{which, Backend, Node};
use crate::node_oracle::{compare_rule, same, Cmp, Pair, Resp};

const SCRIPT: &str = r#"
# hashes
HSET h f1 v1 f2 v2
HSET h f1 x f3 3
HSET h odd
HGET h f1
HGET h nope
HGET nokey f
HMSET h a 1 b 2
HMGET h f1 nope a
HMGET nokey a b
~HGETALL h
~HKEYS h
~HVALS h
HLEN h
HLEN nokey
HEXISTS h f1
HEXISTS h zz
HSTRLEN h f1
HSTRLEN h zz
HSETNX h f1 new
HSETNX h f9 new
HINCRBY h f3 10
HINCRBY h f3 -20
HINCRBY h f1 1
HINCRBY h f3 notanint
HINCRBY h big 9223372036854775807
HINCRBY h big 1
HINCRBYFLOAT h fl 10.5
HINCRBYFLOAT h fl 0.1
HINCRBYFLOAT h f1 1
HINCRBYFLOAT h fl abc
HDEL h f1 f2 nope
HDEL nokey a
#HRANDFIELD h
#HRANDFIELD h 3
#HRANDFIELD h -5 WITHVALUES
HRANDFIELD nokey
HRANDFIELD nokey 3
HRANDFIELD h 1 WITHVALUES extra
HSET small x 1
HSCAN small 0
HSCAN small 0 MATCH x COUNT 10
HSCAN small abc
HSCAN small 0 COUNT 0
HSET s1 a b
SET str v
HGET str f
HSET str f v
HGETALL str
# lists
RPUSH l a b c d e
LPUSH l z y
LPUSHX nolist a
RPUSHX l tail
LRANGE l 0 -1
LRANGE l -3 -1
LRANGE l 5 2
LRANGE l 0 100
LRANGE l x 1
LLEN l
LLEN nolist
LINDEX l 0
LINDEX l -1
LINDEX l 100
LINDEX l notint
LSET l 1 Y
LSET l 100 x
LSET nolist 0 x
LPOP l
RPOP l
LPOP l 2
RPOP l 0
LPOP l -1
LPOP nolist
LPOP nolist 2
LRANGE l 0 -1
RPUSH r a b a c a d a
LREM r 2 a
LREM r -1 a
LREM r 0 a
LREM r 0 zzz
LRANGE r 0 -1
RPUSH t 1 2 3 4 5 6
LTRIM t 1 -2
LRANGE t 0 -1
LTRIM t 10 20
EXISTS t
RPUSH ins a c
LINSERT ins BEFORE c b
LINSERT ins AFTER c d
LINSERT ins AFTER zz q
LINSERT ins MIDDLE c q
LINSERT nolist BEFORE a b
LRANGE ins 0 -1
RPUSH p a b c a b c a
LPOS p a
LPOS p a RANK 2
LPOS p a RANK -1
LPOS p a COUNT 0
LPOS p a COUNT 2 RANK 2
LPOS p a MAXLEN 3 COUNT 0
LPOS p zz
LPOS p zz COUNT 1
LPOS p a RANK 0
LPOS p a COUNT -1
LPOS p a MAXLEN -1
LPOS p a BOGUS 1
LPOS nolist a
RPUSH src 1 2 3
LMOVE src dst LEFT RIGHT
LMOVE src dst RIGHT LEFT
LMOVE src dst UP LEFT
RPOPLPUSH src dst
RPOPLPUSH src dst
LRANGE dst 0 -1
EXISTS src
LMOVE dst dst LEFT RIGHT
LRANGE dst 0 -1
LPUSH str x
LRANGE str 0 1
RPOPLPUSH dst str
RPUSH bl1 a b
BLPOP nolist bl1 0
BRPOP bl1 0.01
BLPOP bl1 0.01
BLPOP bl1 abc
BLPOP bl1 -1
BLPOP str 1
RPUSH bl2 x y
BLMOVE bl2 bl3 LEFT RIGHT 0
BLMOVE bl2 bl3 UP RIGHT 0
BRPOPLPUSH bl2 bl3 0.01
BRPOPLPUSH bl2 bl3 0.01
LRANGE bl3 0 -1
# sets
SADD s a b c d
SADD s a e
SADD ints 1 2 3 -5 100000
SREM s a zz
SREM noset a
~SMEMBERS s
~SMEMBERS ints
SMEMBERS noset
SISMEMBER s b
SISMEMBER s zz
SMISMEMBER s b zz c
SMISMEMBER noset a
SCARD s
SCARD noset
SADD s2 c d x y
~SINTER s s2
SINTER s noset
~SUNION s s2 noset
~SDIFF s s2
SDIFF noset s
SINTERSTORE dest s s2
~SMEMBERS dest
SUNIONSTORE dest s s2
SDIFFSTORE dest s2 s
SINTERSTORE dest noset s
EXISTS dest
SINTERCARD 2 s s2
SINTERCARD 2 s s2 LIMIT 1
SINTERCARD 0 s
SINTERCARD 5 s
SINTERCARD 2 s s2 LIMIT -1
SINTERCARD 2 s s2 FOO 1
SINTER s str
SUNION str s
SMOVE s s2 b
SMOVE s s2 zz
SMOVE noset s2 a
SMOVE s str c
~SMEMBERS s2
#SPOP s
SPOP noset
SPOP noset 2
SPOP s -1
SPOP s 0
#SRANDMEMBER s2
#SRANDMEMBER s2 2
#SRANDMEMBER s2 -10
SRANDMEMBER noset
SRANDMEMBER noset 3
SADD one only
SPOP one 5
EXISTS one
SSCAN ints 0 MATCH 1*
SADD str x
# sorted sets
ZADD z 1 a 2 b 3 c
ZADD z 1.5 a 10 d
ZADD z NX 100 a 5 e
ZADD z XX 200 a 7 f
ZADD z XX CH 300 a 7 zz
ZADD z GT CH 1 a 400 b
ZADD z LT CH 1 a 400 c
ZADD z INCR 5 a
ZADD z NX INCR 5 a
ZADD z XX NX 1 a
ZADD z GT LT 1 a
ZADD z NX GT 1 a
ZADD z INCR 1 a 2 b
ZADD z 1 a 2
ZADD z notafloat a
ZADD z
ZADD nozset XX 1 a
EXISTS nozset
ZSCORE z a
ZSCORE z nope
ZSCORE nozset a
ZMSCORE z a nope b
ZINCRBY z 0.1 b
ZINCRBY z abc b
ZINCRBY z 1 newm
ZADD inf +inf x -inf y 0 zero
ZINCRBY inf -inf x
ZRANGE inf 0 -1 WITHSCORES
ZCARD z
ZCARD nozset
ZRANGE z 0 -1 WITHSCORES
ZRANGE z 0 1
ZRANGE z -2 -1 WITHSCORES
ZRANGE z 0 -1 REV WITHSCORES
ZRANGE z 2 100 BYSCORE
ZRANGE z (2 +inf BYSCORE WITHSCORES LIMIT 1 2
ZRANGE z +inf -inf BYSCORE REV
ZRANGE z 0 -1 LIMIT 0 1
ZRANGE z - + BYLEX WITHSCORES
ZRANGE z x y BYSCORE
ZRANGE z a b
ZRANGE z 0 -1 BYSCORE BYLEX
ZRANGE nozset 0 -1
ZREVRANGE z 0 1 WITHSCORES
ZRANGEBYSCORE z -inf +inf WITHSCORES
ZRANGEBYSCORE z (1 5 LIMIT 0 2
ZRANGEBYSCORE z 5 1
ZRANGEBYSCORE z 0 10 REV
ZREVRANGEBYSCORE z +inf -inf LIMIT 1 1 WITHSCORES
ZCOUNT z -inf +inf
ZCOUNT z (1 3
ZCOUNT z a b
ZADD lex 0 a 0 b 0 c 0 d 0 e
ZRANGEBYLEX lex - +
ZRANGEBYLEX lex [b (d
ZRANGEBYLEX lex (a [c LIMIT 1 5
ZRANGEBYLEX lex a c
ZREVRANGEBYLEX lex + - LIMIT 0 2
ZRANGE lex [e [a BYLEX REV
ZLEXCOUNT lex [b +
ZRANK z b
ZRANK z nope
ZREVRANK z b
ZRANK nozset a
ZRANGESTORE zdst z 0 1
ZRANGE zdst 0 -1 WITHSCORES
ZRANGESTORE zdst z 5 1 BYSCORE
EXISTS zdst
ZPOPMIN z
ZPOPMAX z 2
ZPOPMIN z -1
ZPOPMIN nozset
ZPOPMIN nozset 3
ZREM z a nope
ZREM nozset a
ZREMRANGEBYSCORE lex -inf +inf
ZADD rr 1 a 2 b 3 c 4 d
ZREMRANGEBYRANK rr 0 1
ZREMRANGEBYLEX lex - +
ZRANGE rr 0 -1
ZSCAN rr 0
ZADD str 1 a
ZSCORE str a
ZRANGE str 0 -1
ZADD f 0.1 a 1e17 b 123456789.123 c -0.0001 d 3.0e-10 e
ZRANGE f 0 -1 WITHSCORES
#ZRANDMEMBER f
#ZRANDMEMBER f 2
#ZRANDMEMBER f -7 WITHSCORES
ZRANDMEMBER nozset
ZRANDMEMBER nozset 2
ZRANDMEMBER f 2 WITHSCORES x
ZADD f 1 ""
ZSCORE f ""
"#;

fn split_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut had_quote = false;
    for ch in line.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                had_quote = true;
            }
            ' ' if !quoted => {
                if !cur.is_empty() || had_quote {
                    out.push(std::mem::take(&mut cur));
                }
                had_quote = false;
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() || had_quote {
        out.push(cur);
    }
    out
}

/// Equality under the oracle's rules, plus RESP3 maps compared as sets of pairs (HGETALL).
fn same_reply(cmp: Cmp, a: &Resp, b: &Resp) -> bool {
    match (a, b) {
        (Resp::Map(x), Resp::Map(y)) if cmp != Cmp::Exact => {
            let pairs = |m: &[(Resp, Resp)]| {
                let mut v: Vec<String> = m.iter().map(|p| format!("{p:?}")).collect();
                v.sort();
                v
            };
            pairs(x) == pairs(y)
        }
        _ => same(cmp, a, b),
    }
}

/// Runs SCRIPT on a fresh trib-node / redis-server pair in RESP2 or RESP3 and lists every
/// reply that differs.
fn run_script(resp3: bool) {
    let Some(pair) = Pair::start(&[]) else {
        return;
    };
    let (mut tn, mut redis) = pair.conns();
    if resp3 {
        tn.cmd(&["HELLO", "3"]);
        redis.cmd(&["HELLO", "3"]);
    }
    let mut mismatches = Vec::new();
    let mut commands = 0;
    for raw in SCRIPT.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with("# ") {
            continue;
        }
        let (prefix, body) = match line.chars().next() {
            Some(c @ ('~' | '#')) => (Some(c), &line[1..]),
            _ => (None, line),
        };
        let args = split_line(body);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let cmp = match (prefix, compare_rule(&refs)) {
            (Some('#'), _) => Cmp::SameType,
            (Some('~'), Cmp::Exact) => Cmp::Unordered,
            (_, rule) => rule,
        };
        let a = tn.cmd(&refs);
        let b = redis.cmd(&refs);
        commands += 1;
        if !same_reply(cmp, &a, &b) {
            mismatches.push(format!(
                "{body} ({cmp:?})\n   trib-node:    {a}\n   redis-server: {b}"
            ));
        }
    }
    assert!(commands >= 60, "only {commands} commands");
    let proto = if resp3 { "RESP3" } else { "RESP2" };
    assert!(
        mismatches.is_empty(),
        "{proto}: {} of {commands} replies differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn collection_commands_match_real_redis() {
    run_script(false);
}

#[test]
fn collection_commands_match_real_redis_in_resp3() {
    run_script(true);
}

/// redis-benchmark's default test set (PING, SET/GET, INCR, list/set/hash/zset pushes and
/// pops, LRANGE_*, MSET) runs against trib-node with no error and a non-zero rate per test.
#[test]
fn redis_benchmark_default_set_runs_clean() {
    if which("redis-benchmark").is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("redis-benchmark is not installed, and CI=true");
        }
        eprintln!("NOTE: redis-benchmark not found; skipping");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let trib = Node::start(Backend::TribNode, false, &[], root.path());
    let port = trib.port.to_string();
    let mut child = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &port, "-n", "2000", "-q"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start redis-benchmark");
    let deadline = Instant::now() + Duration::from_secs(180);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("redis-benchmark did not finish in 180 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let errors: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("ERR") || l.to_lowercase().contains("error"))
        .collect();
    assert!(
        errors.is_empty(),
        "redis-benchmark reported errors:\n{text}"
    );
    let results: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("requests per second"))
        .collect();
    assert!(
        results.len() >= 15,
        "expected the default test set, got:\n{text}"
    );
    for line in results {
        let rate: f64 = line
            .split(": ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|r| r.parse().ok())
            .unwrap_or(0.0);
        assert!(rate > 0.0, "zero rate: {line}");
    }
}

/// A client blocked in BLPOP/BLMOVE is served when another client pushes, on both servers.
#[test]
fn blocking_pops_wake_up_on_push() {
    let root = tempfile::tempdir().unwrap();
    for backend in Backend::all() {
        let node = Node::start(backend, false, &[], root.path());
        let mut waiter = node.client();
        let mut pusher = node.client();
        let started = Instant::now();
        let handle = std::thread::spawn(move || {
            let popped: Vec<String> = redis::cmd("BLPOP")
                .arg("q1")
                .arg("q2")
                .arg("5")
                .query(&mut waiter)
                .unwrap();
            let moved: Option<String> = redis::cmd("BLMOVE")
                .arg("q3")
                .arg("q4")
                .arg("LEFT")
                .arg("RIGHT")
                .arg("5")
                .query(&mut waiter)
                .unwrap();
            let timed_out: Option<Vec<String>> = redis::cmd("BRPOP")
                .arg("q5")
                .arg("0.2")
                .query(&mut waiter)
                .unwrap();
            (popped, moved, timed_out)
        });
        std::thread::sleep(Duration::from_millis(200));
        let _: i64 = redis::cmd("RPUSH")
            .arg("q2")
            .arg("v2")
            .query(&mut pusher)
            .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let _: i64 = redis::cmd("RPUSH")
            .arg("q3")
            .arg("v3")
            .query(&mut pusher)
            .unwrap();
        let (popped, moved, timed_out) = handle.join().unwrap();
        assert_eq!(
            popped,
            vec!["q2".to_string(), "v2".to_string()],
            "{}",
            backend.name()
        );
        assert_eq!(moved.as_deref(), Some("v3"), "{}", backend.name());
        assert_eq!(timed_out, None, "{}", backend.name());
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{}",
            backend.name()
        );
        let q4: Vec<String> = redis::cmd("LRANGE")
            .arg("q4")
            .arg("0")
            .arg("-1")
            .query(&mut pusher)
            .unwrap();
        assert_eq!(q4, vec!["v3".to_string()]);
    }
}
