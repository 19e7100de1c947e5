//! The `trib` binary: parse, run, print the error chain as one line, exit with a code.
//! Nothing else lives here.

use clap::Parser;
use std::io::IsTerminal;

use trib::cli::{normalize_args, Cli, ColorChoice};
use trib::exit::{code_of, ExitCode};
use trib::output::{Mode, Reporter};

fn main() {
    let args = normalize_args(std::env::args().collect());
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                ExitCode::Usage
            } else {
                ExitCode::Success
            };
            let _ = e.print();
            std::process::exit(code.code());
        }
    };
    let mode = if cli.global.json {
        Mode::Json
    } else if cli.global.quiet {
        Mode::Quiet
    } else {
        Mode::Human
    };
    let color = match cli.global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let reporter = Reporter::new(mode, color, cli.global.verbose);
    let json = cli.global.json;
    let code = match trib::ops::run(cli, reporter) {
        Ok(code) => code,
        Err(err) => {
            let code = code_of(&err);
            let message = one_line(&err);
            if !message.is_empty() {
                if json {
                    println!("{}", serde_json::json!({"ok": false, "error": message}));
                }
                eprintln!("error: {message}");
            }
            code
        }
    };
    std::process::exit(code.code());
}

/// The error and its causes on one line, `outer: inner: root`, skipping empty and repeated parts.
fn one_line(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}
