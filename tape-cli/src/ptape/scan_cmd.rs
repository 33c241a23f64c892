//! `ptape catalog scan`: rebuild the media catalog from the tapes alone.

use anyhow::{Context, Result};
use clap::Subcommand;
use ptape::catalog::Catalog;
use ptape::config;
use ptape::library::LibraryDevices;
use ptape::scan::scan_tapes;
use tape_cli::output::{opt, ListTable, OutputFormat};

use crate::read_events::ReadEvents;

#[derive(Debug, Subcommand)]
pub enum CatalogCmd {
    /// Rebuild the catalog from tapes: every cartridge online in the
    /// library (loaded through the changer), or only the one in --drive.
    Scan {
        /// Scan only the cartridge in this configured drive.
        #[arg(long)]
        drive: Option<String>,
    },
}

pub fn catalog(cmd: CatalogCmd, out: OutputFormat) -> Result<()> {
    let CatalogCmd::Scan { drive } = cmd;
    let cfg = config::load_config()?;
    let mut catalog = Catalog::open_default()?;
    let mut events = ReadEvents { verb: "scanning" };
    let report = match &drive {
        Some(name) => {
            // Only the cartridge in that drive: use it without its changer.
            let embedded = cfg.uses_embedded_library() && name == config::EMBEDDED_DRIVE;
            let mut resolved = cfg.resolve_drive((!embedded).then_some(name.as_str()))?;
            if resolved.embedded {
                ptape::library::ensure_embedded_library(&config::embedded_library_dir()?)?;
            }
            resolved.changer_path = None;
            let devices = LibraryDevices::from_resolved(resolved)?;
            scan_tapes(devices, &mut catalog, None, false, &mut events)
        }
        None => {
            let devices = LibraryDevices::open(&cfg, None)?;
            scan_tapes(devices, &mut catalog, None, true, &mut events)
        }
    }
    .context("catalog scan failed")?;
    out.print(&report, |r| {
        let mut t = ListTable::new(&[
            "tape",
            "media set",
            "seq",
            "files",
            "catalog archives",
            "full reads",
            "archives added",
            "notes",
        ]);
        for tape in &r.tapes {
            t.row([
                tape.label.clone(),
                opt(tape.media_set),
                opt(tape.seq_nr),
                tape.files.to_string(),
                tape.catalog_archives.to_string(),
                tape.full_reads.to_string(),
                tape.archives_added.to_string(),
                if tape.notes.is_empty() {
                    "-".to_string()
                } else {
                    tape.notes.join("; ")
                },
            ]);
        }
        format!("{}\n{} snapshots in the catalog", t.render(), r.snapshots)
    })
}
