//! Shell completions and man pages generated from the clap definitions.
//!
//! Binaries expose `completions SHELL` (prints to stdout) and a hidden
//! `man DIR` (writes `NAME.1` and `NAME-SUBCOMMAND.1` pages into DIR).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Command, Subcommand};
pub use clap_complete::Shell;

/// The documentation subcommands every binary has: `completions SHELL`
/// and a hidden `man DIR`. Flatten into a binary's subcommand enum with
/// `#[command(flatten)] Doc(DocCommand)` and hand it to [`run_doc_command`].
#[derive(Debug, Clone, Subcommand)]
pub enum DocCommand {
    /// Print a shell completion script.
    Completions {
        /// Shell
        shell: Shell,
    },
    /// Write man pages into DIR.
    #[command(hide = true)]
    Man {
        /// Output directory
        dir: PathBuf,
    },
}

/// Run a documentation subcommand for the binary described by `cmd`; the
/// man page files written are listed on stdout.
pub fn run_doc_command(doc: &DocCommand, cmd: Command) -> anyhow::Result<()> {
    match doc {
        DocCommand::Completions { shell } => try_print_completions(*shell, cmd),
        DocCommand::Man { dir } => {
            let mut stdout = std::io::stdout().lock();
            for path in write_man_pages(cmd, dir)? {
                writeln!(stdout, "{}", path.display())?;
            }
            Ok(())
        }
    }
}

/// The completion script for `shell`.
pub fn completion_script(shell: Shell, mut cmd: Command) -> Vec<u8> {
    let name = cmd.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut script);
    script
}

/// Print the completion script for `shell` to stdout; a failed write
/// (closed pipe, full disk) is an error.
pub fn try_print_completions(shell: Shell, cmd: Command) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&completion_script(shell, cmd))?;
    stdout.flush()?;
    Ok(())
}

/// Print the completion script for `shell` to stdout. A closed pipe
/// (`pmt completions bash | head`) is not reported; other write errors are
/// printed to stderr. Prefer [`try_print_completions`].
pub fn print_completions(shell: Shell, cmd: Command) {
    if let Err(e) = try_print_completions(shell, cmd) {
        let broken_pipe = e
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe);
        if !broken_pipe {
            eprintln!("cannot print the completion script: {e}");
        }
    }
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
