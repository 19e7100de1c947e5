//! Which stream the chatter of a run (progress lines, prompts and the text around them) goes
//! to. trib's own spelling keeps stdout for the report and puts the chatter on stderr; the
//! redis-cli spelling puts it on stdout, where redis-cli prints it, so that a script which treats
//! any stderr output as a failure (Tcl's `exec`, many CI wrappers) keeps working, and a log
//! holds the lines in the order they happened. Set once, by `main`, before any output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static REDIS_CLI_STREAMS: AtomicBool = AtomicBool::new(false);

/// From now on, chatter goes to stdout as in redis-cli.
pub fn use_redis_cli_streams() {
    REDIS_CLI_STREAMS.store(true, Ordering::Relaxed);
}

/// True when the command line was written in redis-cli's spelling.
pub fn redis_cli_streams() -> bool {
    REDIS_CLI_STREAMS.load(Ordering::Relaxed)
}

/// The locked stream chatter is written to.
pub enum Chatter {
    Out(std::io::StdoutLock<'static>),
    Err(std::io::StderrLock<'static>),
}

/// Locks the chatter stream (stdout in the redis-cli spelling, else stderr).
pub fn chatter() -> Chatter {
    if redis_cli_streams() {
        Chatter::Out(std::io::stdout().lock())
    } else {
        Chatter::Err(std::io::stderr().lock())
    }
}

impl Write for Chatter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Chatter::Out(s) => s.write(buf),
            Chatter::Err(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Chatter::Out(s) => s.flush(),
            Chatter::Err(s) => s.flush(),
        }
    }
}
