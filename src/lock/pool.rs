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
//!
//! A media set being read (a restore) is registered with a shared
//! [`SetReadLock`] on `media-set-UUID.lock`; any number of readers share
//! it. A backup reusing a tape of an expired set takes the exclusive
//! [`SetReuseLock`] without waiting while it forgets the set: held by a
//! reader, the tape is skipped (the allocation planner skips such sets up
//! front, [`set_being_read`]). A reader that finds the set gone from the
//! catalog after taking its lock stops before reading a tape.

use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use uuid::Uuid;

use super::{file_name_part, lock_dir, Holder, HolderText, LockError, LockFile, WaitPolicy};

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

fn set_lock_path(dir: &Path, set: Uuid) -> PathBuf {
    dir.join(format!("media-set-{set}.lock"))
}

fn open_set_lock(path: &Path) -> Result<std::fs::File, LockError> {
    super::open_lock_file(path).map_err(|source| LockError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Media set `set` is being read by this process (a restore); released
/// on drop. Shared: many readers hold it at once. While any is held, no
/// backup reuses the set's tapes.
#[derive(Debug)]
pub struct SetReadLock {
    _lock: Flock<std::fs::File>,
    set: Uuid,
}

/// How long a reader waits while a backup holds [`SetReuseLock`] (it is
/// held only while the set is forgotten in the catalog, or for the moment
/// of a [`set_being_read`] probe).
pub const SET_READ_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

impl SetReadLock {
    /// Register a reader of `set` of the catalog at `catalog_path` (None:
    /// in memory). Waits up to [`SET_READ_WAIT`] while a backup forgets
    /// the set; the caller must then check the set is still in the catalog.
    pub fn acquire(catalog_path: Option<&Path>, set: Uuid) -> Result<SetReadLock, LockError> {
        let dir = locks_dir_for(catalog_path)?;
        let path = set_lock_path(&dir, set);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let polled =
            WaitPolicy::Wait(Some(SET_READ_WAIT)).poll(super::LOCK_POLL_INTERVAL, || {
                let file = open_set_lock(&path)?;
                match Flock::lock(file, FlockArg::LockSharedNonblock) {
                    Ok(lock) => Ok(Some(lock)),
                    Err((_, Errno::EWOULDBLOCK)) => Ok(None),
                    Err((_, errno)) => Err(io(std::io::Error::from(errno))),
                }
            })?;
        match polled {
            super::Polled::Ready(lock) => Ok(SetReadLock { _lock: lock, set }),
            super::Polled::GaveUp { waited } => Err(LockError::TimedOut {
                what: format!("media set {set}"),
                holder: HolderText(super::read_holder(&path)),
                waited,
            }),
        }
    }

    /// The set read.
    pub fn set(&self) -> Uuid {
        self.set
    }
}

/// A backup forgets media set `set` to reuse its tapes; released on drop.
#[derive(Debug)]
pub struct SetReuseLock {
    _file: LockFile,
}

impl SetReuseLock {
    /// Take the set for reuse, never waiting: `Err` (busy) while a reader
    /// holds it. `dir`: the catalog's locks directory ([`locks_dir_for`]).
    pub fn acquire_in(dir: &Path, set: Uuid, command: &str) -> Result<SetReuseLock, LockError> {
        let file = LockFile::acquire(
            &set_lock_path(dir, set),
            &format!("media set {set} (read by a restore)"),
            &Holder::this_process(command),
            WaitPolicy::NoWait,
        )?;
        Ok(SetReuseLock { _file: file })
    }
}

/// True when a reader holds media set `set` (or a backup is forgetting
/// it) now. `dir`: the catalog's locks directory ([`locks_dir_for`]).
pub fn set_being_read(dir: &Path, set: Uuid) -> bool {
    let Ok(file) = std::fs::File::open(set_lock_path(dir, set)) else {
        return false;
    };
    matches!(
        Flock::lock(file, FlockArg::LockExclusiveNonblock),
        Err((_, Errno::EWOULDBLOCK))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_share_a_set_and_keep_reuse_out() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = dir.path().join("catalog.db");
        let locks = locks_dir_for(Some(&catalog)).unwrap();
        let set = Uuid::new_v4();
        let other = Uuid::new_v4();
        assert!(!set_being_read(&locks, set));
        let first = SetReadLock::acquire(Some(&catalog), set).unwrap();
        let second = SetReadLock::acquire(Some(&catalog), set).unwrap();
        assert_eq!(first.set(), set);
        assert!(set_being_read(&locks, set));
        assert!(!set_being_read(&locks, other));
        let err = SetReuseLock::acquire_in(&locks, set, "ptape backup").unwrap_err();
        assert!(err.is_busy(), "{err}");
        drop(first);
        assert!(set_being_read(&locks, set));
        assert!(SetReuseLock::acquire_in(&locks, set, "ptape backup").is_err());
        drop(second);
        assert!(!set_being_read(&locks, set));
        let reuse = SetReuseLock::acquire_in(&locks, set, "ptape backup").unwrap();
        assert!(set_being_read(&locks, set));
        drop(reuse);
        assert!(SetReadLock::acquire(Some(&catalog), set).is_ok());
    }

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
