//! One run of a job, the same for `ptape job run` and the scheduler.
//!
//! 1. the job's lock (never two runs of one job); runs of this job still
//!    recorded `running` are then known dead and become `interrupted`;
//! 2. the history row (`running`) and the task log;
//! 3. a drive: the job's drive, or with `drive = "any"` the first free
//!    drive of the pool's changer; a busy drive is waited for;
//! 4. the backup (`ptape backup` with the job's pool, paths and excludes;
//!    the snapshot id is the job id);
//! 5. the outcome in the history row (`ok`, `warnings`, `error`, or
//!    `interrupted` when a stop was requested), the last log line, and the
//!    notification.
//!
//! The history row gets `ok` only after the backup returned success, which
//! it does only after its snapshot passed the finish barrier and its
//! catalog rows were committed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::backup::{run_backup, BackupOptions};
use crate::catalog::{Catalog, CatalogError, MediaLocation};
use crate::config::{self, Config, ResolvedDrive};
use crate::library::LibraryDevices;
use crate::notify::{Event, JobFinished, JobState, Notifier, NotifyingEvents};
use crate::schedule::Clock;
use crate::writer::WriterEvents;

use super::config::JobConfig;
use super::history::{self, RunOutcome, RunRecord, RunState};
use super::lock::{lock_job, try_lock_job, LockError};
use super::log::TaskLog;
use crate::lock::wait::format_wait;
use crate::lock::{DeviceLock, DeviceRole, WaitPolicy, LOCK_POLL_INTERVAL};

/// Errors that keep a run from being recorded at all.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("cannot create the task log: {0}")]
    Log(#[source] std::io::Error),
}

/// How to run a job.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub id: String,
    pub job: JobConfig,
    /// Started by the scheduler (logged, recorded).
    pub scheduled: bool,
    /// Where "now" comes from (run start and end, snapshot time).
    pub clock: Clock,
    /// How long to wait for a busy drive and for a tape to be inserted
    /// (`--wait[=SECS]`/`--no-wait`, the same meaning as for every ptape
    /// command; `ptape job run` defaults to no wait, scheduled runs to
    /// waiting as long as it takes). A stop request ends either wait.
    pub wait: WaitPolicy,
    /// Set to stop the run: it ends `interrupted` (the backup stops at
    /// its next barrier and keeps the catalog consistent).
    pub stop: Arc<AtomicBool>,
    /// Copy task log lines to stderr.
    pub echo: bool,
}

impl RunRequest {
    pub fn new(id: &str, job: JobConfig) -> RunRequest {
        RunRequest {
            id: id.to_string(),
            job,
            scheduled: false,
            clock: Clock::System,
            wait: WaitPolicy::NoWait,
            stop: Arc::new(AtomicBool::new(false)),
            echo: true,
        }
    }
}

/// A run's time in epoch milliseconds (the clock's, to the millisecond
/// when it is the system clock).
fn now_ms(clock: &Clock) -> i64 {
    match clock {
        Clock::System => jiff::Timestamp::now().as_millisecond(),
        Clock::Fixed(t) => t.as_millisecond(),
    }
}

/// Marks runs recorded `running` whose job lock is free (their process
/// died) as `interrupted`; returns their numbers.
pub fn reap_dead_runs(catalog: &Catalog, data_dir: &Path) -> Result<Vec<i64>, RunError> {
    let mut reaped = Vec::new();
    for run in history::running_runs(catalog)? {
        if let Some(_lock) = try_lock_job(data_dir, &run.job)? {
            mark_dead(catalog, &run)?;
            reaped.push(run.run);
        }
    }
    Ok(reaped)
}

fn mark_dead(catalog: &Catalog, run: &RunRecord) -> Result<(), RunError> {
    let pid = run.pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
    history::finish_run(
        catalog,
        run.run,
        jiff::Timestamp::now().as_millisecond(),
        RunState::Interrupted,
        &RunOutcome {
            message: Some(format!(
                "interrupted: the process running it{pid} ended without recording a result (killed, crashed, or the machine went down); the catalog keeps what earlier barriers committed"
            )),
            ..RunOutcome::default()
        },
    )?;
    Ok(())
}

/// The changer a pool's tapes are online in (the most of them), else the
/// configured default changer, else the first.
fn pool_changer(
    config: &Config,
    catalog: &Catalog,
    pool: &str,
) -> Result<Option<String>, RunError> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for m in catalog.media_list()? {
        if m.pool.as_deref() != Some(pool) || m.location != MediaLocation::Online {
            continue;
        }
        let Some(name) = m.location_name else {
            continue;
        };
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => counts.push((name, 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    if let Some((name, _)) = counts
        .into_iter()
        .find(|(n, _)| config.changer(n).is_some())
    {
        return Ok(Some(name));
    }
    Ok(config
        .default_changer
        .clone()
        .or_else(|| config.changers.first().map(|c| c.name.clone())))
}

/// The drives a job may use, in order of preference.
pub fn candidate_drives(
    config: &Config,
    catalog: &Catalog,
    job: &JobConfig,
) -> Result<Vec<ResolvedDrive>, String> {
    if !job.any_drive() {
        return config
            .resolve_drive(job.drive.as_deref())
            .map(|d| vec![d])
            .map_err(|e| e.to_string());
    }
    if config.uses_embedded_library() {
        return config
            .resolve_drive(None)
            .map(|d| vec![d])
            .map_err(|e| e.to_string());
    }
    let changer = pool_changer(config, catalog, &job.pool)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            "drive \"any\" needs a changer, and none is configured (ptape changer add)".to_string()
        })?;
    let drives: Vec<ResolvedDrive> = config
        .drives
        .iter()
        .filter(|d| d.changer.as_deref() == Some(changer.as_str()))
        .map(|d| config.resolve_drive(Some(&d.name)))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    if drives.is_empty() {
        return Err(format!(
            "no configured drive sits in changer {changer:?} (ptape drive add --changer {changer})"
        ));
    }
    Ok(drives)
}

/// A drive held for one run: the device lock of `ptape::lock` (keyed by
/// the drive's serial number, shared with `ptape backup`, `pmt` and
/// `pmtx`), held until the run ends.
#[derive(Debug)]
pub struct DriveReservation {
    pub drive: ResolvedDrive,
    lock: DeviceLock,
}

/// Takes the device lock of the first free drive of `candidates`, trying
/// again every [`LOCK_POLL_INTERVAL`] while all are busy and `wait`
/// allows; `Err(why)` when stopped, out of time, or a drive cannot be
/// locked at all.
fn reserve_drive(
    candidates: &[ResolvedDrive],
    command: &str,
    wait: WaitPolicy,
    stop: &AtomicBool,
    log: &mut TaskLog,
) -> Result<DriveReservation, String> {
    let started = Instant::now();
    let mut told = false;
    loop {
        let mut busy = Vec::new();
        for drive in candidates {
            match DeviceLock::acquire(
                DeviceRole::Drive,
                &drive.name,
                &drive.path,
                command,
                WaitPolicy::NoWait,
            ) {
                Ok(lock) => {
                    if told {
                        log.line(&format!(
                            "drive {} is free after {}",
                            drive.name,
                            format_wait(started.elapsed())
                        ));
                    }
                    return Ok(DriveReservation {
                        drive: drive.clone(),
                        lock,
                    });
                }
                Err(e) if e.is_busy() => busy.push(e.to_string()),
                Err(e) => return Err(e.to_string()),
            }
        }
        if !wait.waits() {
            return Err(format!(
                "{}; not waiting for it (run with --wait[=SECS] to wait)",
                busy.join("; ")
            ));
        }
        if !told {
            log.line(&format!("waiting for drive lock: {}", busy.join("; ")));
            told = true;
        }
        if stop.load(Ordering::SeqCst) {
            return Err("stopped while waiting for a drive".into());
        }
        if wait.limit().is_some_and(|w| started.elapsed() >= w) {
            return Err(format!(
                "{}; gave up after waiting {}",
                busy.join("; "),
                format_wait(started.elapsed())
            ));
        }
        std::thread::sleep(LOCK_POLL_INTERVAL);
    }
}

/// Backup events written to the task log: tapes, notes, warnings, and the
/// share of the estimated bytes done in steps of 10 %.
struct LogEvents<'a> {
    log: &'a mut TaskLog,
    stop: Arc<AtomicBool>,
    estimate: u64,
    done: u64,
    reported: u64,
}

impl WriterEvents for LogEvents<'_> {
    fn tape(&mut self, label: &str, seq_nr: u32) {
        self.log.line(&format!(
            "writing to tape {label} (member {seq_nr} of the media set)"
        ));
    }
    fn chunk(&mut self, len: u64, _written: bool) {
        self.done = self.done.saturating_add(len);
        if let Some(pct) = self.done.saturating_mul(100).checked_div(self.estimate) {
            let pct = pct.min(100) / 10 * 10;
            if pct > self.reported {
                self.reported = pct;
                self.log.line(&format!("percentage done: {pct}%"));
            }
        }
    }
    fn note(&mut self, message: &str) {
        self.log.line(message);
    }
    fn stop_requested(&mut self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// Runs a job (see the module documentation). The returned record has the
/// run's outcome; `Err` only when nothing could be recorded.
pub fn run_job(req: &RunRequest) -> Result<RunRecord, RunError> {
    let data_dir = config::data_dir()?;
    let _job_lock = lock_job(&data_dir, &req.id)?;
    let mut catalog = Catalog::open(&config::catalog_path()?)?;
    // We hold the job's lock: its runs still `running` are dead.
    for run in history::running_runs(&catalog)? {
        if run.job == req.id {
            mark_dead(&catalog, &run)?;
        }
    }
    history::note_job(&catalog, &req.id, &req.job.schedule, req.clock.now_epoch())?;
    let start_ms = now_ms(&req.clock);
    let run = history::start_run(&catalog, &req.id, start_ms, None, req.scheduled)?;
    let mut log = match TaskLog::create(&data_dir, &req.id, run) {
        Ok(log) => log,
        Err(e) => {
            let outcome = RunOutcome {
                message: Some(format!("cannot create the task log: {e}")),
                ..RunOutcome::default()
            };
            history::finish_run(&catalog, run, now_ms(&req.clock), RunState::Error, &outcome)?;
            return Err(RunError::Log(e));
        }
    };
    if !req.echo {
        log = log.quiet();
    }
    log.line(&match req.scheduled {
        true => format!("task triggered by schedule '{}'", req.job.schedule),
        false => "task started by hand (ptape job run)".to_string(),
    });
    let notifier = notifier_of(req, &mut log);
    let (state, outcome) = backup_step(req, &mut catalog, run, &mut log, &notifier);
    log.line(&match (&state, &outcome.message) {
        (RunState::Ok, _) => "TASK OK".to_string(),
        (state, Some(m)) => format!("TASK {}: {m}", state.as_str().to_uppercase()),
        (state, None) => format!("TASK {}", state.as_str().to_uppercase()),
    });
    history::finish_run(&catalog, run, now_ms(&req.clock), state, &outcome)?;
    let record = history::run(&catalog, run)?
        .ok_or_else(|| CatalogError::Corrupt(format!("job run {run} vanished")))?;
    // After the outcome is recorded: a hanging target delays only the
    // message, never the history.
    notify_finished(req, &record, &notifier, &mut log);
    Ok(record)
}

/// The job's notification targets (`--notify`); none, with a warning in
/// the task log, when `notify.toml` cannot be read or lost a target:
/// notifications never fail a job.
fn notifier_of(req: &RunRequest, log: &mut TaskLog) -> Notifier {
    if req.job.notify.is_empty() {
        return Notifier::new(Vec::new());
    }
    match Notifier::from_config().and_then(|n| n.select(&req.job.notify)) {
        Ok(n) => n.with_clock(req.clock),
        Err(e) => {
            log.line(&format!(
                "warning: no notification will be sent for this run: {e}"
            ));
            Notifier::new(Vec::new())
        }
    }
}

/// The `job_finished` event of a recorded run.
pub fn finished_event(job: &JobConfig, record: &RunRecord, task_log: &Path) -> JobFinished {
    let state = match record.state {
        RunState::Ok => JobState::Ok,
        RunState::Warnings => JobState::Warnings,
        RunState::Error => JobState::Error,
        RunState::Interrupted | RunState::Running => JobState::Interrupted,
    };
    JobFinished {
        job: Some(record.job.clone()),
        run: Some(record.run),
        state,
        pool: job.pool.clone(),
        snapshot: record.snapshot.clone(),
        tapes: record.tapes.clone(),
        bytes_written: record.bytes_written,
        start: record.start(),
        end: record.end_ms.unwrap_or(record.start_ms).div_euclid(1000),
        warnings: record.warnings,
        error: match state {
            JobState::Error | JobState::Interrupted => record.message.clone(),
            JobState::Ok | JobState::Warnings => None,
        },
        task_log: Some(task_log.display().to_string()),
    }
}

/// Tells the job's targets how the run ended; each target's outcome is a
/// line of the task log.
fn notify_finished(req: &RunRequest, record: &RunRecord, notifier: &Notifier, log: &mut TaskLog) {
    if notifier.is_empty() {
        return;
    }
    let event = Event::JobFinished(finished_event(&req.job, record, log.path()));
    let outcomes = notifier.send(&event);
    if outcomes.is_empty() {
        log.line("notification job_finished: no target wants this event (filters)");
    }
    for o in outcomes {
        match &o.error {
            None => log.line(&format!(
                "notified {} ({}) of job_finished",
                o.target,
                o.kind.as_str()
            )),
            Some(e) => log.line(&format!(
                "warning: notification job_finished to target {} ({}) failed after {} attempt{}: {e}",
                o.target,
                o.kind.as_str(),
                o.attempts,
                if o.attempts == 1 { "" } else { "s" }
            )),
        }
    }
}

/// A run that ended in `state` with nothing written: only its message.
fn failed(state: RunState, message: String) -> (RunState, RunOutcome) {
    (
        state,
        RunOutcome {
            message: Some(message),
            ..RunOutcome::default()
        },
    )
}

/// Drive, backup, and what the history row gets.
fn backup_step(
    req: &RunRequest,
    catalog: &mut Catalog,
    run: i64,
    log: &mut TaskLog,
    notifier: &Notifier,
) -> (RunState, RunOutcome) {
    let config = match config::load_config() {
        Ok(c) => c,
        Err(e) => return failed(RunState::Error, e.to_string()),
    };
    let candidates = match candidate_drives(&config, catalog, &req.job) {
        Ok(c) => c,
        Err(e) => return failed(RunState::Error, e),
    };
    if candidates.iter().any(|d| d.embedded) {
        let dir = match config::embedded_library_dir() {
            Ok(d) => d,
            Err(e) => return failed(RunState::Error, e.to_string()),
        };
        if let Err(e) = crate::library::ensure_embedded_library(&dir) {
            return failed(RunState::Error, e.to_string());
        }
    }
    let command = format!("ptape job run {}", req.id);
    let reservation = match reserve_drive(&candidates, &command, req.wait, &req.stop, log) {
        Ok(r) => r,
        Err(why) if req.stop.load(Ordering::SeqCst) => return failed(RunState::Interrupted, why),
        Err(why) => return failed(RunState::Error, why),
    };
    let DriveReservation { drive, lock } = reservation;
    let drive_name = drive.name.clone();
    log.line(&format!("using drive {} ({})", drive.name, drive.path));
    if let Err(e) = history::set_run_drive(catalog, run, &drive.name) {
        return failed(RunState::Error, e.to_string());
    }
    // The reservation's lock goes into the devices (locking the drive a
    // second time in this process would conflict with it) and is released
    // with them.
    let locks = crate::library::LockOptions {
        command: command.clone(),
        wait: req.wait,
    };
    let mut devices = match LibraryDevices::from_resolved_holding(drive, lock, locks) {
        Ok(d) => d,
        Err(e) => return failed(RunState::Error, e.to_string()),
    };
    // The drive stays locked through the backup and what follows it
    // (export, eject); the line is written before the lock is released,
    // so a job that waited for the drive logs its start after this.
    let done = backup_on(req, catalog, log, notifier, &mut devices);
    log.line(&format!("releasing drive {drive_name}"));
    drop(devices);
    done
}

/// The backup on the locked `devices`, then `export_media_set` or `eject`.
fn backup_on(
    req: &RunRequest,
    catalog: &mut Catalog,
    log: &mut TaskLog,
    notifier: &Notifier,
    devices: &mut LibraryDevices,
) -> (RunState, RunOutcome) {
    let mut options = BackupOptions::new(&req.job.pool, req.job.paths.clone());
    options.id = Some(req.id.clone());
    options.excludes = req.job.exclude.clone();
    options.clock = req.clock;
    options.wait = crate::media_request::WaitForTapes::new(req.wait);
    // The pool's key opens with the passphrase file named in the job,
    // else with $PTAPE_PASSPHRASE (the daemon passes its environment on;
    // systemd: EnvironmentFile=), else only if stored unwrapped.
    options.keys = match &req.job.passphrase_file {
        Some(f) => {
            crate::keys::KeyAccess::new(None, crate::keys::PassphraseOrigin::File(f.clone()))
        }
        None => match crate::keys::KeyAccess::from_cli(None) {
            Ok(k) => k,
            Err(e) => return failed(RunState::Error, e.to_string()),
        },
    };
    log.line(&format!(
        "backing up {} to pool {}",
        req.job
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        req.job.pool
    ));
    let mut events = LogEvents {
        log,
        stop: req.stop.clone(),
        estimate: crate::source::estimate_bytes(&options.sources),
        done: 0,
        reported: 0,
    };
    // Events arising during the backup (tape needed, drive needs cleaning,
    // tape damaged) go to the job's targets as they happen.
    let mut notifying =
        NotifyingEvents::new(&mut events, notifier, Some(req.id.clone())).with_pool(&req.job.pool);
    let result = run_backup(&mut *devices, catalog, &options, &mut notifying);
    drop(notifying);
    let (state, outcome) = match result {
        Ok(r) => {
            log.line(&format!(
                "snapshot {}: {} entries, {} bytes; {} new chunks ({} bytes) on {}; {} chunks already on tape",
                r.snapshot,
                r.entries,
                r.total_bytes,
                r.chunks_written,
                r.bytes_written,
                r.tapes.join(", "),
                r.chunks_deduplicated
            ));
            let mut notes = Vec::new();
            let mut warnings = r.warnings;
            if warnings > 0 {
                notes.push(format!(
                    "finished with {warnings} warning{}",
                    if warnings == 1 { "" } else { "s" }
                ));
            }
            // The snapshot is committed: what is left to do with the
            // tapes cannot fail the job, only add a warning.
            if let Err(why) = after_job(req, catalog, devices, r.media_set, log) {
                log.line(&format!("warning: {why}"));
                notes.push(why);
                warnings += 1;
            }
            let outcome = RunOutcome {
                message: (!notes.is_empty()).then(|| notes.join("; ")),
                snapshot: Some(r.snapshot),
                tapes: r.tapes,
                bytes_written: r.bytes_written,
                warnings,
            };
            let state = if warnings > 0 {
                RunState::Warnings
            } else {
                RunState::Ok
            };
            (state, outcome)
        }
        Err(e) if req.stop.load(Ordering::SeqCst) => {
            failed(RunState::Interrupted, format!("stopped: {e}"))
        }
        Err(e) => failed(RunState::Error, format!("backup failed: {e}")),
    };
    (state, outcome)
}

/// `export_media_set` (a drive in a changer; a standalone drive ejects
/// instead) or `eject` after a successful backup, on the job's locked
/// devices (the changer is locked around each move).
fn after_job(
    req: &RunRequest,
    catalog: &Catalog,
    devices: &mut LibraryDevices,
    set: uuid::Uuid,
    log: &mut TaskLog,
) -> Result<(), String> {
    use crate::devices::TapeDevices;
    if req.job.export_media_set && devices.changer_name().is_some() {
        let now = crate::pool::Moment::new(req.clock.now_epoch(), jiff::tz::TimeZone::system());
        let report = crate::pool::export_media_set(catalog, devices, &set.to_string(), &now)
            .map_err(|e| format!("media set export failed: {e}"))?;
        log.line(&format!(
            "exported media set {set}: {}",
            if report.exported.is_empty() {
                "no tape was online".to_string()
            } else {
                report
                    .exported
                    .iter()
                    .map(|t| format!("{} (slot {})", t.label, t.slot))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
        if !report.not_exported.is_empty() {
            return Err(format!(
                "media set export left {} in the library: {}",
                report
                    .not_exported
                    .iter()
                    .map(|t| t.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                report
                    .not_exported
                    .iter()
                    .map(|t| format!("{}: {}", t.label, t.reason))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
    } else if req.job.eject || req.job.export_media_set {
        devices
            .eject()
            .map_err(|e| format!("eject from drive {} failed: {e}", devices.drive_name()))?;
        log.line(&match devices.changer_name() {
            Some(c) => format!(
                "the job's tapes are back in their slots of changer {c} (drive {} is empty)",
                devices.drive_name()
            ),
            None => format!("ejected the cartridge from drive {}", devices.drive_name()),
        });
    }
    Ok(())
}

/// Data directory of the runs (for callers that print log paths).
pub fn task_log_path(run: i64) -> Result<PathBuf, config::ConfigError> {
    Ok(super::log::log_path(&config::data_dir()?, run))
}

/// Blocks SIGTERM and SIGINT in the calling thread (call it before any
/// other thread starts: threads inherit the mask) and turns them into
/// `stop` from a thread of their own: the run stops after its next
/// barrier commit and records `interrupted`. A second signal exits at
/// once (the next run, or the daemon, then records `interrupted`).
pub fn stop_on_signals(stop: Arc<AtomicBool>) -> std::io::Result<()> {
    use nix::sys::signal::{SigSet, Signal};
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGTERM);
    mask.add(Signal::SIGINT);
    mask.thread_block().map_err(std::io::Error::from)?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || loop {
            let Ok(sig) = mask.wait() else { return };
            if stop.swap(true, Ordering::SeqCst) {
                eprintln!("ptape: {sig} again: exiting now");
                std::process::exit(130);
            }
            eprintln!("ptape: {sig}: stopping at the next safe point (after the chunk being written, committing what was written)");
        })?;
    Ok(())
}
