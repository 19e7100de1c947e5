//! The `trib` binary: parse, run, print the error chain as one line, exit with a code.
//! Nothing else lives here.

use clap::Parser;
use std::io::IsTerminal;

use trib::cli::redis_cli::{self, Translated};
use trib::cli::{normalize_args, Cli, ColorChoice};
use trib::exit::{code_of, ExitCode};
use trib::output::{Mode, Reporter};
use trib::remote::conn::ConnectError;

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    // `trib serve-node ...` runs trib-node's server from this binary (hidden): `trib demo` and
    // `trib sandbox` use it when no trib-node binary was built beside trib.
    if argv.get(1).map(String::as_str) == Some(trib::SERVE_NODE_WORD) {
        std::process::exit(trib::node::main_entry(argv[2..].to_vec()));
    }
    // redis-cli's spelling (`--cluster`) is read as redis-cli reads it; its usage errors exit 1
    // as redis-cli's do, and the run's chatter goes to stdout where redis-cli prints it.
    let redis_cli = redis_cli::is_redis_cli_spelling(&argv);
    let usage_code = if redis_cli { 1 } else { ExitCode::Usage.code() };
    let args = if redis_cli {
        match redis_cli::translate(&argv) {
            Translated::Run(native) => {
                if !native.iter().any(|a| a == "--json") {
                    trib::output::streams::use_redis_cli_streams();
                }
                native
            }
            Translated::Help => {
                print!("{}", redis_cli::CLUSTER_HELP);
                std::process::exit(0);
            }
            Translated::Version => {
                println!("trib {}", env!("CARGO_PKG_VERSION"));
                std::process::exit(0);
            }
            Translated::Refuse(message) => {
                eprintln!("{message}");
                std::process::exit(1);
            }
            Translated::Usage => {
                eprintln!("{}", redis_cli::USAGE);
                std::process::exit(1);
            }
        }
    } else {
        normalize_args(argv)
    };
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { usage_code } else { 0 };
            let _ = e.print();
            std::process::exit(code);
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
                    // One JSON document per run: an op that printed its own keeps it.
                    if !trib::output::json_document_printed() {
                        println!("{}", serde_json::json!({"ok": false, "error": message}));
                    }
                    eprintln!("error: {message}");
                } else if redis_cli {
                    print_as_redis_cli(&err, code, &message);
                } else {
                    eprintln!("error: {message}");
                }
            }
            code
        }
    };
    if redis_cli && code == ExitCode::Usage {
        std::process::exit(usage_code);
    }
    std::process::exit(code.code());
}

/// An error where redis-cli prints it: usage errors and unreachable nodes on stderr, every
/// other failure on stdout as an `[ERR]` (or `***`) line.
fn print_as_redis_cli(err: &anyhow::Error, code: ExitCode, message: &str) {
    let connect = err.chain().find_map(|c| c.downcast_ref::<ConnectError>());
    if let Some(ConnectError::Auth { addr, error }) = connect {
        println!("Node {addr} replied with error:\n{error}");
    } else if code == ExitCode::Usage || connect.is_some() {
        eprintln!("{message}");
    } else if message.starts_with("[ERR]") || message.starts_with("***") {
        println!("{message}");
    } else {
        println!("[ERR] {message}");
    }
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
