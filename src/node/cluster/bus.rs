//! The cluster bus transport: the listener on `cluster-port`, one task pair (reader, writer) per
//! link, outbound connects from the 100 ms cron, and frame reading with the 7.0 length checks.
//! A malformed or hostile message is logged and closes its link; the node keeps running.
//! Message meaning lives in `gossip`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::bus_msg::{self as msg, flags, Message, NodeName};
use super::gossip::{self, LinkCtx};
use super::state::{now_ms, ClusterState, Link};
use crate::slot::Slot;

pub type SharedCluster = Arc<Mutex<ClusterState>>;

/// What the bus needs from the rest of the node.
pub trait ClusterHost: Send + Sync + 'static {
    /// Deletes every key of these slots (lost to a newer owner); may run asynchronously.
    fn delete_keys_in_slots(&self, slots: Vec<Slot>);
    /// Copies settings that may change at runtime (CONFIG SET) into the cluster config.
    fn refresh_config(&self, _cfg: &mut super::state::ClusterConfig) {}
}

/// Locks the state; a poisoned lock (a panic elsewhere) still yields the data.
pub fn lock(shared: &SharedCluster) -> std::sync::MutexGuard<'_, ClusterState> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reads one frame: the 8-byte prefix, length checks, then the rest.
async fn read_frame(r: &mut BufReader<OwnedReadHalf>) -> Result<Option<Vec<u8>>, String> {
    let mut prefix = [0u8; 8];
    match r.read_exact(&mut prefix).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.to_string()),
    }
    let len = msg::frame_length(&prefix).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; len];
    buf[..8].copy_from_slice(&prefix);
    r.read_exact(&mut buf[8..])
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some(buf))
}

/// Starts the listener and the cron. Returns once both tasks are spawned.
pub fn start(listener: TcpListener, shared: SharedCluster, host: Arc<dyn ClusterHost>) {
    let s = shared.clone();
    let h = host.clone();
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(run_link(stream, s.clone(), h.clone(), None, None));
                }
                Err(e) => {
                    cwarn!("cluster bus accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    tokio::spawn(cron_loop(shared, host));
}

async fn cron_loop(shared: SharedCluster, host: Arc<dyn ClusterHost>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut iteration: u64 = 0;
    loop {
        tick.tick().await;
        iteration += 1;
        let t0 = std::time::Instant::now();
        let mut st = lock(&shared);
        let waited = t0.elapsed();
        let offset = st.repl.offset();
        st.me_mut().repl_offset = offset;
        if iteration.is_multiple_of(10) {
            let mut cfg = st.config.clone();
            host.refresh_config(&mut cfg);
            st.config = cfg;
        }
        let to_connect = gossip::cron(&mut st, iteration);
        for name in to_connect {
            let Some(n) = st.nodes.get(&name) else {
                continue;
            };
            let addr = (n.ip.clone(), n.cport);
            let id = st.new_link_id();
            let (tx, rx) = mpsc::unbounded_channel();
            st.nodes.get_mut(&name).unwrap().link = Some(Link {
                id,
                tx,
                ctime: now_ms(),
                established: false,
            });
            let timeout = st.config.node_timeout.max(1000);
            tokio::spawn(connect(
                shared.clone(),
                host.clone(),
                name,
                id,
                addr,
                rx,
                timeout,
            ));
        }
        let save = st.take_save();
        drop(st);
        if let Some(job) = save {
            job.write();
        }
        if t0.elapsed().as_millis() > 50 {
            cdebug!(
                "cluster cron: slow tick (waited {waited:?}, total {:?})",
                t0.elapsed()
            );
        }
    }
}

/// Where an outbound link stands in the table: the node it now belongs to (renames follow it).
fn find_link(st: &ClusterState, id: u64) -> Option<NodeName> {
    st.nodes
        .values()
        .find(|n| n.link.as_ref().is_some_and(|l| l.id == id))
        .map(|n| n.name)
}

fn drop_link(shared: &SharedCluster, id: u64) {
    let mut st = lock(shared);
    if let Some(name) = find_link(&st, id) {
        st.nodes.get_mut(&name).unwrap().link = None;
    }
}

/// A connect that failed counts as a ping sent now, or failure detection could never start
/// for a node that died while no ping was pending (what Redis does too).
fn connect_failed(shared: &SharedCluster, id: u64) {
    let mut st = lock(shared);
    if let Some(name) = find_link(&st, id) {
        let n = st.nodes.get_mut(&name).unwrap();
        n.link = None;
        if n.ping_sent == 0 {
            n.ping_sent = now_ms();
        }
    }
}

async fn connect(
    shared: SharedCluster,
    host: Arc<dyn ClusterHost>,
    name: NodeName,
    id: u64,
    (ip, port): (String, u16),
    rx: mpsc::UnboundedReceiver<Bytes>,
    timeout_ms: u64,
) {
    let target = if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    };
    let stream = match tokio::time::timeout(
        Duration::from_millis(timeout_ms),
        TcpStream::connect(&target),
    )
    .await
    {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            cdebug!("cluster bus connect to {target} (node {name}): {e}");
            connect_failed(&shared, id);
            return;
        }
        Err(_) => {
            cdebug!("cluster bus connect to {target} (node {name}): timeout");
            connect_failed(&shared, id);
            return;
        }
    };
    let _ = stream.set_nodelay(true);
    cdebug!("cluster bus connected to {target} (node {name})");
    {
        let mut st = lock(&shared);
        let Some(name) = find_link(&st, id) else {
            return;
        };
        let n = st.nodes.get_mut(&name).unwrap();
        let link = n.link.as_mut().unwrap();
        link.established = true;
        link.ctime = now_ms();
        let kind = if n.has(flags::MEET) {
            msg::TYPE_MEET
        } else {
            msg::TYPE_PING
        };
        n.flags &= !flags::MEET;
        let old_ping_sent = n.ping_sent;
        gossip::send_ping(&mut st, &name, kind);
        if old_ping_sent != 0 {
            st.nodes.get_mut(&name).unwrap().ping_sent = old_ping_sent;
        }
    }
    run_link(stream, shared, host, Some(id), Some(rx)).await;
}

/// Runs one link until either side closes it. `outbound` = (link id) for our own links, whose
/// sender lives in the node table; inbound links own their sender.
async fn run_link(
    stream: TcpStream,
    shared: SharedCluster,
    host: Arc<dyn ClusterHost>,
    outbound: Option<u64>,
    rx: Option<mpsc::UnboundedReceiver<Bytes>>,
) {
    let peer_ip = stream
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let local_ip = stream
        .local_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let (read_half, mut write_half) = stream.into_split();
    let (inbound_tx, rx) = match rx {
        Some(rx) => (None, rx),
        None => {
            let (tx, rx) = mpsc::unbounded_channel();
            (Some(tx), rx)
        }
    };
    let writer = tokio::spawn(async move {
        let mut rx = rx;
        while let Some(bytes) = rx.recv().await {
            if write_half.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = write_half.shutdown().await;
    });
    let mut reader = BufReader::with_capacity(16 * 1024, read_half);
    let mut ctx = LinkCtx {
        outbound_to: None,
        peer_ip: peer_ip.clone(),
        local_ip,
    };
    loop {
        let frame = tokio::select! {
            f = read_frame(&mut reader) => f,
            _ = tokio::time::sleep(Duration::from_secs(1)), if writer.is_finished() => break,
        };
        let frame = match frame {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                cwarn!("cluster bus: closing link with {peer_ip}: {e}");
                break;
            }
        };
        let m = match Message::decode(&frame) {
            Ok(m) => m,
            Err(e) => {
                cwarn!("cluster bus: bad message from {peer_ip}, closing link: {e}");
                break;
            }
        };
        let dirty = {
            let mut st = lock(&shared);
            if let Some(id) = outbound {
                match find_link(&st, id) {
                    Some(name) => ctx.outbound_to = Some(name),
                    None => break,
                }
            }
            let out = gossip::process(&mut st, &m, &mut ctx);
            if let Some(reply) = out.reply {
                let tx = match outbound {
                    Some(id) => find_link(&st, id)
                        .and_then(|n| st.nodes[&n].link.as_ref().map(|l| l.tx.clone())),
                    None => inbound_tx.clone(),
                };
                if let Some(tx) = tx {
                    let _ = tx.send(reply);
                }
            }
            if st.broadcast_pong_needed {
                st.broadcast_pong_needed = false;
                gossip::broadcast_pong(&mut st);
            }
            if out.close {
                if let Some(id) = outbound {
                    if let Some(name) = find_link(&st, id) {
                        st.nodes.get_mut(&name).unwrap().link = None;
                    }
                }
                drop(st);
                if !out.dirty_slots.is_empty() {
                    host.delete_keys_in_slots(out.dirty_slots);
                }
                break;
            }
            out.dirty_slots
        };
        if !dirty.is_empty() {
            host.delete_keys_in_slots(dirty);
        }
    }
    if let Some(id) = outbound {
        drop_link(&shared, id);
    }
    drop(inbound_tx);
    writer.abort();
}
