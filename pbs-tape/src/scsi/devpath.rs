//! From the device path a user gives to the sg node we open.
//!
//! Accepted forms:
//! - `/dev/sgN`: used as is;
//! - `/dev/nstN`, `/dev/stN` and their mode variants (`stNl`, `stNm`,
//!   `stNa`, `nstNl`, ...): the sg node of the same SCSI device, found at
//!   `SYSFS/class/scsi_tape/nstN/device/scsi_generic/sgM`;
//! - `/dev/schN`: `SYSFS/class/scsi_changer/schN/device/scsi_generic/sgM`;
//! - symlinks such as `/dev/tape/by-id/scsi-...-nst`: resolved first, then
//!   the same rules.
//!
//! The sg node is returned in the same directory as the resolved node
//! (`/dev/nst0` -> `/dev/sg1`).

#![forbid(unsafe_code)]

use std::fs;
use std::path::{Path, PathBuf};

use super::transport::DeviceError;

/// Where sysfs is mounted on a running system.
pub const SYSFS_ROOT: &str = "/sys";

/// The kind of node a device file name denotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeName {
    /// `sgN`.
    Generic(u32),
    /// `stN`/`nstN` with an optional mode suffix (l, m, a).
    Tape(u32),
    /// `schN`.
    Changer(u32),
}

/// Classify a device file name (`nst0`, `st1l`, `sch0`, `sg3`, ...).
pub fn parse_node_name(name: &str) -> Option<NodeName> {
    let number = |digits: &str| -> Option<u32> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    };
    if let Some(rest) = name.strip_prefix("sg") {
        return number(rest).map(NodeName::Generic);
    }
    if let Some(rest) = name.strip_prefix("sch") {
        return number(rest).map(NodeName::Changer);
    }
    let rest = name
        .strip_prefix("nst")
        .or_else(|| name.strip_prefix("st"))?;
    let rest = rest.strip_suffix(['l', 'm', 'a']).unwrap_or(rest);
    number(rest).map(NodeName::Tape)
}

/// Resolve `path` to the sg node of the same SCSI device (see the module
/// documentation), reading sysfs under `sysfs_root`.
pub fn resolve_sg_path(path: &Path, sysfs_root: &Path) -> Result<PathBuf, DeviceError> {
    let shown = path.display().to_string();
    let is_link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let node = if is_link {
        fs::canonicalize(path).map_err(|_| DeviceError::NotFound {
            path: shown.clone(),
        })?
    } else {
        path.to_path_buf()
    };
    let name = node
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| invalid(&shown))?;
    let class_dir = match parse_node_name(name).ok_or_else(|| invalid(&shown))? {
        NodeName::Generic(_) => return Ok(node),
        NodeName::Tape(n) => sysfs_root.join(format!("class/scsi_tape/nst{n}")),
        NodeName::Changer(n) => sysfs_root.join(format!("class/scsi_changer/sch{n}")),
    };
    let sg_name = sg_name_of(&class_dir.join("device")).ok_or(DeviceError::NotFound {
        path: shown.clone(),
    })?;
    let dir = node.parent().unwrap_or(Path::new("/dev"));
    Ok(dir.join(sg_name))
}

/// The `sgN` name below `device_dir/scsi_generic/`, if there is one.
pub fn sg_name_of(device_dir: &Path) -> Option<String> {
    let mut names: Vec<String> = fs::read_dir(device_dir.join("scsi_generic"))
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| matches!(parse_node_name(n), Some(NodeName::Generic(_))))
        .collect();
    names.sort();
    names.into_iter().next()
}

fn invalid(path: &str) -> DeviceError {
    DeviceError::Invalid {
        path: path.to_string(),
        message: "not a tape (stN/nstN), changer (schN) or SCSI generic (sgN) device node"
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names() {
        assert_eq!(parse_node_name("sg12"), Some(NodeName::Generic(12)));
        assert_eq!(parse_node_name("nst0"), Some(NodeName::Tape(0)));
        assert_eq!(parse_node_name("st3"), Some(NodeName::Tape(3)));
        assert_eq!(parse_node_name("nst1a"), Some(NodeName::Tape(1)));
        assert_eq!(parse_node_name("st2l"), Some(NodeName::Tape(2)));
        assert_eq!(parse_node_name("st2m"), Some(NodeName::Tape(2)));
        assert_eq!(parse_node_name("sch0"), Some(NodeName::Changer(0)));
        assert_eq!(parse_node_name("sda"), None);
        assert_eq!(parse_node_name("st"), None);
        assert_eq!(parse_node_name("nst0x"), None);
        assert_eq!(parse_node_name("sg-1"), None);
        assert_eq!(parse_node_name("sch"), None);
    }

    #[test]
    fn unknown_names_are_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve_sg_path(Path::new("/dev/sda"), dir.path()).unwrap_err();
        assert!(matches!(err, DeviceError::Invalid { ref path, .. } if path == "/dev/sda"));
    }

    #[test]
    fn missing_sysfs_entry_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve_sg_path(Path::new("/dev/nst7"), dir.path()).unwrap_err();
        assert!(matches!(err, DeviceError::NotFound { ref path } if path == "/dev/nst7"));
    }
}
