//! `ptape verify`: read media sets back and check every archive.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use ptape::catalog::Catalog;
use ptape::config;
use ptape::keys::KeyAccess;
use ptape::library::LibraryDevices;
use ptape::notify::NotifyingEvents;
use ptape::verify::{verify_with_keys, TapeState, VerifySelection};
use tape_cli::output::{human_bytes, opt, ListTable, OutputFormat};

use crate::read_events::ReadEvents;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Verify this media set (default: every media set).
    #[arg(long, value_name = "UUID", conflicts_with = "pool")]
    media_set: Option<uuid::Uuid>,
    /// Verify every media set of this pool.
    #[arg(long)]
    pool: Option<String>,
    /// Configured drive to use (default: the default drive).
    #[arg(long)]
    drive: Option<String>,
    /// Read the passphrase of an encrypted media set's key from the first
    /// line of this file (else $PTAPE_PASSPHRASE; keys stored without a
    /// passphrase need neither).
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Notify this target (see `ptape notify list`) of each tape the
    /// verification marks damaged (repeatable).
    #[arg(long = "notify", value_name = "TARGET")]
    notify: Vec<String>,
}

pub fn verify_cmd(args: VerifyArgs, out: OutputFormat) -> Result<()> {
    let notifier = crate::backup_cmd::notifier(&args.notify)?;
    let cfg = config::load_config()?;
    let catalog = Catalog::open_default()?;
    let devices = LibraryDevices::open(&cfg, args.drive.as_deref())?;
    let selection = match (args.media_set, args.pool) {
        (Some(set), _) => VerifySelection::MediaSet(set),
        (None, Some(pool)) => VerifySelection::Pool(pool),
        (None, None) => VerifySelection::All,
    };
    let mut read_events = ReadEvents { verb: "verifying" };
    let keys = KeyAccess::from_cli(args.passphrase_file.as_deref())?;
    let mut events = NotifyingEvents::new(&mut read_events, &notifier, None);
    let report = verify_with_keys(devices, &catalog, &selection, &keys, &mut events);
    crate::backup_cmd::report_failed_notifications(&events.outcomes, "verification");
    drop(events);
    let report = report.context("verification failed")?;
    out.print(&report, |r| {
        let mut t = ListTable::new(&[
            "tape", "seq", "state", "archives", "chunks", "data", "problems",
        ]);
        for tape in &r.tapes {
            let mut problems = tape.errors.clone();
            problems.extend(tape.archives.iter().filter_map(|a| {
                a.error
                    .as_ref()
                    .map(|e| format!("file {} ({}): {e}", a.file_number, a.content))
            }));
            t.row([
                tape.label.clone(),
                opt(tape.seq_nr),
                format!("{:?}", tape.state).to_lowercase(),
                tape.archives.len().to_string(),
                tape.chunks.to_string(),
                human_bytes(tape.chunk_bytes),
                if problems.is_empty() {
                    "-".to_string()
                } else {
                    problems.join("; ")
                },
            ]);
        }
        t.render()
    })?;
    if !report.ok {
        let list = |state: TapeState| {
            report
                .tapes
                .iter()
                .filter(|t| t.state == state)
                .map(|t| t.label.clone())
                .collect::<Vec<_>>()
        };
        let damaged = list(TapeState::Damaged);
        let offline = list(TapeState::Offline);
        let mut why = Vec::new();
        if !damaged.is_empty() {
            why.push(format!("damaged tapes: {}", damaged.join(", ")));
        }
        let marked: Vec<String> = report
            .tapes
            .iter()
            .filter(|t| t.marked_damaged)
            .map(|t| t.label.clone())
            .collect();
        if !marked.is_empty() {
            why.push(format!(
                "marked damaged in the catalog (no job writes to them; the next backup writes their chunks again): {}",
                marked.join(", ")
            ));
        }
        if !offline.is_empty() {
            why.push(format!(
                "tapes not online (not verified): {}",
                offline.join(", ")
            ));
        }
        bail!("verification failed: {}", why.join("; "));
    }
    Ok(())
}
