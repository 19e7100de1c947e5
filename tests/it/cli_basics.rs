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
fn usage_errors_exit_2_with_one_line() {
    let run = trib(&["reshard"], None);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("required"), "{run:?}");
    let run = trib(&["frobnicate"], None);
    assert_eq!(run.code, 2, "{run:?}");
    let run = trib(
        &["--cluster", "check", "127.0.0.1:7000", "--cluster-bogus"],
        None,
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--cluster-bogus"), "{run:?}");
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
