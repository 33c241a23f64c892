//! Errors of the LTO drive layer.

use std::fmt;

use crate::scsi::{ScsiError, SenseData, SenseKey};

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
    /// The drive was still becoming ready (loading, calibrating) when the
    /// wait ended.
    #[error("{device} is still becoming ready after {} s (loading or calibrating the cartridge)", .waited.as_secs())]
    NotReadyTimeout {
        device: String,
        waited: std::time::Duration,
    },
    /// The device could not be opened (missing, busy, no permission, ...).
    #[error("cannot open tape drive: {source}")]
    Open {
        device: String,
        #[source]
        source: ScsiError,
    },
    /// The device at this path is not a tape drive.
    #[error("{device} is not a tape drive (peripheral device type {peripheral_type})")]
    NotATapeDrive { device: String, peripheral_type: u8 },
    /// A read block is longer than the buffer it was read into (ILI with a
    /// negative residual). The drive is positioned after that block.
    #[error("block of {len} bytes does not fit buffer of {buffer} bytes on {device}")]
    BlockLargerThanBuffer {
        len: usize,
        buffer: usize,
        device: String,
    },
    /// SPACE stopped before the requested count (filemark, end of data,
    /// beginning or end of medium).
    /// `sense` is what the drive reported (its INFORMATION is the residual count).
    #[error("{shortfall} on {device} ({} {:02X}/{:02X}{:02X})", sense.key, sense.key.code(), sense.asc, sense.ascq)]
    SpaceStopped {
        shortfall: SpaceShortfall,
        device: String,
        sense: SenseData,
    },
    /// The drive cannot tell where the head is (READ POSITION flags the
    /// position as unknown, or answers with something else than the long form).
    #[error("position of {device} is unknown: {reason}")]
    PositionUnknown { device: String, reason: String },
    /// A READ or WRITE failed with a medium or hardware error; the drive
    /// stood at logical object `block` (READ POSITION after the error), in
    /// tape file `file` when the drive says. The sense's INFORMATION is
    /// the command's residue (SSC), never a position: this is where it is.
    #[error("{source} (position after the error: block {block}{})", file.map_or(String::new(), |f| format!(", file {f}")))]
    AtBlock {
        block: u64,
        file: Option<u64>,
        #[source]
        source: Box<DriveError>,
    },
    /// Positioning ended somewhere else than asked (READ POSITION read
    /// back after LOCATE or its fallback); `wanted` says where to, e.g.
    /// "tape file 3".
    #[error(
        "positioning {device} at {wanted} ended at {}logical object {logical_object}",
        file.map_or(String::new(), |f| format!("file {f}, "))
    )]
    Misplaced {
        device: String,
        wanted: String,
        /// `None` from a drive with only the short form of READ POSITION.
        file: Option<u64>,
        logical_object: u64,
    },
}

/// What stopped a SPACE command early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceStop {
    /// A filemark while spacing over blocks.
    Filemark,
    /// End of data (BLANK CHECK 08/0005).
    EndOfData,
    /// Beginning of the partition while spacing backwards.
    BeginningOfMedium,
    /// End of the partition.
    EndOfMedium,
}

/// What SPACE moved over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceUnit {
    Blocks,
    Filemarks,
}

/// How far a stopped SPACE got: reads like
/// `space stopped at filemark after 3 of 5 blocks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpaceShortfall {
    pub stop: SpaceStop,
    pub unit: SpaceUnit,
    /// Units actually spaced (absolute value), when the drive reported the residual.
    pub done: Option<u64>,
    /// Units requested (absolute value).
    pub requested: u64,
}

impl fmt::Display for SpaceShortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.stop {
            SpaceStop::Filemark => "space stopped at filemark",
            SpaceStop::EndOfData => "end of data reached",
            SpaceStop::BeginningOfMedium => "beginning of medium reached",
            SpaceStop::EndOfMedium => "end of medium reached",
        })?;
        let unit = match (self.unit, self.requested == 1) {
            (SpaceUnit::Blocks, true) => "block",
            (SpaceUnit::Blocks, false) => "blocks",
            (SpaceUnit::Filemarks, true) => "filemark",
            (SpaceUnit::Filemarks, false) => "filemarks",
        };
        match self.done {
            Some(done) => write!(f, " after {done} of {} {unit}", self.requested),
            None => write!(f, " before {} {unit} were spaced", self.requested),
        }
    }
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
                if sense.is_unsupported_request() {
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

    /// The reset or medium change that made a writing session lose the
    /// tape position, when that is why the command failed.
    pub fn position_lost(&self) -> Option<&SenseData> {
        self.scsi_error().and_then(ScsiError::position_lost)
    }

    /// The SCSI error underneath, if any.
    pub fn scsi_error(&self) -> Option<&ScsiError> {
        match self {
            DriveError::Scsi { source, .. }
            | DriveError::NotSupported { source, .. }
            | DriveError::EndOfMedium { source, .. }
            | DriveError::Open { source, .. } => Some(source),
            DriveError::AtBlock { source, .. } => source.scsi_error(),
            _ => None,
        }
    }
}
