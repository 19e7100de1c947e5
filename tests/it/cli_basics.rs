//! The CLI as a user runs it: help, usage errors, exit codes, redis-cli spellings, and the
//! generated completions and man pages being up to date.

use crate::harness::trib;

#[test]
fn help_lists_every_subcommand() {
    let run = trib(&["--help"], None);
    assert_eq!(run.code, 0, "{run:?}");
    for sub in [
        "create",
        "check",
        "info",
        "fix",
        "reshard",
        "rebalance",
        "add-node",
        "del-node",
        "call",
        "set-timeout",
        "import",
        "backup",
        "sandbox",
        "demo",
    ] {
        assert!(run.stdout.contains(sub), "help lacks {sub}: {run:?}");
    }
}

#[test]
fn usage_errors_are_one_line_exit_2_or_redis_clis_1() {
    let run = trib(&["reshard"], None);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("required"), "{run:?}");
    let run = trib(&["frobnicate"], None);
    assert_eq!(run.code, 2, "{run:?}");
    let run = trib(&["check", "127.0.0.1:7000", "--bogus"], None);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--bogus"), "{run:?}");
    // redis-cli's spelling: redis-cli's message and exit code (cli_compat compares the rest).
    let run = trib(
        &["--cluster", "check", "127.0.0.1:7000", "--cluster-bogus"],
        None,
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stderr,
        "Unrecognized option or bad number of args for: '--cluster-bogus'\n"
    );
}

#[test]
fn native_help_groups_connection_and_output_options() {
    let run = trib(&["reshard", "--help"], None);
    assert_eq!(run.code, 0, "{run:?}");
    let at = |heading: &str| {
        run.stdout
            .find(heading)
            .unwrap_or_else(|| panic!("no {heading:?} in {run:?}"))
    };
    let (own, connection, output) = (
        at("Options:"),
        at("Connection options:"),
        at("Output options:"),
    );
    assert!(own < connection && connection < output, "{run:?}");
    let connection_part = &run.stdout[connection..output];
    assert!(connection_part.contains("--askpass") && !connection_part.contains("--slots"));
    assert!(run.stdout[own..connection].contains("--slots"), "{run:?}");
}

#[test]
fn generated_completions_and_man_pages_are_current() {
    let root = env!("CARGO_MANIFEST_DIR");
    let files = trib::ops::generate::generated_files().unwrap();
    assert!(files.len() > 10);
    for (rel, contents) in files {
        let on_disk = std::fs::read(std::path::Path::new(root).join(&rel)).unwrap_or_default();
        assert!(
            on_disk == contents,
            "{rel} is stale or missing: run `cargo run --bin trib -- generate .` and commit the result"
        );
    }
}

#[test]
fn pty_driver_shows_what_a_terminal_shows() {
    // `--help` on a terminal; proves the pty harness works before prompts rely on it.
    let run = crate::harness::trib_pty(&["--version"], &[], 20);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("trib "), "{run:?}");
}
