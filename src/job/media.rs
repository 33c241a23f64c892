//! What a job does with its tapes once it succeeded: `eject` (the job's
//! last tape leaves the drive) or `export_media_set` (every tape of the
//! job's media set moves to the changer's import/export slots, then to
//! free configured export slots). Nothing happens after a failed job.

use pbs_tape::changer::{MediaChanger, Place};
use pbs_tape::drive::LtoDrive;
use uuid::Uuid;

use crate::catalog::{Catalog, MediaLocation};
use crate::config::ResolvedDrive;

/// What an export did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// Labels moved out, in set order.
    pub exported: Vec<String>,
    /// Labels left in the library, with why.
    pub left: Vec<(String, String)>,
}

/// Ejects the cartridge of a standalone drive; a drive in a changer got its
/// tape put back into its slot by the job already. Returns what happened.
pub fn eject(drive: &ResolvedDrive) -> Result<String, String> {
    if drive.changer_path.is_some() {
        return Ok(format!(
            "the job's tapes are back in their slots of changer {} (drive {} is empty)",
            drive.changer.as_deref().unwrap_or("?"),
            drive.name
        ));
    }
    let mut d = LtoDrive::open(&drive.path).map_err(|e| format!("drive {}: {e}", drive.name))?;
    d.eject()
        .map_err(|e| format!("eject from drive {}: {e}", drive.name))?;
    Ok(format!("ejected the cartridge from drive {}", drive.name))
}

/// Moves every tape of media set `set` that is online in the drive's
/// changer to a free import/export slot, else to a free configured export
/// slot, and records it offline. Tapes that do not fit stay (named in
/// [`ExportReport::left`]).
pub fn export_media_set(
    catalog: &Catalog,
    drive: &ResolvedDrive,
    set: Uuid,
) -> Result<ExportReport, String> {
    let (Some(path), Some(name)) = (&drive.changer_path, &drive.changer) else {
        return Err(format!(
            "drive {} is not in a changer: nothing to export to",
            drive.name
        ));
    };
    let mut changer = MediaChanger::open(path).map_err(|e| format!("changer {name}: {e}"))?;
    let mut report = ExportReport::default();
    let members = catalog.media_of_set(set).map_err(|e| e.to_string())?;
    for m in members {
        if m.location != MediaLocation::Online || m.location_name.as_deref() != Some(name) {
            continue;
        }
        let moved = match changer.export(&m.label) {
            Ok(_) => Ok(()),
            Err(first) => to_export_slot(&mut changer, &m.label, &drive.export_slots)
                .map_err(|second| format!("{first}; {second}")),
        };
        match moved {
            Ok(()) => {
                catalog
                    .set_media_location(m.uuid, MediaLocation::Offline, None)
                    .map_err(|e| e.to_string())?;
                report.exported.push(m.label);
            }
            Err(why) => report.left.push((m.label, why)),
        }
    }
    Ok(report)
}

/// Moves `label` from its storage slot to a free configured export slot.
fn to_export_slot(
    changer: &mut MediaChanger<Box<dyn pbs_tape::scsi::ScsiTransport>>,
    label: &str,
    export_slots: &[usize],
) -> Result<(), String> {
    let status = changer.status().map_err(|e| e.to_string())?;
    let Some(Place::Slot(from)) = status.find_barcode(label) else {
        return Err(format!("{label} is not in a storage slot"));
    };
    let to = export_slots
        .iter()
        .copied()
        .find(|&n| status.slot(n).is_some_and(|s| !s.full))
        .ok_or_else(|| "no free import/export or export slot".to_string())?;
    changer
        .transfer(from, to)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
