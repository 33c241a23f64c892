//! `ptape job ...` and `ptape daemon`: scheduled backup jobs.

use ptape::lock::WaitPolicy;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use ptape::catalog::Catalog;
use ptape::job::config::{JobConfig, ANY_DRIVE};
use ptape::job::history::{RunRecord, RunState, RunView};
use ptape::job::run::{run_job, RunRequest};
use ptape::job::JobInfo;
use ptape::schedule::Clock;
use tape_cli::output::{opt, KvTable, ListTable, OutputFormat};
use tape_cli::report::FinishedWithWarnings;

#[derive(Debug, Subcommand)]
pub enum JobCmd {
    /// Add a scheduled backup job.
    Create(CreateArgs),
    /// List the jobs: schedule, next run, last run and its state.
    List,
    /// Show one job.
    Show {
        /// Job id.
        id: String,
    },
    /// Change a job (only the options given).
    Update(UpdateArgs),
    /// Remove a job (its history stays).
    Remove {
        /// Job id.
        id: String,
    },
    /// Run a job now, in the foreground (the same run as a scheduled one).
    ///
    /// The global --wait[=SECS] waits for a busy drive and for a tape to be
    /// inserted; by default (--no-wait) the run fails at once naming what is
    /// missing. SIGINT/SIGTERM stop it after the chunk being written (what
    /// was written is committed; the run is interrupted).
    Run(RunArgs),
    /// Past and running runs, newest first.
    History {
        /// Only the runs of this job.
        id: Option<String>,
        /// At most this many runs.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// Print a run's task log (every line the run printed, timestamped).
    Log {
        /// Run number (ptape job history).
        run: i64,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Job id (letters, digits, '-', '_', '.').
    id: String,
    /// When the job runs: a calendar event ('mon..fri 22:00', 'daily',
    /// '*:0/15'; ptape calendar-event shows its next occurrences).
    #[arg(long, value_name = "EVENT")]
    schedule: String,
    /// Media pool to write to.
    #[arg(long)]
    pool: String,
    /// Drive to use, or 'any' for any free drive of the pool's changer
    /// (default: the default drive).
    #[arg(long, value_name = "NAME|any")]
    drive: Option<String>,
    /// Unload the last tape when the job is done.
    #[arg(long, conflicts_with = "export_media_set")]
    eject: bool,
    /// Move the media set's tapes to the export slots when the job is done.
    #[arg(long)]
    export_media_set: bool,
    /// Leave out paths matching this gitignore-style pattern (repeatable).
    #[arg(long = "exclude", value_name = "GLOB")]
    excludes: Vec<String>,
    /// Notification target told when the job finishes (repeatable;
    /// ptape notify list).
    #[arg(long = "notify", value_name = "TARGET")]
    notify: Vec<String>,
    /// A one-line description.
    #[arg(long)]
    comment: Option<String>,
    /// File whose first line is the passphrase of the pool's encryption
    /// key (encrypting pools; read at every run).
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Files and directories to back up.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Job id.
    id: String,
    /// New schedule (the next run counts from now).
    #[arg(long, value_name = "EVENT")]
    schedule: Option<String>,
    /// New pool.
    #[arg(long)]
    pool: Option<String>,
    /// New drive ('any': any free drive of the pool's changer).
    #[arg(long, value_name = "NAME|any")]
    drive: Option<String>,
    /// Use the default drive again.
    #[arg(long, conflicts_with = "drive")]
    default_drive: bool,
    /// Unload the last tape when done (instead of exporting the set).
    #[arg(long, conflicts_with_all = ["export_media_set", "keep_media"])]
    eject: bool,
    /// Export the media set when done (instead of ejecting).
    #[arg(long, conflicts_with = "keep_media")]
    export_media_set: bool,
    /// Neither eject nor export when done.
    #[arg(long)]
    keep_media: bool,
    /// Replace the exclude patterns (repeatable).
    #[arg(long = "exclude", value_name = "GLOB")]
    excludes: Vec<String>,
    /// Remove all exclude patterns.
    #[arg(long, conflicts_with = "excludes")]
    clear_excludes: bool,
    /// Replace the notification targets (repeatable).
    #[arg(long = "notify", value_name = "TARGET")]
    notify: Vec<String>,
    /// Remove all notification targets.
    #[arg(long, conflicts_with = "notify")]
    clear_notify: bool,
    /// New comment ('' removes it).
    #[arg(long)]
    comment: Option<String>,
    /// New passphrase file of the pool's encryption key.
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Use no passphrase file any more.
    #[arg(long, conflicts_with = "passphrase_file")]
    clear_passphrase_file: bool,
    /// Replace the paths to back up.
    paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Job id.
    id: String,
    /// Started by ptape daemon (logged as triggered by the schedule).
    #[arg(long, hide = true)]
    scheduled: bool,
}

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Remove task logs older than this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    keep_logs: u32,
}

/// Absolute paths of existing sources (a scheduled job has no working
/// directory of its own).
fn absolute_sources(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    ptape::stream::walk::check_sources(paths)?;
    paths
        .iter()
        .map(|p| std::path::absolute(p).with_context(|| format!("{}", p.display())))
        .collect()
}

/// A passphrase file as an absolute path; it must exist.
fn absolute_file(path: Option<&Path>) -> Result<Option<PathBuf>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let abs = std::path::absolute(path).with_context(|| format!("{}", path.display()))?;
    std::fs::metadata(&abs).with_context(|| format!("--passphrase-file {}", abs.display()))?;
    Ok(Some(abs))
}

/// `--notify` names must be targets of notify.toml (`ptape notify add`).
fn check_notify(targets: &[String]) -> Result<()> {
    if targets.is_empty() {
        return Ok(());
    }
    let all = ptape::notify::Notifier::from_config()?;
    for name in targets {
        all.select(std::slice::from_ref(name))
            .with_context(|| format!("--notify {name}"))?;
    }
    Ok(())
}

fn check_drive(drive: &Option<String>) -> Result<()> {
    if let Some(d) = drive.as_deref().filter(|d| *d != ANY_DRIVE) {
        let cfg = ptape::config::load_config()?;
        if !cfg.uses_embedded_library() || d != ptape::config::EMBEDDED_DRIVE {
            cfg.drive(d)?;
        }
    }
    Ok(())
}

pub fn job(cmd: JobCmd, out: OutputFormat, wait: WaitPolicy) -> Result<()> {
    let clock = Clock::from_env()?;
    match cmd {
        JobCmd::Create(a) => {
            let catalog = Catalog::open_default()?;
            check_drive(&a.drive)?;
            ptape::pool::get_pool(&catalog, &a.pool)?;
            let job = JobConfig {
                schedule: a.schedule,
                pool: a.pool,
                drive: a.drive,
                paths: absolute_sources(&a.paths)?,
                exclude: a.excludes,
                eject: a.eject,
                export_media_set: a.export_media_set,
                notify: a.notify,
                comment: a.comment,
                passphrase_file: absolute_file(a.passphrase_file.as_deref())?,
            };
            job.check()
                .map_err(|(field, message)| anyhow::anyhow!("--{field}: {message}"))?;
            check_notify(&job.notify)?;
            ptape::job::create_job(&catalog, &a.id, job.clone(), &clock)?;
            let info = ptape::job::job_info(&catalog, &a.id, &job, &clock)?;
            out.print(&info, |i| {
                format!(
                    "created job {} ({}); next run {}",
                    i.id,
                    i.config.schedule,
                    opt(i.next_run.as_ref())
                )
            })
        }
        JobCmd::List => {
            let catalog = Catalog::open_default()?;
            let jobs = ptape::job::list_jobs(&catalog, &clock)?;
            out.print(&jobs, |jobs| {
                if jobs.is_empty() {
                    return "no jobs (ptape job create adds one)".to_string();
                }
                let mut t = ListTable::new(&[
                    "id", "schedule", "pool", "drive", "next run", "last run", "state",
                ]);
                for j in jobs {
                    t.row([
                        j.id.clone(),
                        j.config.schedule.clone(),
                        j.config.pool.clone(),
                        j.config.drive.clone().unwrap_or_else(|| "default".into()),
                        opt(j.next_run.as_ref()),
                        opt(j.last_run_start.as_ref()),
                        opt(j.last_run_state),
                    ]);
                }
                t.render()
            })
        }
        JobCmd::Show { id } => {
            let catalog = Catalog::open_default()?;
            let jobs = ptape::job::config::load_jobs()?;
            ptape::job::run::reap_dead_runs(&catalog, &ptape::config::data_dir()?)?;
            let info = ptape::job::job_info(&catalog, &id, jobs.job(&id)?, &clock)?;
            out.print(&info, show_text)
        }
        JobCmd::Update(a) => {
            let catalog = Catalog::open_default()?;
            check_drive(&a.drive)?;
            if let Some(pool) = &a.pool {
                ptape::pool::get_pool(&catalog, pool)?;
            }
            let paths = if a.paths.is_empty() {
                None
            } else {
                Some(absolute_sources(&a.paths)?)
            };
            // Checked before anything is written.
            let passphrase_file = absolute_file(a.passphrase_file.as_deref())?;
            let mut next = ptape::job::config::load_jobs()?.job(&a.id)?.clone();
            apply_update(&mut next, &a, paths.clone(), passphrase_file.clone());
            next.check()
                .map_err(|(field, message)| anyhow::anyhow!("--{field}: {message}"))?;
            // The names given now (a target removed since the job was
            // created does not block other changes; its runs log it).
            check_notify(&a.notify)?;
            let job = ptape::job::update_job(
                &catalog,
                &a.id,
                |job| apply_update(job, &a, paths, passphrase_file),
                &clock,
            )?;
            let info = ptape::job::job_info(&catalog, &a.id, &job, &clock)?;
            out.print(&info, show_text)
        }
        JobCmd::Remove { id } => {
            let catalog = Catalog::open_default()?;
            ptape::job::remove_job(&catalog, &id)?;
            out.print(&serde_json::json!({ "removed": id }), |_| {
                format!("removed job {id}")
            })
        }
        JobCmd::Run(a) => run(a, clock, out, wait),
        JobCmd::History { id, limit } => {
            let catalog = Catalog::open_default()?;
            if let Some(id) = &id {
                let jobs = ptape::job::config::load_jobs()?;
                if !jobs.jobs.contains_key(id)
                    && ptape::job::history::runs(&catalog, Some(id), Some(1))?.is_empty()
                {
                    bail!("no job named {id:?} and no runs of it (ptape job list shows the jobs)");
                }
            }
            let runs: Vec<RunView> = ptape::job::job_history(&catalog, id.as_deref(), limit)?
                .iter()
                .map(RunRecord::view)
                .collect();
            out.print(&runs, |runs| {
                if runs.is_empty() {
                    return "no runs".to_string();
                }
                let mut t = ListTable::new(&[
                    "run", "job", "start", "end", "state", "snapshot", "tapes", "bytes", "message",
                ]);
                for r in runs {
                    t.row([
                        r.run.to_string(),
                        r.job.clone(),
                        r.start.clone(),
                        opt(r.end.as_ref()),
                        r.state.to_string(),
                        opt(r.snapshot.as_ref()),
                        r.tapes.join(","),
                        r.bytes_written.to_string(),
                        opt(r.message.as_ref()),
                    ]);
                }
                t.render()
            })
        }
        JobCmd::Log { run } => {
            let catalog = Catalog::open_default()?;
            let text = ptape::job::task_log(&catalog, run)?;
            if out.is_json() {
                let lines: Vec<&str> = text.lines().collect();
                return out.print(&serde_json::json!({ "run": run, "lines": lines }), |_| {
                    String::new()
                });
            }
            print!("{text}");
            Ok(())
        }
    }
}

fn apply_update(
    job: &mut JobConfig,
    a: &UpdateArgs,
    paths: Option<Vec<PathBuf>>,
    passphrase_file: Option<PathBuf>,
) {
    if passphrase_file.is_some() {
        job.passphrase_file = passphrase_file;
    }
    if a.clear_passphrase_file {
        job.passphrase_file = None;
    }
    if let Some(s) = &a.schedule {
        job.schedule = s.clone();
    }
    if let Some(p) = &a.pool {
        job.pool = p.clone();
    }
    if a.drive.is_some() {
        job.drive = a.drive.clone();
    }
    if a.default_drive {
        job.drive = None;
    }
    if a.eject {
        job.eject = true;
        job.export_media_set = false;
    }
    if a.export_media_set {
        job.export_media_set = true;
        job.eject = false;
    }
    if a.keep_media {
        job.eject = false;
        job.export_media_set = false;
    }
    if !a.excludes.is_empty() {
        job.exclude = a.excludes.clone();
    }
    if a.clear_excludes {
        job.exclude.clear();
    }
    if !a.notify.is_empty() {
        job.notify = a.notify.clone();
    }
    if a.clear_notify {
        job.notify.clear();
    }
    if let Some(c) = &a.comment {
        job.comment = (!c.is_empty()).then(|| c.clone());
    }
    if let Some(p) = paths {
        job.paths = p;
    }
}

fn show_text(i: &JobInfo) -> String {
    let mut t = KvTable::new();
    t.row("id", &i.id);
    t.row("schedule", &i.config.schedule);
    t.row("pool", &i.config.pool);
    t.row(
        "drive",
        i.config.drive.clone().unwrap_or_else(|| "default".into()),
    );
    t.row(
        "paths",
        i.config
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    );
    if !i.config.exclude.is_empty() {
        t.row("exclude", i.config.exclude.join(", "));
    }
    t.row(
        "when done",
        if i.config.export_media_set {
            "export the media set"
        } else if i.config.eject {
            "eject"
        } else {
            "keep the tapes in the library"
        },
    );
    if !i.config.notify.is_empty() {
        t.row("notify", i.config.notify.join(", "));
    }
    t.opt_row("comment", i.config.comment.as_ref());
    t.row("next run", opt(i.next_run.as_ref()));
    t.opt_row("last run", i.last_run);
    t.opt_row("last run start", i.last_run_start.as_ref());
    t.opt_row("last run end", i.last_run_end.as_ref());
    t.opt_row("last run state", i.last_run_state);
    t.opt_row("created", i.created.as_ref());
    t.render()
}

fn run(a: RunArgs, clock: Clock, out: OutputFormat, wait: WaitPolicy) -> Result<()> {
    if a.scheduled && !ptape::job::daemon::die_with_daemon() {
        bail!("the daemon that started this job is gone; not running it");
    }
    let jobs = ptape::job::config::load_jobs()?;
    let mut req = RunRequest::new(&a.id, jobs.job(&a.id)?.clone());
    req.scheduled = a.scheduled;
    req.clock = clock;
    req.wait = wait;
    ptape::job::run::stop_on_signals(req.stop.clone())?;
    let record = run_job(&req)?;
    let view = record.view();
    out.print(&view, |v| {
        format!(
            "run {} of job {}: {}{}{}",
            v.run,
            v.job,
            v.state,
            v.snapshot
                .as_ref()
                .map(|s| format!(", snapshot {s} on {}", v.tapes.join(", ")))
                .unwrap_or_default(),
            v.message
                .as_ref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        )
    })?;
    match record.state {
        RunState::Ok => Ok(()),
        RunState::Warnings => Err(FinishedWithWarnings {
            job: "job",
            count: record.warnings,
        }
        .into()),
        state => bail!(
            "run {} of job {} {}: {}",
            record.run,
            record.job,
            if state == RunState::Interrupted {
                "was interrupted"
            } else {
                "failed"
            },
            record.message.unwrap_or_default()
        ),
    }
}

/// `wait`: the global --wait/--no-wait of `ptape daemon` (neither: the
/// jobs wait as long as it takes).
pub fn daemon(args: DaemonArgs, wait: WaitPolicy) -> Result<()> {
    let options = ptape::job::daemon::DaemonOptions {
        exe: std::env::current_exe().context("cannot find the ptape binary")?,
        keep_logs: args.keep_logs,
        tick: ptape::job::daemon::tick_from_env()?,
        wait,
    };
    ptape::job::daemon::run_daemon(&options)?;
    Ok(())
}
