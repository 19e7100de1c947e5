//! `trib generate DIR` (hidden): writes completions/ (bash, zsh, fish) and man/ pages from the one
//! clap definition, so the committed copies can be refreshed and checked for staleness.

use std::path::Path;

use anyhow::{Context as _, Result};
use clap::CommandFactory;

use crate::cli::{Cli, GenerateArgs};
use crate::exit::ExitCode;

pub fn run(args: &GenerateArgs) -> Result<ExitCode> {
    write_all(Path::new(&args.dir))?;
    Ok(ExitCode::Success)
}

/// Every generated file as (relative path, contents).
pub fn generated_files() -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for (shell, name) in [
        (clap_complete::Shell::Bash, "completions/trib.bash"),
        (clap_complete::Shell::Zsh, "completions/_trib"),
        (clap_complete::Shell::Fish, "completions/trib.fish"),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "trib", &mut buf);
        files.push((name.to_string(), buf));
    }
    let cmd = Cli::command();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    files.push(("man/trib.1".to_string(), buf));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("trib-{}", sub.get_name());
        let page = sub.clone().name(&*Box::leak(name.clone().into_boxed_str()));
        let mut buf = Vec::new();
        clap_mangen::Man::new(page).render(&mut buf)?;
        files.push((format!("man/{name}.1"), buf));
    }
    Ok(files)
}

fn write_all(dir: &Path) -> Result<()> {
    for (rel, contents) in generated_files()? {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, contents).with_context(|| format!("writing {rel}"))?;
    }
    Ok(())
}
