//! Per-job locks: a run holds its job's lock (an exclusive `flock` on
//! `DATA/jobs/locks/ID.lock`) from before its history row is written until
//! its outcome is recorded. So one job never runs twice at once, and a run
//! recorded `running` whose lock is free belongs to a process that died
//! (the kernel drops a dead process's `flock`).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// A held job lock; dropping it releases the lock.
#[derive(Debug)]
pub struct JobLock {
    _lock: Flock<File>,
    pub path: PathBuf,
}

/// Errors of taking a job lock.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("job {job:?} is already running (lock {path} held)")]
    Busy { job: String, path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Directory of the job locks.
pub fn locks_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("jobs").join("locks")
}

/// Takes the lock of `job` without waiting; `Ok(None)` when another
/// process holds it.
pub fn try_lock_job(data_dir: &Path, job: &str) -> Result<Option<JobLock>, LockError> {
    let dir = locks_dir(data_dir);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LockError::Io { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let path = dir.join(format!("{job}.lock"));
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(Some(JobLock { _lock: lock, path })),
        Err((_, Errno::EWOULDBLOCK)) => Ok(None),
        Err((_, e)) => Err(LockError::Io {
            path,
            source: std::io::Error::from(e),
        }),
    }
}

/// Takes the lock of `job`, failing when it is held.
pub fn lock_job(data_dir: &Path, job: &str) -> Result<JobLock, LockError> {
    try_lock_job(data_dir, job)?.ok_or_else(|| LockError::Busy {
        job: job.to_string(),
        path: locks_dir(data_dir).join(format!("{job}.lock")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_lock_is_exclusive_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock_job(dir.path(), "a").unwrap();
        assert!(try_lock_job(dir.path(), "a").unwrap().is_none());
        let err = lock_job(dir.path(), "a").unwrap_err().to_string();
        assert!(err.contains("already running"), "{err}");
        assert!(try_lock_job(dir.path(), "b").unwrap().is_some());
        drop(held);
        assert!(try_lock_job(dir.path(), "a").unwrap().is_some());
    }
}
