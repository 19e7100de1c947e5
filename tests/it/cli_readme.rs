//! The README's main command as a newcomer runs it: on a fresh clone, exactly as written, with
//! redis-server and redis-cli hidden from PATH. It must build what it needs, run the tour on
//! trib-node and print no `[ERR]`. Skips with a note when git or cargo is missing, except under
//! CI=true, where that is a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{trib_bin, which};

/// Generous: on two cores the clone's release build of trib takes about a minute when the
/// dependencies are seeded (see `clone_target_dir`), a few minutes when they must be built too.
const LIMIT: Duration = Duration::from_secs(600);

#[test]
fn readme_main_command_runs_the_tour_on_trib_node_in_a_fresh_clone() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let command = main_command(&readme).expect("README.md: a command after <!-- main-command -->");
    for prog in ["git", "cargo", "bash"] {
        if which(prog).is_none() {
            return unavailable(&format!("{prog} is not on PATH"));
        }
    }
    // The clone is of HEAD: uncommitted changes are not in it, so this tests the last commit.
    let head = match git(repo, &["rev-parse", "HEAD"]) {
        Ok(sha) => sha,
        Err(e) => return unavailable(&format!("{} is not a git checkout: {e}", repo.display())),
    };
    let tmp = tempfile::tempdir().unwrap();
    let clone = tmp.path().join("trib");
    let clone_arg = clone.to_str().unwrap();
    let repo_arg = repo.to_str().unwrap();
    git(
        tmp.path(),
        &["clone", "-q", "--no-checkout", repo_arg, clone_arg],
    )
    .unwrap();
    git(&clone, &["checkout", "-q", "--detach", &head]).unwrap();
    let path = path_without_redis(&tmp.path().join("bin"));
    let seeding = Instant::now();
    let target = clone_target_dir();
    let seeded = seeding.elapsed();

    let started = Instant::now();
    let mut cmd = Command::new("bash");
    cmd.args(["-c", &command])
        .current_dir(&clone)
        .env_clear()
        .env("PATH", &path)
        .env("CARGO_TARGET_DIR", &target);
    // The toolchain's own settings, so that the same rustc builds (and the copied artifacts stay
    // fresh); nothing of trib's or the tests' environment.
    for var in [
        "HOME",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
        "RUSTFLAGS",
        "TMPDIR",
    ] {
        if let Some(v) = std::env::var_os(var) {
            cmd.env(var, v);
        }
    }
    let out_path = tmp.path().join("stdout");
    let err_path = tmp.path().join("stderr");
    let run = {
        use std::os::unix::process::CommandExt as _;
        // Its own process group: on timeout, bash, cargo, trib and its servers go together.
        cmd.process_group(0)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap());
        let mut child = cmd.spawn().expect("spawn bash");
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if started.elapsed() > LIMIT {
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let shown = format!("$ {command}\n--- stdout\n{stdout}--- stderr\n{stderr}");
    eprintln!(
        "README main command: {:.1} s in a fresh clone (target directory seeded in {:.1} s)",
        started.elapsed().as_secs_f64(),
        seeded.as_secs_f64()
    );
    let status = run.unwrap_or_else(|| panic!("still running after {LIMIT:?}, killed:\n{shown}"));
    assert!(status.success(), "{status}:\n{shown}");
    assert!(
        stdout.contains("Started 7 trib-node servers"),
        "not on trib-node:\n{shown}"
    );
    assert!(
        stdout.contains("[OK] Demo finished"),
        "tour unfinished:\n{shown}"
    );
    for bad in ["[ERR]", "redis-server"] {
        assert!(
            !stdout.contains(bad) && !stderr.contains(bad),
            "{bad:?} in the output:\n{shown}"
        );
    }
}

/// The line after the ``` that follows the marker (what `.ci/run` does for the test command).
fn main_command(readme: &str) -> Option<String> {
    let mut lines = readme
        .lines()
        .skip_while(|l| l.trim() != "<!-- main-command -->");
    lines.next()?;
    lines.next().filter(|l| l.starts_with("```"))?;
    lines.next().map(str::to_string)
}

/// A missing tool: a note outside CI, a failure in CI (the test must run there).
fn unavailable(why: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why}, and CI=true: the README's main command must be tested in CI");
    }
    eprintln!("NOTE: {why}; skipping the README main-command test");
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    // A checkout owned by another user (a CI runner's) is still ours to clone.
    let out = Command::new("git")
        .args(["-c", "safe.directory=*", "-c", "advice.detachedHead=false"])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A directory of links to every program of PATH except redis-* (earlier PATH entries win, as
/// in a lookup), returned as a one-entry PATH: cargo, git and the rest still work.
fn path_without_redis(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    for d in std::env::split_paths(&path) {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let link = dir.join(&name);
            if name.to_string_lossy().starts_with("redis-") || link.symlink_metadata().is_ok() {
                continue;
            }
            let _ = std::os::unix::fs::symlink(e.path(), &link);
        }
    }
    assert!(dir.join("cargo").exists() && !dir.join("redis-server").exists());
    dir.to_path_buf()
}

/// The clone's CARGO_TARGET_DIR: `readme-clone` inside this project's target directory, with the
/// dependencies this project already built in release copied in, so that only trib is compiled.
///
/// Why not the project's own target directory, as a newcomer's second run would use: cargo names
/// a path package's artifacts by its path relative to the workspace root, so the clone's trib and
/// this checkout's trib get the same file names. Building the clone there would overwrite
/// target/release/trib while other tests run it, and leave a build of HEAD that cargo then takes
/// as fresh for this checkout's uncommitted sources. (Cargo does not hold the build-directory
/// lock while tests run, so blocking was not the problem.) The dependencies are copied, not
/// hard-linked, so that nothing cargo rewrites in the clone's directory can reach this one; only
/// files not copied before are copied, and trib's own artifacts never are (a fresh clone has no
/// trib-node built beside trib, which is the case this test is about).
fn clone_target_dir() -> PathBuf {
    let profile_dir = Path::new(trib_bin()).parent().unwrap();
    let target = profile_dir.parent().unwrap();
    let dest = target.join("readme-clone");
    let from = target.join("release");
    for sub in ["deps", "build", ".fingerprint"] {
        copy_missing(&from.join(sub), &dest.join("release").join(sub), true);
    }
    let _ = std::fs::remove_file(dest.join("release").join("trib-node"));
    dest
}

/// Copies what `dest` lacks from `src` (recursively), skipping at the top level the artifacts of
/// this package (trib, trib_node, the `it` test binary), which the clone must build itself.
fn copy_missing(src: &Path, dest: &Path, top: bool) {
    let Ok(entries) = std::fs::read_dir(src) else {
        return;
    };
    std::fs::create_dir_all(dest).unwrap();
    for e in entries.flatten() {
        let name = e.file_name();
        if top && is_own_artifact(&name.to_string_lossy()) {
            continue;
        }
        let to = dest.join(&name);
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() {
            copy_missing(&e.path(), &to, false);
        } else if kind.is_file() && to.symlink_metadata().is_err() {
            // Copy under a temporary name, then rename: an interrupted copy leaves no torn file.
            let part = dest.join(format!(".{}.part", name.to_string_lossy()));
            if std::fs::copy(e.path(), &part).is_ok() {
                let _ = std::fs::rename(&part, &to);
            }
        }
    }
}

fn is_own_artifact(name: &str) -> bool {
    let stem = name.strip_prefix("lib").unwrap_or(name);
    let Some((package, rest)) = stem.split_once('-') else {
        return false;
    };
    let hash = rest.split('.').next().unwrap_or("");
    matches!(package, "trib" | "trib_node" | "it") && hash.chars().all(|c| c.is_ascii_hexdigit())
}
