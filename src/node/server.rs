//! The network server: accepts connections on a bound listener (so tests can bind port 0),
//! runs one task per connection (read, parse every complete request, run them as one batch,
//! write all replies at once), ends a connection on a protocol error or kill, and runs the
//! active-expiry task. Stops on the shutdown future, SHUTDOWN, or `Shared::request_shutdown`.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::commands::dispatch::run_batch;
use super::keyspace::unix_ms;
use super::log;
use super::reply::Reply;
use super::resp::{encode, parse_request, Limits};
use super::session::{ClientInfo, Session};
use super::state::{lock, Shared};

/// Serves until `shutdown` resolves or a SHUTDOWN command is run.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, shutdown: impl Future<Output = ()>) {
    if let Ok(addr) = listener.local_addr() {
        shared
            .tcp_port
            .store(u64::from(addr.port()), Ordering::Relaxed);
    }
    let expiry = tokio::spawn(active_expiry(shared.clone()));
    let replication = tokio::spawn(super::commands::replication::cron(shared.clone()));
    tokio::pin!(shutdown);
    loop {
        let stop = shared.shutdown.notified();
        if shared.shutting_down() {
            break;
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let shared = shared.clone();
                    tokio::spawn(async move { connection(stream, peer.to_string(), shared).await });
                }
                Err(e) => {
                    log::warning(&format!("Accepting client connection: {e}"));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
        }
    }
    shared.request_shutdown();
    for c in lock(&shared.clients).values() {
        c.request_kill();
    }
    expiry.abort();
    replication.abort();
}

/// Deletes keys whose TTL passed, ten times a second, in bounded steps so that clients keep
/// being served between steps.
async fn active_expiry(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        for _ in 0..100 {
            let n = {
                let mut db = shared.db.lock().await;
                let n = db.expire_due(unix_ms(), 200);
                super::commands::replication::propagate::expired(&shared, &mut db);
                n
            };
            if n < 200 {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
}

async fn connection(mut stream: TcpStream, peer: String, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let laddr = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let id = shared.next_client_id.fetch_add(1, Ordering::Relaxed);
    let info = Arc::new(ClientInfo::new(id, peer, laddr, unix_ms()));
    let maxclients = shared.config().get_i64("maxclients").max(1) as usize;
    shared
        .stats
        .connections_received
        .fetch_add(1, Ordering::Relaxed);
    if lock(&shared.clients).len() >= maxclients {
        shared
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = stream
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        return;
    }
    lock(&shared.clients).insert(id, info.clone());
    let needs_auth = shared.acl().default_needs_auth();
    let mut session = Session::new(info.clone(), needs_auth);
    serve_session(&mut stream, &shared, &mut session).await;
    lock(&shared.clients).remove(&id);
    if session.repl_feed.is_some() {
        shared.replication.detach(id);
    }
    if !session.watched.is_empty() {
        let mut db = shared.db.lock().await;
        for (k, _) in session.watched.drain(..) {
            db.unwatch(&k);
        }
    }
}

async fn serve_session(stream: &mut TcpStream, shared: &Arc<Shared>, session: &mut Session) {
    let mut inbuf = BytesMut::with_capacity(16 * 1024);
    let mut out = BytesMut::with_capacity(16 * 1024);
    let max_bulk = shared.config().get_i64("proto-max-bulk-len");
    loop {
        let mut requests = Vec::new();
        let mut protocol_error = None;
        let mut stopped_early = false;
        loop {
            let limits = Limits {
                max_bulk,
                authenticated: session.authenticated,
            };
            match parse_request(&mut inbuf, limits) {
                Ok(Some(args)) => {
                    if !args.is_empty() {
                        requests.push(args);
                    }
                    // Before AUTH, parse one request at a time: limits depend on the result.
                    if !session.authenticated || requests.len() >= 4096 {
                        stopped_early = true;
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    protocol_error = Some(e);
                    break;
                }
            }
        }
        if !requests.is_empty() {
            run_batch(shared, session, requests, &mut out).await;
        }
        if let Some(e) = protocol_error.as_ref() {
            if !session.close_after_reply {
                encode(&Reply::err(&e.0), session.resp, &mut out);
                log::verbose(&format!(
                    "Protocol error ({}) from client: id={} addr={}",
                    e.0,
                    session.id(),
                    session.info.addr
                ));
            }
            session.close_after_reply = true;
        }
        if !out.is_empty() {
            shared
                .stats
                .net_output_bytes
                .fetch_add(out.len() as u64, Ordering::Relaxed);
            if stream.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        if session.close_after_reply
            || shared.shutting_down()
            || session.info.killed.load(Ordering::SeqCst)
        {
            let _ = stream.shutdown().await;
            return;
        }
        if stopped_early {
            continue;
        }
        if inbuf.capacity() - inbuf.len() < 4096 {
            inbuf.reserve(16 * 1024);
        }
        let stop = shared.shutdown.notified();
        if shared.shutting_down() {
            return;
        }
        let is_replica = session.repl_feed.is_some();
        tokio::select! {
            read = stream.read_buf(&mut inbuf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    shared.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
            },
            chunk = next_feed(&mut session.repl_feed) => match chunk {
                Some(chunk) => {
                    // This connection is a replica: its share of the stream, as it comes.
                    out.extend_from_slice(&chunk);
                    if let Some(feed) = session.repl_feed.as_mut() {
                        while let Ok(more) = feed.try_recv() {
                            out.extend_from_slice(&more);
                        }
                    }
                }
                None => return,
            },
            _ = session.info.kill.notified() => return,
            _ = stop => return,
            _ = idle_timeout(shared), if !is_replica => {
                log::verbose(&format!("Closing idle client id={}", session.id()));
                return;
            }
        }
    }
}

/// The next chunk of a replica's stream; never resolves for other connections.
async fn next_feed(
    feed: &mut Option<tokio::sync::mpsc::UnboundedReceiver<bytes::Bytes>>,
) -> Option<bytes::Bytes> {
    match feed {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Resolves after `timeout` seconds (the redis.conf idle-client timeout); never when 0.
async fn idle_timeout(shared: &Shared) {
    let secs = shared.config().get_i64("timeout");
    if secs <= 0 {
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(Duration::from_secs(secs as u64)).await;
}
