//! `ptape catalog scan`: rebuild the media catalog from the tapes alone.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use ptape::catalog::{browse, Catalog};
use ptape::config;
use ptape::keys::KeyAccess;
use ptape::library::LibraryDevices;
use ptape::pool::config_file::SettingsSource;
use ptape::scan::{scan_tapes_with_keys, TapeScanState};
use tape_cli::output::{opt, ListTable, OutputFormat};
use tape_cli::report::FinishedWithWarnings;

use crate::read_events::ReadEvents;

#[derive(Debug, Subcommand)]
pub enum CatalogCmd {
    /// Rebuild the catalog from tapes: every cartridge online in the
    /// library (loaded through the changer), or only the one in --drive;
    /// then the local file index of every snapshot that lacks it.
    Scan {
        /// Scan only the cartridge in this configured drive.
        #[arg(long)]
        drive: Option<String>,
        /// Read the passphrase of an encrypted media set's key from the first
        /// line of this file (else $PTAPE_PASSPHRASE; keys stored without a
        /// passphrase need neither).
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
    },
    /// List a directory of a snapshot (no tape needed).
    Ls {
        /// Snapshot (POOL/ID/TIME, see `ptape snapshots`).
        snapshot: String,
        /// Directory in the snapshot (default: its top level).
        path: Option<String>,
    },
    /// Find paths matching a glob across snapshots (no tape needed):
    /// `*.pdf` matches names at any depth, `data/**/*.pdf` whole paths.
    Find {
        /// Only this snapshot.
        #[arg(long)]
        snapshot: Option<String>,
        glob: String,
    },
}

pub fn catalog(cmd: CatalogCmd, out: OutputFormat) -> Result<()> {
    let (drive, passphrase_file) = match cmd {
        CatalogCmd::Scan {
            drive,
            passphrase_file,
        } => (drive, passphrase_file),
        CatalogCmd::Ls { snapshot, path } => {
            let catalog = Catalog::open_default()?;
            let listed = browse::list(&catalog, &snapshot, path.as_deref().unwrap_or(""))?;
            return out.print(&listed, |rows| {
                let mut t = ListTable::new(&["name", "type", "size", "mtime", "mode"]);
                for r in rows {
                    t.row([
                        if r.incomplete {
                            format!("{} (incomplete)", r.name)
                        } else {
                            r.name.clone()
                        },
                        r.kind.clone(),
                        r.size.to_string(),
                        r.mtime.clone(),
                        r.mode.clone(),
                    ]);
                }
                t.render()
            });
        }
        CatalogCmd::Find { snapshot, glob } => {
            let catalog = Catalog::open_default()?;
            let found = browse::find(&catalog, snapshot.as_deref(), &glob)?;
            return out.print(&found, |rows| {
                let mut t = ListTable::new(&["snapshot", "path", "type", "size", "mtime"]);
                for r in rows {
                    t.row([
                        r.snapshot.clone(),
                        r.path.clone(),
                        r.kind.clone(),
                        r.size.to_string(),
                        r.mtime.clone(),
                    ]);
                }
                t.render()
            });
        }
    };
    let cfg = config::load_config()?;
    let mut catalog = Catalog::open_default()?;
    let mut events = ReadEvents { verb: "scanning" };
    let keys = KeyAccess::from_cli(passphrase_file.as_deref())?;
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
            scan_tapes_with_keys(devices, &mut catalog, None, false, &keys, &mut events)
        }
        None => {
            let devices = LibraryDevices::open(&cfg, None)?;
            scan_tapes_with_keys(devices, &mut catalog, None, true, &keys, &mut events)
        }
    }
    .context("catalog scan failed")?;
    let mut report = report;
    let pools_file = ptape::pool::config_file::pools_file()?;
    report.pools = ptape::pool::config_file::restore_pools(&catalog, &pools_file, &report.pools)
        .context("restoring pools from pools.toml")?;
    let mut warnings = Vec::new();
    for p in &report.pools {
        if p.settings == SettingsSource::Defaults {
            let pool = catalog.pool(&p.name)?;
            let key = pool
                .as_ref()
                .and_then(|p| p.encrypt.clone())
                .map(|k| format!(", encryption key {k} of its newest media set"))
                .unwrap_or_default();
            warnings.push(format!(
                "pool {name} was recreated from its tapes with default settings (allocation continue, \
                 retention keep{key}): neither {file} nor a catalog archive on tape recorded them; \
                 set them with `ptape pool update {name} --allocation ... --retention ...` \
                 (see docs/ptape.md \"Losing the catalog\")",
                name = p.name,
                file = pools_file.display(),
            ));
        }
    }
    if !report.pools.is_empty() {
        // The file follows the catalog again (pools found only on tape).
        if let Err(e) = ptape::pool::config_file::save(&catalog, &pools_file) {
            warnings.push(format!("pools.toml not written: {e}"));
        }
    }
    out.print(&report, |r| {
        let mut t = ListTable::new(&[
            "tape",
            "state",
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
                tape.state.as_str().to_string(),
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
        let mut text = format!(
            "{}\n{} snapshots in the catalog; {} file indexes rebuilt",
            t.render(),
            r.snapshots,
            r.file_indexes_rebuilt
        );
        for p in &r.pools {
            let from = match p.settings {
                SettingsSource::PoolsFile => "settings from pools.toml",
                SettingsSource::Tape => "settings from a catalog archive on tape",
                SettingsSource::Defaults => "DEFAULT settings (see warning)",
            };
            text.push_str(&format!("\npool {}: recreated, {from}", p.name));
        }
        text
    })?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    // Damaged cartridges were skipped (or partly scanned), tapes whose key
    // is missing recorded without their archives: the scan of the others
    // finished, with warnings (exit code 3).
    let damaged = report
        .tapes
        .iter()
        .filter(|t| matches!(t.state, TapeScanState::Damaged | TapeScanState::KeyMissing))
        .count() as u64;
    let count = damaged + warnings.len() as u64;
    if count > 0 {
        return Err(FinishedWithWarnings {
            job: "catalog scan",
            count,
        }
        .into());
    }
    Ok(())
}
