//! `ptape restore`: a snapshot (or parts of it) from tape into a directory.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use ptape::catalog::Catalog;
use ptape::config;
use ptape::library::LibraryDevices;
use ptape::restore::{run_restore, RestoreOptions};
use tape_cli::output::{human_bytes, OutputFormat};

use crate::read_events::ReadEvents;

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Snapshot to restore (POOL/ID/TIME, see `ptape snapshots`).
    snapshot: String,
    /// Directory to restore into (created when missing).
    target: PathBuf,
    /// Restore only this path of the snapshot and what is below it
    /// (as listed in the snapshot, e.g. `data/docs`); repeatable.
    #[arg(long = "path", value_name = "P")]
    paths: Vec<String>,
    /// Replace existing files under the target.
    #[arg(long)]
    overwrite: bool,
    /// Configured drive to use (default: the default drive).
    #[arg(long)]
    drive: Option<String>,
    /// Read the passphrase of an encrypted media set's key from the first
    /// line of this file (else $PTAPE_PASSPHRASE; keys stored without a
    /// passphrase need neither).
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
}

pub fn restore(args: RestoreArgs, out: OutputFormat) -> Result<()> {
    let cfg = config::load_config()?;
    let catalog = Catalog::open_default()?;
    let devices = LibraryDevices::open(&cfg, args.drive.as_deref())?;
    let mut options = RestoreOptions::new(&args.snapshot, &args.target);
    options.paths = args.paths;
    options.overwrite = args.overwrite;
    options.keys = ptape::keys::KeyAccess::from_cli(args.passphrase_file.as_deref())?;
    let mut events = ReadEvents { verb: "reading" };
    let result = run_restore(devices, &catalog, &options, &mut events).context("restore failed")?;
    out.print(&result, |r| {
        format!(
            "restored {} to {}\n{} entries, {} files, {} ({} bytes); {} chunks read from {}",
            r.snapshot,
            r.target.display(),
            r.entries,
            r.files,
            human_bytes(r.bytes),
            r.bytes,
            r.chunks,
            if r.tapes.is_empty() {
                "no tape".to_string()
            } else {
                r.tapes.join(", ")
            }
        )
    })?;
    if !result.damaged.is_empty() {
        for d in &result.damaged {
            eprintln!("damaged: {d}");
        }
        anyhow::bail!(
            "restore incomplete: {} problem{} with damaged or missing data (listed above); every other file was restored",
            result.damaged.len(),
            if result.damaged.len() == 1 { "" } else { "s" }
        );
    }
    Ok(())
}
