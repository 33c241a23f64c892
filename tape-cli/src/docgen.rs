//! Shell completions and man pages generated from the clap definitions.
//!
//! Binaries expose `completions SHELL` (prints to stdout) and a hidden
//! `man DIR` (writes `NAME.1` and `NAME-SUBCOMMAND.1` pages into DIR).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Command;
pub use clap_complete::Shell;

/// Print the completion script for `shell` to stdout.
pub fn print_completions(shell: Shell, mut cmd: Command) {
    let name = cmd.get_name().to_string();
    clap_complete::generate(shell, &mut cmd, name, &mut std::io::stdout());
}

/// Write man pages for `cmd` and each visible subcommand (recursively) into
/// `dir`, which is created if missing. Returns the files written.
pub fn write_man_pages(cmd: Command, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create man page directory {}", dir.display()))?;
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let mut written = Vec::new();
    write_page(&cmd, dir, &mut written)?;
    Ok(written)
}

fn write_page(cmd: &Command, dir: &Path, written: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    let path = man
        .generate_to(dir)
        .with_context(|| format!("cannot write man page into {}", dir.display()))?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_page(sub, dir, written)?;
    }
    Ok(())
}
