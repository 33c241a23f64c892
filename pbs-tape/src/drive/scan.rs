//! Listing tape drives for `pmt scan`: the system's drives (through sysfs,
//! see [`crate::scsi::discovery`]) and the drives of emulated libraries.

use std::path::Path;

use serde::Serialize;

use super::lto::LtoDrive;
use crate::scsi::discovery::{scan_tape_drives, DiscoveredDevice};

/// One tape drive found. Serialized with stable snake_case names (see
/// `docs/pmt.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriveListing {
    /// The path to give `pmt -f`: the `/dev/tape/by-id` name when there is
    /// one, else the sg node, or the emulated `DIR/driveN`.
    pub path: String,
    /// True for a drive of an emulated library.
    pub emulated: bool,
    pub vendor: String,
    pub model: String,
    pub revision: String,
    pub serial: Option<String>,
    /// SCSI generic node (`/dev/sgN`); null for emulated drives.
    pub sg_path: Option<String>,
    /// Non-rewinding st node (`/dev/nstN`), when the st driver is bound.
    pub device_path: Option<String>,
    /// SCSI address `H:C:T:L`; null for emulated drives.
    pub scsi_address: Option<String>,
    /// `/dev/tape/by-id/...` name, when udev created one.
    pub by_id: Option<String>,
    /// Why an emulated drive could not be asked for its identity (e.g. busy).
    pub error: Option<String>,
}

impl From<DiscoveredDevice> for DriveListing {
    fn from(d: DiscoveredDevice) -> Self {
        DriveListing {
            path: d.by_id.clone().unwrap_or_else(|| d.sg_path.clone()),
            emulated: false,
            vendor: d.vendor,
            model: d.model,
            revision: d.revision,
            serial: d.serial,
            sg_path: Some(d.sg_path),
            device_path: d.device_path,
            scsi_address: Some(d.scsi_address),
            by_id: d.by_id,
            error: None,
        }
    }
}

/// The drive device files (`driveN`) of an emulated library directory,
/// sorted by N.
fn emulated_drive_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut drives: Vec<(u64, std::path::PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n = name.strip_prefix("drive")?.parse::<u64>().ok()?;
            let path = e.path();
            crate::emulator::is_emulated_device(&path).then_some((n, path))
        })
        .collect();
    drives.sort();
    drives.into_iter().map(|(_, p)| p).collect()
}

/// The drives of one emulated library, each opened briefly for its identity.
pub fn scan_emulated_drives(dir: &Path) -> Vec<DriveListing> {
    emulated_drive_files(dir)
        .into_iter()
        .map(|path| {
            let path = path.to_string_lossy().into_owned();
            let mut listing = DriveListing {
                path: path.clone(),
                emulated: true,
                vendor: String::new(),
                model: String::new(),
                revision: String::new(),
                serial: None,
                sg_path: None,
                device_path: None,
                scsi_address: None,
                by_id: None,
                error: None,
            };
            match LtoDrive::open(&path) {
                Ok(drive) => {
                    let id = drive.identity();
                    listing.vendor = id.vendor.clone();
                    listing.model = id.product.clone();
                    listing.revision = id.revision.clone();
                    listing.serial = id.serial.clone();
                }
                Err(e) => listing.error = Some(e.to_string()),
            }
            listing
        })
        .collect()
}

/// Tape drives under `sysfs_root`, then the drives of each emulated library
/// directory in `emulated`.
pub fn scan_drives(sysfs_root: &Path, emulated: &[&Path]) -> Vec<DriveListing> {
    let mut all: Vec<DriveListing> = scan_tape_drives(sysfs_root)
        .into_iter()
        .map(DriveListing::from)
        .collect();
    for dir in emulated {
        all.extend(scan_emulated_drives(dir));
    }
    all
}
