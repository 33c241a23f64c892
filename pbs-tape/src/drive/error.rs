//! Errors of the LTO drive layer.

use crate::scsi::{ScsiError, SenseKey};

/// Why a drive operation failed. Every variant names what was attempted.
#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    /// A SCSI command failed; `command` names it (e.g. "WRITE(6)").
    #[error("{command} failed on {device}: {source}")]
    Scsi {
        command: &'static str,
        device: String,
        #[source]
        source: ScsiError,
    },
    /// The device does not support what was asked (ILLEGAL REQUEST for the
    /// opcode or page): `feature` says what (e.g. "LOG SENSE page 0x17").
    #[error("{feature} is not supported by this device ({device}): {source}")]
    NotSupported {
        feature: String,
        device: String,
        #[source]
        source: ScsiError,
    },
    /// No cartridge in the drive.
    #[error("no medium in drive {device}")]
    NoMedium { device: String },
    /// The cartridge is write protected.
    #[error("the cartridge in {device} is write protected")]
    WriteProtected { device: String },
    /// A block larger than the path supports was refused before any CDB.
    #[error("block of {len} bytes exceeds the largest block {max} bytes supported by {device}")]
    BlockTooLarge {
        len: usize,
        max: usize,
        device: String,
    },
    /// Physical end of medium (VOLUME OVERFLOW): data may not have been written.
    #[error("end of medium reached on {device}: {source}")]
    EndOfMedium {
        device: String,
        #[source]
        source: ScsiError,
    },
    /// The device returned data that does not decode.
    #[error("cannot decode {what} from {device}: {message}")]
    Decode {
        what: &'static str,
        device: String,
        message: String,
    },
    /// Invalid argument given by the caller (checked before any CDB).
    #[error("{0}")]
    InvalidArgument(String),
    /// The device at this path is not a tape drive.
    #[error("{device} is not a tape drive (peripheral device type {peripheral_type})")]
    NotATapeDrive { device: String, peripheral_type: u8 },
}

impl DriveError {
    /// Classify a failed command: ILLEGAL REQUEST for the opcode (05/2000) or
    /// a field (05/2400) means the device lacks the feature.
    pub fn from_scsi(
        command: &'static str,
        feature: Option<&str>,
        device: &str,
        err: ScsiError,
    ) -> Self {
        if let Some(sense) = err.sense() {
            if sense.key == SenseKey::NotReady && sense.asc == 0x3a {
                return DriveError::NoMedium {
                    device: device.to_string(),
                };
            }
            if sense.key == SenseKey::DataProtect && sense.asc == 0x27 {
                return DriveError::WriteProtected {
                    device: device.to_string(),
                };
            }
            if sense.key == SenseKey::VolumeOverflow {
                return DriveError::EndOfMedium {
                    device: device.to_string(),
                    source: err,
                };
            }
            if let Some(feature) = feature {
                if sense.key == SenseKey::IllegalRequest && (sense.asc == 0x20 || sense.asc == 0x24)
                {
                    return DriveError::NotSupported {
                        feature: feature.to_string(),
                        device: device.to_string(),
                        source: err,
                    };
                }
            }
        }
        DriveError::Scsi {
            command,
            device: device.to_string(),
            source: err,
        }
    }

    /// The SCSI error underneath, if any.
    pub fn scsi_error(&self) -> Option<&ScsiError> {
        match self {
            DriveError::Scsi { source, .. }
            | DriveError::NotSupported { source, .. }
            | DriveError::EndOfMedium { source, .. } => Some(source),
            _ => None,
        }
    }
}
