//! The one Reporter every operation prints through: human text in redis-cli's vocabulary
//! (`>>>`, `[OK]`, `[WARNING]`, `[ERR]`), a single JSON document with `--json`, or errors only
//! with `-q`. Ops never print directly; they call these methods.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod cluster;
pub mod json;
pub mod streams;

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Human,
    Json,
    Quiet,
}

/// Where human output goes and how it looks.
pub struct Reporter {
    mode: Mode,
    color: bool,
    verbose: u8,
    /// stderr is a terminal: progress bars and prompts may draw there.
    pub interactive: bool,
    lock: Mutex<()>,
}

const BOLD: &str = "29;1";
const YELLOW: &str = "33;1";
const RED: &str = "31;1";
const GREEN: &str = "32;1";

impl Reporter {
    pub fn new(mode: Mode, color: bool, verbose: u8) -> Reporter {
        Reporter {
            mode,
            color,
            verbose,
            interactive: std::io::stderr().is_terminal(),
            lock: Mutex::new(()),
        }
    }

    /// A reporter for tests and library callers: plain human text, no colour.
    pub fn plain() -> Reporter {
        Reporter::new(Mode::Human, false, 0)
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }
    pub fn is_json(&self) -> bool {
        self.mode == Mode::Json
    }
    pub fn verbose(&self) -> u8 {
        self.verbose
    }

    fn human(&self, code: Option<&str>, text: &str) {
        if self.mode != Mode::Human {
            return;
        }
        let _g = self.lock.lock();
        let mut out = std::io::stdout().lock();
        let _ = match (self.color, code) {
            (true, Some(c)) => writeln!(out, "\x1b[{c}m{text}\x1b[0m"),
            _ => writeln!(out, "{text}"),
        };
    }

    /// `>>> step` lines.
    pub fn step(&self, text: &str) {
        self.human(Some(BOLD), &format!(">>> {text}"));
    }
    /// `[OK] ...` lines.
    pub fn ok(&self, text: &str) {
        self.human(Some(GREEN), &format!("[OK] {text}"));
    }
    /// `[WARNING] ...` lines.
    pub fn warn(&self, text: &str) {
        self.human(Some(YELLOW), &format!("[WARNING] {text}"));
    }
    /// `[ERR] ...` lines; shown even with `-q` (on stderr then). An `[ERR]` always means exit != 0.
    pub fn err(&self, text: &str) {
        match self.mode {
            Mode::Human => self.human(Some(RED), &format!("[ERR] {text}")),
            Mode::Quiet => eprintln!("[ERR] {text}"),
            Mode::Json => {}
        }
    }
    /// A plain, uncoloured human line (node listings, plans).
    pub fn line(&self, text: &str) {
        self.human(None, text);
    }
    /// Detail shown only with `-v`.
    pub fn detail(&self, text: &str) {
        if self.verbose > 0 {
            self.human(None, text);
        }
    }
    /// A warning that is not part of the report proper (stderr), e.g. the `-a` warning.
    pub fn notice(&self, text: &str) {
        if self.mode != Mode::Quiet {
            eprintln!("{text}");
        }
    }
    /// The one JSON document of a `--json` run.
    pub fn json(&self, value: &serde_json::Value) {
        if self.mode == Mode::Json {
            JSON_DOCUMENT_PRINTED.store(true, std::sync::atomic::Ordering::Relaxed);
            self.event(value);
        }
    }
    /// One NDJSON event line of a long `--json` operation.
    pub fn event(&self, value: &serde_json::Value) {
        if self.mode == Mode::Json {
            let _g = self.lock.lock();
            println!("{value}");
        }
    }
    /// A progress line for non-terminal stderr (one per step); terminals get bars instead.
    pub fn progress_line(&self, text: &str) {
        if self.mode != Mode::Quiet {
            let _g = self.lock.lock();
            let _ = writeln!(streams::chatter(), "{text}");
        }
    }
}

static JSON_DOCUMENT_PRINTED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Whether this run's one JSON document has been printed (then a failure prints no second).
pub fn json_document_printed() -> bool {
    JSON_DOCUMENT_PRINTED.load(std::sync::atomic::Ordering::Relaxed)
}

/// The answer to a yes/no confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    /// stdin ended before a line was read: treated as no, but worth saying so.
    Eof,
}

impl Reporter {
    /// An empty human line.
    pub fn blank(&self) {
        self.human(None, "");
    }

    /// Text without a newline (the join wait's dots); flushed at once.
    pub fn partial(&self, text: &str) {
        if self.mode != Mode::Human {
            return;
        }
        let _g = self.lock.lock();
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{text}");
        let _ = out.flush();
    }

    /// Asks a yes/no question. On a terminal: an interactive prompt on stderr. Otherwise one
    /// line is read from stdin; only `yes`/`y` (any case) accepts, EOF declines.
    pub fn confirm(&self, question: &str) -> std::io::Result<Answer> {
        let _ = std::io::stdout().flush();
        if std::io::stdin().is_terminal() && self.interactive {
            return match dialoguer::Confirm::new()
                .with_prompt(question)
                .default(false)
                .interact_opt()
            {
                Ok(Some(true)) => Ok(Answer::Yes),
                Ok(Some(false)) => Ok(Answer::No),
                Ok(None) => Ok(Answer::No),
                Err(e) => Err(std::io::Error::other(e.to_string())),
            };
        }
        {
            let _g = self.lock.lock();
            let mut chatter = streams::chatter();
            let _ = write!(chatter, "{question} (type 'yes' to accept): ");
            let _ = chatter.flush();
        }
        let mut line = String::new();
        let n = std::io::stdin().read_line(&mut line)?;
        // redis-cli goes on writing on the prompt's line; trib's own spelling ends it.
        if self.mode != Mode::Quiet && !streams::redis_cli_streams() {
            eprintln!();
        }
        if n == 0 {
            return Ok(Answer::Eof);
        }
        let word = line.trim().to_ascii_lowercase();
        Ok(if word == "yes" || word == "y" {
            Answer::Yes
        } else {
            Answer::No
        })
    }
}
pub mod ask;
pub mod progress;
