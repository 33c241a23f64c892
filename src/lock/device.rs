//! One lock per drive or changer, keyed by the device's serial number.
//!
//! `/dev/nst0`, `/dev/sg1` and `/dev/tape/by-id/...-nst` of one drive all
//! resolve to one serial number ([`pbs_tape::device::identify`]), hence to
//! one lock file, `LOCKDIR/drive-SERIAL.lock` (`changer-SERIAL.lock` for a
//! changer). The lock is taken before the device is opened.

use std::path::{Path, PathBuf};

use super::{file_name_part, lock_dir, Holder, LockError, LockFile, WaitPolicy};

/// What kind of device a lock is for (the lock file's prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceRole {
    Drive,
    Changer,
}

impl DeviceRole {
    pub fn noun(self) -> &'static str {
        match self {
            DeviceRole::Drive => "drive",
            DeviceRole::Changer => "changer",
        }
    }
}

/// An exclusive hold on one device for this process; released on drop.
#[derive(Debug)]
pub struct DeviceLock {
    file: LockFile,
    what: String,
    serial: String,
    key: String,
    node: String,
}

impl DeviceLock {
    /// Lock the device at `path` (named `name` in messages: the configured
    /// drive name, or the path itself) for `command` (`ptape backup`),
    /// waiting as `policy` says. A busy device gives
    /// `drive lto0 (/dev/sg3, serial X) is in use by pid N (ptape backup,
    /// since 12:01:07)` ([`LockError::Busy`]).
    pub fn acquire(
        role: DeviceRole,
        name: &str,
        path: &str,
        command: &str,
        policy: WaitPolicy,
    ) -> Result<DeviceLock, LockError> {
        Self::acquire_in(&lock_dir()?, role, name, path, command, policy)
    }

    /// [`DeviceLock::acquire`] with the lock directory given.
    pub fn acquire_in(
        dir: &Path,
        role: DeviceRole,
        name: &str,
        path: &str,
        command: &str,
        policy: WaitPolicy,
    ) -> Result<DeviceLock, LockError> {
        let id = pbs_tape::device::identify(path).map_err(|source| LockError::Identify {
            what: format!("{} {name}", role.noun()),
            source: Box::new(source),
        })?;
        let what = describe(role, name, &id.node, &id.serial);
        let file = LockFile::acquire(
            &lock_path(dir, role, &id.key),
            &what,
            &Holder::this_process(command),
            policy,
        )?;
        Ok(DeviceLock {
            file,
            what,
            serial: id.serial,
            key: id.key,
            node: id.node,
        })
    }

    /// `drive lto0 (/dev/sg3, serial X)`.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// The serial number the lock is keyed by.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// True when this lock is the one of the device at `path` (another
    /// name of the same device counts).
    pub fn covers(&self, path: &str) -> bool {
        pbs_tape::device::identify(path).is_ok_and(|id| id.key == self.key)
    }

    /// The node commands go to (sg node or emulated device file).
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Release now (also done on drop).
    pub fn release(self) {
        self.file.release()
    }
}

/// The lock file of a device, by its key
/// ([`pbs_tape::device::DeviceIdentity::key`]: the serial number).
pub fn lock_path(dir: &Path, role: DeviceRole, key: &str) -> PathBuf {
    dir.join(format!("{}-{}.lock", role.noun(), file_name_part(key)))
}

/// `drive lto0 (/dev/sg3, serial X)`; the node is left out when it is the
/// name itself.
pub fn describe(role: DeviceRole, name: &str, node: &str, serial: &str) -> String {
    if name == node {
        format!("{} {name} (serial {serial})", role.noun())
    } else {
        format!("{} {name} ({node}, serial {serial})", role.noun())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbs_tape::emulator::{state::LibraryConfig, Library};

    #[test]
    fn two_names_of_one_drive_share_the_lock_and_the_message_names_the_holder() {
        let lib_dir = tempfile::tempdir().unwrap();
        let locks = tempfile::tempdir().unwrap();
        let config = LibraryConfig {
            drives: 2,
            serial: "LOCKT1".into(),
            ..Default::default()
        };
        let lib = Library::create(lib_dir.path(), config, &[], &[]).unwrap();
        let d0 = lib.drive_device_path(0).display().to_string();
        let link = lib_dir.path().join("nst0");
        std::os::unix::fs::symlink(&d0, &link).unwrap();
        let held = DeviceLock::acquire_in(
            locks.path(),
            DeviceRole::Drive,
            "lto0",
            &d0,
            "ptape backup",
            WaitPolicy::NoWait,
        )
        .unwrap();
        assert_eq!(held.serial(), "LOCKT1D00");
        let err = DeviceLock::acquire_in(
            locks.path(),
            DeviceRole::Drive,
            "lto0",
            link.to_str().unwrap(),
            "pmt status",
            WaitPolicy::NoWait,
        )
        .unwrap_err();
        let want = format!(
            "drive lto0 ({d0}, serial LOCKT1D00) is in use by pid {} (ptape backup, since ",
            std::process::id()
        );
        assert!(err.to_string().starts_with(&want), "{err}");
        // The other drive and the changer are separate locks.
        let d1 = lib.drive_device_path(1).display().to_string();
        let other = DeviceLock::acquire_in(
            locks.path(),
            DeviceRole::Drive,
            "lto1",
            &d1,
            "pmt status",
            WaitPolicy::NoWait,
        );
        assert!(other.is_ok());
        let ch = lib.changer_device_path().display().to_string();
        assert!(DeviceLock::acquire_in(
            locks.path(),
            DeviceRole::Changer,
            "lib",
            &ch,
            "pmtx status",
            WaitPolicy::NoWait
        )
        .is_ok());
        held.release();
        assert!(DeviceLock::acquire_in(
            locks.path(),
            DeviceRole::Drive,
            "lto0",
            link.to_str().unwrap(),
            "pmt status",
            WaitPolicy::NoWait,
        )
        .is_ok());
    }

    #[test]
    fn description_leaves_out_a_node_equal_to_the_name() {
        assert_eq!(
            describe(DeviceRole::Drive, "lto0", "/dev/sg3", "X"),
            "drive lto0 (/dev/sg3, serial X)"
        );
        assert_eq!(
            describe(DeviceRole::Changer, "/dev/sg4", "/dev/sg4", "Y"),
            "changer /dev/sg4 (serial Y)"
        );
    }
}
