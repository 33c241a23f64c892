//! Pool allocation under a per-pool lock, and tapes held by the job
//! writing them.
//!
//! Two jobs on one pool must never choose the same cartridge: allocation
//! (choosing the media set and the tape) runs under [`PoolLock`], and the
//! chosen tape is held by the job with a [`MediaLock`] until the job has
//! unloaded it. The next allocation, under the pool lock, skips tapes whose
//! media lock another process holds ([`MediaLock::is_held_elsewhere`]) and
//! takes the next one. Both live beside the catalog
//! (`CATALOGDIR/locks/pool-NAME.lock`, `media-LABEL.lock`): pools and tapes
//! are the catalog's names, and two catalogs do not share them. An
//! in-memory catalog uses the lock directory ([`super::lock_dir`]).

use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use super::{file_name_part, lock_dir, Holder, LockError, LockFile, WaitPolicy};

/// Where the pool and media locks of the catalog at `catalog_path` live.
pub fn locks_dir_for(catalog_path: Option<&Path>) -> Result<PathBuf, LockError> {
    let dir = match catalog_path.and_then(Path::parent) {
        Some(parent) => parent.join("locks"),
        None => return lock_dir(),
    };
    std::fs::create_dir_all(&dir).map_err(|source| LockError::Dir {
        path: dir.clone(),
        source,
        hint: "the catalog's directory must be writable".into(),
    })?;
    Ok(dir)
}

/// Allocation on one pool by this process; released on drop.
#[derive(Debug)]
pub struct PoolLock {
    file: LockFile,
    dir: PathBuf,
}

impl PoolLock {
    /// Lock pool `pool` of the catalog at `catalog_path` (None: in memory).
    pub fn acquire(
        catalog_path: Option<&Path>,
        pool: &str,
        command: &str,
        policy: WaitPolicy,
    ) -> Result<PoolLock, LockError> {
        let dir = locks_dir_for(catalog_path)?;
        let path = dir.join(format!("pool-{}.lock", file_name_part(pool)));
        let file = LockFile::acquire(
            &path,
            &format!("pool {pool}"),
            &Holder::this_process(command),
            policy,
        )?;
        Ok(PoolLock { file, dir })
    }

    /// Hold tape `label` for this job (see [`MediaLock`]). Never waits:
    /// a tape another job holds is not chosen.
    pub fn hold_media(&self, label: &str) -> Result<MediaLock, LockError> {
        MediaLock::acquire_in(&self.dir, label, &self.file.holder().command)
    }

    /// True when another process holds tape `label` (it is being written).
    pub fn media_in_use(&self, label: &str) -> bool {
        MediaLock::is_held_elsewhere(&self.dir, label)
    }

    /// Release now (also done on drop).
    pub fn release(self) {
        self.file.release()
    }
}

/// A tape held by the job writing it; released on drop.
#[derive(Debug)]
pub struct MediaLock {
    file: LockFile,
    label: String,
}

impl MediaLock {
    fn path(dir: &Path, label: &str) -> PathBuf {
        dir.join(format!("media-{}.lock", file_name_part(label)))
    }

    /// Hold tape `label` (in the locks directory `dir`) for `command`.
    pub fn acquire_in(dir: &Path, label: &str, command: &str) -> Result<MediaLock, LockError> {
        let file = LockFile::acquire(
            &Self::path(dir, label),
            &format!("tape {label}"),
            &Holder::this_process(command),
            WaitPolicy::NoWait,
        )?;
        Ok(MediaLock {
            file,
            label: label.to_string(),
        })
    }

    /// True when another process (or another lock of this one) holds tape
    /// `label` now. Probes with a non-blocking shared-free attempt.
    pub fn is_held_elsewhere(dir: &Path, label: &str) -> bool {
        let path = Self::path(dir, label);
        let Ok(file) = std::fs::File::open(&path) else {
            return false;
        };
        matches!(
            Flock::lock(file, FlockArg::LockExclusiveNonblock),
            Err((_, Errno::EWOULDBLOCK))
        )
    }

    /// The tape held.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Release now (also done on drop).
    pub fn release(self) {
        self.file.release()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_lock_is_exclusive_and_held_media_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = dir.path().join("catalog.db");
        let first =
            PoolLock::acquire(Some(&catalog), "daily", "ptape backup", WaitPolicy::NoWait).unwrap();
        let err = PoolLock::acquire(Some(&catalog), "daily", "ptape backup", WaitPolicy::NoWait)
            .unwrap_err();
        assert!(
            err.to_string().starts_with("pool daily is in use by pid "),
            "{err}"
        );
        assert!(PoolLock::acquire(Some(&catalog), "weekly", "x", WaitPolicy::NoWait).is_ok());
        let tape = first.hold_media("PT0001L9").unwrap();
        assert!(first.media_in_use("PT0001L9"));
        assert!(!first.media_in_use("PT0002L9"));
        first.release();
        let second =
            PoolLock::acquire(Some(&catalog), "daily", "ptape backup", WaitPolicy::NoWait).unwrap();
        assert!(second.media_in_use("PT0001L9"));
        tape.release();
        assert!(!second.media_in_use("PT0001L9"));
        assert!(dir.path().join("locks/pool-daily.lock").exists());
    }
}
