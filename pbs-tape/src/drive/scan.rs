//! What `pmt scan` lists for one tape drive, and the system's drives
//! (through sysfs, see [`crate::scsi::discovery`]). The drives of emulated
//! libraries are found by [`crate::discovery`], above this layer.

use serde::Serialize;

use crate::scsi::discovery::DiscoveredDevice;

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
