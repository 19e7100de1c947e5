//! Free-text questions (reshard's slot count, node ids): the prompt goes to stderr (stdout in
//! the redis-cli spelling), the answer
//! is one line of stdin, so answers can be piped one per line. EOF is reported as `None`, so
//! callers abort instead of asking forever as redis-cli does.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;

/// Prints `prompt` (no newline) on stderr and reads one line; `None` at end of input.
pub fn ask_line(prompt: &str) -> std::io::Result<Option<String>> {
    let _ = std::io::stdout().flush();
    {
        let mut chatter = super::streams::chatter();
        let _ = write!(chatter, "{prompt}");
        let _ = chatter.flush();
    }
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line)? == 0 {
        let _ = writeln!(super::streams::chatter());
        return Ok(None);
    }
    Ok(Some(line.trim().to_string()))
}

/// Prints informational lines that belong to a question (stderr, like the prompt).
pub fn ask_note(text: &str) {
    let _ = writeln!(super::streams::chatter(), "{text}");
}
