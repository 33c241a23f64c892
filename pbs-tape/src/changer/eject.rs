//! Ejecting a cartridge through its drive before the changer takes it out.
//!
//! Many libraries refuse MOVE MEDIUM from a drive that still holds its
//! cartridge threaded (05/5302). [`serial_ejector`] finds the drive's device
//! by serial number (DVCID vs VPD 0x80, see [`super::mapping`]) and sends it
//! LOAD UNLOAD (unload), for use with [`super::MediaChanger::set_ejector`].

use super::mapping::{candidate_drive_devices, map_drives};
use super::media_changer::Ejector;
use super::status::{ChangerStatus, DriveStatus};
use crate::drive::LtoDrive;

/// An [`Ejector`] for the changer at `changer_path`: unloads a drive through
/// the device whose serial matches the drive element's identifier.
pub fn serial_ejector(changer_path: &str) -> Ejector {
    let changer_path = changer_path.to_string();
    Box::new(move |drive: &DriveStatus| {
        let one_drive = ChangerStatus {
            drives: vec![drive.clone()],
            ..Default::default()
        };
        let candidates = candidate_drive_devices(&changer_path);
        let device = map_drives(&one_drive, &candidates)
            .into_iter()
            .map(|(_, path)| path)
            .next()
            .ok_or_else(|| {
                format!(
                    "drive {} still holds its cartridge and no device with its serial was found; eject it with pmt first",
                    drive.index
                )
            })?;
        LtoDrive::open(&device)?.unload()?;
        Ok(())
    })
}
