//! `ptape restore`: a snapshot (or parts of it) from tape into a directory.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use ptape::catalog::Catalog;
use ptape::config;
use ptape::library::LibraryDevices;
use ptape::lock::WaitPolicy;
use ptape::restore::{run_restore, RestoreOptions};
use tape_cli::output::{human_bytes, opt, ListTable, OutputFormat};

use crate::read_events::ReadEvents;

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Snapshot to restore (POOL/ID/TIME, see `ptape snapshots`).
    snapshot: String,
    /// Directory to restore into (created when missing).
    #[arg(required_unless_present = "list_media")]
    target: Option<PathBuf>,
    /// Only list the tapes the restore needs and where they are (nothing
    /// is read or restored).
    #[arg(long, conflicts_with_all = ["paths", "overwrite", "drive"])]
    list_media: bool,
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

/// `wait`: how long to wait for tapes that must be inserted (`--wait`).
pub fn restore(args: RestoreArgs, out: OutputFormat, wait: WaitPolicy) -> Result<()> {
    let target = match (&args.target, args.list_media) {
        (_, true) => return list_media(&args.snapshot, out),
        (Some(t), false) => t.clone(),
        (None, false) => anyhow::bail!("give the directory to restore into"),
    };
    let cfg = config::load_config()?;
    let catalog = Catalog::open_default()?;
    let devices = LibraryDevices::open(&cfg, args.drive.as_deref())?;
    let mut options = RestoreOptions::new(&args.snapshot, &target);
    options.paths = args.paths;
    options.overwrite = args.overwrite;
    options.keys = ptape::keys::KeyAccess::from_cli(args.passphrase_file.as_deref())?;
    // --wait/--no-wait: how long to wait for tapes to be inserted.
    options.wait = ptape::media_request::WaitForTapes::new(wait);
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

/// `ptape restore --list-media SNAPSHOT`: the tapes a restore needs, where
/// they are; from the catalog only.
fn list_media(snapshot: &str, out: OutputFormat) -> Result<()> {
    let catalog = Catalog::open_default()?;
    let needed = ptape::restore::media_needed(&catalog, snapshot)?;
    out.print(&needed, |n| {
        let mut t = ListTable::new(&["label", "seq", "status", "location", "holds"]);
        for tape in &n.tapes {
            let holds = match (tape.snapshot_archive, tape.chunks) {
                (true, Some(c)) => format!("snapshot index, {c} chunks"),
                (true, None) => "snapshot index, chunks".to_string(),
                (false, Some(c)) => format!("{c} chunks"),
                (false, None) => "chunks (maybe)".to_string(),
            };
            let location = match &tape.location_name {
                Some(name) => format!("{} ({name})", tape.location),
                None => tape.location.to_string(),
            };
            t.row([
                tape.label.clone(),
                opt(tape.seq_nr),
                tape.status.to_string(),
                location,
                holds,
            ]);
        }
        let mut text = format!(
            "restore of {} (media set {}) needs {} tape(s):\n{}",
            n.snapshot,
            n.media_set,
            n.tapes.len(),
            t.render()
        );
        if !n.exact {
            text.push_str("\n(the snapshot's index is not in the local file index: every tape that may hold its chunks is listed)");
        }
        if !n.offline.is_empty() {
            text.push_str(&format!(
                "\nnot online: {} (insert them before the restore, or run it with --wait)",
                n.offline.join(", ")
            ));
        }
        text
    })
}
