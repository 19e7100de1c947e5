//! Fetching one master's RDB over the replication protocol, as a replica would but asking for
//! the snapshot only: AUTH (if configured), `REPLCONF rdb-only 1` (refused by servers older
//! than 7.0, which is fine), `SYNC`; then `\n` keep-alives, `$<len>` or `$EOF:<mark>`, and the
//! payload streamed to a file. Reading stops at the payload's end (nothing after it is read).
//! Knows nothing about clusters or file names: `backup` decides where the bytes go.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::addr::NodeAddr;
use crate::rdb::crc64::crc64_digest;
use crate::remote::conn::{connect_stream, ConnectOptions};

const EOF_MARK_LEN: usize = 40;
const CHUNK: usize = 256 * 1024;

/// How the master framed the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `$<len>`: a disk-based transfer of a known size.
    Length(u64),
    /// `$EOF:<mark>`: diskless, ended by the 40-byte mark.
    EofMark,
}

/// What one transfer produced.
#[derive(Debug, Clone, Copy)]
pub struct Transfer {
    pub bytes: u64,
}

/// Called once the master has said how it will send the payload.
pub type OnStart<'a> = Box<dyn FnOnce(Framing) + Send + 'a>;

/// Fetches the RDB of `addr` into `file` (created or truncated; fsynced). `idle` bounds every
/// wait for the master (its keep-alives count as activity), so a slow BGSAVE is fine but a
/// silent node is not. The payload is checked: `REDIS` magic and, when the file carries one,
/// its CRC-64.
pub async fn fetch(
    addr: &NodeAddr,
    opts: &ConnectOptions,
    file: &Path,
    idle: Duration,
    on_start: OnStart<'_>,
) -> Result<Transfer> {
    let mut stream = connect_stream(addr, opts).await?;
    let mut reader = LineReader::new(idle);
    if let Some(pass) = &opts.credentials.pass {
        let mut auth = vec!["AUTH"];
        if let Some(user) = &opts.credentials.user {
            auth.push(user);
        }
        auth.push(pass);
        send(&mut stream, &auth, idle).await?;
        let reply = reader.line(&mut stream).await?;
        if let Some(e) = reply.strip_prefix('-') {
            // The node's own text (WRONGPASS ...): never the password.
            bail!("AUTH failed: {e}");
        }
    }
    // Only the snapshot, and the connection closed after it (7.0+); an error is an older server.
    send(&mut stream, &["REPLCONF", "rdb-only", "1"], idle).await?;
    reader.line(&mut stream).await?;
    send(&mut stream, &["SYNC"], idle).await?;
    let header = loop {
        let line = reader.line(&mut stream).await?;
        if !line.is_empty() {
            break line;
        }
    };
    let framing = if let Some(e) = header.strip_prefix('-') {
        bail!("SYNC with master failed: {e}");
    } else if let Some(mark) = header.strip_prefix("$EOF:") {
        if mark.len() != EOF_MARK_LEN {
            bail!("SYNC with master failed: bad EOF marker line '{header}'");
        }
        Framing::EofMark
    } else if let Some(len) = header.strip_prefix('$') {
        Framing::Length(
            len.parse()
                .map_err(|_| anyhow!("SYNC with master failed: bad reply '{header}'"))?,
        )
    } else {
        bail!("SYNC with master failed: unexpected reply '{header}'");
    };
    on_start(framing);
    let mut out = tokio::fs::File::create(file)
        .await
        .with_context(|| format!("Error opening '{}'", file.display()))?;
    let mark = header.as_bytes()[5.min(header.len())..].to_vec();
    let mut sink = Sink::default();
    let mut buf = reader.rest;
    let bytes = match framing {
        Framing::Length(len) => {
            let mut left = len;
            loop {
                let take = (buf.len() as u64).min(left) as usize;
                sink.write(&mut out, &buf[..take], file).await?;
                left -= take as u64;
                if left == 0 {
                    break len;
                }
                buf = read_chunk(&mut stream, idle).await?;
            }
        }
        Framing::EofMark => {
            // Everything but the last 40 bytes seen is surely payload; the end is the mark.
            let mut held: Vec<u8> = Vec::new();
            loop {
                held.extend_from_slice(&buf);
                if held.len() >= EOF_MARK_LEN && held.ends_with(&mark) {
                    let end = held.len() - EOF_MARK_LEN;
                    sink.write(&mut out, &held[..end], file).await?;
                    break sink.len;
                }
                if held.len() > EOF_MARK_LEN + CHUNK {
                    let cut = held.len() - EOF_MARK_LEN;
                    sink.write(&mut out, &held[..cut], file).await?;
                    held.drain(..cut);
                }
                buf = read_chunk(&mut stream, idle).await?;
            }
        }
    };
    out.sync_all()
        .await
        .with_context(|| format!("Error writing data to file '{}'", file.display()))?;
    sink.check()?;
    Ok(Transfer { bytes })
}

/// The file being written, with what is needed to check the payload once it is complete.
#[derive(Default)]
struct Sink {
    len: u64,
    head: Vec<u8>,
    /// The last 8 bytes (the stored CRC) and the digest of everything before them.
    tail: Vec<u8>,
    crc: Option<crc::Digest<'static, u64>>,
}

impl Sink {
    async fn write(&mut self, out: &mut tokio::fs::File, data: &[u8], file: &Path) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        out.write_all(data)
            .await
            .with_context(|| format!("Error writing data to file '{}'", file.display()))?;
        self.len += data.len() as u64;
        if self.head.len() < 9 {
            let want = (9 - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..want]);
        }
        let digest = self.crc.get_or_insert_with(crc64_digest);
        // Keep the last 8 bytes out of the digest until the end.
        self.tail.extend_from_slice(data);
        if self.tail.len() > 8 {
            let cut = self.tail.len() - 8;
            digest.update(&self.tail[..cut]);
            self.tail.drain(..cut);
        }
        Ok(())
    }

    fn check(self) -> Result<()> {
        if !self.head.starts_with(b"REDIS") {
            bail!("the master sent something that is not an RDB file");
        }
        let version: u16 = std::str::from_utf8(&self.head[5..])
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if version >= 5 && self.tail.len() == 8 {
            let stored = u64::from_le_bytes(self.tail.try_into().unwrap_or([0; 8]));
            let computed = self.crc.map(|d| d.finalize()).unwrap_or(0);
            if stored != 0 && stored != computed {
                bail!("the RDB payload's checksum is wrong (stored {stored:016x}, computed {computed:016x})");
            }
        }
        Ok(())
    }
}

async fn send<S: AsyncWrite + Unpin>(stream: &mut S, words: &[&str], idle: Duration) -> Result<()> {
    let mut bytes = format!("*{}\r\n", words.len()).into_bytes();
    for w in words {
        bytes.extend_from_slice(format!("${}\r\n", w.len()).as_bytes());
        bytes.extend_from_slice(w.as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    tokio::time::timeout(idle, stream.write_all(&bytes))
        .await
        .map_err(|_| anyhow!("timed out writing to the node"))?
        .context("I/O error writing to the node")?;
    Ok(())
}

async fn read_chunk<S: AsyncRead + Unpin>(stream: &mut S, idle: Duration) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; CHUNK];
    let n = tokio::time::timeout(idle, stream.read(&mut buf))
        .await
        .map_err(|_| anyhow!("no data from the node for {} s", idle.as_secs_f64()))?
        .context("I/O Error reading RDB payload from socket")?;
    if n == 0 {
        bail!("I/O Error reading RDB payload from socket: connection closed by the node");
    }
    buf.truncate(n);
    Ok(buf)
}

/// Reads `\r\n`-terminated lines (a bare `\n`, the master's keep-alive, is an empty line),
/// keeping whatever follows the last line for the payload.
struct LineReader {
    rest: Vec<u8>,
    idle: Duration,
}

impl LineReader {
    fn new(idle: Duration) -> LineReader {
        LineReader {
            rest: Vec::new(),
            idle,
        }
    }

    async fn line<S: AsyncRead + Unpin>(&mut self, stream: &mut S) -> Result<String> {
        loop {
            if let Some(i) = self.rest.iter().position(|b| *b == b'\n') {
                let mut line: Vec<u8> = self.rest.drain(..=i).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            if self.rest.len() > 64 * 1024 {
                bail!("the node sent a line longer than 64 KiB");
            }
            let chunk = read_chunk(stream, self.idle).await?;
            self.rest.extend_from_slice(&chunk);
        }
    }
}
