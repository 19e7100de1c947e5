//! Replica side: the link task that follows a master. It connects, does Redis's handshake
//! (PING, AUTH, REPLCONF listening-port / ip-address / capa, PSYNC), loads the snapshot of a
//! full resync or continues a partial one, then applies the command stream, acknowledging
//! every second and on `REPLCONF GETACK`. A dropped link is retried every second with PSYNC
//! of our replication id and offset, so a short outage is a partial resync. The dataset is
//! reached only through `Host` (implemented by the command layer), never directly.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::core::{LinkState, Replication};
use super::wire::{encode_command, Reader};
use crate::node::log;
use crate::node::rdb::file::{read, Snapshot};
use crate::node::resp::{parse_request, Limits};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One command of the master's stream: its arguments and its exact bytes (which replicas of
/// this node receive unchanged, so offsets agree down the chain).
pub struct Streamed {
    pub args: Vec<Bytes>,
    pub raw: Bytes,
}

/// What the link needs from the node.
pub trait Host: Send + Sync + 'static {
    fn replication(&self) -> &Replication;
    /// Replaces the dataset with a snapshot's db 0, then records `replid`/`offset` as ours.
    fn load<'a>(&'a self, snapshot: Snapshot, replid: &'a str, offset: u64) -> BoxFuture<'a, ()>;
    /// Applies commands in order and feeds their bytes on (under one keyspace lock).
    fn apply(&self, commands: Vec<Streamed>) -> BoxFuture<'_, ()>;
    fn settings(&self) -> Settings;
}

/// Configuration read at each connection attempt.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub masterauth: String,
    pub masteruser: String,
    pub listening_port: u16,
    pub announce_ip: String,
    /// `repl-timeout`, seconds.
    pub timeout_secs: u64,
}

/// Follows `host:port` until aborted.
pub async fn run(node: Arc<dyn Host>, host: String, port: u16) {
    loop {
        node.replication().set_link_state(LinkState::Connecting);
        match session(&*node, &host, port).await {
            Ok(()) => {}
            Err(e) => log::warning(&format!("MASTER <-> REPLICA link with {host}:{port}: {e}")),
        }
        node.replication().set_link_state(LinkState::Connect);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

type Res<T> = Result<T, String>;

async fn ask(r: &mut Reader<TcpStream>, args: &[&[u8]]) -> Res<String> {
    r.stream
        .write_all(&encode_command(args))
        .await
        .map_err(|e| e.to_string())?;
    r.line().await.map_err(|e| e.to_string())
}

async fn session(node: &dyn Host, host: &str, port: u16) -> Res<()> {
    let settings = node.settings();
    let connect = TcpStream::connect((host, port));
    let stream = tokio::time::timeout(Duration::from_secs(5), connect)
        .await
        .map_err(|_| "connection timed out".to_string())?
        .map_err(|e| format!("Error condition on socket for SYNC: {e}"))?;
    let _ = stream.set_nodelay(true);
    log::notice(&format!("Connecting to MASTER {host}:{port}"));
    let mut r = Reader::new(stream);
    let pong = ask(&mut r, &[b"PING"]).await?;
    let tolerated = ["-NOAUTH", "-NOPERM", "-ERR operation not permitted"];
    if pong.starts_with('-') && !tolerated.iter().any(|t| pong.starts_with(t)) {
        return Err(format!("Error reply to PING from master: '{pong}'"));
    }
    if !settings.masterauth.is_empty() {
        let pass = settings.masterauth.as_bytes();
        let reply = if settings.masteruser.is_empty() {
            ask(&mut r, &[b"AUTH", pass]).await?
        } else {
            ask(&mut r, &[b"AUTH", settings.masteruser.as_bytes(), pass]).await?
        };
        if reply.starts_with('-') {
            return Err(format!("Unable to AUTH to MASTER: {reply}"));
        }
    }
    let port_arg = settings.listening_port.to_string();
    let reply = ask(
        &mut r,
        &[b"REPLCONF", b"listening-port", port_arg.as_bytes()],
    )
    .await?;
    if reply.starts_with('-') {
        log::notice(&format!(
            "(Non critical) Master does not understand REPLCONF listening-port: {reply}"
        ));
    }
    if !settings.announce_ip.is_empty() {
        let ip = settings.announce_ip.as_bytes();
        ask(&mut r, &[b"REPLCONF", b"ip-address", ip]).await?;
    }
    ask(&mut r, &[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]).await?;
    let (replid, offset) = {
        let inner = node.replication().lock();
        (inner.replid.clone(), inner.offset)
    };
    let from = (offset + 1).to_string();
    let reply = ask(&mut r, &[b"PSYNC", replid.as_bytes(), from.as_bytes()]).await?;
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
        let mut parts = rest.split(' ');
        let id = parts.next().unwrap_or_default().to_string();
        let at: u64 = parts
            .next()
            .and_then(|o| o.parse().ok())
            .ok_or("bad FULLRESYNC")?;
        log::notice(&format!("Full resync from master: {id}:{at}"));
        node.replication().set_link_state(LinkState::Sync);
        let bytes = r.snapshot().await.map_err(|e| e.to_string())?;
        let snapshot = read(&bytes).map_err(|e| {
            format!("Failed trying to load the MASTER synchronization DB from socket: {e:?}")
        })?;
        node.load(snapshot, &id, at).await;
        log::notice("MASTER <-> REPLICA sync: Finished with success");
    } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        let id = rest.trim();
        if !id.is_empty() {
            node.replication().continued_as(id);
        }
        log::notice("Successful partial resynchronization with master.");
    } else {
        return Err(format!("Unexpected reply to PSYNC from master: {reply}"));
    }
    node.replication().set_link_state(LinkState::Connected);
    stream_commands(node, r, settings.timeout_secs.max(1)).await
}

async fn send_ack(r: &mut Reader<TcpStream>, offset: u64) -> Res<()> {
    let off = offset.to_string();
    r.stream
        .write_all(&encode_command(&[b"REPLCONF", b"ACK", off.as_bytes()]))
        .await
        .map_err(|e| e.to_string())
}

fn is_getack(args: &[Bytes]) -> bool {
    args.len() >= 2
        && args[0].eq_ignore_ascii_case(b"replconf")
        && args[1].eq_ignore_ascii_case(b"getack")
}

async fn stream_commands(node: &dyn Host, mut r: Reader<TcpStream>, timeout: u64) -> Res<()> {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut idle = 0u64;
    send_ack(&mut r, node.replication().offset()).await?;
    loop {
        let mut batch = Vec::new();
        let mut pending_ack = false;
        loop {
            let limits = Limits {
                max_bulk: i64::MAX,
                authenticated: true,
            };
            match parse_request(&mut r.buf, limits) {
                Ok(Some(args)) => {
                    if args.is_empty() {
                        continue;
                    }
                    // A master sends canonical RESP arrays, so re-encoding gives back the exact
                    // bytes (and byte count) it sent.
                    let parts: Vec<&[u8]> = args.iter().map(|a| a.as_ref()).collect();
                    let raw = Bytes::from(encode_command(&parts));
                    if is_getack(&args) {
                        // Answered with the offset before this command, after what precedes it.
                        pending_ack = true;
                    }
                    batch.push(Streamed { args, raw });
                    if pending_ack {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(format!("protocol error in the master stream: {}", e.0)),
            }
        }
        if !batch.is_empty() {
            idle = 0;
            node.replication().touch_link();
            let getack = pending_ack.then(|| batch.pop()).flatten();
            node.apply(batch).await;
            if let Some(cmd) = getack {
                send_ack(&mut r, node.replication().offset()).await?;
                node.replication().feed_raw(&cmd.raw);
            }
            if pending_ack {
                continue;
            }
        }
        tokio::select! {
            read = r.fill() => { read.map_err(|e| e.to_string())?; }
            _ = tick.tick() => {
                idle += 1;
                if idle > timeout {
                    return Err("MASTER timeout: no data nor PING received".into());
                }
                send_ack(&mut r, node.replication().offset()).await?;
            }
        }
    }
}
