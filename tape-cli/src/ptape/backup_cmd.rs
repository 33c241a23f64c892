//! `ptape backup` and `ptape label`: the commands that write tapes.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use ptape::backup::{run_backup, BackupError, BackupOptions, BackupResult};
use ptape::catalog::Catalog;
use ptape::chunking::ChunkerConfig;
use ptape::config;
use ptape::devices::TapeDevices;
use ptape::inventory;
use ptape::library::LibraryDevices;
use ptape::lock::WaitPolicy;
use ptape::notify::{Event, JobFinished, JobState, Notifier, NotifyingEvents, Outcome};
use ptape::stream::exclude::Excludes;
use tape_cli::output::{ListTable, OutputFormat};
use tape_cli::report::FinishedWithWarnings;

use crate::progress::Progress;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Media pool to write to.
    #[arg(long, default_value = ptape::pool::DEFAULT_POOL)]
    pool: String,
    /// Configured drive to use (default: the default drive).
    #[arg(long)]
    drive: Option<String>,
    /// Start a new media set even if the pool would append to its current one.
    #[arg(long)]
    new_media_set: bool,
    /// Middle part of the snapshot name POOL/ID/TIME (default: host name).
    #[arg(long)]
    id: Option<String>,
    /// Never label blank changer cartridges automatically.
    #[arg(long)]
    no_auto_label: bool,
    /// Minimum chunk size in bytes (content-defined chunking).
    #[arg(long, default_value_t = ChunkerConfig::default().min)]
    chunk_min: u32,
    /// Average chunk size in bytes.
    #[arg(long, default_value_t = ChunkerConfig::default().avg)]
    chunk_avg: u32,
    /// Maximum chunk size in bytes.
    #[arg(long, default_value_t = ChunkerConfig::default().max)]
    chunk_max: u32,
    /// Leave out paths matching this gitignore-style pattern (repeatable;
    /// anchored patterns start at the snapshot root, e.g. /docs/tmp).
    #[arg(long = "exclude", value_name = "GLOB")]
    excludes: Vec<String>,
    /// Read exclude patterns from FILE, one per line (repeatable).
    #[arg(long = "exclude-from", value_name = "FILE")]
    exclude_from: Vec<PathBuf>,
    /// Do not descend into directories on another file system (mount
    /// points are stored as empty directories).
    #[arg(long)]
    one_file_system: bool,
    /// Fail at the first warning (a file that vanished, could not be read
    /// or changed while read) instead of finishing with exit code 3.
    #[arg(long)]
    fail_on_warning: bool,
    /// Read the passphrase of the pool's encryption key from the first
    /// line of this file (else $PTAPE_PASSPHRASE; keys stored without a
    /// passphrase need neither).
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// After a successful job, eject the tape: a library puts it back into
    /// a storage slot, a standalone drive ejects it. A failed job leaves the
    /// tape in the drive.
    #[arg(long)]
    eject: bool,
    /// After a successful job, move every tape of the media set into free
    /// import/export slots (configured export slots count); exports what
    /// fits and names the rest. A standalone drive ejects its tape instead.
    #[arg(long)]
    export_media_set: bool,
    /// Read every file, also those unchanged (same size, mtime, ctime and
    /// inode) since the previous snapshot of the same pool and id, whose
    /// chunks are otherwise reused without reading them.
    #[arg(long)]
    full_read: bool,
    /// Notify this target (see `ptape notify list`) when the backup
    /// finishes and when it needs a tape (repeatable). A failing target
    /// is reported and does not change the exit code.
    #[arg(long = "notify", value_name = "TARGET")]
    notify: Vec<String>,
    /// Files and directories to back up (each stored under its base name).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["barcode", "all_unlabelled"])))]
pub struct LabelArgs {
    /// Barcode (label text) of the cartridge to label.
    #[arg(long)]
    barcode: Option<String>,
    /// Label every blank cartridge of the changer the catalog does not know.
    #[arg(long, conflicts_with_all = ["force", "drive"])]
    all_unlabelled: bool,
    /// Configured drive to use.
    #[arg(long)]
    drive: Option<String>,
    /// Configured changer to use (with --all-unlabelled).
    #[arg(long, requires = "all_unlabelled")]
    changer: Option<String>,
    /// Pool the tape is for (default: free for any pool).
    #[arg(long)]
    pool: Option<String>,
    /// Relabel a labelled tape (never one of a live media set).
    #[arg(long)]
    force: bool,
}

/// `wait`: how long to wait for tapes that must be inserted (`--wait`).
pub fn backup(args: BackupArgs, out: OutputFormat, wait: WaitPolicy) -> Result<()> {
    // The sources and patterns first: a typo fails before any device is opened.
    ptape::stream::walk::check_sources(&args.paths)?;
    let mut excludes = args.excludes;
    for file in &args.exclude_from {
        excludes.extend(Excludes::read_pattern_file(file)?);
    }
    Excludes::new(&excludes)?;
    let clock = ptape::schedule::Clock::from_env()?;
    let notifier = notifier(&args.notify)?;
    let cfg = config::load_config()?;
    let mut catalog = Catalog::open_default()?;
    let mut devices = LibraryDevices::open(&cfg, args.drive.as_deref())?;
    let mut options = BackupOptions::new(&args.pool, args.paths);
    options.excludes = excludes;
    options.one_file_system = args.one_file_system;
    options.fail_on_warning = args.fail_on_warning;
    options.full_read = args.full_read;
    options.id = args.id;
    options.new_media_set = args.new_media_set;
    options.auto_label = !args.no_auto_label;
    options.clock = clock;
    options.keys = ptape::keys::KeyAccess::from_cli(args.passphrase_file.as_deref())?;
    // --wait/--no-wait: how long to wait for a tape to be inserted.
    options.wait = ptape::media_request::WaitForTapes::new(wait);
    options.chunker = ChunkerConfig {
        min: args.chunk_min,
        avg: args.chunk_avg,
        max: args.chunk_max,
    };
    let pool = options.pool.clone();
    let start = clock.now_epoch();
    let mut progress = Progress::new(ptape::source::estimate_bytes(&options.sources));
    let mut events = NotifyingEvents::new(&mut progress, &notifier, None).with_pool(&pool);
    let result = run_backup(&mut devices, &mut catalog, &options, &mut events);
    // Only after a successful job: export wins over eject. Its outcome is
    // part of what the notification tells.
    let mut after_job_warnings = 0;
    let mut after_job: Result<()> = Ok(());
    // Printed once the progress line is gone.
    let mut after_text = None;
    if let Ok(r) = &result {
        if args.export_media_set && devices.changer_name().is_some() {
            let exported = crate::pool_cmds::now().and_then(|now| {
                ptape::pool::export_media_set(
                    &catalog,
                    &mut devices,
                    &r.media_set.to_string(),
                    &now,
                )
                .context("the backup succeeded, but exporting its media set failed")
            });
            match exported {
                Ok(export) => {
                    after_text = Some(crate::pool_cmds::export_text(&export));
                    after_job_warnings = export.not_exported.len() as u64;
                }
                Err(e) => after_job = Err(e),
            }
        } else if args.eject || args.export_media_set {
            match devices.eject() {
                Ok(()) => after_text = Some("tape ejected".to_string()),
                Err(e) => {
                    after_job = Err(e).context("the backup succeeded, but ejecting the tape failed")
                }
            }
        }
    }
    let mut event = finished_event(&result, pool, start, clock.now_epoch());
    if after_job_warnings > 0 {
        event.state = JobState::Warnings;
        event.warnings += after_job_warnings;
    }
    if let Err(e) = &after_job {
        event.state = JobState::Error;
        event.error = Some(format!("{e:#}"));
    }
    events.notify(Event::JobFinished(event));
    report_failed_notifications(&events.outcomes, "backup");
    drop(events);
    progress.finish();
    if let Some(text) = after_text {
        eprintln!("{text}");
    }
    let result = result.context("backup failed")?;
    after_job?;
    out.print(&result, |r| {
        let mut text = format!(
            "snapshot {}\n{} entries, {} bytes; {} new chunks ({} bytes) on {}; {} chunks already on tape",
            r.snapshot,
            r.entries,
            r.total_bytes,
            r.chunks_written,
            r.bytes_written,
            r.tapes.join(", "),
            r.chunks_deduplicated
        );
        if let Some(reference) = &r.reference {
            text.push_str(&format!(
                "\n{} unchanged files not read (their chunks reused from {reference}); {} bytes read",
                r.reused_files, r.read_bytes
            ));
        }
        text
    })?;
    if result.warnings + after_job_warnings > 0 {
        return Err(FinishedWithWarnings {
            job: "backup",
            count: result.warnings + after_job_warnings,
        }
        .into());
    }
    Ok(())
}

/// The notifier of a command's `--notify TARGET...` (none: sends nothing);
/// an unknown target fails before any device is opened.
pub fn notifier(targets: &[String]) -> Result<Notifier> {
    let clock = ptape::schedule::Clock::from_env()?;
    Ok(if targets.is_empty() {
        Notifier::new(Vec::new())
    } else {
        Notifier::from_config()?.select(targets)?
    }
    .with_clock(clock))
}

/// Says on stderr that notifications failed (each failure was already
/// noted in the job's output) and that `what`'s result stands.
pub fn report_failed_notifications(outcomes: &[Outcome], what: &str) {
    let failed = outcomes.iter().filter(|o| !o.ok).count();
    if failed > 0 {
        eprintln!(
            "ptape: {failed} notification(s) failed (see above); the {what}'s result is unchanged"
        );
    }
}

/// The "job finished" event of a hand-run backup.
fn finished_event(
    result: &Result<BackupResult, BackupError>,
    pool: String,
    start: i64,
    end: i64,
) -> JobFinished {
    let mut event = JobFinished {
        job: None,
        run: None,
        state: JobState::Ok,
        pool,
        snapshot: None,
        tapes: Vec::new(),
        bytes_written: 0,
        start,
        end,
        warnings: 0,
        error: None,
        task_log: None,
    };
    match result {
        Ok(r) => {
            event.state = if r.warnings > 0 {
                JobState::Warnings
            } else {
                JobState::Ok
            };
            event.snapshot = Some(r.snapshot.clone());
            event.tapes = r.tapes.clone();
            event.bytes_written = r.bytes_written;
            event.warnings = r.warnings;
        }
        Err(e) => {
            event.state = JobState::Error;
            event.error = Some(tape_cli::report::std_error_message(e));
        }
    }
    event
}

pub fn label(args: LabelArgs, out: OutputFormat) -> Result<()> {
    let cfg = config::load_config()?;
    let catalog = Catalog::open_default()?;
    let mut devices = match &args.changer {
        Some(changer) => LibraryDevices::from_resolved(cfg.resolve_changer_drive(changer)?)?,
        None => LibraryDevices::open(&cfg, args.drive.as_deref())?,
    };
    if let Some(barcode) = &args.barcode {
        let media = inventory::label_tape(
            &mut devices,
            &catalog,
            barcode,
            args.pool.as_deref(),
            args.force,
            &crate::pool_cmds::now()?,
        )?;
        return out.print(&media, |m| {
            format!("labelled {} (media {})", m.label, m.uuid)
        });
    }
    let (labelled, skipped) = inventory::label_all_unlabelled(
        &mut devices,
        &catalog,
        args.pool.as_deref(),
        &crate::pool_cmds::now()?,
    )?;
    for (label, why) in &skipped {
        eprintln!("skipped {label}: {why}");
    }
    out.print(&labelled, |media| {
        if media.is_empty() {
            return "no unlabelled cartridge found".to_string();
        }
        let mut t = ListTable::new(&["label", "uuid", "pool"]);
        for m in media {
            t.row([
                m.label.clone(),
                m.uuid.to_string(),
                m.pool.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        t.render()
    })
}
