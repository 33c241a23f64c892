//! Sense data the emulated drive reports (SSC-5 / SPC-5 Annex F codes).

use super::super::cdb::CheckCondition;
use super::super::image::ImageError;
use crate::scsi::{SenseData, SenseKey};

/// Sense with key and ASC/ASCQ.
pub(super) fn sense(key: SenseKey, asc: u8, ascq: u8) -> SenseData {
    SenseData::new(key, asc, ascq)
}

/// CHECK CONDITION with this sense.
pub(super) fn cc(sense: SenseData) -> CheckCondition {
    CheckCondition::new(sense)
}

/// MEDIUM ERROR, WRITE ERROR (03/0C00).
pub(super) fn write_error() -> SenseData {
    sense(SenseKey::MediumError, 0x0c, 0x00)
}

/// Writing to the image failed: MEDIUM ERROR 03/0C00 (cause logged).
pub(super) fn image_write_failure(err: ImageError) -> CheckCondition {
    tracing::warn!("emulated drive: tape image write failed: {err}");
    cc(write_error())
}

/// Reading the image failed (I/O or checksum): MEDIUM ERROR 03/1100.
pub(super) fn image_read_failure(err: ImageError) -> CheckCondition {
    tracing::warn!("emulated drive: tape image read failed: {err}");
    cc(sense(SenseKey::MediumError, 0x11, 0x00))
}

/// Signed residual as the INFORMATION field carries it (two's complement).
pub(super) fn residual_info(requested: u64, actual: u64) -> u64 {
    requested.wrapping_sub(actual)
}

/// NO SENSE, FILEMARK DETECTED (00/0001) with the FILEMARK bit.
pub(super) fn filemark(residual: u64) -> SenseData {
    sense(SenseKey::NoSense, 0x00, 0x01)
        .with_filemark()
        .with_information(residual)
}

/// BLANK CHECK, END-OF-DATA DETECTED (08/0005).
pub(super) fn blank_check(residual: u64) -> SenseData {
    sense(SenseKey::BlankCheck, 0x00, 0x05).with_information(residual)
}

/// NO SENSE, BEGINNING-OF-PARTITION/MEDIUM DETECTED (00/0004) with EOM.
pub(super) fn bot(residual: u64) -> SenseData {
    sense(SenseKey::NoSense, 0x00, 0x04)
        .with_eom()
        .with_information(residual)
}
