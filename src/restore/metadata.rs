//! Owner, mode and mtime of restored entries, and special files.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::{io_err, RestoreError};
use crate::manifest::{Entry, EntryKind};

/// Creates a fifo or device node.
pub(super) fn make_node(path: &Path, e: &Entry) -> Result<(), nix::Error> {
    use nix::sys::stat::{mknod, Mode, SFlag};
    let mode = Mode::from_bits_truncate(e.mode & 0o777);
    match e.kind {
        EntryKind::Fifo => nix::unistd::mkfifo(path, mode),
        EntryKind::CharDevice { rdev } => mknod(path, SFlag::S_IFCHR, mode, rdev),
        EntryKind::BlockDevice { rdev } => mknod(path, SFlag::S_IFBLK, mode, rdev),
        _ => Ok(()),
    }
}

/// Owner (when root), mode (not for symlinks) and mtime of one entry.
pub(super) fn apply_metadata(
    path: &Path,
    e: &Entry,
    root: bool,
    symlink: bool,
) -> Result<(), RestoreError> {
    use nix::sys::stat::{utimensat, UtimensatFlags};
    use nix::sys::time::TimeSpec;
    if root {
        std::os::unix::fs::lchown(path, Some(e.uid), Some(e.gid)).map_err(io_err(path))?;
    }
    if !symlink {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(e.mode))
            .map_err(io_err(path))?;
    }
    let mtime = TimeSpec::new(
        e.mtime_ns.div_euclid(1_000_000_000),
        e.mtime_ns.rem_euclid(1_000_000_000),
    );
    utimensat(
        None,
        path,
        &TimeSpec::UTIME_OMIT,
        &mtime,
        UtimensatFlags::NoFollowSymlink,
    )
    .map_err(|errno| RestoreError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::from(errno),
    })
}
