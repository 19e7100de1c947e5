//! A client keeps writing and reading through MOVED/ASK redirections while trib reshards:
//! no error other than MOVED/ASK/TRYAGAIN, and no acknowledged write is lost.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::{ErrorKind, Value};
use trib::slot::key_slot;

use crate::harness::{backends_with_cluster, trib, Cluster};
use crate::migrate_support::{ids, slot_map};

/// A small cluster client that follows redirections itself (bounded per command).
struct RedirectingClient {
    map: Vec<u16>,
    conns: HashMap<u16, redis::Connection>,
    redirects: u64,
}

impl RedirectingClient {
    fn conn(&mut self, port: u16) -> &mut redis::Connection {
        self.conns.entry(port).or_insert_with(|| {
            let c = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
            let conn = c
                .get_connection_with_timeout(Duration::from_secs(5))
                .unwrap();
            conn.set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            conn
        })
    }

    fn exec(&mut self, key: &str, cmd: &redis::Cmd) -> Result<Value, String> {
        let mut port = self.map[key_slot(key.as_bytes()).index()];
        let mut asking = false;
        for _ in 0..50 {
            let conn = self.conn(port);
            let result = if asking {
                redis::pipe()
                    .cmd("ASKING")
                    .ignore()
                    .add_command(cmd.clone())
                    .query::<Vec<Value>>(conn)
                    .map(|mut v| v.pop().unwrap_or(Value::Nil))
            } else {
                cmd.query::<Value>(conn)
            };
            match result {
                Ok(v) => return Ok(v),
                Err(e) if matches!(e.kind(), ErrorKind::Moved | ErrorKind::Ask) => {
                    self.redirects += 1;
                    let (addr, slot) = e.redirect_node().ok_or_else(|| e.to_string())?;
                    let to: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
                    asking = e.kind() == ErrorKind::Ask;
                    if !asking {
                        self.map[slot as usize] = to;
                    }
                    port = to;
                }
                Err(e) if e.kind() == ErrorKind::TryAgain => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(format!("{key}: {e}")),
            }
        }
        Err(format!("{key}: too many redirections"))
    }
}

#[test]
fn client_sees_only_redirections_and_loses_no_write() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let id = ids(&cluster);
        let stop = Arc::new(AtomicBool::new(false));
        let map = slot_map(&cluster);
        let writer = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut client = RedirectingClient {
                    map,
                    conns: HashMap::new(),
                    redirects: 0,
                };
                let mut acked: Vec<(String, String)> = Vec::new();
                let mut errors: Vec<String> = Vec::new();
                let deadline = Instant::now() + Duration::from_secs(120);
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    // keys spread over slots 0..5461, the ones being moved
                    let key = format!("live:{}", i % 4000);
                    let value = format!("v{i}");
                    let mut set = redis::cmd("SET");
                    set.arg(&key).arg(&value);
                    match client.exec(&key, &set) {
                        Ok(_) => acked.push((key.clone(), value)),
                        Err(e) => errors.push(e),
                    }
                    if i.is_multiple_of(3) {
                        let mut get = redis::cmd("GET");
                        get.arg(&key);
                        if let Err(e) = client.exec(&key, &get) {
                            errors.push(e);
                        }
                    }
                    i += 1;
                }
                (client, acked, errors)
            })
        };
        std::thread::sleep(Duration::from_millis(300));
        let run = trib(
            &[
                "reshard",
                &cluster.nodes[0].addr(),
                "--from",
                &id[0],
                "--to",
                &id[1],
                "--slots",
                "3000",
                "--yes",
                "--pipeline",
                "5",
            ],
            None,
        );
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
        let (mut client, acked, errors) = writer.join().unwrap();
        assert_eq!(run.code, 0, "{run:?}");
        assert!(errors.is_empty(), "client errors: {errors:?}");
        assert!(client.redirects > 0, "the client never saw a redirection");
        // the last acknowledged value of every key is there
        let mut last: HashMap<String, String> = HashMap::new();
        for (k, v) in acked {
            last.insert(k, v);
        }
        assert!(last.len() > 100, "too few writes: {}", last.len());
        for (k, v) in &last {
            let mut get = redis::cmd("GET");
            get.arg(k);
            let got = client.exec(k, &get).unwrap();
            assert_eq!(got, Value::BulkString(v.clone().into_bytes()), "{k}");
        }
    }
}
