//! Finding devices across layers: which drives belong to an emulated
//! library, which drive devices may sit in a changer, and the ejector that
//! unloads a drive before its changer moves the cartridge. It sits above
//! [`crate::drive`], [`crate::changer`] and [`crate::emulator`] and joins
//! them, so that none of those imports another: the drive and changer code
//! know nothing of the emulator, and the changer gets the drive only
//! through the [`Ejector`] parameter of
//! [`crate::changer::MediaChanger::set_ejector`].

use std::path::Path;

use crate::changer::mapping::map_drives;
use crate::changer::{ChangerStatus, DriveStatus, Ejector};
use crate::drive::scan::DriveListing;
use crate::drive::LtoDrive;
use crate::scsi::discovery::scan_tape_drives;

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

/// The drive devices that may sit in the changer at `changer_path`: for an
/// emulated library (`DIR/changer`) its drives `DIR/drive0..`, otherwise the
/// sg nodes of the tape drives in sysfs. Feed them to [`map_drives`].
pub fn candidate_drive_devices(changer_path: &str) -> Vec<String> {
    let path = std::path::Path::new(changer_path);
    if crate::emulator::is_emulated_device(path) {
        let dir = path.parent().unwrap_or(std::path::Path::new("."));
        let Ok(lib) = crate::emulator::Library::open(dir) else {
            return Vec::new();
        };
        let drives = lib.read_state().map_or(0, |s| s.drives.len());
        return (0..drives)
            .map(|i| lib.drive_device_path(i).display().to_string())
            .collect();
    }
    let sysfs = std::path::Path::new(crate::scsi::devpath::SYSFS_ROOT);
    crate::scsi::discovery::scan_tape_drives(sysfs)
        .into_iter()
        .map(|d| d.sg_path)
        .collect()
}

/// An [`Ejector`] for the changer at `changer_path`: unloads a drive through
/// the device whose serial matches the drive element's identifier (DVCID vs
/// VPD 0x80, see [`crate::changer::mapping`]) with LOAD UNLOAD. Many
/// libraries refuse MOVE MEDIUM from a drive that still holds its cartridge
/// threaded (05/53/02); give this to
/// [`crate::changer::MediaChanger::set_ejector`].
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
