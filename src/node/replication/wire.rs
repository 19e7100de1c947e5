//! The bytes of replication: commands encoded as the stream carries them (RESP arrays of bulk
//! strings), and the replica's reads from its master: reply lines (skipping the bare `\n`
//! keep-alives a master sends while it prepares a snapshot) and the snapshot itself, in both
//! of Redis's forms (`$<len>\r\n<bytes>` and diskless `$EOF:<40 chars>\r\n<bytes><40 chars>`).

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

/// `*<n>\r\n$<len>\r\n<arg>\r\n...`
pub fn encode_command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A connection to the master with its read buffer (bytes past the snapshot stay in it and
/// are the start of the command stream).
pub struct Reader<S> {
    pub stream: S,
    pub buf: BytesMut,
}

const MAX_LINE: usize = 64 * 1024;

impl<S: AsyncRead + Unpin> Reader<S> {
    pub fn new(stream: S) -> Reader<S> {
        Reader {
            stream,
            buf: BytesMut::with_capacity(64 * 1024),
        }
    }

    /// Reads more bytes; an error at end of stream.
    pub async fn fill(&mut self) -> std::io::Result<usize> {
        let n = self.stream.read_buf(&mut self.buf).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed by the master",
            ));
        }
        Ok(n)
    }

    /// One reply line without its CRLF, after any keep-alive newlines.
    pub async fn line(&mut self) -> std::io::Result<String> {
        loop {
            while self.buf.first() == Some(&b'\n') {
                self.buf.advance(1);
            }
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                self.buf.advance(end + 2);
                return Ok(line);
            }
            if self.buf.len() > MAX_LINE {
                return Err(invalid("reply line too long"));
            }
            self.fill().await?;
        }
    }

    /// The snapshot that follows `+FULLRESYNC`.
    pub async fn snapshot(&mut self) -> std::io::Result<Vec<u8>> {
        let head = self.line().await?;
        let Some(spec) = head.strip_prefix('$') else {
            return Err(invalid(&format!("bad snapshot header: {head}")));
        };
        if let Some(mark) = spec.strip_prefix("EOF:") {
            let mark = mark.as_bytes().to_vec();
            if mark.len() != 40 {
                return Err(invalid("bad EOF mark"));
            }
            // The master may stream commands right after the mark, in the same read.
            let mut scanned: usize = 0;
            loop {
                let from = scanned.saturating_sub(40);
                if let Some(at) = self.buf[from..].windows(40).position(|w| w == mark) {
                    let body = self.buf.split_to(from + at).to_vec();
                    self.buf.advance(40);
                    return Ok(body);
                }
                scanned = self.buf.len();
                self.fill().await?;
            }
        }
        let len: usize = spec
            .parse()
            .map_err(|_| invalid(&format!("bad snapshot length: {spec}")))?;
        while self.buf.len() < len {
            self.buf.reserve(len - self.buf.len());
            self.fill().await?;
        }
        Ok(self.buf.split_to(len).to_vec())
    }
}

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_a_command() {
        assert_eq!(
            encode_command(&[b"SET", b"k", b""]),
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn reads_both_snapshot_forms_and_keeps_the_rest() {
        let disk: &[u8] = b"\n\n+FULLRESYNC x 1\r\n$3\r\nRDB*1\r\n";
        let mut r = Reader::new(disk);
        assert_eq!(r.line().await.unwrap(), "+FULLRESYNC x 1");
        assert_eq!(r.snapshot().await.unwrap(), b"RDB");
        assert_eq!(&r.buf[..], b"*1\r\n");
        let mark = "m".repeat(40);
        let eof = format!("$EOF:{mark}\r\nREDIS0010{mark}*1\r\n");
        let mut r = Reader::new(eof.as_bytes());
        assert_eq!(r.snapshot().await.unwrap(), b"REDIS0010");
        assert_eq!(&r.buf[..], b"*1\r\n");
    }
}
