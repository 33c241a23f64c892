//! Scheduled backup jobs: their configuration, history, task logs, the
//! scheduling decisions and the daemon that runs them.
//!
//! - [`config`]: `jobs.toml` (what each job backs up, where, when).
//! - [`history`]: runs and job state in the catalog database.
//! - [`log`]: task logs under the data directory.
//! - [`lock`]: one run of a job at a time; dead runs are found by their
//!   free lock.
//! - [`scheduler`]: pure decisions (due, not due, catch-up) over an
//!   instant the caller passes.
//! - [`run`]: one run, the same for `ptape job run` and the daemon.
//! - [`daemon`]: `ptape daemon`, which starts due jobs as child processes.

pub mod config;
pub mod daemon;
pub mod history;
pub mod lock;
pub mod log;
pub mod run;
pub mod scheduler;

use serde::Serialize;

use crate::catalog::{Catalog, CatalogError};
use crate::schedule::Clock;
use config::{JobConfig, JobConfigError, JobsConfig};
use history::{RunRecord, RunState};
use scheduler::Decision;

/// Errors of the job commands.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Config(#[from] JobConfigError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Paths(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Run(#[from] run::RunError),
    #[error("job {job:?} is running (run {run}); wait for it to end before removing the job")]
    Running { job: String, run: i64 },
    #[error("no job run {0} is recorded (ptape job history lists the runs)")]
    UnknownRun(i64),
    #[error(
        "the task log of run {run} is gone ({path}): logs older than --keep-logs days are removed"
    )]
    LogGone { run: i64, path: std::path::PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A job as `ptape job list` and `ptape job show` print it.
#[derive(Debug, Clone, Serialize)]
pub struct JobInfo {
    pub id: String,
    #[serde(flatten)]
    pub config: JobConfig,
    /// Next scheduled run (RFC 3339), none when the schedule has no more
    /// occurrences; `running` jobs show when the run after it is due.
    pub next_run: Option<String>,
    pub last_run: Option<i64>,
    pub last_run_start: Option<String>,
    pub last_run_end: Option<String>,
    pub last_run_state: Option<RunState>,
    pub created: Option<String>,
}

fn rfc3339(epoch: i64) -> String {
    history::format_ms(epoch.saturating_mul(1000)).replace(".000Z", "Z")
}

/// The job's list entry at `now`.
pub fn job_info(
    catalog: &Catalog,
    id: &str,
    job: &JobConfig,
    clock: &Clock,
) -> Result<JobInfo, JobError> {
    let tz = jiff::tz::TimeZone::system();
    let now = clock.now_epoch();
    let state = match history::job_state(catalog, id)? {
        Some(s) => s,
        None => history::note_job(catalog, id, &job.schedule, now)?,
    };
    let last = history::last_run(catalog, id)?;
    let next = job
        .event()
        .ok()
        .and_then(|e| scheduler::next_run(&e, &state, last.as_ref(), &tz));
    Ok(JobInfo {
        id: id.to_string(),
        config: job.clone(),
        next_run: next.map(rfc3339),
        last_run: last.as_ref().map(|r| r.run),
        last_run_start: last.as_ref().map(|r| history::format_ms(r.start_ms)),
        last_run_end: last.as_ref().and_then(|r| r.end_ms.map(history::format_ms)),
        last_run_state: last.as_ref().map(|r| r.state),
        created: Some(rfc3339(state.created)),
    })
}

/// Every configured job with its state (reaping dead runs first).
pub fn list_jobs(catalog: &Catalog, clock: &Clock) -> Result<Vec<JobInfo>, JobError> {
    let jobs = config::load_jobs()?;
    run::reap_dead_runs(catalog, &crate::config::data_dir()?)?;
    jobs.jobs
        .iter()
        .map(|(id, job)| job_info(catalog, id, job, clock))
        .collect()
}

/// Adds a job; its last run time is `now` (it runs at the first
/// occurrence of its schedule after its creation).
pub fn create_job(
    catalog: &Catalog,
    id: &str,
    job: JobConfig,
    clock: &Clock,
) -> Result<(), JobError> {
    let path = config::jobs_path()?;
    let mut jobs = JobsConfig::load_from(&path)?;
    if jobs.jobs.contains_key(id) {
        return Err(JobConfigError::Duplicate(id.to_string()).into());
    }
    let schedule = job.schedule.clone();
    jobs.jobs.insert(id.to_string(), job);
    jobs.save_to(&path)?;
    // A job id used before starts afresh.
    history::forget_job(catalog, id)?;
    history::note_job(catalog, id, &schedule, clock.now_epoch())?;
    Ok(())
}

/// Replaces a job's configuration; a changed schedule counts from now.
pub fn update_job(
    catalog: &Catalog,
    id: &str,
    update: impl FnOnce(&mut JobConfig),
    clock: &Clock,
) -> Result<JobConfig, JobError> {
    let path = config::jobs_path()?;
    let mut jobs = JobsConfig::load_from(&path)?;
    let job = jobs
        .jobs
        .get_mut(id)
        .ok_or_else(|| JobConfigError::Unknown(id.to_string()))?;
    update(job);
    let job = job.clone();
    jobs.save_to(&path)?;
    history::note_job(catalog, id, &job.schedule, clock.now_epoch())?;
    Ok(job)
}

/// Removes a job (not while it runs); its history stays.
pub fn remove_job(catalog: &Catalog, id: &str) -> Result<JobConfig, JobError> {
    let path = config::jobs_path()?;
    let mut jobs = JobsConfig::load_from(&path)?;
    if !jobs.jobs.contains_key(id) {
        return Err(JobConfigError::Unknown(id.to_string()).into());
    }
    let data_dir = crate::config::data_dir()?;
    run::reap_dead_runs(catalog, &data_dir)?;
    let _lock = lock::try_lock_job(&data_dir, id)
        .map_err(run::RunError::from)?
        .ok_or_else(|| JobError::Running {
            job: id.to_string(),
            run: history::last_run(catalog, id)
                .ok()
                .flatten()
                .map_or(0, |r| r.run),
        })?;
    let job = jobs.jobs.remove(id).expect("checked above");
    jobs.save_to(&path)?;
    history::forget_job(catalog, id)?;
    Ok(job)
}

/// The history, newest first (reaping dead runs first).
pub fn job_history(
    catalog: &Catalog,
    job: Option<&str>,
    limit: Option<usize>,
) -> Result<Vec<RunRecord>, JobError> {
    run::reap_dead_runs(catalog, &crate::config::data_dir()?)?;
    Ok(history::runs(catalog, job, limit)?)
}

/// A run's task log.
pub fn task_log(catalog: &Catalog, run: i64) -> Result<String, JobError> {
    if history::run(catalog, run)?.is_none() {
        return Err(JobError::UnknownRun(run));
    }
    let path = log::log_path(&crate::config::data_dir()?, run);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(JobError::LogGone { run, path }),
        Err(source) => Err(JobError::Io { path, source }),
    }
}

/// What the scheduler decides for every job at `now` (jobs whose schedule
/// does not parse are left out: the configuration check rejects them).
pub fn decisions(
    catalog: &Catalog,
    jobs: &JobsConfig,
    now: i64,
    tz: &jiff::tz::TimeZone,
) -> Result<Vec<(String, Decision)>, JobError> {
    let mut out = Vec::new();
    for (id, job) in &jobs.jobs {
        let Ok(event) = job.event() else { continue };
        let state = history::note_job(catalog, id, &job.schedule, now)?;
        let last = history::last_run(catalog, id)?;
        out.push((
            id.clone(),
            scheduler::decide(&event, &state, last.as_ref(), now, tz),
        ));
    }
    Ok(out)
}
