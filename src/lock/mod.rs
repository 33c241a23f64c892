//! Exclusive use of devices and pools between processes.
//!
//! - [`WaitPolicy`] ([`wait`]): how long a command waits for a busy device
//!   or a cartridge an operator must insert (`--wait[=SECS]`, `--no-wait`).
//! - [`DeviceLock`] ([`device`]): one lock per drive or changer, keyed by
//!   its serial number, so every name of one device (`/dev/nst0`,
//!   `/dev/sg1`, a `/dev/tape/by-id` link) shares it. `pmt`, `pmtx` and
//!   `ptape` hold it for the whole command or job.
//! - [`PoolLock`] ([`pool`]): pool allocation runs under a per-pool lock,
//!   and a tape chosen by a running job is held by it
//!   ([`pool::MediaLock`]), so a concurrent job on the pool takes the next one.
//!
//! Locks are `flock(2)` on files in the lock directory ([`lock_dir`]):
//! `$PTAPE_LOCK_DIR`, else `/run/lock/ptape` (created world-writable and
//! sticky, like `/run/lock`). The kernel drops a `flock` when its holder
//! dies, so a lock of a killed process is never stale. The holder writes
//! its pid, command, command line and start time into the file; a second
//! user reads them to say who holds the device. Lock files are never
//! removed (removing a file another process is about to lock would let two
//! processes hold "the" lock).

pub mod device;
pub mod pool;
pub mod wait;

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

pub use device::{DeviceLock, DeviceRole};
pub use pool::{set_being_read, MediaLock, PoolLock, SetReadLock, SetReuseLock};
pub use wait::{Polled, WaitPolicy};

/// Environment variable overriding the lock directory (tests, non-root
/// setups with their own devices).
pub const LOCK_DIR_ENV: &str = "PTAPE_LOCK_DIR";
/// The lock directory on a system with `/run/lock` (FHS 3.0).
pub const DEFAULT_LOCK_DIR: &str = "/run/lock/ptape";
/// How often a waiting command tries a busy lock again.
pub const LOCK_POLL_INTERVAL: Duration = Duration::from_millis(200);

/// What this process is and how it waits, set once by the command-line
/// front end ([`set_process_defaults`]) so every lock the process takes
/// records the command and follows `--wait` without threading them
/// through every call.
static PROCESS_DEFAULTS: std::sync::OnceLock<(String, WaitPolicy)> = std::sync::OnceLock::new();

/// Set the command recorded in lock files (`ptape backup`) and the wait
/// policy of this process's locks and waits (`--wait`). First call wins.
pub fn set_process_defaults(command: &str, wait: WaitPolicy) {
    let _ = PROCESS_DEFAULTS.set((command.to_string(), wait));
}

/// The command set by [`set_process_defaults`], else the program's name.
pub fn process_command() -> String {
    if let Some((command, _)) = PROCESS_DEFAULTS.get() {
        return command.clone();
    }
    std::env::args()
        .next()
        .and_then(|a| {
            Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "ptape".into())
}

/// The wait policy set by [`set_process_defaults`] (default: no wait).
pub fn process_wait() -> WaitPolicy {
    PROCESS_DEFAULTS.get().map(|(_, w)| *w).unwrap_or_default()
}

/// Errors of taking a lock.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Held by another process, and the policy does not wait.
    #[error("{what} is in use by {holder}")]
    Busy { what: String, holder: HolderText },
    /// Still held when the policy's wait ran out.
    #[error("{what} is in use by {holder}; gave up after waiting {}", wait::format_wait(*.waited))]
    TimedOut {
        what: String,
        holder: HolderText,
        waited: Duration,
    },
    /// The lock directory cannot be used.
    #[error("lock directory {}: {source}; {hint}", .path.display())]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
        hint: String,
    },
    /// A lock file cannot be opened, locked or written.
    #[error("lock file {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The device to lock cannot be identified.
    #[error("cannot identify {what}: {source}")]
    Identify {
        what: String,
        #[source]
        source: Box<pbs_tape::scsi::ScsiError>,
    },
}

impl LockError {
    /// True for a lock held by someone else ([`LockError::Busy`],
    /// [`LockError::TimedOut`]).
    pub fn is_busy(&self) -> bool {
        matches!(self, LockError::Busy { .. } | LockError::TimedOut { .. })
    }
}

/// Who holds a lock, as recorded in its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    /// What runs: `ptape backup`, `pmt write`.
    pub command: String,
    /// The whole command line.
    #[serde(default)]
    pub cmdline: String,
    /// Start of holding, seconds since the epoch (UTC).
    pub since: i64,
}

impl Holder {
    /// This process, running `command` (`ptape backup`), from now.
    pub fn this_process(command: &str) -> Holder {
        Holder {
            pid: std::process::id(),
            command: command.to_string(),
            cmdline: std::env::args().collect::<Vec<_>>().join(" "),
            since: jiff::Timestamp::now().as_second(),
        }
    }

    /// `since` in local time: `12:01:07` today, else `2026-12-01 12:01:07`.
    pub fn since_text(&self) -> String {
        let tz = jiff::tz::TimeZone::system();
        let Ok(ts) = jiff::Timestamp::from_second(self.since) else {
            return self.since.to_string();
        };
        let then = ts.to_zoned(tz.clone());
        let today = jiff::Timestamp::now().to_zoned(tz).date();
        if then.date() == today {
            then.strftime("%H:%M:%S").to_string()
        } else {
            then.strftime("%Y-%m-%d %H:%M:%S").to_string()
        }
    }
}

/// The holder of a busy lock for messages: `pid 4711 (ptape backup,
/// since 12:01:07)`, or `another process` when it recorded nothing (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderText(pub Option<Holder>);

impl std::fmt::Display for HolderText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(h) => write!(f, "pid {} ({}, since {})", h.pid, h.command, h.since_text()),
            None => f.write_str("another process"),
        }
    }
}

/// The lock directory: `$PTAPE_LOCK_DIR` when set, else
/// [`DEFAULT_LOCK_DIR`]; created when missing. Where `/run/lock` does not
/// exist at all (a container without it), `/tmp/ptape-lock` is used, which
/// every user of the host shares as well. A `/run/lock` that exists but
/// cannot be written is an error naming the fix: ptape never falls back to
/// a directory other users would not see, since two lock directories are
/// no lock at all.
pub fn lock_dir() -> Result<PathBuf, LockError> {
    if let Some(dir) = std::env::var_os(LOCK_DIR_ENV).filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        ensure_dir(&dir, false).map_err(|source| LockError::Dir {
            path: dir.clone(),
            source,
            hint: format!("create it or point ${LOCK_DIR_ENV} at a writable directory"),
        })?;
        return Ok(dir);
    }
    let default = PathBuf::from(DEFAULT_LOCK_DIR);
    let parent = default.parent().unwrap_or(Path::new("/run"));
    let dir = if parent.is_dir() {
        default
    } else {
        std::env::temp_dir().join("ptape-lock")
    };
    ensure_dir(&dir, true).map_err(|source| LockError::Dir {
        path: dir.clone(),
        source,
        hint: format!(
            "create it once as root (mkdir -m 1777 {}; the systemd-tmpfiles entry \
             'd {} 1777 root root -' keeps it across reboots), or set ${LOCK_DIR_ENV} \
             to a directory every user of the devices can write",
            dir.display(),
            dir.display()
        ),
    })?;
    Ok(dir)
}

/// Create `dir` when missing; `shared`: world-writable and sticky (1777).
fn ensure_dir(dir: &Path, shared: bool) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    match std::fs::create_dir_all(dir) {
        Ok(()) => {
            if shared {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o1777))?;
            }
            Ok(())
        }
        Err(_) if dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// A name usable as a lock file name: letters, digits, `-`, `_` and `.`
/// kept, everything else as `_XX` (hex), so distinct names stay distinct.
pub fn file_name_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'.' {
            out.push(b as char);
        } else {
            out.push_str(&format!("_{b:02x}"));
        }
    }
    if out.is_empty() || out.starts_with('.') {
        out.insert(0, '_');
    }
    out
}

/// An exclusive `flock` on a lock file, with the holder recorded in it.
/// Dropping it clears the record and releases the lock.
#[derive(Debug)]
pub struct LockFile {
    lock: Option<Flock<File>>,
    path: PathBuf,
    holder: Holder,
}

impl LockFile {
    /// Take the lock on `path` for `holder`, waiting as `policy` says.
    /// `what` names the locked thing in messages (`drive lto0 (/dev/sg3,
    /// serial X)`). While waiting, one warning says who holds it.
    pub fn acquire(
        path: &Path,
        what: &str,
        holder: &Holder,
        policy: WaitPolicy,
    ) -> Result<LockFile, LockError> {
        let io = |source| LockError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut warned = false;
        let polled = policy.poll(LOCK_POLL_INTERVAL, || {
            let file = open_lock_file(path).map_err(io)?;
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => Ok(Some(lock)),
                Err((_, Errno::EWOULDBLOCK)) => {
                    if policy.waits() && !warned {
                        warned = true;
                        tracing::warn!(
                            "{what} is in use by {}; waiting ({policy})",
                            HolderText(read_holder(path))
                        );
                    }
                    Ok(None)
                }
                Err((_, errno)) => Err(io(std::io::Error::from(errno))),
            }
        })?;
        match polled {
            Polled::Ready(mut lock) => {
                write_holder(&mut lock, holder).map_err(io)?;
                Ok(LockFile {
                    lock: Some(lock),
                    path: path.to_path_buf(),
                    holder: holder.clone(),
                })
            }
            Polled::GaveUp { waited } => {
                let holder = HolderText(read_holder(path));
                let what = what.to_string();
                Err(if policy.waits() {
                    LockError::TimedOut {
                        what,
                        holder,
                        waited,
                    }
                } else {
                    LockError::Busy { what, holder }
                })
            }
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Who holds it (this process).
    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    /// Release now (also done on drop).
    pub fn release(mut self) {
        self.release_inner();
    }

    fn release_inner(&mut self) {
        if let Some(lock) = self.lock.take() {
            // Clear the record while still holding the lock; a failure only
            // leaves a stale record, which nobody believes without the lock.
            let _ = lock.set_len(0);
            drop(lock);
        }
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        self.release_inner();
    }
}

/// Open (create) a lock file readable and writable by every user, so that
/// users sharing a device can lock it. A file another user created
/// read-only is opened read-only (flock needs no write access; the holder
/// record is then not written).
pub(crate) fn open_lock_file(path: &Path) -> std::io::Result<File> {
    let rw = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o666)
        .open(path);
    match rw {
        Ok(file) => {
            let meta = file.metadata()?;
            if meta.permissions().mode() & 0o777 != 0o666
                && nix::unistd::Uid::effective().as_raw()
                    == std::os::unix::fs::MetadataExt::uid(&meta)
            {
                // umask narrowed it; widen so others can record themselves.
                let _ = file.set_permissions(std::fs::Permissions::from_mode(0o666));
            }
            Ok(file)
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => File::open(path),
        Err(e) => Err(e),
    }
}

fn write_holder(file: &mut File, holder: &Holder) -> std::io::Result<()> {
    let text = serde_json::to_string(holder).map_err(std::io::Error::other)?;
    match file.set_len(0) {
        Ok(()) => {}
        // Opened read-only (another user's file): nothing to record.
        Err(e)
            if e.raw_os_error() == Some(nix::libc::EBADF)
                || e.raw_os_error() == Some(nix::libc::EINVAL) =>
        {
            return Ok(())
        }
        Err(e) => return Err(e),
    }
    file.rewind()?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.flush()
}

/// The holder recorded in a lock file (none when empty or unreadable: a
/// holder that has not written yet, or a lock released meanwhile).
pub fn read_holder(path: &Path) -> Option<Holder> {
    let mut text = String::new();
    File::open(path).ok()?.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(pid: u32) -> Holder {
        Holder {
            pid,
            command: "ptape backup".into(),
            cmdline: "ptape backup /x".into(),
            since: jiff::Timestamp::now().as_second(),
        }
    }

    #[test]
    fn second_taker_is_told_who_holds_it_and_gets_it_after_release() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drive-X.lock");
        let first = LockFile::acquire(&path, "drive d", &holder(4711), WaitPolicy::NoWait).unwrap();
        assert_eq!(
            read_holder(&path),
            Some(holder(4711)).map(|h| Holder {
                since: first.holder().since,
                ..h
            })
        );
        // flock is per open file description: a second open in this very
        // process conflicts like another process would.
        let err = LockFile::acquire(&path, "drive d", &holder(1), WaitPolicy::NoWait).unwrap_err();
        assert!(err.is_busy());
        let text = err.to_string();
        assert!(
            text.starts_with("drive d is in use by pid 4711 (ptape backup, since "),
            "{text}"
        );
        first.release();
        assert_eq!(read_holder(&path), None);
        let again = LockFile::acquire(&path, "drive d", &holder(1), WaitPolicy::NoWait).unwrap();
        assert_eq!(read_holder(&path).unwrap().pid, 1);
        drop(again);
    }

    #[test]
    fn limited_wait_times_out_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pool.lock");
        let _first = LockFile::acquire(&path, "pool p", &holder(9), WaitPolicy::NoWait).unwrap();
        let policy = WaitPolicy::Wait(Some(Duration::from_millis(50)));
        let err = LockFile::acquire(&path, "pool p", &holder(1), policy).unwrap_err();
        assert!(matches!(err, LockError::TimedOut { .. }), "{err}");
        assert!(
            err.to_string().contains("pool p is in use by pid 9"),
            "{err}"
        );
    }

    #[test]
    fn file_name_parts_are_safe_and_distinct() {
        assert_eq!(file_name_part("HU1234ABCD"), "HU1234ABCD");
        assert_eq!(file_name_part("a/b"), "a_2fb");
        assert_ne!(file_name_part("a_b"), file_name_part("a/b"));
        assert_eq!(file_name_part(".."), "_..");
        assert_eq!(file_name_part(""), "_");
    }

    #[test]
    fn holder_text_without_record() {
        assert_eq!(HolderText(None).to_string(), "another process");
    }
}
