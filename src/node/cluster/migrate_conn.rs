//! MIGRATE's side towards the target: the cached connections (keyed by the literal
//! `host:port`, at most 64, idle ones closed after 10 s, each remembering its SELECTed db) and
//! one pipelined exchange (AUTH, SELECT, RESTORE-ASKING per key; one reply line each), with
//! Redis's retry-once rule and its exact IOERR texts. Knows nothing about the keyspace.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const MAX_CACHED: usize = 64;
const IDLE_CLOSE: Duration = Duration::from_secs(10);

struct Cached {
    stream: BufReader<TcpStream>,
    last_db: Option<i64>,
    last_use: Instant,
}

/// The migrate socket cache. One per node.
#[derive(Default)]
pub struct MigrateCache {
    conns: std::sync::Mutex<HashMap<String, Cached>>,
}

/// MIGRATE credentials: `AUTH password` or `AUTH2 username password`.
#[derive(Clone)]
pub struct Auth {
    pub user: Option<Bytes>,
    pub pass: Bytes,
}

/// One key to send.
pub struct Item {
    pub key: Bytes,
    /// Remaining TTL in ms, 0 = none.
    pub ttl: u64,
    pub payload: Vec<u8>,
}

pub struct Request<'a> {
    pub host: &'a str,
    pub port: &'a str,
    pub db: i64,
    pub timeout: Duration,
    pub replace: bool,
    pub auth: Option<Auth>,
    /// RESTORE-ASKING in cluster mode, plain RESTORE otherwise.
    pub asking: bool,
    pub items: &'a [Item],
}

/// The outcome of one exchange.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Per item: acknowledged by the target. `error` = the first error line (without '-').
    Replied {
        acked: Vec<bool>,
        error: Option<String>,
    },
    /// `-IOERR ...` text (without '-').
    Io(&'static str),
}

const IO_CONNECT: &str = "IOERR error or timeout connecting to the client";
const IO_WRITE: &str = "IOERR error or timeout writing to target instance";
const IO_READ: &str = "IOERR error or timeout reading to target instance";

fn push_command(buf: &mut BytesMut, args: &[&[u8]]) {
    buf.put_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        buf.put_slice(format!("${}\r\n", a.len()).as_bytes());
        buf.put_slice(a);
        buf.put_slice(b"\r\n");
    }
}

impl MigrateCache {
    fn take(&self, key: &str) -> Option<Cached> {
        let mut g = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        g.remove(key)
    }
    fn put(&self, key: String, c: Cached) {
        let mut g = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        g.retain(|_, c| c.last_use.elapsed() < IDLE_CLOSE);
        if g.len() >= MAX_CACHED {
            if let Some(victim) = g.keys().next().cloned() {
                g.remove(&victim);
            }
        }
        g.insert(key, c);
    }
    /// Closes connections idle for more than 10 s (called from a cron).
    pub fn close_idle(&self) {
        let mut g = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        g.retain(|_, c| c.last_use.elapsed() < IDLE_CLOSE);
    }

    async fn connect(req: &Request<'_>) -> Result<Cached, &'static str> {
        let port: u16 = req.port.parse().map_err(|_| IO_CONNECT)?;
        let target = if req.host.contains(':') {
            format!("[{}]:{port}", req.host)
        } else {
            format!("{}:{port}", req.host)
        };
        match tokio::time::timeout(req.timeout, TcpStream::connect(&target)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                Ok(Cached {
                    stream: BufReader::new(s),
                    last_db: None,
                    last_use: Instant::now(),
                })
            }
            // Redis's non-blocking connect "succeeds" and the failure shows on the write.
            Ok(Err(_)) => Err(IO_WRITE),
            Err(_) => Err(IO_CONNECT),
        }
    }

    /// Sends the batch and reads every reply line. Retries once on a socket error when
    /// nothing was acknowledged and it was not a timeout.
    pub async fn exchange(&self, req: &Request<'_>) -> Outcome {
        let key = format!("{}:{}", req.host, req.port);
        let mut retried = false;
        loop {
            let mut conn = match self.take(&key) {
                Some(c) => c,
                None => match Self::connect(req).await {
                    Ok(c) => c,
                    Err(e) => return Outcome::Io(e),
                },
            };
            match Self::run(&mut conn, req).await {
                Ok(outcome) => {
                    conn.last_use = Instant::now();
                    self.put(key, conn);
                    return outcome;
                }
                Err((err, acked_any, timed_out)) => {
                    // The connection is dropped (closed) here.
                    if !retried && !acked_any && !timed_out {
                        retried = true;
                        continue;
                    }
                    return Outcome::Io(err);
                }
            }
        }
    }

    async fn run(
        conn: &mut Cached,
        req: &Request<'_>,
    ) -> Result<Outcome, (&'static str, bool, bool)> {
        let mut buf = BytesMut::new();
        if let Some(a) = &req.auth {
            match &a.user {
                Some(u) => push_command(&mut buf, &[b"AUTH", u, &a.pass]),
                None => push_command(&mut buf, &[b"AUTH", &a.pass]),
            }
        }
        let select = conn.last_db != Some(req.db);
        if select {
            push_command(&mut buf, &[b"SELECT", req.db.to_string().as_bytes()]);
        }
        let cmd: &[u8] = if req.asking {
            b"RESTORE-ASKING"
        } else {
            b"RESTORE"
        };
        for it in req.items {
            let ttl = it.ttl.to_string();
            if req.replace {
                push_command(
                    &mut buf,
                    &[cmd, &it.key, ttl.as_bytes(), &it.payload, b"REPLACE"],
                );
            } else {
                push_command(&mut buf, &[cmd, &it.key, ttl.as_bytes(), &it.payload]);
            }
        }
        let stream = conn.stream.get_mut();
        for chunk in buf.chunks(64 * 1024) {
            match tokio::time::timeout(req.timeout, stream.write_all(chunk)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Err((IO_WRITE, false, false)),
                Err(_) => return Err((IO_WRITE, false, true)),
            }
        }
        let read_line = async |conn: &mut Cached| -> Result<String, bool> {
            let mut line = Vec::new();
            match tokio::time::timeout(req.timeout, conn.stream.read_until(b'\n', &mut line)).await
            {
                Ok(Ok(n)) if n > 0 => {
                    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                        line.pop();
                    }
                    Ok(String::from_utf8_lossy(&line).into_owned())
                }
                Ok(_) => Err(false),
                Err(_) => Err(true),
            }
        };
        let auth_err = match &req.auth {
            Some(_) => match read_line(conn).await {
                Ok(l) => l.strip_prefix('-').map(str::to_string),
                Err(t) => return Err((IO_READ, false, t)),
            },
            None => None,
        };
        let select_err = if select {
            match read_line(conn).await {
                Ok(l) => l.strip_prefix('-').map(str::to_string),
                Err(t) => return Err((IO_READ, false, t)),
            }
        } else {
            None
        };
        let mut acked = Vec::with_capacity(req.items.len());
        let mut error: Option<String> = None;
        for _ in req.items {
            let line = match read_line(conn).await {
                Ok(l) => l,
                Err(t) => {
                    let any = acked.iter().any(|a| *a);
                    return Err((IO_READ, any, t));
                }
            };
            let failed = auth_err
                .as_ref()
                .or(select_err.as_ref())
                .cloned()
                .or_else(|| line.strip_prefix('-').map(str::to_string));
            match failed {
                Some(e) => {
                    error.get_or_insert(e);
                    acked.push(false);
                }
                None => acked.push(true),
            }
        }
        conn.last_db = if error.is_some() { None } else { Some(req.db) };
        Ok(Outcome::Replied { acked, error })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn pipelines_select_once_and_reports_first_error() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            // first exchange: SELECT + 2 RESTORE-ASKING; second: 1 RESTORE-ASKING (no SELECT)
            let replies: [&[u8]; 2] = [
                b"+OK\r\n+OK\r\n-BUSYKEY Target key name already exists.\r\n",
                b"+OK\r\n+OK\r\n",
            ];
            for r in replies {
                let n = s.read(&mut buf).await.unwrap();
                seen.extend_from_slice(&buf[..n]);
                s.write_all(r).await.unwrap();
            }
            String::from_utf8_lossy(&seen).into_owned()
        });
        let cache = MigrateCache::default();
        let items = vec![
            Item {
                key: Bytes::from_static(b"a"),
                ttl: 0,
                payload: b"p1".to_vec(),
            },
            Item {
                key: Bytes::from_static(b"b"),
                ttl: 5,
                payload: b"p2".to_vec(),
            },
        ];
        let req = Request {
            host: "127.0.0.1",
            port: &port,
            db: 0,
            timeout: Duration::from_secs(5),
            replace: false,
            auth: None,
            asking: true,
            items: &items,
        };
        assert_eq!(
            cache.exchange(&req).await,
            Outcome::Replied {
                acked: vec![true, false],
                error: Some("BUSYKEY Target key name already exists.".into())
            }
        );
        let one = [Item {
            key: Bytes::from_static(b"c"),
            ttl: 0,
            payload: b"p".to_vec(),
        }];
        let req2 = Request { items: &one, ..req };
        // the error invalidated the cached db, so SELECT is sent again
        assert_eq!(
            cache.exchange(&req2).await,
            Outcome::Replied {
                acked: vec![true],
                error: None
            }
        );
        let seen = server.await.unwrap();
        assert_eq!(seen.matches("SELECT").count(), 2);
        assert!(seen.contains("RESTORE-ASKING\r\n$1\r\nb\r\n$1\r\n5\r\n$2\r\np2"));
    }

    #[tokio::test]
    async fn refused_connection_is_an_ioerr() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port().to_string();
        drop(l);
        let cache = MigrateCache::default();
        let items = [Item {
            key: Bytes::from_static(b"a"),
            ttl: 0,
            payload: vec![],
        }];
        let req = Request {
            host: "127.0.0.1",
            port: &port,
            db: 0,
            timeout: Duration::from_secs(1),
            replace: false,
            auth: None,
            asking: true,
            items: &items,
        };
        assert_eq!(cache.exchange(&req).await, Outcome::Io(IO_WRITE));
    }
}
