//! One connection to one node: connect with a bounded timeout, authenticate, and send commands
//! with a response timeout that fits the work (the redis crate's default is too short for MIGRATE).
//! Knows nothing about cluster topology; `cluster::view` builds on it.

use std::sync::Arc;
use std::time::Duration;

use crate::addr::NodeAddr;
use crate::remote::reply::ReplyError;
use crate::remote::wire::{Answer, Expect, Wire};
use crate::tls::TlsClient;
use anyhow::Result;

/// Why a node could not be used at all.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectError {
    #[error("Could not connect to Redis at {addr}: {reason}")]
    Unreachable { addr: NodeAddr, reason: String },
    #[error("Node {addr} replied with error: {error}")]
    Auth { addr: NodeAddr, error: ReplyError },
}

/// Credentials used for every node (redis-cli has one set for the whole cluster).
#[derive(Clone, Default)]
pub struct Credentials {
    pub user: Option<String>,
    pub pass: Option<String>,
}

impl std::fmt::Debug for Credentials {
    // Passwords never appear in output, logs or errors.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("pass", &self.pass.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// How to reach nodes: credentials, timeouts, and TLS (every node of a cluster is reached the same way).
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub credentials: Credentials,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    /// `Some`: every connection is TLS with this client config; `None`: plain TCP.
    pub tls: Option<TlsClient>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            credentials: Credentials::default(),
            connect_timeout: Duration::from_secs(5),
            response_timeout: Duration::from_secs(70),
            tls: None,
        }
    }
}

/// A multiplexed connection to one node: cheap to clone, requests may be in flight concurrently.
#[derive(Clone)]
pub struct NodeConn {
    pub addr: NodeAddr,
    conn: Wire,
    /// Set when the node was asked to close the connection after the first requests
    /// (`AfterFirst::Close`): a later request opens a fresh connection, once for all clones.
    reopen: Option<Arc<Reopen>>,
}

/// What a closed-after-first-requests connection needs to come back.
struct Reopen {
    opts: ConnectOptions,
    wire: tokio::sync::OnceCell<Wire>,
}

/// What becomes of a `connect_sending` connection once the node has answered the first requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFirst {
    /// It stays open for more requests.
    StayOpen,
    /// The first write ends with QUIT: the node answers, then closes the connection in the same
    /// wake-up, so a one-shot load costs each node one wake-up instead of two (the second was
    /// for trib's close, and at exit trib waited for every node's). A later request on the
    /// connection reconnects.
    Close,
}

impl NodeConn {
    /// Connects and authenticates. AUTH is sent by hand (not by the crate) so that the node's
    /// own error text (`WRONGPASS ...`, `ERR AUTH <password> called without ...`) reaches the user.
    pub async fn connect(addr: &NodeAddr, opts: &ConnectOptions) -> Result<NodeConn, ConnectError> {
        let stream = match &opts.tls {
            None => connect_plain(addr, opts.connect_timeout).await,
            Some(tls) => connect_tls(addr, tls, opts.connect_timeout).await,
        }
        .map_err(|reason| ConnectError::Unreachable {
            addr: addr.clone(),
            reason,
        })?;
        let conn = Wire::start(stream, opts.response_timeout);
        let node = NodeConn {
            addr: addr.clone(),
            conn,
            reopen: None,
        };
        if let Some(pass) = &opts.credentials.pass {
            let mut auth = redis::cmd("AUTH");
            if let Some(user) = &opts.credentials.user {
                auth.arg(user);
            }
            auth.arg(pass);
            // On the new wire itself: `query` may reconnect, which is this function.
            let mut wire = node.conn.clone();
            if let Err(e) = auth.query_async::<redis::Value>(&mut wire).await {
                return Err(ConnectError::Auth {
                    addr: addr.clone(),
                    error: ReplyError::from_redis(&e),
                });
            }
        }
        Ok(node)
    }

    /// Connects and sends `first` at once, returning their answers in order. Over plain TCP to
    /// an IP address without a password, the requests are written in the same step as the
    /// connect: on loopback the handshake is complete when connect() returns, so the node finds
    /// them when it accepts and answers in the same wake-up (a 30-node check was ~0.5 ms
    /// faster, and every node did less). Otherwise it is `connect`, then the requests.
    /// `then` says whether the node keeps the connection open afterwards.
    pub async fn connect_sending(
        addr: &NodeAddr,
        opts: &ConnectOptions,
        first: &[FirstRequest],
        then: AfterFirst,
    ) -> Result<(NodeConn, Vec<Answer>), ConnectError> {
        let (node, mut answers) = NodeConn::open_sending(addr, opts, first, then).await?;
        // Only the asked requests have answers to give (not the QUIT).
        answers.truncate(first.len());
        let reopen = (then == AfterFirst::Close).then(|| {
            Arc::new(Reopen {
                opts: opts.clone(),
                wire: tokio::sync::OnceCell::new(),
            })
        });
        Ok((NodeConn { reopen, ..node }, answers))
    }

    /// `connect_sending` without the reconnect handle; the answers include the QUIT's.
    async fn open_sending(
        addr: &NodeAddr,
        opts: &ConnectOptions,
        first: &[FirstRequest],
        then: AfterFirst,
    ) -> Result<(NodeConn, Vec<Answer>), ConnectError> {
        let mut requests: Vec<(Vec<u8>, Expect)> = first
            .iter()
            .map(|f| (f.cmd.get_packed_command(), f.expect()))
            .collect();
        if then == AfterFirst::Close {
            // Its +OK is read and dropped; nobody waits for it.
            let dropped = Expect {
                skip: 1,
                keep: 0,
                raw: false,
            };
            requests.push((redis::cmd("QUIT").get_packed_command(), dropped));
        }
        let direct = opts.tls.is_none() && opts.credentials.pass.is_none();
        let ip = addr
            .host
            .parse::<std::net::IpAddr>()
            .ok()
            .filter(|_| direct);
        let Some(ip) = ip else {
            let node = NodeConn::connect(addr, opts).await?;
            let answers = requests
                .into_iter()
                .map(|(bytes, expect)| node.conn.enqueue(bytes, expect))
                .collect();
            return Ok((node, answers));
        };
        let unreachable = |reason| ConnectError::Unreachable {
            addr: addr.clone(),
            reason,
        };
        let expects: Vec<Expect> = requests.iter().map(|(_, e)| *e).collect();
        let bytes: Vec<u8> = requests.into_iter().flat_map(|(b, _)| b).collect();
        let (stream, unsent) = connect_writing(
            std::net::SocketAddr::new(ip, addr.port),
            bytes,
            opts.connect_timeout,
        )
        .await
        .map_err(unreachable)?;
        let (conn, answers) = Wire::start_after(stream, opts.response_timeout, &expects, unsent);
        Ok((
            NodeConn {
                addr: addr.clone(),
                conn,
                reopen: None,
            },
            answers,
        ))
    }

    /// The wire requests go on: this connection's, or when the node closed it after the first
    /// requests, a fresh one (opened by the first request that needs it).
    async fn wire(&self) -> redis::RedisResult<Wire> {
        let Some(reopen) = &self.reopen else {
            return Ok(self.conn.clone());
        };
        reopen
            .wire
            .get_or_try_init(|| async {
                NodeConn::connect(&self.addr, &reopen.opts)
                    .await
                    .map(|node| node.conn)
            })
            .await
            .cloned()
            .map_err(|e| {
                redis::RedisError::from(std::io::Error::new(
                    std::io::ErrorKind::NotConnected,
                    e.to_string(),
                ))
            })
    }

    /// Sends one command; a server error comes back classified.
    pub async fn request<I, A>(&self, args: I) -> Result<redis::Value, ReplyError>
    where
        I: IntoIterator<Item = A>,
        A: redis::ToRedisArgs,
    {
        self.call(args)
            .await
            .map_err(|e| ReplyError::from_redis(&e))
    }

    /// Sends one command and returns its reply undecoded (the RESP frame's bytes, for
    /// `frame::RawReader`): a reply of many keys costs one copy instead of one allocation
    /// per key. Errors classified.
    pub async fn request_raw<I, A>(&self, args: I) -> Result<Vec<u8>, ReplyError>
    where
        I: IntoIterator<Item = A>,
        A: redis::ToRedisArgs,
    {
        let wire = self.wire().await.map_err(|e| ReplyError::from_redis(&e))?;
        wire.send_raw(command(args).get_packed_command())
            .await
            .map_err(|e| ReplyError::from_redis(&e))
    }

    /// Sends one command and reads a bulk/simple string reply as text; errors classified.
    pub async fn request_string<I, A>(&self, args: I) -> Result<String, ReplyError>
    where
        I: IntoIterator<Item = A>,
        A: redis::ToRedisArgs,
    {
        as_reply::<String>(self.request(args).await?)
    }

    /// Sends one command and reads an integer reply; errors classified.
    pub async fn request_int<I, A>(&self, args: I) -> Result<i64, ReplyError>
    where
        I: IntoIterator<Item = A>,
        A: redis::ToRedisArgs,
    {
        as_reply::<i64>(self.request(args).await?)
    }

    /// Sends one command given as words; returns the raw reply (server errors are `Err`).
    pub async fn call<I, A>(&self, args: I) -> redis::RedisResult<redis::Value>
    where
        I: IntoIterator<Item = A>,
        A: redis::ToRedisArgs,
    {
        let mut conn = self.wire().await?;
        command(args).query_async(&mut conn).await
    }

    /// Sends a prepared command.
    pub async fn query(&self, cmd: &redis::Cmd) -> redis::RedisResult<redis::Value> {
        let mut conn = self.wire().await?;
        cmd.query_async(&mut conn).await
    }

    /// Sends `count` commands already in RESP form as one write; returns their replies in
    /// order, a server error being one `Value::ServerError` among them (a `Pipeline` fails as
    /// a whole on the first).
    pub async fn send_packed(
        &self,
        bytes: Vec<u8>,
        count: usize,
    ) -> redis::RedisResult<Vec<redis::Value>> {
        self.wire().await?.send(bytes, 0, count).await
    }

    /// Sends a pipeline (one round trip); with `ignore_errors`-free semantics of the crate.
    pub async fn pipeline(&self, pipe: &redis::Pipeline) -> redis::RedisResult<Vec<redis::Value>> {
        let mut conn = self.wire().await?;
        pipe.query_async(&mut conn).await
    }

    /// Sends a command and reads a bulk/simple string reply as text.
    pub async fn call_string<I, A>(&self, args: I) -> Result<String>
    where
        I: IntoIterator<Item = A>,
        A: redis::ToRedisArgs,
    {
        let v = self
            .call(args)
            .await
            .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
        redis::from_redis_value::<String>(&v).map_err(|e| anyhow::anyhow!("{}", describe(&e)))
    }
}

/// Either kind of connected stream, for `Wire` (and raw transfers: `connect_stream`).
pub trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send> Stream for T {}

/// A bare stream to the node (TCP or TLS as `opts` say, bounded by `connect_timeout`), for
/// protocols that are not request/reply, such as SYNC's snapshot transfer. Not authenticated:
/// the caller sends AUTH itself.
pub async fn connect_stream(
    addr: &NodeAddr,
    opts: &ConnectOptions,
) -> Result<Box<dyn Stream + Unpin>, ConnectError> {
    match &opts.tls {
        None => connect_plain(addr, opts.connect_timeout).await,
        Some(tls) => connect_tls(addr, tls, opts.connect_timeout).await,
    }
    .map_err(|reason| ConnectError::Unreachable {
        addr: addr.clone(),
        reason,
    })
}

/// TCP to the node (every address the name resolves to, in order), bounded by `connect_timeout`.
async fn connect_tcp(
    addr: &NodeAddr,
    connect_timeout: Duration,
) -> Result<tokio::net::TcpStream, String> {
    let tcp = tokio::time::timeout(
        connect_timeout,
        tokio::net::TcpStream::connect((addr.host.as_str(), addr.port)),
    )
    .await
    .map_err(|_| "Connection timed out".to_string())?
    .map_err(|e| short_os(&e))?;
    let _ = tcp.set_nodelay(true);
    // Closed with a reset, not a FIN handshake: trib closes a connection only once it has every
    // reply it wants, and the handshake (plus TIME_WAIT) for 30 sockets at exit was ~10% of a
    // 30-node check. A zero linger never blocks, which is what the deprecation is about.
    #[allow(deprecated)]
    let _ = tcp.set_linger(Some(Duration::ZERO));
    Ok(tcp)
}

/// A command from its words.
pub fn command<I, A>(args: I) -> redis::Cmd
where
    I: IntoIterator<Item = A>,
    A: redis::ToRedisArgs,
{
    let mut cmd = redis::Cmd::new();
    for a in args {
        cmd.arg(a);
    }
    cmd
}

/// The reply to a request sent by `connect_sending`, as `request` returns it.
pub async fn answer_value(answer: Answer) -> Result<redis::Value, ReplyError> {
    let reply = answer
        .wait()
        .await
        .and_then(|mut replies| replies.pop().unwrap_or(redis::Value::Nil).extract_error());
    reply.map_err(|e| ReplyError::from_redis(&e))
}

/// A reply read as text or a number, as `request_string`/`request_int` read it.
pub fn as_reply<T: redis::FromRedisValue>(v: redis::Value) -> Result<T, ReplyError> {
    redis::from_redis_value::<T>(&v).map_err(|e| ReplyError::Transport(e.to_string()))
}

/// The undecoded reply to a `raw` request sent by `connect_sending`, as `request_raw`.
pub async fn answer_raw(answer: Answer) -> Result<Vec<u8>, ReplyError> {
    answer
        .wait_raw()
        .await
        .map_err(|e| ReplyError::from_redis(&e))
}

/// A request sent by `NodeConn::connect_sending`; `raw` asks for the reply undecoded
/// (`Answer::wait_raw`).
pub struct FirstRequest {
    pub cmd: redis::Cmd,
    pub raw: bool,
}

impl FirstRequest {
    fn expect(&self) -> Expect {
        Expect {
            skip: 0,
            keep: 1,
            raw: self.raw,
        }
    }
}

/// TCP to `to`, writing `bytes` at once when the connection is up as soon as connect()
/// returns (loopback); returns the stream and what is still to be written. Bounded by
/// `connect_timeout` like `connect_tcp`, with the same error texts.
async fn connect_writing(
    to: std::net::SocketAddr,
    bytes: Vec<u8>,
    connect_timeout: Duration,
) -> Result<(tokio::net::TcpStream, Vec<u8>), String> {
    use socket2::{Domain, Protocol, Socket, Type};
    use std::io::Write;
    let os = |e: std::io::Error| short_os(&e);
    let socket =
        Socket::new(Domain::for_address(to), Type::STREAM, Some(Protocol::TCP)).map_err(os)?;
    socket.set_nonblocking(true).map_err(os)?;
    let _ = socket.set_tcp_nodelay(true);
    // Closed with a reset, as in `connect_tcp`.
    let _ = socket.set_linger(Some(Duration::ZERO));
    match socket.connect(&to.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(short_os(&e)),
    }
    let mut std_stream: std::net::TcpStream = socket.into();
    let connected = std_stream.peer_addr().is_ok();
    let written = if connected {
        match std_stream.write(&bytes) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
            Err(e) => return Err(short_os(&e)),
        }
    } else {
        0
    };
    let stream = tokio::net::TcpStream::from_std(std_stream).map_err(os)?;
    if !connected {
        tokio::time::timeout(connect_timeout, stream.writable())
            .await
            .map_err(|_| "Connection timed out".to_string())?
            .map_err(os)?;
        if let Some(e) = stream.take_error().map_err(os)? {
            return Err(short_os(&e));
        }
    }
    Ok((stream, bytes[written..].to_vec()))
}

async fn connect_plain(
    addr: &NodeAddr,
    connect_timeout: Duration,
) -> Result<Box<dyn Stream + Unpin>, String> {
    Ok(Box::new(connect_tcp(addr, connect_timeout).await?))
}

/// TCP, then the TLS handshake by `crate::tls` (it can present an SNI name other than the
/// address and load a CA directory). The whole setup is bounded by `connect_timeout`.
async fn connect_tls(
    addr: &NodeAddr,
    tls: &TlsClient,
    connect_timeout: Duration,
) -> Result<Box<dyn Stream + Unpin>, String> {
    let deadline = tokio::time::Instant::now() + connect_timeout;
    let tcp = connect_tcp(addr, connect_timeout).await?;
    // A plain server reads the ClientHello as an unfinished inline command and never answers.
    let stream = tokio::time::timeout_at(deadline, tls.handshake(&addr.host, tcp))
        .await
        .map_err(|_| "TLS handshake timed out (is this a TLS port?)".to_string())?
        .map_err(|e| e.to_string())?;
    Ok(Box::new(stream))
}

/// An OS error as strerror words it: `Connection refused`, without `(os error 111)`.
fn short_os(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// A server or transport error as one line, the way the server said it (`ERR ...`, `MOVED ...`).
pub fn describe(e: &redis::RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_string(),
        _ => e.to_string(),
    }
}
