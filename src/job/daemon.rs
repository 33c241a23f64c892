//! `ptape daemon`: starts due jobs, in the foreground, logging to stderr
//! (one line per event, no timestamps: the journal adds them).
//!
//! - Wakes at every wall-clock minute (and on signals and child exits),
//!   asks [`super::scheduler`] which jobs are due and starts each as a
//!   child process `ptape job run ID --scheduled --wait[=SECS]|--no-wait`
//!   (the daemon's [`DaemonOptions::wait`]): a crashing job cannot take the
//!   daemon or other jobs with it. Children of one daemon run in
//!   parallel; each reserves its drive itself and waits while it is busy
//!   (`drive = "any"`: the first free drive of the pool's changer), and
//!   waits for a tape that must be inserted.
//! - Never starts a job whose previous run still goes on.
//! - Reloads `jobs.toml` on SIGHUP and when the file changes; a file that
//!   does not check keeps the previous jobs (the error is logged).
//! - SIGTERM or SIGINT: starts nothing new, passes SIGTERM to the running
//!   jobs (each stops after its next barrier commit and records
//!   `interrupted`, or finishes), waits for them and exits.
//! - Children die with the daemon (`PR_SET_PDEATHSIG`): after a crash or
//!   `kill -9` no job runs on unsupervised; the next start records their
//!   runs as `interrupted` (their job locks are free).
//! - One daemon per data directory (`DATA/jobs/daemon.lock`); its pid is
//!   in `DATA/jobs/daemon.pid` for `ptape status`.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::Pid;

use super::config::{jobs_path, JobsConfig};
use super::scheduler::Decision;
use super::{decisions, run, JobError};
use crate::catalog::Catalog;
use crate::lock::WaitPolicy;
use crate::schedule::Clock;

/// Environment variable a child job gets: the daemon's pid. The child
/// arranges to be killed when that process dies.
pub const DAEMON_PID_VAR: &str = "PTAPE_DAEMON_PID";
/// Test-only: wake every this many seconds (fractions allowed) instead
/// of at each wall-clock minute. Schedules still follow the real clock.
pub const TEST_TICK_VAR: &str = "PTAPE_TEST_TICK";

/// Settings of the daemon.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// The `ptape` binary started for each job.
    pub exe: PathBuf,
    /// Task logs older than this many days are removed.
    pub keep_logs: u32,
    /// Wake interval instead of each wall-clock minute (tests).
    pub tick: Option<Duration>,
    /// How long scheduled runs wait for a busy drive or a tape to be
    /// inserted (`ptape daemon --wait[=SECS]|--no-wait`; by default as long
    /// as it takes).
    pub wait: WaitPolicy,
}

/// Errors of starting the daemon.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("a ptape daemon already runs for {data_dir} (pid {pid})")]
    AlreadyRunning { data_dir: PathBuf, pid: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("signal handling: {0}")]
    Signals(#[source] Errno),
    #[error(transparent)]
    Job(#[from] Box<JobError>),
    #[error("invalid {TEST_TICK_VAR} {0:?}: give seconds, e.g. 0.5")]
    Tick(String),
}

/// The test tick from [`TEST_TICK_VAR`], if set.
pub fn tick_from_env() -> Result<Option<Duration>, DaemonError> {
    match std::env::var(TEST_TICK_VAR) {
        Ok(t) if !t.is_empty() => t
            .parse::<f64>()
            .ok()
            .filter(|s| *s > 0.0 && *s <= 3600.0)
            .map(|s| Some(Duration::from_secs_f64(s)))
            .ok_or(DaemonError::Tick(t)),
        _ => Ok(None),
    }
}

fn daemon_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("jobs")
}

/// Whether a daemon runs for `data_dir`, and its pid.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DaemonStatus {
    pub running: bool,
    pub pid: Option<u32>,
}

/// Looks at the daemon lock of `data_dir`.
pub fn daemon_status(data_dir: &Path) -> Result<DaemonStatus, DaemonError> {
    let dir = daemon_dir(data_dir);
    let lock_path = dir.join("daemon.lock");
    let file = match File::open(&lock_path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(DaemonStatus {
                running: false,
                pid: None,
            })
        }
        Err(source) => {
            return Err(DaemonError::Io {
                path: lock_path,
                source,
            })
        }
    };
    match Flock::lock(file, FlockArg::LockSharedNonblock) {
        Ok(_) => Ok(DaemonStatus {
            running: false,
            pid: None,
        }),
        Err(_) => Ok(DaemonStatus {
            running: true,
            pid: std::fs::read_to_string(dir.join("daemon.pid"))
                .ok()
                .and_then(|p| p.trim().parse().ok()),
        }),
    }
}

/// Called first by a job the daemon started: die when the daemon dies.
/// Returns false when the daemon is already gone (the job must not run).
pub fn die_with_daemon() -> bool {
    let Some(pid) = std::env::var(DAEMON_PID_VAR)
        .ok()
        .and_then(|p| p.parse::<i32>().ok())
    else {
        return true;
    };
    if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() {
        return false;
    }
    // The daemon may have died before the line above took effect.
    nix::unistd::getppid() == Pid::from_raw(pid)
}

fn job_err(e: impl Into<JobError>) -> DaemonError {
    DaemonError::Job(Box::new(e.into()))
}

fn say(message: &str) {
    eprintln!("ptape daemon: {message}");
}

struct Running {
    child: Child,
    job: String,
}

/// Runs the daemon until SIGTERM or SIGINT (see the module documentation).
pub fn run_daemon(options: &DaemonOptions) -> Result<(), DaemonError> {
    let data_dir = crate::config::data_dir().map_err(job_err)?;
    let dir = daemon_dir(&data_dir);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DaemonError::Io { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let lock_path = dir.join("daemon.lock");
    let lock_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io(&lock_path))?;
    let _lock = Flock::lock(lock_file, FlockArg::LockExclusiveNonblock).map_err(|_| {
        DaemonError::AlreadyRunning {
            data_dir: data_dir.clone(),
            pid: std::fs::read_to_string(dir.join("daemon.pid"))
                .map(|p| p.trim().to_string())
                .unwrap_or_else(|_| "unknown".into()),
        }
    })?;
    let pid_path = dir.join("daemon.pid");
    std::fs::write(&pid_path, format!("{}\n", std::process::id())).map_err(io(&pid_path))?;

    // Signals arrive through a descriptor: blocked here (before any
    // thread exists), read in the loop. Children start with an empty mask.
    let mut mask = SigSet::empty();
    for s in [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGCHLD,
    ] {
        mask.add(s);
    }
    mask.thread_block().map_err(DaemonError::Signals)?;
    let signals =
        SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK).map_err(DaemonError::Signals)?;

    let clock = Clock::System;
    let catalog =
        Catalog::open(&crate::config::catalog_path().map_err(job_err)?).map_err(job_err)?;
    let reaped = run::reap_dead_runs(&catalog, &data_dir).map_err(job_err)?;
    for r in &reaped {
        say(&format!(
            "run {r} was left running by a process that died: recorded as interrupted"
        ));
    }
    let path = jobs_path().map_err(job_err)?;
    let mut jobs = JobsConfig::load_from(&path).map_err(job_err)?;
    let mut jobs_mtime = mtime(&path);
    say(&format!(
        "started (pid {}), {} job{} from {}; jobs wait for busy drives and missing tapes: {}",
        std::process::id(),
        jobs.jobs.len(),
        if jobs.jobs.len() == 1 { "" } else { "s" },
        path.display(),
        match options.wait.limit() {
            None => "as long as it takes".to_string(),
            Some(d) if d.is_zero() => "no (--no-wait)".to_string(),
            Some(d) => format!("at most {}", crate::lock::wait::format_wait(d)),
        }
    ));
    prune(&data_dir, options.keep_logs, &clock);
    let mut last_prune = clock.now_epoch();
    let mut running: BTreeMap<String, Running> = BTreeMap::new();
    let mut stopping = false;
    let tz = jiff::tz::TimeZone::system();
    loop {
        reap_children(&mut running);
        if stopping {
            if running.is_empty() {
                say("stopped");
                return Ok(());
            }
        } else {
            let reload = mtime(&path) != jobs_mtime;
            if reload {
                jobs_mtime = mtime(&path);
                reload_jobs(&path, &mut jobs, "changed");
            }
            let now = clock.now_epoch();
            match decisions(&catalog, &jobs, now, &tz) {
                Ok(list) => {
                    for (id, decision) in list {
                        if let Decision::Due { occurrence } = decision {
                            if running.contains_key(&id) {
                                continue;
                            }
                            match start_job(options, &id) {
                                Ok(child) => {
                                    say(&format!(
                                        "job {id}: started (pid {}) for {}",
                                        child.id(),
                                        super::history::format_ms(occurrence * 1000)
                                    ));
                                    running.insert(id.clone(), Running { child, job: id });
                                }
                                Err(e) => say(&format!("job {id}: cannot start: {e}")),
                            }
                        }
                    }
                }
                Err(e) => say(&format!("cannot read the job states: {e}")),
            }
            if now - last_prune >= 3600 {
                prune(&data_dir, options.keep_logs, &clock);
                last_prune = now;
            }
        }
        // Sleep until the next minute (or tick), a signal or a child's end.
        let timeout = sleep_time(options.tick);
        let mut fds = [PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, timeout) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(DaemonError::Signals(e)),
        }
        while let Ok(Some(info)) = signals.read_signal() {
            match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGHUP) if !stopping => {
                    jobs_mtime = mtime(&path);
                    reload_jobs(&path, &mut jobs, "SIGHUP");
                }
                Ok(s @ (Signal::SIGTERM | Signal::SIGINT)) if !stopping => {
                    stopping = true;
                    say(&format!(
                        "{s}: starting nothing new; stopping {} running job{}",
                        running.len(),
                        if running.len() == 1 { "" } else { "s" }
                    ));
                    for r in running.values() {
                        let _ = kill(Pid::from_raw(r.child.id() as i32), Signal::SIGTERM);
                    }
                }
                _ => {}
            }
        }
    }
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn reload_jobs(path: &Path, jobs: &mut JobsConfig, why: &str) {
    match JobsConfig::load_from(path) {
        Ok(new) => {
            say(&format!(
                "reloaded {} ({why}): {} job{}",
                path.display(),
                new.jobs.len(),
                if new.jobs.len() == 1 { "" } else { "s" }
            ));
            *jobs = new;
        }
        Err(e) => say(&format!("keeping the previous jobs: {e}")),
    }
}

fn prune(data_dir: &Path, keep_days: u32, clock: &Clock) {
    match super::log::prune_logs(data_dir, keep_days, clock.now_epoch()) {
        Ok(0) => {}
        Ok(n) => say(&format!(
            "removed {n} task logs older than {keep_days} days"
        )),
        Err(e) => say(&format!("cannot remove old task logs: {e}")),
    }
}

/// Time to the next wall-clock minute, or the test tick.
fn sleep_time(tick: Option<Duration>) -> Duration {
    if let Some(t) = tick {
        return t;
    }
    let ms = jiff::Timestamp::now().as_millisecond().rem_euclid(60_000);
    // A little past the minute, so the minute has surely begun.
    Duration::from_millis((60_000 - ms) as u64 + 50)
}

/// The `--wait`/`--no-wait` argument that gives a child `policy`.
pub fn wait_arg(policy: WaitPolicy) -> String {
    match policy.limit() {
        None => "--wait".to_string(),
        Some(d) if d.is_zero() => "--no-wait".to_string(),
        // Rounded up: a limit below a second still waits.
        Some(d) => format!("--wait={}", d.as_secs() + u64::from(d.subsec_nanos() > 0)),
    }
}

fn start_job(options: &DaemonOptions, id: &str) -> std::io::Result<Child> {
    Command::new(&options.exe)
        .args(["job", "run", id, "--scheduled", &wait_arg(options.wait)])
        .env(DAEMON_PID_VAR, std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
}

fn reap_children(running: &mut BTreeMap<String, Running>) {
    running.retain(|_, r| match r.child.try_wait() {
        Ok(Some(status)) => {
            let outcome = match status.code() {
                Some(0) => "ok".to_string(),
                Some(3) => "finished with warnings".to_string(),
                Some(c) => format!("failed (exit code {c})"),
                None => format!("ended by {status}"),
            };
            say(&format!("job {}: {outcome}", r.job));
            false
        }
        Ok(None) => true,
        Err(e) => {
            say(&format!(
                "job {}: cannot wait for pid {}: {e}",
                r.job,
                r.child.id()
            ));
            false
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeps_to_the_next_minute_or_the_tick() {
        assert_eq!(
            sleep_time(Some(Duration::from_millis(300))),
            Duration::from_millis(300)
        );
        let t = sleep_time(None);
        assert!(t > Duration::from_millis(50) && t <= Duration::from_millis(60_050));
    }

    #[test]
    fn no_daemon_without_its_lock() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            daemon_status(dir.path()).unwrap(),
            DaemonStatus {
                running: false,
                pid: None
            }
        );
        std::fs::create_dir_all(daemon_dir(dir.path())).unwrap();
        let f = File::create(daemon_dir(dir.path()).join("daemon.lock")).unwrap();
        std::fs::write(daemon_dir(dir.path()).join("daemon.pid"), "4242\n").unwrap();
        let held = Flock::lock(f, FlockArg::LockExclusiveNonblock).unwrap();
        assert_eq!(
            daemon_status(dir.path()).unwrap(),
            DaemonStatus {
                running: true,
                pid: Some(4242)
            }
        );
        drop(held);
        assert!(!daemon_status(dir.path()).unwrap().running);
    }
}
