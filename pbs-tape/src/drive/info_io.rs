//! Issuing the SSC information commands (LOG SENSE, MODE SENSE/SELECT,
//! READ/WRITE ATTRIBUTE, REPORT DENSITY SUPPORT, SECURITY PROTOCOL IN/OUT):
//! one data-in and one data-out helper that apply the command timeout and
//! classify failures into [`DriveError`].

use crate::scsi::timeouts::timeout_for;
use crate::scsi::{DataDirection, ScsiTransport};

use super::DriveError;

/// Run a data-in command with a buffer of `alloc` bytes; returns the bytes
/// the device transferred. ILLEGAL REQUEST becomes
/// [`DriveError::NotSupported`] naming `feature`.
pub(crate) fn data_in(
    t: &mut dyn ScsiTransport,
    device: &str,
    command: &'static str,
    feature: &str,
    cdb: &[u8],
    alloc: usize,
) -> Result<Vec<u8>, DriveError> {
    let mut buf = vec![0u8; alloc];
    let done = t
        .execute(cdb, DataDirection::FromDevice(&mut buf), timeout_for(cdb))
        .map_err(|e| DriveError::from_scsi(command, Some(feature), device, e))?;
    buf.truncate(done.transferred.min(alloc));
    Ok(buf)
}

/// Run a data-out command sending `data`.
pub(crate) fn data_out(
    t: &mut dyn ScsiTransport,
    device: &str,
    command: &'static str,
    feature: &str,
    cdb: &[u8],
    data: &[u8],
) -> Result<(), DriveError> {
    t.execute(cdb, DataDirection::ToDevice(data), timeout_for(cdb))
        .map_err(|e| DriveError::from_scsi(command, Some(feature), device, e))?;
    Ok(())
}
