//! Cleaning media: recognising cleaning cartridges (barcode `CLN...`) and
//! host-initiated drive cleaning through the changer.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::scsi::{ScsiTransport, SenseKey};

use super::commands;
use super::error::ChangerError;
use super::media_changer::{empty_drive, MediaChanger};

/// Barcode prefix of cleaning cartridges (LTO labels `CLNnnnCU`/`CLNnnnL1`).
pub const CLEANING_PREFIX: &str = "CLN";

/// Additional sense: CLEANING CARTRIDGE INSTALLED (30/03): the drive is
/// still cleaning, the cartridge cannot be taken yet.
const ASC_CLEANING: (u8, u8) = (0x30, 0x03);
/// Additional sense: CLEANING VOLUME EXPIRED (30/13), MEDIUM ERROR when a
/// used-up cleaning cartridge is moved to a drive (e.g. StorageTek SL150
/// interface reference, table 4-123).
pub const ASC_CLEANING_EXPIRED: (u8, u8) = (0x30, 0x13);

/// True for cleaning cartridges: they are never offered for data.
pub fn is_cleaning_barcode(barcode: &str) -> bool {
    barcode.starts_with(CLEANING_PREFIX)
}

/// What a cleaning run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CleaningReport {
    pub drive: usize,
    /// The cleaning cartridge used.
    pub barcode: String,
    /// The slot it was taken from and returned to.
    pub slot: usize,
}

/// How long to wait between attempts to take the cleaning cartridge back.
pub const CLEANING_POLL: Duration = Duration::from_secs(5);

/// Clean `drive`: load the first usable cleaning cartridge from the storage
/// slots, wait (at most `max_wait`) until the drive has finished and
/// released it, and put it back into its slot. Expired cartridges are
/// skipped; when every one is expired the error names the last refusal.
pub fn clean_drive<T: ScsiTransport>(
    changer: &mut MediaChanger<T>,
    drive: usize,
    max_wait: Duration,
) -> Result<CleaningReport, ChangerError> {
    let status = changer.status()?;
    let d = empty_drive(&status, drive)?;
    let drive_addr = d.address;
    let transport = status.transports.first().map_or(0, |t| t.address);
    let candidates: Vec<(usize, u16, String)> = status
        .slots
        .iter()
        .filter_map(|s| {
            let b = s
                .barcode
                .as_deref()
                .filter(|b| s.full && is_cleaning_barcode(b))?;
            Some((s.number, s.address, b.to_string()))
        })
        .collect();
    let mut expired = None;
    for (slot, slot_addr, barcode) in candidates {
        match commands::move_medium(changer.transport_mut(), transport, slot_addr, drive_addr) {
            Ok(()) => {}
            Err(e)
                if e.sense()
                    .is_some_and(|s| (s.asc, s.ascq) == ASC_CLEANING_EXPIRED) =>
            {
                let sense = e.sense().cloned().unwrap_or_else(|| {
                    crate::scsi::SenseData::new(SenseKey::MediumError, 0x30, 0x13)
                });
                expired = Some(ChangerError::CleaningCartridgeExpired { barcode, sense });
                continue;
            }
            Err(e) => return Err(e),
        }
        wait_and_return(changer, transport, drive, drive_addr, slot_addr, max_wait)?;
        return Ok(CleaningReport {
            drive,
            barcode,
            slot,
        });
    }
    Err(expired.unwrap_or(ChangerError::NoCleaningCartridge))
}

/// Take the cleaning cartridge back, retrying while the drive still holds
/// it (cleaning in progress, not yet ejected, becoming ready).
fn wait_and_return<T: ScsiTransport>(
    changer: &mut MediaChanger<T>,
    transport: u16,
    drive: usize,
    drive_addr: u16,
    slot_addr: u16,
    max_wait: Duration,
) -> Result<(), ChangerError> {
    let deadline = Instant::now() + max_wait;
    loop {
        match commands::move_medium(changer.transport_mut(), transport, drive_addr, slot_addr) {
            Ok(()) => return Ok(()),
            Err(e) if still_busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(CLEANING_POLL.min(deadline - Instant::now()));
            }
            Err(e) if still_busy(&e) => {
                return Err(ChangerError::CleaningTimeout {
                    drive,
                    seconds: max_wait.as_secs(),
                })
            }
            Err(e) => return Err(e),
        }
    }
}

/// The drive still has the cleaning cartridge: cleaning cartridge installed
/// (30/03), medium removal prevented / not unloaded (05/53xx, 05/3B83), becoming
/// ready (02/0401) or a unit attention from the load.
fn still_busy(e: &ChangerError) -> bool {
    super::media_changer::is_not_ejected(e)
        || e.sense().is_some_and(|s| {
            (s.asc, s.ascq) == ASC_CLEANING
                || (s.key == SenseKey::IllegalRequest && s.asc == 0x53)
                || (s.key == SenseKey::NotReady && s.asc == 0x04 && s.ascq == 0x01)
                || s.key == SenseKey::UnitAttention
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_barcodes() {
        assert!(is_cleaning_barcode("CLN001CU"));
        assert!(!is_cleaning_barcode("ABC001L9"));
        assert!(!is_cleaning_barcode("XCLN01L9"));
        assert!(is_cleaning_barcode("CLN001L1"));
    }
}
