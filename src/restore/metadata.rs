//! Owner, mode, extended attributes, ACLs, capabilities and mtime of
//! restored entries, and special files.
//!
//! Order matters: the owner first (changing it clears set-id bits and
//! capabilities), then the mode, extended attributes and ACLs, then the
//! file capabilities, and the mtime last. Owner, capabilities, `trusted.`
//! and `security.` attributes and device nodes need root; without it they
//! are skipped with a warning.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::{io_err, RestoreError};
use crate::stream::entry::{Entry, Kind};

/// Creates a fifo or device node.
pub(super) fn make_node(path: &Path, e: &Entry) -> Result<(), nix::Error> {
    use nix::sys::stat::{makedev, mknod, Mode, SFlag};
    let mode = Mode::from_bits_truncate(e.mode & 0o777);
    let rdev = makedev(u64::from(e.rdev.0), u64::from(e.rdev.1));
    match e.kind {
        Kind::Fifo => nix::unistd::mkfifo(path, mode),
        Kind::CharDevice => mknod(path, SFlag::S_IFCHR, mode, rdev),
        Kind::BlockDevice => mknod(path, SFlag::S_IFBLK, mode, rdev),
        _ => Ok(()),
    }
}

/// The local id of a user or group name, else the stored id.
fn local_id(name: Option<&[u8]>, id: u32, user: bool) -> u32 {
    let Some(name) = name.and_then(|n| std::str::from_utf8(n).ok()) else {
        return id;
    };
    let found = if user {
        nix::unistd::User::from_name(name)
            .ok()
            .flatten()
            .map(|u| u.uid.as_raw())
    } else {
        nix::unistd::Group::from_name(name)
            .ok()
            .flatten()
            .map(|g| g.gid.as_raw())
    };
    found.unwrap_or(id)
}

/// Applies `e`'s metadata to `path` (not following a symlink there).
/// Problems that do not lose data (an attribute the file system refuses)
/// are pushed to `warnings`.
pub(super) fn apply_metadata(
    path: &Path,
    e: &Entry,
    root: bool,
    warnings: &mut Vec<String>,
) -> Result<(), RestoreError> {
    use nix::sys::stat::{utimensat, UtimensatFlags};
    use nix::sys::time::TimeSpec;
    let symlink = e.kind == Kind::Symlink;
    if root {
        let uid = local_id(e.user.as_deref(), e.uid, true);
        let gid = local_id(e.group.as_deref(), e.gid, false);
        std::os::unix::fs::lchown(path, Some(uid), Some(gid)).map_err(io_err(path))?;
    }
    if !symlink {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(e.mode))
            .map_err(io_err(path))?;
    }
    let mut set = |name: &[u8], value: &[u8]| {
        let name_os: &std::ffi::OsStr = std::os::unix::ffi::OsStrExt::from_bytes(name);
        if let Err(err) = xattr::set(path, name_os, value) {
            warnings.push(format!(
                "{}: extended attribute {} not restored: {err}",
                e.path,
                String::from_utf8_lossy(name)
            ));
        }
    };
    for (name, value) in &e.xattrs {
        set(name, value);
    }
    if let Some(acl) = &e.acl_access {
        set(b"system.posix_acl_access", acl);
    }
    if let Some(acl) = &e.acl_default {
        set(b"system.posix_acl_default", acl);
    }
    if let Some(caps) = &e.fcaps {
        if root {
            set(b"security.capability", caps);
        } else {
            warnings.push(format!(
                "{}: file capabilities not restored (needs root)",
                e.path
            ));
        }
    }
    let mtime = TimeSpec::new(e.mtime.0, i64::from(e.mtime.1));
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
