//! Open a device by the path a user gives: an emulated library device file
//! or a Linux SCSI device (sg, st/nst, sch or a `/dev/tape/by-id` link).
//!
//! Either way the result is a [`ScsiTransport`] wrapped in
//! [`UnitAttentionRetry`], so the first command after a medium change or
//! reset is retried once instead of failing.

#![forbid(unsafe_code)]

use std::path::Path;

use crate::emulator;
use crate::scsi::retry::UnitAttentionRetry;
use crate::scsi::sg_io::SgDevice;
use crate::scsi::{DeviceError, ScsiError, ScsiTransport};

/// Open `path` as a SCSI transport (see the module documentation).
/// Tape drives use [`open_device`] instead: [`crate::drive::LtoDrive`]
/// keeps its own [`UnitAttentionRetry`] to run writing sessions.
///
/// Errors: an empty path is [`DeviceError::Invalid`]; a path that does not
/// exist (or a dangling link) is [`DeviceError::NotFound`] naming it; the
/// rest come from [`emulator::open_device`] or [`SgDevice::open`].
pub fn open_transport(path: &str) -> Result<Box<dyn ScsiTransport>, ScsiError> {
    Ok(Box::new(UnitAttentionRetry::new(open_device(path)?)))
}

/// Open `path` as a bare SCSI transport, without the unit attention retry.
///
/// Errors as [`open_transport`].
pub fn open_device(path: &str) -> Result<Box<dyn ScsiTransport>, ScsiError> {
    if path.is_empty() {
        return Err(DeviceError::Invalid {
            path: String::new(),
            message: "empty device path".into(),
        }
        .into());
    }
    let p = Path::new(path);
    if std::fs::metadata(p).is_err() {
        return Err(DeviceError::NotFound {
            path: path.to_string(),
        }
        .into());
    }
    if emulator::is_emulated_device(p) {
        return Ok(Box::new(emulator::open_device(p)?));
    }
    Ok(Box::new(SgDevice::open(path)?))
}

/// Who a device path names, found without taking the device: the key of
/// the per-device lock (the serial number, so that `/dev/nst0` and
/// `/dev/sg1` of one drive share it) and the node shown in messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceIdentity {
    /// The unit serial number (SPC-5 VPD page 0x80), or, for a device
    /// that reports none, its SCSI address (`addr-H:C:T:L`) or the sg
    /// node; always non-empty.
    pub serial: String,
    /// The node commands go to: the sg node of a Linux device (what
    /// `/dev/nst0` resolves to), or the emulated device file.
    pub node: String,
    /// What a lock is keyed by: the serial of a Linux device; for an
    /// emulated one the serial and its library's directory (emulated
    /// libraries may share serial numbers, and are still distinct devices).
    pub key: String,
}

/// Identify the device at `path` (see [`DeviceIdentity`]): an emulated
/// device from its library's state; a Linux device from sysfs
/// (`/sys/class/scsi_generic/sgN/device/vpd_pg80`), else by an INQUIRY of
/// the unit serial number VPD page on its sg node (sg allows several
/// openers, and an INQUIRY moves nothing), else by its SCSI address.
///
/// Errors: as [`open_device`] for paths that are no device.
pub fn identify(path: &str) -> Result<DeviceIdentity, ScsiError> {
    identify_with_sysfs(path, Path::new(crate::scsi::devpath::SYSFS_ROOT))
}

/// [`identify`] reading sysfs under `sysfs_root` (testable).
pub fn identify_with_sysfs(path: &str, sysfs_root: &Path) -> Result<DeviceIdentity, ScsiError> {
    if path.is_empty() {
        return Err(DeviceError::Invalid {
            path: String::new(),
            message: "empty device path".into(),
        }
        .into());
    }
    let p = Path::new(path);
    if std::fs::metadata(p).is_err() {
        return Err(DeviceError::NotFound {
            path: path.to_string(),
        }
        .into());
    }
    if emulator::is_emulated_device(p) {
        let real = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let serial = emulator::device_serial(p)?;
        let dir = real.parent().unwrap_or(Path::new("/"));
        let dir_hash = crc32c::crc32c(dir.as_os_str().as_encoded_bytes());
        return Ok(DeviceIdentity {
            key: format!("{serial}-emu{dir_hash:08x}"),
            serial,
            node: real.display().to_string(),
        });
    }
    let sg = crate::scsi::devpath::resolve_sg_path(p, sysfs_root)?;
    let node = sg.display().to_string();
    let sg_name = sg
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let device_dir = sysfs_root
        .join("class/scsi_generic")
        .join(&sg_name)
        .join("device");
    let from_sysfs = std::fs::read(device_dir.join("vpd_pg80"))
        .ok()
        .and_then(|page| crate::scsi::discovery::serial_from_vpd80(&page));
    let serial = match from_sysfs {
        Some(s) => s,
        None => {
            let inquired = SgDevice::open(&node)
                .ok()
                .and_then(|mut t| crate::scsi::spc::unit_serial_number(&mut t).ok())
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
            match inquired {
                Some(s) => s,
                None => std::fs::canonicalize(&device_dir)
                    .ok()
                    .and_then(|d| d.file_name()?.to_str().map(|a| format!("addr-{a}")))
                    .unwrap_or_else(|| sg_name.clone()),
            }
        }
    };
    Ok(DeviceIdentity {
        key: serial.clone(),
        serial,
        node,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emulated_drive_and_changer_have_their_library_serials() {
        let dir = tempfile::tempdir().unwrap();
        let config = emulator::state::LibraryConfig {
            drives: 2,
            serial: "LIBX1".into(),
            ..Default::default()
        };
        let lib = emulator::Library::create(dir.path(), config, &["A00001L9".into()], &[]).unwrap();
        let d1 = lib.drive_device_path(1).display().to_string();
        let id = identify(&d1).unwrap();
        assert_eq!(id.serial, emulator::library::drive_serial("LIBX1", 1));
        let ch = lib.changer_device_path().display().to_string();
        assert_eq!(identify(&ch).unwrap().serial, "LIBX1");
        // A second name (a symlink) of the same drive: the same identity.
        let link = dir.path().join("nst-link");
        std::os::unix::fs::symlink(&d1, &link).unwrap();
        assert_eq!(identify(link.to_str().unwrap()).unwrap(), id);
        // Another library with the same serial is another device.
        let dir2 = tempfile::tempdir().unwrap();
        let config2 = emulator::state::LibraryConfig {
            drives: 2,
            serial: "LIBX1".into(),
            ..Default::default()
        };
        let lib2 = emulator::Library::create(dir2.path(), config2, &[], &[]).unwrap();
        let other = identify(&lib2.drive_device_path(1).display().to_string()).unwrap();
        assert_eq!(other.serial, id.serial);
        assert_ne!(other.key, id.key);
    }

    #[test]
    fn linux_nodes_of_one_drive_share_the_serial_from_sysfs() {
        let sys = tempfile::tempdir().unwrap();
        let dev = tempfile::tempdir().unwrap();
        let device = sys.path().join("devices/0:0:3:0");
        std::fs::create_dir_all(device.join("scsi_generic/sg3")).unwrap();
        let mut page = vec![0x01, 0x80, 0, 8];
        page.extend_from_slice(b"10WT0123");
        std::fs::write(device.join("vpd_pg80"), page).unwrap();
        for class in ["class/scsi_tape/nst0", "class/scsi_generic/sg3"] {
            let d = sys.path().join(class);
            std::fs::create_dir_all(&d).unwrap();
            std::os::unix::fs::symlink(&device, d.join("device")).unwrap();
        }
        for node in ["nst0", "sg3"] {
            std::fs::write(dev.path().join(node), b"").unwrap();
        }
        let nst = dev.path().join("nst0").display().to_string();
        let sg = dev.path().join("sg3").display().to_string();
        let a = identify_with_sysfs(&nst, sys.path()).unwrap();
        let b = identify_with_sysfs(&sg, sys.path()).unwrap();
        assert_eq!(a.serial, "10WT0123");
        assert_eq!(a, b);
        assert_eq!(a.node, sg);
    }

    #[test]
    fn missing_paths_are_named() {
        let err = identify("/nonexistent/nst9").unwrap_err();
        assert!(err.to_string().contains("/nonexistent/nst9"), "{err}");
    }
}
