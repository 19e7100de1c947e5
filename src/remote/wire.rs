//! trib's own multiplexed client connection: one socket (plain or TLS), requests written in
//! order by a writer task, replies matched to them in order by a reader task, many requests in
//! flight at once. It speaks to the redis crate through `ConnectionLike`, so `Cmd`, `Pipeline`,
//! `Value` and the crate's error classification stay exactly as they were; only the socket
//! handling and the reply parsing (`cluster::frame`, much cheaper than the crate's) are ours.
//! Connecting and authenticating live in `cluster::conn`.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use futures_util::future::FutureExt;
use redis::{RedisError, RedisFuture, RedisResult, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use crate::remote::frame::{decode, Framer};

/// How many replies a request waits for, and where they go.
struct Pending {
    /// Replies read and dropped first (a transaction's `OK`/`QUEUED` lines).
    skip: usize,
    /// Replies handed back after the skipped ones.
    keep: usize,
    /// Kept replies come back undecoded, as the bytes of their frame in a `BulkString`
    /// (error replies are still decoded): a big array of keys costs one copy, not one
    /// allocation per element.
    raw: bool,
    replies: Vec<Value>,
    done: oneshot::Sender<RedisResult<Vec<Value>>>,
}

struct Request {
    bytes: Vec<u8>,
    pending: Pending,
}

/// Shared by the writer (pushes, in write order) and the reader (pops, in reply order); one
/// lock, so a request is either queued before the reader fails the queue or refused after.
#[derive(Default)]
struct Queue {
    waiting: VecDeque<Pending>,
    /// Set by the reader when the socket is gone: every later request fails at once.
    closed: Option<io::ErrorKind>,
}

type SharedQueue = Arc<Mutex<Queue>>;

/// A handle on one connection; cheap to clone. The tasks end when the last clone is dropped.
#[derive(Clone)]
pub struct Wire {
    requests: mpsc::UnboundedSender<Request>,
    response_timeout: Duration,
}

impl Wire {
    /// Starts the reader and writer tasks on `stream` (already connected, TLS done).
    pub fn start<S>(stream: S, response_timeout: Duration) -> Wire
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        Wire::start_after(stream, response_timeout, &[], Vec::new()).0
    }

    /// Starts on a stream whose first requests were already written by the caller (all but
    /// `unsent`, which goes out first), so that a node can read them the moment it accepts.
    /// `written` says what each of those requests waits for (`skip`, `keep`, `raw`), in
    /// order; the answers come back in the same order.
    pub fn start_after<S>(
        stream: S,
        response_timeout: Duration,
        written: &[Expect],
        unsent: Vec<u8>,
    ) -> (Wire, Vec<Answer>)
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read, write) = tokio::io::split(stream);
        let (tx, rx) = mpsc::unbounded_channel();
        let queue = SharedQueue::default();
        let answers = {
            let mut q = queue.lock().unwrap();
            written
                .iter()
                .map(|e| {
                    let (pending, answer) = e.pending(response_timeout);
                    q.waiting.push_back(pending);
                    answer
                })
                .collect()
        };
        tokio::spawn(write_requests(write, rx, queue.clone(), unsent));
        tokio::spawn(read_replies(read, queue));
        let wire = Wire {
            requests: tx,
            response_timeout,
        };
        (wire, answers)
    }

    /// Writes `bytes` and waits (bounded by the response timeout) for `skip + keep` replies.
    pub async fn send(&self, bytes: Vec<u8>, skip: usize, keep: usize) -> RedisResult<Vec<Value>> {
        self.send_with(bytes, skip, keep, false).await
    }

    /// Writes one command and returns its reply undecoded: the bytes of the RESP frame (read
    /// them with `frame::RawReader`). An error reply is an `Err`, as with `send`.
    pub async fn send_raw(&self, bytes: Vec<u8>) -> RedisResult<Vec<u8>> {
        raw_frame(self.send_with(bytes, 0, 1, true).await?.pop())
    }

    async fn send_with(
        &self,
        bytes: Vec<u8>,
        skip: usize,
        keep: usize,
        raw: bool,
    ) -> RedisResult<Vec<Value>> {
        if skip + keep == 0 {
            return Ok(Vec::new());
        }
        self.enqueue(bytes, Expect { skip, keep, raw }).wait().await
    }

    /// Queues `bytes` for writing; the answer fails with "connection closed" when the
    /// connection is gone.
    pub fn enqueue(&self, bytes: Vec<u8>, expect: Expect) -> Answer {
        let (pending, answer) = expect.pending(self.response_timeout);
        // A refused request drops its sender: the answer then says the connection closed.
        let _ = self.requests.send(Request { bytes, pending });
        answer
    }
}

/// What one written request waits for: `skip` replies dropped, then `keep` kept (undecoded
/// frames when `raw`, as `send_raw` returns them).
#[derive(Debug, Clone, Copy)]
pub struct Expect {
    pub skip: usize,
    pub keep: usize,
    pub raw: bool,
}

impl Expect {
    fn pending(self, response_timeout: Duration) -> (Pending, Answer) {
        let (done, answer) = oneshot::channel();
        let pending = Pending {
            skip: self.skip,
            keep: self.keep,
            raw: self.raw,
            replies: Vec::with_capacity(self.keep.min(4096)),
            done,
        };
        let answer = Answer {
            answer,
            response_timeout,
        };
        (pending, answer)
    }
}

/// The replies to one request, once they have all arrived (bounded by the response timeout).
pub struct Answer {
    answer: oneshot::Receiver<RedisResult<Vec<Value>>>,
    response_timeout: Duration,
}

impl Answer {
    pub async fn wait(self) -> RedisResult<Vec<Value>> {
        match tokio::time::timeout(self.response_timeout, self.answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(io_error(io::ErrorKind::BrokenPipe, "connection closed")),
            // The request stays queued: its late replies are read and dropped, keeping order.
            Err(_) => Err(io_error(io::ErrorKind::TimedOut, "response timed out")),
        }
    }

    /// The one kept reply of a `raw` request: its frame's bytes; an error reply is an `Err`.
    pub async fn wait_raw(self) -> RedisResult<Vec<u8>> {
        raw_frame(self.wait().await?.pop())
    }
}

fn raw_frame(reply: Option<Value>) -> RedisResult<Vec<u8>> {
    match reply {
        Some(Value::BulkString(frame)) => Ok(frame),
        Some(other) => other.extract_error().map(|_| Vec::new()),
        None => Err(io_error(io::ErrorKind::UnexpectedEof, "no reply")),
    }
}

impl redis::aio::ConnectionLike for Wire {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> RedisFuture<'a, Value> {
        let bytes = cmd.get_packed_command();
        (async move {
            let mut replies = self.send(bytes, 0, 1).await?;
            Ok(replies.pop().unwrap_or(Value::Nil))
        })
        .boxed()
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipe: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        let bytes = pipe.get_packed_pipeline();
        self.send(bytes, offset, count).boxed()
    }

    fn get_db(&self) -> i64 {
        0
    }
}

fn io_error(kind: io::ErrorKind, text: &'static str) -> RedisError {
    RedisError::from(io::Error::new(kind, text))
}

/// Writes requests in arrival order, coalescing whatever is queued into one write.
async fn write_requests<W: AsyncWrite>(
    write: W,
    mut requests: mpsc::UnboundedReceiver<Request>,
    queue: SharedQueue,
    unsent: Vec<u8>,
) {
    tokio::pin!(write);
    if !unsent.is_empty() && write.write_all(&unsent).await.is_err() {
        let _ = write.shutdown().await;
        return;
    }
    let mut out = Vec::new();
    while let Some(first) = requests.recv().await {
        let mut next = Some(first);
        while let Some(req) = next {
            let mut q = queue.lock().unwrap();
            if let Some(kind) = q.closed {
                drop(q);
                let _ = req
                    .pending
                    .done
                    .send(Err(io_error(kind, "connection closed")));
            } else {
                out.extend_from_slice(&req.bytes);
                q.waiting.push_back(req.pending);
            }
            next = requests.try_recv().ok();
        }
        if out.is_empty() {
            continue;
        }
        let written = write.write_all(&out).await;
        out.clear();
        if written.is_err() {
            // The reader sees the same broken socket and fails everything queued.
            break;
        }
    }
    // Every handle is gone (or the socket broke): half-close, so the server closes its side
    // and the reader ends.
    let _ = write.shutdown().await;
}

/// Reads replies and hands them to the queued requests in order.
async fn read_replies<R: AsyncRead>(read: R, queue: SharedQueue) {
    tokio::pin!(read);
    let mut buf = BytesMut::with_capacity(4096);
    let mut framer = Framer::default();
    let failure = loop {
        match framer.complete(&buf) {
            Err(_) => break io::ErrorKind::InvalidData,
            Ok(Some(len)) => {
                let frame = &buf[..len];
                let value = if frame[0] != b'-' && wants_raw(&queue) {
                    Ok(Value::BulkString(frame.to_vec()))
                } else {
                    decode(frame)
                };
                buf.advance(len);
                match value {
                    Ok(v) => deliver(&queue, v),
                    Err(_) => break io::ErrorKind::InvalidData,
                }
                continue;
            }
            Ok(None) => {}
        }
        // Small to start (30 connections' buffers are a check's page faults), doubling for
        // big replies.
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(buf.len().max(4096));
        }
        match read.read_buf(&mut buf).await {
            Ok(0) => break io::ErrorKind::UnexpectedEof,
            Ok(_) => {}
            Err(e) => break e.kind(),
        }
    };
    let waiting: Vec<Pending> = {
        let mut q = queue.lock().unwrap();
        q.closed = Some(failure);
        q.waiting.drain(..).collect()
    };
    for p in waiting {
        let _ = p.done.send(Err(io_error(failure, "connection closed")));
    }
}

/// The next reply is one the oldest waiting request keeps undecoded.
fn wants_raw(queue: &Mutex<Queue>) -> bool {
    let q = queue.lock().unwrap();
    q.waiting.front().is_some_and(|p| p.raw && p.skip == 0)
}

/// One reply for the oldest waiting request; a reply nobody asked for is dropped.
fn deliver(queue: &Mutex<Queue>, value: Value) {
    let mut q = queue.lock().unwrap();
    let waiting = &mut q.waiting;
    let Some(front) = waiting.front_mut() else {
        return;
    };
    if front.skip > 0 {
        front.skip -= 1;
    } else {
        front.replies.push(value);
    }
    if front.skip == 0 && front.replies.len() >= front.keep {
        let done = waiting.pop_front().expect("front exists");
        drop(q);
        let _ = done.done.send(Ok(done.replies));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis::aio::ConnectionLike;
    use tokio::io::DuplexStream;

    /// A wire to an in-memory peer the test plays the server on.
    fn pair(timeout_ms: u64) -> (Wire, DuplexStream) {
        let (client, server) = tokio::io::duplex(64 * 1024);
        (
            Wire::start(client, Duration::from_millis(timeout_ms)),
            server,
        )
    }

    /// One request waiting for one reply, in its own task.
    fn spawn_send(
        wire: &Wire,
        bytes: &'static [u8],
    ) -> tokio::task::JoinHandle<RedisResult<Vec<Value>>> {
        let w = wire.clone();
        tokio::spawn(async move { w.send(bytes.to_vec(), 0, 1).await })
    }

    /// Reads `n` request bytes as the server, bounded in time.
    async fn read_exactly(server: &mut DuplexStream, n: usize) -> Vec<u8> {
        let mut buf = vec![0; n];
        tokio::time::timeout(Duration::from_secs(5), server.read_exact(&mut buf))
            .await
            .expect("the request bytes arrive")
            .unwrap();
        buf
    }

    #[tokio::test]
    async fn concurrent_requests_get_their_own_replies_in_order() {
        let (wire, mut server) = pair(5_000);
        let ping = redis::cmd("PING").get_packed_command();
        let echo = redis::cmd("ECHO").arg("x").get_packed_command();
        let asked_len = ping.len() + echo.len();
        let (a, b) = (wire.clone(), wire.clone());
        let first = tokio::spawn(async move { a.send(ping, 0, 1).await });
        tokio::task::yield_now().await;
        let second = tokio::spawn(async move { b.send(echo, 0, 1).await });
        let asked = read_exactly(&mut server, asked_len).await;
        assert!(asked.starts_with(b"*1\r\n$4\r\nPING\r\n"), "{asked:?}");
        server.write_all(b"+PONG\r\n$1\r\nx\r\n").await.unwrap();
        assert_eq!(
            first.await.unwrap().unwrap(),
            vec![Value::SimpleString("PONG".into())]
        );
        assert_eq!(
            second.await.unwrap().unwrap(),
            vec![Value::BulkString(b"x".to_vec())]
        );
    }

    #[tokio::test]
    async fn a_pipeline_skips_and_keeps_the_right_replies() {
        let (mut wire, mut server) = pair(5_000);
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg("k")
            .arg("v")
            .ignore()
            .cmd("GET")
            .arg("k");
        let asked_len = pipe.get_packed_pipeline().len();
        let serve = async {
            read_exactly(&mut server, asked_len).await;
            server.write_all(b"+OK\r\n$1\r\nv\r\n").await.unwrap();
        };
        let (got, _) = tokio::join!(pipe.query_async::<Vec<String>>(&mut wire), serve);
        assert_eq!(got.unwrap(), vec!["v".to_string()]);
    }

    #[tokio::test]
    async fn a_timed_out_request_does_not_shift_later_replies() {
        let (wire, mut server) = pair(100);
        let slow = wire.send(b"*1\r\n$4\r\nSLOW\r\n".to_vec(), 0, 1).await;
        assert!(slow.as_ref().is_err_and(|e| e.is_timeout()), "{slow:?}");
        let next = spawn_send(&wire, b"*1\r\n$4\r\nNEXT\r\n");
        read_exactly(&mut server, 28).await;
        // the late reply to SLOW arrives first and must be dropped, not given to NEXT
        server.write_all(b"+late\r\n+next\r\n").await.unwrap();
        assert_eq!(
            next.await.unwrap().unwrap(),
            vec![Value::SimpleString("next".into())]
        );
    }

    #[tokio::test]
    async fn a_closed_connection_fails_waiting_and_later_requests() {
        let (wire, mut server) = pair(5_000);
        let waiting = spawn_send(&wire, b"*1\r\n$4\r\nPING\r\n");
        read_exactly(&mut server, 14).await;
        drop(server);
        let e = waiting.await.unwrap().unwrap_err();
        assert!(e.is_connection_dropped() || e.is_io_error(), "{e:?}");
        let later = wire.send(b"*1\r\n$4\r\nPING\r\n".to_vec(), 0, 1).await;
        assert!(later.is_err(), "{later:?}");
        let mut conn = wire.clone();
        assert!(conn.req_packed_command(&redis::cmd("PING")).await.is_err());
    }

    #[tokio::test]
    async fn a_raw_request_gets_its_frame_and_others_stay_decoded() {
        let (wire, mut server) = pair(5_000);
        let keys = redis::cmd("KEYS").arg("*").get_packed_command();
        let ping = redis::cmd("PING").get_packed_command();
        let asked_len = keys.len() + ping.len() + keys.len();
        let (a, b, c) = (wire.clone(), wire.clone(), wire.clone());
        let raw = tokio::spawn(async move { a.send_raw(keys).await });
        tokio::task::yield_now().await;
        let decoded = tokio::spawn(async move { b.send(ping, 0, 1).await });
        tokio::task::yield_now().await;
        let keys = redis::cmd("KEYS").arg("*").get_packed_command();
        let refused = tokio::spawn(async move { c.send_raw(keys).await });
        read_exactly(&mut server, asked_len).await;
        server
            .write_all(b"*2\r\n$1\r\na\r\n$1\r\nb\r\n+PONG\r\n-NOAUTH Authentication required.\r\n")
            .await
            .unwrap();
        assert_eq!(
            raw.await.unwrap().unwrap(),
            b"*2\r\n$1\r\na\r\n$1\r\nb\r\n".to_vec()
        );
        assert_eq!(
            decoded.await.unwrap().unwrap(),
            vec![Value::SimpleString("PONG".into())]
        );
        let e = refused.await.unwrap().unwrap_err();
        assert_eq!(e.code(), Some("NOAUTH"), "{e:?}");
    }

    #[tokio::test]
    async fn requests_written_before_start_get_the_first_replies() {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        let written = [
            Expect {
                skip: 0,
                keep: 1,
                raw: false,
            },
            Expect {
                skip: 0,
                keep: 1,
                raw: true,
            },
        ];
        // the caller wrote the first request itself; the second is still to be written
        let unsent = redis::cmd("KEYS").arg("*").get_packed_command();
        let (wire, answers) =
            Wire::start_after(client, Duration::from_secs(5), &written, unsent.clone());
        let later = spawn_send(&wire, b"*1\r\n$4\r\nPING\r\n");
        let asked = read_exactly(&mut server, unsent.len() + 14).await;
        assert!(asked.starts_with(&unsent), "{asked:?}");
        server
            .write_all(b"+first\r\n*1\r\n$1\r\nk\r\n+PONG\r\n")
            .await
            .unwrap();
        let mut answers = answers.into_iter();
        assert_eq!(
            answers.next().unwrap().wait().await.unwrap(),
            vec![Value::SimpleString("first".into())]
        );
        assert_eq!(
            answers.next().unwrap().wait_raw().await.unwrap(),
            b"*1\r\n$1\r\nk\r\n".to_vec()
        );
        assert_eq!(
            later.await.unwrap().unwrap(),
            vec![Value::SimpleString("PONG".into())]
        );
    }

    #[tokio::test]
    async fn garbage_from_the_server_closes_the_connection() {
        let (wire, mut server) = pair(5_000);
        let waiting = spawn_send(&wire, b"*1\r\n$4\r\nPING\r\n");
        read_exactly(&mut server, 14).await;
        server.write_all(b"?what\r\n").await.unwrap();
        assert!(waiting.await.unwrap().is_err());
    }
}
